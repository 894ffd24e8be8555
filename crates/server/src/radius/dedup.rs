//! Retransmissions (RFC 5080 §2.2.2): a client that hears nothing within its timeout sends
//! the same request again, same source, identifier and authenticator. One that is still
//! being answered (a notification waiting for approval) is not processed twice; one that
//! was answered gets the same answer again, without a second password check or a second
//! use of a code.
//!
//! Kept in this node's memory: a client retransmits to the address it sent to, and the
//! answer to a lost packet is only useful for its retransmission window.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an answer is kept for retransmissions: beyond any client's retries (radclient's
/// and pam_radius_auth's are seconds; a VPN's for a push at most a minute or so).
const KEEP: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Key {
    pub source: SocketAddr,
    pub identifier: u8,
    pub authenticator: [u8; 16],
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Seen {
    /// A new request: the caller answers it, then calls [`Recent::answered`] or
    /// [`Recent::forget`].
    New,
    /// Being answered now: drop the copy.
    InFlight,
    /// Answered: send these bytes again.
    Answered(Vec<u8>),
}

enum Entry {
    InFlight(Instant),
    Answered(Instant, Vec<u8>),
}

#[derive(Default)]
pub(super) struct Recent {
    entries: Mutex<HashMap<Key, Entry>>,
}

impl Recent {
    pub fn begin(&self, key: Key, now: Instant) -> Seen {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() > 1024 {
            entries.retain(|_, e| match e {
                Entry::InFlight(at) | Entry::Answered(at, _) => now.duration_since(*at) < KEEP,
            });
        }
        match entries.get(&key) {
            Some(Entry::InFlight(_)) => Seen::InFlight,
            Some(Entry::Answered(at, bytes)) if now.duration_since(*at) < KEEP => {
                Seen::Answered(bytes.clone())
            }
            _ => {
                entries.insert(key, Entry::InFlight(now));
                Seen::New
            }
        }
    }

    pub fn answered(&self, key: Key, bytes: Vec<u8>, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.insert(key, Entry::Answered(now, bytes));
    }

    /// A request dropped unanswered: a retransmission is looked at afresh.
    pub fn forget(&self, key: &Key) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(identifier: u8) -> Key {
        Key {
            source: "127.0.0.1:4000".parse().unwrap(),
            identifier,
            authenticator: [identifier; 16],
        }
    }

    #[test]
    fn a_copy_in_flight_is_dropped_and_an_answered_one_gets_the_same_answer() {
        let recent = Recent::default();
        let t = Instant::now();
        assert_eq!(recent.begin(key(1), t), Seen::New);
        assert_eq!(recent.begin(key(1), t), Seen::InFlight);
        assert_eq!(
            recent.begin(key(2), t),
            Seen::New,
            "another identifier is new"
        );
        recent.answered(key(1), vec![2, 1], t);
        assert_eq!(recent.begin(key(1), t), Seen::Answered(vec![2, 1]));
        // Long after, the same bytes are a new request (identifiers wrap around).
        assert_eq!(recent.begin(key(1), t + KEEP + KEEP), Seen::New);
        recent.forget(&key(2));
        assert_eq!(recent.begin(key(2), t), Seen::New);
    }
}
