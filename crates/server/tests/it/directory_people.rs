//! Listing the directory's people for the sync, against a real slapd (`slapd.rs`): past the
//! directory's size limit, with each entry's stable id, groups and locked state; and the pool
//! of service connections living through a directory restart.

use crate::directory_slapd::directory;
use crate::slapd::{SERVICE_DN, SERVICE_PASSWORD, SIZE_LIMIT, SUFFIX, Slapd, have_slapd};
use ldap3::{LdapConnAsync, Mod, Scope};
use std::collections::HashSet;
use std::time::{Duration, Instant};
use tessera_server::directory::{
    Directory, DirectoryError, DirectoryPerson, LdapDirectory, Security,
};

fn named<'a>(people: &'a [DirectoryPerson], username: &str) -> &'a DirectoryPerson {
    people
        .iter()
        .find(|p| p.username == username)
        .unwrap_or_else(|| panic!("{username} not listed: {people:?}"))
}

#[tokio::test]
async fn people_are_listed_past_the_size_limit_with_ids_groups_and_locks() {
    if !have_slapd() {
        return;
    }
    let slapd = Slapd::start();
    // The limit is real: the service account's plain search of the same people is cut off.
    let (conn, mut plain) = LdapConnAsync::new(&slapd.url()).await.unwrap();
    ldap3::drive!(conn);
    plain
        .simple_bind(SERVICE_DN, SERVICE_PASSWORD)
        .await
        .unwrap()
        .success()
        .unwrap();
    let cut = plain
        .search(
            &format!("ou=people,{SUFFIX}"),
            Scope::Subtree,
            "(objectClass=inetOrgPerson)",
            vec!["uid"],
        )
        .await
        .unwrap();
    assert_eq!(cut.1.rc, 4, "sizeLimitExceeded: {:?}", cut.1);
    assert_eq!(cut.0.len(), SIZE_LIMIT);

    // One page (our page size is far above 4) and several pages of two.
    for dir in [directory(&slapd), directory(&slapd).with_page_size(2)] {
        let people = dir.people().await.unwrap();
        let mut names: Vec<&str> = people.iter().map(|p| p.username.as_str()).collect();
        names.sort();
        assert_eq!(names, ["alice", "bob", "dave", "erin"]);
        assert!(people.len() > SIZE_LIMIT);

        let alice = named(&people, "alice");
        assert_eq!(alice.groups, ["admins", "staff"]);
        assert_eq!(named(&people, "bob").groups, ["staff"]);
        assert!(named(&people, "erin").groups.is_empty());
        assert_eq!(alice.display_name.as_deref(), Some("Alice Andersen"));

        // entryUUID, one per entry, the same `find` reads.
        let ids: HashSet<String> = people
            .iter()
            .map(|p| p.external_id.clone().expect("entryUUID"))
            .collect();
        assert_eq!(ids.len(), people.len());
        assert!(
            ids.iter()
                .all(|id| id.len() == 36 && id.matches('-').count() == 4)
        );
        assert_eq!(
            dir.find("alice").await.unwrap().external_id,
            alice.external_id
        );

        // Dave is locked by an admin (ppolicy's pwdAccountLockedTime); nobody else is.
        let locked: Vec<&str> = people
            .iter()
            .filter(|p| p.disabled)
            .map(|p| p.username.as_str())
            .collect();
        assert_eq!(locked, ["dave"]);
        assert!(dir.find("dave").await.unwrap().disabled);
    }
}

#[tokio::test]
async fn a_lock_set_and_lifted_in_the_directory_is_read_at_once() {
    if !have_slapd() {
        return;
    }
    let slapd = Slapd::start();
    let dir = directory(&slapd);
    assert!(!dir.find("erin").await.unwrap().disabled);
    let mut admin = slapd.admin().await;
    let erin = format!("uid=erin,ou=people,{SUFFIX}");
    // Locked by an admin, for good: ppolicy's own value for that.
    let lock = vec![Mod::Add(
        "pwdAccountLockedTime",
        HashSet::from(["000001010000Z"]),
    )];
    admin.modify(&erin, lock).await.unwrap().success().unwrap();
    assert!(dir.find("erin").await.unwrap().disabled);
    // (Whether slapd also refuses her bind depends on the policy's pwdLockout; Tessera's
    // sign-in refuses a disabled entry either way.)
    admin
        .modify(
            &erin,
            vec![Mod::Delete("pwdAccountLockedTime", HashSet::new())],
        )
        .await
        .unwrap()
        .success()
        .unwrap();
    assert!(!dir.find("erin").await.unwrap().disabled);
    assert!(
        dir.check_password("erin", crate::slapd::ERIN_PASSWORD)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn pooled_connections_live_through_a_directory_restart() {
    if !have_slapd() {
        return;
    }
    let mut slapd = Slapd::start();
    let dir = directory(&slapd);
    // Fills the pool with a connection bound as the service account.
    assert_eq!(dir.find("bob").await.unwrap().username, "bob");
    assert_eq!(dir.ping().await, Ok(()));
    slapd.restart();
    // The pooled connection died with the old slapd. The first call may notice that and
    // answer "unavailable", or open a new one; it must answer, not hang (the outer timeout
    // is only a guard against a hang, far above the client's own).
    let guard = Duration::from_secs(60);
    let first = tokio::time::timeout(guard, dir.find("bob"))
        .await
        .expect("no answer after the restart");
    assert!(
        matches!(&first, Ok(p) if p.username == "bob")
            || matches!(first, Err(DirectoryError::Unavailable(_))),
        "{first:?}"
    );
    // From then on the new connection serves, for every kind of use.
    assert_eq!(dir.find("bob").await.unwrap().username, "bob");
    assert_eq!(dir.ping().await, Ok(()));
    assert_eq!(dir.people().await.unwrap().len(), 4);
    assert!(
        dir.check_password("alice", crate::slapd::ALICE_PASSWORD)
            .await
            .is_ok()
    );

    // Down for good: every kind of use answers "unavailable", and again once it is back.
    slapd.stop();
    for _ in 0..3 {
        let answer = tokio::time::timeout(guard, dir.find("bob")).await.unwrap();
        assert!(
            matches!(answer, Err(DirectoryError::Unavailable(_))),
            "{answer:?}"
        );
    }
    assert!(matches!(
        dir.people().await,
        Err(DirectoryError::Unavailable(_))
    ));
}

/// Not a test of behaviour: the figures for the pool, printed. Run with
/// `cargo test -p tessera-server --test it measure_find -- --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn measure_find_with_and_without_the_pool() {
    if !have_slapd() {
        return;
    }
    const N: u32 = 200;
    let slapd = Slapd::start_tls();
    let starttls = || {
        let mut c = crate::directory_slapd::config(slapd.url(), Security::StartTls);
        c.ca_file = Some(slapd.ca_file());
        LdapDirectory::new(c).unwrap()
    };
    for (label, dir) in [
        (
            "plain, without the pool",
            directory(&slapd).with_pool_size(0),
        ),
        ("plain, with the pool", directory(&slapd)),
        ("StartTLS, without the pool", starttls().with_pool_size(0)),
        ("StartTLS, with the pool", starttls()),
    ] {
        dir.find("alice").await.unwrap();
        let started = Instant::now();
        for _ in 0..N {
            dir.find("alice").await.unwrap();
        }
        let took = started.elapsed();
        println!("{label}: {N} finds in {took:?}, {:?} each", took / N);
    }
}
