//! Security info through the API: registering, step-up, default, deleting.

use crate::common::{Harness, each_backend};
use serde_json::json;

#[tokio::test]
async fn code_method_registration_gives_an_otpauth_uri_and_qr() {
    each_backend(|h: Harness| async move {
        h.set_policy("registration_required", "false").await;
        let c = h.client();
        h.add_user("olivia@example.org").await;
        let token = h.api_sign_in(&c, "olivia@example.org").await["session"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, body) = h
            .post(
                &c,
                "/api/v1/me/security-info/methods",
                Some(&token),
                json!({"kind": "authenticator_code", "name": "Phone app"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["status"], "pending");
        let secret = body["secret"].as_str().unwrap();
        assert_eq!(secret.len(), 32, "160 bits in base32");
        let uri = body["otpauth_uri"].as_str().unwrap();
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(
            uri.contains(&format!("secret={secret}")) && uri.contains("issuer=Example"),
            "{uri}"
        );
        assert!(
            body["qr_svg"].as_str().unwrap().starts_with("<?xml")
                || body["qr_svg"].as_str().unwrap().contains("<svg")
        );
        let id = body["id"].as_str().unwrap();

        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/me/security-info/methods/{id}/verify"),
                Some(&token),
                json!({"code": h.wrong_code(secret)}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_code"))
        );
        let (_, info) = h.get(&c, "/api/v1/me/security-info", Some(&token)).await;
        assert_eq!(
            info["methods"][0]["status"], "pending",
            "a wrong code activates nothing"
        );
        assert_eq!(info["methods"][0]["label"], "Phone app");
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/me/security-info/methods/{id}/verify"),
                Some(&token),
                json!({"code": h.code(secret, 0)}),
            )
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("active")),
            "{body}"
        );
    })
    .await;
}

#[tokio::test]
async fn pending_registration_expires() {
    each_backend(|h: Harness| async move {
        h.set_policy("registration_required", "false").await;
        let c = h.client();
        h.add_user("peggy@example.org").await;
        let token = h.api_sign_in(&c, "peggy@example.org").await["session"]
            .as_str()
            .unwrap()
            .to_string();
        let (id, secret) = h.add_code_method(&c, &token).await;
        h.advance(11 * 60);
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/me/security-info/methods/{id}/verify"),
                Some(&token),
                json!({"code": h.code(&secret, 0)}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (410, Some("expired")),
            "{body}"
        );
        let (_, info) = h.get(&c, "/api/v1/me/security-info", Some(&token)).await;
        assert_eq!(
            info["methods"].as_array().unwrap().len(),
            0,
            "lapsed registrations are not listed"
        );
    })
    .await;
}

#[tokio::test]
async fn step_up_is_required_for_a_second_method() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, method, secret) = h.enrolled_user(&c, "rupert@example.org").await;
        // Just signed in with a second factor: changes are allowed for ten minutes.
        let (status, _) = h
            .post(
                &c,
                "/api/v1/me/security-info/methods",
                Some(&token),
                json!({"kind": "authenticator_code"}),
            )
            .await;
        assert_eq!(status, 201);
        h.advance(11 * 60);
        let (status, body) = h
            .post(
                &c,
                "/api/v1/me/security-info/methods",
                Some(&token),
                json!({"kind": "authenticator_code"}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("step_up_required")),
            "{body}"
        );

        let (status, body) = h
            .post(
                &c,
                "/api/v1/me/step-up",
                Some(&token),
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
                "/api/v1/me/step-up/verify",
                Some(&token),
                json!({"method_id": method, "code": h.wrong_code(&secret)}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_code"))
        );
        let (status, body) = h
            .post(
                &c,
                "/api/v1/me/step-up/verify",
                Some(&token),
                json!({"method_id": method, "code": h.code(&secret, 0)}),
            )
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("verified")),
            "{body}"
        );
        let (status, _) = h
            .post(
                &c,
                "/api/v1/me/security-info/methods",
                Some(&token),
                json!({"kind": "authenticator_code"}),
            )
            .await;
        assert_eq!(status, 201, "allowed after step-up");
    })
    .await;
}

#[tokio::test]
async fn deleting_the_default_moves_the_default() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, first, _) = h.enrolled_user(&c, "sybil@example.org").await;
        let (second, secret2) = h.add_code_method(&c, &token).await;
        let (status, _) = h
            .post(
                &c,
                &format!("/api/v1/me/security-info/methods/{second}/verify"),
                Some(&token),
                json!({"code": h.code(&secret2, 0)}),
            )
            .await;
        assert_eq!(status, 200);
        let (_, info) = h.get(&c, "/api/v1/me/security-info", Some(&token)).await;
        assert_eq!(
            info["default_method"],
            first.as_str(),
            "a second method does not take the default"
        );

        let (status, body) = h
            .put(
                &c,
                "/api/v1/me/security-info/default",
                &token,
                json!({"method_id": second}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (_, info) = h.get(&c, "/api/v1/me/security-info", Some(&token)).await;
        assert_eq!(info["default_method"], second.as_str());

        let (status, _) = h
            .delete(
                &c,
                &format!("/api/v1/me/security-info/methods/{second}"),
                &token,
            )
            .await;
        assert_eq!(status, 204);
        let (_, info) = h.get(&c, "/api/v1/me/security-info", Some(&token)).await;
        assert_eq!(
            info["default_method"],
            first.as_str(),
            "the default moved to the remaining method"
        );
        assert_eq!(info["methods"].as_array().unwrap().len(), 1);
        let (status, _) = h
            .delete(
                &c,
                &format!("/api/v1/me/security-info/methods/{second}"),
                &token,
            )
            .await;
        assert_eq!(status, 404, "already gone");
    })
    .await;
}

#[tokio::test]
async fn deleting_needs_step_up_too() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, method, _) = h.enrolled_user(&c, "trent@example.org").await;
        h.advance(11 * 60);
        let (status, body) = h
            .delete(
                &c,
                &format!("/api/v1/me/security-info/methods/{method}"),
                &token,
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("step_up_required"))
        );
        let (_, info) = h.get(&c, "/api/v1/me/security-info", Some(&token)).await;
        assert_eq!(
            info["methods"].as_array().unwrap().len(),
            1,
            "nothing changed"
        );
    })
    .await;
}

#[tokio::test]
async fn unknown_and_unavailable_kinds_are_refused() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _, _) = h.enrolled_user(&c, "victor@example.org").await;
        let (status, body) = h
            .post(
                &c,
                "/api/v1/me/security-info/methods",
                Some(&token),
                json!({"kind": "carrier_pigeon"}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str(), body["field"].as_str()),
            (400, Some("bad_request"), Some("kind"))
        );
        // A kind allowed for neither two-step sign-in nor password reset cannot be added.
        h.set_policy("mfa_kinds", "security_key").await;
        h.set_policy("reset_kinds", "security_key").await;
        let (status, body) = h
            .post(
                &c,
                "/api/v1/me/security-info/methods",
                Some(&token),
                json!({"kind": "authenticator_code"}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("not_allowed")),
            "policy forbids the kind"
        );
    })
    .await;
}
