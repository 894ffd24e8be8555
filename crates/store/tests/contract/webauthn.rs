//! Security keys: credentials (one account per credential, counters only forward) and
//! WebAuthn ceremonies (answered at most once).

use tessera_core::audit::AuditAction;
use tessera_core::method::{Kind, MethodData, MethodStatus};
use tessera_core::store::webauthn::{Ceremony, SecurityKeyCredential};
use tessera_core::{AccountId, MethodId, StoreError};

use crate::harness::{Db, at, event, method, on_all, seeded};

fn ceremony(binding: &str, method: Option<MethodId>, expires: i64) -> Ceremony {
    Ceremony {
        purpose: "sign_in".into(),
        binding: binding.into(),
        method_id: method,
        state: format!("{{\"binding\":\"{binding}\"}}"),
        created_at: at(0),
        expires_at: at(expires),
    }
}

fn key(method: MethodId, account: AccountId, credential: &str) -> SecurityKeyCredential {
    SecurityKeyCredential {
        method_id: method,
        account_id: account,
        credential_id: credential.into(),
        passkey: "{\"cred\":{}}".into(),
        aaguid: Some("cb69481e-8ff7-4039-93ec-0a2729a154a8".into()),
        sign_count: 0,
        created_at: at(5),
    }
}

/// A pending security key registration, stored.
async fn pending_key(db: &Db, account: AccountId) -> MethodId {
    let mut m = method(account, MethodStatus::Pending, 1);
    m.kind = Kind::SecurityKey;
    m.data = MethodData::SecurityKey {};
    db.store
        .insert_method(&m, &event(Some(account), AuditAction::MethodAdded))
        .await
        .unwrap();
    m.id
}

#[tokio::test]
async fn a_ceremony_is_taken_once_and_a_new_one_replaces_the_old() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let m = pending_key(&db, alice.id).await;
        store
            .save_ceremony(&ceremony("flow-1", Some(m), 300), at(0))
            .await
            .unwrap();
        let mut newer = ceremony("flow-1", Some(m), 400);
        newer.state = "{\"newer\":true}".into();
        store.save_ceremony(&newer, at(1)).await.unwrap();
        store
            .save_ceremony(&ceremony("passkey-1", None, 300), at(1))
            .await
            .unwrap();

        assert_eq!(
            store
                .take_ceremony("sign_in", "flow-1", None)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store
                .take_ceremony("step_up", "flow-1", Some(m))
                .await
                .unwrap(),
            None
        );
        let taken = store
            .take_ceremony("sign_in", "flow-1", Some(m))
            .await
            .unwrap();
        assert_eq!(taken, Some(newer));
        assert_eq!(
            store
                .take_ceremony("sign_in", "flow-1", Some(m))
                .await
                .unwrap(),
            None
        );
        let passkey = store
            .take_ceremony("sign_in", "passkey-1", None)
            .await
            .unwrap();
        assert_eq!(passkey.map(|c| c.method_id), Some(None));

        // Saving drops the ceremonies that expired meanwhile.
        store
            .save_ceremony(&ceremony("old", None, 10), at(2))
            .await
            .unwrap();
        store
            .save_ceremony(&ceremony("new", None, 900), at(20))
            .await
            .unwrap();
        assert_eq!(
            store.take_ceremony("sign_in", "old", None).await.unwrap(),
            None
        );
        assert!(
            store
                .take_ceremony("sign_in", "new", None)
                .await
                .unwrap()
                .is_some()
        );
    })
    .await;
}

#[tokio::test]
async fn a_credential_is_stored_once_with_its_pending_registration_forgotten() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let bob = seeded(store, "bob").await;
        let m = pending_key(&db, alice.id).await;
        let k = key(m, alice.id, "Y3JlZC0x");
        assert!(store.insert_security_key(&k).await.unwrap());
        assert_eq!(store.method(m).await.unwrap().unwrap().sealed_secret, None);
        assert_eq!(store.security_key(m).await.unwrap(), Some(k.clone()));
        assert_eq!(
            store.security_key_by_credential("Y3JlZC0x").await.unwrap(),
            Some(k.clone())
        );
        assert_eq!(
            store.security_key_by_credential("other").await.unwrap(),
            None
        );

        // The registration was answered: a second answer stores nothing.
        assert!(!store.insert_security_key(&k).await.unwrap());

        // The same credential cannot be registered by anyone else.
        let theirs = pending_key(&db, bob.id).await;
        let taken = store
            .insert_security_key(&key(theirs, bob.id, "Y3JlZC0x"))
            .await;
        assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
        assert!(
            store
                .method(theirs)
                .await
                .unwrap()
                .unwrap()
                .sealed_secret
                .is_some()
        );

        // Deleting the method deletes its credential.
        store
            .delete_method(
                alice.id,
                m,
                None,
                &event(Some(alice.id), AuditAction::MethodDeleted),
            )
            .await
            .unwrap();
        assert_eq!(store.security_key(m).await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn a_counter_only_moves_forward() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let m = pending_key(&db, alice.id).await;
        assert!(
            store
                .insert_security_key(&key(m, alice.id, "a2V5"))
                .await
                .unwrap()
        );

        // A key that keeps no counter reports 0 every time.
        assert!(
            store
                .record_security_key_use(m, "{\"v\":0}", 0)
                .await
                .unwrap()
        );
        assert!(
            store
                .record_security_key_use(m, "{\"v\":0}", 0)
                .await
                .unwrap()
        );
        assert!(
            store
                .record_security_key_use(m, "{\"v\":5}", 5)
                .await
                .unwrap()
        );
        assert!(
            !store
                .record_security_key_use(m, "{\"v\":5}", 5)
                .await
                .unwrap()
        );
        assert!(
            !store
                .record_security_key_use(m, "{\"v\":3}", 3)
                .await
                .unwrap()
        );
        assert!(
            !store
                .record_security_key_use(m, "{\"v\":0}", 0)
                .await
                .unwrap()
        );
        let stored = store.security_key(m).await.unwrap().unwrap();
        assert_eq!(
            (stored.sign_count, stored.passkey.as_str()),
            (5, "{\"v\":5}")
        );
    })
    .await;
}
