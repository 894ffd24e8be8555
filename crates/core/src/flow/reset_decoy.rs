//! The decoy of a reset: what an unknown username (or an account that cannot reset) is shown,
//! so that no answer tells it from a real account.
//!
//! Two ways were open: gate lists that say nothing about the account until a gate is passed,
//! or decoys drawn from the same distribution as real accounts. Generic lists would take from
//! every person the masked `+31 6•••••78` that tells them which phone to pick, and offer
//! methods they do not have; so decoys look real instead:
//!
//! - **Gates modelled on a real person's.** The username, under a key of the key ring, picks a
//!   point among the account ids; the first active account from there with enough reset gates
//!   lends the kinds and the order of its gates, nothing else (a phone lends its country and
//!   the first digit that the mask shows, never its number). So decoy lists come in the
//!   proportions real ones do: one gate or four, phones, email, keys, whatever this
//!   organization uses. Until some account has enough gates, a fixed mix stands in.
//! - **Details derived from the username** under the key: ids, masked numbers and addresses,
//!   questions, a security key's credential id. The same username shows the same gates every
//!   time (until the modelled person changes theirs, as a real person may), and nobody without
//!   the key can predict them. Labels never carry a name a person gave a method (`reset`
//!   leaves those out for everyone), which a decoy could not invent.
//! - **Challenges** send nothing, but pass the same limits first (lock, cool-down, budgets,
//!   the country allow-list, the global limit) and answer in the same shape: the masked
//!   destination, a number to match, WebAuthn options, questions. A code "sent" expires after
//!   `code_secs` and dies after `code_tries` wrong tries, as a real one does.
//! - **Checks** never pass, cost about what a real one does (an Argon2id check per question
//!   asked, or for a pass), and are counted on the reset's own counters exactly as a real
//!   flow's are (`reset::reset_attempt`, keyed by the flow and the username): the same
//!   lock-out, to the second.
//!
//! What still differs needs more than a username: a real code whose delivery failed says so
//! (a gateway must fail), a real security key may list its transports, and an organization
//! whose people give addresses at other providers than the common ones below shows decoy
//! addresses at those.

use super::reset::{ResetFlow, gate_methods};
use crate::audit::{AuditAction, RequestContext};
use crate::error::{Error, NotAllowed, Problem, Result};
use crate::ids::{AccountId, MethodId};
use crate::message::Channel;
use crate::method::security_questions::{self, StoredAnswer};
use crate::method::sent_code::sends_codes;
use crate::method::{
    Challenge, Kind, Method, MethodData, MethodStatus, Response, detail, temporary_access_pass,
};
use crate::policy::Policy;
use crate::random::{self, Random};
use crate::service::Tessera;
use phonenumber::metadata::DATABASE;
use sha2::{Digest, Sha256};
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use zeroize::Zeroizing;

/// Accounts looked at, from the username's point on, for one with enough gates to lend.
const SAMPLE: u32 = 4;

/// The mix of kinds while no account can lend its gates (a new installation): a guess at a
/// typical organization's.
const FALLBACK: [(Kind, u32); 9] = [
    (Kind::AuthenticatorApp, 30),
    (Kind::PhoneMobile, 25),
    (Kind::Email, 15),
    (Kind::AuthenticatorCode, 10),
    (Kind::SecurityKey, 5),
    (Kind::RecoveryCodes, 5),
    (Kind::SecurityQuestions, 5),
    (Kind::PhoneOffice, 3),
    (Kind::PhoneAlternate, 2),
];

/// Where decoy addresses are: people's own addresses mostly are at one of these.
const MAIL_DOMAINS: [&str; 6] = [
    "gmail.com",
    "outlook.com",
    "hotmail.com",
    "yahoo.com",
    "icloud.com",
    "proton.me",
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

/// The rate counter that marks when a decoy's last code was "sent" (its window restarts with
/// every code, as a code can only go out after the cool-down).
fn sent_key(flow: &ResetFlow, method: &Method) -> String {
    format!("reset:decoy-sent:{}:{}", flow.id, method.id)
}

/// The decoy gates of `username` under the policy.
pub(super) async fn methods(t: &Tessera, policy: &Policy, username: &str) -> Result<Vec<Method>> {
    let rng = derived(t, username, "methods");
    let required = policy.reset_methods_required.max(1) as usize;
    let model = model(t, policy, &rng, required).await?;
    let kinds: Vec<(Kind, Option<&MethodData>)> = if model.is_empty() {
        fallback(t, policy, &rng, required)
            .into_iter()
            .map(|k| (k, None))
            .collect()
    } else {
        model.iter().map(|m| (m.kind, Some(&m.data))).collect()
    };
    let pool = t.question_pool().await?;
    let pool: Vec<&str> = pool.iter().map(String::as_str).collect();
    let mut out = Vec::with_capacity(kinds.len());
    for (kind, like) in kinds {
        let id = MethodId(uuid::Builder::from_random_bytes(random::bytes(&rng)).into_uuid());
        let data = match kind {
            Kind::PhoneMobile | Kind::PhoneAlternate | Kind::PhoneOffice => {
                phone(kind, like, policy, &rng)
            }
            Kind::Email => email(&rng),
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
            Kind::SecurityKey => MethodData::SecurityKey {},
            Kind::TemporaryAccessPass => MethodData::TemporaryAccessPass {
                pass_hash: String::new(),
            },
            Kind::AuthenticatorCode | Kind::AuthenticatorApp => MethodData::Totp {
                digits: 6,
                step_secs: 30,
            },
        };
        out.push(Method {
            id,
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
            registered_by: None,
            way: None,
        });
    }
    Ok(out)
}

/// The gates of the first active account from the username's point on that has enough of
/// them; empty when none of the accounts looked at has.
async fn model(
    t: &Tessera,
    policy: &Policy,
    rng: &dyn Random,
    required: usize,
) -> Result<Vec<Method>> {
    let from = AccountId(uuid::Builder::from_random_bytes(random::bytes(rng)).into_uuid());
    for id in t.store.sample_accounts(from, SAMPLE).await? {
        let gates = gate_methods(policy, &t.store.methods_of(id).await?);
        if gates.len() >= required {
            return Ok(gates);
        }
    }
    Ok(Vec::new())
}

/// Kinds from the fixed mix, among those the policy allows for reset: as many as required,
/// sometimes one more.
fn fallback(t: &Tessera, policy: &Policy, rng: &dyn Random, required: usize) -> Vec<Kind> {
    let mut pool: Vec<(Kind, u32)> = FALLBACK
        .into_iter()
        .filter(|(k, _)| policy.allows_reset(*k))
        .filter(|(k, _)| *k != Kind::SecurityKey || t.rp().is_ok())
        .collect();
    let wanted = required + random::below(rng, 2) as usize;
    let mut out = Vec::with_capacity(wanted);
    while out.len() < wanted {
        let total: u32 = pool.iter().map(|(_, w)| w).sum();
        if total == 0 {
            // Fewer kinds than gates: a kind again, as a person may have two of one.
            out.push(out.first().copied().unwrap_or(Kind::AuthenticatorCode));
            continue;
        }
        let mut r = random::below(rng, total);
        let i = pool
            .iter()
            .position(|(_, w)| match r < *w {
                true => true,
                false => {
                    r -= w;
                    false
                }
            })
            .unwrap_or(0);
        out.push(pool.remove(i).0);
    }
    out
}

fn digit(rng: &dyn Random) -> char {
    char::from(b'0' + random::below(rng, 10) as u8)
}

/// A phone like `like` (its country, and the first digit a mask shows), or like one of the
/// organization's own country.
fn phone(kind: Kind, like: Option<&MethodData>, policy: &Policy, rng: &dyn Random) -> MethodData {
    let (region, country_code, national, delivery) = match like {
        Some(MethodData::Phone {
            number,
            region,
            country_code,
            delivery,
            ..
        }) => {
            let digits: String = number.chars().filter(char::is_ascii_digit).collect();
            let national = digits
                .strip_prefix(&country_code.to_string())
                .unwrap_or(&digits)
                .to_string();
            (region.clone(), *country_code, national, *delivery)
        }
        _ => {
            // The organization's own region, as the page that adds a phone assumes.
            let region = policy
                .phone_countries
                .first()
                .cloned()
                .unwrap_or_else(|| "NL".into());
            let meta = DATABASE.by_id(region.as_str());
            let example = meta
                .and_then(|m| match kind {
                    Kind::PhoneMobile => m.descriptors().mobile(),
                    _ => m.descriptors().fixed_line(),
                })
                .and_then(|d| d.example())
                .unwrap_or("612345678");
            let delivery = match kind {
                Kind::PhoneMobile => Channel::Sms,
                _ => Channel::Voice,
            };
            let code = meta.map_or(31, |m| m.country_code());
            (region, code, example.to_string(), delivery)
        }
    };
    let mut digits: String = national.chars().take(1).collect();
    while digits.len() < national.len().max(3) {
        digits.push(digit(rng));
    }
    MethodData::Phone {
        number: format!("+{country_code}{digits}"),
        region,
        country_code,
        extension: None,
        delivery,
    }
}

fn email(rng: &dyn Random) -> MethodData {
    let letters: String = (0..8)
        .map(|_| char::from(b'a' + random::below(rng, 26) as u8))
        .collect();
    let domain = MAIL_DOMAINS[random::below(rng, MAIL_DOMAINS.len() as u32) as usize];
    MethodData::Email {
        address: format!("{letters}@{domain}"),
    }
}

/// A decoy challenge: nothing sent; what a real one answers, after the checks a real one
/// passes before it sends (the reset's limits came first, in `reset_challenge`).
pub(super) async fn challenge(
    t: &Tessera,
    flow: &ResetFlow,
    method: &Method,
    via: Option<crate::message::Channel>,
    policy: &Policy,
) -> Result<Challenge> {
    // A text asked of what only calls, or any choice of a method that sends nothing, is
    // refused as a real one is.
    match (method.kind, via) {
        (_, None) | (Kind::PhoneMobile, Some(_)) => {}
        (Kind::PhoneAlternate | Kind::PhoneOffice, Some(crate::message::Channel::Voice)) => {}
        _ => return Err(Error::bad("delivery", Problem::Invalid)),
    }
    match method.kind {
        Kind::SecurityQuestions => t.ask_questions(method, flow.id).await,
        Kind::AuthenticatorApp => Ok(Challenge {
            number: Some((random::below(t.rng.as_ref(), 90) + 10) as u8),
            ..Challenge::nothing_sent(method)
        }),
        Kind::SecurityKey => {
            let key = derived(t, &flow.username, &format!("key\0{}", method.id));
            let id = random::bytes::<32>(&key).to_vec();
            Ok(Challenge {
                webauthn: Some(t.decoy_key_options(id)?),
                ..Challenge::nothing_sent(method)
            })
        }
        kind if sends_codes(kind) => {
            if let MethodData::Phone { region, .. } = &method.data
                && !policy.allows_country(region)
            {
                return Err(Error::NotAllowed(NotAllowed::CountryNotAllowed));
            }
            let now = t.now();
            let minute = Duration::minutes(1);
            let counts = t
                .store
                .send_counts(
                    AccountId(Uuid::nil()),
                    "",
                    now - Duration::hours(1),
                    now - minute,
                )
                .await?;
            if counts.global.count >= u64::from(policy.sends_per_minute) {
                return Err(Error::RateLimited {
                    retry_after: counts
                        .global
                        .oldest
                        .map_or(60, |o| (o + minute - now).whole_seconds().max(1) as u64),
                });
            }
            let cooldown = Duration::seconds(policy.resend_cooldown_secs as i64);
            t.store
                .count_hit(&sent_key(flow, method), now, cooldown)
                .await?;
            Ok(Challenge {
                sent_to: detail(method),
                ..Challenge::nothing_sent(method)
            })
        }
        _ => Ok(Challenge::nothing_sent(method)),
    }
}

/// A decoy check: never passes. Answers what a real method would to a wrong response; the
/// reset counts an `invalid_code` as it counts a real one.
pub(super) async fn respond(
    t: &Tessera,
    flow: &ResetFlow,
    method: &Method,
    response: &Response,
    policy: &Policy,
    ctx: &RequestContext,
) -> Error {
    let error = match (method.kind, response) {
        (Kind::SecurityQuestions, Response::Answers(given)) => {
            let Some((_, asked)) = flow.asked.as_ref().filter(|(m, _)| *m == method.id) else {
                return Error::bad("answers", Problem::Required);
            };
            // As many Argon2id checks as a real method spends.
            for _ in asked {
                let answer = given.first().map(|(_, a)| a.clone()).unwrap_or_default();
                let _ = t.passwords.verify(Zeroizing::new(answer), None).await;
            }
            Error::InvalidCode
        }
        (Kind::AuthenticatorApp, Response::Code(_)) if !policy.code_instead_of_notification => {
            Error::NotAllowed(NotAllowed::NotificationRequired)
        }
        (Kind::TemporaryAccessPass, Response::Code(code)) => {
            if let Some(digits) = temporary_access_pass::normalize(code) {
                let _ = t.passwords.verify(digits, None).await;
            }
            Error::InvalidCode
        }
        (kind, Response::Code(_)) if sends_codes(kind) => sent_code(t, flow, method, policy).await,
        (
            Kind::AuthenticatorCode | Kind::AuthenticatorApp | Kind::RecoveryCodes,
            Response::Code(_),
        ) => Error::InvalidCode,
        (Kind::SecurityKey, Response::WebAuthn(_)) => match t.rp() {
            Ok(_) => Error::InvalidCode,
            Err(e) => e,
        },
        _ => Error::bad("response", Problem::Invalid),
    };
    if !matches!(error, Error::InvalidCode) {
        return error;
    }
    // Audited as a real wrong answer is, without an account.
    let audit = t
        .audit(ctx, None, AuditAction::CodeRejected)
        .detail(serde_json::json!({ "username": flow.username }));
    match t.store.append_audit(&audit).await {
        Ok(()) => error,
        Err(e) => e.into(),
    }
}

/// A code typed for a decoy phone or address: wrong when one was "sent" and is current,
/// expired as a real one expires or dies.
async fn sent_code(t: &Tessera, flow: &ResetFlow, method: &Method, policy: &Policy) -> Error {
    let now = t.now();
    let sent = match t.store.peek_hits(&sent_key(flow, method)).await {
        Ok(Some(hits)) => hits.window_start,
        // Nothing was sent: no code can be right.
        Ok(None) => return Error::InvalidCode,
        Err(e) => return e.into(),
    };
    let lifetime = Duration::seconds(policy.code_secs as i64);
    if now >= sent + lifetime {
        return Error::Expired;
    }
    let tries = format!(
        "reset:decoy-tries:{}:{}:{}",
        flow.id,
        method.id,
        sent.unix_timestamp()
    );
    match t.store.count_hit(&tries, now, lifetime).await {
        // The code died at its last allowed try, as a real one does.
        Ok(hits) if hits.count > u64::from(policy.code_tries) => Error::Expired,
        Ok(_) => Error::InvalidCode,
        Err(e) => e.into(),
    }
}
