//! Step-up: a change to security info needs a second factor proven in this session within
//! `step_up_window_secs`.

use super::{MOBILE, World};
use crate::error::Error;
use crate::flow::SignInOutcome;
use crate::message::Channel;
use crate::method::{Kind, RegisterRequest};
use crate::store::push::PushStatus;
use zeroize::Zeroizing;

/// A full session of someone who signed in with their code: its token.
async fn signed_in(w: &World, username: &str, totp: &super::Totp) -> Zeroizing<String> {
    let flow = w.mfa(username).await;
    let session =
        w.t.sign_in_verify(flow, totp.id, &w.code(totp), &w.ctx)
            .await
            .unwrap();
    session.token
}

fn new_code_method() -> RegisterRequest {
    RegisterRequest::AuthenticatorCode { name: None }
}

#[tokio::test]
async fn a_change_to_security_info_needs_a_fresh_second_factor() {
    let w = World::new().await;
    let (totp, token) = w.with_totp("lena@example.org").await;
    let window = w.t.policy().await.unwrap().step_up_window_secs as i64;
    // The registration proved the method one step ago; the window runs from there.
    w.advance(window - 30 - 1);
    w.t.step_up_proof(&w.auth(&token).await).await.unwrap();
    w.advance(1);
    let auth = w.auth(&token).await;
    assert!(matches!(
        w.t.step_up_proof(&auth).await,
        Err(Error::StepUpRequired)
    ));

    let (methods, default) = w.t.step_up_methods(&auth).await.unwrap();
    assert_eq!(methods.iter().map(|m| m.id).collect::<Vec<_>>(), [totp.id]);
    assert_eq!(default, Some(totp.id));
    assert!(matches!(
        w.t.step_up_verify(&auth, totp.id, &w.wrong_code(&totp), &w.ctx)
            .await,
        Err(Error::InvalidCode)
    ));
    assert!(matches!(
        w.t.step_up_proof(&w.auth(&token).await).await,
        Err(Error::StepUpRequired)
    ));
    w.t.step_up_verify(&auth, totp.id, &w.code(&totp), &w.ctx)
        .await
        .unwrap();

    let auth = w.auth(&token).await;
    assert_eq!(auth.session.second_factor_at, Some(w.t.now()));
    let proof = w.t.step_up_proof(&auth).await.unwrap();
    w.t.register_begin(&auth, new_code_method(), proof, &w.ctx)
        .await
        .unwrap();
}

#[tokio::test]
async fn after_step_up_secs_it_needs_one_again() {
    let w = World::new().await;
    w.policy(&[("step_up_window_secs", "300")]).await;
    let (totp, token) = w.with_totp("lena@example.org").await;
    w.advance(600);
    let auth = w.auth(&token).await;
    w.t.step_up_verify(&auth, totp.id, &w.code(&totp), &w.ctx)
        .await
        .unwrap();

    w.advance(299);
    // Still inside the window: a phone is added without another second factor.
    let auth = w.auth(&token).await;
    w.add_phone(&auth, Kind::PhoneMobile, MOBILE, Channel::Sms)
        .await;

    w.advance(1);
    let auth = w.auth(&token).await;
    assert!(matches!(
        w.t.step_up_proof(&auth).await,
        Err(Error::StepUpRequired)
    ));
    // Stepping up again opens a new window.
    w.t.step_up_verify(&auth, totp.id, &w.code(&totp), &w.ctx)
        .await
        .unwrap();
    w.t.step_up_proof(&w.auth(&token).await).await.unwrap();
}

#[tokio::test]
async fn a_proof_from_one_session_does_not_serve_another() {
    let w = World::new().await;
    let (totp, old_token) = w.with_totp("lena@example.org").await;
    // Past the step-up window, not the idle limit.
    w.advance(900);
    let fresh = signed_in(&w, "lena@example.org", &totp).await;
    let (old, fresh) = (w.auth(&old_token).await, w.auth(&fresh).await);

    // The fresh session's proof, offered by the old one, changes nothing.
    let proof = w.t.step_up_proof(&fresh).await.unwrap();
    assert!(matches!(
        w.t.register_begin(&old, new_code_method(), proof, &w.ctx)
            .await,
        Err(Error::StepUpRequired)
    ));
    let proof = w.t.step_up_proof(&fresh).await.unwrap();
    assert!(matches!(
        w.t.delete_method(&old, totp.id, proof, &w.ctx).await,
        Err(Error::StepUpRequired)
    ));
    let proof = w.t.step_up_proof(&fresh).await.unwrap();
    assert!(matches!(
        w.t.generate_recovery_codes(&old, proof, &w.ctx).await,
        Err(Error::StepUpRequired)
    ));
    assert!(w.method(totp.id).await.is_active());
    // Nor does a step-up in one session mark the other.
    w.next_step();
    w.t.step_up_verify(&fresh, totp.id, &w.code(&totp), &w.ctx)
        .await
        .unwrap();
    assert!(matches!(
        w.t.step_up_proof(&w.auth(&old_token).await).await,
        Err(Error::StepUpRequired)
    ));
}

#[tokio::test]
async fn a_notification_steps_up_only_the_session_that_asked() {
    let w = World::new().await;
    let (_, token) = w.with_totp("mia@example.org").await;
    let device = w.add_app(&w.auth(&token).await).await;
    let SignInOutcome::MfaRequired { flow, .. } = w.sign_in("mia@example.org").await.unwrap()
    else {
        panic!("expected a second factor to be asked");
    };
    let number =
        w.t.sign_in_challenge(flow, device.id, &w.ctx)
            .await
            .unwrap()
            .number
            .unwrap();
    device.approve(&w, number).await.unwrap();
    let Ok(crate::flow::FlowStatus::SignedIn(Some(other))) =
        w.t.sign_in_status(flow, None, &w.ctx).await
    else {
        panic!("the approved flow hands over a session");
    };
    // Both sessions are past the step-up window, not the idle limit.
    w.advance(900);

    let auth = w.auth(&token).await;
    let challenge =
        w.t.step_up_challenge(&auth, device.id, &w.ctx)
            .await
            .unwrap();
    assert_eq!(
        device.approve(&w, challenge.number.unwrap()).await.unwrap(),
        PushStatus::Approved
    );
    w.t.step_up_proof(&w.auth(&token).await).await.unwrap();
    assert!(matches!(
        w.t.step_up_proof(&w.auth(&other.token).await).await,
        Err(Error::StepUpRequired)
    ));
}

#[tokio::test]
async fn the_sign_in_code_cannot_step_up_again() {
    let w = World::new().await;
    let (totp, _) = w.with_totp("nora@example.org").await;
    let code = w.code(&totp);
    let flow = w.mfa("nora@example.org").await;
    let session =
        w.t.sign_in_verify(flow, totp.id, &code, &w.ctx)
            .await
            .unwrap();
    let auth = w.auth(&session.token).await;
    assert!(matches!(
        w.t.step_up_verify(&auth, totp.id, &code, &w.ctx).await,
        Err(Error::InvalidCode)
    ));
}

#[tokio::test]
async fn without_security_info_there_is_nothing_to_step_up_with() {
    let w = World::new().await;
    w.policy(&[("registration_required", "false")]).await;
    w.create("otto@example.org").await;
    let SignInOutcome::SignedIn(session) = w.sign_in("otto@example.org").await.unwrap() else {
        panic!("expected to be signed in");
    };
    w.advance(900);
    let auth = w.auth(&session.token).await;
    assert_eq!(auth.session.second_factor_at, None);
    // The first method needs no second factor: there is none to give.
    let totp = w.add_totp(&auth).await;
    // The second does.
    let auth = w.auth(&session.token).await;
    assert!(matches!(
        w.t.step_up_proof(&auth).await,
        Err(Error::StepUpRequired)
    ));
    w.next_step();
    w.t.step_up_verify(&auth, totp.id, &w.code(&totp), &w.ctx)
        .await
        .unwrap();
    w.t.step_up_proof(&w.auth(&session.token).await)
        .await
        .unwrap();
}
