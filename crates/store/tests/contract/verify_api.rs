//! Storage for services and legacy apps: app passwords (and their limit under concurrency),
//! service credentials, and the verification API's shared rate windows.

use tessera_core::app_passwords::AppPassword;
use tessera_core::audit::AuditAction;
use tessera_core::verify_api::ServiceCredential;
use tessera_core::{AppPasswordId, ServiceCredentialId};
use uuid::Uuid;

use crate::harness::{Db, at, count, event, on_all, seeded};

fn app_password(account: tessera_core::AccountId, created: i64) -> AppPassword {
    AppPassword {
        id: AppPasswordId(Uuid::new_v4()),
        account_id: account,
        name: format!("app {created}"),
        password_hash: "$argon2id$app".into(),
        created_at: at(created),
        last_used_at: None,
    }
}

#[tokio::test]
async fn app_passwords_stop_at_the_limit_even_when_created_at_once() {
    on_all(|db: Db| async move {
        let store = db.store.clone();
        let alice = seeded(store.as_ref(), "alice").await;
        let mut tasks = Vec::new();
        for i in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .insert_app_password(
                        &app_password(alice.id, i),
                        5,
                        &event(Some(alice.id), AuditAction::AppPasswordCreated),
                    )
                    .await
                    .expect("insert")
            }));
        }
        let mut inserted = 0;
        for t in tasks {
            inserted += usize::from(t.await.expect("task"));
        }
        assert_eq!(inserted, 5);
        let listed = store.app_passwords_of(alice.id).await.expect("read");
        assert_eq!(listed.len(), 5);
        assert!(
            listed
                .windows(2)
                .all(|w| w[0].created_at >= w[1].created_at)
        );
        assert_eq!(
            count(store.as_ref(), alice.id, AuditAction::AppPasswordCreated).await,
            5
        );

        let first = listed[0].clone();
        store
            .touch_app_password(first.id, at(99))
            .await
            .expect("touch");
        store
            .touch_app_password(first.id, at(98))
            .await
            .expect("touch");
        let again = store.app_passwords_of(alice.id).await.expect("read");
        assert_eq!(
            again
                .iter()
                .find(|p| p.id == first.id)
                .and_then(|p| p.last_used_at),
            Some(at(99)),
            "an older use never overwrites a newer one"
        );
        let bob = seeded(store.as_ref(), "bob").await;
        let deleted_by_bob = store
            .delete_app_password(
                bob.id,
                first.id,
                &event(Some(bob.id), AuditAction::AppPasswordDeleted),
            )
            .await
            .expect("delete");
        assert!(!deleted_by_bob, "only the owner deletes it");
        assert!(
            store
                .delete_app_password(
                    alice.id,
                    first.id,
                    &event(Some(alice.id), AuditAction::AppPasswordDeleted)
                )
                .await
                .expect("delete")
        );
        assert_eq!(
            store.app_passwords_of(alice.id).await.expect("read").len(),
            4
        );
    })
    .await;
}

#[tokio::test]
async fn service_credentials_are_found_by_hash_until_revoked() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let credential = ServiceCredential {
            id: ServiceCredentialId(Uuid::new_v4()),
            name: "VPN RADIUS".into(),
            token_hash: vec![7; 32],
            created_at: at(0),
            last_used_at: None,
            revoked_at: None,
        };
        store
            .insert_service_credential(
                &credential,
                &event(None, AuditAction::ServiceCredentialCreated),
            )
            .await
            .expect("insert");
        assert_eq!(
            store
                .service_credential_by_token_hash(&[7; 32])
                .await
                .expect("read"),
            Some(credential.clone())
        );
        assert_eq!(
            store
                .service_credential_by_token_hash(&[8; 32])
                .await
                .expect("read"),
            None
        );
        store
            .touch_service_credential(credential.id, at(10))
            .await
            .expect("touch");
        let revoked = store
            .revoke_service_credential(
                credential.id,
                at(20),
                &event(None, AuditAction::ServiceCredentialRevoked),
            )
            .await
            .expect("revoke");
        assert!(revoked);
        let again = store
            .revoke_service_credential(
                credential.id,
                at(30),
                &event(None, AuditAction::ServiceCredentialRevoked),
            )
            .await
            .expect("revoke again");
        assert!(!again);
        let listed = store.service_credentials().await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (listed[0].last_used_at, listed[0].revoked_at),
            (Some(at(10)), Some(at(20)))
        );
    })
    .await;
}

#[tokio::test]
async fn rate_windows_count_across_concurrent_requests() {
    on_all(|db: Db| async move {
        let store = db.store.clone();
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .count_in_window("username:alice", 600)
                    .await
                    .expect("count")
            }));
        }
        let mut counts = Vec::new();
        for t in tasks {
            counts.push(t.await.expect("task"));
        }
        counts.sort_unstable();
        assert_eq!(
            counts,
            (1..=12).collect::<Vec<u64>>(),
            "each request its own count"
        );
        assert_eq!(
            store
                .count_in_window("username:alice", 660)
                .await
                .expect("count"),
            1,
            "a new window starts again"
        );
        assert_eq!(
            store
                .count_in_window("username:bob", 600)
                .await
                .expect("count"),
            1
        );
        assert_eq!(store.purge_rate_windows(660).await.expect("purge"), 2);
        assert_eq!(
            store
                .count_in_window("username:alice", 660)
                .await
                .expect("count"),
            2
        );
    })
    .await;
}
