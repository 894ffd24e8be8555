//! Lock-out of a method after wrong codes.
//!
//! ```text
//!            wrong code (failures < threshold)
//!          ┌──────────┐
//!          ▼          │
//!       [open] ───────┘      wrong code, failures reach threshold
//!        │  ▲  ────────────────────────────────────────────► [locked until t]
//!  right │  │ right code resets failures                          │
//!  code  └──┘                                                     │ t passes: failures restart
//!                                     [open] ◄────────────────────┘
//! ```
//!
//! The count is kept in the store and an attempt *reserves* a failure before its answer is
//! given (`begin_attempt`), so parallel guesses cannot all read "9 failures" and slip past: at
//! most `threshold` wrong answers are ever given before the lock. Most methods reserve before
//! they check; a TOTP code, which costs nothing to check, is checked first, and a right one is
//! recorded through the same gate in one conditional `UPDATE` (`Store::accept`), so the hot
//! path writes once. A right code clears the count. NIST SP 800-63B §5.2.2 allows at most 100 consecutive failures; we
//! default to 10 and lock for 15 minutes.
//!
//! Only what proves the person after a password counts here: sign-in, step-up, registration
//! and the verify API ([`Counter::Method`]). A password reset needs no password, so anyone can
//! start one: its wrong answers count on the reset's own counters, per flow and per account
//! (`flow::reset`, [`Counter::Reset`]), and never lock the method, or an outsider could lock a
//! person out of their own sign-in with ten wrong codes. The two are independent both ways:
//! a method locked at sign-in still serves a reset, because the person whose password leaked,
//! and whose method an attacker keeps locked, is exactly who needs the reset; and the reset's
//! counters bound the guesses made there on their own. A right code at either clears the
//! method's count and is recorded as its last step, so a TOTP step used at one is a replay at
//! the other.

use crate::method::Purpose;
use time::OffsetDateTime;

/// Which count an attempt on a method goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// The method's own lock-out (above).
    Method,
    /// The reset flow's and its account's: the flow reserved the attempt before the check and
    /// records its outcome, so the method's checks neither reserve nor count it.
    Reset,
}

impl From<Purpose> for Counter {
    fn from(purpose: Purpose) -> Self {
        match purpose {
            Purpose::Reset(_) => Counter::Reset,
            Purpose::SignIn(_) | Purpose::StepUp(_) | Purpose::Register(_) => Counter::Method,
        }
    }
}

/// What the store answers when an attempt asks to go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptGate {
    /// The attempt was counted as a failure in advance; a right code clears it.
    Open,
    /// Locked until the given time (or, while the lock is being set, for the full duration).
    Locked { until: Option<OffsetDateTime> },
}

/// Seconds until `until`, at least 1.
pub fn retry_after(until: Option<OffsetDateTime>, now: OffsetDateTime, full: u64) -> u64 {
    match until {
        Some(until) => (until - now).whole_seconds().max(1) as u64,
        None => full.max(1),
    }
}
