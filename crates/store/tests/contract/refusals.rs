//! `MethodStore::refuse`: a wrong code checked before any attempt was reserved, counted and
//! audited in one commit (on SQLite in the group commit, beside acceptances).

use tessera_core::audit::AuditAction;
use tessera_core::method::MethodStatus;
use tessera_core::store::Refused;

use crate::harness::{Db, at, count, event, on_all, seeded, seeded_method};

#[tokio::test]
async fn refusals_count_lock_at_the_threshold_and_are_shut_while_locked() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let method = seeded_method(store, alice.id, MethodStatus::Active, 0).await;
        let rejected = || event(Some(alice.id), AuditAction::CodeRejected).method(method.id);
        let lock_until = at(1000);

        for i in 1..=3 {
            let refused = store
                .refuse(method.id, at(i), 3, lock_until, &rejected())
                .await
                .expect("refuse");
            let locked_until = (i == 3).then_some(lock_until);
            assert_eq!(refused, Refused::Counted { locked_until }, "wrong code {i}");
        }
        // Locked: nothing is counted, nothing audited.
        let refused = store
            .refuse(method.id, at(999), 3, at(5000), &rejected())
            .await
            .expect("refuse");
        assert_eq!(
            refused,
            Refused::Shut {
                until: Some(lock_until)
            }
        );
        assert_eq!(count(store, alice.id, AuditAction::CodeRejected).await, 3);
        let stored = store.method(method.id).await.expect("get").expect("there");
        assert_eq!(
            (stored.failures, stored.locked_until),
            (3, Some(lock_until))
        );

        // The lock lapsed: the count restarts at this one.
        let refused = store
            .refuse(method.id, lock_until, 3, at(2000), &rejected())
            .await
            .expect("refuse");
        assert_eq!(refused, Refused::Counted { locked_until: None });
        let stored = store.method(method.id).await.expect("get").expect("there");
        assert_eq!((stored.failures, stored.locked_until), (1, None));
        assert_eq!(count(store, alice.id, AuditAction::CodeRejected).await, 4);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_codes_count_exactly_up_to_the_threshold_and_lock_once() {
    on_all(|db: Db| async move {
        let alice = seeded(db.store.as_ref(), "alice").await;
        let method = seeded_method(db.store.as_ref(), alice.id, MethodStatus::Active, 0).await;
        let lock_until = at(1000);
        let guesses: Vec<_> = (0..64)
            .map(|_| {
                let store = db.store.clone();
                let audit = event(Some(alice.id), AuditAction::CodeRejected).method(method.id);
                tokio::spawn(async move {
                    store
                        .refuse(method.id, at(10), 10, lock_until, &audit)
                        .await
                })
            })
            .collect();
        let (mut counted, mut locked, mut shut) = (0, 0, 0);
        for guess in guesses {
            match guess.await.expect("task").expect("refuse") {
                Refused::Counted { locked_until: None } => counted += 1,
                Refused::Counted {
                    locked_until: Some(until),
                } => {
                    assert_eq!(until, lock_until);
                    locked += 1;
                }
                Refused::Shut { until } => {
                    // Shut by the threshold before the lock, or by the lock itself.
                    assert!(until.is_none() || until == Some(lock_until), "{until:?}");
                    shut += 1;
                }
            }
        }
        assert_eq!((counted, locked, shut), (9, 1, 54));
        let store = db.store.as_ref();
        assert_eq!(count(store, alice.id, AuditAction::CodeRejected).await, 10);
        let stored = store.method(method.id).await.expect("get").expect("there");
        assert_eq!(
            (stored.failures, stored.locked_until),
            (10, Some(lock_until))
        );
    })
    .await;
}
