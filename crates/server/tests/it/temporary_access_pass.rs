//! Temporary access passes: issued by an admin, one use, time-limited, a second factor at
//! sign-in, and the person is told.

use crate::admin::{admin, audit_of, id_of, sign_in};
use crate::common::{Harness, PASSWORD, each_backend};
use serde_json::{Value, json};

async fn issue(
    h: &Harness,
    c: &reqwest::Client,
    admin: &str,
    account: &str,
    minutes: u32,
) -> (String, String) {
    let (status, body) = h
        .post(
            c,
            &format!("/api/v1/admin/accounts/{account}/temporary-access-pass"),
            Some(admin),
            json!({"valid_for_minutes": minutes}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let pass = body["pass"].as_str().unwrap().to_string();
    assert_eq!(pass.len(), 10, "{pass}");
    assert!(pass.chars().all(|c| c.is_ascii_digit()));
    (body["method_id"].as_str().unwrap().to_string(), pass)
}

fn pass_in(methods: &Value) -> Option<String> {
    methods
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "temporary_access_pass")
        .map(|m| m["id"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn a_pass_is_a_second_factor_that_works_once() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (admin_token, _) = admin(&h, &c, "ada@example.org").await;
        h.enrolled_user(&c, "lost.phone@example.org").await;
        let person = id_of(&h, "lost.phone@example.org").await;
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/admin/accounts/{person}/temporary-access-pass"),
                Some(&admin_token),
                json!({"valid_for_minutes": 5}),
            )
            .await;
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some("valid_for_minutes")),
            "too short"
        );
        let (method, pass) = issue(&h, &c, &admin_token, &person, 60).await;

        let body = h.api_sign_in(&c, "lost.phone@example.org").await;
        assert_eq!(body["status"], "mfa_required");
        assert_eq!(
            pass_in(&body["methods"]).as_deref(),
            Some(method.as_str()),
            "{body}"
        );
        let flow = body["flow"].as_str().unwrap();
        let (status, challenge) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/challenge"),
                None,
                json!({"method_id": method}),
            )
            .await;
        assert_eq!(
            (status, challenge["kind"].as_str()),
            (200, Some("temporary_access_pass"))
        );
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/verify"),
                None,
                json!({"method_id": method, "code": "0000000000"}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_code")),
            "a wrong pass"
        );
        let shown = format!("{} {}", &pass[..5], &pass[5..]);
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/verify"),
                None,
                json!({"method_id": method, "code": shown}),
            )
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("signed_in")),
            "{body}"
        );

        // Used once: the next sign-in neither offers it nor takes it.
        let body = h.api_sign_in(&c, "lost.phone@example.org").await;
        assert_eq!(pass_in(&body["methods"]), None, "{body}");
        let flow = body["flow"].as_str().unwrap();
        let (status, _) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/verify"),
                None,
                json!({"method_id": method, "code": pass}),
            )
            .await;
        assert_ne!(status, 200);

        let events = audit_of(&h, &c, &admin_token, &person).await;
        let issued = events
            .iter()
            .find(|e| e["action"] == "temporary_access_pass_issued")
            .unwrap();
        assert_eq!(issued["detail"]["minutes"], 60);
        assert!(
            !issued.to_string().contains(&pass),
            "the pass is never logged"
        );
        assert!(
            events
                .iter()
                .any(|e| e["action"] == "sign_in_succeeded" && e["method_id"] == method.as_str())
        );
    })
    .await;
}

#[tokio::test]
async fn a_pass_expires_and_a_new_one_replaces_the_old() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (admin_token, _) = admin(&h, &c, "ada@example.org").await;
        h.enrolled_user(&c, "jon@example.org").await;
        let jon = id_of(&h, "jon@example.org").await;
        let (first, first_pass) = issue(&h, &c, &admin_token, &jon, 10).await;
        let (second, _) = issue(&h, &c, &admin_token, &jon, 10).await;
        let body = h.api_sign_in(&c, "jon@example.org").await;
        assert_eq!(
            pass_in(&body["methods"]).as_deref(),
            Some(second.as_str()),
            "only the newest"
        );
        let flow = body["flow"].as_str().unwrap();
        let (status, _) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/verify"),
                None,
                json!({"method_id": first, "code": first_pass}),
            )
            .await;
        assert_eq!(status, 404, "the replaced pass is gone");

        let (_, third_pass) = issue(&h, &c, &admin_token, &jon, 10).await;
        let body = h.api_sign_in(&c, "jon@example.org").await;
        let flow = body["flow"].as_str().unwrap().to_string();
        let third = pass_in(&body["methods"]).unwrap();
        h.advance(10 * 60 + 1);
        // The flow itself lasts 10 minutes too; a new one shows the pass is gone.
        let (status, _) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/verify"),
                None,
                json!({"method_id": third, "code": third_pass}),
            )
            .await;
        assert_eq!(status, 410);
        let body = h.api_sign_in(&c, "jon@example.org").await;
        assert_eq!(pass_in(&body["methods"]), None, "{body}");

        // Revoking: nothing to revoke now.
        let (status, _) = h
            .delete(
                &c,
                &format!("/api/v1/admin/accounts/{jon}/temporary-access-pass"),
                &admin_token,
            )
            .await;
        assert_eq!(status, 404);
    })
    .await;
}

#[tokio::test]
async fn onboarding_with_a_temporary_password_and_a_pass_notifies_the_person() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (admin_token, _) = admin(&h, &c, "ada@example.org").await;
        let (_, created) = h
            .post(
                &c,
                "/api/v1/admin/accounts",
                Some(&admin_token),
                json!({"username": "new.hire@example.org", "email": "new.hire@home.example"}),
            )
            .await;
        let person = created["account"]["id"].as_str().unwrap().to_string();
        let temporary = created["temporary_password"].as_str().unwrap().to_string();
        let (_, pass) = issue(&h, &c, &admin_token, &person, 8 * 60).await;

        // The person hears of it at their other address.
        let messages = h.store().recent_messages(20).await.unwrap();
        let told = messages
            .iter()
            .filter(|m| m.account_id.map(|a| a.to_string()) == Some(person.clone()))
            .collect::<Vec<_>>();
        assert_eq!(told.len(), 1, "{messages:?}");
        assert_eq!(told[0].to, "new.hire@home.example");
        let (_, activity) = h
            .get(
                &c,
                &format!("/api/v1/admin/accounts/{person}"),
                Some(&admin_token),
            )
            .await;
        assert!(
            activity["activity"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "temporary_access_pass_issued")
        );

        // Temporary password, then the pass as the second step.
        let body = sign_in(&h, &c, "new.hire@example.org", &temporary).await;
        assert_eq!(body["status"], "mfa_required", "{body}");
        let flow = body["flow"].as_str().unwrap();
        let method = pass_in(&body["methods"]).unwrap();
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/verify"),
                None,
                json!({"method_id": method, "code": pass}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let token = body["session"].as_str().unwrap().to_string();

        // First a password of their own; then an authenticator app, with no further step.
        let (status, body) = h.get(&c, "/api/v1/me/activity", Some(&token)).await;
        assert_eq!((status, body["error"].as_str()), (403, Some("not_allowed")));
        let (status, _) = h
            .post(
                &c,
                "/api/v1/me/password",
                Some(&token),
                json!({"current_password": temporary, "new_password": PASSWORD}),
            )
            .await;
        assert_eq!(status, 204);
        let (id, secret) = h.add_code_method(&c, &token).await;
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/me/security-info/methods/{id}/verify"),
                Some(&token),
                json!({"code": h.code(&secret, 0)}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        h.advance(30);
        let token = h
            .sign_in_with_code(&c, "new.hire@example.org", &secret)
            .await;
        let (status, _) = h.get(&c, "/api/v1/me/activity", Some(&token)).await;
        assert_eq!(status, 200);
    })
    .await;
}

#[tokio::test]
async fn an_admin_issues_a_pass_on_the_account_page() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (admin_token, _) = admin(&h, &c, "ada@example.org").await;
        h.enrolled_user(&c, "kim@example.org").await;
        let kim = id_of(&h, "kim@example.org").await;
        let cookie = format!("tessera_session={admin_token}; tessera_csrf=0123456789abcdef0123456789abcdef0123456789a");
        let page = c
            .get(h.url(&format!("/admin/accounts/{kim}")))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("kim@example.org") && html.contains("Authenticator app or hardware token"), "{html}");
        assert!(html.contains("Issue temporary access pass"), "{html}");

        let form = serde_urlencoded::to_string([
            ("csrf", "0123456789abcdef0123456789abcdef0123456789a"),
            ("minutes", "30"),
        ])
        .unwrap();
        let r = c
            .post(h.url(&format!("/admin/accounts/{kim}/temporary-access-pass")))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let html = r.text().await.unwrap();
        assert!(html.contains("Temporary access pass issued"), "{html}");
        let shown = html.split("id=\"secret\">").nth(1).unwrap().split('<').next().unwrap();
        assert_eq!(shown.len(), 11, "{shown}");

        let body = h.api_sign_in(&c, "kim@example.org").await;
        let flow = body["flow"].as_str().unwrap();
        let method = pass_in(&body["methods"]).unwrap();
        let (status, _) = h
            .post(&c, &format!("/api/v1/sign-in/{flow}/verify"), None, json!({"method_id": method, "code": shown}))
            .await;
        assert_eq!(status, 200);
    })
    .await;
}

#[tokio::test]
async fn a_pass_opens_a_gate_of_password_reset_once() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (admin_token, _) = admin(&h, &c, "ada@example.org").await;
        h.enrolled_user(&c, "liv@example.org").await;
        let liv = id_of(&h, "liv@example.org").await;
        let (method, pass) = issue(&h, &c, &admin_token, &liv, 60).await;
        let (status, body) = h
            .post(
                &c,
                "/api/v1/reset",
                None,
                json!({"username": "liv@example.org"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            pass_in(&body["methods"]).as_deref(),
            Some(method.as_str()),
            "{body}"
        );
        let flow = body["flow"].as_str().unwrap().to_string();
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/reset/{flow}/verify"),
                None,
                json!({"method_id": method, "code": pass}),
            )
            .await;
        assert_eq!(
            (status, body["gates_passed"].as_u64()),
            (200, Some(1)),
            "{body}"
        );
        let (status, _) = h
            .post(
                &c,
                &format!("/api/v1/reset/{flow}/password"),
                None,
                json!({"new_password": "a brand new passphrase"}),
            )
            .await;
        assert_eq!(status, 204);
        // Spent: a second reset does not offer it, nor does a sign-in.
        let (_, body) = h
            .post(
                &c,
                "/api/v1/reset",
                None,
                json!({"username": "liv@example.org"}),
            )
            .await;
        assert_eq!(pass_in(&body["methods"]), None, "{body}");
        let body = sign_in(&h, &c, "liv@example.org", "a brand new passphrase").await;
        assert_eq!(pass_in(&body["methods"]), None, "{body}");
    })
    .await;
}
