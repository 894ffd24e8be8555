//! `authenticator_code`: any authenticator app or hardware token that shows RFC 6238 codes.
//!
//! SHA-1, 6 digits, 30-second steps: the parameters every app honours (many silently ignore
//! `algorithm=` in the URI). The seed is 160 random bits, sealed at rest. One step of clock
//! skew is accepted each way; the store refuses any step at or below the last one accepted.

use super::{Enrollment, Kind, KindContext, Method, MethodData, MethodStatus, Purpose, Verified};
use crate::account::Account;
use crate::audit::{AuditAction, RequestContext};
use crate::error::{Error, Internal, Result};
use crate::ids::MethodId;
use crate::lockout::Counter;
use crate::policy::Policy;
use crate::random;
use crate::secret::Aad;
use crate::service::Tessera;
use totp_rs::{Algorithm, Builder, Totp};
use zeroize::Zeroizing;

pub const DIGITS: u8 = 6;
pub const STEP_SECS: u64 = 30;
pub const SKEW_STEPS: u16 = 1;
pub const SECRET_BYTES: usize = 20;
pub const NAME_MAX: usize = 64;

pub(crate) fn aad(id: &str) -> Aad<'_> {
    Aad {
        table: "methods",
        column: "secret",
        row: id,
    }
}

pub fn register_begin(
    name: Option<String>,
    account: &Account,
    id: MethodId,
    ctx: &KindContext<'_>,
    pending_for: time::Duration,
) -> Result<(Method, Enrollment)> {
    let name = clean_name(name)?;
    let seed = Zeroizing::new(random::bytes::<SECRET_BYTES>(ctx.rng));
    let id_text = id.to_string();
    let method = Method {
        id,
        account_id: account.id,
        kind: Kind::AuthenticatorCode,
        status: MethodStatus::Pending,
        name,
        data: MethodData::Totp {
            digits: DIGITS,
            step_secs: STEP_SECS,
        },
        sealed_secret: Some(ctx.keys.seal(ctx.rng, seed.as_slice(), aad(&id_text))),
        created_at: ctx.now,
        last_used_at: None,
        expires_at: Some(ctx.now + pending_for),
        last_step: None,
        failures: 0,
        locked_until: None,
        registered_by: None,
        way: None,
    };
    let enrollment = enrollment_for(seed.as_slice(), account, ctx)?;
    Ok((method, enrollment))
}

pub fn enrollment(method: &Method, account: &Account, ctx: &KindContext<'_>) -> Result<Enrollment> {
    // A hardware token's seed stays on the server: the person proves the token with a code.
    if let MethodData::HardwareToken { serial, .. } = &method.data {
        return Ok(Enrollment::HardwareToken {
            serial: serial.clone(),
        });
    }
    let seed = unseal(method, ctx)?;
    enrollment_for(&seed, account, ctx)
}

pub fn verify(method: &Method, code: &str, ctx: &KindContext<'_>) -> Result<Option<Verified>> {
    let Some(code) = super::normalize_code(code) else {
        return Ok(None);
    };
    let seed = unseal(method, ctx)?;
    let (digits, step_secs) = match method.data {
        MethodData::Totp { digits, step_secs }
        | MethodData::HardwareToken {
            digits, step_secs, ..
        } => (digits, step_secs),
        _ => return Ok(None),
    };
    let totp = totp(&seed, digits, step_secs, "", "")?;
    let now = ctx.now.unix_timestamp().max(0) as u64;
    Ok(
        proven_step(&totp, &code, now, step_secs, method.last_step).map(|step| Verified {
            step: Some(step as i64),
            reserved: false,
        }),
    )
}

/// The step `code` proves at `now`, within [`SKEW_STEPS`] each way: the first step not used
/// yet (above `last_step`) whose code it is. Six digits repeat: a step of the window may
/// share its code with a later one, and when the earlier was used already, taking it would
/// refuse a right code as a replay. Only when no unused step matches is a used one returned,
/// for the store to refuse as the replay it is. `totp` has no skew of its own.
fn proven_step(
    totp: &Totp,
    code: &str,
    now: u64,
    step_secs: u64,
    last_step: Option<i64>,
) -> Option<u64> {
    let origin = now / step_secs;
    let skew = u64::from(SKEW_STEPS);
    let window = origin.saturating_sub(skew)..=origin + skew;
    let proves = |step: &u64| totp.check(code, step * step_secs).is_some();
    let unused =
        |step: &u64| last_step.is_none_or(|last| i64::try_from(*step).is_ok_and(|s| s > last));
    window
        .clone()
        .filter(unused)
        .find(proves)
        .or_else(|| window.clone().find(proves))
}

impl Tessera {
    /// Checks a code against a method under the lock-out rule. A match reserves nothing:
    /// checking a TOTP code costs nothing, and the caller's `accept_code` passes the lock-out
    /// gate in the same commit that records the step. A wrong code reserves an attempt (and
    /// is refused as locked when the gate is shut) and is recorded here, so no more wrong
    /// answers are ever given than the threshold allows. Counted on the purpose's counter
    /// (see `lockout`).
    pub(crate) async fn check_authenticator_code(
        &self,
        method: &Method,
        purpose: Purpose,
        code: &str,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<Verified> {
        match verify(method, code, &self.kind_context())? {
            Some(verified) => Ok(verified),
            None => Err(self
                .refuse_unreserved(
                    method,
                    Counter::from(purpose),
                    ctx,
                    policy,
                    AuditAction::CodeRejected,
                )
                .await),
        }
    }
}

fn unseal(method: &Method, ctx: &KindContext<'_>) -> Result<Zeroizing<Vec<u8>>> {
    let sealed = method
        .sealed_secret
        .as_deref()
        .ok_or(Error::Internal(Internal::Unseal))?;
    ctx.keys
        .open(sealed, aad(&method.id.to_string()))
        .map_err(|_| Error::Internal(Internal::Unseal))
}

fn enrollment_for(seed: &[u8], account: &Account, ctx: &KindContext<'_>) -> Result<Enrollment> {
    let totp = totp(seed, DIGITS, STEP_SECS, ctx.issuer, &account.username)?;
    let otpauth_uri = totp.to_url().map_err(|_| Error::Internal(Internal::Totp))?;
    Ok(Enrollment::Totp {
        secret_base32: totp.secret().to_base32(),
        otpauth_uri,
    })
}

/// The `otpauth://` label may not contain a colon; issuer and account are kept without one.
/// No skew: [`proven_step`] looks at each step of the window itself.
fn totp(seed: &[u8], digits: u8, step_secs: u64, issuer: &str, account: &str) -> Result<Totp> {
    let mut builder = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(digits)
        .with_skew(0)
        .with_step_duration(step_secs)
        .with_secret(seed.to_vec())
        .with_account_name(account.replace(':', ""));
    if !issuer.is_empty() {
        builder = builder.with_issuer(Some(issuer.replace(':', "")));
    }
    builder.build().map_err(|_| Error::Internal(Internal::Totp))
}

fn clean_name(name: Option<String>) -> Result<Option<String>> {
    let Some(name) = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > NAME_MAX {
        return Err(Error::bad(
            "name",
            crate::error::Problem::TooLong { max: NAME_MAX },
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::bad("name", crate::error::Problem::Invalid));
    }
    Ok(Some(name))
}

/// Step lengths hardware OATH tokens use.
pub const HARDWARE_STEPS: [u64; 2] = [30, 60];

/// An imported hardware token, pending until the person types one code from it. Its seed is
/// sealed like an app's; it does not lapse, since the token waits in a drawer until handed out.
/// Refuses seeds under 128 bits (RFC 4226 §4) and steps other than 30 or 60 seconds.
pub fn hardware_token(
    seed: &[u8],
    serial: &str,
    step_secs: u64,
    name: Option<String>,
    account: &Account,
    id: MethodId,
    ctx: &KindContext<'_>,
) -> Result<Method> {
    if !HARDWARE_STEPS.contains(&step_secs) {
        return Err(Error::bad("time_interval", crate::error::Problem::Invalid));
    }
    totp(seed, DIGITS, step_secs, "", "")
        .map_err(|_| Error::bad("secret_key", crate::error::Problem::TooShort { min: 26 }))?;
    Ok(Method {
        id,
        account_id: account.id,
        kind: Kind::AuthenticatorCode,
        status: MethodStatus::Pending,
        name: clean_name(name)?,
        data: MethodData::HardwareToken {
            digits: DIGITS,
            step_secs,
            serial: serial.to_string(),
        },
        sealed_secret: Some(ctx.keys.seal(ctx.rng, seed, aad(&id.to_string()))),
        created_at: ctx.now,
        last_used_at: None,
        expires_at: None,
        last_step: None,
        failures: 0,
        locked_until: None,
        registered_by: None,
        way: None,
    })
}

/// The code a token with `step_secs` steps shows for `seed` at `unix_time`.
pub fn code_with_step(seed: &[u8], step_secs: u64, unix_time: u64) -> Result<String> {
    Ok(totp(seed, DIGITS, step_secs, "", "")?
        .generate(unix_time)
        .to_string())
}

/// The code an app would show for `seed` at `unix_time` (used by tests and the CLI).
pub fn code_at(seed: &[u8], unix_time: u64) -> Result<String> {
    Ok(totp(seed, DIGITS, STEP_SECS, "", "")?
        .generate(unix_time)
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows (8 digits, seed "12345678901234567890").
    #[test]
    fn rfc6238_appendix_b_sha1_vectors() {
        let seed = b"12345678901234567890";
        let vectors = [
            (59u64, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ];
        for (t, expected) in vectors {
            let totp = totp(seed, 8, 30, "", "");
            assert_eq!(
                totp.map(|t8| t8.generate(t).to_string()).ok().as_deref(),
                Some(expected),
                "t = {t}"
            );
        }
    }

    /// RFC 6238 Appendix B, SHA-256 and SHA-512 rows, with their longer seeds.
    #[test]
    fn rfc6238_appendix_b_sha256_and_sha512_vectors() {
        let seed256 = b"12345678901234567890123456789012";
        let seed512 = b"1234567890123456789012345678901234567890123456789012345678901234";
        let rows = [
            (59u64, "46119246", "90693936"),
            (1111111109, "68084774", "25091201"),
            (1111111111, "67062674", "99943326"),
            (1234567890, "91819424", "93441116"),
            (2000000000, "90698825", "38618901"),
            (20000000000, "77737706", "47863826"),
        ];
        for (t, sha256, sha512) in rows {
            let make = |alg, seed: &[u8]| {
                Builder::new()
                    .with_algorithm(alg)
                    .with_digits(8)
                    .with_secret(seed.to_vec())
                    .build()
                    .map(|x| x.generate(t).to_string())
                    .ok()
            };
            assert_eq!(
                make(Algorithm::SHA256, seed256).as_deref(),
                Some(sha256),
                "t = {t}"
            );
            assert_eq!(
                make(Algorithm::SHA512, seed512).as_deref(),
                Some(sha512),
                "t = {t}"
            );
        }
    }

    #[test]
    fn one_step_of_skew_each_way_and_no_more() {
        let seed = [7u8; 20];
        let t = 1_700_000_010u64;
        let totp = totp(&seed, 6, 30, "", "").ok();
        let check = |at: u64| {
            totp.as_ref()
                .and_then(|x| proven_step(x, &x.generate(at).to_string(), t, 30, None))
        };
        assert_eq!(check(t), Some(t / 30));
        assert_eq!(check(t - 30), Some(t / 30 - 1));
        assert_eq!(check(t + 30), Some(t / 30 + 1));
        assert_eq!(check(t - 60), None);
        assert_eq!(check(t + 60), None);
    }

    /// With the RFC 6238 seed, steps 910 737 and 910 738 both show 911617. After the first
    /// was used, that code proves the second, not a replay of the first; before, either.
    #[test]
    fn a_code_shared_with_a_used_step_proves_the_unused_one() {
        let totp = totp(b"12345678901234567890", 6, 30, "", "").ok();
        let Some(totp) = totp else {
            panic!("the RFC seed makes a Totp");
        };
        let (used, next) = (910_737u64, 910_738u64);
        assert_eq!(totp.generate(used * 30).to_string(), "911617");
        assert_eq!(totp.generate(next * 30).to_string(), "911617");
        let now = next * 30 + 5;
        let last = i64::try_from(used).ok();
        assert_eq!(proven_step(&totp, "911617", now, 30, last), Some(next));
        assert_eq!(proven_step(&totp, "911617", now, 30, None), Some(used));
        // Both used: the first match, for the store to refuse as a replay.
        let both = i64::try_from(next).ok();
        assert_eq!(proven_step(&totp, "911617", now, 30, both), Some(used));
    }
}
