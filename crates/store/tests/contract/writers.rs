use tessera_core::audit::AuditAction;
use tessera_core::flow::FlowState;
use tessera_core::method::MethodStatus;
use tessera_core::policy::Policy;
use tessera_core::session::SessionKind;
use tessera_core::store::{Acceptance, Accepted};

use crate::harness::{
    Db, at, completing, count, event, flow, method, on_all, seeded, seeded_method, session,
};

/// Many multi-statement write transactions at once: on SQLite they queue for the one write
/// lock (`BEGIN IMMEDIATE` plus the busy timeout) instead of failing with "database is
/// locked"; on PostgreSQL they only wait for the rows they share.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_write_transactions_all_commit() {
    on_all(|db: Db| async move {
        let alice = seeded(db.store.as_ref(), "alice").await;
        let shared = seeded_method(db.store.as_ref(), alice.id, MethodStatus::Active, 0).await;
        let writers: Vec<_> = (0..48)
            .map(|i| {
                let store = db.store.clone();
                tokio::spawn(async move {
                    let audit = || event(Some(alice.id), AuditAction::CodeRejected);
                    let m = method(alice.id, MethodStatus::Pending, i);
                    store.insert_method(&m, &audit()).await?;
                    store
                        .record_failure(shared.id, 1000, at(9000), &audit())
                        .await?;
                    let f = flow(alice.id, FlowState::MfaRequired);
                    store.insert_flow(&f).await?;
                    let s = session(alice.id, SessionKind::Full);
                    store
                        .move_flow(
                            &completing(f.id, FlowState::MfaRequired, &s, None),
                            &audit(),
                        )
                        .await?;
                    store.save_policy(&Policy::default(), &audit()).await?;
                    store
                        .activate_method(m.id, Some(i), at(1), i % 2 == 0, &audit())
                        .await
                })
            })
            .collect();
        for writer in writers {
            let activated = writer.await.expect("task").expect("every write commits");
            assert!(activated);
        }
        assert_eq!(
            count(db.store.as_ref(), alice.id, AuditAction::CodeRejected).await,
            48 * 5
        );
        let methods = db.store.methods_of(alice.id).await.expect("list");
        assert_eq!(methods.len(), 49);
        assert!(methods.iter().all(|m| m.status == MethodStatus::Active));
    })
    .await;
}

/// Acceptances at once, as a burst of verified codes: on SQLite they commit in groups. Each is
/// still decided on its own, as if one after another: of the eight that present the same
/// step of a method exactly one is accepted, and only its audit event is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_acceptances_are_decided_one_by_one() {
    on_all(|db: Db| async move {
        let alice = seeded(db.store.as_ref(), "alice").await;
        let mut methods = Vec::new();
        for _ in 0..8 {
            methods.push(seeded_method(db.store.as_ref(), alice.id, MethodStatus::Active, 0).await);
        }
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let store = db.store.clone();
                let method = methods[i % 8].id;
                tokio::spawn(async move {
                    let audit = [event(Some(alice.id), AuditAction::CodeAccepted).method(method)];
                    let acceptance = Acceptance {
                        method,
                        step: Some(7),
                        now: at(100),
                        gate: Some(10),
                        effects: &[],
                        audit: &audit,
                    };
                    store.accept(&acceptance).await.map(|a| (method, a))
                })
            })
            .collect();
        let mut accepted = std::collections::HashMap::new();
        for task in tasks {
            let (method, outcome) = task.await.expect("task").expect("decided");
            match outcome {
                Accepted::Yes => *accepted.entry(method).or_insert(0) += 1,
                Accepted::Replayed => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(accepted.len(), 8, "{accepted:?}");
        assert!(accepted.values().all(|n| *n == 1), "{accepted:?}");
        assert_eq!(
            count(db.store.as_ref(), alice.id, AuditAction::CodeAccepted).await,
            8
        );
        for m in &methods {
            let stored = db.store.method(m.id).await.expect("get").expect("there");
            assert_eq!(stored.last_step, Some(7));
        }
    })
    .await;
}
