//! What the forward-auth check keeps in memory, so the proxy's question about every request
//! of a protected site costs about as much as `/healthz` (issue #16).
//!
//! Both caches use an entry for at most one second ([`FRESH_FOR`]) after the store last
//! vouched for it, measured on Tessera's clock: a rule changed, or a session ended, on
//! another node takes effect here within that second, with no message between nodes. On
//! this node, an admin's rule change and every sign-out drop what they change at once
//! ([`ForwardAuthCache::forget_rules`], [`ForwardAuthCache::forget_sessions`]).
//!
//! Reading every session anew each second would cost a protected site with thousands of
//! people one lookup per person per second, and so would asking which of them still exist.
//! Instead, every [`REVALIDATE_EVERY`], one check asks the store which sessions *ended*
//! since it last asked ([`ForwardAuthCache::revalidation_due`],
//! [`ForwardAuthCache::revalidated`]): the store logs every end, in the order they commit
//! (`ForwardAuthStore::session_ends_since`). Their entries go; every other entry that the
//! previous answer covered is vouched for again. So the cost follows the sign-outs, not the
//! people signed in. What an entry says beyond the session's existence (the account's name,
//! email, admin flag and groups, the session's second factor) is read anew after
//! [`CONTENTS_FOR`];
//! a disabled account's sessions end, so that shows within the second.
//!
//! A lookup that started before such a drop must not put back what it read: each drop here
//! moves a generation on, and [`ForwardAuthCache::put_rules`] and
//! [`ForwardAuthCache::put_session`] keep nothing read under an older generation; a session
//! the log said ended is refused for [`ENDED_KEPT`], in case a read from before its end
//! finishes after the answer that listed it.
//!
//! A session in use is touched (its last-seen time) at most once a minute, as Tessera's own
//! pages do; the touches wait in memory and go to the store in one statement with the next
//! question, not one write per check.
//!
//! Only what the store said exists is kept: an unknown token is asked about every time, so
//! a cookie made on another node works there at once.

use super::Rule;
use crate::account::Account;
use crate::ids::SessionId;
use crate::session::Session;
use crate::store::forward_auth::{EndsCursor, SessionEnds};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use time::{Duration, OffsetDateTime};

/// How long an entry is used before the store is asked again: the bound on how long
/// a revoked session may still pass on any node.
pub const FRESH_FOR: Duration = Duration::seconds(1);
/// How often the store is asked which cached tokens still have a session: well inside
/// [`FRESH_FOR`], so an entry in use never lapses while its session lasts.
pub const REVALIDATE_EVERY: Duration = Duration::milliseconds(500);
/// How long what an entry says (account, second factor) is used before it is read again.
pub const CONTENTS_FOR: Duration = Duration::seconds(60);
/// An entry unused this long is not vouched for again: long enough that a person who
/// comes back every few seconds stays cached while a node fills its cache after a start.
pub const IDLE_FOR: Duration = Duration::seconds(30);
/// How long a session the log said ended is refused by [`ForwardAuthCache::put_session`]:
/// far longer than a read of the store takes.
pub const ENDED_KEPT: Duration = Duration::seconds(10);
/// Beyond this many sessions, stale ones are dropped, and if none is stale, all: memory
/// stays bounded whatever the proxy is sent.
pub const SESSIONS_MAX: usize = 100_000;

/// A forward-auth token's session, its account, and whether the account must first change
/// its password, as the store said at one moment. The check judges them anew on every use
/// (kind, expiry, idle time, status), so only their own changes wait for the next read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub session: Session,
    /// When the forward-auth token itself expires.
    pub token_expires_at: OffsetDateTime,
    pub account: Account,
    pub password_change_required: bool,
    /// The account's groups (`Tessera::groups_of`), read with the account.
    pub groups: Vec<String>,
}

/// Taken before a read from the store; a put with a generation that a drop has since moved
/// on keeps nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation(u64);

#[derive(Debug)]
struct Entry<T> {
    read_at: OffsetDateTime,
    value: T,
}

impl<T> Entry<T> {
    /// Fresh for [`FRESH_FOR`] after it was read; a clock set back makes it stale too.
    fn fresh(&self, now: OffsetDateTime) -> bool {
        now >= self.read_at && now - self.read_at < FRESH_FOR
    }
}

/// A cached session: when its contents were read, when the store last vouched for it, and
/// when a check last used it.
#[derive(Debug)]
struct SessionEntry {
    loaded_at: OffsetDateTime,
    proven_at: OffsetDateTime,
    used_at: OffsetDateTime,
    value: Arc<SignedIn>,
}

impl SessionEntry {
    fn fresh(&self, now: OffsetDateTime) -> bool {
        now >= self.loaded_at
            && now >= self.proven_at
            && now - self.proven_at < FRESH_FOR
            && now - self.loaded_at < CONTENTS_FOR
    }

    fn in_use(&self, now: OffsetDateTime) -> bool {
        now >= self.used_at && now - self.used_at < IDLE_FOR
    }
}

/// The question to ask the store: which sessions ended since `since`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revalidation {
    pub generation: Generation,
    /// When the question is asked: a session not listed in the answer was alive then.
    pub at: OffsetDateTime,
    /// Where the last answer left off, and when its question was asked; `None` before the
    /// first answer (which then only says where to start).
    pub since: Option<(EndsCursor, OffsetDateTime)>,
}

#[derive(Debug, Default)]
pub struct ForwardAuthCache {
    rules: Mutex<Option<Entry<Arc<Vec<Rule>>>>>,
    rules_generation: AtomicU64,
    sessions: Mutex<HashMap<Vec<u8>, SessionEntry>>,
    sessions_generation: AtomicU64,
    revalidation: Mutex<RevalidationState>,
    /// Sessions the log said ended, and when it said so.
    ended: Mutex<HashMap<SessionId, OffsetDateTime>>,
    /// Which denials were audited lately (not a cache, but kept here with the rest the check
    /// holds in memory).
    pub(crate) denials: super::denials::DenialLog,
    /// Sessions to touch with the next question, and when each was used.
    touches: Mutex<HashMap<SessionId, OffsetDateTime>>,
}

/// One question at a time: a second one while the first is out would only wait behind it
/// for the store's connections.
#[derive(Debug, Default)]
struct RevalidationState {
    last_asked: Option<OffsetDateTime>,
    out: bool,
    /// Where the last answer left off, and when its question was asked.
    cursor: Option<(EndsCursor, OffsetDateTime)>,
}

/// A poisoned lock only means another request panicked while holding it; the map itself is
/// always whole (every change is one insert or remove).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl ForwardAuthCache {
    /// The rules in order, if read less than a second ago.
    pub fn rules(&self, now: OffsetDateTime) -> Option<Arc<Vec<Rule>>> {
        lock(&self.rules)
            .as_ref()
            .filter(|e| e.fresh(now))
            .map(|e| Arc::clone(&e.value))
    }

    pub fn rules_generation(&self) -> Generation {
        Generation(self.rules_generation.load(Ordering::Acquire))
    }

    /// Keeps the rules read at `now`, unless they changed on this node since `generation`.
    pub fn put_rules(&self, generation: Generation, now: OffsetDateTime, rules: Arc<Vec<Rule>>) {
        let mut slot = lock(&self.rules);
        if self.rules_generation() == generation {
            *slot = Some(Entry {
                read_at: now,
                value: rules,
            });
        }
    }

    /// An admin changed the rules here: the next check reads them again.
    pub fn forget_rules(&self) {
        let mut slot = lock(&self.rules);
        self.rules_generation.fetch_add(1, Ordering::AcqRel);
        *slot = None;
    }

    /// The session behind a token's hash, if read less than a second ago.
    pub fn session(&self, token_hash: &[u8], now: OffsetDateTime) -> Option<Arc<SignedIn>> {
        let mut map = lock(&self.sessions);
        let entry = map.get_mut(token_hash).filter(|e| e.fresh(now))?;
        entry.used_at = entry.used_at.max(now);
        Some(Arc::clone(&entry.value))
    }

    /// Every [`REVALIDATE_EVERY`], to one caller: the question for the store, which
    /// sessions ended since the last answer ([`ForwardAuthCache::revalidated`]); the caller
    /// also writes [`ForwardAuthCache::take_touches`]. Entries not used lately go. A question
    /// not answered within [`FRESH_FOR`] (its check was cancelled) no longer holds the next
    /// one back.
    pub fn revalidation_due(&self, now: OffsetDateTime) -> Option<Revalidation> {
        {
            let mut state = lock(&self.revalidation);
            if let Some(at) = state.last_asked
                && now >= at
            {
                let wait = if state.out {
                    FRESH_FOR
                } else {
                    REVALIDATE_EVERY
                };
                if now - at < wait {
                    return None;
                }
            }
            state.last_asked = Some(now);
            state.out = true;
        }
        let generation = self.sessions_generation();
        let idle = {
            let mut map = lock(&self.sessions);
            map.retain(|_, e| e.in_use(now));
            map.is_empty() && lock(&self.touches).is_empty()
        };
        // Locks in one order everywhere: the question's state before the sessions.
        let mut state = lock(&self.revalidation);
        if idle {
            // Nothing to vouch for: start afresh when there is, rather than read the ends
            // of a long quiet time.
            state.out = false;
            state.cursor = None;
            return None;
        }
        Some(Revalidation {
            generation,
            at: now,
            since: state.cursor,
        })
    }

    /// The store's answer to `asked` (`None`: it failed). The sessions it lists go at once,
    /// whatever else happened meanwhile. If it continues where the last answer left off,
    /// every entry that answer covered (vouched for then, or read since its question) is
    /// vouched for as of `asked.at`, unless sessions ended here meanwhile.
    pub fn revalidated(&self, asked: &Revalidation, answer: Option<&SessionEnds>) {
        let mut state = lock(&self.revalidation);
        if state.last_asked == Some(asked.at) {
            state.out = false;
        }
        let Some(answer) = answer else {
            return;
        };
        let mut map = lock(&self.sessions);
        if !answer.ended.is_empty() {
            let ended: HashSet<SessionId> = answer.ended.iter().copied().collect();
            map.retain(|_, e| !ended.contains(&e.value.session.id));
            let mut kept = lock(&self.ended);
            kept.retain(|_, at| *at >= asked.at - ENDED_KEPT && *at <= asked.at + ENDED_KEPT);
            kept.extend(ended.into_iter().map(|id| (id, asked.at)));
        }
        if state.cursor != asked.since {
            // An answer to an older question, overtaken by another: its ends are applied,
            // but it vouches for nothing, nor moves where the next question starts.
            return;
        }
        state.cursor = Some((answer.next, asked.at));
        let Some((_, covered_from)) = asked.since else {
            return;
        };
        if self.sessions_generation() != asked.generation {
            return;
        }
        for entry in map.values_mut() {
            if entry.proven_at >= covered_from {
                entry.proven_at = entry.proven_at.max(asked.at);
            }
        }
    }

    pub fn sessions_generation(&self) -> Generation {
        Generation(self.sessions_generation.load(Ordering::Acquire))
    }

    /// Keeps what the store said at `now` about a token, unless sessions ended on this node
    /// since `generation`.
    pub fn put_session(
        &self,
        generation: Generation,
        token_hash: Vec<u8>,
        now: OffsetDateTime,
        signed_in: Arc<SignedIn>,
    ) {
        let mut map = lock(&self.sessions);
        if self.sessions_generation() != generation {
            return;
        }
        if lock(&self.ended).contains_key(&signed_in.session.id) {
            return;
        }
        if map.len() >= SESSIONS_MAX && !map.contains_key(&token_hash) {
            map.retain(|_, e| e.fresh(now));
            if map.len() >= SESSIONS_MAX {
                map.clear();
            }
        }
        map.insert(
            token_hash,
            SessionEntry {
                loaded_at: now,
                proven_at: now,
                used_at: now,
                value: signed_in,
            },
        );
    }

    /// The session behind `token_hash` was used at `at`, a minute or more after it was last
    /// seen: the cached copy says so at once, so the next checks do not touch it again, and
    /// the store hears it with the next question ([`ForwardAuthCache::take_touches`]).
    pub fn touch_later(&self, token_hash: &[u8], at: OffsetDateTime) {
        if let Some(entry) = lock(&self.sessions).get_mut(token_hash) {
            let mut signed_in = SignedIn::clone(&entry.value);
            signed_in.session.last_seen_at = at;
            let mut touches = lock(&self.touches);
            let used = touches.entry(signed_in.session.id).or_insert(at);
            *used = (*used).max(at);
            entry.value = Arc::new(signed_in);
        }
    }

    /// The sessions used since the last call that need their last-seen time written, with
    /// when they were used.
    pub fn take_touches(&self) -> Vec<(SessionId, OffsetDateTime)> {
        lock(&self.touches).drain().collect()
    }

    /// Sessions ended here (a sign-out, an admin ending them, a disabled account): every
    /// cached session is read again, so none of the ended ones passes another check. Which
    /// ones ended is not said, and need not be: refilling costs one read per active token.
    pub fn forget_sessions(&self) {
        let mut map = lock(&self.sessions);
        self.sessions_generation.fetch_add(1, Ordering::AcqRel);
        map.clear();
    }

    #[cfg(test)]
    fn sessions_len(&self) -> usize {
        lock(&self.sessions).len()
    }
}

#[cfg(test)]
mod tests;
