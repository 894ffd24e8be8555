use std::sync::Arc;

use tessera_core::audit::AuditAction;
use tessera_core::flow::effect::Effect;
use tessera_core::lockout::AttemptGate;
use tessera_core::method::Kind;
use tessera_core::method::MethodStatus;
use tessera_core::session::SessionKind;
use tessera_core::store::Store;
use tessera_core::store::{Acceptance, Accepted};
use tessera_core::{AccountId, MethodId, SessionId};
use uuid::Uuid;

use crate::harness::{
    Db, accept_ungated, at, count, event, on_all, seeded, seeded_method, session,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_attempts_let_exactly_the_threshold_through() {
    on_all(|db: Db| async move {
        let alice = seeded(db.store.as_ref(), "alice").await;
        let method = seeded_method(db.store.as_ref(), alice.id, MethodStatus::Active, 0).await;
        let attempts: Vec<_> = (0..64)
            .map(|_| {
                let store = db.store.clone();
                tokio::spawn(async move { store.begin_attempt(method.id, at(10), 10).await })
            })
            .collect();
        let mut open = 0;
        for attempt in attempts {
            match attempt.await.expect("task").expect("begin_attempt") {
                AttemptGate::Open => open += 1,
                AttemptGate::Locked { until } => assert_eq!(until, None),
            }
        }
        assert_eq!(open, 10);
        let stored = db
            .store
            .method(method.id)
            .await
            .expect("get")
            .expect("there");
        assert_eq!(stored.failures, 10);
    })
    .await;
}

#[tokio::test]
async fn the_failure_that_reaches_the_threshold_locks_and_the_lock_lapses() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let method = seeded_method(store, alice.id, MethodStatus::Active, 0).await;
        let rejected = || event(Some(alice.id), AuditAction::CodeRejected).method(method.id);
        let lock_until = at(1000);

        for i in 1..=3 {
            let gate = store
                .begin_attempt(method.id, at(i), 3)
                .await
                .expect("attempt");
            assert_eq!(gate, AttemptGate::Open, "attempt {i}");
            let locked = store
                .record_failure(method.id, 3, lock_until, &rejected())
                .await
                .expect("failure");
            assert_eq!(locked, (i == 3).then_some(lock_until), "failure {i}");
        }
        // A later failure (one that was already in flight) keeps the lock's end.
        let locked = store
            .record_failure(method.id, 3, at(5000), &rejected())
            .await
            .expect("failure");
        assert_eq!(locked, Some(lock_until));
        assert_eq!(count(store, alice.id, AuditAction::CodeRejected).await, 4);

        let gate = store
            .begin_attempt(method.id, at(999), 3)
            .await
            .expect("attempt");
        assert_eq!(
            gate,
            AttemptGate::Locked {
                until: Some(lock_until)
            }
        );

        // The lock lapsed: the count restarts at this attempt.
        let gate = store
            .begin_attempt(method.id, lock_until, 3)
            .await
            .expect("attempt");
        assert_eq!(gate, AttemptGate::Open);
        let stored = store.method(method.id).await.expect("get").expect("there");
        assert_eq!((stored.failures, stored.locked_until), (1, None));
        assert_eq!(
            store
                .record_failure(method.id, 3, at(2000), &rejected())
                .await
                .expect("failure"),
            None
        );
    })
    .await;
}

#[tokio::test]
async fn at_the_threshold_without_a_lock_attempts_are_refused() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let method = seeded_method(store, alice.id, MethodStatus::Active, 0).await;
        for _ in 0..2 {
            assert_eq!(
                store
                    .begin_attempt(method.id, at(1), 2)
                    .await
                    .expect("attempt"),
                AttemptGate::Open
            );
        }
        // Both still in flight: no lock yet, and no third attempt.
        assert_eq!(
            store
                .begin_attempt(method.id, at(1), 2)
                .await
                .expect("attempt"),
            AttemptGate::Locked { until: None }
        );
        // A method deleted meanwhile is refused too.
        assert_eq!(
            store
                .begin_attempt(MethodId(Uuid::new_v4()), at(1), 2)
                .await
                .expect("attempt"),
            AttemptGate::Locked { until: None }
        );
    })
    .await;
}

#[tokio::test]
async fn success_clears_the_count_and_refuses_a_replayed_step() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let method = seeded_method(store, alice.id, MethodStatus::Active, 0).await;
        let accepted = || event(Some(alice.id), AuditAction::CodeAccepted).method(method.id);
        store
            .begin_attempt(method.id, at(1), 10)
            .await
            .expect("attempt");
        store
            .begin_attempt(method.id, at(1), 10)
            .await
            .expect("attempt");

        assert!(accept_ungated(store, method.id, Some(100), at(2), &accepted()).await);
        let stored = store.method(method.id).await.expect("get").expect("there");
        assert_eq!(stored.failures, 0);
        assert_eq!(stored.locked_until, None);
        assert_eq!(stored.last_step, Some(100));
        assert_eq!(stored.last_used_at, Some(at(2)));

        store
            .begin_attempt(method.id, at(3), 10)
            .await
            .expect("attempt");
        for replay in [100, 99] {
            assert!(
                !accept_ungated(store, method.id, Some(replay), at(3), &accepted()).await,
                "step {replay}"
            );
        }
        let stored = store.method(method.id).await.expect("get").expect("there");
        assert_eq!(stored.failures, 1, "a refused success changes nothing");
        assert_eq!(stored.last_used_at, Some(at(2)));
        assert_eq!(count(store, alice.id, AuditAction::CodeAccepted).await, 1);

        // Kinds without steps always succeed and keep the last step.
        assert!(accept_ungated(store, method.id, None, at(4), &accepted()).await);
        let stored = store.method(method.id).await.expect("get").expect("there");
        assert_eq!((stored.failures, stored.last_step), (0, Some(100)));
        assert_eq!(count(store, alice.id, AuditAction::CodeAccepted).await, 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_step_is_accepted_once_under_a_race() {
    on_all(|db: Db| async move {
        let alice = seeded(db.store.as_ref(), "alice").await;
        let method = seeded_method(db.store.as_ref(), alice.id, MethodStatus::Active, 0).await;
        let racers: Vec<_> = (0..8)
            .map(|_| {
                let store = db.store.clone();
                let audit = event(Some(alice.id), AuditAction::CodeAccepted);
                tokio::spawn(async move {
                    accept_ungated(store.as_ref(), method.id, Some(7), at(1), &audit).await
                })
            })
            .collect();
        let mut accepted = 0;
        for racer in racers {
            if racer.await.expect("task") {
                accepted += 1;
            }
        }
        assert_eq!(accepted, 1);
        assert_eq!(
            count(db.store.as_ref(), alice.id, AuditAction::CodeAccepted).await,
            1
        );
    })
    .await;
}

/// A TOTP code is checked before any attempt is reserved: its acceptance passes the gate
/// itself, and a step-up marks the session in the same commit.
#[tokio::test]
async fn an_unreserved_acceptance_passes_the_gate_and_marks_the_step_up() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let method = seeded_method(store, alice.id, MethodStatus::Active, 0).await;
        let session = session(alice.id, SessionKind::Full);
        store.insert_session(&session).await.expect("session");
        let accept = |step: i64, now: i64| async move {
            let audit = [
                event(Some(alice.id), AuditAction::CodeAccepted).method(method.id),
                event(Some(alice.id), AuditAction::StepUpSucceeded).method(method.id),
            ];
            let acceptance = Acceptance {
                method: method.id,
                step: Some(step),
                now: at(now),
                gate: Some(3),
                effects: &[Effect::SecondFactor {
                    session: session.id,
                    at: at(now),
                    kind: tessera_core::method::Kind::AuthenticatorCode,
                }],
                audit: &audit,
            };
            store.accept(&acceptance).await.expect("accept")
        };
        let marked = || async {
            store
                .session_by_token_hash(&session.token_hash)
                .await
                .expect("get")
                .expect("there")
                .second_factor_at
        };

        assert_eq!(accept(5, 10).await, Accepted::Yes);
        assert_eq!(marked().await, Some(at(10)));
        assert_eq!(
            count(store, alice.id, AuditAction::StepUpSucceeded).await,
            1
        );
        assert_eq!(accept(5, 11).await, Accepted::Replayed);

        // Three failures reserved and not yet locked: the gate is shut all the same.
        for _ in 0..3 {
            store
                .begin_attempt(method.id, at(12), 3)
                .await
                .expect("attempt");
        }
        assert_eq!(accept(6, 13).await, Accepted::Locked { until: None });
        let lock_until = at(1000);
        let rejected = event(Some(alice.id), AuditAction::CodeRejected).method(method.id);
        store
            .record_failure(method.id, 3, lock_until, &rejected)
            .await
            .expect("failure");
        assert_eq!(
            accept(6, 500).await,
            Accepted::Locked {
                until: Some(lock_until)
            }
        );
        let stored = store.method(method.id).await.expect("get").expect("there");
        assert_eq!((stored.failures, stored.last_step), (3, Some(5)));
        assert_eq!(
            marked().await,
            Some(at(10)),
            "a refused acceptance changes nothing"
        );
        assert_eq!(
            count(store, alice.id, AuditAction::StepUpSucceeded).await,
            1
        );

        // Once the lock lapses, a right code clears it.
        assert_eq!(accept(6, 1000).await, Accepted::Yes);
        let stored = store.method(method.id).await.expect("get").expect("there");
        assert_eq!((stored.failures, stored.locked_until), (0, None));
        assert_eq!(marked().await, Some(at(1000)));
    })
    .await;
}

/// A step-up's acceptance of `step` by `method` for `session`, at 10.
async fn step_up(
    store: Arc<dyn Store>,
    account: AccountId,
    method: MethodId,
    session: SessionId,
    step: i64,
    gate: Option<u32>,
) -> Accepted {
    let audit = [event(Some(account), AuditAction::StepUpSucceeded).method(method)];
    let effects = [Effect::SecondFactor {
        session,
        at: at(10),
        kind: Kind::AuthenticatorCode,
    }];
    let acceptance = Acceptance {
        method,
        step: Some(step),
        now: at(10),
        gate,
        effects: &effects,
        audit: &audit,
    };
    store.accept(&acceptance).await.expect("accept")
}

/// A step-up whose session ended before its code was accepted changes nothing: the step is
/// not burned, no event is written, and a replay is still a replay. 64 parallel step-ups with
/// one code: exactly one marks the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_step_up_for_an_ended_session_is_stale_and_one_code_marks_once() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let method = seeded_method(store, alice.id, MethodStatus::Active, 0).await;
        let accept = |session, step, gate| {
            step_up(db.store.clone(), alice.id, method.id, session, step, gate)
        };

        let ended = session(alice.id, SessionKind::Full);
        store.insert_session(&ended).await.expect("session");
        store.delete_session(ended.id, None).await.expect("end");
        for gate in [None, Some(3)] {
            assert_eq!(accept(ended.id, 5, gate).await, Accepted::Stale);
        }
        let stored = store.method(method.id).await.expect("get").expect("there");
        assert_eq!((stored.last_step, stored.last_used_at), (None, None));
        assert_eq!(
            count(store, alice.id, AuditAction::StepUpSucceeded).await,
            0
        );

        let live = session(alice.id, SessionKind::Full);
        store.insert_session(&live).await.expect("session");
        let answers: Vec<_> = (0..64)
            .map(|_| tokio::spawn(accept(live.id, 5, Some(3))))
            .collect();
        let mut yes = 0;
        for answer in answers {
            match answer.await.expect("task") {
                Accepted::Yes => yes += 1,
                other => assert_eq!(other, Accepted::Replayed),
            }
        }
        assert_eq!(yes, 1);
        assert_eq!(
            count(store, alice.id, AuditAction::StepUpSucceeded).await,
            1
        );
        let marked = store
            .session_by_token_hash(&live.token_hash)
            .await
            .expect("get")
            .expect("there");
        assert_eq!(marked.second_factor_at, Some(at(10)));
        // The used step, once the session has ended too, is a replay, not stale.
        store.delete_session(live.id, None).await.expect("end");
        assert_eq!(accept(live.id, 5, None).await, Accepted::Replayed);
    })
    .await;
}
