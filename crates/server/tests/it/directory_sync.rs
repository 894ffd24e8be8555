//! `tessera directory sync` as a running server sees it, against a real slapd and both stores:
//! a person removed or locked in the directory loses their account and every session, a
//! renamed person keeps their one account, an account the sync disabled comes back when the
//! person does (one an admin disabled does not), and a dry run, a directory that is down or
//! one that lists nobody change nothing.

use crate::common::{Harness, each_backend};
use crate::directory_slapd::{config, directory};
use crate::slapd::{ALICE_PASSWORD, BOB_PASSWORD, SUFFIX, Slapd, have_slapd};
use ldap3::Mod;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use tessera_core::AccountStatus;
use tessera_core::admin::{SyncError, SyncOptions, SyncOutcome, SyncReport};
use tessera_core::audit::AuditAction;
use tessera_core::store::admin::{AuditFilter, AuditPage};
use tessera_server::directory::{Directory, LdapDirectory, Security};

/// Connects `slapd` to the harness's server, as `tessera serve` does with `[directory]`.
fn connect(h: &Harness, slapd: &Slapd) -> Arc<LdapDirectory> {
    let dir = Arc::new(directory(slapd));
    h.tessera().set_directory(dir.clone());
    dir
}

/// Signs in with the directory password (the first time creates the account); the session
/// token, which works until the account is disabled.
async fn session(h: &Harness, username: &str, password: &str) -> String {
    let (status, body) = h
        .post(
            &h.client(),
            "/api/v1/sign-in",
            None,
            json!({"username": username, "password": password}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let token = body["session"].as_str().expect("a session").to_string();
    assert_eq!(me(h, &token).await, 200);
    token
}

async fn me(h: &Harness, token: &str) -> u16 {
    h.get(&h.client(), "/api/v1/me", Some(token)).await.0
}

async fn sync(h: &Harness, dir: &dyn Directory, options: SyncOptions) -> SyncReport {
    h.tessera()
        .sync_directory(dir, options, &|_| {})
        .await
        .unwrap()
}

async fn status(h: &Harness, username: &str) -> AccountStatus {
    h.store()
        .account_by_username(username)
        .await
        .unwrap()
        .unwrap()
        .status
}

fn outcomes(report: &SyncReport) -> Vec<(&str, SyncOutcome)> {
    let mut all: Vec<_> = report
        .changes
        .iter()
        .map(|c| (c.username.as_str(), c.outcome))
        .collect();
    all.sort_by_key(|(name, _)| name.to_string());
    all
}

#[tokio::test]
async fn a_person_removed_from_the_directory_is_disabled_and_signed_out() {
    if !have_slapd() {
        return;
    }
    each_backend(|h| async move {
        let slapd = Slapd::start();
        let dir = connect(&h, &slapd);
        let alice = session(&h, "alice", ALICE_PASSWORD).await;
        let bob = session(&h, "bob", BOB_PASSWORD).await;

        let mut admin = slapd.admin().await;
        admin
            .delete(&format!("uid=bob,ou=people,{SUFFIX}"))
            .await
            .unwrap()
            .success()
            .unwrap();

        // A dry run says what would happen and does none of it.
        let dry = sync(
            &h,
            dir.as_ref(),
            SyncOptions {
                dry_run: true,
                ..SyncOptions::default()
            },
        )
        .await;
        assert_eq!(outcomes(&dry), [("bob", SyncOutcome::Disabled)]);
        assert_eq!((dry.disabled, dry.unchanged), (1, 1));
        assert_eq!(status(&h, "bob").await, AccountStatus::Active);
        assert_eq!(me(&h, &bob).await, 200);

        let report = sync(&h, dir.as_ref(), SyncOptions::default()).await;
        assert_eq!(outcomes(&report), [("bob", SyncOutcome::Disabled)]);
        assert!(report.changes[0].detail.contains("removed"), "{report:?}");
        assert_eq!(status(&h, "bob").await, AccountStatus::Disabled);
        assert_eq!(me(&h, &bob).await, 401, "bob's session ended");
        assert_eq!(me(&h, &alice).await, 200, "alice's did not");
        // People who never signed in (dave, erin) get no account from the sync.
        assert_eq!(report.not_signed_in, 1, "erin (dave is locked there)");
        assert_eq!(h.store().directory_accounts().await.unwrap().len(), 2);

        // Audited with the directory as the actor, and why.
        let filter = AuditFilter {
            action: Some(AuditAction::AccountDisabled),
            ..AuditFilter::default()
        };
        let events = h
            .store()
            .audit_page(&filter, AuditPage::NewestFirst { before: None }, 10)
            .await
            .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event.detail["by"], "directory");
        assert_eq!(
            events[0].event.detail["reason"],
            "removed from the directory"
        );

        // Again: nothing left to do.
        let again = sync(&h, dir.as_ref(), SyncOptions::default()).await;
        assert!(again.changes.is_empty(), "{again:?}");
        assert_eq!(again.unchanged, 2);
    })
    .await;
}

#[tokio::test]
async fn a_lock_in_the_directory_disables_and_its_lifting_enables_again_unless_an_admin_disabled() {
    if !have_slapd() {
        return;
    }
    each_backend(|h| async move {
        let slapd = Slapd::start();
        let dir = connect(&h, &slapd);
        let alice = session(&h, "alice", ALICE_PASSWORD).await;
        session(&h, "bob", BOB_PASSWORD).await;
        // An admin disables Bob in Tessera: the sync must not undo that.
        h.tessera()
            .local_admin()
            .set_status("bob", AccountStatus::Disabled)
            .await
            .unwrap();

        let mut admin = slapd.admin().await;
        let alice_dn = format!("uid=alice,ou=people,{SUFFIX}");
        let lock = vec![Mod::Add(
            "pwdAccountLockedTime",
            HashSet::from(["000001010000Z"]),
        )];
        admin
            .modify(&alice_dn, lock)
            .await
            .unwrap()
            .success()
            .unwrap();
        let report = sync(&h, dir.as_ref(), SyncOptions::default()).await;
        assert_eq!(outcomes(&report), [("alice", SyncOutcome::Disabled)]);
        assert!(
            report.changes[0]
                .detail
                .contains("disabled in the directory")
        );
        assert_eq!(me(&h, &alice).await, 401);

        admin
            .modify(
                &alice_dn,
                vec![Mod::Delete("pwdAccountLockedTime", HashSet::new())],
            )
            .await
            .unwrap()
            .success()
            .unwrap();
        let report = sync(&h, dir.as_ref(), SyncOptions::default()).await;
        assert_eq!(outcomes(&report), [("alice", SyncOutcome::Reenabled)]);
        assert_eq!(status(&h, "alice").await, AccountStatus::Active);
        assert_eq!(status(&h, "bob").await, AccountStatus::Disabled);
        // Alice signs in again; the old session stays ended.
        session(&h, "alice", ALICE_PASSWORD).await;
        assert_eq!(me(&h, &alice).await, 401);
    })
    .await;
}

#[tokio::test]
async fn a_renamed_person_keeps_their_one_account() {
    if !have_slapd() {
        return;
    }
    each_backend(|h| async move {
        let slapd = Slapd::start();
        let dir = connect(&h, &slapd);
        let token = session(&h, "alice", ALICE_PASSWORD).await;
        let before = h
            .store()
            .account_by_username("alice")
            .await
            .unwrap()
            .unwrap();

        // The directory renames her entry (a new uid, the same entryUUID).
        let mut admin = slapd.admin().await;
        admin
            .modifydn(
                &format!("uid=alice,ou=people,{SUFFIX}"),
                "uid=alicia",
                true,
                None,
            )
            .await
            .unwrap()
            .success()
            .unwrap();
        let report = sync(&h, dir.as_ref(), SyncOptions::default()).await;
        assert_eq!(outcomes(&report), [("alicia", SyncOutcome::Updated)]);
        assert!(
            report.changes[0].detail.contains("renamed from alice"),
            "{report:?}"
        );
        let after = h
            .store()
            .account_by_username("alicia")
            .await
            .unwrap()
            .expect("the account under its new name");
        assert_eq!(after.id, before.id);
        assert_eq!(after.external_id, before.external_id);
        assert!(
            h.store()
                .account_by_username("alice")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(h.store().directory_accounts().await.unwrap().len(), 1);
        // Renamed, not removed: her session goes on.
        assert_eq!(me(&h, &token).await, 200);
    })
    .await;
}

#[tokio::test]
async fn a_directory_that_is_down_or_lists_nobody_changes_nothing() {
    if !have_slapd() {
        return;
    }
    each_backend(|h| async move {
        let mut slapd = Slapd::start();
        let dir = connect(&h, &slapd);
        let alice = session(&h, "alice", ALICE_PASSWORD).await;

        // A base where no person lives: a configuration mistake, not everyone leaving.
        let mut wrong = config(slapd.url(), Security::Plain);
        wrong.user_base = format!("ou=groups,{SUFFIX}");
        let empty = LdapDirectory::new(wrong).unwrap();
        let refused = h
            .tessera()
            .sync_directory(&empty, SyncOptions::default(), &|_| {})
            .await;
        assert!(matches!(refused, Err(SyncError::Empty(1))), "{refused:?}");
        assert_eq!(status(&h, "alice").await, AccountStatus::Active);
        assert_eq!(me(&h, &alice).await, 200);

        slapd.stop();
        let down = h
            .tessera()
            .sync_directory(dir.as_ref(), SyncOptions::default(), &|_| {})
            .await;
        assert!(matches!(down, Err(SyncError::Unavailable(_))), "{down:?}");
        assert_eq!(status(&h, "alice").await, AccountStatus::Active);
        assert_eq!(me(&h, &alice).await, 200);

        // Told to, an empty directory does disable everyone.
        slapd.restart();
        let report = sync(
            &h,
            &empty,
            SyncOptions {
                allow_empty: true,
                ..SyncOptions::default()
            },
        )
        .await;
        assert_eq!(outcomes(&report), [("alice", SyncOutcome::Disabled)]);
        assert_eq!(me(&h, &alice).await, 401);
    })
    .await;
}

#[tokio::test]
async fn create_makes_accounts_ahead_but_never_takes_a_local_accounts_name() {
    if !have_slapd() {
        return;
    }
    each_backend(|h| async move {
        let slapd = Slapd::start();
        let dir = connect(&h, &slapd);
        // A local (break-glass) account that happens to have a directory person's name.
        let local = h.add_user("erin").await;
        let create = SyncOptions {
            create: true,
            ..SyncOptions::default()
        };
        let dry = sync(
            &h,
            dir.as_ref(),
            SyncOptions {
                dry_run: true,
                ..create
            },
        )
        .await;
        assert!(h.store().directory_accounts().await.unwrap().is_empty());
        let report = sync(&h, dir.as_ref(), create).await;
        assert_eq!(report.changes, dry.changes);
        // Dave is locked in the directory: no account for him.
        assert_eq!(
            outcomes(&report),
            [
                ("alice", SyncOutcome::Created),
                ("bob", SyncOutcome::Created),
                ("erin", SyncOutcome::Skipped),
            ]
        );
        let clash = report
            .changes
            .iter()
            .find(|c| c.username == "erin")
            .unwrap();
        assert!(clash.detail.contains("local account"), "{clash:?}");
        let mut names: Vec<String> = h
            .store()
            .directory_accounts()
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.username)
            .collect();
        names.sort();
        assert_eq!(names, ["alice", "bob"]);
        assert_eq!(
            h.store()
                .account_groups(
                    h.store()
                        .account_by_username("alice")
                        .await
                        .unwrap()
                        .unwrap()
                        .id
                )
                .await
                .unwrap(),
            ["admins", "staff"]
        );
        let erin = h
            .store()
            .account_by_username("erin")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((erin.id, erin.source), (local.id, local.source));
        // The local account still signs in with its own password.
        h.api_sign_in(&h.client(), "erin").await;
    })
    .await;
}
