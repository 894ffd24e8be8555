//! The registration interrupt: a person without the security info the policy requires may
//! only register it, and a registration session completes only with what it can vouch for.

use super::{MOBILE, World};
use crate::error::{Error, NotAllowed};
use crate::flow::{FlowStatus, SignInOutcome};
use crate::message::Channel;
use crate::method::{Kind, RegisterRequest};
use crate::session::SessionKind;

#[tokio::test]
async fn a_person_without_security_info_may_only_register() {
    let w = World::new().await;
    w.create("gina@example.org").await;
    let (flow, auth) = w.registering("gina@example.org").await;
    assert_eq!(auth.session.kind, SessionKind::Registration);
    assert_eq!(auth.session.flow_id, Some(flow));

    let registration = w.t.registration(&auth).await.unwrap();
    assert!(registration.needs.sign_in);
    assert_eq!(registration.needs.reset_missing, 1);
    assert!(registration.added.is_empty());
    // Anything but registering is refused.
    let registration_only = |r: crate::error::Result<_>| {
        matches!(r, Err(Error::NotAllowed(NotAllowed::RegistrationOnly)))
    };
    assert!(registration_only(w.t.activity(&auth, 10).await.map(|_| ())));
    assert!(registration_only(
        w.t.step_up_methods(&auth).await.map(|_| ())
    ));
    assert!(registration_only(auth.require_full()));
    // The flow waits; without its session, nobody can complete it.
    assert!(matches!(
        w.t.sign_in_status(flow, None, &w.ctx).await,
        Ok(FlowStatus::RegistrationRequired)
    ));
    assert!(
        w.t.complete_registration(&auth, &w.ctx)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn registering_and_proving_a_method_completes_into_a_full_session() {
    let w = World::new().await;
    w.create("gina@example.org").await;
    let SignInOutcome::RegistrationRequired { flow, session } =
        w.sign_in("gina@example.org").await.unwrap()
    else {
        panic!("expected the registration interrupt");
    };
    let auth = w.auth(&session.token).await;

    // Begun but not yet proven, it does not count.
    let proof = w.t.step_up_proof(&auth).await.unwrap();
    let request = RegisterRequest::AuthenticatorCode { name: None };
    let (pending, _) =
        w.t.register_begin(&auth, request, proof, &w.ctx)
            .await
            .unwrap();
    assert!(
        w.t.complete_registration(&auth, &w.ctx)
            .await
            .unwrap()
            .is_none()
    );
    let proof = w.t.step_up_proof(&auth).await.unwrap();
    assert!(matches!(
        w.t.delete_method(&auth, pending.id, proof, &w.ctx).await,
        Err(Error::NotAllowed(NotAllowed::RegistrationOnly))
    ));

    let totp = w.add_totp(&auth).await;
    let registration = w.t.registration(&auth).await.unwrap();
    assert!(registration.needs.met());
    assert_eq!(registration.added.len(), 1);
    assert_eq!(registration.added[0].id, totp.id);

    let token = w.finish_registration(flow, &auth).await;
    let full = w.auth(&token).await;
    assert_eq!(full.session.kind, SessionKind::Full);
    assert_eq!(full.session.flow_id, None);
    // Registering proved the method: changes need no step-up yet.
    assert_eq!(full.session.second_factor_at, Some(w.t.now()));
    w.t.step_up_proof(&full).await.unwrap();
    // The registration session is over, and the flow completed once.
    assert!(matches!(
        w.t.authenticate(&session.token).await,
        Err(Error::Unauthorized)
    ));
    assert!(matches!(
        w.t.sign_in_status(flow, Some(&auth), &w.ctx).await,
        Ok(FlowStatus::SignedIn(None))
    ));
}

#[tokio::test]
async fn the_registration_session_ends_with_the_flow() {
    let w = World::new().await;
    w.create("gina@example.org").await;
    let SignInOutcome::RegistrationRequired { flow, session } =
        w.sign_in("gina@example.org").await.unwrap()
    else {
        panic!("expected the registration interrupt");
    };
    let auth = w.auth(&session.token).await;
    w.advance(600);
    assert!(matches!(
        w.t.authenticate(&session.token).await,
        Err(Error::Unauthorized)
    ));
    assert!(matches!(
        w.t.complete_registration(&auth, &w.ctx).await,
        Err(Error::Expired)
    ));
    assert!(matches!(
        w.t.sign_in_status(flow, Some(&auth), &w.ctx).await,
        Ok(FlowStatus::Expired)
    ));
}

#[tokio::test]
async fn without_the_requirement_the_password_alone_signs_in() {
    let w = World::new().await;
    w.policy(&[("registration_required", "false")]).await;
    w.create("hank@example.org").await;
    let SignInOutcome::SignedIn(session) = w.sign_in("hank@example.org").await.unwrap() else {
        panic!("expected to be signed in");
    };
    let auth = w.auth(&session.token).await;
    assert_eq!(auth.session.kind, SessionKind::Full);
    assert_eq!(auth.session.second_factor_at, None);
}

#[tokio::test]
async fn a_registration_session_cannot_use_a_method_it_did_not_register() {
    let w = World::new().await;
    w.create("ivan@example.org").await;
    // Someone who knows only the password signs in first …
    let (stranger_flow, stranger) = w.registering("ivan@example.org").await;
    w.advance(5);
    // … then the real person, who registers their app and completes.
    let (flow, person) = w.registering("ivan@example.org").await;
    let totp = w.add_totp(&person).await;
    w.finish_registration(flow, &person).await;

    // The account now has what the policy requires, but not by the stranger's doing.
    let seen = w.t.registration(&stranger).await.unwrap();
    assert!(seen.needs.sign_in, "{:?}", seen.needs);
    assert!(seen.added.is_empty());
    assert!(
        w.t.complete_registration(&stranger, &w.ctx)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        w.t.sign_in_status(stranger_flow, Some(&stranger), &w.ctx)
            .await,
        Ok(FlowStatus::RegistrationRequired)
    ));
    // Nor may the stranger add a method of their own next to the person's.
    assert!(matches!(
        w.t.step_up_proof(&stranger).await,
        Err(Error::StepUpRequired)
    ));
    // The person's method still signs in, the person only.
    w.next_step();
    let flow = w.mfa("ivan@example.org").await;
    w.t.sign_in_verify(flow, totp.id, &w.code(&totp), &w.ctx)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_method_had_before_the_session_began_counts() {
    let w = World::new().await;
    let (totp, _) = w.with_totp("jane@example.org").await;
    // The policy now wants two reset methods: after the second factor, the person is sent
    // to add one, with the code they gave counted as a fresh second factor.
    w.policy(&[("reset_methods_required", "2")]).await;
    w.next_step();
    let flow = w.mfa("jane@example.org").await;
    let session =
        w.t.sign_in_verify(flow, totp.id, &w.code(&totp), &w.ctx)
            .await
            .unwrap();
    let auth = w.auth(&session.token).await;
    assert_eq!(auth.session.kind, SessionKind::Registration);
    assert!(auth.session.second_factor_at.is_some());
    let needs = w.t.registration(&auth).await.unwrap().needs;
    assert_eq!((needs.sign_in, needs.reset_missing), (false, 1));

    w.add_phone(&auth, Kind::PhoneMobile, MOBILE, Channel::Sms)
        .await;
    let token = w.finish_registration(flow, &auth).await;
    assert_eq!(w.auth(&token).await.session.kind, SessionKind::Full);
}

#[tokio::test]
async fn a_temporary_access_pass_leads_a_new_person_to_registration() {
    let w = World::new().await;
    let account = w.create("kim@example.org").await;
    let issued =
        w.t.local_admin()
            .issue_temporary_access_pass(account.id, None)
            .await
            .unwrap();
    let flow = w.mfa("kim@example.org").await;
    let session =
        w.t.sign_in_verify(flow, issued.method.id, &issued.pass, &w.ctx)
            .await
            .unwrap();
    // The pass is spent: the person registers what will sign them in from now on.
    let auth = w.auth(&session.token).await;
    assert_eq!(auth.session.kind, SessionKind::Registration);
    w.add_totp(&auth).await;
    let token = w.finish_registration(flow, &auth).await;
    assert_eq!(w.auth(&token).await.session.kind, SessionKind::Full);
}
