use tessera_core::audit::AuditAction;
use tessera_core::flow::FlowState;
use tessera_core::flow::effect::{Effect, FlowMove};
use tessera_core::flow::sign_in::Event;
use tessera_core::lockout::AttemptGate;
use tessera_core::method::{Kind, MethodStatus};
use tessera_core::session::{Session, SessionKind};
use tessera_core::store::{Acceptance, Accepted};
use tessera_core::{FlowId, StoreError};
use uuid::Uuid;

use crate::harness::{
    Db, at, completing, count, event, flow, on_all, seeded, seeded_method, session,
};

#[tokio::test]
async fn a_flow_completes_once() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let f = flow(alice.id, FlowState::MfaRequired);
        store.insert_flow(&f).await.expect("insert flow");
        assert_eq!(store.flow(f.id).await.expect("get"), Some(f.clone()));
        assert_eq!(store.flow(FlowId(Uuid::new_v4())).await.expect("get"), None);
        let signed_in = || event(Some(alice.id), AuditAction::SignInSucceeded);

        let wrong_state = session(alice.id, SessionKind::Full);
        assert!(
            !store
                .move_flow(
                    &completing(f.id, FlowState::Registration, &wrong_state, None),
                    &signed_in()
                )
                .await
                .expect("complete")
        );

        let first = session(alice.id, SessionKind::Full);
        assert!(
            store
                .move_flow(
                    &completing(f.id, FlowState::MfaRequired, &first, None),
                    &signed_in()
                )
                .await
                .expect("complete")
        );
        let again = session(alice.id, SessionKind::Full);
        assert!(
            !store
                .move_flow(
                    &completing(f.id, FlowState::MfaRequired, &again, None),
                    &signed_in()
                )
                .await
                .expect("complete again")
        );

        let stored = store.flow(f.id).await.expect("get").expect("there");
        assert_eq!(stored.state, FlowState::Completed);
        let by_hash = |hash: Vec<u8>| async move {
            store.session_by_token_hash(&hash).await.expect("by hash")
        };
        assert_eq!(by_hash(first.token_hash.clone()).await, Some(first.clone()));
        assert_eq!(by_hash(again.token_hash.clone()).await, None);
        assert_eq!(by_hash(wrong_state.token_hash.clone()).await, None);
        assert_eq!(
            count(store, alice.id, AuditAction::SignInSucceeded).await,
            1
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_completions_let_one_win() {
    on_all(|db: Db| async move {
        let alice = seeded(db.store.as_ref(), "alice").await;
        let f = flow(alice.id, FlowState::MfaRequired);
        db.store.insert_flow(&f).await.expect("insert flow");
        let racers: Vec<_> = (0..2)
            .map(|_| {
                let store = db.store.clone();
                let s = session(alice.id, SessionKind::Full);
                let audit = event(Some(alice.id), AuditAction::SignInSucceeded);
                tokio::spawn(async move {
                    let won = store
                        .move_flow(&completing(f.id, FlowState::MfaRequired, &s, None), &audit)
                        .await
                        .expect("complete");
                    (won, s)
                })
            })
            .collect();
        let mut winners = 0;
        for racer in racers {
            let (won, s) = racer.await.expect("task");
            let stored = db
                .store
                .session_by_token_hash(&s.token_hash)
                .await
                .expect("get");
            assert_eq!(
                stored.is_some(),
                won,
                "a session exists only for the winner"
            );
            winners += usize::from(won);
        }
        assert_eq!(winners, 1);
        assert_eq!(
            count(db.store.as_ref(), alice.id, AuditAction::SignInSucceeded).await,
            1
        );
    })
    .await;
}

#[tokio::test]
async fn completing_a_registration_replaces_its_session() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let f = flow(alice.id, FlowState::Registration);
        store.insert_flow(&f).await.expect("insert flow");
        let mut registration = session(alice.id, SessionKind::Registration);
        registration.flow_id = Some(f.id);
        store
            .insert_session(&registration)
            .await
            .expect("insert session");
        assert_eq!(
            store
                .session_by_token_hash(&registration.token_hash)
                .await
                .expect("get"),
            Some(registration.clone())
        );

        let full = session(alice.id, SessionKind::Full);
        let audit = event(Some(alice.id), AuditAction::RegistrationCompleted);
        assert!(
            store
                .move_flow(
                    &completing(f.id, FlowState::Registration, &full, Some(registration.id)),
                    &audit
                )
                .await
                .expect("complete")
        );
        assert_eq!(
            store
                .session_by_token_hash(&registration.token_hash)
                .await
                .expect("get"),
            None
        );
        assert!(
            store
                .session_by_token_hash(&full.token_hash)
                .await
                .expect("get")
                .is_some()
        );
    })
    .await;
}

#[tokio::test]
async fn sessions_are_found_touched_marked_and_ended() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let bob = seeded(store, "bob").await;
        let s = session(alice.id, SessionKind::Full);
        store.insert_session(&s).await.expect("insert");
        let get = |hash: Vec<u8>| async move {
            store.session_by_token_hash(&hash).await.expect("by hash")
        };
        assert_eq!(get(s.token_hash.clone()).await, Some(s.clone()));
        assert_eq!(get(vec![0; 16]).await, None);

        let mut same_hash = session(bob.id, SessionKind::Full);
        same_hash.token_hash = s.token_hash.clone();
        let refused = store.insert_session(&same_hash).await;
        assert!(
            matches!(refused, Err(StoreError::Conflict("token_hash"))),
            "{refused:?}"
        );

        store.touch_session(s.id, at(60)).await.expect("touch");
        store
            .touch_session(s.id, at(30))
            .await
            .expect("touch, late");
        store.mark_second_factor(s.id, at(45)).await.expect("mark");
        let stored = get(s.token_hash.clone()).await.expect("there");
        assert_eq!(
            stored.last_seen_at,
            at(60),
            "an older touch does not go back"
        );
        assert_eq!(stored.second_factor_at, Some(at(45)));

        store.delete_session(s.id, None).await.expect("delete");
        assert_eq!(get(s.token_hash.clone()).await, None);
        let out = event(Some(alice.id), AuditAction::SignedOut);
        store
            .delete_session(s.id, Some(&out))
            .await
            .expect("delete again");
        assert_eq!(count(store, alice.id, AuditAction::SignedOut).await, 1);

        let mine = [
            session(alice.id, SessionKind::Full),
            session(alice.id, SessionKind::Registration),
        ];
        let bobs = session(bob.id, SessionKind::Full);
        for s in mine.iter().chain([&bobs]) {
            store.insert_session(s).await.expect("insert");
        }
        let ended = event(Some(alice.id), AuditAction::SessionsEnded);
        assert_eq!(
            store
                .delete_sessions_of(alice.id, &ended)
                .await
                .expect("end"),
            2
        );
        for s in &mine {
            assert_eq!(get(s.token_hash.clone()).await, None);
        }
        assert!(get(bobs.token_hash.clone()).await.is_some());
        assert_eq!(count(store, alice.id, AuditAction::SessionsEnded).await, 1);
    })
    .await;
}

/// A sign-in verify is one commit: the accepted step, the flow's move and its new session.
/// When the flow is no longer waiting (another request finished it), the acceptance changes
/// nothing at all: the step stays unused, the failure reserved for it stays counted, no
/// session, no event. When the flow waits, all of it commits.
#[tokio::test]
async fn a_verify_completes_its_flow_in_the_commit_that_accepts_the_step() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let m = seeded_method(store, alice.id, MethodStatus::Active, 0).await;
        let signed_in = || event(Some(alice.id), AuditAction::SignInSucceeded);
        let audit = [
            event(Some(alice.id), AuditAction::CodeAccepted).method(m.id),
            signed_in(),
        ];
        let verify = |f: FlowId, s: &Session| {
            let effects = [Effect::MoveFlow(completing(
                f,
                FlowState::MfaRequired,
                s,
                None,
            ))];
            let audit = audit.clone();
            async move {
                let acceptance = Acceptance {
                    method: m.id,
                    step: Some(7),
                    now: at(100),
                    gate: None,
                    effects: &effects,
                    audit: &audit,
                };
                store.accept(&acceptance).await.expect("accept")
            }
        };

        let done = flow(alice.id, FlowState::MfaRequired);
        store.insert_flow(&done).await.expect("flow");
        let first = session(alice.id, SessionKind::Full);
        let finish = completing(done.id, FlowState::MfaRequired, &first, None);
        assert!(store.move_flow(&finish, &signed_in()).await.expect("done"));
        let gate = store.begin_attempt(m.id, at(100), 5).await.expect("gate");
        assert_eq!(gate, AttemptGate::Open);
        let late = session(alice.id, SessionKind::Full);
        assert_eq!(verify(done.id, &late).await, Accepted::Stale);
        let unchanged = store.method(m.id).await.expect("get").expect("there");
        assert_eq!(
            (
                unchanged.last_step,
                unchanged.failures,
                unchanged.last_used_at
            ),
            (None, 1, None),
            "the step is not burned"
        );
        let by_hash = |s: &Session| {
            let hash = s.token_hash.clone();
            async move { store.session_by_token_hash(&hash).await }
        };
        assert_eq!(by_hash(&late).await.expect("read"), None);
        assert_eq!(count(store, alice.id, AuditAction::CodeAccepted).await, 0);
        assert_eq!(
            count(store, alice.id, AuditAction::SignInSucceeded).await,
            1
        );

        let waiting = flow(alice.id, FlowState::MfaRequired);
        store.insert_flow(&waiting).await.expect("flow");
        let new = session(alice.id, SessionKind::Full);
        assert_eq!(verify(waiting.id, &new).await, Accepted::Yes);
        let used = store.method(m.id).await.expect("get").expect("there");
        assert_eq!((used.last_step, used.failures), (Some(7), 0));
        assert_eq!(
            store.flow(waiting.id).await.expect("get").map(|f| f.state),
            Some(FlowState::Completed)
        );
        assert!(by_hash(&new).await.expect("read").is_some());
        assert_eq!(count(store, alice.id, AuditAction::CodeAccepted).await, 1);
        assert_eq!(
            count(store, alice.id, AuditAction::SignInSucceeded).await,
            2
        );
    })
    .await;
}

#[tokio::test]
async fn the_kind_of_second_factor_round_trips() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let mut s = session(alice.id, SessionKind::Full);
        s.second_factor_at = Some(at(10));
        s.second_factor_kind = Some(Kind::SecurityKey);
        store.insert_session(&s).await.expect("insert");
        let stored = store
            .session_by_token_hash(&s.token_hash)
            .await
            .expect("by hash");
        assert_eq!(stored, Some(s.clone()));

        // A push approval records its kind on the flow, for the session made at hand-over.
        let f = flow(alice.id, FlowState::MfaRequired);
        store.insert_flow(&f).await.expect("insert flow");
        assert_eq!(
            store
                .flow(f.id)
                .await
                .expect("get")
                .expect("there")
                .approved_kind,
            None
        );
        let approved = FlowMove::new(f.id, FlowState::MfaRequired, Event::ApprovedOutOfBand)
            .expect("a waiting flow is approved")
            .approved_by(Kind::AuthenticatorApp);
        let audit = event(Some(alice.id), AuditAction::PushApproved);
        assert!(store.move_flow(&approved, &audit).await.expect("approve"));
        let stored = store.flow(f.id).await.expect("get").expect("there");
        assert_eq!(stored.state, FlowState::Approved);
        assert_eq!(stored.approved_kind, Some(Kind::AuthenticatorApp));
    })
    .await;
}
