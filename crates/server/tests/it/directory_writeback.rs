//! A directory person's new password goes to the directory (issue #19), against a real slapd
//! (`slapd.rs`: ppolicy with a minimum length and a history of 3), on both stores: a reset
//! and a change are written back (the new password binds, the old one does not), and a
//! refusal by the directory's policy is shown with its reason, in English and in Dutch, with
//! nothing changed in Tessera.

use crate::common::{Harness, each_backend};
use crate::directory_slapd::directory;
use crate::reset::{begin, method_of, new_password, verify};
use crate::slapd::{ALICE_PASSWORD, Slapd, have_slapd};
use crate::web::browser::Browser;
use serde_json::{Value, json};
use std::sync::Arc;
use tessera_core::audit::AuditAction;
use tessera_core::store::admin::{AuditFilter, AuditPage};
use tessera_server::directory::{Directory, DirectoryError, LdapDirectory};

const FIRST: &str = "first new directory pass";
const SECOND: &str = "second new directory pass";
const THIRD: &str = "third new directory pass";

fn connect(h: &Harness, slapd: &Slapd) -> Arc<LdapDirectory> {
    let dir = Arc::new(directory(slapd));
    h.tessera().set_directory(dir.clone());
    dir
}

/// A client whose every request asks for Dutch.
fn dutch() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ACCEPT_LANGUAGE, "nl".parse().unwrap());
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

async fn audited(h: &Harness, action: AuditAction) -> usize {
    let filter = AuditFilter {
        action: Some(action),
        ..AuditFilter::default()
    };
    h.store()
        .audit_page(&filter, AuditPage::NewestFirst { before: None }, 1000)
        .await
        .unwrap()
        .len()
}

/// Alice's first sign-in, with an authenticator code registered at the interrupt: her full
/// session's token and the code's secret.
async fn enrolled_alice(h: &Harness) -> (String, String) {
    let (token, secret, _) = enrolled_alice_method(h).await;
    (token, secret)
}

/// As [`enrolled_alice`], with the method's id.
async fn enrolled_alice_method(h: &Harness) -> (String, String, String) {
    let c = h.client();
    let (status, body) = h
        .post(
            &c,
            "/api/v1/sign-in",
            None,
            json!({"username": "alice", "password": ALICE_PASSWORD}),
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("registration_required"))
    );
    let reg = body["session"].as_str().unwrap().to_string();
    let flow = body["flow"].as_str().unwrap().to_string();
    let (id, secret) = h.add_code_method(&c, &reg).await;
    let (status, body) = h
        .post(
            &c,
            &format!("/api/v1/me/security-info/methods/{id}/verify"),
            Some(&reg),
            json!({"code": h.code(&secret, 0)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = h
        .get(&c, &format!("/api/v1/sign-in/{flow}"), Some(&reg))
        .await;
    assert_eq!(body["status"], "signed_in", "{body}");
    h.advance(30);
    (body["session"].as_str().unwrap().to_string(), secret, id)
}

/// A reset of Alice's password with every gate passed: its flow.
async fn reset_ready(h: &Harness, secret: &str) -> String {
    let c = h.client();
    let (status, body) = begin(h, &c, "alice").await;
    assert_eq!(status, 200, "{body}");
    let flow = body["flow"].as_str().unwrap().to_string();
    let method = method_of(&body, "authenticator_code");
    let (status, body) = verify(
        h,
        &c,
        &flow,
        json!({"method_id": method, "code": h.code(secret, 0)}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    h.advance(30);
    flow
}

async fn binds(dir: &LdapDirectory, password: &str) -> bool {
    match dir.check_password("alice", password).await {
        Ok(_) => true,
        Err(DirectoryError::InvalidCredentials) => false,
        Err(e) => panic!("unexpected {e:?}"),
    }
}

async fn me(h: &Harness, token: &str) -> u16 {
    h.get(&h.client(), "/api/v1/me/security-info", Some(token))
        .await
        .0
}

fn refused_in_history(status: u16, body: &Value, text: &str) {
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "directory_refused", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains(text),
        "{text:?} not in {body}"
    );
}

#[tokio::test]
async fn a_reset_is_written_back_and_a_refusal_shows_its_reason_and_changes_nothing() {
    if !have_slapd() {
        return;
    }
    each_backend(|h: Harness| async move {
        let slapd = Slapd::start();
        let dir = connect(&h, &slapd);
        let (token, secret) = enrolled_alice(&h).await;

        let flow = reset_ready(&h, &secret).await;
        let (status, body) = new_password(&h, &h.client(), &flow, FIRST).await;
        assert_eq!(status, 204, "{body}");
        assert!(binds(&dir, FIRST).await, "the new password binds");
        assert!(!binds(&dir, ALICE_PASSWORD).await, "the old one does not");
        assert_eq!(me(&h, &token).await, 401, "every session ended");
        let alice = h
            .store()
            .account_by_username("alice")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            alice.password_hash,
            tessera_core::account::DIRECTORY_PASSWORD_HASH,
            "no hash kept in Tessera"
        );

        let flow = reset_ready(&h, &secret).await;
        let (status, body) = new_password(&h, &h.client(), &flow, SECOND).await;
        assert_eq!(status, 204, "{body}");
        let (status, session) = h
            .post(
                &h.client(),
                "/api/v1/sign-in",
                None,
                json!({"username": "alice", "password": SECOND}),
            )
            .await;
        assert_eq!(session["status"], "mfa_required", "{status} {session}");

        // FIRST is in her history (3): the directory refuses it, in her language.
        let flow = reset_ready(&h, &secret).await;
        let resets = audited(&h, AuditAction::PasswordReset).await;
        let (status, body) = new_password(&h, &h.client(), &flow, FIRST).await;
        refused_in_history(status, &body, "you have used it before");
        let (status, body) = new_password(&h, &dutch(), &flow, FIRST).await;
        refused_in_history(status, &body, "je hebt het eerder gebruikt");
        // Nothing changed: the directory keeps SECOND, no reset was recorded, and the same
        // reset can still choose another password.
        assert!(binds(&dir, SECOND).await);
        assert!(!binds(&dir, FIRST).await);
        assert_eq!(audited(&h, AuditAction::PasswordReset).await, resets);
        assert_eq!(audited(&h, AuditAction::PasswordResetRefused).await, 2);
        let (status, body) = new_password(&h, &h.client(), &flow, THIRD).await;
        assert_eq!(status, 204, "{body}");
        assert!(binds(&dir, THIRD).await);
    })
    .await;
}

#[tokio::test]
async fn a_change_is_written_back_and_a_refusal_keeps_every_session() {
    if !have_slapd() {
        return;
    }
    each_backend(|h: Harness| async move {
        let slapd = Slapd::start();
        let dir = connect(&h, &slapd);
        let (token, secret) = enrolled_alice(&h).await;
        let other = another_session(&h, &secret, ALICE_PASSWORD).await;
        let change = |current: &'static str, new: &'static str, c: reqwest::Client| {
            let (h, token) = (h.clone(), token.clone());
            async move {
                h.post(
                    &c,
                    "/api/v1/me/password",
                    Some(&token),
                    json!({"current_password": current, "new_password": new}),
                )
                .await
            }
        };

        let (status, body) = change("not her password", FIRST, h.client()).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["field"], "current_password", "{body}");

        let (status, body) = change(ALICE_PASSWORD, FIRST, h.client()).await;
        assert_eq!(status, 204, "{body}");
        assert!(binds(&dir, FIRST).await, "the new password binds");
        assert!(!binds(&dir, ALICE_PASSWORD).await, "the old one does not");
        assert_eq!(me(&h, &token).await, 200, "this session stays");
        assert_eq!(me(&h, &other).await, 401, "the others end");

        let (status, body) = change(FIRST, SECOND, h.client()).await;
        assert_eq!(status, 204, "{body}");
        // Her own policy: the password she just left is in her history.
        let (status, body) = change(SECOND, FIRST, dutch()).await;
        refused_in_history(status, &body, "je hebt het eerder gebruikt");
        assert!(binds(&dir, SECOND).await, "nothing changed");
        assert_eq!(me(&h, &token).await, 200);
        assert_eq!(audited(&h, AuditAction::PasswordChangeRefused).await, 1);
    })
    .await;
}

#[tokio::test]
async fn refusals_of_her_new_password_are_not_counted_as_wrong_guesses() {
    if !have_slapd() {
        return;
    }
    // SQLite: the count is the store's, and both stores' counting is the contract suite's.
    let h = Harness::start(false).await.unwrap();
    let slapd = Slapd::start();
    connect(&h, &slapd);
    let (token, _) = enrolled_alice(&h).await;
    let change = |current: &str, new: &str| {
        let body = json!({"current_password": current, "new_password": new});
        let (h, token) = (h.clone(), token.clone());
        async move {
            h.post(&h.client(), "/api/v1/me/password", Some(&token), body)
                .await
        }
    };
    assert_eq!(change(ALICE_PASSWORD, FIRST).await.0, 204);
    assert_eq!(change(FIRST, SECOND).await.0, 204);
    // Her current password is right every time; the directory refuses the new one (her
    // history). Past the free failures: the eleventh would wait if these were counted.
    for n in 0..12 {
        let (status, body) = change(SECOND, FIRST).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("directory_refused")),
            "{n}: {body}"
        );
    }
    let (status, body) = h
        .post(
            &h.client(),
            "/api/v1/sign-in",
            None,
            json!({"username": "alice", "password": SECOND}),
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("mfa_required")),
        "{body}"
    );
}

/// Another full session of Alice: her password, then a code of `secret`.
async fn another_session(h: &Harness, secret: &str, password: &str) -> String {
    let c = h.client();
    let (_, body) = h
        .post(
            &c,
            "/api/v1/sign-in",
            None,
            json!({"username": "alice", "password": password}),
        )
        .await;
    assert_eq!(body["status"], "mfa_required", "{body}");
    let flow = body["flow"].as_str().unwrap();
    let method = body["default_method"].as_str().unwrap();
    let (status, body) = h
        .post(
            &c,
            &format!("/api/v1/sign-in/{flow}/verify"),
            None,
            json!({"method_id": method, "code": h.code(secret, 0)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    h.advance(30);
    body["session"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_reset_page_shows_the_directorys_reason_in_dutch_and_lets_her_try_again() {
    if !have_slapd() {
        return;
    }
    each_backend(|h: Harness| async move {
        let slapd = Slapd::start();
        let dir = connect(&h, &slapd);
        let (_, secret, method) = enrolled_alice_method(&h).await;
        for password in [FIRST, SECOND] {
            let flow = reset_ready(&h, &secret).await;
            assert_eq!(new_password(&h, &h.client(), &flow, password).await.0, 204);
        }

        let b = Browser::speaking(&h, "nl-NL,nl;q=0.9");
        b.submit("/reset", "/reset", &[("username", "alice")])
            .await
            .redirects_to("/reset/verify");
        let r = b
            .submit(
                "/reset/verify",
                "/reset/challenge",
                &[("method_id", &method)],
            )
            .await;
        let action = r.location.clone().unwrap();
        b.submit(
            &action,
            "/reset/verify",
            &[("method_id", &method), ("code", &h.code(&secret, 0))],
        )
        .await
        .redirects_to("/reset/password");
        choose_password(&b, FIRST)
            .await
            .shows(403, "je hebt het eerder gebruikt");
        assert!(binds(&dir, SECOND).await, "nothing changed");
        choose_password(&b, THIRD).await.redirects_to("/reset/done");
        assert!(binds(&dir, THIRD).await);
    })
    .await;
}

async fn choose_password(b: &Browser, new: &str) -> crate::web::browser::Resp {
    crate::reset_web::choose_password(b, new, new).await
}
