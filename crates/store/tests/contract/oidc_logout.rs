//! Back-channel logout's question to the store: which token families outlived their session.

use tessera_core::audit::AuditAction;
use tessera_core::oidc::FamilyId;
use tessera_core::oidc::token::CodeUse;
use tessera_core::oidc::{RequestId, TokenKind};
use tessera_core::{SessionKind, Store};

use crate::harness::{Db, at, event, on_all, seeded, session};
use crate::oidc::{client, code, pending, token};

/// A family made by exchanging a code issued for `session`.
async fn family_of(
    store: &dyn Store,
    account: tessera_core::AccountId,
    session: tessera_core::SessionId,
    hash: &[u8],
    client_id: &str,
) -> FamilyId {
    let request: RequestId = pending(store).await;
    let mut c = code(hash, client_id, account);
    c.session = session;
    let audit = event(Some(account), AuditAction::OidcAuthorized);
    assert!(
        store
            .insert_oidc_code(&c, request, &audit)
            .await
            .expect("code")
    );
    let family = FamilyId(uuid::Uuid::new_v4());
    let used = store
        .use_oidc_code(hash, family, at(20))
        .await
        .expect("use");
    assert!(matches!(used, CodeUse::Fresh(_)), "{used:?}");
    family
}

#[tokio::test]
async fn families_whose_session_ended_are_revoked_and_returned_once() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        store
            .insert_oidc_client(&client("app"), &event(None, AuditAction::OidcClientCreated))
            .await
            .expect("client");
        let mut quiet = client("quiet");
        quiet.backchannel_logout_uri = None;
        store
            .insert_oidc_client(&quiet, &event(None, AuditAction::OidcClientCreated))
            .await
            .expect("client");
        let first = session(alice.id, SessionKind::Full);
        let second = session(alice.id, SessionKind::Full);
        for s in [&first, &second] {
            store.insert_session(s).await.expect("session");
        }
        let f1 = family_of(store, alice.id, first.id, b"code-1", "app").await;
        // A client without a back-channel logout URI keeps its family (and offline access).
        let kept = family_of(store, alice.id, first.id, b"code-3", "quiet").await;
        let f2 = family_of(store, alice.id, second.id, b"code-2", "app").await;
        let refresh = [
            token(b"refresh-1", TokenKind::Refresh, f1, 9_000),
            token(b"refresh-3", TokenKind::Refresh, kept, 9_000),
        ];
        let audit = event(Some(alice.id), AuditAction::OidcTokensIssued);
        store
            .insert_oidc_tokens(&refresh, &audit)
            .await
            .expect("tokens");

        let end = |limit| store.claim_oidc_backchannel_logouts(at(100), limit);
        assert_eq!(end(10).await.expect("none"), vec![], "both sessions live");

        store.delete_session(first.id, None).await.expect("end");
        let ended = end(10).await.expect("ended");
        assert_eq!(ended.len(), 1);
        assert_eq!(
            (ended[0].id, ended[0].session, ended[0].account),
            (f1, first.id, alice.id)
        );
        assert_eq!(ended[0].client_id, "app");
        assert_eq!(ended[0].revoked_at, Some(at(100)));
        assert_eq!(end(10).await.expect("again"), vec![], "claimed once");
        let record = store
            .oidc_token(b"refresh-1")
            .await
            .expect("get")
            .expect("there");
        assert_eq!(record.family.revoked_at, Some(at(100)));
        assert!(!record.is_active(at(100)));

        let ended_all = event(Some(alice.id), AuditAction::SessionsEnded);
        store
            .delete_sessions_of(alice.id, &ended_all)
            .await
            .expect("end all");
        assert_eq!(end(0).await.expect("limit"), vec![]);
        let ended = end(10).await.expect("second");
        assert_eq!(ended.iter().map(|f| f.id).collect::<Vec<_>>(), vec![f2]);
        let record = store
            .oidc_token(b"refresh-3")
            .await
            .expect("get")
            .expect("there");
        assert_eq!(record.family.revoked_at, None);
    })
    .await;
}
