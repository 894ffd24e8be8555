//! Authenticator apps for the push scenario: some hot accounts get an `authenticator_app`
//! method whose device is activated with a key made here, written through the store the way
//! the server's activation writes it (the pending method and its activation code, the
//! activation with its test notification, the test approved), so the bench holds what a real
//! app holds: the device credential and the signing key.
//!
//! The server lets an account be sent `push_requests_max` notifications per
//! `push_window_secs` (5 per 5 minutes by default), the test notification included, so the
//! scenario rotates over many accounts and keeps each one's budget here ([`Slot`]).

use crate::seed::HotAccount;
use anyhow::{Context, Result, bail};
use ed25519_dalek::{Signer, SigningKey};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tessera_core::audit::{AuditAction, AuditEvent, RequestContext};
use tessera_core::flow::effect::{Activation, Effect};
use tessera_core::method::authenticator_app::{self as app, Decision};
use tessera_core::method::{Enrollment, KindContext, Purpose};
use tessera_core::store::accounts::AccountStore;
use tessera_core::store::push::{
    DeviceActivation, KeyAlgorithm, PushAnswer, PushRequest, PushStatus, PushStore,
};
use tessera_core::{
    Clock, KeyRing, MethodId, OsRandom, Policy, PushRequestId, SystemClock, random, secret,
};
use tessera_store::SqlStore;
use time::Duration;

/// Devices activated at once while seeding: PostgreSQL commits overlap, SQLite serializes
/// them anyway.
const SEED_CONCURRENCY: usize = 8;

/// Seconds of slack on the server's window: it stores whole seconds and compares with `>`,
/// so a request sent at the edge may still count a second or two later.
const WINDOW_SLACK_SECS: i64 = 2;

/// A hot account with an activated app: both sides of one push round trip.
pub struct PushAccount {
    pub index: u64,
    /// The app method the notifications go to.
    pub method_id: MethodId,
    /// The person's full session (bearer), which asks for the step-up.
    pub token: String,
    /// The device's bearer credential.
    pub credential: String,
    /// The device's key; only the public half went to the server.
    pub key: SigningKey,
    pub slot: Mutex<Slot>,
}

impl PushAccount {
    /// The body of a signed answer to `request`, on the server's clock `signed_at`.
    pub fn answer(
        &self,
        request: PushRequestId,
        decision: Decision,
        number: Option<u8>,
        signed_at: i64,
    ) -> serde_json::Value {
        let message = app::answer_message(request, decision, number, signed_at);
        let signature = self.key.sign(&message);
        serde_json::json!({
            "decision": decision.as_str(),
            "number": number,
            "signed_at": signed_at,
            "signature": data_encoding::BASE64URL_NOPAD.encode(&signature.to_bytes()),
        })
    }
}

/// Who is using an account's device right now, and when it was last sent notifications.
#[derive(Debug, Default)]
pub struct Slot {
    /// A round trip is under way: a device answers one waiter at a time.
    pub busy: bool,
    /// Unix seconds of the notifications sent that may still count on the server.
    pub sent: VecDeque<i64>,
}

impl Slot {
    /// Takes the slot for a notification sent at `now` when it is free and the server would
    /// accept one more (`max` per `window_secs`); false, unchanged otherwise (but for
    /// forgetting sends that no longer count).
    pub fn claim(&mut self, now: i64, max: u32, window_secs: i64) -> bool {
        if self.busy {
            return false;
        }
        while self
            .sent
            .front()
            .is_some_and(|&t| t + window_secs + WINDOW_SLACK_SECS <= now)
        {
            self.sent.pop_front();
        }
        if self.sent.len() >= max as usize {
            return false;
        }
        self.sent.push_back(now);
        self.busy = true;
        true
    }

    pub fn release(&mut self) {
        self.busy = false;
    }
}

/// Gives the first `count` hot accounts (spread evenly over them) an activated app.
pub async fn seed_devices(
    store: &SqlStore,
    keys: &Arc<KeyRing>,
    hot: &[HotAccount],
    count: usize,
) -> Result<Vec<PushAccount>> {
    let count = count.min(hot.len());
    if count == 0 {
        return Ok(Vec::new());
    }
    let stride = (hot.len() / count).max(1);
    let picked: Vec<&HotAccount> = hot.iter().step_by(stride).take(count).collect();
    let mut out = Vec::with_capacity(picked.len());
    for chunk in picked.chunks(SEED_CONCURRENCY) {
        let mut tasks = tokio::task::JoinSet::new();
        for (n, h) in chunk.iter().enumerate() {
            let store = store.clone();
            let keys = keys.clone();
            let (index, account_id, token) = (h.index, h.account_id, h.token.clone());
            tasks.spawn(async move {
                let done = activate_one(&store, &keys, account_id).await;
                (
                    n,
                    done.map(|(method_id, credential, key, sent)| {
                        let slot = Slot {
                            busy: false,
                            sent: VecDeque::from([sent]),
                        };
                        PushAccount {
                            index,
                            method_id,
                            token,
                            credential,
                            key,
                            slot: Mutex::new(slot),
                        }
                    }),
                )
            });
        }
        let mut done: Vec<(usize, PushAccount)> = Vec::with_capacity(chunk.len());
        while let Some(joined) = tasks.join_next().await {
            let (n, account) = joined.context("a seeding task failed")?;
            done.push((n, account?));
        }
        done.sort_by_key(|(n, _)| *n);
        out.extend(done.into_iter().map(|(_, a)| a));
    }
    Ok(out)
}

/// One account's app, through the three transactions the server's registration, activation
/// and approved test notification commit: the method, its credential, the device key, and
/// when the test notification (which counts against the account's budget) was sent.
async fn activate_one(
    store: &SqlStore,
    keys: &KeyRing,
    account_id: tessera_core::AccountId,
) -> Result<(MethodId, String, SigningKey, i64)> {
    let rng = OsRandom;
    let now = SystemClock.now();
    let account = store
        .account(account_id)
        .await
        .map_err(|e| anyhow::anyhow!("reading an account: {e:?}"))?
        .context("a hot account is missing")?;
    let ctx = KindContext {
        rng: &rng,
        keys,
        now,
        issuer: "Tessera bench",
        relying_party: None,
    };
    let (method, enrollment) = app::register_begin(
        None,
        &account,
        MethodId::new(&rng),
        &ctx,
        Duration::seconds(app::ACTIVATION_SECS),
    )
    .map_err(|e| anyhow::anyhow!("registering an app: {e}"))?;
    let (code, code_expires_at) = match enrollment {
        Enrollment::AppActivation { code, expires_at } => (code, expires_at),
        #[allow(unreachable_patterns)]
        _ => bail!("an app registration without an activation code"),
    };
    let request_ctx = RequestContext {
        ip: None,
        user_agent: Some("tessera-bench seed".into()),
        language: None,
    };
    let audit = |action| AuditEvent::new(&rng, now, &request_ctx, Some(account.id), action);
    let device = app::awaiting_device(&method, &code, code_expires_at, keys, &rng);
    store
        .insert_app_method(
            &method,
            &device,
            &audit(AuditAction::MethodAdded).method(method.id),
        )
        .await
        .map_err(|e| anyhow::anyhow!("adding an app method: {e:?}"))?;

    let key = SigningKey::from_bytes(&random::bytes::<32>(&rng));
    let credential = secret::new_token(&rng);
    let name = "Bench device".to_string();
    let activation = DeviceActivation {
        method_id: method.id,
        name: name.clone(),
        algorithm: KeyAlgorithm::Ed25519,
        public_key: key.verifying_key().to_bytes().to_vec(),
        credential_hash: secret::token_hash(&credential),
        wakeup_url: None,
        at: now,
        method_expires_at: now + Duration::seconds(Policy::default().flow_secs as i64),
        method_name: Some(name),
    };
    let purpose = Purpose::Register(method.id);
    let test = PushRequest {
        id: PushRequestId::new(&rng),
        method_id: method.id,
        account_id: account.id,
        purpose: purpose.as_str().to_string(),
        binding: purpose.binding(),
        number: (random::below(&rng, 90) + 10) as u8,
        status: PushStatus::Pending,
        app: "Tessera bench".into(),
        ip: None,
        user_agent: request_ctx.user_agent.clone(),
        created_at: now,
        expires_at: now + Duration::seconds(app::REQUEST_SECS),
        answered_at: None,
    };
    let sent = [
        audit(AuditAction::DeviceActivated).method(method.id),
        audit(AuditAction::PushSent).method(method.id),
    ];
    if !store
        .activate_device(&activation, &test, &sent)
        .await
        .map_err(|e| anyhow::anyhow!("activating a device: {e:?}"))?
    {
        bail!("a fresh activation was refused");
    }
    let approved = PushAnswer {
        request: test.id,
        status: PushStatus::Approved,
        at: now,
        effects: vec![
            Effect::Activate(Activation {
                method: method.id,
                step: None,
                now,
                // The seeded code method stays the default.
                make_default: false,
                by: None,
            }),
            Effect::MethodUsed {
                method: method.id,
                at: now,
            },
        ],
    };
    let audit = [
        audit(AuditAction::PushApproved).method(method.id),
        audit(AuditAction::MethodVerified).method(method.id),
    ];
    if !store
        .answer_push_request(&approved, &audit)
        .await
        .map_err(|e| anyhow::anyhow!("approving a test notification: {e:?}"))?
    {
        bail!("a fresh test notification could not be approved");
    }
    Ok((method.id, credential.to_string(), key, now.unix_timestamp()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_keeps_to_the_servers_window_and_one_user() {
        let mut slot = Slot {
            busy: false,
            sent: VecDeque::from([1_000]),
        };
        for t in 1_001..1_005 {
            assert!(slot.claim(t, 5, 300));
            assert!(!slot.claim(t, 5, 300), "busy until released");
            slot.release();
        }
        assert!(!slot.claim(1_100, 5, 300), "five in the window");
        // The server still counts the first at 1_300 (created_at > now − 300 is false only
        // from 1_300, and a second boundary may shift it): free from 1_302.
        assert!(!slot.claim(1_301, 5, 300));
        assert!(slot.claim(1_302, 5, 300));
        assert_eq!(slot.sent.len(), 5);
        slot.release();
        assert!(!slot.claim(1_302, 5, 300));
    }

    #[test]
    fn a_signed_answer_verifies_with_the_devices_key() {
        let key = SigningKey::from_bytes(&random::bytes::<32>(&OsRandom));
        let account = PushAccount {
            index: 0,
            method_id: MethodId::new(&OsRandom),
            token: String::new(),
            credential: String::new(),
            key,
            slot: Mutex::new(Slot::default()),
        };
        let id = PushRequestId::new(&OsRandom);
        let body = account.answer(id, Decision::Deny, None, 1_700_000_000);
        let signature = data_encoding::BASE64URL_NOPAD
            .decode(body["signature"].as_str().unwrap().as_bytes())
            .unwrap();
        let public = account.key.verifying_key().to_bytes();
        let message = app::answer_message(id, Decision::Deny, None, 1_700_000_000);
        assert!(app::verify_signature(
            KeyAlgorithm::Ed25519,
            &public,
            &message,
            &signature
        ));
        assert_eq!(body["decision"], "deny");
        assert!(body["number"].is_null());
    }
}
