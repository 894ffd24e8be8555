use std::sync::Arc;

use tessera_core::audit::AuditAction;
use tessera_core::oidc::authorize::{AuthorizeParams, check};
use tessera_core::oidc::keys::{self, SigningAlg};
use tessera_core::oidc::token::{CodeUse, RefreshUse};
use tessera_core::oidc::{
    Acr, AuthorizationCode, Client, Consent, FamilyId, OidcToken, RequestId, Requirement, Scopes,
    StoredKey, TokenKind,
};
use tessera_core::random::OsRandom;
use tessera_core::{AccountId, KeyRing, SessionId, Store, StoreError};
use time::Duration;
use uuid::Uuid;

use crate::harness::{Db, at, count, event, on_all, seeded};

pub(crate) fn client(id: &str) -> Client {
    Client {
        client_id: id.into(),
        name: format!("App {id}"),
        secret_hash: Some(vec![7; 32]),
        redirect_uris: vec!["https://app.example/cb".into()],
        post_logout_redirect_uris: vec!["https://app.example/bye".into()],
        backchannel_logout_uri: Some("https://app.example/bc".into()),
        first_party: false,
        requirement: Requirement::PhishingResistant,
        offline_access: true,
        id_token_alg: SigningAlg::Rs256,
        created_at: at(0),
    }
}

pub(crate) fn code(hash: &[u8], client_id: &str, account: AccountId) -> AuthorizationCode {
    AuthorizationCode {
        hash: hash.to_vec(),
        client_id: client_id.into(),
        account,
        session: SessionId(Uuid::new_v4()),
        redirect_uri: "https://app.example/cb".into(),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        nonce: Some("n-0S6_WzA2Mj".into()),
        scope: Scopes::parse("openid email offline_access").expect("scope"),
        auth_time: at(5),
        amr: vec!["pwd".into(), "hwk".into(), "mfa".into()],
        acr: Some(Acr::PhishingResistant),
        created_at: at(10),
        expires_at: at(70),
    }
}

pub(crate) fn token(hash: &[u8], kind: TokenKind, family: FamilyId, expires: i64) -> OidcToken {
    OidcToken {
        hash: hash.to_vec(),
        kind,
        family,
        scope: Scopes::parse("openid offline_access").expect("scope"),
        created_at: at(20),
        expires_at: at(expires),
        used_at: None,
    }
}

/// A client, an account and a pending request turned into a stored code.
async fn with_code(store: &dyn Store, hash: &[u8]) -> (AccountId, AuthorizationCode) {
    let alice = seeded(store, "alice").await;
    store
        .insert_oidc_client(&client("app"), &event(None, AuditAction::OidcClientCreated))
        .await
        .expect("client");
    let request = pending(store).await;
    let c = code(hash, "app", alice.id);
    let audit = event(Some(alice.id), AuditAction::OidcAuthorized);
    assert!(
        store
            .insert_oidc_code(&c, request, &audit)
            .await
            .expect("code")
    );
    (alice.id, c)
}

pub(crate) async fn pending(store: &dyn Store) -> RequestId {
    let params = AuthorizeParams {
        client_id: Some("app".into()),
        redirect_uri: Some("https://app.example/cb".into()),
        response_type: Some("code".into()),
        scope: Some("openid".into()),
        state: Some("xyz".into()),
        ..AuthorizeParams::default()
    };
    let app = client("app");
    let request = check(&params, Some(&app), RequestId(Uuid::new_v4()), at(0)).expect("valid");
    store.insert_oidc_request(&request).await.expect("request");
    assert_eq!(
        store.oidc_request(request.id).await.expect("get"),
        Some(request.clone())
    );
    request.id
}

#[tokio::test]
async fn clients_are_stored_changed_and_deleted_with_their_rows() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let created = event(None, AuditAction::OidcClientCreated);
        store
            .insert_oidc_client(&client("b"), &created)
            .await
            .expect("insert");
        let mut public = client("a");
        public.secret_hash = None;
        public.backchannel_logout_uri = None;
        store
            .insert_oidc_client(&public, &event(None, AuditAction::OidcClientCreated))
            .await
            .expect("insert");
        assert!(matches!(
            store
                .insert_oidc_client(&client("b"), &event(None, AuditAction::OidcClientCreated))
                .await,
            Err(StoreError::Conflict("oidc_client"))
        ));
        assert_eq!(
            store.oidc_client("b").await.expect("get"),
            Some(client("b"))
        );
        let all = store.oidc_clients().await.expect("list");
        assert_eq!(all, vec![public.clone(), client("b")]);

        let mut changed = client("b");
        changed.name = "Wiki".into();
        changed.redirect_uris.push("http://127.0.0.1/cb".into());
        changed.created_at = at(999);
        let audit = event(None, AuditAction::OidcClientChanged);
        assert!(
            store
                .update_oidc_client(&changed, &audit)
                .await
                .expect("update")
        );
        let stored = store.oidc_client("b").await.expect("get").expect("there");
        assert_eq!((stored.name.as_str(), stored.created_at), ("Wiki", at(0)));
        assert_eq!(stored.redirect_uris.len(), 2);
        let audit = event(None, AuditAction::OidcClientChanged);
        assert!(
            !store
                .update_oidc_client(&client("zz"), &audit)
                .await
                .expect("update")
        );

        let audit = event(None, AuditAction::OidcClientDeleted);
        assert!(store.delete_oidc_client("b", &audit).await.expect("delete"));
        let audit = event(None, AuditAction::OidcClientDeleted);
        assert!(!store.delete_oidc_client("b", &audit).await.expect("delete"));
        assert_eq!(store.oidc_client("b").await.expect("get"), None);
    })
    .await;
}

#[tokio::test]
async fn a_request_yields_one_code_and_a_code_is_used_once() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let (alice, c) = with_code(store, b"code-1").await;
        assert_eq!(count(store, alice, AuditAction::OidcAuthorized).await, 1);
        // The request is gone: a second answer to it issues nothing.
        let again = code(b"code-2", "app", alice);
        let audit = event(Some(alice), AuditAction::OidcAuthorized);
        let gone = RequestId(Uuid::new_v4());
        assert!(
            !store
                .insert_oidc_code(&again, gone, &audit)
                .await
                .expect("code")
        );

        let family = FamilyId(Uuid::new_v4());
        assert_eq!(
            store
                .use_oidc_code(b"code-1", family, at(20))
                .await
                .expect("use"),
            CodeUse::Fresh(c.clone())
        );
        let access = token(b"access-1", TokenKind::Access, family, 3600);
        let audit = event(Some(alice), AuditAction::OidcTokensIssued);
        store
            .insert_oidc_tokens(&[access], &audit)
            .await
            .expect("tokens");
        let record = store
            .oidc_token(b"access-1")
            .await
            .expect("get")
            .expect("there");
        assert_eq!(record.family.id, family);
        assert_eq!(record.family.amr, c.amr);
        assert_eq!(record.family.acr, Some(Acr::PhishingResistant));
        assert!(record.is_active(at(30)));

        // Used again: refused, and what the first use issued is revoked.
        let other = FamilyId(Uuid::new_v4());
        assert_eq!(
            store
                .use_oidc_code(b"code-1", other, at(25))
                .await
                .expect("use"),
            CodeUse::Reused {
                account: alice,
                client_id: "app".into(),
                family: Some(family),
            }
        );
        let record = store
            .oidc_token(b"access-1")
            .await
            .expect("get")
            .expect("there");
        assert_eq!(record.family.revoked_at, Some(at(25)));
        assert!(!record.is_active(at(30)));
        assert_eq!(
            store
                .use_oidc_code(b"nope", other, at(25))
                .await
                .expect("use"),
            CodeUse::Unknown
        );
    })
    .await;
}

#[tokio::test]
async fn of_two_concurrent_uses_of_a_code_exactly_one_wins() {
    on_all(|db: Db| async move {
        with_code(db.store.as_ref(), b"code-race").await;
        let uses = (0..4).map(|_| {
            let store: Arc<dyn Store> = db.store.clone();
            tokio::spawn(async move {
                let family = FamilyId(Uuid::new_v4());
                store.use_oidc_code(b"code-race", family, at(20)).await
            })
        });
        let mut fresh = 0;
        for handle in uses {
            match handle.await.expect("task").expect("use") {
                CodeUse::Fresh(_) => fresh += 1,
                CodeUse::Reused { .. } => {}
                CodeUse::Unknown => panic!("the code exists"),
            }
        }
        assert_eq!(fresh, 1);
    })
    .await;
}

#[tokio::test]
async fn a_refresh_token_rotates_once_and_its_reuse_revokes_the_family() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let (alice, _) = with_code(store, b"code-r").await;
        let family = FamilyId(Uuid::new_v4());
        store
            .use_oidc_code(b"code-r", family, at(20))
            .await
            .expect("use");
        let issued = event(Some(alice), AuditAction::OidcTokensIssued);
        let first = [
            token(b"a1", TokenKind::Access, family, 3600),
            token(b"r1", TokenKind::Refresh, family, 86400),
        ];
        store
            .insert_oidc_tokens(&first, &issued)
            .await
            .expect("tokens");

        let second = [
            token(b"a2", TokenKind::Access, family, 3600),
            token(b"r2", TokenKind::Refresh, family, 86400),
        ];
        let audit = event(Some(alice), AuditAction::OidcTokensIssued);
        assert_eq!(
            store
                .rotate_oidc_refresh(b"r1", &second, at(30), &audit)
                .await
                .expect("rotate"),
            RefreshUse::Rotated
        );
        let used = store.oidc_token(b"r1").await.expect("get").expect("there");
        assert_eq!(used.token.used_at, Some(at(30)));
        assert!(
            store
                .oidc_token(b"r2")
                .await
                .expect("get")
                .expect("new")
                .is_active(at(31))
        );
        // An access token is not a refresh token.
        let audit = event(Some(alice), AuditAction::OidcTokensIssued);
        assert_eq!(
            store
                .rotate_oidc_refresh(b"a2", &[], at(31), &audit)
                .await
                .expect("rotate"),
            RefreshUse::Unknown
        );

        // r1 comes back: nothing is stored, and every token of the family stops working.
        let third = [token(b"a3", TokenKind::Access, family, 3600)];
        let audit = event(Some(alice), AuditAction::OidcTokensIssued);
        assert_eq!(
            store
                .rotate_oidc_refresh(b"r1", &third, at(40), &audit)
                .await
                .expect("rotate"),
            RefreshUse::Reused
        );
        assert_eq!(store.oidc_token(b"a3").await.expect("get"), None);
        for hash in [b"a2", b"r2"] {
            let r = store.oidc_token(hash).await.expect("get").expect("there");
            assert_eq!(r.family.revoked_at, Some(at(40)));
        }
        // The new refresh token of a revoked family no longer rotates either.
        let audit = event(Some(alice), AuditAction::OidcTokensIssued);
        assert_eq!(
            store
                .rotate_oidc_refresh(b"r2", &third, at(41), &audit)
                .await
                .expect("rotate"),
            RefreshUse::Reused
        );
        assert_eq!(count(store, alice, AuditAction::OidcTokensIssued).await, 2);
        assert!(
            !store
                .revoke_oidc_family(family, at(50))
                .await
                .expect("revoke")
        );
        assert!(store.delete_oidc_token(b"a2").await.expect("delete"));
        assert!(!store.delete_oidc_token(b"a2").await.expect("delete"));
    })
    .await;
}

#[tokio::test]
async fn consent_is_remembered_and_its_revocation_revokes_tokens() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let (alice, _) = with_code(store, b"code-c").await;
        let family = FamilyId(Uuid::new_v4());
        store
            .use_oidc_code(b"code-c", family, at(20))
            .await
            .expect("use");
        let issued = event(Some(alice), AuditAction::OidcTokensIssued);
        let tokens = [token(b"ca", TokenKind::Access, family, 3600)];
        store
            .insert_oidc_tokens(&tokens, &issued)
            .await
            .expect("tokens");

        let consent = |scopes: &str| Consent {
            account: alice,
            client_id: "app".into(),
            scopes: Scopes::parse(scopes).expect("scope"),
            granted_at: at(15),
        };
        assert_eq!(store.oidc_consent(alice, "app").await.expect("get"), None);
        let granted = event(Some(alice), AuditAction::OidcConsentGranted);
        store
            .save_oidc_consent(&consent("openid"), &granted)
            .await
            .expect("save");
        let granted = event(Some(alice), AuditAction::OidcConsentGranted);
        store
            .save_oidc_consent(&consent("openid email"), &granted)
            .await
            .expect("save");
        assert_eq!(
            store.oidc_consent(alice, "app").await.expect("get"),
            Some(consent("openid email"))
        );
        assert_eq!(
            store.oidc_consents_of(alice).await.expect("list"),
            vec![consent("openid email")]
        );
        assert_eq!(
            count(store, alice, AuditAction::OidcConsentGranted).await,
            2
        );

        let revoked = event(Some(alice), AuditAction::OidcConsentRevoked);
        assert!(
            store
                .revoke_oidc_consent(alice, "app", at(60), &revoked)
                .await
                .expect("revoke")
        );
        let revoked = event(Some(alice), AuditAction::OidcConsentRevoked);
        assert!(
            !store
                .revoke_oidc_consent(alice, "app", at(61), &revoked)
                .await
                .expect("revoke")
        );
        assert_eq!(store.oidc_consents_of(alice).await.expect("list"), vec![]);
        let record = store.oidc_token(b"ca").await.expect("get").expect("there");
        assert_eq!(record.family.revoked_at, Some(at(60)));
    })
    .await;
}

#[tokio::test]
async fn keys_are_kept_sealed_and_rotation_retires_the_current_ones() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let ring = KeyRing::generate(&OsRandom);
        let make = |alg, t| keys::generate(alg, &OsRandom, &ring, at(t)).expect("generate");
        let es = make(SigningAlg::Es256, 0);
        store.insert_oidc_key(&es).await.expect("insert");
        assert!(matches!(
            store.insert_oidc_key(&es).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(store.oidc_keys().await.expect("list"), vec![es.clone()]);

        let new = vec![make(SigningAlg::Es256, 100), make(SigningAlg::Rs256, 100)];
        let audit = event(None, AuditAction::OidcKeysRotated);
        store
            .rotate_oidc_keys(&new, at(100), &audit)
            .await
            .expect("rotate");
        let all: Vec<StoredKey> = store.oidc_keys().await.expect("list");
        assert_eq!(all.len(), 3);
        assert_eq!(
            all[0],
            StoredKey {
                retired_at: Some(at(100)),
                ..es.clone()
            }
        );
        assert_eq!(
            keys::current(&all, SigningAlg::Es256).map(|k| &k.kid),
            Some(&new[0].kid)
        );
        // The stored private key still signs, and the JWKS still has the retired one.
        let signed = keys::sign(&all[0], &ring, &serde_json::json!({ "sub": "x" }));
        assert!(signed.is_ok());
        assert_eq!(keys::jwks(&all, at(101)).expect("jwks").keys.len(), 3);
    })
    .await;
}

#[tokio::test]
async fn purge_drops_what_expired() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let (alice, _) = with_code(store, b"code-p").await;
        pending(store).await;
        let family = FamilyId(Uuid::new_v4());
        store
            .use_oidc_code(b"code-p", family, at(20))
            .await
            .expect("use");
        let issued = event(Some(alice), AuditAction::OidcTokensIssued);
        let tokens = [
            token(b"pa", TokenKind::Access, family, 3600),
            token(b"pr", TokenKind::Refresh, family, 86400),
        ];
        store
            .insert_oidc_tokens(&tokens, &issued)
            .await
            .expect("tokens");
        let ring = KeyRing::generate(&OsRandom);
        let mut old = keys::generate(SigningAlg::Es256, &OsRandom, &ring, at(0)).expect("key");
        old.retired_at = Some(at(0));
        store.insert_oidc_key(&old).await.expect("key");

        // Nothing has expired yet.
        assert_eq!(store.purge_oidc(at(30)).await.expect("purge"), 0);
        // The request (10 minutes) and the access token (an hour) go; the code stays a day.
        assert_eq!(store.purge_oidc(at(3600)).await.expect("purge"), 2);
        assert_eq!(store.oidc_token(b"pa").await.expect("get"), None);
        let later = at(0) + Duration::days(2);
        // The code, the refresh token and the long-retired key.
        assert_eq!(store.purge_oidc(later).await.expect("purge"), 3);
        assert_eq!(store.oidc_keys().await.expect("keys"), vec![]);
        let reused = store
            .use_oidc_code(b"code-p", family, later)
            .await
            .expect("use");
        assert_eq!(reused, CodeUse::Unknown);
        // The empty family goes once the longest refresh token could have lived.
        assert_eq!(
            store
                .purge_oidc(at(0) + Duration::days(31))
                .await
                .expect("purge"),
            1
        );
    })
    .await;
}
