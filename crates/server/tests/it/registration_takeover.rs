//! Issue #12: someone who knows only the password signs in first and holds a registration
//! session. Whatever the real person then registers in their own session must never turn
//! that session into a full one: not through the API, not through the pages, neither while
//! its flow is alive nor after it expired, for a new account and after an admin's
//! `require-registration`.

use crate::admin::admin;
use crate::common::{Harness, each_backend};
use crate::web::browser::Browser;
use serde_json::{Value, json};
use tessera_core::audit::{AuditAction, AuditEvent, RequestContext};
use tessera_core::method::{Kind, Method, MethodData, MethodStatus};
use tessera_core::{MethodId, OsRandom};

/// The attacker's password-only sign-in: (registration session, flow).
async fn attacker_signs_in(h: &Harness, username: &str) -> (String, String) {
    let body = h.api_sign_in(&h.client(), username).await;
    assert_eq!(body["status"], "registration_required", "{body}");
    (
        body["session"].as_str().unwrap().to_string(),
        body["flow"].as_str().unwrap().to_string(),
    )
}

/// The real person signs in on the pages and registers an authenticator app there.
async fn person_registers_on_the_pages(h: &Harness, username: &str) {
    let b = Browser::new(h);
    b.password(username).await.redirects_to("/sign-in/register");
    b.add_authenticator("Phone").await;
    b.get("/security-info").await.shows(200, "My security info");
}

/// Everything the attacker's session can try for a full session, none of which may work.
async fn attacker_gets_nothing(h: &Harness, token: &str, flow: &str) {
    let c = h.client();
    let (status, body) = h
        .get(&c, &format!("/api/v1/sign-in/{flow}"), Some(token))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_ne!(body["status"], "signed_in", "{body}");
    assert!(body.get("session").is_none(), "no session: {body}");

    // The page that completes a registration the browser left half-way.
    let r = c
        .get(h.url("/security-info"))
        .header("cookie", format!("tessera_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "the page sends the attacker to sign in");
    assert_eq!(r.headers()["location"], "/sign-in");
    assert!(
        !r.headers().get_all("set-cookie").iter().any(|v| v
            .to_str()
            .unwrap()
            .starts_with("tessera_session=")
            && !v.to_str().unwrap().contains("Max-Age=0")),
        "no new session cookie"
    );

    // Nor can the session add a method of the attacker's own.
    let (status, body) = h
        .post(
            &c,
            "/api/v1/me/security-info/methods",
            Some(token),
            json!({"kind": "authenticator_code"}),
        )
        .await;
    assert_eq!(status, 401, "the registration session ended: {body}");
}

#[tokio::test]
async fn a_new_accounts_registration_session_does_not_complete_with_the_persons_method() {
    each_backend(|h: Harness| async move {
        h.add_user("alice@example.org").await;
        let (token, flow) = attacker_signs_in(&h, "alice@example.org").await;
        person_registers_on_the_pages(&h, "alice@example.org").await;
        attacker_gets_nothing(&h, &token, &flow).await;
    })
    .await;
}

#[tokio::test]
async fn an_expired_registration_flow_completes_nothing_on_the_page() {
    each_backend(|h: Harness| async move {
        h.add_user("alice@example.org").await;
        let (token, flow) = attacker_signs_in(&h, "alice@example.org").await;
        h.advance(601);
        person_registers_on_the_pages(&h, "alice@example.org").await;
        let c = h.client();
        let (status, body) = h
            .get(&c, &format!("/api/v1/sign-in/{flow}"), Some(&token))
            .await;
        assert_eq!((status, body["status"].as_str()), (200, Some("expired")));
        attacker_gets_nothing(&h, &token, &flow).await;
    })
    .await;
}

#[tokio::test]
async fn a_registration_session_ends_with_its_flow() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        h.add_user("bob@example.org").await;
        let (token, _) = attacker_signs_in(&h, "bob@example.org").await;
        let (status, _) = h.get(&c, "/api/v1/me/security-info", Some(&token)).await;
        assert_eq!(status, 200);
        h.advance(601);
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
            (401, Some("unauthorized")),
            "a password alone does not hold a registration open past its flow"
        );
    })
    .await;
}

#[tokio::test]
async fn after_require_registration_the_attackers_session_gets_nothing() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (admin_token, _) = admin(&h, &c, "ada@example.org").await;
        h.enrolled_user(&c, "carl@example.org").await;
        let carl = crate::admin::id_of(&h, "carl@example.org").await;
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/admin/accounts/{carl}/require-registration"),
                Some(&admin_token),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{body}");

        let (token, flow) = attacker_signs_in(&h, "carl@example.org").await;
        // Carl registers again, through the API this time.
        let body = h.api_sign_in(&c, "carl@example.org").await;
        let carl_token = body["session"].as_str().unwrap().to_string();
        let carl_flow = body["flow"].as_str().unwrap().to_string();
        let (id, secret) = h.add_code_method(&c, &carl_token).await;
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/me/security-info/methods/{id}/verify"),
                Some(&carl_token),
                json!({"code": h.code(&secret, 0)}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (_, body) = h
            .get(
                &c,
                &format!("/api/v1/sign-in/{carl_flow}"),
                Some(&carl_token),
            )
            .await;
        assert_eq!(
            body["status"], "signed_in",
            "Carl's own session completes: {body}"
        );
        attacker_gets_nothing(&h, &token, &flow).await;
    })
    .await;
}

#[tokio::test]
async fn a_pass_an_admin_issues_ends_the_registration_sessions() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (admin_token, _) = admin(&h, &c, "ada@example.org").await;
        h.add_user("dan@example.org").await;
        let dan = crate::admin::id_of(&h, "dan@example.org").await;
        let (token, flow) = attacker_signs_in(&h, "dan@example.org").await;
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/admin/accounts/{dan}/temporary-access-pass"),
                Some(&admin_token),
                json!({"valid_for_minutes": 60}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        attacker_gets_nothing(&h, &token, &flow).await;
    })
    .await;
}

/// The rule itself, apart from the sessions that activation ends: a method that appeared
/// after the registration session began, registered by no one it knows, neither completes
/// it nor lets it add methods without a second factor.
#[tokio::test]
async fn only_the_sessions_own_methods_complete_it() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let erin = h.add_user("erin@example.org").await;
        let (token, flow) = attacker_signs_in(&h, "erin@example.org").await;
        h.advance(5);
        let now = tessera_core::Clock::now(h.clock());
        let method = Method {
            id: MethodId::new(&OsRandom),
            account_id: erin.id,
            kind: Kind::AuthenticatorCode,
            status: MethodStatus::Active,
            name: None,
            data: MethodData::Totp {
                digits: 6,
                step_secs: 30,
            },
            sealed_secret: None,
            created_at: now,
            last_used_at: None,
            expires_at: None,
            last_step: None,
            failures: 0,
            locked_until: None,
            registered_by: None,
            way: None,
        };
        let audit = AuditEvent::new(
            &OsRandom,
            now,
            &RequestContext::default(),
            Some(erin.id),
            AuditAction::MethodAdded,
        );
        h.store().insert_method(&method, &audit).await.unwrap();

        let (status, body) = h
            .get(&c, &format!("/api/v1/sign-in/{flow}"), Some(&token))
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("registration_required")),
            "{body}"
        );
        let (status, body): (u16, Value) = h
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
            "a method the session did not register is at stake: {body}"
        );
    })
    .await;
}
