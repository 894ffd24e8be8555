//! The directory client against a real OpenLDAP `slapd` (see `slapd.rs`): what a person
//! signing in would get from it — the right password binds, a wrong one does not, an unknown
//! name is not found, and a directory that is down or silent answers "unavailable" within
//! the timeout instead of hanging.

use crate::slapd::{
    ALICE_PASSWORD, BOB_PASSWORD, MIN_LENGTH, SERVICE_DN, SERVICE_PASSWORD, SUFFIX, Slapd,
    have_slapd,
};
use std::time::{Duration, Instant};
use tessera_core::directory::ChangeFailure;
use tessera_server::directory::{
    Directory, DirectoryConfig, DirectoryError, DirectoryKind, LdapDirectory, Refusal, Security,
};
use zeroize::Zeroizing;

pub const TIMEOUT: Duration = Duration::from_secs(2);

pub fn config(url: String, security: Security) -> DirectoryConfig {
    let kind = DirectoryKind::OpenLdap;
    let config = DirectoryConfig {
        kind,
        url,
        security,
        bind_dn: SERVICE_DN.into(),
        bind_password: Zeroizing::new(SERVICE_PASSWORD.into()),
        user_base: format!("ou=people,{SUFFIX}"),
        user_filter: kind.user_filter().into(),
        group_base: Some(format!("ou=groups,{SUFFIX}")),
        group_filter: kind.group_filter().into(),
        attributes: kind.attributes(),
        ca_file: None,
        connect_timeout: TIMEOUT,
        operation_timeout: TIMEOUT,
        sync_interval: Duration::ZERO,
    };
    config.validate().unwrap();
    config
}

pub fn directory(slapd: &Slapd) -> LdapDirectory {
    LdapDirectory::new(config(slapd.url(), Security::Plain)).unwrap()
}

#[tokio::test]
async fn the_right_password_binds_and_brings_the_persons_details() {
    if !have_slapd() {
        return;
    }
    let slapd = Slapd::start();
    let alice = directory(&slapd)
        .check_password("alice", ALICE_PASSWORD)
        .await
        .unwrap();
    assert_eq!(alice.dn, format!("uid=alice,ou=people,{SUFFIX}"));
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.display_name.as_deref(), Some("Alice Andersen"));
    assert_eq!(alice.mail.as_deref(), Some("alice@example.org"));
    assert_eq!(alice.mobile.as_deref(), Some("+31 6 12345678"));
    assert_eq!(alice.telephone.as_deref(), Some("+31 20 1234567"));
    assert_eq!(alice.groups, ["admins", "staff"]);

    let bob = directory(&slapd)
        .check_password("bob", BOB_PASSWORD)
        .await
        .unwrap();
    assert_eq!((bob.mail, bob.mobile), (None, None));
    assert_eq!(bob.groups, ["staff"]);
}

#[tokio::test]
async fn a_wrong_or_empty_password_does_not_bind() {
    if !have_slapd() {
        return;
    }
    let slapd = Slapd::start();
    let dir = directory(&slapd);
    assert_eq!(
        dir.check_password("alice", BOB_PASSWORD).await,
        Err(DirectoryError::InvalidCredentials)
    );
    // LDAP would take an empty password as an anonymous bind and say "success".
    assert_eq!(
        dir.check_password("alice", "").await,
        Err(DirectoryError::InvalidCredentials)
    );
    // The right one still works afterwards: nothing was left bound or locked.
    assert!(dir.check_password("alice", ALICE_PASSWORD).await.is_ok());
}

#[tokio::test]
async fn an_unknown_person_is_not_found_and_filters_cannot_be_injected() {
    if !have_slapd() {
        return;
    }
    let slapd = Slapd::start();
    let dir = directory(&slapd);
    assert_eq!(
        dir.check_password("carol", "anything-at-all").await,
        Err(DirectoryError::NotFound)
    );
    // `*` would match everyone, `)(uid=alice` would rewrite the filter: both are escaped.
    assert_eq!(dir.find("*").await, Err(DirectoryError::NotFound));
    assert_eq!(
        dir.check_password("x)(uid=alice", ALICE_PASSWORD).await,
        Err(DirectoryError::NotFound)
    );
    // The service account is not a person: outside the user base and filter.
    assert_eq!(dir.find("tessera").await, Err(DirectoryError::NotFound));
    assert_eq!(
        dir.find("bob").await.unwrap().display_name.as_deref(),
        Some("Bob Bakker")
    );
}

#[tokio::test]
async fn a_stopped_directory_is_unavailable_within_the_timeout() {
    if !have_slapd() {
        return;
    }
    let mut slapd = Slapd::start();
    let dir = directory(&slapd);
    assert_eq!(dir.ping().await, Ok(()));
    slapd.stop();
    let started = Instant::now();
    let answer = dir.check_password("alice", ALICE_PASSWORD).await;
    assert!(
        matches!(answer, Err(DirectoryError::Unavailable(_))),
        "{answer:?}"
    );
    assert!(matches!(
        dir.ping().await,
        Err(DirectoryError::Unavailable(_))
    ));
    assert!(
        started.elapsed() < TIMEOUT * 2,
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_directory_that_never_answers_is_unavailable_not_a_hang() {
    // A listener that accepts and then says nothing: a hung directory, no slapd needed.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let dir = LdapDirectory::new(config(format!("ldap://{addr}"), Security::Plain)).unwrap();
    let started = Instant::now();
    let answer = dir.check_password("alice", ALICE_PASSWORD).await;
    assert!(
        matches!(answer, Err(DirectoryError::Unavailable(_))),
        "{answer:?}"
    );
    assert!(
        started.elapsed() < TIMEOUT * 3,
        "took {:?}",
        started.elapsed()
    );
    hold.abort();
}

#[tokio::test]
async fn a_directory_that_hangs_after_the_pool_filled_costs_one_timeout_not_one_per_connection() {
    if !have_slapd() {
        return;
    }
    let slapd = Slapd::start();
    let mut settings = config(slapd.url(), Security::Plain);
    // Short next to the operation timeout, so the bounds below tell the right behaviour from
    // the wrong one by seconds, whatever a busy machine adds.
    settings.connect_timeout = Duration::from_millis(500);
    let dir = LdapDirectory::new(settings).unwrap();
    // Four searches at once: four service connections, all idle in the pool afterwards. A
    // busy machine may miss the short connect timeout here; that drops the idle ones, so
    // all four go again.
    let mut tries = 0;
    loop {
        let (a, b, c, d) = tokio::join!(
            dir.find("alice"),
            dir.find("bob"),
            dir.find("alice"),
            dir.find("bob")
        );
        if a.is_ok() && b.is_ok() && c.is_ok() && d.is_ok() {
            break;
        }
        tries += 1;
        assert!(tries < 10, "{a:?} {b:?} {c:?} {d:?}");
    }

    slapd.hang();
    let unavailable = |answer: Result<(), DirectoryError>| {
        assert!(
            matches!(answer, Err(DirectoryError::Unavailable(_))),
            "{answer:?}"
        );
    };
    // One pooled connection's operation timeout, then one new connection's connect timeout
    // (2.5 s): not every idle connection's timeout in turn (4 x 2 s, and more for the new one).
    let started = Instant::now();
    unavailable(dir.find("alice").await.map(|_| ()));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // The idle ones were dropped: the next requests try one new connection each, bounded by
    // the connect timeout service bind included (2 x 0.5 s; a pooled connection tried again
    // or a bind bounded only by the operation timeout would take 4 s or more).
    for _ in 0..2 {
        let started = Instant::now();
        unavailable(
            dir.check_password("alice", ALICE_PASSWORD)
                .await
                .map(|_| ()),
        );
        unavailable(dir.ping().await);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(3), "took {took:?}");
    }

    // Once slapd answers again the same client recovers. slapd first works off what queued
    // while it was frozen, and on a busy machine that can outlast the connect timeout:
    // an outage answer then is fine, anything else or no recovery in 20 s is not.
    slapd.resume();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let signed_in = match dir.ping().await {
            Ok(()) => dir
                .check_password("alice", ALICE_PASSWORD)
                .await
                .map(|_| ()),
            down => down,
        };
        match signed_in {
            Ok(()) => break,
            Err(DirectoryError::Unavailable(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            other => panic!("after slapd resumed: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_wrong_service_password_is_an_outage_not_a_wrong_password() {
    if !have_slapd() {
        return;
    }
    let slapd = Slapd::start();
    let mut bad = config(slapd.url(), Security::Plain);
    bad.bind_password = Zeroizing::new("not-the-service-password".into());
    let answer = LdapDirectory::new(bad)
        .unwrap()
        .check_password("alice", ALICE_PASSWORD)
        .await;
    assert!(
        matches!(answer, Err(DirectoryError::Unavailable(_))),
        "{answer:?}"
    );
}

#[tokio::test]
async fn starttls_is_required_unless_plain_was_chosen() {
    if !have_slapd() {
        return;
    }
    // This slapd has no certificate, so it cannot do StartTLS; the client must not fall back
    // to sending the password in the clear.
    let slapd = Slapd::start();
    let dir = LdapDirectory::new(config(slapd.url(), Security::StartTls)).unwrap();
    let answer = dir.check_password("alice", ALICE_PASSWORD).await;
    assert!(
        matches!(answer, Err(DirectoryError::Unavailable(_))),
        "{answer:?}"
    );
}

#[tokio::test]
async fn a_reset_written_back_makes_the_new_password_bind_and_the_old_one_not() {
    if !have_slapd() {
        return;
    }
    let slapd = Slapd::start();
    let dir = directory(&slapd);
    let new = "Brand-new-directory-pw3";
    dir.reset_password("bob", new).await.unwrap();
    assert!(dir.check_password("bob", new).await.is_ok());
    assert_eq!(
        dir.check_password("bob", BOB_PASSWORD).await,
        Err(DirectoryError::InvalidCredentials)
    );
    // Nobody else's password changed.
    assert!(dir.check_password("alice", ALICE_PASSWORD).await.is_ok());
    assert_eq!(
        dir.reset_password("carol", new).await,
        Err(DirectoryError::NotFound)
    );
}

#[tokio::test]
async fn the_directorys_password_policy_refuses_with_its_reason_and_nothing_changes() {
    if !have_slapd() {
        return;
    }
    let slapd = Slapd::start();
    let dir = directory(&slapd);
    let short = "Short-pw1";
    assert!(short.len() < MIN_LENGTH);
    let answer = dir.reset_password("bob", short).await;
    let Err(DirectoryError::Refused { reason }) = answer else {
        panic!("expected a refusal, got {answer:?}");
    };
    // slapd's result text alone says "fails quality checking policy"; the password policy
    // control says which rule.
    assert_eq!(Refusal::of(&reason), Refusal::TooShort, "{reason}");
    assert!(dir.check_password("bob", BOB_PASSWORD).await.is_ok());

    // History: a password used before is refused, and the current one stays.
    let first = "First-new-directory-pw";
    let second = "Second-new-directory-pw";
    dir.reset_password("bob", first).await.unwrap();
    dir.reset_password("bob", second).await.unwrap();
    let answer = dir.reset_password("bob", first).await;
    let Err(DirectoryError::Refused { reason }) = answer else {
        panic!("expected a refusal, got {answer:?}");
    };
    assert_eq!(Refusal::of(&reason), Refusal::InHistory, "{reason}");
    assert!(dir.check_password("bob", second).await.is_ok());
}

#[tokio::test]
async fn a_person_changes_their_own_password_with_the_current_one() {
    if !have_slapd() {
        return;
    }
    let slapd = Slapd::start();
    let dir = directory(&slapd);
    let new = "Alice-changed-pw-4";
    // The bind failed: not known right, so the guess stays counted.
    assert_eq!(
        dir.change_password("alice", "not-her-password", new).await,
        Err(ChangeFailure::from(DirectoryError::InvalidCredentials))
    );
    assert!(dir.check_password("alice", ALICE_PASSWORD).await.is_ok());
    dir.change_password("alice", ALICE_PASSWORD, new)
        .await
        .unwrap();
    assert!(dir.check_password("alice", new).await.is_ok());
    assert_eq!(
        dir.check_password("alice", ALICE_PASSWORD).await,
        Err(DirectoryError::InvalidCredentials)
    );
    // Her own policy applies to her: the password she just left is in her history.
    // Refused after she bound: the flow knows her current password was right.
    let answer = dir.change_password("alice", new, ALICE_PASSWORD).await;
    assert!(
        matches!(&answer, Err(ChangeFailure { error: DirectoryError::Refused { reason }, current_accepted: true })
            if Refusal::of(reason) == Refusal::InHistory),
        "{answer:?}"
    );
}

#[tokio::test]
async fn starttls_and_ldaps_trust_the_organizations_ca_and_nothing_else() {
    if !have_slapd() {
        return;
    }
    let slapd = Slapd::start_tls();
    let with_ca = |url: String, security: Security| {
        let mut c = config(url, security);
        c.ca_file = Some(slapd.ca_file());
        c.validate().unwrap();
        LdapDirectory::new(c).unwrap()
    };
    let starttls = with_ca(slapd.url(), Security::StartTls);
    assert!(
        starttls
            .check_password("alice", ALICE_PASSWORD)
            .await
            .is_ok()
    );
    let ldaps_url = format!("ldaps://{}", slapd.ldaps_addr.unwrap());
    let ldaps = with_ca(ldaps_url.clone(), Security::Ldaps);
    assert!(ldaps.check_password("alice", ALICE_PASSWORD).await.is_ok());
    assert_eq!(
        ldaps.check_password("alice", BOB_PASSWORD).await,
        Err(DirectoryError::InvalidCredentials)
    );
    // The test CA is not in the system store: without ca_file the certificate is refused,
    // and that is an outage, not a reason to go on.
    let untrusted = LdapDirectory::new(config(ldaps_url, Security::Ldaps)).unwrap();
    let answer = untrusted.check_password("alice", ALICE_PASSWORD).await;
    assert!(
        matches!(answer, Err(DirectoryError::Unavailable(_))),
        "{answer:?}"
    );
}
