//! `recovery_codes`: a way back in when the phone is lost, without an admin. A set of ten
//! codes, shown once; each works once, as a second factor at sign-in or as a reset gate. A
//! new set revokes the old one.
//!
//! A code is 16 characters of Crockford's base32 (80 random bits), shown as four groups of
//! four. With that much entropy a salted SHA-256 is enough at rest (as for session tokens):
//! no guessing budget reaches 2^80. Which codes are used is a bit mask in the method's
//! `last_step`, set with one conditional `UPDATE`, so two nodes cannot both accept a code.

use super::{Kind, Method, MethodData, MethodStatus, Purpose, Verified};
use crate::audit::{AuditAction, RequestContext};
use crate::error::{Error, NotAllowed, Result};
use crate::flow::StepUpProof;
use crate::ids::{AccountId, MethodId};
use crate::lockout::Counter;
use crate::message::SecurityEvent;
use crate::policy::Policy;
use crate::random::{self, Random};
use crate::secret::ct_eq;
use crate::service::{Auth, Tessera};
use data_encoding::HEXLOWER;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use zeroize::Zeroizing;

pub const COUNT: usize = 10;
pub const CODE_CHARS: usize = 16;
/// The security info page urges a new set at this many codes left, or fewer.
pub const FEW_LEFT: usize = 3;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A new set: the method (active at once) and the codes to show, once.
pub fn generate(
    account: AccountId,
    id: MethodId,
    now: OffsetDateTime,
    rng: &dyn Random,
) -> (Method, Vec<Zeroizing<String>>) {
    let codes: Vec<Zeroizing<String>> = (0..COUNT).map(|_| new_code(rng)).collect();
    let hashes = codes.iter().map(|c| hash(id, &compact(c))).collect();
    let method = Method {
        id,
        account_id: account,
        kind: Kind::RecoveryCodes,
        status: MethodStatus::Active,
        name: None,
        data: MethodData::RecoveryCodes { hashes },
        sealed_secret: None,
        created_at: now,
        last_used_at: None,
        expires_at: None,
        last_step: Some(0),
        failures: 0,
        locked_until: None,
        registered_by: None,
        way: None,
    };
    (method, codes)
}

fn new_code(rng: &dyn Random) -> Zeroizing<String> {
    let bytes = Zeroizing::new(random::bytes::<10>(rng));
    let mut bits: u128 = 0;
    for b in bytes.iter() {
        bits = (bits << 8) | u128::from(*b);
    }
    let mut out = String::with_capacity(CODE_CHARS + 3);
    for i in 0..CODE_CHARS {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let shift = 5 * (CODE_CHARS - 1 - i);
        out.push(char::from(ALPHABET[((bits >> shift) & 31) as usize]));
    }
    Zeroizing::new(out)
}

/// A code as typed: case, spaces and dashes do not matter, and the letters people mistake
/// for digits (o, i, l) read as the digits (Crockford).
pub fn compact(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            c => c,
        })
        .collect()
}

fn hash(method: MethodId, compact: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"tessera recovery code v1\0");
    h.update(method.to_string().as_bytes());
    h.update(b"\0");
    h.update(compact.as_bytes());
    HEXLOWER.encode(&h.finalize())
}

/// The bit of the code that matches, used or not; `None` for a wrong code. Every stored hash
/// is compared, in constant time.
pub fn find(method: &Method, raw: &str) -> Option<i64> {
    let MethodData::RecoveryCodes { hashes } = &method.data else {
        return None;
    };
    let code = compact(raw);
    if code.len() != CODE_CHARS || !code.bytes().all(|b| ALPHABET.contains(&b)) {
        return None;
    }
    let wanted = hash(method.id, &code);
    let mut found = None;
    for (i, stored) in hashes.iter().enumerate() {
        if ct_eq(stored.as_bytes(), wanted.as_bytes()) {
            found = Some(1i64 << i);
        }
    }
    found
}

/// How many codes of the set are still unused.
pub fn remaining(method: &Method) -> usize {
    let MethodData::RecoveryCodes { hashes } = &method.data else {
        return 0;
    };
    let used = method.last_step.unwrap_or(0);
    (0..hashes.len())
        .filter(|i| used & (1i64 << i) == 0)
        .count()
}

/// The person's set of recovery codes, as the security info page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryCodesState {
    pub method_id: MethodId,
    pub remaining: usize,
    pub total: usize,
    pub created_at: OffsetDateTime,
}

impl RecoveryCodesState {
    /// Few enough left that the person should make a new set.
    pub fn few_left(&self) -> bool {
        self.remaining <= FEW_LEFT
    }
}

impl Tessera {
    /// Makes a new set of ten codes, revoking the old set. The codes are shown once.
    pub async fn generate_recovery_codes(
        &self,
        auth: &Auth,
        proof: StepUpProof,
        ctx: &RequestContext,
    ) -> Result<(Method, Vec<Zeroizing<String>>)> {
        proof.of(auth)?;
        let policy = self.policy().await?;
        if !policy.allows_kind(Kind::RecoveryCodes) {
            return Err(Error::NotAllowed(NotAllowed::KindNotAllowed));
        }
        let id = MethodId::new(self.rng.as_ref());
        let (mut method, codes) = generate(auth.account.id, id, self.now(), self.rng.as_ref());
        method.registered_by = Some(auth.session.id);
        let audit = self
            .audit(
                ctx,
                Some(auth.account.id),
                AuditAction::RecoveryCodesGenerated,
            )
            .method(method.id);
        let notes = self
            .notifications(&auth.account, &method, SecurityEvent::MethodAdded, ctx)
            .await?;
        self.store
            .replace_methods_of_kind(&method, &audit, &notes)
            .await?;
        Ok((method, codes))
    }

    /// The person's current set, if any.
    pub async fn recovery_codes_state(&self, auth: &Auth) -> Result<Option<RecoveryCodesState>> {
        Ok(self
            .store
            .methods_of(auth.account.id)
            .await?
            .iter()
            .find(|m| m.kind == Kind::RecoveryCodes && m.is_active())
            .map(|m| RecoveryCodesState {
                method_id: m.id,
                remaining: remaining(m),
                total: match &m.data {
                    MethodData::RecoveryCodes { hashes } => hashes.len(),
                    _ => 0,
                },
                created_at: m.created_at,
            }))
    }

    /// Checks a recovery code under the lock-out rule and uses it up: each code works once.
    /// The person is told through their other channels, with how many are left.
    pub(crate) async fn check_recovery_codes(
        &self,
        method: &Method,
        purpose: Purpose,
        code: &str,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<Verified> {
        let now = self.now();
        let counter = Counter::from(purpose);
        self.reserve_attempt_for(method, counter, ctx, policy)
            .await?;
        let Some(bit) = find(method, code) else {
            return Err(self
                .code_failed_for(method, counter, ctx, policy, AuditAction::CodeRejected)
                .await);
        };
        let mut after = method.clone();
        after.last_step = Some(method.last_step.unwrap_or(0) | bit);
        let left = remaining(&after);
        let audit = self
            .audit(ctx, Some(method.account_id), AuditAction::RecoveryCodeUsed)
            .method(method.id)
            .detail(serde_json::json!({ "remaining": left }));
        let notes = match self.store.account(method.account_id).await? {
            Some(account) => {
                self.notifications(&account, method, SecurityEvent::RecoveryCodeUsed, ctx)
                    .await?
            }
            None => Vec::new(),
        };
        if self
            .store
            .use_recovery_code(method.id, bit, now, &audit, &notes)
            .await?
        {
            Ok(Verified {
                step: None,
                reserved: true,
            })
        } else {
            Err(self
                .code_failed_for(method, counter, ctx, policy, AuditAction::CodeReplayed)
                .await)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::OsRandom;

    fn set() -> (Method, Vec<Zeroizing<String>>) {
        let rng = OsRandom;
        generate(
            AccountId::new(&rng),
            MethodId::new(&rng),
            time::macros::datetime!(2026-01-01 0:00 UTC),
            &rng,
        )
    }

    #[test]
    fn ten_distinct_codes_in_four_groups() {
        let (method, codes) = set();
        assert_eq!(codes.len(), COUNT);
        for c in &codes {
            assert_eq!(c.len(), 19, "{}", c.as_str());
            assert_eq!(c.split('-').count(), 4);
        }
        let distinct: std::collections::HashSet<&str> = codes.iter().map(|c| c.as_str()).collect();
        assert_eq!(distinct.len(), COUNT);
        assert_eq!(remaining(&method), COUNT);
    }

    #[test]
    fn codes_match_however_typed_and_only_their_own_set() {
        let (method, codes) = set();
        let typed = codes[3].to_uppercase().replace('-', " ");
        assert_eq!(find(&method, &typed), Some(1 << 3));
        assert_eq!(find(&method, "0000-0000-0000-0000"), None);
        assert_eq!(find(&method, "short"), None);
        let (other, _) = set();
        assert_eq!(
            find(&other, &codes[0]),
            None,
            "hashes are bound to their set"
        );
    }

    #[test]
    fn used_codes_are_not_remaining() {
        let (mut method, _) = set();
        method.last_step = Some(0b101);
        assert_eq!(remaining(&method), COUNT - 2);
    }
}
