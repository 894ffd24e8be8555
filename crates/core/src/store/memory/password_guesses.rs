//! Password guesses per typed username: the failure count and the doubling wait, computed
//! in unix seconds exactly as the SQL store's one statement computes them.

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use super::MemoryStore;
use super::state::GuessRow;
use crate::password_guesses::{GuessGate, GuessKey, GuessSchedule};
use crate::store::StoreResult;
use crate::store::password_guesses::PasswordGuessStore;

/// The row after one more failure, counted at `now` (seconds).
fn counted(row: Option<GuessRow>, now: i64, schedule: &GuessSchedule) -> GuessRow {
    let first = schedule.wait_after(1);
    let restart = |row: &GuessRow| row.last_at <= now - schedule.forget_after_secs;
    let row = match row {
        Some(row) if !restart(&row) => row,
        _ => {
            return GuessRow {
                failures: 1,
                wait_secs: first,
                next_at: now + first,
                last_at: now,
            };
        }
    };
    let max_wait = schedule.max_wait_secs.max(0);
    let wait = if row.failures + 1 < i64::from(schedule.free) {
        0
    } else if row.wait_secs == 0 {
        schedule.first_wait_secs.clamp(0, max_wait)
    } else if row.wait_secs * 2 >= max_wait {
        max_wait
    } else {
        row.wait_secs * 2
    };
    GuessRow {
        failures: row.failures + 1,
        wait_secs: wait,
        next_at: now + wait,
        last_at: now,
    }
}

#[async_trait]
impl PasswordGuessStore for MemoryStore {
    async fn begin_password_guess(
        &self,
        key: &GuessKey,
        now: OffsetDateTime,
        schedule: &GuessSchedule,
    ) -> StoreResult<GuessGate> {
        let now_secs = now.unix_timestamp();
        self.write(|s| {
            let row = s.password_guesses.get(key.as_bytes()).copied();
            if let Some(row) = row
                && row.next_at > now_secs
            {
                let until = OffsetDateTime::from_unix_timestamp(row.next_at)
                    .ok()
                    .filter(|until| *until > now)
                    .unwrap_or(now + Duration::seconds(1));
                return Ok(GuessGate::Wait { until });
            }
            let row = counted(row, now_secs, schedule);
            s.password_guesses.insert(key.as_bytes().to_vec(), row);
            Ok(GuessGate::Open {
                failures: row.failures.max(1) as u64,
            })
        })
    }

    async fn clear_password_guesses(&self, key: &GuessKey) -> StoreResult<()> {
        self.write(|s| {
            s.password_guesses.remove(key.as_bytes());
            Ok(())
        })
    }

    async fn purge_password_guesses(&self, before: OffsetDateTime) -> StoreResult<u64> {
        let before = before.unix_timestamp();
        self.write(|s| {
            Ok(super::drain(&mut s.password_guesses, |g| {
                g.last_at < before
            }))
        })
    }
}
