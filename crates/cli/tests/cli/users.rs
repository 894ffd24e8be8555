use crate::harness::{TempDir, add_user, run, tessera};
use serde_json::Value;
use std::path::Path;

const PASSWORD: &str = "correct horse battery staple";

fn list_json(dir: &Path, data: &Path) -> Vec<Value> {
    let ran = run(
        tessera(
            dir,
            &[
                "user",
                "list",
                "--json",
                "--data-dir",
                data.to_str().unwrap(),
            ],
        ),
        "",
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    serde_json::from_str::<Value>(&ran.stdout)
        .expect("user list --json prints JSON")
        .as_array()
        .expect("an array")
        .clone()
}

fn show_json(dir: &Path, data: &Path, username: &str) -> Value {
    let data = data.to_str().unwrap();
    let ran = run(
        tessera(
            dir,
            &["user", "show", username, "--json", "--data-dir", data],
        ),
        "",
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    serde_json::from_str(&ran.stdout).expect("user show --json prints JSON")
}

#[test]
fn an_added_user_is_listed() {
    let dir = TempDir::new("add-list");
    let data = dir.join("data");
    let ran = add_user(
        &dir.path,
        &data,
        "Alice@Example.org",
        PASSWORD,
        &[
            "--admin",
            "--display-name",
            "Alice Liddell",
            "--email",
            "alice@mail.example.org",
        ],
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert!(ran.stdout.contains("alice@example.org"), "{ran:?}");

    let accounts = list_json(&dir.path, &data);
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    let alice = &accounts[0];
    assert_eq!(alice["username"], "alice@example.org");
    assert_eq!(alice["display_name"], "Alice Liddell");
    assert_eq!(alice["email"], "alice@mail.example.org");
    assert_eq!(alice["is_admin"], true);
    assert_eq!(alice["status"], "active");
    assert!(
        !alice.to_string().contains("argon2"),
        "no password hash: {alice}"
    );

    let text = run(
        tessera(
            &dir.path,
            &["user", "list", "--data-dir", data.to_str().unwrap()],
        ),
        "",
    );
    assert!(text.stdout.starts_with("USERNAME"), "{text:?}");
    assert!(text.stdout.contains("alice@example.org"), "{text:?}");
}

#[test]
fn a_duplicate_username_is_refused_with_exit_code_2() {
    let dir = TempDir::new("duplicate");
    let data = dir.join("data");
    assert_eq!(
        add_user(&dir.path, &data, "bob@example.org", PASSWORD, &[]).code,
        Some(0)
    );
    let ran = add_user(&dir.path, &data, "BOB@example.org", PASSWORD, &[]);
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert_eq!(
        ran.stderr.trim(),
        "error: username: an account with this username already exists"
    );
    assert_eq!(list_json(&dir.path, &data).len(), 1);
}

#[test]
fn a_common_password_is_refused() {
    let dir = TempDir::new("common-password");
    let data = dir.join("data");
    let ran = add_user(&dir.path, &data, "carol@example.org", "password123", &[]);
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert_eq!(
        ran.stderr.trim(),
        "error: password: this password is too common or contains the username"
    );
    assert!(list_json(&dir.path, &data).is_empty());
}

#[test]
fn an_empty_password_is_refused_before_anything_is_created() {
    let dir = TempDir::new("empty-password");
    let data = dir.join("data");
    let ran = add_user(&dir.path, &data, "dave@example.org", "", &[]);
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(ran.stderr.starts_with("error: password:"), "{ran:?}");
    assert!(!data.exists(), "nothing is created for a refused command");
}

#[test]
fn password_stdin_is_required() {
    let dir = TempDir::new("no-password-flag");
    let ran = run(tessera(&dir.path, &["user", "add", "erin@example.org"]), "");
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(ran.stderr.contains("--password-stdin"), "{ran:?}");
}

#[test]
fn disable_enable_and_set_password() {
    let dir = TempDir::new("disable");
    let data = dir.join("data");
    let d = data.to_str().unwrap();
    assert_eq!(
        add_user(&dir.path, &data, "frank@example.org", PASSWORD, &[]).code,
        Some(0)
    );

    let ran = run(
        tessera(
            &dir.path,
            &["user", "disable", "frank@example.org", "--data-dir", d],
        ),
        "",
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert_eq!(
        show_json(&dir.path, &data, "frank@example.org")["status"],
        "disabled"
    );

    let ran = run(
        tessera(
            &dir.path,
            &["user", "enable", "Frank@example.org", "--data-dir", d],
        ),
        "",
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let shown = show_json(&dir.path, &data, "frank@example.org");
    assert_eq!(shown["status"], "active");
    assert_eq!(shown["methods"], serde_json::json!([]));

    let set = |password: &str| {
        let args = [
            "user",
            "set-password",
            "frank@example.org",
            "--password-stdin",
            "--data-dir",
            d,
        ];
        run(tessera(&dir.path, &args), &format!("{password}\r\n"))
    };
    let ran = set("another long passphrase");
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let ran = set("frank@example.org!");
    assert_eq!(
        ran.code,
        Some(2),
        "a password containing the username: {ran:?}"
    );

    let ran = run(
        tessera(
            &dir.path,
            &["user", "disable", "nobody@example.org", "--data-dir", d],
        ),
        "",
    );
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert_eq!(
        ran.stderr.trim(),
        "error: there is no account named nobody@example.org"
    );
}

#[test]
fn the_data_folder_can_come_from_the_environment() {
    let dir = TempDir::new("env-data-dir");
    let mut command = tessera(
        &dir.path,
        &["user", "add", "gina@example.org", "--password-stdin"],
    );
    command.env("TESSERA_DATA_DIR", "from-env");
    let ran = run(command, &format!("{PASSWORD}\n"));
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert!(dir.join("from-env/tessera.db").exists());
    assert!(!dir.join("data").exists());
}
