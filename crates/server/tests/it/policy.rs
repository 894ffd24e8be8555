//! The policy: the admin API, and every switch honoured at sign-in and registration (the
//! reset switches are in `reset`, `recovery_codes` and `security_questions`).

use crate::common::{Harness, PASSWORD, each_backend};
use crate::recovery_codes::new_set;
use serde_json::{Value, json};
use tessera_core::admin::NewAccount;
use zeroize::Zeroizing;

/// An admin with an authenticator app, signed in: the session token.
pub async fn admin_session(h: &Harness, c: &reqwest::Client, username: &str) -> String {
    h.tessera()
        .local_admin()
        .create_account(NewAccount {
            username: username.into(),
            display_name: None,
            password: Zeroizing::new(PASSWORD.into()),
            is_admin: true,
            email: None,
        })
        .await
        .unwrap();
    let body = h.api_sign_in(c, username).await;
    if body["status"] == "signed_in" {
        return body["session"].as_str().unwrap().to_string();
    }
    let (token, flow) = (
        body["session"].as_str().unwrap(),
        body["flow"].as_str().unwrap(),
    );
    let (id, secret) = h.add_code_method(c, token).await;
    let (status, _) = h
        .post(
            c,
            &format!("/api/v1/me/security-info/methods/{id}/verify"),
            Some(token),
            json!({"code": h.code(&secret, 0)}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, body) = h
        .get(c, &format!("/api/v1/sign-in/{flow}"), Some(token))
        .await;
    assert_eq!(body["status"], "signed_in", "{body}");
    h.advance(30);
    body["session"].as_str().unwrap().to_string()
}

async fn patch(h: &Harness, c: &reqwest::Client, token: &str, body: Value) -> (u16, Value) {
    let r = c
        .patch(h.url("/api/v1/admin/policy"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    crate::common::response(r).await
}

#[tokio::test]
async fn admins_read_and_change_the_policy_and_bad_values_change_nothing() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (person, _, _) = h.enrolled_user(&c, "alice@example.org").await;
        let admin = admin_session(&h, &c, "root@example.org").await;
        let (status, body) = h.get(&c, "/api/v1/admin/policy", Some(&person)).await;
        assert_eq!((status, body["error"].as_str()), (403, Some("not_allowed")));
        let (status, body) = patch(&h, &c, &person, json!({"reset_enabled": false})).await;
        assert_eq!(status, 403, "{body}");

        let (status, body) = h.get(&c, "/api/v1/admin/policy", Some(&admin)).await;
        assert_eq!(status, 200, "{body}");
        let policy = body["policy"].clone();
        for key in [
            "reset_enabled", "reset_kinds", "reset_methods_required", "security_questions_to_register",
            "security_questions_to_answer", "registration_skips", "two_step_required", "code_secs",
            "code_length", "lockout_threshold", "phone_countries", "app_passwords_allowed",
            "code_instead_of_notification", "report_blocks_account", "mfa_kinds",
        ] {
            assert!(policy.get(key).is_some(), "{key} in {policy}");
        }
        assert!(!policy["reset_kinds"].as_array().unwrap().contains(&json!("security_questions")), "off by default");
        assert_eq!(body["warnings"], json!([]));

        for (change, field) in [
            (json!({"reset_methods_required": 3}), "reset_methods_required"),
            (json!({"security_questions_to_register": 4, "security_questions_to_answer": 5}), "security_questions_to_answer"),
            (json!({"code_length": 5}), "code_length"),
            (json!({"phone_countries": ["nl"]}), "phone_countries"),
            (json!({"mfa_kinds": ["email"]}), "mfa_kinds"),
            (json!({"no_such_key": 1}), "no_such_key"),
            (json!({"reset_enabled": "yes"}), "reset_enabled"),
        ] {
            let (status, body) = patch(&h, &c, &admin, change.clone()).await;
            assert_eq!((status, body["field"].as_str()), (400, Some(field)), "{change}: {body}");
        }
        let (_, body) = h.get(&c, "/api/v1/admin/policy", Some(&admin)).await;
        assert_eq!(body["policy"], policy, "refused changes change nothing");

        let (status, body) = patch(
            &h,
            &c,
            &admin,
            json!({"reset_kinds": ["authenticator_code", "security_questions"], "phone_countries": ["NL", "BE"]}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["policy"]["phone_countries"], json!(["NL", "BE"]));
        assert_eq!(body["warnings"][0]["key"], "reset_kinds");
        assert!(body["warnings"][0]["message"].as_str().unwrap().contains("NIST SP 800-63B"), "{body}");

        // PUT replaces the whole policy; keys left out take their defaults.
        let r = c
            .put(h.url("/api/v1/admin/policy"))
            .bearer_auth(&admin)
            .json(&json!({"registration_skips": 2}))
            .send()
            .await
            .unwrap();
        let (status, body) = crate::common::response(r).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["policy"]["registration_skips"], 2);
        assert_eq!(body["policy"]["phone_countries"], json!([]));
        assert_eq!(h.tessera().policy().await.unwrap().registration_skips, 2);
    })
    .await;
}

/// A new person at the registration interrupt: (registration token, flow).
async fn interrupted(h: &Harness, c: &reqwest::Client, username: &str) -> (String, String) {
    h.add_user(username).await;
    let body = h.api_sign_in(c, username).await;
    assert_eq!(body["status"], "registration_required", "{body}");
    (
        body["session"].as_str().unwrap().into(),
        body["flow"].as_str().unwrap().into(),
    )
}

#[tokio::test]
async fn registration_asks_for_enough_methods_to_reset_too() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        h.set_policy("reset_methods_required", "2").await;
        let (token, flow) = interrupted(&h, &c, "bob@example.org").await;
        let (_, needs) = h.get(&c, "/api/v1/me/registration", Some(&token)).await;
        assert_eq!(needs, json!({"met": false, "sign_in_method_needed": true, "reset_methods_missing": 2, "skips_left": 0}));

        let (id, secret) = h.add_code_method(&c, &token).await;
        let (status, _) = h
            .post(&c, &format!("/api/v1/me/security-info/methods/{id}/verify"), Some(&token), json!({"code": h.code(&secret, 0)}))
            .await;
        assert_eq!(status, 200);
        let (_, body) = h.get(&c, &format!("/api/v1/sign-in/{flow}"), Some(&token)).await;
        assert_eq!(body["status"], "registration_required", "one reset method is not enough: {body}");
        let (_, needs) = h.get(&c, "/api/v1/me/registration", Some(&token)).await;
        assert_eq!((needs["sign_in_method_needed"].as_bool(), needs["reset_methods_missing"].as_u64()), (Some(false), Some(1)));
        let (status, _) = h.get(&c, "/api/v1/me/activity", Some(&token)).await;
        assert_eq!(status, 403, "still limited to registering");

        // What this session registered needs no step-up to add the next one.
        new_set(&h, &c, &token).await;
        let (_, body) = h.get(&c, &format!("/api/v1/sign-in/{flow}"), Some(&token)).await;
        assert_eq!(body["status"], "signed_in", "{body}");
        let session = body["session"].as_str().unwrap();
        let (status, _) = h.get(&c, "/api/v1/me/activity", Some(session)).await;
        assert_eq!(status, 200);
    })
    .await;
}

#[tokio::test]
async fn a_person_short_of_reset_methods_is_sent_on_after_the_second_factor() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, method, secret) = h.enrolled_user(&c, "carol@example.org").await;
        h.set_policy("reset_methods_required", "2").await;
        let body = h.api_sign_in(&c, "carol@example.org").await;
        assert_eq!(body["status"], "mfa_required", "{body}");
        let flow = body["flow"].as_str().unwrap().to_string();
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
            (200, Some("registration_required")),
            "{body}"
        );
        let token = body["session"].as_str().unwrap().to_string();
        let (_, me) = h.get(&c, "/api/v1/me", Some(&token)).await;
        assert_eq!(me["session"], "registration");
        let (_, body) = h
            .get(&c, &format!("/api/v1/sign-in/{flow}"), Some(&token))
            .await;
        assert_eq!(body["status"], "registration_required");

        // The second factor was just given: adding a method needs no step-up.
        new_set(&h, &c, &token).await;
        let (_, body) = h
            .get(&c, &format!("/api/v1/sign-in/{flow}"), Some(&token))
            .await;
        assert_eq!(body["status"], "signed_in", "{body}");
        let (_, me) = h
            .get(&c, "/api/v1/me", Some(body["session"].as_str().unwrap()))
            .await;
        assert_eq!(me["session"], "full");
    })
    .await;
}

#[tokio::test]
async fn registration_may_be_skipped_as_often_as_the_policy_allows() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _) = interrupted(&h, &c, "dave@example.org").await;
        let (status, body) = h
            .post(&c, "/api/v1/me/registration/skip", Some(&token), json!({}))
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("not_allowed")),
            "no skips by default: {body}"
        );

        h.set_policy("registration_skips", "1").await;
        let (_, needs) = h.get(&c, "/api/v1/me/registration", Some(&token)).await;
        assert_eq!(needs["skips_left"], 1);
        let (status, body) = h
            .post(&c, "/api/v1/me/registration/skip", Some(&token), json!({}))
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("signed_in")),
            "{body}"
        );
        let session = body["session"].as_str().unwrap().to_string();
        let (_, me) = h.get(&c, "/api/v1/me", Some(&session)).await;
        assert_eq!(me["session"], "full");
        let (status, _) = h.get(&c, "/api/v1/me", Some(&token)).await;
        assert_eq!(status, 401, "the registration session is gone");

        let (token, _) = {
            let body = h.api_sign_in(&c, "dave@example.org").await;
            assert_eq!(
                body["status"], "registration_required",
                "asked again next time: {body}"
            );
            (body["session"].as_str().unwrap().to_string(), ())
        };
        let (_, needs) = h.get(&c, "/api/v1/me/registration", Some(&token)).await;
        assert_eq!(needs["skips_left"], 0);
        let (status, _) = h
            .post(&c, "/api/v1/me/registration/skip", Some(&token), json!({}))
            .await;
        assert_eq!(status, 403, "no skips left");
    })
    .await;
}

#[tokio::test]
async fn two_step_off_signs_in_with_the_password_alone() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        h.enrolled_user(&c, "erin@example.org").await;
        h.set_policy("two_step_required", "false").await;
        let body = h.api_sign_in(&c, "erin@example.org").await;
        assert_eq!(body["status"], "signed_in", "{body}");

        // Without methods, the interrupt still asks for a way to reset the password …
        h.add_user("fay@example.org").await;
        let body = h.api_sign_in(&c, "fay@example.org").await;
        assert_eq!(body["status"], "registration_required", "{body}");
        let token = body["session"].as_str().unwrap();
        let (_, needs) = h.get(&c, "/api/v1/me/registration", Some(token)).await;
        assert_eq!(
            (
                needs["sign_in_method_needed"].as_bool(),
                needs["reset_methods_missing"].as_u64()
            ),
            (Some(false), Some(1))
        );
        // … unless reset is off too.
        h.set_policy("reset_enabled", "false").await;
        let body = h.api_sign_in(&c, "fay@example.org").await;
        assert_eq!(body["status"], "signed_in", "{body}");
    })
    .await;
}
