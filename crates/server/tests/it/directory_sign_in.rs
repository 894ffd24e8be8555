//! Signing in with the organization's directory (issue #19), against a real slapd
//! (`slapd.rs`), through the API and the sign-in page, on both stores: the directory binds the
//! person, their account is made at the first sign-in, a wrong password counts like a local
//! one, a local account of the same name wins, and a directory that is down says "try again
//! later" (and `/readyz` 503) instead of a 500 or a hang.

use crate::common::{Harness, PASSWORD, each_backend};
use crate::directory_slapd::{config, directory};
use crate::slapd::{ALICE_PASSWORD, BOB_PASSWORD, DAVE_PASSWORD, Slapd, have_slapd};
use crate::web::browser::Browser;
use serde_json::{Value, json};
use std::sync::Arc;
use tessera_core::account::AccountSource;
use tessera_core::audit::AuditAction;
use tessera_core::store::admin::{AuditFilter, AuditPage};
use tessera_server::directory::{LdapDirectory, Security};

fn connect(h: &Harness, slapd: &Slapd) {
    h.tessera().set_directory(Arc::new(directory(slapd)));
}

async fn sign_in(h: &Harness, username: &str, password: &str) -> (u16, Value) {
    h.post(
        &h.client(),
        "/api/v1/sign-in",
        None,
        json!({"username": username, "password": password}),
    )
    .await
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

#[tokio::test]
async fn the_first_sign_in_binds_creates_the_account_and_asks_for_security_info() {
    if !have_slapd() {
        return;
    }
    let slapd = Slapd::start();
    each_backend(|h: Harness| {
        let slapd = &slapd;
        async move {
            connect(&h, slapd);
            let (status, _) = h.get(&h.client(), "/readyz", None).await;
            assert_eq!(status, 200, "the directory answers");
            assert!(
                h.store()
                    .account_by_username("alice")
                    .await
                    .unwrap()
                    .is_none()
            );
            let (status, body) = sign_in(&h, "Alice", ALICE_PASSWORD).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["status"], "registration_required", "{body}");

            let alice = h
                .store()
                .account_by_username("alice")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(alice.source, AccountSource::Directory);
            assert_eq!(alice.display_name, "Alice Andersen");
            assert_eq!(
                h.store().account_groups(alice.id).await.unwrap(),
                ["admins", "staff"]
            );
            assert_eq!(
                audited(&h, AuditAction::AccountCreatedFromDirectory).await,
                1
            );

            // The registration session is Alice's: she registers like anyone else.
            let token = body["session"].as_str().unwrap();
            let (id, secret) = h.add_code_method(&h.client(), token).await;
            let (status, body) = h
                .post(
                    &h.client(),
                    &format!("/api/v1/me/security-info/methods/{id}/verify"),
                    Some(token),
                    json!({"code": h.code(&secret, 0)}),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            h.advance(30);

            // The next sign-in is the same account, and asks for the second factor.
            let (status, body) = sign_in(&h, "alice", ALICE_PASSWORD).await;
            assert_eq!(
                (status, body["status"].as_str()),
                (200, Some("mfa_required"))
            );
            assert_eq!(
                audited(&h, AuditAction::AccountCreatedFromDirectory).await,
                1
            );
            assert_eq!(h.store().directory_accounts().await.unwrap().len(), 1);
        }
    })
    .await;
}

#[tokio::test]
async fn a_wrong_password_is_answered_and_counted_like_a_local_one() {
    if !have_slapd() {
        return;
    }
    let slapd = Slapd::start();
    each_backend(|h: Harness| {
        let slapd = &slapd;
        async move {
            connect(&h, slapd);
            h.add_user("local-person").await;
            let (_, local_wrong) = sign_in(&h, "local-person", "wrong password").await;
            for (name, password) in [
                ("alice", BOB_PASSWORD),
                ("nobody-here", ALICE_PASSWORD),
                ("alice", ""),
            ] {
                let (status, body) = sign_in(&h, name, password).await;
                assert_eq!(status, 401, "{name}: {body}");
                assert_eq!(
                    body, local_wrong,
                    "the same answer as a local wrong password"
                );
            }
            assert!(
                h.store()
                    .account_by_username("alice")
                    .await
                    .unwrap()
                    .is_none()
            );
            assert!(
                h.store()
                    .account_by_username("nobody-here")
                    .await
                    .unwrap()
                    .is_none()
            );
            assert_eq!(audited(&h, AuditAction::SignInPasswordFailed).await, 4);

            // Counted per username like a local password: the tenth failure in a row earns a
            // wait, during which even the right password is not checked.
            for _ in 0..8 {
                assert_eq!(sign_in(&h, "alice", "not her password").await.0, 401);
            }
            let (status, body) = sign_in(&h, "alice", ALICE_PASSWORD).await;
            assert_eq!(status, 429, "{body}");
            assert_eq!(body["error"], "rate_limited");

            // A person locked in the directory (ppolicy) does not get in with their password
            // and gets no account.
            let (status, body) = sign_in(&h, "dave", DAVE_PASSWORD).await;
            assert!(matches!(status, 401 | 403), "{status} {body}");
            assert!(
                h.store()
                    .account_by_username("dave")
                    .await
                    .unwrap()
                    .is_none()
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_local_account_of_the_same_name_wins() {
    if !have_slapd() {
        return;
    }
    let slapd = Slapd::start();
    each_backend(|h: Harness| {
        let slapd = &slapd;
        async move {
            connect(&h, slapd);
            let local = h.add_user("bob").await;
            let (status, body) = sign_in(&h, "bob", PASSWORD).await;
            assert_eq!(status, 200, "the local password: {body}");
            let (status, body) = sign_in(&h, "bob", BOB_PASSWORD).await;
            assert_eq!(status, 401, "the directory's is not asked: {body}");
            let bob = h.store().account(local.id).await.unwrap().unwrap();
            assert_eq!(bob.source, AccountSource::Local);
            assert!(h.store().directory_accounts().await.unwrap().is_empty());
        }
    })
    .await;
}

#[tokio::test]
async fn a_directory_that_is_down_says_try_again_later_and_readyz_names_it() {
    if !have_slapd() {
        return;
    }
    each_backend(|h: Harness| async move {
        let mut slapd = Slapd::start();
        connect(&h, &slapd);
        h.add_user("break-glass").await;
        slapd.stop();

        let (status, body) = sign_in(&h, "alice", ALICE_PASSWORD).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["error"], "directory_unavailable");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("Try again in a few minutes"),
            "{body}"
        );
        assert_eq!(audited(&h, AuditAction::SignInPasswordFailed).await, 0);

        // The page says it in the person's language, and is no error page.
        let page = Browser::speaking(&h, "nl-NL,nl;q=0.9")
            .submit(
                "/sign-in",
                "/sign-in",
                &[("username", "alice"), ("password", ALICE_PASSWORD)],
            )
            .await;
        page.shows(503, "De directory van je organisatie is nu niet bereikbaar");

        // Local accounts are not affected.
        let (status, body) = sign_in(&h, "break-glass", PASSWORD).await;
        assert_eq!(status, 200, "{body}");

        // Readiness names the directory (no answer was cached before it stopped).
        let (status, body) = h.get(&h.client(), "/readyz", None).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["directory"], "unavailable", "{body}");
        assert_eq!(body["store"], "ok", "{body}");
    })
    .await;
}

#[tokio::test]
async fn sign_in_works_over_starttls_with_the_directorys_ca() {
    if !have_slapd() {
        return;
    }
    let slapd = Slapd::start_tls();
    each_backend(|h: Harness| {
        let slapd = &slapd;
        async move {
            let mut settings = config(slapd.url(), Security::StartTls);
            settings.ca_file = Some(slapd.ca_file());
            h.tessera()
                .set_directory(Arc::new(LdapDirectory::new(settings).unwrap()));
            let (status, body) = sign_in(&h, "alice", ALICE_PASSWORD).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["status"], "registration_required", "{body}");
            assert_eq!(sign_in(&h, "alice", BOB_PASSWORD).await.0, 401);
        }
    })
    .await;
}

#[tokio::test]
async fn a_service_verifies_a_directory_persons_password_by_bind() {
    if !have_slapd() {
        return;
    }
    each_backend(|h: Harness| async move {
        let mut slapd = Slapd::start();
        connect(&h, &slapd);
        let c = h.client();
        let (_, _, key) = crate::verify_api::service_key(&h, &c).await;
        assert_eq!(sign_in(&h, "alice", ALICE_PASSWORD).await.0, 200);
        let ask = |password: &'static str| {
            let (h, c, key) = (h.clone(), c.clone(), key.clone());
            async move {
                crate::verify_api::ask(
                    &h,
                    &c,
                    &key,
                    json!({"username": "alice", "password": password}),
                )
                .await
            }
        };
        let (status, body) = ask(ALICE_PASSWORD).await;
        assert_eq!(status, 200, "{body}");
        assert_ne!(body["reason"], "invalid_credentials", "{body}");
        let (status, body) = ask(BOB_PASSWORD).await;
        assert_eq!(
            (status, body["reason"].as_str()),
            (200, Some("invalid_credentials")),
            "{body}"
        );
        slapd.stop();
        let (status, body) = ask(ALICE_PASSWORD).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["error"], "directory_unavailable", "{body}");
    })
    .await;
}
