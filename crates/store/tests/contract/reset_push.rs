//! A reset gate passed by approving a push: the gate is an effect of the answer, so both
//! commit together, and a reset that completed or lapsed meanwhile takes the answer back.

use tessera_core::audit::AuditAction;
use tessera_core::flow::effect::Effect;
use tessera_core::flow::reset::ResetState;
use tessera_core::store::push::{PushAnswer, PushStatus};
use tessera_core::{MethodId, Store};
use uuid::Uuid;

use crate::harness::{Db, at, count, event, on_all, seeded};
use crate::push::{active_app, request};
use crate::reset::{completion, gate, reset_flow};

/// The app's approval of a request for `flow` at `at_secs`, passing the gate.
fn approval(
    request: &tessera_core::store::push::PushRequest,
    flow: tessera_core::FlowId,
    at_secs: i64,
) -> PushAnswer {
    PushAnswer {
        request: request.id,
        status: PushStatus::Approved,
        at: at(at_secs),
        effects: vec![
            Effect::MethodUsed {
                method: request.method_id,
                at: at(at_secs),
            },
            Effect::PassResetGate(gate(flow, request.method_id, at_secs)),
        ],
    }
}

#[tokio::test]
async fn a_push_approval_passes_its_reset_gate_in_the_same_commit() {
    on_all(|db: Db| async move {
        let store: &dyn Store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let app = active_app(store, alice.id, b"cred").await;
        let flow = reset_flow(Some(alice.id), 1);
        store
            .insert_reset_flow(&flow, &event(Some(alice.id), AuditAction::ResetStarted))
            .await
            .unwrap();
        let r = request(&app, "reset", &flow.id.to_string(), 100);
        store
            .insert_push_request(&r, u32::MAX, at(0), &event(None, AuditAction::PushSent))
            .await
            .unwrap()
            .unwrap();
        let audit = [
            event(Some(alice.id), AuditAction::PushApproved),
            event(Some(alice.id), AuditAction::ResetGatePassed).method(app.id),
        ];
        assert!(
            store
                .answer_push_request(&approval(&r, flow.id, 120), &audit)
                .await
                .unwrap()
        );
        let read = store.reset_flow(flow.id).await.unwrap().unwrap();
        assert_eq!(
            (read.state, read.gates_passed),
            (ResetState::Open, vec![app.id])
        );
        assert_eq!(
            store.push_request(r.id).await.unwrap().unwrap().status,
            PushStatus::Approved
        );
        assert_eq!(
            count(store, alice.id, AuditAction::ResetGatePassed).await,
            1
        );
        assert_eq!(
            store.method(app.id).await.unwrap().unwrap().last_used_at,
            Some(at(120))
        );
    })
    .await;
}

#[tokio::test]
async fn a_reset_completed_or_lapsed_meanwhile_takes_the_approval_back() {
    on_all(|db: Db| async move {
        let store: &dyn Store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let app = active_app(store, alice.id, b"cred").await;
        let used_before = store.method(app.id).await.unwrap().unwrap().last_used_at;
        let started = || event(Some(alice.id), AuditAction::ResetStarted);
        let (waiting, done) = (reset_flow(Some(alice.id), 1), reset_flow(Some(alice.id), 1));
        for f in [&waiting, &done] {
            store.insert_reset_flow(f, &started()).await.unwrap();
        }
        let sent = || event(None, AuditAction::PushSent);
        let r = request(&app, "reset", &waiting.id.to_string(), 100);
        store
            .insert_push_request(&r, u32::MAX, at(0), &sent())
            .await
            .unwrap()
            .unwrap();
        // Another reset of the account completes: the waiting one closes with it.
        let other_gate = MethodId(Uuid::new_v4());
        let passed = event(Some(alice.id), AuditAction::ResetGatePassed);
        assert!(
            store
                .pass_reset_gate(&gate(done.id, other_gate, 110), &passed)
                .await
                .unwrap()
                .is_some()
        );
        let ended = [event(Some(alice.id), AuditAction::PasswordReset)];
        assert!(
            store
                .complete_reset(&completion(done.id, alice.id, "$new", 111), &ended, &[])
                .await
                .unwrap()
        );
        let approved = || [event(Some(alice.id), AuditAction::PushApproved)];
        assert!(
            !store
                .answer_push_request(&approval(&r, waiting.id, 120), &approved())
                .await
                .unwrap(),
            "a closed reset takes no gate, and the answer goes with it"
        );
        let read = store.reset_flow(waiting.id).await.unwrap().unwrap();
        assert_eq!(
            (read.state, read.gates_passed),
            (ResetState::Completed, vec![])
        );
        assert_eq!(
            store.push_request(r.id).await.unwrap().unwrap().status,
            PushStatus::Pending
        );
        assert_eq!(
            store.method(app.id).await.unwrap().unwrap().last_used_at,
            used_before,
            "the method's use is taken back too"
        );
        assert_eq!(count(store, alice.id, AuditAction::PushApproved).await, 0);

        // A reset past its time: the same.
        let lapsing = reset_flow(Some(alice.id), 1);
        store.insert_reset_flow(&lapsing, &started()).await.unwrap();
        let late = request(&app, "reset", &lapsing.id.to_string(), 550);
        store
            .insert_push_request(&late, u32::MAX, at(0), &sent())
            .await
            .unwrap()
            .unwrap();
        assert!(
            !store
                .answer_push_request(&approval(&late, lapsing.id, 601), &approved())
                .await
                .unwrap()
        );
        assert!(
            store
                .reset_flow(lapsing.id)
                .await
                .unwrap()
                .unwrap()
                .gates_passed
                .is_empty()
        );
        // Still pending: a denial, which passes no gate, is taken.
        let deny = PushAnswer {
            request: late.id,
            status: PushStatus::Denied,
            at: at(602),
            effects: Vec::new(),
        };
        assert!(store.answer_push_request(&deny, &[]).await.unwrap());
    })
    .await;
}
