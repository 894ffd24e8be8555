//! Authenticator apps and their push requests: an activation spends its code once, a
//! request is answered once with everything its answer does, the per-account limit holds,
//! and wake-ups reach waiters (on PostgreSQL, across store instances).

use std::sync::Arc;
use std::time::Duration;

use tessera_core::account::AccountStatus;
use tessera_core::audit::AuditAction;
use tessera_core::flow::FlowState;
use tessera_core::flow::effect::{Activation, Effect, FlowMove};
use tessera_core::flow::sign_in::Event;
use tessera_core::method::{Kind, Method, MethodStatus};
use tessera_core::session::SessionKind;
use tessera_core::store::push::PushStore;
use tessera_core::store::push::{
    Device, DeviceActivation, KeyAlgorithm, PushAnswer, PushRefused, PushRequest, PushStatus,
    PushSubscription, Wake, binding_key, device_key,
};
use tessera_core::{AccountId, FlowId, PushRequestId, Store};
use tessera_store::SqlStore;
use uuid::Uuid;

use crate::harness::{Db, at, count, event, flow, method, on_all, on_both, seeded, session};

fn app_method(account: AccountId) -> Method {
    Method {
        kind: Kind::AuthenticatorApp,
        ..method(account, MethodStatus::Pending, 0)
    }
}

fn device(method: &Method, code_hash: &[u8]) -> Device {
    Device {
        method_id: method.id,
        account_id: method.account_id,
        activation_hash: Some(code_hash.to_vec()),
        sealed_activation: Some(vec![9, 9, 9]),
        activation_expires_at: at(600),
        activated_at: None,
        name: None,
        algorithm: None,
        public_key: None,
        credential_hash: None,
        wakeup_url: None,
    }
}

pub fn request(method: &Method, purpose: &str, binding: &str, created: i64) -> PushRequest {
    PushRequest {
        id: PushRequestId(Uuid::new_v4()),
        method_id: method.id,
        account_id: method.account_id,
        purpose: purpose.into(),
        binding: binding.into(),
        number: 42,
        status: PushStatus::Pending,
        app: "Example Org".into(),
        ip: Some("192.0.2.7".into()),
        user_agent: Some("contract-test/1.0".into()),
        created_at: at(created),
        expires_at: at(created + 90),
        answered_at: None,
    }
}

fn activation(method: &Method, credential: &[u8], at_secs: i64) -> DeviceActivation {
    DeviceActivation {
        method_id: method.id,
        name: "Pixel".into(),
        algorithm: KeyAlgorithm::Ed25519,
        public_key: vec![1; 32],
        credential_hash: credential.to_vec(),
        wakeup_url: Some("https://push.example.org/up/1".into()),
        at: at(at_secs),
        method_expires_at: at(at_secs + 600),
        method_name: Some("Pixel".into()),
    }
}

/// An app method, activated, with its test request answered (so it is active).
pub async fn active_app(store: &dyn Store, account: AccountId, credential: &[u8]) -> Method {
    let m = app_method(account);
    store
        .insert_app_method(
            &m,
            &device(&m, &Uuid::new_v4().into_bytes()),
            &event(Some(account), AuditAction::MethodAdded),
        )
        .await
        .unwrap();
    let test = request(&m, "register", &m.id.to_string(), 1);
    assert!(
        store
            .activate_device(&activation(&m, credential, 1), &test, &[])
            .await
            .unwrap()
    );
    let answer = PushAnswer {
        request: test.id,
        status: PushStatus::Approved,
        at: at(2),
        effects: vec![
            Effect::Activate(Activation {
                method: m.id,
                step: None,
                now: at(2),
                make_default: true,
                by: None,
            }),
            Effect::MethodUsed {
                method: m.id,
                at: at(2),
            },
        ],
    };
    assert!(store.answer_push_request(&answer, &[]).await.unwrap());
    store.method(m.id).await.unwrap().unwrap()
}

#[tokio::test]
async fn an_activation_spends_its_code_once_and_sends_the_test_request() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let m = app_method(alice.id);
        let audit = || event(Some(alice.id), AuditAction::MethodAdded).method(m.id);
        store
            .insert_app_method(&m, &device(&m, b"code-hash"), &audit())
            .await
            .unwrap();
        assert_eq!(
            store.method(m.id).await.unwrap().map(|m| m.kind),
            Some(Kind::AuthenticatorApp)
        );
        assert_eq!(count(store, alice.id, AuditAction::MethodAdded).await, 1);
        let found = store
            .device_by_activation(b"code-hash")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.method_id, m.id);
        assert!(!found.is_activated());

        let test = request(&m, "register", &m.id.to_string(), 10);
        let act = activation(&m, b"credential-hash", 10);
        let audits = [event(Some(alice.id), AuditAction::DeviceActivated)];
        assert!(store.activate_device(&act, &test, &audits).await.unwrap());
        assert!(
            !store.activate_device(&act, &test, &audits).await.unwrap(),
            "a code works once"
        );
        assert_eq!(
            store.device_by_activation(b"code-hash").await.unwrap(),
            None
        );
        let active = store
            .device_by_credential(b"credential-hash")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(active.algorithm, Some(KeyAlgorithm::Ed25519));
        assert_eq!(active.public_key, Some(vec![1; 32]));
        assert_eq!(
            active.sealed_activation, None,
            "the code is gone once spent"
        );
        let pending = store.method(m.id).await.unwrap().unwrap();
        assert_eq!(
            (pending.expires_at, pending.name.as_deref()),
            (Some(at(610)), Some("work phone"))
        );
        assert_eq!(
            store.pending_push_requests(m.id, at(11)).await.unwrap(),
            vec![test.clone()]
        );
        assert_eq!(
            count(store, alice.id, AuditAction::DeviceActivated).await,
            1
        );

        // A lapsed code activates nothing.
        let late = app_method(alice.id);
        store
            .insert_app_method(&late, &device(&late, b"late"), &audit())
            .await
            .unwrap();
        let act = activation(&late, b"other-credential", 600);
        assert!(
            !store
                .activate_device(&act, &request(&late, "register", "x", 600), &[])
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .device_by_credential(b"other-credential")
                .await
                .unwrap(),
            None
        );
    })
    .await;
}

#[tokio::test]
async fn a_request_is_answered_once_with_its_effects_or_not_at_all() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let m = active_app(store, alice.id, b"cred").await;
        assert_eq!(m.status, MethodStatus::Active);
        assert_eq!(
            store
                .account(alice.id)
                .await
                .unwrap()
                .unwrap()
                .default_method,
            Some(m.id)
        );

        let waiting = flow(alice.id, FlowState::MfaRequired);
        store.insert_flow(&waiting).await.unwrap();
        let r = request(&m, "sign_in", &waiting.id.to_string(), 100);
        let audit = || event(Some(alice.id), AuditAction::PushSent);
        assert_eq!(
            store
                .insert_push_request(&r, 5, at(0), &audit())
                .await
                .unwrap(),
            Ok(())
        );
        let approve = PushAnswer {
            request: r.id,
            status: PushStatus::Approved,
            at: at(120),
            effects: vec![
                Effect::MethodUsed {
                    method: m.id,
                    at: at(120),
                },
                Effect::MoveFlow(
                    FlowMove::new(waiting.id, FlowState::MfaRequired, Event::ApprovedOutOfBand)
                        .unwrap()
                        .if_current_at(at(120)),
                ),
            ],
        };
        let approved = || [event(Some(alice.id), AuditAction::PushApproved)];
        assert!(
            store
                .answer_push_request(&approve, &approved())
                .await
                .unwrap()
        );
        assert!(
            !store
                .answer_push_request(&approve, &approved())
                .await
                .unwrap(),
            "answered once"
        );
        assert_eq!(
            store.flow(waiting.id).await.unwrap().unwrap().state,
            FlowState::Approved
        );
        let stored = store.push_request(r.id).await.unwrap().unwrap();
        assert_eq!(
            (stored.status, stored.answered_at),
            (PushStatus::Approved, Some(at(120)))
        );
        assert_eq!(
            store.method(m.id).await.unwrap().unwrap().last_used_at,
            Some(at(120))
        );
        assert_eq!(count(store, alice.id, AuditAction::PushApproved).await, 1);

        // An effect that cannot apply (the flow ended) takes the answer back with it.
        let r2 = request(&m, "sign_in", &waiting.id.to_string(), 130);
        store
            .insert_push_request(&r2, 5, at(0), &audit())
            .await
            .unwrap()
            .unwrap();
        let approve = PushAnswer {
            request: r2.id,
            at: at(131),
            ..approve
        };
        assert!(
            !store
                .answer_push_request(&approve, &approved())
                .await
                .unwrap()
        );
        assert_eq!(
            store.push_request(r2.id).await.unwrap().unwrap().status,
            PushStatus::Pending
        );
        assert_eq!(count(store, alice.id, AuditAction::PushApproved).await, 1);

        // Past its time a request answers nothing.
        let deny = PushAnswer {
            request: r2.id,
            status: PushStatus::Denied,
            at: at(220),
            effects: Vec::new(),
        };
        assert!(!store.answer_push_request(&deny, &[]).await.unwrap());
        assert!(
            store
                .pending_push_requests(m.id, at(220))
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn requests_per_account_are_limited_and_a_newer_one_replaces_the_older() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let m = active_app(store, alice.id, b"cred").await;
        let binding = FlowId(Uuid::new_v4()).to_string();
        let audit = || event(Some(alice.id), AuditAction::PushSent);
        // The test request at 1 counts too: two more fit under three per 300 s.
        let first = request(&m, "sign_in", &binding, 100);
        let second = request(&m, "sign_in", &binding, 110);
        assert_eq!(
            store
                .insert_push_request(&first, 3, at(0), &audit())
                .await
                .unwrap(),
            Ok(())
        );
        assert_eq!(
            store
                .insert_push_request(&second, 3, at(0), &audit())
                .await
                .unwrap(),
            Ok(())
        );
        let third = request(&m, "sign_in", &binding, 120);
        assert_eq!(
            store
                .insert_push_request(&third, 3, at(120 - 300), &audit())
                .await
                .unwrap(),
            Err(PushRefused::TooMany { until: at(301) })
        );
        assert_eq!(store.push_request(third.id).await.unwrap(), None);
        assert_eq!(
            store.push_request(first.id).await.unwrap().unwrap().status,
            PushStatus::Expired
        );
        assert_eq!(
            store.pending_push_requests(m.id, at(121)).await.unwrap(),
            vec![second.clone()]
        );
        assert_eq!(
            store
                .latest_push_request("sign_in", &binding)
                .await
                .unwrap(),
            Some(second)
        );
        assert_eq!(count(store, alice.id, AuditAction::PushSent).await, 2);
    })
    .await;
}

#[tokio::test]
async fn a_report_can_block_the_account_and_end_its_sessions() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let m = active_app(store, alice.id, b"cred").await;
        let signed_in = session(alice.id, SessionKind::Full);
        store.insert_session(&signed_in).await.unwrap();
        let waiting = flow(alice.id, FlowState::MfaRequired);
        store.insert_flow(&waiting).await.unwrap();
        let r = request(&m, "sign_in", &waiting.id.to_string(), 100);
        store
            .insert_push_request(&r, 5, at(0), &event(None, AuditAction::PushSent))
            .await
            .unwrap()
            .unwrap();
        let report = PushAnswer {
            request: r.id,
            status: PushStatus::Reported,
            at: at(101),
            effects: vec![
                Effect::MoveFlowIfWaiting(
                    FlowMove::new(waiting.id, FlowState::MfaRequired, Event::Denied).unwrap(),
                ),
                Effect::BlockAccount(alice.id),
            ],
        };
        let audits = [event(Some(alice.id), AuditAction::PushReported)];
        assert!(store.answer_push_request(&report, &audits).await.unwrap());
        assert_eq!(
            store.flow(waiting.id).await.unwrap().unwrap().state,
            FlowState::Denied
        );
        assert_eq!(
            store.account(alice.id).await.unwrap().unwrap().status,
            AccountStatus::Disabled
        );
        let ended = store.session_by_token_hash(&signed_in.token_hash).await;
        assert_eq!(ended.unwrap(), None, "its sessions end");
        assert_eq!(count(store, alice.id, AuditAction::PushReported).await, 1);
    })
    .await;
}

#[tokio::test]
async fn a_wakeup_is_claimed_once() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let m = active_app(store, alice.id, b"cred").await;
        let r = request(&m, "sign_in", "b", 100);
        store
            .insert_push_request(&r, 5, at(0), &event(None, AuditAction::PushSent))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            store.claim_wakeup(m.id, at(101)).await.unwrap().as_deref(),
            Some("https://push.example.org/up/1")
        );
        assert_eq!(store.claim_wakeup(m.id, at(101)).await.unwrap(), None);
        store.set_wakeup_url(m.id, None).await.unwrap();
        let r = request(&m, "sign_in", "c", 110);
        store
            .insert_push_request(&r, 5, at(0), &event(None, AuditAction::PushSent))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            store.claim_wakeup(m.id, at(111)).await.unwrap(),
            None,
            "no URL, no wake-up"
        );
    })
    .await;
}

/// The next key a subscription hears, within a minute.
async fn heard(sub: &mut Box<dyn PushSubscription>) -> Wake {
    tokio::time::timeout(Duration::from_secs(60), sub.next())
        .await
        .expect("a wake-up arrives")
}

#[tokio::test]
async fn wakeups_reach_waiters_after_commit_and_other_nodes_on_postgres() {
    on_both(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let m = active_app(store, alice.id, b"cred").await;
        // A second node on the same database (on SQLite, only this process's store hears).
        let other = Arc::new(SqlStore::connect(&db.url).await.unwrap());
        let postgres = other.is_postgres();
        let mut here = store.push_subscribe();
        let mut there = other.push_subscribe();
        let binding = FlowId(Uuid::new_v4()).to_string();
        let r = request(&m, "sign_in", &binding, 100);
        store
            .insert_push_request(&r, 5, at(0), &event(None, AuditAction::PushSent))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(heard(&mut here).await, Wake::Key(device_key(m.id)));
        if postgres {
            assert_eq!(heard(&mut there).await, Wake::Key(device_key(m.id)));
        }
        let deny = PushAnswer {
            request: r.id,
            status: PushStatus::Denied,
            at: at(101),
            effects: Vec::new(),
        };
        store.answer_push_request(&deny, &[]).await.unwrap();
        assert_eq!(heard(&mut here).await, Wake::Key(binding_key(&binding)));
        if postgres {
            assert_eq!(heard(&mut there).await, Wake::Key(binding_key(&binding)));
        }
        other.close().await;
    })
    .await;
}
