//! The decoy of a reset: what an unknown username (or an account that cannot reset) is shown,
//! so that the answers cannot tell it from a real account.
//!
//! Its gates derive from the username under a key from the key ring: the same username shows
//! the same methods (ids, kinds, questions) every time, and nobody without the key can predict
//! them. Their challenges send nothing. Their checks cost about what a real one does (a
//! security question answer costs an Argon2id check), never pass, and lock after as many
//! wrong tries as a real method, counted in the store like the reset limits.

use super::reset::ResetFlow;
use crate::error::{Error, Problem, Result};
use crate::ids::{AccountId, MethodId};
use crate::method::security_questions::{self, StoredAnswer};
use crate::method::{Challenge, Kind, Method, MethodData, MethodStatus, Response};
use crate::policy::Policy;
use crate::random::Random;
use crate::service::Tessera;
use sha2::{Digest, Sha256};
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use zeroize::Zeroizing;

/// Kinds a decoy may show: those that send nothing, so showing one sends nothing either.
const QUIET_KINDS: [Kind; 3] = [
    Kind::AuthenticatorCode,
    Kind::RecoveryCodes,
    Kind::SecurityQuestions,
];

/// A deterministic stream of bytes from a seed (SHA-256 in counter mode), for picks that
/// must come out the same on every node.
struct Derived {
    seed: Zeroizing<[u8; 32]>,
    counter: Mutex<u64>,
}

impl Random for Derived {
    fn fill(&self, buf: &mut [u8]) {
        let mut counter = self.counter.lock().unwrap_or_else(|e| e.into_inner());
        for chunk in buf.chunks_mut(32) {
            let block = Sha256::new()
                .chain_update(self.seed.as_slice())
                .chain_update(counter.to_be_bytes())
                .finalize();
            *counter += 1;
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
    }
}

fn derived(t: &Tessera, username: &str, what: &str) -> Derived {
    let purpose = format!("reset decoy\0{username}\0{what}");
    Derived {
        seed: t.keys.derive(purpose.as_bytes()),
        counter: Mutex::new(0),
    }
}

/// The decoy gates of `username` under the policy.
pub(super) async fn methods(t: &Tessera, policy: &Policy, username: &str) -> Result<Vec<Method>> {
    let rng = derived(t, username, "methods");
    let mut kinds: Vec<Kind> = QUIET_KINDS
        .into_iter()
        .filter(|k| k.is_available() && policy.allows_reset(*k))
        .collect();
    if kinds.is_empty() {
        kinds.push(Kind::AuthenticatorCode);
    }
    let start = crate::random::below(&rng, kinds.len() as u32) as usize;
    let pool = t.question_pool().await?;
    let pool: Vec<&str> = pool.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    for i in 0..policy.reset_methods_required.max(1) as usize {
        let kind = kinds[(start + i) % kinds.len()];
        let mut id = [0u8; 16];
        rng.fill(&mut id);
        let data = match kind {
            Kind::SecurityQuestions => MethodData::SecurityQuestions {
                answers: security_questions::pick(
                    &pool,
                    policy.security_questions_to_register as usize,
                    &rng,
                )
                .into_iter()
                .map(|q| StoredAnswer {
                    question: q.to_string(),
                    hash: String::new(),
                })
                .collect(),
            },
            Kind::RecoveryCodes => MethodData::RecoveryCodes { hashes: Vec::new() },
            _ => MethodData::Totp {
                digits: 6,
                step_secs: 30,
            },
        };
        out.push(Method {
            id: MethodId(uuid::Builder::from_random_bytes(id).into_uuid()),
            account_id: AccountId(Uuid::nil()),
            kind,
            status: MethodStatus::Active,
            name: None,
            data,
            sealed_secret: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            last_used_at: None,
            expires_at: None,
            last_step: None,
            failures: 0,
            locked_until: None,
        });
    }
    Ok(out)
}

/// A decoy challenge: nothing sent; questions asked as for a real method.
pub(super) async fn challenge(t: &Tessera, flow: &ResetFlow, method: &Method) -> Result<Challenge> {
    match method.kind {
        Kind::SecurityQuestions => t.ask_questions(method, flow.id).await,
        _ => Ok(Challenge::nothing_sent(method)),
    }
}

/// A decoy check: never passes. Answers what a real method would to a wrong response.
pub(super) async fn respond(
    t: &Tessera,
    flow: &ResetFlow,
    method: &Method,
    response: &Response,
    policy: &Policy,
) -> Error {
    match (method.kind, response) {
        (Kind::SecurityQuestions, Response::Answers(given)) => {
            let Some((_, asked)) = flow.asked.as_ref().filter(|(m, _)| *m == method.id) else {
                return Error::bad("answers", Problem::Required);
            };
            // As many Argon2id checks as a real method spends.
            for _ in asked {
                let answer = given.first().map(|(_, a)| a.clone()).unwrap_or_default();
                let _ = t.passwords.verify(Zeroizing::new(answer), None).await;
            }
        }
        (_, Response::Code(_)) if method.kind != Kind::SecurityQuestions => {}
        _ => return Error::bad("response", Problem::Invalid),
    }
    let now = t.now();
    let window = Duration::seconds(policy.lockout_secs as i64);
    match t
        .store
        .count_hit(&format!("decoy-lock:{}", method.id), now, window)
        .await
    {
        Ok(hits) if hits.count >= u64::from(policy.lockout_threshold) => Error::Locked {
            retry_after: (hits.window_start + window - now).whole_seconds().max(1) as u64,
        },
        Ok(_) => Error::InvalidCode,
        Err(e) => e.into(),
    }
}
