//! The sync's decisions on a memory store and a fake directory: the cases a real slapd makes
//! awkward (an account known by name only, a name reused by a new entry, groups-only changes,
//! a username Tessera cannot take). The behaviour a person sees is tested against slapd in
//! the server's `directory_sync.rs`.

use super::*;
use crate::store::Store;
use crate::store::memory::MemoryStore;
use crate::{Argon2Passwords, FakeClock, KeyRing, OsRandom};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct FakeDirectory {
    people: Mutex<Vec<DirectoryPerson>>,
    down: Mutex<bool>,
}

impl FakeDirectory {
    fn set(&self, people: Vec<DirectoryPerson>) {
        *self.people.lock().unwrap() = people;
    }
}

fn person(username: &str, external_id: Option<&str>, groups: &[&str]) -> DirectoryPerson {
    DirectoryPerson {
        dn: format!("uid={username},ou=people,dc=example,dc=org"),
        username: username.into(),
        external_id: external_id.map(String::from),
        display_name: Some(format!("{username} Example")),
        mail: None,
        mobile: None,
        telephone: None,
        groups: groups.iter().map(|g| g.to_string()).collect(),
        disabled: false,
    }
}

#[async_trait::async_trait]
impl Directory for FakeDirectory {
    async fn find(&self, _: &str) -> Result<DirectoryPerson, DirectoryError> {
        Err(DirectoryError::NotFound)
    }
    async fn check_password(&self, _: &str, _: &str) -> Result<DirectoryPerson, DirectoryError> {
        Err(DirectoryError::NotFound)
    }
    async fn reset_password(&self, _: &str, _: &str) -> Result<(), DirectoryError> {
        Err(DirectoryError::NotFound)
    }
    async fn change_password(
        &self,
        _: &str,
        _: &str,
        _: &str,
    ) -> Result<(), crate::directory::ChangeFailure> {
        Err(DirectoryError::NotFound.into())
    }
    async fn people(&self) -> Result<Vec<DirectoryPerson>, DirectoryError> {
        if *self.down.lock().unwrap() {
            return Err(DirectoryError::Unavailable("connection refused".into()));
        }
        Ok(self.people.lock().unwrap().clone())
    }
    async fn ping(&self) -> Result<(), DirectoryError> {
        Ok(())
    }
}

fn tessera() -> Tessera {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    Tessera::new(
        store,
        Arc::new(FakeClock::at_epoch_2026()),
        Arc::new(OsRandom),
        Arc::new(KeyRing::generate(&OsRandom)),
        Arc::new(Argon2Passwords::new(8, 1, 1).unwrap()),
        "Tessera tests",
    )
}

/// A directory account as a first sign-in would have made it.
async fn signed_in(t: &Tessera, username: &str, external_id: Option<&str>) -> Account {
    let audit = t.audit(
        &RequestContext::default(),
        None,
        AuditAction::AccountCreatedFromDirectory,
    );
    let entry = DirectoryAccount {
        username: username.into(),
        external_id: external_id.map(String::from),
        display_name: format!("{username} Example"),
        groups: vec![],
    };
    t.store
        .upsert_directory_account(&entry, t.now(), &audit)
        .await
        .unwrap()
        .0
}

async fn run(t: &Tessera, dir: &FakeDirectory, options: SyncOptions) -> SyncReport {
    t.sync_directory(dir, options, &|_| {}).await.unwrap()
}

fn outcome(report: &SyncReport, username: &str) -> Option<SyncOutcome> {
    report
        .changes
        .iter()
        .find(|c| c.username == username)
        .map(|c| c.outcome)
}

#[tokio::test]
async fn an_account_known_by_name_only_is_linked_to_its_entry() {
    let t = tessera();
    let dir = FakeDirectory::default();
    let sam = signed_in(&t, "sam", None).await;
    dir.set(vec![person("sam", Some("uuid-sam"), &[])]);
    let report = run(&t, &dir, SyncOptions::default()).await;
    assert_eq!(outcome(&report, "sam"), Some(SyncOutcome::Updated));
    assert_eq!(report.changes[0].detail, "linked to its directory entry");
    let linked = t.store.account_by_username("sam").await.unwrap().unwrap();
    assert_eq!(linked.id, sam.id);
    assert_eq!(linked.external_id.as_deref(), Some("uuid-sam"));
    let again = run(&t, &dir, SyncOptions::default()).await;
    assert!(again.changes.is_empty(), "{again:?}");
}

#[tokio::test]
async fn a_new_entry_reusing_a_removed_persons_name_does_not_get_their_account() {
    let t = tessera();
    let dir = FakeDirectory::default();
    let old = signed_in(&t, "sam", Some("uuid-old")).await;
    dir.set(vec![person("sam", Some("uuid-new"), &[])]);
    let create = SyncOptions {
        create: true,
        ..SyncOptions::default()
    };
    let report = run(&t, &dir, create).await;
    let outcomes: Vec<SyncOutcome> = report.changes.iter().map(|c| c.outcome).collect();
    // The old person's account is disabled; the new person is not given it.
    assert_eq!(outcomes, [SyncOutcome::Disabled, SyncOutcome::Skipped]);
    assert!(report.changes[1].detail.contains("another directory entry"));
    let account = t.store.account(old.id).await.unwrap().unwrap();
    assert_eq!(account.status, AccountStatus::Disabled);
    assert_eq!(account.external_id.as_deref(), Some("uuid-old"));
    // Not enabled again by the new entry either: it is not the same person.
    let again = run(&t, &dir, SyncOptions::default()).await;
    assert_eq!(outcome(&again, "sam"), None, "{again:?}");
}

#[tokio::test]
async fn a_change_of_groups_alone_is_an_update() {
    let t = tessera();
    let dir = FakeDirectory::default();
    let sam = signed_in(&t, "sam", Some("uuid-sam")).await;
    dir.set(vec![person(
        "sam",
        Some("uuid-sam"),
        &["vpn", "staff", "vpn"],
    )]);
    let report = run(&t, &dir, SyncOptions::default()).await;
    assert_eq!(report.changes[0].detail, "groups updated");
    assert_eq!(
        t.store.account_groups(sam.id).await.unwrap(),
        ["staff", "vpn"]
    );
    let again = run(&t, &dir, SyncOptions::default()).await;
    assert_eq!((again.changed(), again.unchanged), (0, 1));
}

#[tokio::test]
async fn nothing_changes_on_a_dry_run_or_a_directory_that_is_down() {
    let t = tessera();
    let dir = FakeDirectory::default();
    let sam = signed_in(&t, "sam", Some("uuid-sam")).await;
    *dir.down.lock().unwrap() = true;
    let down = t
        .sync_directory(&dir, SyncOptions::default(), &|_| {})
        .await;
    assert!(matches!(down, Err(SyncError::Unavailable(_))), "{down:?}");
    *dir.down.lock().unwrap() = false;
    // Empty, with accounts: refused; allowed, a dry run says what it would do and does not.
    let empty = t
        .sync_directory(&dir, SyncOptions::default(), &|_| {})
        .await;
    assert!(matches!(empty, Err(SyncError::Empty(1))), "{empty:?}");
    let dry = SyncOptions {
        dry_run: true,
        allow_empty: true,
        ..SyncOptions::default()
    };
    let report = run(&t, &dir, dry).await;
    assert_eq!(outcome(&report, "sam"), Some(SyncOutcome::Disabled));
    let sam = t.store.account(sam.id).await.unwrap().unwrap();
    assert_eq!(sam.status, AccountStatus::Active);
    // No accounts and nobody listed is not a mistake to refuse.
    let empty = tessera();
    assert_eq!(run(&empty, &dir, SyncOptions::default()).await.people, 0);
}

#[tokio::test]
async fn a_username_tessera_cannot_take_is_a_line_not_a_failure() {
    let t = tessera();
    let dir = FakeDirectory::default();
    dir.set(vec![
        person("  ", Some("uuid-blank"), &[]),
        person("ok", Some("uuid-ok"), &[]),
    ]);
    let steps = Mutex::new(Vec::new());
    let report = t
        .sync_directory(
            &dir,
            SyncOptions {
                create: true,
                ..SyncOptions::default()
            },
            &|p| steps.lock().unwrap().push(p),
        )
        .await
        .unwrap();
    assert_eq!((report.created, report.skipped), (1, 1));
    assert_eq!(
        *steps.lock().unwrap(),
        [SyncProgress::Listed { steps: 1 }, SyncProgress::Step]
    );
}
