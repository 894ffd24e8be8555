//! `tessera oidc …`: clients registered, changed and removed, their secrets shown once, keys
//! rotated with the old ones still published; on SQLite, and on PostgreSQL when
//! `TESSERA_TEST_POSTGRES_URL` is set.

use crate::harness::{Ran, Server, TempDir, run, tessera};
use crate::postgres::{Database, URL_VAR};
use serde_json::Value;
use std::path::Path;

/// Runs `tessera oidc ARGS --data-dir data`, on `database` when given.
fn oidc(dir: &Path, database: Option<&str>, args: &[&str]) -> Ran {
    let mut all = vec!["oidc"];
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

/// The value on the `key  value` line of a command's text output.
fn line_value(stdout: &str, key: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no {key} in {stdout}"))
}

/// Every client command, on one database; returns the kids of two rotations.
fn clients_and_keys(dir: &Path, db: Option<&str>) -> (Vec<String>, Vec<String>) {
    let cmd = |args: &[&str]| oidc(dir, db, args);

    // A confidential client: id and secret, and a line saying the secret is shown once.
    let out = ok(cmd(&[
        "client",
        "add",
        "--name",
        "Wiki",
        "--redirect-uri",
        "https://wiki.example/cb",
        "--redirect-uri",
        "https://wiki.example/cb2",
        "--offline-access",
    ]));
    let id = line_value(&out, "client_id");
    let secret = line_value(&out, "client_secret");
    assert!(out.contains("shown this once"), "{out}");
    assert_eq!(secret.len(), 43, "256 bits, base64url: {out}");

    // A public client: no secret.
    let created = json(cmd(&[
        "client",
        "add",
        "--name",
        "Phone app",
        "--public",
        "--redirect-uri",
        "http://127.0.0.1:7000/cb",
        "--phishing-resistant",
        "--third-party",
        "--alg",
        "RS256",
        "--json",
    ]));
    assert_eq!(created["client_secret"], Value::Null, "{created}");
    let public = created["client"]["client_id"].as_str().unwrap().to_string();
    assert_eq!(created["client"]["requirement"], "phishing_resistant");
    assert_eq!(created["client"]["first_party"], false);
    assert_eq!(created["client"]["id_token_alg"], "RS256");

    // A bad URI is refused, naming the flag, and nothing is made.
    let ran = cmd(&[
        "client",
        "add",
        "--name",
        "X",
        "--redirect-uri",
        "http://x.example/cb",
    ]);
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(ran.stderr.starts_with("error: --redirect-uri: "), "{ran:?}");
    assert!(ran.stderr.contains("https"), "{ran:?}");

    let list = json(cmd(&["client", "list", "--json"]));
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Phone app", "Wiki"]);
    assert!(!list.to_string().contains("secret"), "{list}");
    let table = ok(cmd(&["client", "list"]));
    assert!(
        table.starts_with("CLIENT ID") && table.contains(&id),
        "{table}"
    );

    // `set` changes only what it is given.
    let shown = json(cmd(&[
        "client",
        "set",
        &id,
        "--third-party",
        "--alg",
        "RS256",
        "--json",
    ]));
    assert_eq!(shown["first_party"], false);
    assert_eq!(shown["id_token_alg"], "RS256");
    assert_eq!(shown["offline_access"], true, "unchanged");
    assert_eq!(shown["redirect_uris"].as_array().unwrap().len(), 2);
    let shown = json(cmd(&["client", "show", &id, "--json"]));
    assert_eq!(shown["first_party"], false, "saved");
    assert_eq!(shown["confidential"], true);
    let text = ok(cmd(&["client", "show", &id]));
    assert!(text.contains("Wiki") && !text.contains(&secret), "{text}");

    // A new secret, once; a public client has none to replace.
    let out = ok(cmd(&["client", "new-secret", &id]));
    let new_secret = line_value(&out, "client_secret");
    assert_ne!(new_secret, secret);
    assert!(out.contains("shown this once"), "{out}");
    let ran = cmd(&["client", "new-secret", &public]);
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(ran.stderr.contains("public"), "{ran:?}");

    ok(cmd(&["client", "remove", &id]));
    let ran = cmd(&["client", "show", &id]);
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(ran.stderr.contains("there is no client"), "{ran:?}");
    assert_eq!(cmd(&["client", "remove", &id]).code, Some(2));

    let kids = |v: Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect()
    };
    let first = kids(json(cmd(&["rotate-keys", "--json"])));
    let out = ok(cmd(&["rotate-keys"]));
    assert!(out.contains("65 minutes"), "{out}");
    let second: Vec<String> = out
        .lines()
        .filter_map(|l| {
            let (alg, kid) = l.split_once(char::is_whitespace)?;
            ["ES256", "RS256"]
                .contains(&alg)
                .then(|| kid.trim().to_string())
        })
        .collect();
    assert_eq!(first.len(), 2);
    assert_eq!(second.len(), 2, "{out}");
    assert!(first.iter().all(|k| !second.contains(k)));
    (first, second)
}

#[test]
fn clients_and_keys_on_sqlite() {
    let dir = TempDir::new("oidc");
    let (first, second) = clients_and_keys(&dir.path, None);

    // The server publishes both rotations' keys: the older until its tokens have expired.
    let server = Server::start(
        tessera(
            &dir.path,
            &["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"],
        ),
        dir.join("serve.log"),
    );
    let (status, body) = server.get("/oidc/jwks");
    assert_eq!(status, 200, "{}", server.log());
    for kid in first.iter().chain(&second) {
        assert!(body.contains(kid.as_str()), "{kid} in {body}");
    }
}

#[test]
fn clients_and_keys_on_postgres() {
    let Some(base) = std::env::var(URL_VAR).ok().filter(|u| !u.is_empty()) else {
        eprintln!("{URL_VAR} not set: skipping the PostgreSQL oidc test");
        return;
    };
    let db = Database::create(&base, "oidc");
    let dir = TempDir::new("oidc-postgres");
    clients_and_keys(&dir.path, Some(&db.url));
    assert!(!dir.join("data/tessera.db").exists(), "no SQLite database");
}
