//! Accounts from the directory: created at first sign-in, kept in step, never taking over a
//! local account, and their groups.

use tessera_core::StoreError;
use tessera_core::account::{AccountSource, AccountStatus, DIRECTORY_PASSWORD_HASH};
use tessera_core::audit::AuditAction;
use tessera_core::store::directory::{
    DirectoryAccount, LOCAL_ACCOUNT_CONFLICT, OTHER_ENTRY_CONFLICT,
};

use crate::harness::{Db, at, count, event, on_all, seeded};

fn person(username: &str, external_id: Option<&str>, groups: &[&str]) -> DirectoryAccount {
    DirectoryAccount {
        username: username.into(),
        external_id: external_id.map(str::to_string),
        display_name: format!("{username} from the directory"),
        groups: groups.iter().map(|g| g.to_string()).collect(),
    }
}

fn created() -> tessera_core::audit::AuditEvent {
    event(None, AuditAction::AccountCreatedFromDirectory)
}

#[tokio::test]
async fn a_first_sign_in_creates_the_account_and_later_ones_update_it() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = person("alice", Some("uuid-a"), &["staff", "admins", "staff"]);
        let (account, was_created) = store
            .upsert_directory_account(&alice, at(10), &created())
            .await
            .expect("create");
        assert!(was_created);
        assert_eq!(account.source, AccountSource::Directory);
        assert_eq!(account.external_id.as_deref(), Some("uuid-a"));
        assert_eq!(account.status, AccountStatus::Active);
        assert_eq!(account.password_hash, DIRECTORY_PASSWORD_HASH);
        assert_eq!(account.created_at, at(10));
        assert_eq!(
            store.account(account.id).await.expect("read"),
            Some(account.clone()),
            "reads back as returned"
        );
        assert_eq!(
            store.account_groups(account.id).await.expect("groups"),
            vec!["admins".to_string(), "staff".to_string()],
            "sorted, without duplicates"
        );
        assert_eq!(
            count(store, account.id, AuditAction::AccountCreatedFromDirectory).await,
            1,
            "the creation is audited on the new account"
        );

        // Renamed in the directory: the same account, found by its entry's id.
        let renamed = DirectoryAccount {
            username: "alice.smith".into(),
            display_name: "Alice Smith".into(),
            ..person("x", Some("uuid-a"), &["staff"])
        };
        let (again, was_created) = store
            .upsert_directory_account(&renamed, at(20), &created())
            .await
            .expect("update");
        assert!(!was_created);
        assert_eq!(again.id, account.id);
        assert_eq!(again.username, "alice.smith");
        assert_eq!(again.display_name, "Alice Smith");
        assert_eq!(again.created_at, at(10));
        assert_eq!(store.account(account.id).await.expect("read"), Some(again));
        assert_eq!(
            store.account_groups(account.id).await.expect("groups"),
            vec!["staff".to_string()],
            "groups are replaced"
        );
        assert_eq!(
            count(store, account.id, AuditAction::AccountCreatedFromDirectory).await,
            1,
            "an update writes no creation event"
        );
        assert!(
            store
                .account_by_username("alice")
                .await
                .expect("read")
                .is_none()
        );
    })
    .await;
}

#[tokio::test]
async fn tessera_keeps_its_own_fields_of_a_directory_account() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let bob = person("bob", None, &[]);
        let (account, _) = store
            .upsert_directory_account(&bob, at(0), &created())
            .await
            .expect("create");
        let mut disabled = account.clone();
        disabled.status = AccountStatus::Disabled;
        disabled.is_admin = true;
        // `update_account` never relinks: source and external id stay.
        disabled.source = AccountSource::Local;
        disabled.external_id = Some("forged".into());
        store
            .update_account(&disabled, None)
            .await
            .expect("disable");
        let (after, was_created) = store
            .upsert_directory_account(&person("bob", Some("uuid-b"), &["g"]), at(5), &created())
            .await
            .expect("update");
        assert!(!was_created);
        assert_eq!(after.id, account.id);
        assert_eq!(
            after.status,
            AccountStatus::Disabled,
            "a sign-in does not enable"
        );
        assert!(after.is_admin);
        assert_eq!(after.source, AccountSource::Directory);
        assert_eq!(
            after.external_id.as_deref(),
            Some("uuid-b"),
            "a name-keyed account is linked once the entry has an id"
        );
        assert_eq!(store.account(account.id).await.expect("read"), Some(after));
    })
    .await;
}

#[tokio::test]
async fn a_local_account_is_never_taken_over() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let local = seeded(store, "root").await;
        let refused = store
            .upsert_directory_account(
                &person("root", Some("uuid-r"), &["admins"]),
                at(0),
                &created(),
            )
            .await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(c)) if c == LOCAL_ACCOUNT_CONFLICT),
            "{refused:?}"
        );
        let after = store
            .account(local.id)
            .await
            .expect("read")
            .expect("still there");
        assert_eq!(after, local, "unchanged");
        assert!(
            store
                .account_groups(local.id)
                .await
                .expect("groups")
                .is_empty()
        );
        assert!(store.directory_accounts().await.expect("list").is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_new_entry_with_a_removed_persons_name_does_not_inherit_their_account() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let (old, _) = store
            .upsert_directory_account(&person("carol", Some("uuid-1"), &[]), at(0), &created())
            .await
            .expect("create");
        let refused = store
            .upsert_directory_account(&person("carol", Some("uuid-2"), &[]), at(1), &created())
            .await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(c)) if c == OTHER_ENTRY_CONFLICT),
            "{refused:?}"
        );
        // A rename onto another account's name is a conflict too, and changes nothing.
        let (dave, _) = store
            .upsert_directory_account(&person("dave", Some("uuid-3"), &["x"]), at(2), &created())
            .await
            .expect("create");
        let clash = store
            .upsert_directory_account(&person("carol", Some("uuid-3"), &["y"]), at(3), &created())
            .await;
        assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");
        assert_eq!(
            store.account(dave.id).await.expect("read"),
            Some(dave.clone())
        );
        assert_eq!(store.account(old.id).await.expect("read"), Some(old));
        assert_eq!(
            store.account_groups(dave.id).await.expect("groups"),
            vec!["x".to_string()]
        );
    })
    .await;
}

#[tokio::test]
async fn groups_are_set_and_directory_accounts_listed() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let _local = seeded(store, "admin").await;
        let (zed, _) = store
            .upsert_directory_account(&person("zed", None, &[]), at(0), &created())
            .await
            .expect("create");
        let (amy, _) = store
            .upsert_directory_account(&person("amy", Some("uuid-amy"), &["a"]), at(0), &created())
            .await
            .expect("create");
        store
            .set_account_groups(zed.id, &["vpn".into(), "staff".into(), "vpn".into()])
            .await
            .expect("set");
        assert_eq!(
            store.account_groups(zed.id).await.expect("groups"),
            vec!["staff".to_string(), "vpn".to_string()]
        );
        store.set_account_groups(amy.id, &[]).await.expect("clear");
        assert!(
            store
                .account_groups(amy.id)
                .await
                .expect("groups")
                .is_empty()
        );
        let listed = store.directory_accounts().await.expect("list");
        assert_eq!(
            listed,
            vec![amy, zed],
            "directory accounts only, by username"
        );
    })
    .await;
}
