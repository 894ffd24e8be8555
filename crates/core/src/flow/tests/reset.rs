//! Self-service password reset with one gate and with two, and the decoy a stranger gets.

use super::{MOBILE, PASSWORD, World};
use crate::error::{Error, NotAllowed, Problem};
use crate::flow::SignInOutcome;
use crate::message::Channel;
use crate::method::{Kind, Response};
use crate::store::push::PushStatus;
use zeroize::Zeroizing;

const NEW_PASSWORD: &str = "a brand new passphrase";

fn code(c: &str) -> Response {
    Response::Code(c.into())
}

async fn new_password(w: &World, flow: crate::ids::FlowId) -> crate::error::Result<()> {
    w.t.reset_password(flow, Zeroizing::new(NEW_PASSWORD.into()), &w.ctx)
        .await
}

/// Only the new password signs in now.
async fn password_changed(w: &World, username: &str) {
    assert!(matches!(
        w.sign_in_with(username, PASSWORD).await,
        Err(Error::InvalidCredentials)
    ));
    assert!(matches!(
        w.sign_in_with(username, NEW_PASSWORD).await,
        Ok(SignInOutcome::MfaRequired { .. })
    ));
}

#[tokio::test]
async fn one_gate_resets_the_password_and_ends_every_session() {
    let w = World::new().await;
    let (totp, token) = w.with_totp("pia@example.org").await;
    let flow = w.mfa("pia@example.org").await;
    let other =
        w.t.sign_in_verify(flow, totp.id, &w.code(&totp), &w.ctx)
            .await
            .unwrap();
    w.next_step();

    let view = w.t.reset_begin("pia@example.org", &w.ctx).await.unwrap();
    assert_eq!(view.gates_required, 1);
    assert_eq!(
        view.methods.iter().map(|m| m.id).collect::<Vec<_>>(),
        [totp.id]
    );
    // Not before a gate is passed.
    assert!(matches!(
        new_password(&w, view.flow).await,
        Err(Error::NotAllowed(NotAllowed::ResetGatesPending))
    ));
    let used = w.code(&totp);
    let progress =
        w.t.reset_respond(view.flow, totp.id, &code(&used), &w.ctx)
            .await
            .unwrap();
    assert_eq!((progress.gates_passed, progress.gates_required), (1, 1));
    new_password(&w, view.flow).await.unwrap();

    for token in [&token, &other.token] {
        assert!(matches!(
            w.t.authenticate(token).await,
            Err(Error::Unauthorized)
        ));
    }
    password_changed(&w, "pia@example.org").await;
    // The reset is over; its code is spent at sign-in too.
    assert!(matches!(
        w.t.reset_view(view.flow).await,
        Err(Error::Expired)
    ));
    let Ok(SignInOutcome::MfaRequired { flow, .. }) =
        w.sign_in_with("pia@example.org", NEW_PASSWORD).await
    else {
        panic!("expected a second factor to be asked");
    };
    assert!(matches!(
        w.t.sign_in_verify(flow, totp.id, &used, &w.ctx).await,
        Err(Error::InvalidCode)
    ));
}

#[tokio::test]
async fn a_wrong_answer_passes_no_gate_and_leaves_the_password() {
    let w = World::new().await;
    let (totp, token) = w.with_totp("pia@example.org").await;
    let view = w.t.reset_begin("pia@example.org", &w.ctx).await.unwrap();
    assert!(matches!(
        w.t.reset_respond(view.flow, totp.id, &code(&w.wrong_code(&totp)), &w.ctx)
            .await,
        Err(Error::InvalidCode)
    ));
    assert!(matches!(
        new_password(&w, view.flow).await,
        Err(Error::NotAllowed(NotAllowed::ResetGatesPending))
    ));
    // A reset's wrong answers are its own: the method's sign-in count is untouched.
    assert_eq!(w.method(totp.id).await.failures, 0);
    w.auth(&token).await;
    assert!(matches!(
        w.sign_in("pia@example.org").await,
        Ok(SignInOutcome::MfaRequired { .. })
    ));
}

#[tokio::test]
async fn two_gates_need_two_different_methods() {
    let w = World::new().await;
    let (totp, token) = w.with_totp("quinn@example.org").await;
    let phone = w
        .add_phone(
            &w.auth(&token).await,
            Kind::PhoneMobile,
            MOBILE,
            Channel::Sms,
        )
        .await;
    w.policy(&[("reset_methods_required", "2")]).await;
    w.next_step();

    let view = w.t.reset_begin("quinn@example.org", &w.ctx).await.unwrap();
    assert_eq!(view.gates_required, 2);
    assert_eq!(view.methods.len(), 2);
    let progress =
        w.t.reset_respond(view.flow, totp.id, &code(&w.code(&totp)), &w.ctx)
            .await
            .unwrap();
    assert_eq!((progress.gates_passed, progress.gates_required), (1, 2));
    assert!(matches!(
        new_password(&w, view.flow).await,
        Err(Error::NotAllowed(NotAllowed::ResetGatesPending))
    ));

    // The same method twice is one gate, however fresh its code.
    w.next_step();
    assert!(matches!(
        w.t.reset_respond(view.flow, totp.id, &code(&w.code(&totp)), &w.ctx)
            .await,
        Err(Error::BadRequest {
            field: "method_id",
            problem: Problem::Duplicate
        })
    ));
    assert_eq!(
        w.t.reset_view(view.flow).await.unwrap().gates_passed,
        [totp.id]
    );

    // A reset's code always comes as a code, texted to the phone.
    let challenge = w.t.reset_challenge(view.flow, phone, &w.ctx).await.unwrap();
    assert_eq!(challenge.sent_to.as_deref(), Some("+31 6•••••78"));
    let texted = w.code_sent_to(MOBILE).await;
    let progress =
        w.t.reset_respond(view.flow, phone, &code(&texted), &w.ctx)
            .await
            .unwrap();
    assert_eq!((progress.gates_passed, progress.gates_required), (2, 2));
    new_password(&w, view.flow).await.unwrap();

    assert!(matches!(
        w.t.authenticate(&token).await,
        Err(Error::Unauthorized)
    ));
    password_changed(&w, "quinn@example.org").await;
}

#[tokio::test]
async fn the_decoy_for_an_unknown_user_never_passes() {
    let w = World::new().await;
    // A real person lends the decoy the shape of their gates (one authenticator code).
    let (totp, _) = w.with_totp("rosa@example.org").await;
    let view = w.t.reset_begin("nobody@example.org", &w.ctx).await.unwrap();
    assert_eq!(view.gates_required, 1);
    assert!(!view.methods.is_empty());
    assert!(view.methods.iter().all(|m| m.name.is_none()));

    for gate in &view.methods {
        let challenge =
            w.t.reset_challenge(view.flow, gate.id, &w.ctx)
                .await
                .unwrap();
        assert_eq!(challenge.method_id, gate.id);
        // Even the real person's current code, or any other, is wrong here.
        for typed in [w.code(&totp), "000000".into(), "123456".into()] {
            assert!(
                w.t.reset_respond(view.flow, gate.id, &code(&typed), &w.ctx)
                    .await
                    .is_err()
            );
        }
    }
    assert!(matches!(
        new_password(&w, view.flow).await,
        Err(Error::NotAllowed(NotAllowed::ResetGatesPending))
    ));
    assert_eq!(w.deliver().await, 0, "a decoy sends nothing");
}

#[tokio::test]
async fn an_account_with_too_few_gates_gets_a_decoy_too() {
    let w = World::new().await;
    let (totp, _) = w.with_totp("sam@example.org").await;
    w.policy(&[("reset_methods_required", "2")]).await;
    let view = w.t.reset_begin("sam@example.org", &w.ctx).await.unwrap();
    assert_eq!(view.gates_required, 2);
    // The person's own method is not among the gates, and their right code passes nothing.
    assert!(view.methods.iter().all(|m| m.id != totp.id));
    let gate = view.methods[0].id;
    assert!(
        w.t.reset_respond(view.flow, gate, &code(&w.code(&totp)), &w.ctx)
            .await
            .is_err()
    );
    assert!(matches!(
        w.t.reset_respond(view.flow, totp.id, &code(&w.code(&totp)), &w.ctx)
            .await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        new_password(&w, view.flow).await,
        Err(Error::NotAllowed(NotAllowed::ResetGatesPending))
    ));
    password_unchanged(&w, "sam@example.org").await;
}

async fn password_unchanged(w: &World, username: &str) {
    assert!(matches!(
        w.sign_in_with(username, PASSWORD).await,
        Ok(SignInOutcome::MfaRequired { .. })
    ));
}

#[tokio::test]
async fn a_reset_past_flow_secs_is_over() {
    let w = World::new().await;
    let (totp, _) = w.with_totp("tom@example.org").await;
    let view = w.t.reset_begin("tom@example.org", &w.ctx).await.unwrap();
    w.t.reset_respond(view.flow, totp.id, &code(&w.code(&totp)), &w.ctx)
        .await
        .unwrap();
    w.advance(w.t.policy().await.unwrap().flow_secs as i64);
    assert!(matches!(
        new_password(&w, view.flow).await,
        Err(Error::Expired)
    ));
    password_unchanged(&w, "tom@example.org").await;
}

#[tokio::test]
async fn an_approved_notification_passes_a_gate_unless_the_reset_closed_meanwhile() {
    let w = World::new().await;
    let (_, token) = w.with_totp("uma@example.org").await;
    let device = w.add_app(&w.auth(&token).await).await;
    let number = |challenge: crate::method::Challenge| challenge.number.unwrap();

    let first = w.t.reset_begin("uma@example.org", &w.ctx).await.unwrap();
    let shown =
        w.t.reset_challenge(first.flow, device.id, &w.ctx)
            .await
            .unwrap();
    assert_eq!(
        device.approve(&w, number(shown)).await.unwrap(),
        PushStatus::Approved
    );
    assert_eq!(
        w.t.reset_view(first.flow).await.unwrap().gates_passed,
        [device.id]
    );

    // A second reset waits on the app while the first completes, which closes it: its
    // approval commits nothing, and the request stays unanswered.
    let second = w.t.reset_begin("uma@example.org", &w.ctx).await.unwrap();
    let shown =
        w.t.reset_challenge(second.flow, device.id, &w.ctx)
            .await
            .unwrap();
    new_password(&w, first.flow).await.unwrap();
    assert!(matches!(
        device.approve(&w, number(shown)).await,
        Err(Error::Expired)
    ));
    let auth = w.t.device_auth(&device.credential).await.unwrap();
    let waiting = w.t.device_requests(&auth).await.unwrap();
    assert_eq!(waiting.len(), 1, "the request is still pending");
    assert!(matches!(
        w.t.reset_view(second.flow).await,
        Err(Error::Expired)
    ));
}
