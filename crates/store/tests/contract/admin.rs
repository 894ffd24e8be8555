//! The admin side's storage: temporary passwords, revoking methods, temporary access passes,
//! hardware tokens and the filtered audit log.

use tessera_core::StoreError;
use tessera_core::audit::AuditAction;
use tessera_core::method::{Kind, MethodData, MethodStatus};
use tessera_core::session::SessionKind;
use tessera_core::store::admin::{AuditFilter, AuditPage, HardwareToken};

use crate::harness::{
    Db, accept_ungated, account, at, count, event, method, on_all, seeded, seeded_method, session,
};

#[tokio::test]
async fn a_temporary_password_is_marked_until_changed_and_ends_sessions() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let new = account("newcomer");
        store
            .insert_account_with_temporary_password(
                &new,
                &event(Some(new.id), AuditAction::AccountCreated),
            )
            .await
            .expect("insert");
        assert!(store.password_change_required(new.id).await.expect("read"));
        let taken = store
            .insert_account_with_temporary_password(
                &account("newcomer"),
                &event(None, AuditAction::AccountCreated),
            )
            .await;
        assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");

        let alice = seeded(store, "alice").await;
        assert!(
            !store
                .password_change_required(alice.id)
                .await
                .expect("read")
        );
        let (one, two) = (
            session(alice.id, SessionKind::Full),
            session(alice.id, SessionKind::Full),
        );
        store.insert_session(&one).await.expect("session");
        store.insert_session(&two).await.expect("session");
        let ended = store
            .set_temporary_password(
                alice.id,
                "$argon2id$temporary",
                at(5),
                &event(Some(alice.id), AuditAction::TemporaryPasswordSet),
            )
            .await
            .expect("set");
        assert_eq!(ended, 2);
        assert!(
            store
                .password_change_required(alice.id)
                .await
                .expect("read")
        );
        let stored = store
            .account(alice.id)
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(stored.password_hash, "$argon2id$temporary");
        assert!(
            store
                .session_by_token_hash(&one.token_hash)
                .await
                .expect("read")
                .is_none()
        );
        assert_eq!(
            count(store, alice.id, AuditAction::TemporaryPasswordSet).await,
            1
        );

        // Changing it keeps the session that did it, ends the others, clears the mark.
        let (keep, other) = (
            session(alice.id, SessionKind::Full),
            session(alice.id, SessionKind::Full),
        );
        store.insert_session(&keep).await.expect("session");
        store.insert_session(&other).await.expect("session");
        store
            .change_password(
                alice.id,
                "$argon2id$chosen",
                Some(keep.id),
                &event(Some(alice.id), AuditAction::PasswordChanged),
            )
            .await
            .expect("change");
        assert!(
            !store
                .password_change_required(alice.id)
                .await
                .expect("read")
        );
        assert!(
            store
                .session_by_token_hash(&keep.token_hash)
                .await
                .expect("read")
                .is_some()
        );
        assert!(
            store
                .session_by_token_hash(&other.token_hash)
                .await
                .expect("read")
                .is_none()
        );
    })
    .await;
}

#[tokio::test]
async fn revoking_methods_clears_the_default_and_sessions() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let bob = seeded(store, "bob").await;
        let m = seeded_method(store, alice.id, MethodStatus::Active, 1).await;
        seeded_method(store, alice.id, MethodStatus::Pending, 2).await;
        let bobs = seeded_method(store, bob.id, MethodStatus::Active, 3).await;
        store
            .set_default_method(
                alice.id,
                Some(m.id),
                &event(Some(alice.id), AuditAction::DefaultMethodChanged),
            )
            .await
            .expect("default");
        let s = session(alice.id, SessionKind::Full);
        store.insert_session(&s).await.expect("session");
        let revoked = store
            .revoke_methods(
                alice.id,
                &event(Some(alice.id), AuditAction::MethodsRevoked),
            )
            .await
            .expect("revoke");
        assert_eq!(revoked, 2);
        assert!(store.methods_of(alice.id).await.expect("read").is_empty());
        let stored = store
            .account(alice.id)
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(stored.default_method, None);
        assert!(
            store
                .session_by_token_hash(&s.token_hash)
                .await
                .expect("read")
                .is_none()
        );
        assert_eq!(
            store.method(bobs.id).await.expect("read").map(|m| m.id),
            Some(bobs.id),
            "another account's methods stay"
        );
    })
    .await;
}

fn pass(account: tessera_core::AccountId, expires: i64) -> tessera_core::Method {
    let mut m = method(account, MethodStatus::Active, 0);
    m.kind = Kind::TemporaryAccessPass;
    m.name = None;
    m.sealed_secret = None;
    m.data = MethodData::TemporaryAccessPass {
        pass_hash: "$argon2id$pass".into(),
    };
    m.expires_at = Some(at(expires));
    m
}

#[tokio::test]
async fn a_new_pass_replaces_the_old_and_lapsed_or_used_ones_are_purged() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let bob = seeded(store, "bob").await;
        let first = pass(alice.id, 3600);
        let issued = |p: &tessera_core::Method| {
            event(Some(p.account_id), AuditAction::TemporaryAccessPassIssued).method(p.id)
        };
        store
            .replace_temporary_access_pass(&first, &issued(&first), &[])
            .await
            .expect("issue");
        store
            .set_default_method(
                alice.id,
                Some(first.id),
                &event(Some(alice.id), AuditAction::DefaultMethodChanged),
            )
            .await
            .expect("default");
        let second = pass(alice.id, 7200);
        store
            .replace_temporary_access_pass(&second, &issued(&second), &[])
            .await
            .expect("issue again");
        let ids: Vec<_> = store
            .methods_of(alice.id)
            .await
            .expect("read")
            .iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(ids, [second.id], "one pass per account");
        assert_eq!(
            store
                .account(alice.id)
                .await
                .expect("read")
                .and_then(|a| a.default_method),
            None,
            "a replaced pass is no longer the default"
        );
        assert_eq!(
            store.method(second.id).await.expect("read").map(|m| m.data),
            Some(second.data.clone())
        );

        let bobs = pass(bob.id, 100);
        store
            .replace_temporary_access_pass(&bobs, &issued(&bobs), &[])
            .await
            .expect("issue");
        // Bob's lapsed at 100; Alice's is current but used.
        let used = accept_ungated(
            store,
            second.id,
            Some(1),
            at(50),
            &event(Some(alice.id), AuditAction::CodeAccepted),
        )
        .await;
        assert!(used);
        let unused = pass(alice.id, 7200);
        assert_eq!(
            store
                .purge_temporary_access_passes(at(99))
                .await
                .expect("purge"),
            1,
            "the used one"
        );
        assert!(store.method(bobs.id).await.expect("read").is_some());
        assert_eq!(
            store
                .purge_temporary_access_passes(at(100))
                .await
                .expect("purge"),
            1,
            "the lapsed one"
        );
        store
            .replace_temporary_access_pass(&unused, &issued(&unused), &[])
            .await
            .expect("issue");
        assert_eq!(
            store
                .delete_temporary_access_passes(
                    alice.id,
                    &event(Some(alice.id), AuditAction::TemporaryAccessPassRevoked)
                )
                .await
                .expect("revoke"),
            1
        );
        assert_eq!(
            store
                .delete_temporary_access_passes(
                    alice.id,
                    &event(Some(alice.id), AuditAction::TemporaryAccessPassRevoked)
                )
                .await
                .expect("revoke again"),
            0
        );
        assert_eq!(
            count(store, alice.id, AuditAction::TemporaryAccessPassRevoked).await,
            1,
            "revoking nothing records nothing"
        );
    })
    .await;
}

#[tokio::test]
async fn a_hardware_token_serial_is_assigned_once() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let bob = seeded(store, "bob").await;
        let token = |account| {
            let mut m = method(account, MethodStatus::Pending, 0);
            m.expires_at = None;
            m.data = MethodData::HardwareToken {
                digits: 6,
                step_secs: 60,
                serial: "1234567".into(),
            };
            m
        };
        let info = HardwareToken {
            serial: "1234567".into(),
            manufacturer: Some("Contoso".into()),
            model: None,
            imported_at: at(3),
        };
        let first = token(alice.id);
        store
            .insert_hardware_token(
                &first,
                &info,
                &event(Some(alice.id), AuditAction::HardwareTokenAssigned),
            )
            .await
            .expect("assign");
        let again = store
            .insert_hardware_token(
                &token(bob.id),
                &info,
                &event(Some(bob.id), AuditAction::HardwareTokenAssigned),
            )
            .await;
        assert!(
            matches!(again, Err(StoreError::Conflict("serial"))),
            "{again:?}"
        );
        assert!(
            store.methods_of(bob.id).await.expect("read").is_empty(),
            "nothing of the refused token remains"
        );
        assert_eq!(
            count(store, bob.id, AuditAction::HardwareTokenAssigned).await,
            0
        );
        assert_eq!(
            store.hardware_token_of(first.id).await.expect("read"),
            Some(info.clone())
        );
        // Deleting the method frees the serial for another account.
        store
            .delete_method(
                alice.id,
                first.id,
                None,
                &event(Some(alice.id), AuditAction::MethodDeleted),
            )
            .await
            .expect("delete");
        store
            .insert_hardware_token(
                &token(bob.id),
                &info,
                &event(Some(bob.id), AuditAction::HardwareTokenAssigned),
            )
            .await
            .expect("assign to bob");
    })
    .await;
}

#[tokio::test]
async fn the_audit_log_filters_and_pages_both_ways() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let bob = seeded(store, "bob").await;
        for (secs, who, action) in [
            (10, Some(alice.id), AuditAction::SignInSucceeded),
            (20, Some(bob.id), AuditAction::SignInSucceeded),
            (30, Some(alice.id), AuditAction::CodeRejected),
            (40, None, AuditAction::SignInPasswordFailed),
            (50, Some(alice.id), AuditAction::SignInSucceeded),
        ] {
            let mut e = event(who, action);
            e.at = at(secs);
            store.append_audit(&e).await.expect("append");
        }
        let page = |filter: AuditFilter, page: AuditPage, limit: u32| async move {
            store
                .audit_page(&filter, page, limit)
                .await
                .expect("audit_page")
        };
        let newest = AuditPage::NewestFirst { before: None };
        let all = page(AuditFilter::default(), newest, 100).await;
        assert_eq!(all.len(), 7, "five and two account creations");
        assert_eq!(all[0].event.at, at(50));
        assert_eq!(all[0].username.as_deref(), Some("alice"));
        assert!(all.windows(2).all(|w| w[0].cursor > w[1].cursor));

        let alices = AuditFilter {
            account: Some(alice.id),
            action: Some(AuditAction::SignInSucceeded),
            ..AuditFilter::default()
        };
        let times: Vec<_> = page(alices.clone(), newest, 100)
            .await
            .iter()
            .map(|e| e.event.at)
            .collect();
        assert_eq!(times, [at(50), at(10)]);

        let window = AuditFilter {
            since: Some(at(20)),
            until: Some(at(50)),
            ..AuditFilter::default()
        };
        let first = page(window.clone(), newest, 2).await;
        assert_eq!(
            first.iter().map(|e| e.event.at).collect::<Vec<_>>(),
            [at(40), at(30)]
        );
        assert_eq!(
            first[0].username, None,
            "an unknown username has no account"
        );
        let rest = page(
            window.clone(),
            AuditPage::NewestFirst {
                before: first.last().map(|e| e.cursor),
            },
            2,
        )
        .await;
        assert_eq!(
            rest.iter().map(|e| e.event.at).collect::<Vec<_>>(),
            [at(20)]
        );

        let oldest = page(window.clone(), AuditPage::OldestFirst { after: None }, 2).await;
        assert_eq!(
            oldest.iter().map(|e| e.event.at).collect::<Vec<_>>(),
            [at(20), at(30)]
        );
        let next = page(
            window,
            AuditPage::OldestFirst {
                after: oldest.last().map(|e| e.cursor),
            },
            2,
        )
        .await;
        assert_eq!(
            next.iter().map(|e| e.event.at).collect::<Vec<_>>(),
            [at(40)]
        );
    })
    .await;
}
