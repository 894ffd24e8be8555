//! Sign-in through the API: password, registration interrupt, second factor, lock-out.

use crate::common::{Harness, PASSWORD, each_backend};
use serde_json::json;

#[tokio::test]
async fn registration_interrupt_then_sign_in_with_a_code() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, method, secret) = h.enrolled_user(&c, "alice@example.org").await;
        let (status, info) = h.get(&c, "/api/v1/me/security-info", Some(&token)).await;
        assert_eq!(status, 200);
        assert_eq!(
            info["default_method"],
            method.as_str(),
            "the first method becomes the default"
        );
        assert_eq!(info["methods"][0]["status"], "active");

        let (status, _) = h
            .post(&c, "/api/v1/sign-out", Some(&token), json!({}))
            .await;
        assert_eq!(status, 204);
        let (status, body) = h.get(&c, "/api/v1/me/security-info", Some(&token)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("unauthorized")),
            "signed out"
        );

        let body = h.api_sign_in(&c, "alice@example.org").await;
        assert_eq!(body["status"], "mfa_required", "{body}");
        assert_eq!(body["default_method"], method.as_str());
        assert_eq!(body["methods"][0]["kind"], "authenticator_code");
        let flow = body["flow"].as_str().unwrap();
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/challenge"),
                None,
                json!({"method_id": method}),
            )
            .await;
        assert_eq!(
            (status, body["kind"].as_str()),
            (200, Some("authenticator_code"))
        );
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/verify"),
                None,
                json!({"method_id": method, "code": h.code(&secret, 0)}),
            )
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("signed_in")),
            "{body}"
        );
        let session = body["session"].as_str().unwrap();
        assert_ne!(
            session, token,
            "a new session token after the second factor"
        );
        let (status, flow_status) = h.get(&c, &format!("/api/v1/sign-in/{flow}"), None).await;
        assert_eq!(
            (status, flow_status["status"].as_str()),
            (200, Some("signed_in"))
        );
        assert!(
            flow_status.get("session").is_none(),
            "the token is handed out once"
        );
        let (status, _) = h.get(&c, "/api/v1/me/security-info", Some(session)).await;
        assert_eq!(status, 200);
    })
    .await;
}

#[tokio::test]
async fn registration_session_may_only_register() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        h.add_user("bob@example.org").await;
        let body = h.api_sign_in(&c, "bob@example.org").await;
        assert_eq!(body["status"], "registration_required");
        let token = body["session"].as_str().unwrap();
        let flow = body["flow"].as_str().unwrap();
        let (status, body) = h.get(&c, "/api/v1/me/activity", Some(token)).await;
        assert_eq!((status, body["error"].as_str()), (403, Some("not_allowed")));
        let (status, body) = h
            .get(&c, &format!("/api/v1/sign-in/{flow}"), Some(token))
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("registration_required"))
        );
        assert!(
            body.get("session").is_none(),
            "no full session before a method is verified"
        );
    })
    .await;
}

#[tokio::test]
async fn no_registration_required_signs_in_with_the_password() {
    each_backend(|h: Harness| async move {
        h.set_policy("registration_required", "false").await;
        let c = h.client();
        h.add_user("carol@example.org").await;
        let body = h.api_sign_in(&c, "carol@example.org").await;
        assert_eq!(body["status"], "signed_in", "{body}");
    })
    .await;
}

#[tokio::test]
async fn wrong_password_is_indistinguishable_from_unknown_user() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        h.add_user("dave@example.org").await;
        let wrong = h
            .post(
                &c,
                "/api/v1/sign-in",
                None,
                json!({"username": "dave@example.org", "password": "not the password"}),
            )
            .await;
        let unknown = h
            .post(
                &c,
                "/api/v1/sign-in",
                None,
                json!({"username": "nobody@example.org", "password": "not the password"}),
            )
            .await;
        assert_eq!(wrong.0, 401);
        assert_eq!(wrong.1["error"], "invalid_credentials");
        assert_eq!(wrong, unknown, "same status and body");
        let ok = h
            .post(
                &c,
                "/api/v1/sign-in",
                None,
                json!({"username": "  DAVE@example.org ", "password": PASSWORD}),
            )
            .await;
        assert_eq!(ok.0, 200, "usernames are trimmed and case-insensitive");
    })
    .await;
}

#[tokio::test]
async fn replayed_code_is_rejected() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, method, secret) = h.enrolled_user(&c, "erin@example.org").await;
        let code = h.code(&secret, 0);
        let body = h.api_sign_in(&c, "erin@example.org").await;
        let flow = body["flow"].as_str().unwrap();
        let (status, _) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/verify"),
                None,
                json!({"method_id": method, "code": code}),
            )
            .await;
        assert_eq!(status, 200);
        // The same code in a second sign-in, within the same 30 seconds.
        let body = h.api_sign_in(&c, "erin@example.org").await;
        let flow = body["flow"].as_str().unwrap();
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/verify"),
                None,
                json!({"method_id": method, "code": code}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_code")),
            "{body}"
        );
        // An older step than the one accepted is refused too.
        let (status, _) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/verify"),
                None,
                json!({"method_id": method, "code": h.code(&secret, -1)}),
            )
            .await;
        assert_eq!(status, 400);
        h.advance(30);
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/verify"),
                None,
                json!({"method_id": method, "code": h.code(&secret, 0)}),
            )
            .await;
        assert_eq!(status, 200, "the next step's code works: {body}");
    })
    .await;
}

#[tokio::test]
async fn ten_wrong_codes_lock_the_method() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, method, secret) = h.enrolled_user(&c, "frank@example.org").await;
        let body = h.api_sign_in(&c, "frank@example.org").await;
        let flow = body["flow"].as_str().unwrap().to_string();
        let verify = format!("/api/v1/sign-in/{flow}/verify");
        for i in 1..=9 {
            let (status, body) = h
                .post(
                    &c,
                    &verify,
                    None,
                    json!({"method_id": method, "code": h.wrong_code(&secret)}),
                )
                .await;
            assert_eq!(
                (status, body["error"].as_str()),
                (400, Some("invalid_code")),
                "attempt {i}"
            );
        }
        let (status, body) = h
            .post(
                &c,
                &verify,
                None,
                json!({"method_id": method, "code": h.wrong_code(&secret)}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (429, Some("locked")),
            "the tenth wrong code locks"
        );
        assert!(
            body["retry_after"]
                .as_u64()
                .is_some_and(|s| s > 800 && s <= 900),
            "{body}"
        );
        let (status, body) = h
            .post(
                &c,
                &verify,
                None,
                json!({"method_id": method, "code": h.code(&secret, 0)}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (429, Some("locked")),
            "even the right code while locked"
        );

        h.advance(15 * 60);
        let body = h.api_sign_in(&c, "frank@example.org").await;
        let flow = body["flow"].as_str().unwrap();
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/verify"),
                None,
                json!({"method_id": method, "code": h.code(&secret, 0)}),
            )
            .await;
        assert_eq!(status, 200, "unlocked after 15 minutes: {body}");
    })
    .await;
}

#[tokio::test]
async fn parallel_guesses_cannot_slip_past_the_lock() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, method, secret) = h.enrolled_user(&c, "grace@example.org").await;
        let body = h.api_sign_in(&c, "grace@example.org").await;
        let verify = format!("/api/v1/sign-in/{}/verify", body["flow"].as_str().unwrap());
        let right = h.code(&secret, 0);
        let guesses: Vec<_> = (0..64u32)
            .map(|i| {
                let (h, c, verify, method) = (h.clone(), c.clone(), verify.clone(), method.clone());
                let mut guess = format!("{:06}", (i * 15_451) % 1_000_000);
                if guess == right {
                    guess = format!("{:06}", (i * 15_451 + 1) % 1_000_000);
                }
                tokio::spawn(async move {
                    h.post(
                        &c,
                        &verify,
                        None,
                        json!({"method_id": method, "code": guess}),
                    )
                    .await
                })
            })
            .collect();
        let mut checked = 0;
        for g in guesses {
            let (status, body) = g.await.unwrap();
            match status {
                400 => checked += 1,
                429 => assert_eq!(body["error"], "locked"),
                other => panic!("unexpected {other}: {body}"),
            }
        }
        assert!(
            checked <= 10,
            "{checked} guesses were checked; at most 10 may be"
        );
        let (status, _) = h
            .post(
                &c,
                &verify,
                None,
                json!({"method_id": method, "code": right}),
            )
            .await;
        assert_eq!(status, 429, "locked after the burst");
    })
    .await;
}

#[tokio::test]
async fn stale_and_unknown_flows_are_refused() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, method, secret) = h.enrolled_user(&c, "heidi@example.org").await;
        let body = h.api_sign_in(&c, "heidi@example.org").await;
        let flow = body["flow"].as_str().unwrap();
        h.advance(11 * 60);
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/verify"),
                None,
                json!({"method_id": method, "code": h.code(&secret, 0)}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (410, Some("expired")),
            "{body}"
        );
        let (status, body) = h.get(&c, &format!("/api/v1/sign-in/{flow}"), None).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("expired")));
        let (status, _) = h
            .post(
                &c,
                "/api/v1/sign-in/00000000-0000-4000-8000-000000000000/verify",
                None,
                json!({"method_id": method, "code": "123456"}),
            )
            .await;
        assert_eq!(status, 404);
        let (status, _) = h
            .post(
                &c,
                "/api/v1/sign-in/not-a-flow/verify",
                None,
                json!({"method_id": method, "code": "1"}),
            )
            .await;
        assert_eq!(status, 404);
    })
    .await;
}

#[tokio::test]
async fn a_method_of_another_account_cannot_complete_a_sign_in() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, ivan_method, ivan_secret) = h.enrolled_user(&c, "ivan@example.org").await;
        h.enrolled_user(&c, "judy@example.org").await;
        let body = h.api_sign_in(&c, "judy@example.org").await;
        let flow = body["flow"].as_str().unwrap();
        let (status, _) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/verify"),
                None,
                json!({"method_id": ivan_method, "code": h.code(&ivan_secret, 0)}),
            )
            .await;
        assert_eq!(status, 404);
    })
    .await;
}

#[tokio::test]
async fn disabled_account_cannot_sign_in_and_loses_its_sessions() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _, _) = h.enrolled_user(&c, "mallory@example.org").await;
        h.tessera()
            .local_admin()
            .set_status("mallory@example.org", tessera_core::AccountStatus::Disabled)
            .await
            .unwrap();
        let (status, _) = h.get(&c, "/api/v1/me", Some(&token)).await;
        assert_eq!(status, 401);
        let (status, body) = h
            .post(
                &c,
                "/api/v1/sign-in",
                None,
                json!({"username": "mallory@example.org", "password": PASSWORD}),
            )
            .await;
        // Answered as a wrong password: anything else would confirm the password.
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_credentials"))
        );
    })
    .await;
}

#[tokio::test]
async fn every_attempt_is_an_audit_event() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, method, secret) = h.enrolled_user(&c, "niaj@example.org").await;
        let body = h.api_sign_in(&c, "niaj@example.org").await;
        let flow = body["flow"].as_str().unwrap();
        let verify = format!("/api/v1/sign-in/{flow}/verify");
        h.post(
            &c,
            &verify,
            None,
            json!({"method_id": method, "code": h.wrong_code(&secret)}),
        )
        .await;
        let (_, body) = h
            .post(
                &c,
                &verify,
                None,
                json!({"method_id": method, "code": h.code(&secret, 0)}),
            )
            .await;
        let token = body["session"].as_str().unwrap();
        let (status, body) = h.get(&c, "/api/v1/me/activity", Some(token)).await;
        assert_eq!(status, 200);
        let actions: Vec<&str> = body["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        for expected in [
            "sign_in_succeeded",
            "code_accepted",
            "code_rejected",
            "sign_in_password_accepted",
            "method_verified",
            "method_added",
        ] {
            assert!(
                actions.contains(&expected),
                "{expected} missing from {actions:?}"
            );
        }
        let event = &body["events"][0];
        assert_eq!(event["ip"], "127.0.0.1");
        assert!(
            event["at"].as_str().is_some_and(|t| t.ends_with('Z')),
            "RFC 3339 UTC: {event}"
        );
    })
    .await;
}
