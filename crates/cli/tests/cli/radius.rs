//! `tessera radius client …`: clients added (the secret printed once), listed, refused when
//! the address is not one, and removed by name; on SQLite, and on PostgreSQL when
//! `TESSERA_TEST_POSTGRES_URL` is set.

use crate::harness::{Ran, TempDir, run, tessera};
use crate::postgres::{Database, URL_VAR};
use serde_json::Value;
use std::path::Path;

fn client(dir: &Path, database: Option<&str>, args: &[&str]) -> Ran {
    let mut all = vec!["radius", "client"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--data-dir", "data"]);
    let mut command = tessera(dir, &all);
    if let Some(url) = database {
        command.env("TESSERA_DATABASE_URL", url);
    }
    run(command, "")
}

fn json(ran: Ran) -> Value {
    assert_eq!(ran.code, Some(0), "{ran:?}");
    serde_json::from_str(&ran.stdout).expect("JSON")
}

fn clients(dir: &Path, db: Option<&str>) {
    let cmd = |args: &[&str]| client(dir, db, args);
    let ran = cmd(&["list"]);
    assert_eq!(
        (ran.code, ran.stdout.trim()),
        (Some(0), "no RADIUS clients"),
        "{ran:?}"
    );

    let added = cmd(&["add", "vpn", "--address", "10.1.0.0/16"]);
    assert_eq!(added.code, Some(0), "{added:?}");
    let secret = added
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("shared secret (shown once): "))
        .expect("the secret")
        .to_string();
    assert_eq!(secret.len(), 32);
    assert!(
        secret.chars().all(|c| c.is_ascii_alphanumeric()),
        "{secret}"
    );

    let old = json(cmd(&[
        "add",
        "old switch",
        "--address",
        "192.0.2.7",
        "--no-message-authenticator",
        "--json",
    ]));
    assert_eq!(old["client"]["require_message_authenticator"], false);
    assert_ne!(
        old["secret"].as_str().unwrap(),
        secret,
        "each client its own secret"
    );

    let bad = cmd(&["add", "wifi", "--address", "10.1.0.1/16"]);
    assert_ne!(bad.code, Some(0), "{bad:?}");
    assert!(bad.stderr.contains("address"), "{bad:?}");
    let taken = cmd(&["add", "vpn", "--address", "10.9.0.0/16"]);
    assert_ne!(taken.code, Some(0), "{taken:?}");

    let list = json(cmd(&["list", "--json"]));
    // Listed oldest first (by name within a second): which came first depends on the
    // clock, so only what is listed is checked here.
    let mut names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["old switch", "vpn"]);
    let vpn = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "vpn")
        .unwrap();
    assert_eq!(vpn["address"], "10.1.0.0/16");
    assert_eq!(vpn["require_message_authenticator"], true);
    assert!(
        !cmd(&["list"]).stdout.contains(&secret),
        "the secret is never listed"
    );

    let removed = cmd(&["remove", "vpn"]);
    assert_eq!(removed.code, Some(0), "{removed:?}");
    let list = json(cmd(&["list", "--json"]));
    assert_eq!(list.as_array().unwrap().len(), 1);
    let again = cmd(&["remove", "vpn"]);
    assert_eq!(again.code, Some(2), "{again:?}");
}

#[test]
fn clients_on_sqlite() {
    let dir = TempDir::new("radius");
    clients(&dir.path, None);
}

#[test]
fn clients_on_postgres() {
    let Some(base) = std::env::var(URL_VAR).ok().filter(|u| !u.is_empty()) else {
        eprintln!("{URL_VAR} not set: skipping the PostgreSQL RADIUS test");
        return;
    };
    let db = Database::create(&base, "radius");
    let dir = TempDir::new("radius-postgres");
    clients(&dir.path, Some(&db.url));
}
