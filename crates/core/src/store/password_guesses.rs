//! Storage of the per-account limit on password guesses (see [`crate::password_guesses`]).

use super::StoreResult;
use crate::password_guesses::{GuessGate, GuessKey, GuessSchedule};
use async_trait::async_trait;
use time::OffsetDateTime;

#[async_trait]
pub trait PasswordGuessStore: Send + Sync {
    /// Atomically: while the wait that `key`'s last failure earned runs, refuses and says
    /// until when; otherwise counts this guess as a failure in advance (restarting the count
    /// when the last guess is older than `schedule.forget_after`), sets the wait that failure
    /// earns, and lets the guess go ahead with the count it was given. Shared by every node;
    /// parallel guesses cannot all read the same count.
    async fn begin_password_guess(
        &self,
        key: &GuessKey,
        now: OffsetDateTime,
        schedule: &GuessSchedule,
    ) -> StoreResult<GuessGate>;
    /// The password was right: forgets `key`'s failures.
    async fn clear_password_guesses(&self, key: &GuessKey) -> StoreResult<()>;
    /// Forgets keys whose last guess was before `before` (they would restart anyway).
    async fn purge_password_guesses(&self, before: OffsetDateTime) -> StoreResult<u64>;
}
