//! Answers committed together (on SQLite, one batch of the group commit): an answer whose
//! effect went stale changes nothing, and the answers beside it keep everything they wrote.

use std::sync::Arc;

use tessera_core::audit::AuditAction;
use tessera_core::flow::FlowState;
use tessera_core::flow::effect::Effect;
use tessera_core::method::MethodStatus;
use tessera_core::session::SessionKind;
use tessera_core::store::{Acceptance, Accepted};
use tokio::sync::Barrier;

use crate::harness::{
    Db, at, completing, count, event, flow, on_all, seeded, seeded_method, session,
};

const PEOPLE: usize = 24;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stale_answer_in_a_batch_changes_nothing_and_the_others_keep_theirs() {
    on_all(|db: Db| async move {
        let barrier = Arc::new(Barrier::new(PEOPLE));
        let mut answers = Vec::new();
        for i in 0..PEOPLE {
            let store = Arc::clone(&db.store);
            let person = seeded(store.as_ref(), &format!("person{i}")).await;
            let method = seeded_method(store.as_ref(), person.id, MethodStatus::Active, 0).await;
            let waiting = flow(person.id, FlowState::MfaRequired);
            store.insert_flow(&waiting).await.expect("flow");
            // Every third flow was finished by another request before this answer commits.
            let stale = i % 3 == 1;
            if stale {
                let first = session(person.id, SessionKind::Full);
                let done = completing(waiting.id, FlowState::MfaRequired, &first, None);
                let signed_in = event(Some(person.id), AuditAction::SignInSucceeded);
                assert!(store.move_flow(&done, &signed_in).await.expect("finish"));
            }
            let new = session(person.id, SessionKind::Full);
            let effects = [Effect::MoveFlow(completing(
                waiting.id,
                FlowState::MfaRequired,
                &new,
                None,
            ))];
            let audit = [
                event(Some(person.id), AuditAction::CodeAccepted).method(method.id),
                event(Some(person.id), AuditAction::SignInSucceeded),
            ];
            let barrier = Arc::clone(&barrier);
            answers.push(tokio::spawn(async move {
                barrier.wait().await;
                let acceptance = Acceptance {
                    method: method.id,
                    step: Some(7),
                    now: at(100),
                    gate: None,
                    effects: &effects,
                    audit: &audit,
                };
                let accepted = store.accept(&acceptance).await.expect("accept");
                (stale, person.id, method.id, waiting.id, new, accepted)
            }));
        }

        let store = db.store.as_ref();
        for answer in answers {
            let (stale, person, method, waiting, new, accepted) = answer.await.expect("task");
            let stored = store.method(method).await.expect("get").expect("there");
            let session = store
                .session_by_token_hash(&new.token_hash)
                .await
                .expect("read");
            let flow = store.flow(waiting).await.expect("get").expect("there");
            let accepted_events = count(store, person, AuditAction::CodeAccepted).await;
            let sign_ins = count(store, person, AuditAction::SignInSucceeded).await;
            if stale {
                assert_eq!(accepted, Accepted::Stale);
                assert_eq!(stored.last_step, None, "the step is not burned");
                assert_eq!(session, None, "no session");
                assert_eq!(accepted_events, 0, "no event");
                assert_eq!(sign_ins, 1, "only the request that finished the flow");
            } else {
                assert_eq!(accepted, Accepted::Yes);
                assert_eq!(stored.last_step, Some(7));
                assert!(session.is_some(), "the new session is there");
                assert_eq!(accepted_events, 1);
                assert_eq!(sign_ins, 1);
            }
            assert_eq!(flow.state, FlowState::Completed);
        }
    })
    .await;
}
