//! `POST /api/v1/verify`: what a PAM module or a RADIUS server asks, with a service key an
//! admin issued.

use crate::admin::{admin, audit_of, id_of};
use crate::common::{Harness, PASSWORD, each_backend};
use serde_json::{Value, json};

/// A service key issued by a new admin: (admin token, key id, key).
pub async fn service_key(h: &Harness, c: &reqwest::Client) -> (String, String, String) {
    let (admin_token, _) = admin(h, c, "root@example.org").await;
    let (status, body) = h
        .post(
            c,
            "/api/v1/admin/service-credentials",
            Some(&admin_token),
            json!({"name": "VPN RADIUS"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let key = body["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("tsk_"), "{key}");
    (
        admin_token,
        body["credential"]["id"].as_str().unwrap().to_string(),
        key,
    )
}

/// Asks `/verify` with the key; (status, answer).
pub async fn ask(h: &Harness, c: &reqwest::Client, key: &str, body: Value) -> (u16, Value) {
    h.post(c, "/api/v1/verify", Some(key), body).await
}

fn reason(answer: &Value) -> (bool, &str) {
    (
        answer["valid"].as_bool().unwrap_or(false),
        answer["reason"].as_str().unwrap_or(""),
    )
}

#[tokio::test]
async fn a_service_checks_password_and_code_like_a_sign_in() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (admin_token, _, key) = service_key(&h, &c).await;
        let (_, _, secret) = h.enrolled_user(&c, "eve@example.org").await;
        let user = "eve@example.org";

        let (status, body) = h
            .post(
                &c,
                "/api/v1/verify",
                None,
                json!({"username": user, "password": PASSWORD}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("unauthorized")),
            "no key"
        );
        let (status, _) = ask(
            &h,
            &c,
            "tsk_not-a-real-key",
            json!({"username": user, "password": PASSWORD}),
        )
        .await;
        assert_eq!(status, 401, "an unknown key");
        let (status, _) = ask(
            &h,
            &c,
            &admin_token,
            json!({"username": user, "password": PASSWORD}),
        )
        .await;
        assert_eq!(status, 401, "a session token is not a service key");

        let (status, body) = ask(&h, &c, &key, json!({"username": user})).await;
        assert_eq!((status, body["field"].as_str()), (400, Some("password")));
        let (_, a) = ask(
            &h,
            &c,
            &key,
            json!({"username": "nobody@example.org", "password": PASSWORD}),
        )
        .await;
        assert_eq!(reason(&a), (false, "invalid_credentials"));
        let (_, a) = ask(
            &h,
            &c,
            &key,
            json!({"username": user, "password": "wrong password"}),
        )
        .await;
        assert_eq!(reason(&a), (false, "invalid_credentials"));
        let (_, a) = ask(
            &h,
            &c,
            &key,
            json!({"username": user, "password": PASSWORD}),
        )
        .await;
        assert_eq!(reason(&a), (false, "code_required"));
        let (_, a) = ask(
            &h,
            &c,
            &key,
            json!({"username": user, "password": PASSWORD, "code": h.wrong_code(&secret)}),
        )
        .await;
        assert_eq!(reason(&a), (false, "invalid_code"));
        let code = h.code(&secret, 0);
        let (status, a) = ask(
            &h,
            &c,
            &key,
            json!({"username": "EVE@example.org ", "password": PASSWORD, "code": code}),
        )
        .await;
        assert_eq!((status, reason(&a)), (200, (true, "ok")), "{a}");
        let (_, a) = ask(
            &h,
            &c,
            &key,
            json!({"username": user, "password": PASSWORD, "code": code}),
        )
        .await;
        assert_eq!(
            reason(&a),
            (false, "invalid_code"),
            "a code is never accepted twice"
        );

        // Every answer is audited, with the service named.
        let events = audit_of(&h, &c, &admin_token, &id_of(&h, user).await).await;
        let asked: Vec<&Value> = events
            .iter()
            .filter(|e| e["action"].as_str().unwrap().starts_with("service_verify_"))
            .collect();
        assert_eq!(asked.len(), 5, "{events:?}");
        assert!(
            asked
                .iter()
                .all(|e| e["detail"]["service_name"] == "VPN RADIUS")
        );
        assert_eq!(asked[1]["action"], "service_verify_accepted");
        assert_eq!(asked[1]["detail"]["via"], "password");
        let (_, unknown) = h
            .get(
                &c,
                "/api/v1/admin/audit?action=service_verify_rejected",
                Some(&admin_token),
            )
            .await;
        assert!(
            unknown["events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["detail"]["username_hash"].is_string()),
            "{unknown}"
        );
        assert!(
            !unknown.to_string().contains("nobody"),
            "an unknown username is kept only as a tag: {unknown}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_revoked_key_is_refused() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (admin_token, key_id, key) = service_key(&h, &c).await;
        h.set_policy("registration_required", "false").await;
        h.add_user("fay@example.org").await;
        let question = json!({"username": "fay@example.org", "password": PASSWORD});
        let (status, a) = ask(&h, &c, &key, question.clone()).await;
        assert_eq!(
            (status, reason(&a)),
            (200, (true, "ok")),
            "no second factor, none required"
        );
        let (_, list) = h
            .get(&c, "/api/v1/admin/service-credentials", Some(&admin_token))
            .await;
        assert!(list["credentials"][0]["last_used_at"].is_string(), "{list}");

        let (status, _) = h
            .delete(
                &c,
                &format!("/api/v1/admin/service-credentials/{key_id}"),
                &admin_token,
            )
            .await;
        assert_eq!(status, 204);
        let (status, body) = ask(&h, &c, &key, question).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("unauthorized"))
        );
        let (status, _) = h
            .delete(
                &c,
                &format!("/api/v1/admin/service-credentials/{key_id}"),
                &admin_token,
            )
            .await;
        assert_eq!(status, 404, "already revoked");
        let (_, list) = h
            .get(&c, "/api/v1/admin/service-credentials", Some(&admin_token))
            .await;
        assert!(list["credentials"][0]["revoked_at"].is_string(), "{list}");
        let (_, log) = h
            .get(
                &c,
                "/api/v1/admin/audit?action=service_credential_revoked",
                Some(&admin_token),
            )
            .await;
        assert_eq!(log["events"].as_array().unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn disabled_accounts_temporary_passwords_and_floods_are_refused() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (admin_token, _, key) = service_key(&h, &c).await;
        h.enrolled_user(&c, "gus@example.org").await;
        let gus = id_of(&h, "gus@example.org").await;
        let question =
            json!({"username": "gus@example.org", "password": PASSWORD, "code": "123456"});
        h.post(
            &c,
            &format!("/api/v1/admin/accounts/{gus}/disable"),
            Some(&admin_token),
            json!({}),
        )
        .await;
        let (_, a) = ask(&h, &c, &key, question.clone()).await;
        assert_eq!(
            reason(&a),
            (false, "invalid_credentials"),
            "a disabled account's right password reads as a wrong one"
        );
        let (_, a) = ask(
            &h,
            &c,
            &key,
            json!({"username": "gus@example.org", "password": "wrong"}),
        )
        .await;
        assert_eq!(
            reason(&a),
            (false, "invalid_credentials"),
            "a wrong password says nothing more"
        );
        h.post(
            &c,
            &format!("/api/v1/admin/accounts/{gus}/enable"),
            Some(&admin_token),
            json!({}),
        )
        .await;
        let (_, body) = h
            .post(
                &c,
                &format!("/api/v1/admin/accounts/{gus}/temporary-password"),
                Some(&admin_token),
                json!({}),
            )
            .await;
        let temporary = body["temporary_password"].as_str().unwrap();
        let (_, a) = ask(
            &h,
            &c,
            &key,
            json!({"username": "gus@example.org", "password": temporary}),
        )
        .await;
        assert_eq!(reason(&a), (false, "password_change_required"));

        // Ten questions about one username a minute; the eleventh waits.
        h.advance(60);
        for _ in 0..10 {
            let (status, _) = ask(
                &h,
                &c,
                &key,
                json!({"username": "hal@example.org", "password": "x"}),
            )
            .await;
            assert_eq!(status, 200);
        }
        let (status, body) = ask(
            &h,
            &c,
            &key,
            json!({"username": "hal@example.org", "password": "x"}),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (429, Some("rate_limited")),
            "{body}"
        );
        assert!(body["retry_after"].as_u64().unwrap() <= 60);
        let (status, _) = ask(
            &h,
            &c,
            &key,
            json!({"username": "ida@example.org", "password": "x"}),
        )
        .await;
        assert_eq!(status, 200, "another username has its own budget");
        h.advance(60);
        let (status, _) = ask(
            &h,
            &c,
            &key,
            json!({"username": "hal@example.org", "password": "x"}),
        )
        .await;
        assert_eq!(status, 200, "a new minute, a new budget");
    })
    .await;
}
