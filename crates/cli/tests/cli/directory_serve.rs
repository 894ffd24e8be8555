//! `tessera serve` with a `[directory]`: the server uses it (issue #19). A directory that is
//! down at the start does not stop the server; `/readyz` names it until it answers.

use crate::harness::{Server, TempDir, tessera};

#[test]
fn serve_connects_the_directory_and_readyz_names_it_while_it_is_down() {
    let dir = TempDir::new("directory-serve");
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
    let command = tessera(
        &dir.path,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            "data",
            "--config",
            "tessera.toml",
        ],
    );
    let server = Server::start(command, dir.join("serve.log"));
    assert!(
        !server.log().contains("not used yet"),
        "the directory is used: {}",
        server.log()
    );
    assert_eq!(server.get("/healthz").0, 200, "{}", server.log());
    let (status, body) = server.get("/readyz");
    assert_eq!(status, 503, "{body}\n{}", server.log());
    assert!(
        body.contains("\"directory\":\"unavailable\""),
        "{body}\n{}",
        server.log()
    );
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
}
