use tessera_core::account::AccountStatus;
use tessera_core::audit::AuditAction;
use tessera_core::{MethodId, StoreError};
use uuid::Uuid;

use crate::harness::{Db, account, at, count, event, on_all, seeded};

#[tokio::test]
async fn account_round_trips_and_updates_all_but_its_identity() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let mut alice = account("alice@example.org");
        alice.locale = Some("nl".to_string());
        alice.email = Some("alice@mail.example.org".to_string());
        alice.is_admin = true;
        store
            .insert_account(&alice, &event(Some(alice.id), AuditAction::AccountCreated))
            .await
            .expect("insert");

        assert_eq!(
            store.account(alice.id).await.expect("get"),
            Some(alice.clone())
        );
        assert_eq!(
            store
                .account_by_username("alice@example.org")
                .await
                .expect("by username"),
            Some(alice.clone())
        );
        assert_eq!(
            store.account_by_username("bob").await.expect("by username"),
            None
        );
        assert_eq!(
            store
                .account(tessera_core::AccountId(Uuid::new_v4()))
                .await
                .expect("get"),
            None
        );

        let mut changed = alice.clone();
        changed.display_name = "Alice A.".to_string();
        changed.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3".to_string();
        changed.locale = None;
        changed.status = AccountStatus::Disabled;
        changed.is_admin = false;
        changed.email = None;
        changed.default_method = Some(MethodId(Uuid::new_v4()));
        // Not written: the identity.
        changed.username = "mallory".to_string();
        changed.created_at = at(99);
        store
            .update_account(
                &changed,
                Some(&event(Some(alice.id), AuditAction::AccountDisabled)),
            )
            .await
            .expect("update");
        store
            .update_account(&changed, None)
            .await
            .expect("update without audit");

        let stored = store
            .account(alice.id)
            .await
            .expect("get")
            .expect("still there");
        let mut expected = changed.clone();
        expected.username = alice.username.clone();
        expected.created_at = alice.created_at;
        assert_eq!(stored, expected);
        assert_eq!(
            count(store, alice.id, AuditAction::AccountDisabled).await,
            1
        );
    })
    .await;
}

#[tokio::test]
async fn taken_username_is_a_conflict_and_writes_nothing() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let first = seeded(store, "bob").await;
        let second = account("bob");
        let refused = store
            .insert_account(
                &second,
                &event(Some(second.id), AuditAction::AccountCreated),
            )
            .await;
        assert!(
            matches!(refused, Err(StoreError::Conflict("username"))),
            "{refused:?}"
        );
        assert_eq!(store.account(second.id).await.expect("get"), None);
        assert_eq!(
            count(store, second.id, AuditAction::AccountCreated).await,
            0
        );
        assert_eq!(count(store, first.id, AuditAction::AccountCreated).await, 1);
    })
    .await;
}

#[tokio::test]
async fn accounts_list_by_username_and_search_both_names() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        for (username, display) in [
            ("carol", "Carol Zola"),
            ("alice", "Alice Liddell"),
            ("bob", "Émile Bob"),
            ("dave_100%", "Dave"),
        ] {
            let mut a = account(username);
            a.display_name = display.to_string();
            store
                .insert_account(&a, &event(Some(a.id), AuditAction::AccountCreated))
                .await
                .expect("insert");
        }
        let names = |accounts: Vec<tessera_core::Account>| {
            accounts.into_iter().map(|a| a.username).collect::<Vec<_>>()
        };
        let all = store.list_accounts(None, 100).await.expect("list");
        assert_eq!(names(all), ["alice", "bob", "carol", "dave_100%"]);
        let limited = store.list_accounts(None, 2).await.expect("list");
        assert_eq!(names(limited), ["alice", "bob"]);

        let search = |s: &'static str| {
            let store = db.store.clone();
            async move { names(store.list_accounts(Some(s), 100).await.expect("search")) }
        };
        assert_eq!(search("ALI").await, ["alice"], "username, any case");
        assert_eq!(search("zola").await, ["carol"], "display name, any case");
        assert_eq!(search("émile").await, ["bob"], "beyond ASCII");
        assert_eq!(search("ÉMILE").await, ["bob"], "beyond ASCII, upper case");
        assert_eq!(search("l").await, ["alice", "bob", "carol"]);
        assert_eq!(search("%").await, ["dave_100%"], "a wildcard is literal");
        assert_eq!(search("e_1").await, ["dave_100%"], "`_` is literal");
        assert!(
            search("a_i").await.is_empty(),
            "`_` matches no other character"
        );
        assert_eq!(search("").await.len(), 4);
    })
    .await;
}

#[tokio::test]
async fn a_remembered_language_changes_only_its_own_column() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let mut alice = seeded(store, "alice@example.org").await;
        let browser = tessera_core::RequestLanguage::Browser("nl".into());
        store.remember_locale(alice.id, &browser).await.unwrap();
        alice.browser_locale = Some("nl".into());
        assert_eq!(store.account(alice.id).await.unwrap(), Some(alice.clone()));

        let chosen = tessera_core::RequestLanguage::Chosen("en".into());
        store.remember_locale(alice.id, &chosen).await.unwrap();
        alice.locale = Some("en".into());
        assert_eq!(store.account(alice.id).await.unwrap(), Some(alice.clone()));

        // A whole-account update from a copy read before leaves the browser's language be.
        let mut stale = alice.clone();
        stale.browser_locale = None;
        stale.display_name = "Alice A.".into();
        store.update_account(&stale, None).await.unwrap();
        let now = store.account(alice.id).await.unwrap().unwrap();
        assert_eq!(
            (now.display_name.as_str(), now.browser_locale.as_deref()),
            ("Alice A.", Some("nl"))
        );
    })
    .await;
}
