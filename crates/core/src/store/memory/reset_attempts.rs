//! A password reset's own wrong-answer counters, counted as a method's are (see `methods`):
//! an attempt reserves a failure first, a lock comes at the threshold. All of a reset's
//! counters move together, or none does.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::rows::secs;
use super::state::{AttemptRow, State};
use crate::account::AccountStatus;
use crate::ids::AccountId;
use crate::lockout::AttemptGate;
use crate::store::reset::AttemptCounter;

/// Reserves a wrong answer on every counter, or on none when one is locked or at its
/// threshold. A counter whose lock lapsed, or that was forgotten, starts again at one.
pub(super) fn begin(
    s: &mut State,
    counters: &[AttemptCounter],
    now: OffsetDateTime,
    forget_at: OffsetDateTime,
) -> AttemptGate {
    let (now, forget_at) = (secs(now), secs(forget_at));
    // Each counter as this attempt leaves it; a key named twice sees its own first count.
    let mut counted: BTreeMap<&str, AttemptRow> = BTreeMap::new();
    for counter in counters {
        let key = counter.key.as_str();
        let row = counted
            .get(key)
            .or_else(|| s.reset_attempts.get(key))
            .copied();
        let next = match row {
            None => AttemptRow {
                failures: 1,
                locked_until: None,
                expires_at: forget_at,
            },
            Some(row) => {
                let forgotten = row.expires_at <= now;
                let open = match row.locked_until {
                    None => row.failures < i64::from(counter.threshold),
                    Some(until) => until <= now,
                };
                if !forgotten && !open {
                    let until = row.locked_until.filter(|until| *until > now);
                    return AttemptGate::Locked { until };
                }
                AttemptRow {
                    failures: match forgotten || row.locked_until.is_some() {
                        true => 1,
                        false => row.failures + 1,
                    },
                    locked_until: None,
                    expires_at: forget_at,
                }
            }
        };
        counted.insert(key, next);
    }
    for (key, row) in counted {
        s.reset_attempts.insert(key.to_string(), row);
    }
    AttemptGate::Open
}

/// The reserved attempt was wrong: each counter at its threshold locks (once, kept at least
/// as long as its lock). The latest end of a lock now on one of them.
pub(super) fn failed(
    s: &mut State,
    counters: &[AttemptCounter],
    lock_until: OffsetDateTime,
) -> Option<OffsetDateTime> {
    let lock_until = secs(lock_until);
    let mut latest = None;
    for counter in counters {
        let Some(row) = s.reset_attempts.get_mut(&counter.key) else {
            continue;
        };
        if row.failures >= i64::from(counter.threshold) && row.locked_until.is_none() {
            row.locked_until = Some(lock_until);
            row.expires_at = row.expires_at.max(lock_until);
        }
        latest = latest.max(row.locked_until);
    }
    latest
}

/// The reserved attempt was no wrong answer: given back, unless the counter locked.
pub(super) fn release(s: &mut State, counters: &[AttemptCounter]) {
    for counter in counters {
        if let Some(row) = s.reset_attempts.get_mut(&counter.key)
            && row.failures > 0
            && row.locked_until.is_none()
        {
            row.failures -= 1;
        }
    }
}

pub(super) fn locked_until(
    s: &State,
    counters: &[AttemptCounter],
    now: OffsetDateTime,
) -> Option<OffsetDateTime> {
    let now = secs(now);
    counters
        .iter()
        .filter_map(|c| s.reset_attempts.get(&c.key))
        .filter_map(|row| row.locked_until.filter(|until| *until > now))
        .max()
}

/// Active accounts in id order from `from` on, then (wrapping around) before it.
pub(super) fn sample_accounts(s: &State, from: AccountId, limit: u32) -> Vec<AccountId> {
    let active = |a: &&crate::account::Account| a.status == AccountStatus::Active;
    let after = s.accounts.range(from..).map(|(_, a)| a).filter(active);
    let before = s.accounts.range(..from).map(|(_, a)| a).filter(active);
    after
        .chain(before)
        .take(limit as usize)
        .map(|a| a.id)
        .collect()
}
