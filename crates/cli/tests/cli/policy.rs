use crate::harness::{Ran, TempDir, run, tessera};
use serde_json::Value;
use std::path::Path;

fn policy(dir: &Path, args: &[&str]) -> Ran {
    let mut all = vec!["policy"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--data-dir", "data"]);
    run(tessera(dir, &all), "")
}

fn shown(dir: &Path) -> Value {
    let ran = policy(dir, &["show"]);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    serde_json::from_str(&ran.stdout).expect("policy show prints JSON")
}

#[test]
fn a_policy_change_is_saved_and_shown() {
    let dir = TempDir::new("policy-set");
    assert_eq!(
        shown(&dir.path)["registration_required"],
        true,
        "the default"
    );

    let ran = policy(
        &dir.path,
        &["set", "registration_required=false", "lockout_threshold=5"],
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let printed: Value = serde_json::from_str(&ran.stdout).expect("the new policy as JSON");
    assert_eq!(printed["registration_required"], false);

    let now = shown(&dir.path);
    assert_eq!(now["registration_required"], false);
    assert_eq!(now["lockout_threshold"], 5);
}

#[test]
fn an_unknown_key_or_bad_value_changes_nothing_and_exits_2() {
    let dir = TempDir::new("policy-refused");
    let before = shown(&dir.path);

    let ran = policy(&dir.path, &["set", "lockout_threshold=5", "nope=1"]);
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(
        ran.stderr.starts_with("error: unknown policy key `nope`"),
        "{ran:?}"
    );
    assert_eq!(ran.stderr.lines().count(), 1, "one line: {ran:?}");

    let ran = policy(&dir.path, &["set", "lockout_threshold=1000"]);
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(ran.stderr.contains("lockout_threshold"), "{ran:?}");

    let ran = policy(&dir.path, &["set", "registration_required"]);
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(ran.stderr.contains("KEY=VALUE"), "{ran:?}");

    assert_eq!(shown(&dir.path), before, "all or nothing");
}
