//! The admin side over HTTP: admin-only endpoints and pages, account management, temporary
//! passwords, the audit log and its export. Every admin action is an audit event naming the
//! admin.

use crate::common::{Harness, PASSWORD, each_backend, response};
use serde_json::{Value, json};
use tessera_core::AccountStatus;

/// An admin with an authenticator code method, signed in through the API: (token, secret).
pub async fn admin(h: &Harness, c: &reqwest::Client, username: &str) -> (String, String) {
    let (token, _, secret) = h.enrolled_user(c, username).await;
    let mut account = h
        .store()
        .account_by_username(username)
        .await
        .unwrap()
        .unwrap();
    account.is_admin = true;
    h.store().update_account(&account, None).await.unwrap();
    (token, secret)
}

/// The account id of `username`.
pub async fn id_of(h: &Harness, username: &str) -> String {
    h.store()
        .account_by_username(username)
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string()
}

/// The audit events of the account (through the admin API), newest first.
pub async fn audit_of(h: &Harness, c: &reqwest::Client, admin: &str, account: &str) -> Vec<Value> {
    let (status, body) = h
        .get(
            c,
            &format!("/api/v1/admin/audit?account={account}"),
            Some(admin),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["events"].as_array().unwrap().clone()
}

fn actions(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn admin_endpoints_and_pages_refuse_a_normal_person() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _, _) = h.enrolled_user(&c, "nora@example.org").await;
        let id = id_of(&h, "nora@example.org").await;
        let gets = [
            "/api/v1/admin/accounts".to_string(),
            format!("/api/v1/admin/accounts/{id}"),
            "/api/v1/admin/audit".to_string(),
            "/api/v1/admin/audit/export".to_string(),
            "/api/v1/admin/service-credentials".to_string(),
        ];
        for path in &gets {
            let (status, body) = h.get(&c, path, Some(&token)).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (403, Some("not_allowed")),
                "{path}: {body}"
            );
            assert_eq!(body["message"], "Only administrators can do this.");
        }
        let posts = [
            (
                "/api/v1/admin/accounts",
                json!({"username": "x@example.org"}),
            ),
            (
                &*format!("/api/v1/admin/accounts/{id}/temporary-access-pass"),
                json!({}),
            ),
            (
                &*format!("/api/v1/admin/accounts/{id}/temporary-password"),
                json!({}),
            ),
            (
                &*format!("/api/v1/admin/accounts/{id}/require-registration"),
                json!({}),
            ),
            (&*format!("/api/v1/admin/accounts/{id}/disable"), json!({})),
            ("/api/v1/admin/service-credentials", json!({"name": "x"})),
        ]
        .map(|(p, b)| (p.to_string(), b));
        for (path, body) in posts {
            let (status, answer) = h.post(&c, &path, Some(&token), body).await;
            assert_eq!(
                (status, answer["error"].as_str()),
                (403, Some("not_allowed")),
                "{path}"
            );
        }
        let r = c
            .post(h.url("/api/v1/admin/import/tokens"))
            .bearer_auth(&token)
            .header("content-type", "text/csv")
            .body("upn,serial number,secret key\n")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let (status, _) = h
            .delete(&c, &format!("/api/v1/admin/accounts/{id}/sessions"), &token)
            .await;
        assert_eq!(status, 403);
        assert_eq!(
            h.store()
                .account(id.parse().unwrap())
                .await
                .unwrap()
                .unwrap()
                .status,
            AccountStatus::Active,
            "nothing changed"
        );
        // Without a session at all: 401.
        let (status, _) = h.get(&c, "/api/v1/admin/accounts", None).await;
        assert_eq!(status, 401);

        // The pages, with the session cookie, in English and in Dutch.
        for path in [
            "/admin/accounts",
            "/admin/audit",
            "/admin/import",
            "/admin/service-credentials",
        ] {
            for (lang, text) in [
                ("en", "Only administrators can do this."),
                ("nl", "Alleen beheerders kunnen dit doen."),
            ] {
                let r = c
                    .get(h.url(path))
                    .header("cookie", format!("tessera_session={token}"))
                    .header("accept-language", lang)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 403, "{path}");
                let html = r.text().await.unwrap();
                assert!(html.contains(text), "{path} ({lang}):\n{html}");
            }
        }
    })
    .await;
}

#[tokio::test]
async fn an_admin_creates_disables_enables_and_signs_out_an_account() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (admin_token, _) = admin(&h, &c, "ada@example.org").await;
        let admin_id = id_of(&h, "ada@example.org").await;
        let (status, created) = h
            .post(
                &c,
                "/api/v1/admin/accounts",
                Some(&admin_token),
                json!({"username": "Ben@Example.org", "display_name": "Ben Bakker", "email": "ben@example.org"}),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["account"]["username"], "ben@example.org");
        let temporary = created["temporary_password"].as_str().unwrap().to_string();
        assert_eq!(temporary.len(), 19, "16 letters in four groups: {temporary}");
        let ben = created["account"]["id"].as_str().unwrap().to_string();
        let (status, again) = h
            .post(&c, "/api/v1/admin/accounts", Some(&admin_token), json!({"username": "ben@example.org"}))
            .await;
        assert_eq!((status, again["field"].as_str()), (400, Some("username")));

        let (_, list) = h.get(&c, "/api/v1/admin/accounts?search=bakk", Some(&admin_token)).await;
        let names: Vec<&str> = list["accounts"].as_array().unwrap().iter().map(|a| a["username"].as_str().unwrap()).collect();
        assert_eq!(names, ["ben@example.org"]);

        // Ben signs in with the temporary password and must choose his own first.
        let body = sign_in(&h, &c, "ben@example.org", &temporary).await;
        assert_eq!(body["status"], "registration_required", "{body}");
        let ben_token = body["session"].as_str().unwrap().to_string();
        let (_, me) = h.get(&c, "/api/v1/me", Some(&ben_token)).await;
        assert_eq!(me["password_change_required"], true, "{me}");
        let (status, body) = h.get(&c, "/api/v1/me/activity", Some(&ben_token)).await;
        assert_eq!((status, body["error"].as_str()), (403, Some("not_allowed")), "{body}");
        assert_eq!(body["message"], "Choose a new password first.");
        let (status, body) = h
            .post(&c, "/api/v1/me/password", Some(&ben_token), json!({"current_password": "wrong one", "new_password": PASSWORD}))
            .await;
        assert_eq!((status, body["field"].as_str()), (400, Some("current_password")), "{body}");
        let (status, body) = h
            .post(&c, "/api/v1/me/password", Some(&ben_token), json!({"current_password": temporary, "new_password": PASSWORD}))
            .await;
        assert_eq!(status, 204, "{body}");
        let (_, me) = h.get(&c, "/api/v1/me", Some(&ben_token)).await;
        assert_eq!(me["password_change_required"], false);

        // Disabled: he cannot sign in and his sessions end; enabled: he can again.
        let (status, body) = h
            .post(&c, &format!("/api/v1/admin/accounts/{ben}/disable"), Some(&admin_token), json!({}))
            .await;
        assert_eq!((status, body["status"].as_str()), (200, Some("disabled")), "{body}");
        let (status, _) = h.get(&c, "/api/v1/me", Some(&ben_token)).await;
        assert_eq!(status, 401);
        let (status, body) = h
            .post(&c, "/api/v1/sign-in", None, json!({"username": "ben@example.org", "password": PASSWORD}))
            .await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_credentials")));
        let (status, _) = h
            .post(&c, &format!("/api/v1/admin/accounts/{ben}/enable"), Some(&admin_token), json!({}))
            .await;
        assert_eq!(status, 200);
        let body = h.api_sign_in(&c, "ben@example.org").await;
        let ben_token = body["session"].as_str().unwrap().to_string();
        let (status, ended) = h
            .delete(&c, &format!("/api/v1/admin/accounts/{ben}/sessions"), &admin_token)
            .await;
        assert_eq!((status, ended["ended"].as_u64()), (200, Some(1)), "{ended}");
        let (status, _) = h.get(&c, "/api/v1/me", Some(&ben_token)).await;
        assert_eq!(status, 401, "signed out everywhere");

        // Every admin action is in the log, naming the admin.
        let events = audit_of(&h, &c, &admin_token, &ben).await;
        let seen = actions(&events);
        for action in ["account_created", "account_disabled", "account_enabled", "sessions_ended"] {
            let by_admin = events
                .iter()
                .filter(|e| e["action"] == action)
                .any(|e| e["detail"]["by"] == admin_id.as_str());
            assert!(by_admin, "{action} by the admin in {seen:?}");
        }
        assert!(seen.contains(&"password_changed".to_string()), "{seen:?}");
    })
    .await;
}

pub async fn sign_in(h: &Harness, c: &reqwest::Client, username: &str, password: &str) -> Value {
    let (status, body) = h
        .post(
            c,
            "/api/v1/sign-in",
            None,
            json!({"username": username, "password": password}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn requiring_registration_and_a_temporary_password_take_effect_at_the_next_sign_in() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (admin_token, _) = admin(&h, &c, "ada@example.org").await;
        let (carl_token, _, _) = h.enrolled_user(&c, "carl@example.org").await;
        let carl = id_of(&h, "carl@example.org").await;
        let (_, detail) = h
            .get(
                &c,
                &format!("/api/v1/admin/accounts/{carl}"),
                Some(&admin_token),
            )
            .await;
        assert_eq!(
            detail["methods"][0]["kind"], "authenticator_code",
            "{detail}"
        );
        assert_eq!(detail["methods"][0]["status"], "active");
        assert!(
            detail["methods"][0].get("secret").is_none(),
            "no secrets: {detail}"
        );
        assert!(
            actions(detail["activity"].as_array().unwrap())
                .contains(&"sign_in_succeeded".to_string())
                || actions(detail["activity"].as_array().unwrap())
                    .contains(&"registration_completed".to_string()),
            "{detail}"
        );

        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/admin/accounts/{carl}/require-registration"),
                Some(&admin_token),
                json!({}),
            )
            .await;
        assert_eq!((status, body["revoked"].as_u64()), (200, Some(1)), "{body}");
        let (status, _) = h.get(&c, "/api/v1/me", Some(&carl_token)).await;
        assert_eq!(status, 401, "the revocation signs Carl out");
        let body = h.api_sign_in(&c, "carl@example.org").await;
        assert_eq!(body["status"], "registration_required", "{body}");

        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/admin/accounts/{carl}/temporary-password"),
                Some(&admin_token),
                json!({"password": "short"}),
            )
            .await;
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some("password")),
            "a weak one is refused"
        );
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/admin/accounts/{carl}/temporary-password"),
                Some(&admin_token),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let temporary = body["temporary_password"].as_str().unwrap().to_string();
        let (status, _) = h
            .post(
                &c,
                "/api/v1/sign-in",
                None,
                json!({"username": "carl@example.org", "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, 401, "the old password is gone");
        let body = sign_in(&h, &c, "carl@example.org", &temporary).await;
        let token = body["session"].as_str().unwrap();
        let (_, me) = h.get(&c, "/api/v1/me", Some(token)).await;
        assert_eq!(me["password_change_required"], true);

        let events = audit_of(&h, &c, &admin_token, &carl).await;
        let seen = actions(&events);
        assert!(seen.contains(&"methods_revoked".to_string()), "{seen:?}");
        assert!(
            seen.contains(&"temporary_password_set".to_string()),
            "{seen:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn the_audit_log_filters_and_exports_as_json_lines() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (admin_token, _) = admin(&h, &c, "ada@example.org").await;
        h.enrolled_user(&c, "dora@example.org").await;
        let (status, _) = h
            .post(
                &c,
                "/api/v1/sign-in",
                None,
                json!({"username": "dora@example.org", "password": "not the password"}),
            )
            .await;
        assert_eq!(status, 401);

        let (status, page) = h
            .get(
                &c,
                "/api/v1/admin/audit?account=dora@example.org&action=sign_in_password_failed",
                Some(&admin_token),
            )
            .await;
        assert_eq!(status, 200, "{page}");
        let events = page["events"].as_array().unwrap();
        assert_eq!(events.len(), 1, "{page}");
        assert_eq!(events[0]["username"], "dora@example.org");
        let (status, body) = h
            .get(
                &c,
                "/api/v1/admin/audit?action=nonsense",
                Some(&admin_token),
            )
            .await;
        assert_eq!((status, body["field"].as_str()), (400, Some("action")));
        let (status, body) = h
            .get(
                &c,
                "/api/v1/admin/audit?since=yesterday",
                Some(&admin_token),
            )
            .await;
        assert_eq!((status, body["field"].as_str()), (400, Some("since")));

        // A page at a time, newest first.
        let (_, first) = h
            .get(&c, "/api/v1/admin/audit?limit=2", Some(&admin_token))
            .await;
        let next = first["next"].as_str().unwrap();
        let (_, second) = h
            .get(
                &c,
                &format!("/api/v1/admin/audit?limit=2&before={next}"),
                Some(&admin_token),
            )
            .await;
        let ids = |p: &Value| {
            p["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].clone())
                .collect::<Vec<_>>()
        };
        assert!(ids(&first).iter().all(|id| !ids(&second).contains(id)));

        let r = c
            .get(h.url("/api/v1/admin/audit/export?account=dora@example.org"))
            .bearer_auth(&admin_token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/x-ndjson");
        let text = r.text().await.unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(lines.len() >= 4, "{text}");
        assert_eq!(
            lines[0]["action"], "account_created",
            "oldest first: {text}"
        );
        assert!(lines.iter().all(|l| l["username"] == "dora@example.org"));
        assert!(
            lines
                .iter()
                .any(|l| l["action"] == "sign_in_password_failed")
        );
        assert!(
            lines
                .iter()
                .all(|l| l["at"].as_str().unwrap().ends_with('Z'))
        );

        // The export itself is recorded.
        let (_, exports) = h
            .get(
                &c,
                "/api/v1/admin/audit?action=audit_exported",
                Some(&admin_token),
            )
            .await;
        assert_eq!(exports["events"].as_array().unwrap().len(), 1, "{exports}");

        // The page offers the same export, with the session cookie.
        let r = c
            .get(h.url("/admin/audit/export?action=audit_exported"))
            .header("cookie", format!("tessera_session={admin_token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let (_, page) = response(r).await;
        assert!(
            page.as_str()
                .unwrap()
                .contains("\"action\":\"audit_exported\""),
            "{page}"
        );
    })
    .await;
}

#[tokio::test]
async fn an_admin_cannot_lock_themselves_out() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _) = admin(&h, &c, "ada@example.org").await;
        let ada = id_of(&h, "ada@example.org").await;
        for action in ["disable", "temporary-password", "require-registration"] {
            let (status, body) = h
                .post(
                    &c,
                    &format!("/api/v1/admin/accounts/{ada}/{action}"),
                    Some(&token),
                    json!({}),
                )
                .await;
            assert_eq!(
                (status, body["error"].as_str()),
                (403, Some("not_allowed")),
                "{action}: {body}"
            );
            assert_eq!(
                body["message"],
                "You can't do this to your own account: ask another administrator."
            );
        }
        let (status, body) = h
            .delete(
                &c,
                &format!("/api/v1/admin/accounts/{ada}/sessions"),
                &token,
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("not_allowed")),
            "{body}"
        );
        let (status, me) = h.get(&c, "/api/v1/me", Some(&token)).await;
        assert_eq!(
            (status, me["username"].as_str()),
            (200, Some("ada@example.org")),
            "still signed in: {me}"
        );
    })
    .await;
}
