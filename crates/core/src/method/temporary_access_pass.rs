//! `temporary_access_pass`: a one-time, time-limited pass an admin issues, for onboarding and
//! for a person who lost their phone. It counts as a second factor at sign-in (and as a gate
//! of password reset), once.
//!
//! ```text
//!   issued (active, expires_at) ──right pass──► used (last_step = 1) ──purge──► gone
//!          └───────────────── expires_at passes ──────────────────────────────► gone
//! ```
//!
//! Ten digits (≈ 2^33): enough for a secret that also needs the password, works once, lapses
//! within hours and locks after the policy's wrong tries like any code. Only its Argon2id hash
//! is kept. "Used" is recorded as step 1 through the store's replay guard (an acceptance
//! refuses a step at or below the last one), so two nodes cannot both accept the same pass.
//! An account holds at most one pass: issuing another replaces it.

use super::{Kind, Method, MethodData, MethodStatus, Purpose, Verified};
use crate::account::Account;
use crate::audit::{AuditAction, RequestContext};
use crate::error::{Error, Result};
use crate::ids::MethodId;
use crate::password::PasswordCheck;
use crate::policy::Policy;
use crate::random::{self, Random};
use crate::service::Tessera;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

pub const DIGITS: usize = 10;
/// The step a used pass records; any second use is then a replay.
pub const USED_STEP: i64 = 1;
pub const MIN_MINUTES: u32 = 10;
/// Thirty days: long enough for a new hire's first week, short enough to be temporary.
pub const MAX_MINUTES: u32 = 30 * 24 * 60;
pub const DEFAULT_MINUTES: u32 = 60;

/// Ten random digits.
pub fn generate(rng: &dyn Random) -> Zeroizing<String> {
    let mut pass = Zeroizing::new(String::with_capacity(DIGITS));
    for _ in 0..DIGITS {
        pass.push(char::from(b'0' + random::below(rng, 10) as u8));
    }
    pass
}

/// `12345 67890`: two groups are easier to read out and type.
pub fn display(pass: &str) -> String {
    let (a, b) = pass.split_at(pass.len().min(DIGITS / 2));
    format!("{a} {b}")
}

/// The pass as typed: spaces and dashes dropped. `None` unless ten digits.
pub fn normalize(typed: &str) -> Option<Zeroizing<String>> {
    let digits: Zeroizing<String> = Zeroizing::new(
        typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect(),
    );
    (digits.len() == DIGITS && digits.chars().all(|c| c.is_ascii_digit())).then_some(digits)
}

/// Used already: it cannot count again.
pub fn is_used(method: &Method) -> bool {
    method.kind == Kind::TemporaryAccessPass && method.last_step.is_some()
}

/// Used, or past its end.
pub fn has_lapsed(method: &Method, now: OffsetDateTime) -> bool {
    method.kind == Kind::TemporaryAccessPass
        && (is_used(method) || method.expires_at.is_none_or(|end| end <= now))
}

/// A new pass for `account`, valid for `minutes` from `now`.
pub fn new_pass(
    id: MethodId,
    account: &Account,
    pass_hash: String,
    now: OffsetDateTime,
    minutes: u32,
) -> Method {
    Method {
        id,
        account_id: account.id,
        kind: Kind::TemporaryAccessPass,
        status: MethodStatus::Active,
        name: None,
        data: MethodData::TemporaryAccessPass { pass_hash },
        sealed_secret: None,
        created_at: now,
        last_used_at: None,
        expires_at: Some(now + Duration::minutes(minutes.into())),
        last_step: None,
        failures: 0,
        locked_until: None,
        registered_by: None,
        way: None,
    }
}

/// Minutes an admin asked for, within bounds.
pub fn valid_minutes(asked: Option<u32>) -> Result<u32> {
    let minutes = asked.unwrap_or(DEFAULT_MINUTES);
    if minutes < MIN_MINUTES {
        return Err(Error::bad(
            "valid_for_minutes",
            crate::error::Problem::TooShort {
                min: MIN_MINUTES as usize,
            },
        ));
    }
    if minutes > MAX_MINUTES {
        return Err(Error::bad(
            "valid_for_minutes",
            crate::error::Problem::TooLong {
                max: MAX_MINUTES as usize,
            },
        ));
    }
    Ok(minutes)
}

impl Tessera {
    /// Checks a pass under the lock-out rule. A used or lapsed pass is `expired`, without
    /// counting as a wrong try.
    pub(crate) async fn check_temporary_access_pass(
        &self,
        method: &Method,
        purpose: Purpose,
        typed: &str,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<Verified> {
        let now = self.now();
        if has_lapsed(method, now) {
            return Err(Error::Expired);
        }
        let MethodData::TemporaryAccessPass { pass_hash } = &method.data else {
            return Err(Error::Expired);
        };
        self.reserve_attempt_for(method, purpose.into(), ctx, policy)
            .await?;
        let matched = match normalize(typed) {
            Some(digits) => matches!(
                self.passwords.verify(digits, Some(pass_hash.clone())).await,
                PasswordCheck::Match { .. }
            ),
            None => false,
        };
        if matched {
            Ok(Verified {
                step: Some(USED_STEP),
                reserved: true,
            })
        } else {
            Err(self
                .code_failed_for(
                    method,
                    purpose.into(),
                    ctx,
                    policy,
                    AuditAction::CodeRejected,
                )
                .await)
        }
    }

    /// `methods` without passes that were used or have lapsed; those are deleted, so a
    /// person whose only method was a pass is asked to register again.
    pub(crate) async fn without_lapsed_passes(&self, methods: Vec<Method>) -> Result<Vec<Method>> {
        let now = self.now();
        if !methods.iter().any(|m| has_lapsed(m, now)) {
            return Ok(methods);
        }
        self.store.purge_temporary_access_passes(now).await?;
        Ok(methods
            .into_iter()
            .filter(|m| !has_lapsed(m, now))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::OsRandom;

    #[test]
    fn passes_are_ten_digits_shown_in_two_groups() {
        let pass = generate(&OsRandom);
        assert_eq!(pass.len(), 10);
        assert!(pass.chars().all(|c| c.is_ascii_digit()));
        let shown = display(&pass);
        assert_eq!(shown.len(), 11);
        assert_eq!(
            normalize(&shown).as_deref().map(String::as_str),
            Some(pass.as_str())
        );
        assert!(normalize("12345").is_none());
        assert!(normalize("12345 6789x").is_none());
    }

    #[test]
    fn lifetimes_are_bounded() {
        assert_eq!(valid_minutes(None).ok(), Some(DEFAULT_MINUTES));
        assert!(valid_minutes(Some(5)).is_err());
        assert!(valid_minutes(Some(MAX_MINUTES + 1)).is_err());
        assert_eq!(valid_minutes(Some(480)).ok(), Some(480));
    }
}
