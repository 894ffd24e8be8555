//! `tessera serve` with a `[directory]`: the server uses it (issue #19). A directory that is
//! down at the start does not stop the server; `/readyz` names it until it answers.

use crate::directory::write_config_with_a_directory_that_is_down;
use crate::harness::{Server, TempDir, tessera};

#[test]
fn serve_connects_the_directory_and_readyz_names_it_while_it_is_down() {
    let dir = TempDir::new("directory-serve");
    write_config_with_a_directory_that_is_down(&dir);
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
