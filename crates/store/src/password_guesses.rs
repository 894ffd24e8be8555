//! Password guesses per typed username: the failure count and the wait (see core's
//! `password_guesses`).
//!
//! The decision is one `INSERT … ON CONFLICT DO UPDATE … WHERE`: a first guess inserts the
//! row, a later one updates it only when its wait is over, counting the failure in advance
//! and setting the wait that failure earns, and `RETURNING` says whether it went ahead.
//! PostgreSQL locks the conflicting row and checks the `WHERE` against its latest version,
//! and SQLite runs one writer at a time, so parallel guesses each see the count the one
//! before them left: at the wait, exactly one goes ahead.

use async_trait::async_trait;
use tessera_core::password_guesses::{GuessGate, GuessKey, GuessSchedule};
use tessera_core::store::StoreResult;
use tessera_core::store::password_guesses::PasswordGuessStore;
use time::{Duration, OffsetDateTime};

use crate::rows::{secs, time};
use crate::{SqlStore, db_err};

/// `$1` key, `$2` now, `$3` the wait a first failure earns, `$4` the last guess before which
/// a count starts again, `$5` the failure that earns the first wait, `$6` that wait, `$7` the
/// longest wait. The wait doubles (no `POWER`, no `LEAST`: neither is in both databases).
const BEGIN: &str = "INSERT INTO password_guesses \
     (username_key, failures, wait_secs, next_at, last_at) VALUES ($1, 1, $3, $2 + $3, $2) \
     ON CONFLICT (username_key) DO UPDATE SET \
         failures = CASE WHEN password_guesses.last_at <= $4 THEN 1 \
                         ELSE password_guesses.failures + 1 END, \
         wait_secs = CASE WHEN password_guesses.last_at <= $4 THEN $3 \
                          WHEN password_guesses.failures + 1 < $5 THEN 0 \
                          WHEN password_guesses.wait_secs = 0 THEN $6 \
                          WHEN password_guesses.wait_secs * 2 >= $7 THEN $7 \
                          ELSE password_guesses.wait_secs * 2 END, \
         next_at = $2 + CASE WHEN password_guesses.last_at <= $4 THEN $3 \
                          WHEN password_guesses.failures + 1 < $5 THEN 0 \
                          WHEN password_guesses.wait_secs = 0 THEN $6 \
                          WHEN password_guesses.wait_secs * 2 >= $7 THEN $7 \
                          ELSE password_guesses.wait_secs * 2 END, \
         last_at = $2 \
     WHERE password_guesses.next_at <= $2 \
     RETURNING failures";

const NEXT_AT: &str = "SELECT next_at FROM password_guesses WHERE username_key = $1";
const CLEAR: &str = "DELETE FROM password_guesses WHERE username_key = $1";
const PURGE: &str = "DELETE FROM password_guesses WHERE last_at < $1";

#[async_trait]
impl PasswordGuessStore for SqlStore {
    async fn begin_password_guess(
        &self,
        key: &GuessKey,
        now: OffsetDateTime,
        schedule: &GuessSchedule,
    ) -> StoreResult<GuessGate> {
        let max_wait = schedule.max_wait_secs.max(0);
        let counted: Option<i64> = sqlx::query_scalar(BEGIN)
            .bind(key.as_bytes())
            .bind(secs(now))
            .bind(schedule.wait_after(1))
            .bind(secs(now) - schedule.forget_after_secs)
            .bind(i64::from(schedule.free))
            .bind(schedule.first_wait_secs.clamp(0, max_wait))
            .bind(max_wait)
            .fetch_optional(self.writer())
            .await
            .map_err(db_err)?;
        if let Some(failures) = counted {
            return Ok(GuessGate::Open {
                failures: failures.max(1) as u64,
            });
        }
        // Refused. The read below only says for how long: the statement already decided. A
        // row cleared meanwhile (the right password) is asked again a second later.
        let next_at: Option<i64> = sqlx::query_scalar(NEXT_AT)
            .bind(key.as_bytes())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        let until = next_at
            .map(|at| time(at, "password_guesses.next_at"))
            .transpose()?
            .filter(|until| *until > now)
            .unwrap_or(now + Duration::seconds(1));
        Ok(GuessGate::Wait { until })
    }

    async fn clear_password_guesses(&self, key: &GuessKey) -> StoreResult<()> {
        sqlx::query(CLEAR)
            .bind(key.as_bytes())
            .execute(self.writer())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn purge_password_guesses(&self, before: OffsetDateTime) -> StoreResult<u64> {
        Ok(sqlx::query(PURGE)
            .bind(secs(before))
            .execute(self.writer())
            .await
            .map_err(db_err)?
            .rows_affected())
    }
}
