//! `tessera doctor`: one line per check (ok, warn, FAIL) with what to do, exit 1 when a check
//! fails, and nothing changed.

use crate::fixture;
use crate::harness::{Ran, TempDir, run, tessera};
use std::path::Path;

fn doctor(dir: &TempDir, data: &Path, public_url: &str) -> Ran {
    let mut command = tessera(&dir.path, &["doctor", "--data-dir", data.to_str().unwrap()]);
    command.env("TESSERA_PUBLIC_URL", public_url);
    run(command, "")
}

/// The line of the check that mentions `topic`, with its level.
fn line<'a>(ran: &'a Ran, topic: &str) -> &'a str {
    ran.stdout
        .lines()
        .find(|l| l.contains(topic))
        .unwrap_or_else(|| panic!("no line about {topic}:\n{}", ran.stdout))
}

/// The fixture, migrated to this binary's schema by an admin command.
fn current_setup(dir: &TempDir) -> std::path::PathBuf {
    let data = dir.join("data");
    fixture::copy_to(&data);
    let ran = run(
        tessera(
            &dir.path,
            &["user", "list", "--data-dir", data.to_str().unwrap()],
        ),
        "",
    );
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    data
}

#[test]
fn a_good_setup_passes() {
    let dir = TempDir::new("doctor-good");
    let data = current_setup(&dir);
    let before = std::fs::read(data.join("tessera.db")).unwrap();
    let ran = doctor(&dir, &data, "https://mfa.example.org");
    assert_eq!(ran.code, Some(0), "{}\n{}", ran.stdout, ran.stderr);
    assert!(!ran.stdout.contains("FAIL"), "{}", ran.stdout);
    assert!(
        line(&ran, "data folder").starts_with("ok"),
        "{}",
        ran.stdout
    );
    assert!(line(&ran, "master key").starts_with("ok"), "{}", ran.stdout);
    assert!(line(&ran, "(current)").starts_with("ok"), "{}", ran.stdout);
    assert!(
        line(&ran, "quick_check").starts_with("ok"),
        "{}",
        ran.stdout
    );
    assert!(
        line(&ran, "opens the").starts_with("ok"),
        "the key is tried on the sealed seeds: {}",
        ran.stdout
    );
    assert!(line(&ran, "public_url").starts_with("ok"), "{}", ran.stdout);
    // The default policy allows phones and email, and the outbox keeps their messages.
    assert!(line(&ran, "texts:").starts_with("warn"), "{}", ran.stdout);
    assert_eq!(
        std::fs::read(data.join("tessera.db")).unwrap(),
        before,
        "doctor changes nothing"
    );
    assert!(!data.join("tessera.db-wal").exists());
}

#[test]
fn an_older_database_will_migrate_and_plain_http_fails() {
    let dir = TempDir::new("doctor-older");
    let data = dir.join("data");
    fixture::copy_to(&data);
    let ran = doctor(&dir, &data, "http://mfa.example.org");
    let schema = line(&ran, "older than this binary");
    assert!(
        schema.starts_with("warn") && schema.contains("will migrate it at start"),
        "{schema}"
    );
    assert!(
        line(&ran, "public_url").starts_with("FAIL"),
        "{}",
        ran.stdout
    );
    assert_eq!(ran.code, Some(1), "{}", ran.stdout);
    // Still 18: doctor does not migrate.
    assert_eq!(
        serde_json::Value::from(fixture::schema_version(&data.join("tessera.db"))),
        fixture::facts()["schema_version"]
    );
}

#[cfg(unix)]
#[test]
fn a_data_folder_open_to_others_fails() {
    let dir = TempDir::new("doctor-0755");
    let data = current_setup(&dir);
    fixture::set_mode(&data, 0o755);
    let ran = doctor(&dir, &data, "https://mfa.example.org");
    assert_eq!(ran.code, Some(1), "{}", ran.stdout);
    let l = line(&ran, "data folder");
    assert!(l.starts_with("FAIL") && l.contains("chmod 700"), "{l}");
}

#[test]
fn a_missing_key_fails_when_there_are_accounts() {
    let dir = TempDir::new("doctor-nokey");
    let data = current_setup(&dir);
    std::fs::remove_file(data.join("master.key")).unwrap();
    let ran = doctor(&dir, &data, "https://mfa.example.org");
    assert_eq!(ran.code, Some(1), "{}", ran.stdout);
    let l = line(&ran, "no master key file");
    assert!(
        l.starts_with("FAIL") && l.contains("restore the key"),
        "{l}"
    );
    assert!(!data.join("master.key").exists(), "doctor makes no key");
}

#[test]
fn a_newer_schema_fails() {
    let dir = TempDir::new("doctor-newer");
    let data = current_setup(&dir);
    fixture::record_future_migration(&data.join("tessera.db"));
    let ran = doctor(&dir, &data, "https://mfa.example.org");
    assert_eq!(ran.code, Some(1), "{}", ran.stdout);
    let l = line(&ran, "newer than this binary");
    assert!(
        l.starts_with("FAIL") && l.contains("run that version"),
        "{l}"
    );
}

#[test]
fn a_broken_configuration_is_reported() {
    let dir = TempDir::new("doctor-config");
    let file = dir.join("tessera.toml");
    std::fs::write(&file, "listne = \"127.0.0.1:8080\"\n").unwrap();
    let ran = run(
        tessera(&dir.path, &["doctor", "--config", file.to_str().unwrap()]),
        "",
    );
    assert_eq!(ran.code, Some(1), "{}", ran.stdout);
    assert!(
        line(&ran, "configuration").starts_with("FAIL"),
        "{}",
        ran.stdout
    );
}

#[test]
fn a_postgres_setup_is_checked_too() {
    let Some(base) = std::env::var(crate::postgres::URL_VAR)
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("TESSERA_TEST_POSTGRES_URL not set: skipping the PostgreSQL doctor test");
        return;
    };
    let db = crate::postgres::Database::create(&base, "doctor");
    let dir = TempDir::new("doctor-pg");
    let data = dir.join("data");
    let data_arg = data.to_str().unwrap();
    let added = run(
        tessera(
            &dir.path,
            &[
                "user",
                "add",
                "ada@example.org",
                "--password-stdin",
                "--data-dir",
                data_arg,
                "--database-url",
                &db.url,
            ],
        ),
        "Quartz meadow lantern 41\n",
    );
    assert_eq!(added.code, Some(0), "{}", added.stderr);
    let mut command = tessera(
        &dir.path,
        &["doctor", "--data-dir", data_arg, "--database-url", &db.url],
    );
    command.env("TESSERA_PUBLIC_URL", "https://mfa.example.org");
    let ran = run(command, "");
    assert_eq!(ran.code, Some(0), "{}\n{}", ran.stdout, ran.stderr);
    assert!(line(&ran, "(current)").starts_with("ok"), "{}", ran.stdout);
    assert!(
        !ran.stdout.contains("quick_check"),
        "SQLite only: {}",
        ran.stdout
    );

    // The key file gone while the database holds an account: a failure, as `serve` would.
    std::fs::remove_file(data.join("master.key")).unwrap();
    let mut command = tessera(
        &dir.path,
        &["doctor", "--data-dir", data_arg, "--database-url", &db.url],
    );
    command.env("TESSERA_PUBLIC_URL", "https://mfa.example.org");
    let ran = run(command, "");
    assert_eq!(ran.code, Some(1), "{}", ran.stdout);
    assert!(
        line(&ran, "no master key file").starts_with("FAIL"),
        "{}",
        ran.stdout
    );
}
