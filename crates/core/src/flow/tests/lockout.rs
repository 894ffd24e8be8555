//! Lock-out: `lockout_threshold` wrong answers in a row lock a method for `lockout_secs`,
//! during which even the right one is refused.

use super::{MOBILE, Totp, World};
use crate::error::Error;
use crate::flow::FlowStatus;
use crate::message::Channel;
use crate::method::Kind;

const THRESHOLD: u32 = 4;
const LOCK_SECS: i64 = 300;

async fn strict(w: &World) {
    w.policy(&[
        ("lockout_threshold", &THRESHOLD.to_string()),
        ("lockout_secs", &LOCK_SECS.to_string()),
    ])
    .await;
}

/// `n` wrong codes in one sign-in flow; the answers given.
async fn wrong_codes(w: &World, flow: crate::ids::FlowId, totp: &Totp, n: u32) -> Vec<Error> {
    let mut answers = Vec::new();
    for _ in 0..n {
        let wrong = w.wrong_code(totp);
        answers.push(
            w.t.sign_in_verify(flow, totp.id, &wrong, &w.ctx)
                .await
                .unwrap_err(),
        );
    }
    answers
}

#[tokio::test]
async fn wrong_codes_lock_the_method_until_lockout_secs_pass() {
    let w = World::new().await;
    strict(&w).await;
    let (totp, _) = w.with_totp("uma@example.org").await;
    let flow = w.mfa("uma@example.org").await;

    let answers = wrong_codes(&w, flow, &totp, THRESHOLD).await;
    let (last, before) = answers.split_last().unwrap();
    assert!(before.iter().all(|e| matches!(e, Error::InvalidCode)));
    assert!(
        matches!(last, Error::Locked { retry_after } if *retry_after == LOCK_SECS as u64),
        "{last:?}"
    );

    // The right code is refused while the lock holds.
    w.advance(LOCK_SECS - 1);
    assert!(matches!(
        w.t.sign_in_verify(flow, totp.id, &w.code(&totp), &w.ctx)
            .await,
        Err(Error::Locked { retry_after: 1 })
    ));
    w.advance(1);
    let session =
        w.t.sign_in_verify(flow, totp.id, &w.code(&totp), &w.ctx)
            .await
            .unwrap();
    w.auth(&session.token).await;
    assert_eq!(w.method(totp.id).await.failures, 0);
}

#[tokio::test]
async fn the_lock_holds_in_every_flow_and_for_step_up() {
    let w = World::new().await;
    strict(&w).await;
    let (totp, token) = w.with_totp("uma@example.org").await;
    let flow = w.mfa("uma@example.org").await;
    wrong_codes(&w, flow, &totp, THRESHOLD).await;

    // A new sign-in is no way around it …
    w.next_step();
    let again = w.mfa("uma@example.org").await;
    assert!(matches!(
        w.t.sign_in_verify(again, totp.id, &w.code(&totp), &w.ctx)
            .await,
        Err(Error::Locked { .. })
    ));
    // … nor is a step-up in a session that was already open.
    let auth = w.auth(&token).await;
    assert!(matches!(
        w.t.step_up_verify(&auth, totp.id, &w.code(&totp), &w.ctx)
            .await,
        Err(Error::Locked { .. })
    ));
    assert!(matches!(
        w.t.sign_in_status(again, None, &w.ctx).await,
        Ok(FlowStatus::MfaRequired)
    ));
    // After the lock, it works again.
    w.advance(LOCK_SECS);
    w.t.sign_in_verify(again, totp.id, &w.code(&totp), &w.ctx)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_right_code_starts_the_count_again() {
    let w = World::new().await;
    strict(&w).await;
    let (totp, _) = w.with_totp("vic@example.org").await;
    let flow = w.mfa("vic@example.org").await;
    wrong_codes(&w, flow, &totp, THRESHOLD - 1).await;
    w.t.sign_in_verify(flow, totp.id, &w.code(&totp), &w.ctx)
        .await
        .unwrap();

    w.next_step();
    let flow = w.mfa("vic@example.org").await;
    let answers = wrong_codes(&w, flow, &totp, THRESHOLD - 1).await;
    assert!(answers.iter().all(|e| matches!(e, Error::InvalidCode)));
    w.t.sign_in_verify(flow, totp.id, &w.code(&totp), &w.ctx)
        .await
        .unwrap();
}

#[tokio::test]
async fn wrong_texted_codes_lock_the_phone() {
    let w = World::new().await;
    strict(&w).await;
    let (_, token) = w.with_totp("walt@example.org").await;
    let phone = w
        .add_phone(
            &w.auth(&token).await,
            Kind::PhoneMobile,
            MOBILE,
            Channel::Sms,
        )
        .await;

    let flow = w.mfa("walt@example.org").await;
    w.t.sign_in_challenge(flow, phone, &w.ctx).await.unwrap();
    let texted = w.code_sent_to(MOBILE).await;
    let wrong = format!("{:06}", (texted.parse::<u32>().unwrap() + 1) % 1_000_000);
    for _ in 1..THRESHOLD {
        assert!(matches!(
            w.t.sign_in_verify(flow, phone, &wrong, &w.ctx).await,
            Err(Error::InvalidCode)
        ));
    }
    assert!(matches!(
        w.t.sign_in_verify(flow, phone, &wrong, &w.ctx).await,
        Err(Error::Locked { .. })
    ));
    assert!(matches!(
        w.t.sign_in_verify(flow, phone, &texted, &w.ctx).await,
        Err(Error::Locked { .. })
    ));
    // After the lock the person asks for a new code, which works.
    w.advance(LOCK_SECS);
    w.t.sign_in_challenge(flow, phone, &w.ctx).await.unwrap();
    let texted = w.code_sent_to(MOBILE).await;
    w.t.sign_in_verify(flow, phone, &texted, &w.ctx)
        .await
        .unwrap();
}

#[tokio::test]
async fn wrong_reset_answers_never_lock_the_method() {
    let w = World::new().await;
    strict(&w).await;
    let (totp, _) = w.with_totp("xena@example.org").await;
    // A stranger starts resets and guesses; each flow stops them after a few.
    for _ in 0..2 {
        let view = w.t.reset_begin("xena@example.org", &w.ctx).await.unwrap();
        for _ in 0..THRESHOLD {
            let wrong = crate::method::Response::Code(w.wrong_code(&totp));
            assert!(
                w.t.reset_respond(view.flow, totp.id, &wrong, &w.ctx)
                    .await
                    .is_err()
            );
        }
    }
    // The person still signs in.
    assert_eq!(w.method(totp.id).await.failures, 0);
    let flow = w.mfa("xena@example.org").await;
    w.t.sign_in_verify(flow, totp.id, &w.code(&totp), &w.ctx)
        .await
        .unwrap();
}
