//! `tessera backup` and `tessera restore` as an operator runs them: one archive, the key in it
//! only when asked (with a warning), a restore only into an empty folder that checks the key
//! before anything lands there. PostgreSQL is refused with pg_dump's advice.

use crate::fixture;
use crate::harness::{Ran, TempDir, run, tessera};
use crate::postgres::URL_VAR;
use std::path::Path;

fn backup(dir: &TempDir, data: &Path, to: &Path, extra: &[&str]) -> Ran {
    let mut args = vec![
        "backup",
        "--to",
        to.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(tessera(&dir.path, &args), "")
}

pub fn restore(dir: &Path, from: &Path, into: &Path, extra: &[&str]) -> Ran {
    let mut args = vec![
        "restore",
        "--from",
        from.to_str().unwrap(),
        "--data-dir",
        into.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(tessera(dir, &args), "")
}

/// The names in a ustar archive, read with the system's tar.
fn listing(archive: &Path) -> Vec<String> {
    let out = std::process::Command::new("tar")
        .arg("tf")
        .arg(archive)
        .output()
        .expect("run tar");
    assert!(out.status.success(), "tar tf: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The archive's manifest, read with the system's tar.
fn manifest(archive: &Path) -> serde_json::Value {
    let out = std::process::Command::new("tar")
        .arg("xOf")
        .arg(archive)
        .arg("manifest.json")
        .output()
        .expect("run tar");
    serde_json::from_slice(&out.stdout).expect("manifest.json")
}

/// Files a command left beside `path` whose names start with a dot (its temporary files).
fn leftovers(folder: &Path) -> Vec<String> {
    std::fs::read_dir(folder)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[test]
fn a_backup_with_the_key_restores_into_a_new_folder_and_opens_the_seeds() {
    let dir = TempDir::new("backup-key");
    let data = dir.join("data");
    fixture::copy_to(&data);
    let archive = dir.join("tessera.backup");

    let made = backup(&dir, &data, &archive, &["--include-key"]);
    assert_eq!(made.code, Some(0), "{}", made.stderr);
    assert!(
        made.stderr.contains("holds the master key") && made.stderr.contains("every sealed"),
        "a clear warning about the key: {}",
        made.stderr
    );
    #[cfg(unix)]
    assert_eq!(crate::harness::mode(&archive), 0o600);
    assert_eq!(
        listing(&archive),
        ["manifest.json", "tessera.db", "master.key"]
    );
    let m = manifest(&archive);
    assert_eq!(m["includes_key"], true);
    assert_eq!(m["store"], "sqlite");
    assert_eq!(m["format"], "tessera-backup");
    assert_eq!(m["schema_version"], fixture::facts()["schema_version"]);
    assert_eq!(m["tessera_version"], env!("CARGO_PKG_VERSION"));
    assert!(m["created_at"].as_str().unwrap().ends_with('Z'), "{m}");
    assert!(
        leftovers(&dir.path).is_empty(),
        "{:?}",
        leftovers(&dir.path)
    );

    let restored = dir.join("restored");
    let done = restore(&dir.path, &archive, &restored, &[]);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(
        done.stdout.contains("the master key opens all"),
        "{}",
        done.stdout
    );
    assert!(done.stdout.contains("migrated to"), "{}", done.stdout);
    #[cfg(unix)]
    {
        assert_eq!(crate::harness::mode(&restored), 0o700);
        assert_eq!(crate::harness::mode(&restored.join("master.key")), 0o600);
        assert_eq!(crate::harness::mode(&restored.join("tessera.db")), 0o600);
    }
    assert_eq!(
        std::fs::read(restored.join("master.key")).unwrap(),
        std::fs::read(data.join("master.key")).unwrap()
    );
    let users = run(
        tessera(
            &dir.path,
            &["user", "list", "--data-dir", restored.to_str().unwrap()],
        ),
        "",
    );
    assert_eq!(users.code, Some(0), "{}", users.stderr);
    assert!(
        users.stdout.contains("alice@example.org"),
        "{}",
        users.stdout
    );
    assert!(
        leftovers(&dir.path).is_empty(),
        "{:?}",
        leftovers(&dir.path)
    );
}

#[test]
fn a_backup_without_the_key_needs_the_key_file_and_refuses_a_wrong_one() {
    let dir = TempDir::new("backup-nokey");
    let data = dir.join("data");
    fixture::copy_to(&data);
    let archive = dir.join("tessera.backup");
    let made = backup(&dir, &data, &archive, &[]);
    assert_eq!(made.code, Some(0), "{}", made.stderr);
    assert!(
        made.stdout.contains("the master key is not in it"),
        "{}",
        made.stdout
    );
    assert_eq!(listing(&archive), ["manifest.json", "tessera.db"]);
    assert_eq!(manifest(&archive)["includes_key"], false);

    // No key at all: told to give one, nothing created.
    let restored = dir.join("restored");
    let none = restore(&dir.path, &archive, &restored, &[]);
    assert_eq!(none.code, Some(2), "{}", none.stderr);
    assert!(none.stderr.contains("--key-file"), "{}", none.stderr);
    assert!(!restored.exists());

    // Another key: refused before anything lands in the folder.
    let other = dir.join("other");
    let made_other = crate::harness::add_user(
        &dir.path,
        &other,
        "zed@example.org",
        "Lantern orchard quartz 88",
        &[],
    );
    assert_eq!(made_other.code, Some(0), "{}", made_other.stderr);
    let wrong_key = other.join("master.key");
    std::fs::create_dir(&restored).unwrap();
    let wrong = restore(
        &dir.path,
        &archive,
        &restored,
        &["--key-file", wrong_key.to_str().unwrap()],
    );
    assert_ne!(wrong.code, Some(0), "{}", wrong.stdout);
    assert!(
        wrong.stderr.contains("does not open") && wrong.stderr.contains("Nothing was restored"),
        "{}",
        wrong.stderr
    );
    assert_eq!(
        std::fs::read_dir(&restored).unwrap().count(),
        0,
        "still empty"
    );
    assert!(
        leftovers(&dir.path).is_empty(),
        "{:?}",
        leftovers(&dir.path)
    );

    // The right key: restored, and the key copied in.
    let right = restore(
        &dir.path,
        &archive,
        &restored,
        &["--key-file", data.join("master.key").to_str().unwrap()],
    );
    assert_eq!(right.code, Some(0), "{}", right.stderr);
    assert_eq!(
        std::fs::read(restored.join("master.key")).unwrap(),
        std::fs::read(data.join("master.key")).unwrap()
    );
}

#[test]
fn restore_refuses_a_folder_that_is_not_empty() {
    let dir = TempDir::new("restore-busy");
    let data = dir.join("data");
    fixture::copy_to(&data);
    let archive = dir.join("tessera.backup");
    assert_eq!(
        backup(&dir, &data, &archive, &["--include-key"]).code,
        Some(0)
    );
    let busy = dir.join("busy");
    std::fs::create_dir(&busy).unwrap();
    std::fs::write(busy.join("keep.txt"), "mine").unwrap();
    let refused = restore(&dir.path, &archive, &busy, &[]);
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("is not empty"),
        "{}",
        refused.stderr
    );
    assert_eq!(std::fs::read_dir(&busy).unwrap().count(), 1);
    assert_eq!(std::fs::read(busy.join("keep.txt")).unwrap(), b"mine");

    // Not an archive at all.
    let junk = dir.join("junk.backup");
    std::fs::write(&junk, vec![7_u8; 2048]).unwrap();
    let bad = restore(&dir.path, &junk, &dir.join("fresh"), &[]);
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    assert!(
        bad.stderr.contains("not a Tessera backup"),
        "{}",
        bad.stderr
    );
    assert!(!dir.join("fresh").exists());
    assert!(
        leftovers(&dir.path).is_empty(),
        "{:?}",
        leftovers(&dir.path)
    );
}

#[test]
fn a_backup_with_nothing_to_back_up_writes_nothing() {
    let dir = TempDir::new("backup-none");
    let data = dir.join("data");
    std::fs::create_dir(&data).unwrap();
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    let archive = out.join("tessera.backup");
    let ran = backup(&dir, &data, &archive, &[]);
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert!(ran.stderr.contains("nothing to back up"), "{}", ran.stderr);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
    assert!(!data.join("tessera.db").exists(), "no database was created");
}

#[test]
fn backup_on_postgres_refuses_with_pg_dump_advice() {
    let dir = TempDir::new("backup-pg");
    // The refusal comes before any connection; a real server is used when there is one.
    let url = std::env::var(URL_VAR)
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://tessera@127.0.0.1:1/tessera".into());
    let archive = dir.join("tessera.backup");
    let ran = run(
        tessera(
            &dir.path,
            &[
                "backup",
                "--to",
                archive.to_str().unwrap(),
                "--database-url",
                &url,
            ],
        ),
        "",
    );
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("pg_dump") && ran.stderr.contains("master key"),
        "{}",
        ran.stderr
    );
    assert!(!archive.exists());
}
