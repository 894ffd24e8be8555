use crate::harness::{Server, TempDir, add_user, run, tessera};

fn serve(dir: &TempDir, data: &str, log: &str) -> Server {
    let command = tessera(
        &dir.path,
        &["serve", "--listen", "127.0.0.1:0", "--data-dir", data],
    );
    Server::start(command, dir.join(log))
}

#[test]
fn serve_creates_its_data_folder_answers_and_keeps_its_key() {
    let dir = TempDir::new("serve");
    let data = dir.join("data");

    let server = serve(&dir, "data", "first.log");
    assert_ne!(server.addr.port(), 0, "the real port is printed");
    assert!(
        server.lines.iter().any(|l| l.contains(
            "tessera user add alice@example.org --admin --password-stdin --data-dir data"
        )),
        "an empty store tells how to create the first admin: {:?}",
        server.lines
    );
    let (status, body) = server.get("/healthz");
    assert_eq!(status, 200, "{body}\n{}", server.log());

    assert!(data.join("tessera.db").is_file());
    let key_file = data.join("master.key");
    let key = std::fs::read(&key_file).expect("the master key was written");
    #[cfg(unix)]
    {
        use crate::harness::mode;
        assert_eq!(mode(&data), 0o700, "the data folder");
        assert_eq!(mode(&key_file), 0o600, "the master key");
    }
    let status = server.terminate();
    assert!(
        status.success(),
        "SIGTERM stops the server cleanly: {status:?}"
    );

    let ran = add_user(
        &dir.path,
        &data,
        "alice@example.org",
        "correct horse battery staple",
        &["--admin"],
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");

    let server = serve(&dir, "data", "second.log");
    assert!(
        !server.lines.iter().any(|l| l.contains("user add")),
        "no hint once an account exists: {:?}",
        server.lines
    );
    assert_eq!(server.get("/healthz").0, 200, "{}", server.log());
    assert_eq!(
        std::fs::read(&key_file).unwrap(),
        key,
        "the key is reused, unchanged"
    );
    drop(server);
}

#[cfg(unix)]
#[test]
fn a_master_key_readable_by_others_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("key-mode");
    let data = dir.join("data");
    let ran = run(
        tessera(&dir.path, &["policy", "show", "--data-dir", "data"]),
        "",
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let key_file = data.join("master.key");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();

    let ran = run(
        tessera(
            &dir.path,
            &["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"],
        ),
        "",
    );
    assert_eq!(ran.code, Some(1), "{ran:?}");
    assert!(ran.stderr.contains("chmod 600"), "{ran:?}");
    assert!(ran.stdout.is_empty(), "it never listened: {ran:?}");
}

#[test]
fn a_config_file_with_an_unknown_key_is_refused() {
    let dir = TempDir::new("config-typo");
    std::fs::write(
        dir.join("tessera.toml"),
        "listen = \"127.0.0.1:0\"\ndata_dri = \"x\"\n",
    )
    .unwrap();
    let ran = run(
        tessera(&dir.path, &["serve", "--config", "tessera.toml"]),
        "",
    );
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(
        ran.stderr.starts_with("error: config file tessera.toml"),
        "{ran:?}"
    );
    assert!(ran.stderr.contains("data_dri"), "{ran:?}");
}

#[test]
fn flags_override_the_environment_which_overrides_the_file() {
    let dir = TempDir::new("layers");
    std::fs::write(
        dir.join("tessera.toml"),
        "listen = \"127.0.0.1:1\"\ndata_dir = \"from-file\"\norganization = \"File\"\n",
    )
    .unwrap();
    let mut command = tessera(
        &dir.path,
        &[
            "serve",
            "--config",
            "tessera.toml",
            "--data-dir",
            "from-flag",
        ],
    );
    command
        .env("TESSERA_LISTEN", "127.0.0.1:0")
        .env("TESSERA_DATA_DIR", "from-env");
    let server = Server::start(command, dir.join("serve.log"));
    assert_ne!(
        server.addr.port(),
        1,
        "TESSERA_LISTEN overrides the file's listen"
    );
    assert!(
        dir.join("from-flag/master.key").is_file(),
        "--data-dir overrides TESSERA_DATA_DIR"
    );
    assert!(!dir.join("from-env").exists() && !dir.join("from-file").exists());
    assert_eq!(server.get("/healthz").0, 200);
}

#[test]
fn a_lost_master_key_is_not_silently_replaced() {
    let dir = TempDir::new("lost-key");
    let data = dir.join("data");
    let ran = add_user(
        &dir.path,
        &data,
        "hank@example.org",
        "correct horse battery staple",
        &[],
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    std::fs::remove_file(data.join("master.key")).unwrap();

    let ran = run(
        tessera(
            &dir.path,
            &["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"],
        ),
        "",
    );
    assert_eq!(ran.code, Some(1), "{ran:?}");
    assert!(ran.stderr.contains("already holds accounts"), "{ran:?}");
    assert!(!data.join("master.key").exists(), "no new key was made");
}
