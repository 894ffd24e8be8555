use serde_json::json;
use tessera_core::audit::AuditAction;
use tessera_core::flow::FlowState;
use tessera_core::method::{Kind, MethodStatus};
use tessera_core::policy::Policy;
use tessera_core::session::SessionKind;
use tessera_core::{AuditId, MethodId};
use uuid::Uuid;

use crate::harness::{Db, at, count, event, flow, on_all, seeded, seeded_method, session};

#[tokio::test]
async fn audit_reads_newest_first_then_latest_written() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let bob = seeded(store, "bob").await;
        let mut written: Vec<AuditId> = Vec::new();
        for (secs, account) in [
            (10, alice.id),
            (30, alice.id),
            (20, alice.id),
            (30, alice.id),
            (40, bob.id),
        ] {
            let mut e = event(Some(account), AuditAction::CodeRejected);
            e.at = at(secs);
            store.append_audit(&e).await.expect("append");
            written.push(e.id);
        }
        // An attempt on an unknown username belongs to no account's list.
        store
            .append_audit(&event(None, AuditAction::SignInPasswordFailed))
            .await
            .expect("append");

        let ids = |limit| async move {
            store
                .audit_of(alice.id, limit)
                .await
                .expect("audit_of")
                .into_iter()
                .filter(|e| e.action == AuditAction::CodeRejected)
                .map(|e| e.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ids(100).await,
            [written[3], written[1], written[2], written[0]]
        );
        assert_eq!(ids(2).await, [written[3], written[1]]);

        let bobs = store.audit_of(bob.id, 100).await.expect("audit_of");
        assert_eq!(bobs.first().map(|e| e.id), Some(written[4]));
        assert_eq!(bobs.len(), 2, "bob's own event and his account's creation");

        // Every field reads back as written.
        let mut e = event(Some(alice.id), AuditAction::SignInPasswordFailed)
            .method(MethodId(Uuid::new_v4()))
            .detail(json!({ "username": "alice", "tries": [1, 2], "ok": false }));
        e.at = at(50);
        e.ip = None;
        e.user_agent = None;
        store.append_audit(&e).await.expect("append");
        let read = store.audit_of(alice.id, 1).await.expect("audit_of");
        assert_eq!(read, [e]);
    })
    .await;
}

#[tokio::test]
async fn the_policy_round_trips_with_its_audit() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let admin = seeded(store, "admin").await;
        assert_eq!(store.policy().await.expect("policy"), None);

        let mut policy = Policy {
            registration_required: false,
            lockout_threshold: 5,
            mfa_kinds: vec![Kind::AuthenticatorCode, Kind::SecurityKey],
            ..Policy::default()
        };
        let changed = || event(Some(admin.id), AuditAction::PolicyChanged);
        store.save_policy(&policy, &changed()).await.expect("save");
        assert_eq!(store.policy().await.expect("policy"), Some(policy.clone()));

        policy.lockout_threshold = 7;
        store
            .save_policy(&policy, &changed())
            .await
            .expect("save again");
        assert_eq!(store.policy().await.expect("policy"), Some(policy));
        assert_eq!(count(store, admin.id, AuditAction::PolicyChanged).await, 2);
    })
    .await;
}

#[tokio::test]
async fn purge_removes_what_expired() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let now = at(1000);

        let mut old_flow = flow(alice.id, FlowState::MfaRequired);
        old_flow.expires_at = now;
        let mut live_flow = flow(alice.id, FlowState::Completed);
        live_flow.expires_at = at(1001);
        for f in [&old_flow, &live_flow] {
            store.insert_flow(f).await.expect("insert flow");
        }

        let mut old_session = session(alice.id, SessionKind::Full);
        old_session.expires_at = at(999);
        let mut live_session = session(alice.id, SessionKind::Full);
        live_session.expires_at = at(2000);
        for s in [&old_session, &live_session] {
            store.insert_session(s).await.expect("insert session");
        }

        // Pending methods expire 600 s after they were made.
        let lapsed = seeded_method(store, alice.id, MethodStatus::Pending, 400).await;
        let pending = seeded_method(store, alice.id, MethodStatus::Pending, 401).await;
        let active = seeded_method(store, alice.id, MethodStatus::Active, 0).await;

        assert_eq!(store.purge_expired(now).await.expect("purge"), 3);
        assert_eq!(store.flow(old_flow.id).await.expect("get"), None);
        assert!(store.flow(live_flow.id).await.expect("get").is_some());
        let by_hash = |hash: Vec<u8>| async move {
            store.session_by_token_hash(&hash).await.expect("by hash")
        };
        assert_eq!(by_hash(old_session.token_hash.clone()).await, None);
        assert!(by_hash(live_session.token_hash.clone()).await.is_some());
        assert_eq!(store.method(lapsed.id).await.expect("get"), None);
        assert!(store.method(pending.id).await.expect("get").is_some());
        assert!(store.method(active.id).await.expect("get").is_some());
        assert_eq!(store.purge_expired(now).await.expect("purge again"), 0);
    })
    .await;
}
