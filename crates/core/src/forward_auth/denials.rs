//! Which denials the forward-auth check writes to the audit log.
//!
//! The proxy asks about every request, and anyone can ask the endpoint directly: auditing
//! every denial would let a flood of requests for unprotected URLs write as many audit rows.
//! A denial is audited once a minute per who (the account, else the address) and host; the
//! rest within that minute are only counted in the next audited one (`repeated`).

use crate::ids::AccountId;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};

/// How long a denial of the same who and host goes unaudited after one that was.
pub const AUDIT_EVERY: Duration = Duration::seconds(60);
/// Beyond this many remembered pairs, the oldest go (and if none is old, all): memory stays
/// bounded whatever the endpoint is sent, at the price of auditing more.
pub const REMEMBERED_MAX: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    account: Option<AccountId>,
    ip: Option<IpAddr>,
    host: String,
}

#[derive(Debug)]
struct Seen {
    audited_at: OffsetDateTime,
    /// Denials since, not audited.
    repeated: u64,
}

#[derive(Debug, Default)]
pub struct DenialLog {
    seen: Mutex<HashMap<Key, Seen>>,
}

impl DenialLog {
    /// Whether this denial is audited, and if so how many like it went unaudited before it
    /// (`Some(n)`); `None`: only counted.
    pub fn audit(
        &self,
        account: Option<AccountId>,
        ip: Option<IpAddr>,
        host: &str,
        now: OffsetDateTime,
    ) -> Option<u64> {
        // An account is the same person from any address; without one, the address is all
        // there is to tell askers apart.
        let key = Key {
            ip: if account.is_some() { None } else { ip },
            account,
            host: host.to_string(),
        };
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = seen.get_mut(&key)
            && now >= s.audited_at
            && now - s.audited_at < AUDIT_EVERY
        {
            s.repeated += 1;
            return None;
        }
        let repeated = seen.get(&key).map_or(0, |s| s.repeated);
        if seen.len() >= REMEMBERED_MAX && !seen.contains_key(&key) {
            seen.retain(|_, s| now >= s.audited_at && now - s.audited_at < AUDIT_EVERY);
            if seen.len() >= REMEMBERED_MAX {
                seen.clear();
            }
        }
        seen.insert(
            key,
            Seen {
                audited_at: now,
                repeated: 0,
            },
        );
        Some(repeated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, FakeClock};
    use crate::random::OsRandom;

    #[test]
    fn one_denial_a_minute_per_who_and_host_is_audited() {
        let clock = FakeClock::at_epoch_2026();
        let log = DenialLog::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        assert_eq!(
            log.audit(None, Some(ip), "a.example.org", clock.now()),
            Some(0)
        );
        for _ in 0..5 {
            assert_eq!(
                log.audit(None, Some(ip), "a.example.org", clock.now()),
                None
            );
        }
        assert!(
            log.audit(None, Some(ip), "b.example.org", clock.now())
                .is_some()
        );
        assert!(
            log.audit(None, Some(other), "a.example.org", clock.now())
                .is_some()
        );
        let alice = AccountId::new(&OsRandom);
        assert!(
            log.audit(Some(alice), Some(ip), "a.example.org", clock.now())
                .is_some()
        );
        assert_eq!(
            log.audit(Some(alice), Some(other), "a.example.org", clock.now()),
            None,
            "the same person from another address"
        );
        clock.advance(AUDIT_EVERY);
        assert_eq!(
            log.audit(None, Some(ip), "a.example.org", clock.now()),
            Some(5),
            "a minute later, with the count of those in between"
        );
    }

    #[test]
    fn memory_stays_bounded() {
        let clock = FakeClock::at_epoch_2026();
        let log = DenialLog::default();
        for i in 0..REMEMBERED_MAX {
            log.audit(None, None, &format!("{i}.example.org"), clock.now());
        }
        log.audit(None, None, "new.example.org", clock.now());
        assert_eq!(log.seen.lock().unwrap().len(), 1);
    }
}
