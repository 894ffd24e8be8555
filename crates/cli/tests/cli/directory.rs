//! `tessera directory sync` from the command line: it needs a `[directory]`, and a directory
//! that cannot be reached changes nothing and says so. (The sync itself runs against a real
//! slapd in the server's tests, `directory_sync.rs`, on both stores.)

use crate::harness::{TempDir, add_user, run, tessera};

const PASSWORD: &str = "correct horse battery staple";

#[test]
fn sync_without_a_directory_is_refused_as_a_usage_error() {
    let dir = TempDir::new("directory-none");
    let data = dir.join("data");
    let ran = run(
        tessera(
            &dir.path,
            &["directory", "sync", "--data-dir", data.to_str().unwrap()],
        ),
        "",
    );
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(ran.stderr.contains("no [directory]"), "{ran:?}");
}

#[test]
fn sync_with_the_directory_down_changes_nothing_and_exits_1() {
    let dir = TempDir::new("directory-down");
    let data = dir.join("data");
    assert_eq!(
        add_user(&dir.path, &data, "alice@example.org", PASSWORD, &[]).code,
        Some(0)
    );
    write_config_with_a_directory_that_is_down(&dir);
    let data = data.to_str().unwrap();
    for extra in [&[][..], &["--dry-run"][..]] {
        let mut args = vec![
            "directory",
            "sync",
            "--config",
            "tessera.toml",
            "--data-dir",
            data,
        ];
        args.extend(extra);
        let ran = run(tessera(&dir.path, &args), "");
        assert_eq!(ran.code, Some(1), "{ran:?}");
        assert!(
            ran.stderr.contains("cannot be reached") && ran.stderr.contains("nothing was changed"),
            "{ran:?}"
        );
    }
    // The local account is untouched.
    let ran = run(
        tessera(&dir.path, &["user", "list", "--data-dir", data]),
        "",
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert!(ran.stdout.contains("alice@example.org"), "{ran:?}");
}

/// A `tessera.toml` in `dir` whose `[directory]` points at a port nobody listens on (bound,
/// noted, released), with its service password file beside it.
pub fn write_config_with_a_directory_that_is_down(dir: &TempDir) {
    // A port nobody listens on: bound, noted, released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(dir.join("ldap-password"), "service-secret\n").unwrap();
    std::fs::write(
        dir.join("tessera.toml"),
        format!(
            "[directory]\nkind = \"openldap\"\nurl = \"ldap://127.0.0.1:{port}\"\n\
             security = \"plain\"\nbind_dn = \"cn=tessera,dc=example,dc=org\"\n\
             bind_password_file = \"{}\"\nuser_base = \"ou=people,dc=example,dc=org\"\n\
             connect_timeout_secs = 2\n",
            dir.join("ldap-password").display()
        ),
    )
    .unwrap();
}
