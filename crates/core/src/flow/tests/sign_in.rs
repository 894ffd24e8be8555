//! Sign-in with each kind a person can sign in with, and the ways a second factor is refused.

use super::{LANDLINE, MOBILE, World};
use crate::error::{Error, NotAllowed};
use crate::flow::FlowStatus;
use crate::message::Channel;
use crate::method::Kind;
use crate::session::SessionKind;
use crate::store::push::PushStatus;

/// A person whose one method is an authenticator code.
async fn alice(w: &World) -> super::Totp {
    w.with_totp("alice@example.org").await.0
}

#[tokio::test]
async fn an_authenticator_code_signs_in_with_a_fresh_second_factor() {
    let w = World::new().await;
    let totp = alice(&w).await;
    let flow = w.mfa("alice@example.org").await;
    let (methods, default) = w.t.sign_in_methods(flow).await.unwrap();
    assert_eq!(default, totp.id);
    assert_eq!(methods.len(), 1);

    let session =
        w.t.sign_in_verify(flow, totp.id, &w.code(&totp), &w.ctx)
            .await
            .unwrap();
    let auth = w.auth(&session.token).await;
    assert_eq!(auth.session.kind, SessionKind::Full);
    assert_eq!(auth.session.second_factor_at, Some(w.t.now()));
    // The ID token's `amr` says which kind proved it.
    assert_eq!(
        auth.session.second_factor_kind,
        Some(Kind::AuthenticatorCode)
    );
    assert!(matches!(
        w.t.sign_in_status(flow, None, &w.ctx).await,
        Ok(FlowStatus::SignedIn(None))
    ));
    // A completed flow never completes again, even with the next step's code.
    w.next_step();
    assert!(matches!(
        w.t.sign_in_verify(flow, totp.id, &w.code(&totp), &w.ctx)
            .await,
        Err(Error::Expired)
    ));
}

#[tokio::test]
async fn a_replayed_totp_step_is_refused_and_counted() {
    let w = World::new().await;
    let totp = alice(&w).await;
    let code = w.code(&totp);
    let first = w.mfa("alice@example.org").await;
    w.t.sign_in_verify(first, totp.id, &code, &w.ctx)
        .await
        .unwrap();

    // Someone who watched the code typed tries it in a sign-in of their own, in the same step.
    let second = w.mfa("alice@example.org").await;
    assert!(matches!(
        w.t.sign_in_verify(second, totp.id, &code, &w.ctx).await,
        Err(Error::InvalidCode)
    ));
    assert_eq!(w.method(totp.id).await.failures, 1);
    // The next step's code is a new one.
    w.next_step();
    w.t.sign_in_verify(second, totp.id, &w.code(&totp), &w.ctx)
        .await
        .unwrap();
    assert_eq!(w.method(totp.id).await.failures, 0);
}

#[tokio::test]
async fn a_wrong_code_is_refused_and_counted_until_a_right_one() {
    let w = World::new().await;
    let totp = alice(&w).await;
    let flow = w.mfa("alice@example.org").await;
    for failures in 1..=2 {
        assert!(matches!(
            w.t.sign_in_verify(flow, totp.id, &w.wrong_code(&totp), &w.ctx)
                .await,
            Err(Error::InvalidCode)
        ));
        assert_eq!(w.method(totp.id).await.failures, failures);
    }
    assert!(matches!(
        w.t.sign_in_status(flow, None, &w.ctx).await,
        Ok(FlowStatus::MfaRequired)
    ));
    w.t.sign_in_verify(flow, totp.id, &w.code(&totp), &w.ctx)
        .await
        .unwrap();
    assert_eq!(w.method(totp.id).await.failures, 0);
}

#[tokio::test]
async fn a_flow_past_flow_secs_answers_expired() {
    let w = World::new().await;
    let totp = alice(&w).await;
    w.policy(&[("flow_secs", "120")]).await;
    let flow = w.mfa("alice@example.org").await;
    w.advance(119);
    assert!(matches!(
        w.t.sign_in_status(flow, None, &w.ctx).await,
        Ok(FlowStatus::MfaRequired)
    ));
    w.advance(1);
    assert!(matches!(
        w.t.sign_in_status(flow, None, &w.ctx).await,
        Ok(FlowStatus::Expired)
    ));
    assert!(matches!(
        w.t.sign_in_verify(flow, totp.id, &w.code(&totp), &w.ctx)
            .await,
        Err(Error::Expired)
    ));
    assert!(matches!(
        w.t.sign_in_challenge(flow, totp.id, &w.ctx).await,
        Err(Error::Expired)
    ));
    // Nothing was counted against the method: the code was never checked.
    assert_eq!(w.method(totp.id).await.failures, 0);
}

#[tokio::test]
async fn a_notification_approved_with_the_right_number_signs_in() {
    let w = World::new().await;
    let (_, token) = w.with_totp("bob@example.org").await;
    let device = w.add_app(&w.auth(&token).await).await;

    let flow = w.mfa("bob@example.org").await;
    let challenge =
        w.t.sign_in_challenge(flow, device.id, &w.ctx)
            .await
            .unwrap();
    let number = challenge.number.expect("the page shows a number to match");
    assert!(matches!(
        w.t.sign_in_status(flow, None, &w.ctx).await,
        Ok(FlowStatus::MfaRequired)
    ));
    assert_eq!(
        device.approve(&w, number).await.unwrap(),
        PushStatus::Approved
    );
    // The page polling the flow gets the session, once.
    let Ok(FlowStatus::SignedIn(Some(session))) = w.t.sign_in_status(flow, None, &w.ctx).await
    else {
        panic!("the approved flow hands over a session");
    };
    let auth = w.auth(&session.token).await;
    assert_eq!(auth.session.kind, SessionKind::Full);
    assert!(auth.session.second_factor_at.is_some());
    // The approval travelled with the flow to the session made when it was handed over.
    assert_eq!(
        auth.session.second_factor_kind,
        Some(Kind::AuthenticatorApp)
    );
    assert!(matches!(
        w.t.sign_in_status(flow, None, &w.ctx).await,
        Ok(FlowStatus::SignedIn(None))
    ));
}

#[tokio::test]
async fn a_notification_approved_with_the_wrong_number_fails_and_counts() {
    let w = World::new().await;
    let (_, token) = w.with_totp("bob@example.org").await;
    let device = w.add_app(&w.auth(&token).await).await;

    let flow = w.mfa("bob@example.org").await;
    let challenge =
        w.t.sign_in_challenge(flow, device.id, &w.ctx)
            .await
            .unwrap();
    let wrong = challenge.number.map(|n| if n == 99 { 10 } else { n + 1 });
    assert!(matches!(
        device.approve(&w, wrong.unwrap()).await,
        Err(Error::InvalidCode)
    ));
    assert_eq!(w.method(device.id).await.failures, 1);
    assert!(matches!(
        w.t.sign_in_status(flow, None, &w.ctx).await,
        Ok(FlowStatus::MfaRequired)
    ));
}

#[tokio::test]
async fn a_denied_notification_denies_the_sign_in() {
    let w = World::new().await;
    let (_, token) = w.with_totp("bob@example.org").await;
    let device = w.add_app(&w.auth(&token).await).await;

    let flow = w.mfa("bob@example.org").await;
    w.t.sign_in_challenge(flow, device.id, &w.ctx)
        .await
        .unwrap();
    assert_eq!(device.deny(&w).await.unwrap(), PushStatus::Denied);
    assert!(matches!(
        w.t.sign_in_status(flow, None, &w.ctx).await,
        Ok(FlowStatus::Denied)
    ));
    // Nothing else completes a denied flow, not even the app's own code.
    assert!(matches!(
        w.t.sign_in_verify(flow, device.id, &w.code(&device.totp), &w.ctx)
            .await,
        Err(Error::Expired)
    ));
}

#[tokio::test]
async fn the_apps_code_signs_in_where_the_policy_allows_it() {
    let w = World::new().await;
    let (_, token) = w.with_totp("bob@example.org").await;
    let device = w.add_app(&w.auth(&token).await).await;
    w.next_step();

    w.policy(&[("code_instead_of_notification", "false")]).await;
    let flow = w.mfa("bob@example.org").await;
    assert!(matches!(
        w.t.sign_in_verify(flow, device.id, &w.code(&device.totp), &w.ctx)
            .await,
        Err(Error::NotAllowed(NotAllowed::NotificationRequired))
    ));

    w.policy(&[("code_instead_of_notification", "true")]).await;
    let session =
        w.t.sign_in_verify(flow, device.id, &w.code(&device.totp), &w.ctx)
            .await
            .unwrap();
    assert_eq!(w.auth(&session.token).await.session.kind, SessionKind::Full);
}

#[tokio::test]
async fn a_code_texted_to_the_phone_signs_in() {
    let w = World::new().await;
    let (_, token) = w.with_totp("carol@example.org").await;
    let phone = w
        .add_phone(
            &w.auth(&token).await,
            Kind::PhoneMobile,
            MOBILE,
            Channel::Sms,
        )
        .await;

    let flow = w.mfa("carol@example.org").await;
    let challenge = w.t.sign_in_challenge(flow, phone, &w.ctx).await.unwrap();
    assert_eq!(challenge.sent_to.as_deref(), Some("+31 6•••••78"));
    let code = w.code_sent_to(MOBILE).await;
    let session =
        w.t.sign_in_verify(flow, phone, &code, &w.ctx)
            .await
            .unwrap();
    assert_eq!(w.auth(&session.token).await.session.kind, SessionKind::Full);
    // The code worked once.
    let again = w.mfa("carol@example.org").await;
    assert!(
        w.t.sign_in_verify(again, phone, &code, &w.ctx)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_call_answered_with_pound_signs_in() {
    let w = World::new().await;
    let (_, token) = w.with_totp("dave@example.org").await;
    let phone = w
        .add_phone(
            &w.auth(&token).await,
            Kind::PhoneAlternate,
            LANDLINE,
            Channel::Voice,
        )
        .await;

    let flow = w.mfa("dave@example.org").await;
    w.t.sign_in_challenge(flow, phone, &w.ctx).await.unwrap();
    let call = w.call_to(LANDLINE).await;
    assert!(matches!(
        w.t.sign_in_status(flow, None, &w.ctx).await,
        Ok(FlowStatus::MfaRequired)
    ));
    assert!(w.t.confirm_call(call, &w.ctx).await.unwrap());
    let Ok(FlowStatus::SignedIn(Some(session))) = w.t.sign_in_status(flow, None, &w.ctx).await
    else {
        panic!("the confirmed call hands over a session");
    };
    let auth = w.auth(&session.token).await;
    assert_eq!(auth.session.kind, SessionKind::Full);
    assert_eq!(auth.session.second_factor_kind, Some(Kind::PhoneAlternate));
    // A second # on the same call approves nothing more.
    assert!(!w.t.confirm_call(call, &w.ctx).await.unwrap());
}

#[tokio::test]
async fn a_mobile_can_be_called_instead_of_texted() {
    let w = World::new().await;
    let (_, token) = w.with_totp("carol@example.org").await;
    let auth = w.auth(&token).await;
    let phone = w
        .add_phone(&auth, Kind::PhoneMobile, MOBILE, Channel::Sms)
        .await;

    let flow = w.mfa("carol@example.org").await;
    w.t.sign_in_challenge_via(flow, phone, Some(Channel::Voice), &w.ctx)
        .await
        .unwrap();
    assert!(w.press_pound(MOBILE).await);
    assert!(matches!(
        w.t.sign_in_status(flow, None, &w.ctx).await,
        Ok(FlowStatus::SignedIn(Some(_)))
    ));
}

#[tokio::test]
async fn each_recovery_code_signs_in_once() {
    let w = World::new().await;
    let (_, token) = w.with_totp("erin@example.org").await;
    let (method, codes) = w.add_recovery_codes(&w.auth(&token).await).await;
    assert_eq!(codes.len(), 10);

    let flow = w.mfa("erin@example.org").await;
    let session =
        w.t.sign_in_verify(flow, method, &codes[0], &w.ctx)
            .await
            .unwrap();
    assert_eq!(w.auth(&session.token).await.session.kind, SessionKind::Full);

    let flow = w.mfa("erin@example.org").await;
    assert!(matches!(
        w.t.sign_in_verify(flow, method, &codes[0], &w.ctx).await,
        Err(Error::InvalidCode)
    ));
    w.t.sign_in_verify(flow, method, &codes[1], &w.ctx)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_temporary_access_pass_signs_in_once() {
    let w = World::new().await;
    let (totp, _) = w.with_totp("frank@example.org").await;
    let account =
        w.t.local_admin()
            .account("frank@example.org")
            .await
            .unwrap();
    let issued =
        w.t.local_admin()
            .issue_temporary_access_pass(account.id, None)
            .await
            .unwrap();

    let flow = w.mfa("frank@example.org").await;
    let (methods, _) = w.t.sign_in_methods(flow).await.unwrap();
    assert!(methods.iter().any(|m| m.id == issued.method.id));
    let session =
        w.t.sign_in_verify(flow, issued.method.id, &issued.pass, &w.ctx)
            .await
            .unwrap();
    assert_eq!(w.auth(&session.token).await.session.kind, SessionKind::Full);

    // Used, it is offered no more and works no more.
    let flow = w.mfa("frank@example.org").await;
    let (methods, default) = w.t.sign_in_methods(flow).await.unwrap();
    assert_eq!(methods.iter().map(|m| m.id).collect::<Vec<_>>(), [totp.id]);
    assert_eq!(default, totp.id);
    assert!(
        w.t.sign_in_verify(flow, issued.method.id, &issued.pass, &w.ctx)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_lapsed_temporary_access_pass_does_not_sign_in() {
    let w = World::new().await;
    w.with_totp("frank@example.org").await;
    let account =
        w.t.local_admin()
            .account("frank@example.org")
            .await
            .unwrap();
    let issued =
        w.t.local_admin()
            .issue_temporary_access_pass(account.id, Some(10))
            .await
            .unwrap();
    w.advance(9 * 60);
    let flow = w.mfa("frank@example.org").await;
    w.advance(60);
    assert!(matches!(
        w.t.sign_in_verify(flow, issued.method.id, &issued.pass, &w.ctx)
            .await,
        Err(Error::Expired)
    ));
}
