//! `tessera forward-auth rule …`: access rules added, listed in order, shown, changed, moved
//! and removed, a bad rule refused naming its flag; on SQLite, and on PostgreSQL when
//! `TESSERA_TEST_POSTGRES_URL` is set.

use crate::harness::{Ran, TempDir, run, tessera};
use crate::postgres::{Database, URL_VAR};
use serde_json::Value;
use std::path::Path;

/// Runs `tessera forward-auth rule ARGS --data-dir data`, on `database` when given.
fn rule(dir: &Path, database: Option<&str>, args: &[&str]) -> Ran {
    let mut all = vec!["forward-auth", "rule"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--data-dir", "data"]);
    let mut command = tessera(dir, &all);
    if let Some(url) = database {
        command.env("TESSERA_DATABASE_URL", url);
    }
    run(command, "")
}

fn ok(ran: Ran) -> String {
    assert_eq!(ran.code, Some(0), "{ran:?}");
    ran.stdout
}

fn json(ran: Ran) -> Value {
    serde_json::from_str(&ok(ran)).expect("JSON")
}

fn refused(ran: Ran, flag: &str) {
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(
        ran.stderr.starts_with(&format!("error: {flag}: ")),
        "{ran:?}"
    );
}

/// The first domain of each rule, in order (and each position is its index).
fn order(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .enumerate()
        .map(|(i, r)| {
            assert_eq!(r["position"], i, "{list}");
            r["domains"][0].as_str().expect("domain").to_string()
        })
        .collect()
}

fn rules(dir: &Path, db: Option<&str>) {
    let cmd = |args: &[&str]| rule(dir, db, args);

    let ran = cmd(&["list"]);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert!(ran.stderr.contains("denied"), "{ran:?}");

    let out = ok(cmd(&[
        "add",
        "--domain",
        "wiki.example.org",
        "--path",
        "/admin/*",
        "--path",
        "/settings",
        "--level",
        "two_factor",
        "--group",
        "ops",
        "--max-age",
        "600",
    ]));
    assert!(out.starts_with("added rule "), "{out}");
    assert!(out.contains("at position 0"), "{out}");
    let wiki = out["added rule ".len()..]
        .split_whitespace()
        .next()
        .expect("id")
        .to_string();

    let open = json(cmd(&[
        "add",
        "--domain",
        "*.example.org",
        "--domain",
        "example.org",
        "--level",
        "bypass",
        "--json",
    ]));
    assert_eq!(open["position"], 1);
    assert_eq!(open["level"], "bypass");
    assert_eq!(open["paths"], Value::Array(vec![]));
    let open_id = open["id"].as_str().expect("id").to_string();
    let first = json(cmd(&[
        "add",
        "--domain",
        "status.example.org",
        "--path",
        "/healthz",
        "--level",
        "bypass",
        "--position",
        "0",
        "--json",
    ]));
    assert_eq!(first["position"], 0);

    // Refused before anything is written, naming the flag.
    refused(
        cmd(&["add", "--domain", "a b", "--level", "two_factor"]),
        "--domain",
    );
    refused(
        cmd(&[
            "add",
            "--domain",
            "a.example.org",
            "--level",
            "bypass",
            "--group",
            "ops",
        ]),
        "--level",
    );
    refused(
        cmd(&[
            "add",
            "--domain",
            "a.example.org",
            "--level",
            "two_factor",
            "--max-age",
            "5",
        ]),
        "--max-age",
    );
    refused(
        cmd(&[
            "add",
            "--domain",
            "a.example.org",
            "--level",
            "two_factor",
            "--path",
            "x",
        ]),
        "--path",
    );
    let ran = cmd(&["add", "--domain", "a.example.org", "--level", "strong"]);
    assert_eq!(ran.code, Some(2), "{ran:?}");

    let list = json(cmd(&["list", "--json"]));
    assert_eq!(
        order(&list),
        ["status.example.org", "wiki.example.org", "*.example.org"]
    );
    assert_eq!(list[1]["max_age_secs"], 600);
    assert_eq!(list[1]["groups"][0], "ops");
    let table = ok(cmd(&["list"]));
    assert!(table.starts_with("POS"), "{table}");
    assert!(table.contains(&wiki) && table.contains("600s"), "{table}");
    assert!(table.contains("first rule that matches decides"), "{table}");

    // `set` changes only what it is given, and the rule keeps its place.
    let shown = json(cmd(&[
        "set",
        &wiki,
        "--level",
        "phishing_resistant",
        "--no-max-age",
        "--json",
    ]));
    assert_eq!(shown["level"], "phishing_resistant");
    assert_eq!(shown["max_age_secs"], Value::Null);
    assert_eq!(
        shown["paths"].as_array().expect("paths").len(),
        2,
        "unchanged"
    );
    assert_eq!(shown["position"], 1);
    refused(cmd(&["set", &wiki, "--group", "a,b"]), "--group");
    let text = ok(cmd(&["show", &wiki]));
    assert!(
        text.contains("phishing_resistant") && text.contains("/admin/*"),
        "{text}"
    );

    // Moved to the top, then past the end.
    let list = json(cmd(&["move", &open_id, "--position", "0", "--json"]));
    assert_eq!(
        order(&list),
        ["*.example.org", "status.example.org", "wiki.example.org"]
    );
    let out = ok(cmd(&["move", &open_id, "--position", "9"]));
    assert!(out.starts_with("POS"), "{out}");
    let list = json(cmd(&["list", "--json"]));
    assert_eq!(
        order(&list),
        ["status.example.org", "wiki.example.org", "*.example.org"]
    );

    ok(cmd(&["remove", &wiki]));
    for args in [
        vec!["show", wiki.as_str()],
        vec!["remove", wiki.as_str()],
        vec!["move", wiki.as_str(), "--position", "0"],
        vec!["set", wiki.as_str(), "--level", "bypass"],
        vec!["show", "not-an-id"],
    ] {
        let ran = cmd(&args);
        assert_eq!(ran.code, Some(2), "{args:?}: {ran:?}");
        assert!(ran.stderr.contains("there is no rule"), "{ran:?}");
    }
    let list = json(cmd(&["list", "--json"]));
    assert_eq!(order(&list), ["status.example.org", "*.example.org"]);
}

#[test]
fn rules_on_sqlite() {
    let dir = TempDir::new("forward-auth");
    rules(&dir.path, None);
}

#[test]
fn rules_on_postgres() {
    let Some(base) = std::env::var(URL_VAR).ok().filter(|u| !u.is_empty()) else {
        eprintln!("{URL_VAR} not set: skipping the PostgreSQL forward-auth test");
        return;
    };
    let db = Database::create(&base, "forward_auth");
    let dir = TempDir::new("forward-auth-postgres");
    rules(&dir.path, Some(&db.url));
    assert!(!dir.join("data/tessera.db").exists(), "no SQLite database");
}
