use super::*;
use crate::failure::Failure;
use std::collections::HashMap;
use std::path::Path;

/// A file in a fresh folder of its own, removed when dropped.
struct TempFile {
    dir: PathBuf,
    path: PathBuf,
}

impl TempFile {
    fn new(name: &str, text: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("tessera-config-test-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        TempFile { dir, path }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

fn with_file(path: &Path) -> ConfigArgs {
    ConfigArgs {
        config: Some(path.to_path_buf()),
        ..ConfigArgs::default()
    }
}

fn message(result: Outcome<Config>) -> String {
    match result {
        Ok(config) => panic!("expected an error, got {config:?}"),
        Err(Failure::Usage(m)) => m,
        Err(other) => panic!("expected a usage error, got {other:?}"),
    }
}

#[test]
fn nothing_configured_gives_the_defaults() {
    let config =
        Config::load(&ConfigArgs::default(), &ServeFlags::default(), &env_of(&[])).unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.data_dir, PathBuf::from("./data"));
    assert_eq!(config.master_key_file(), PathBuf::from("./data/master.key"));
    assert!(!config.database_url_is_explicit());
    assert_eq!(
        config.database_url().expose(),
        tessera_store::sqlite_url(Path::new("./data"))
    );
    assert_eq!(config.public_url, None);
    assert_eq!(config.organization, "Tessera");
    assert_eq!(config.log_format, LogFormat::Text);
    assert!(config.uses_data_dir());
}

#[test]
fn an_unknown_key_in_the_file_is_refused_by_name() {
    let file = TempFile::new(
        "typo.toml",
        "listen = \"127.0.0.1:9000\"\nlisten_adress = \"x\"\n",
    );
    let m = message(Config::load(
        &with_file(&file.path),
        &ServeFlags::default(),
        &env_of(&[]),
    ));
    assert!(m.contains("listen_adress"), "{m}");
    assert!(m.contains("typo.toml"), "{m}");
}

#[test]
fn a_missing_config_file_is_an_error() {
    let args = with_file(Path::new("/nonexistent/tessera.toml"));
    let m = message(Config::load(&args, &ServeFlags::default(), &env_of(&[])));
    assert!(m.contains("/nonexistent/tessera.toml"), "{m}");
}

#[test]
fn the_environment_overrides_the_file_and_a_flag_overrides_the_environment() {
    let file = TempFile::new(
        "layers.toml",
        "listen = \"127.0.0.1:9000\"\norganization = \"From file\"\nlog_format = \"json\"\n\
         data_dir = \"/srv/from-file\"\n",
    );
    let env = env_of(&[
        ("TESSERA_LISTEN", "127.0.0.1:9001"),
        ("TESSERA_ORGANIZATION", "From env"),
    ]);
    let config = Config::load(&with_file(&file.path), &ServeFlags::default(), &env).unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:9001", "env over file");
    assert_eq!(config.organization, "From env");
    assert_eq!(
        config.log_format,
        LogFormat::Json,
        "the file over the defaults"
    );
    assert_eq!(config.data_dir, PathBuf::from("/srv/from-file"));

    let flags = ServeFlags {
        listen: Some("127.0.0.1:9002".into()),
        ..ServeFlags::default()
    };
    let config = Config::load(&with_file(&file.path), &flags, &env).unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:9002", "flag over env");
    assert_eq!(config.organization, "From env");
}

#[test]
fn the_config_file_can_come_from_the_environment() {
    let file = TempFile::new("from-env.toml", "organization = \"Example\"\n");
    let path = file.path.to_string_lossy().into_owned();
    let env = env_of(&[("TESSERA_CONFIG", &path)]);
    let config = Config::load(&ConfigArgs::default(), &ServeFlags::default(), &env).unwrap();
    assert_eq!(config.organization, "Example");
    assert_eq!(config.config_file, Some(file.path.clone()));
}

#[test]
fn empty_environment_variables_count_as_unset() {
    let env = env_of(&[("TESSERA_LISTEN", ""), ("TESSERA_PUBLIC_URL", " ")]);
    let config = Config::load(&ConfigArgs::default(), &ServeFlags::default(), &env).unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.public_url, None);
}

#[test]
fn a_bad_value_names_where_it_came_from() {
    let env = env_of(&[("TESSERA_LISTEN", "localhost")]);
    let m = message(Config::load(
        &ConfigArgs::default(),
        &ServeFlags::default(),
        &env,
    ));
    assert!(m.starts_with("TESSERA_LISTEN: `localhost`"), "{m}");

    let flags = ServeFlags {
        public_url: Some("mfa.example.org".into()),
        ..ServeFlags::default()
    };
    let m = message(Config::load(&ConfigArgs::default(), &flags, &env_of(&[])));
    assert!(m.starts_with("--public-url:"), "{m}");

    let file = TempFile::new("format.toml", "log_format = \"xml\"\n");
    let m = message(Config::load(
        &with_file(&file.path),
        &ServeFlags::default(),
        &env_of(&[]),
    ));
    assert!(m.contains("`log_format` in") && m.contains("xml"), "{m}");

    let env = env_of(&[("TESSERA_MAX_BODY_BYTES", "lots")]);
    let m = message(Config::load(
        &ConfigArgs::default(),
        &ServeFlags::default(),
        &env,
    ));
    assert!(m.starts_with("TESSERA_MAX_BODY_BYTES:"), "{m}");
}

#[test]
fn the_database_url_can_be_read_from_a_file() {
    let secret = TempFile::new("db-url", "postgres://tessera:s3cret@db.internal/tessera\n");
    let path = secret.path.to_string_lossy().into_owned();
    let env = env_of(&[("TESSERA_DATABASE_URL_FILE", &path)]);
    let config = Config::load(&ConfigArgs::default(), &ServeFlags::default(), &env).unwrap();
    let url = config.database_url();
    assert_eq!(
        url.expose(),
        "postgres://tessera:s3cret@db.internal/tessera"
    );
    assert_eq!(url.redacted(), "postgres://tessera:***@db.internal/tessera");
    assert!(
        !format!("{config:?}").contains("s3cret"),
        "Debug must not show the password"
    );
    assert!(
        config.uses_data_dir(),
        "the master key still lives in the data folder"
    );

    // A flag's URL wins over a lower layer's file.
    let args = ConfigArgs {
        database_url: Some("sqlite:///tmp/x.db".into()),
        ..ConfigArgs::default()
    };
    let config = Config::load(&args, &ServeFlags::default(), &env).unwrap();
    assert_eq!(config.database_url().expose(), "sqlite:///tmp/x.db");
}

#[test]
fn url_and_url_file_in_one_layer_are_refused() {
    let file = TempFile::new(
        "both.toml",
        "database_url = \"postgres://a@b/c\"\ndatabase_url_file = \"/run/secrets/db\"\n",
    );
    let m = message(Config::load(
        &with_file(&file.path),
        &ServeFlags::default(),
        &env_of(&[]),
    ));
    assert!(
        m.contains("database_url") && m.contains("database_url_file"),
        "{m}"
    );
}

#[test]
fn an_unknown_database_scheme_is_refused_without_echoing_the_url() {
    let env = env_of(&[("TESSERA_DATABASE_URL", "mysql://root:hunter2@db/x")]);
    let m = message(Config::load(
        &ConfigArgs::default(),
        &ServeFlags::default(),
        &env,
    ));
    assert!(m.starts_with("TESSERA_DATABASE_URL:"), "{m}");
    assert!(!m.contains("hunter2"), "{m}");
}

#[test]
fn a_shared_master_key_and_postgres_need_no_data_folder() {
    let env = env_of(&[
        ("TESSERA_DATABASE_URL", "postgres://tessera@db/tessera"),
        ("TESSERA_MASTER_KEY_FILE", "/run/secrets/tessera.key"),
    ]);
    let config = Config::load(&ConfigArgs::default(), &ServeFlags::default(), &env).unwrap();
    assert_eq!(
        config.master_key_file(),
        PathBuf::from("/run/secrets/tessera.key")
    );
    assert!(!config.uses_data_dir());
}

#[test]
fn redaction_hides_passwords_in_userinfo_and_query() {
    assert_eq!(
        redact("postgres://u:p@h:5432/d"),
        "postgres://u:***@h:5432/d"
    );
    assert_eq!(redact("postgres://u@h/d"), "postgres://u@h/d");
    assert_eq!(
        redact("postgres://h/d?user=u&password=p&sslmode=require"),
        "postgres://h/d?user=u&password=***&sslmode=require"
    );
    assert_eq!(
        redact("sqlite://./data/tessera.db?mode=rwc"),
        "sqlite://./data/tessera.db?mode=rwc"
    );
}

#[test]
fn the_example_file_is_valid_and_documents_every_key() {
    let example = include_str!("../../tessera.example.toml");
    // The top-level keys; tables such as [delivery] name secret files that must exist, and
    // have tests of their own.
    let uncommented: String = example
        .lines()
        .take_while(|l| !l.starts_with("# ["))
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| {
            l.split_once(" = ")
                .is_some_and(|(key, _)| key.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        })
        .filter(|l| !l.starts_with("database_url_file"))
        .collect::<Vec<_>>()
        .join("\n");
    let file = TempFile::new("example.toml", &uncommented);
    let config = Config::load(&with_file(&file.path), &ServeFlags::default(), &env_of(&[]));
    assert!(config.is_ok(), "{config:?}\n{uncommented}");
    for key in [
        "listen",
        "data_dir",
        "database_url",
        "database_url_file",
        "master_key_file",
        "public_url",
        "organization",
        "log_format",
        "max_body_bytes",
    ] {
        assert!(
            example.contains(&format!("# {key} = ")),
            "{key} is not documented"
        );
    }
}

#[test]
fn the_forward_auth_cookie_domain_is_a_plain_domain() {
    let config = Config::load(
        &ConfigArgs::default(),
        &ServeFlags::default(),
        &env_of(&[("TESSERA_FORWARD_AUTH_COOKIE_DOMAIN", " Example.ORG ")]),
    )
    .unwrap();
    assert_eq!(
        config.forward_auth_cookie_domain.as_deref(),
        Some("example.org")
    );
    for bad in [
        "*.example.org",
        "example.org/x",
        "https://example.org",
        "a b",
    ] {
        let e = message(Config::load(
            &ConfigArgs::default(),
            &ServeFlags::default(),
            &env_of(&[("TESSERA_FORWARD_AUTH_COOKIE_DOMAIN", bad)]),
        ));
        assert!(
            e.contains("TESSERA_FORWARD_AUTH_COOKIE_DOMAIN") && e.contains("is not a domain"),
            "{bad}: {e}"
        );
    }
    let with_url = |url: &str| {
        Config::load(
            &ConfigArgs::default(),
            &ServeFlags::default(),
            &env_of(&[
                ("TESSERA_FORWARD_AUTH_COOKIE_DOMAIN", "example.org"),
                ("TESSERA_PUBLIC_URL", url),
            ]),
        )
    };
    assert!(with_url("https://mfa.example.org").is_ok());
    assert!(with_url("https://example.org:8443/").is_ok());
    let e = message(with_url("https://mfa.example.org.evil.example"));
    assert!(e.contains("does not cover"), "{e}");
    assert!(with_url("https://mfaexample.org").is_err());
}

#[test]
fn the_web_push_subject_is_a_mailto_or_https_contact() {
    let load = |value: &str| {
        Config::load(
            &ConfigArgs::default(),
            &ServeFlags::default(),
            &env_of(&[("TESSERA_WEB_PUSH_SUBJECT", value)]),
        )
    };
    assert_eq!(
        load(" mailto:it@example.org ")
            .unwrap()
            .web_push_subject
            .as_deref(),
        Some("mailto:it@example.org")
    );
    assert_eq!(
        load("https://example.org/contact")
            .unwrap()
            .web_push_subject
            .as_deref(),
        Some("https://example.org/contact")
    );
    for bad in [
        "it@example.org",
        "http://example.org",
        "mailto:",
        "https://",
        "mailto:a b@x",
    ] {
        let e = message(load(bad));
        assert!(
            e.contains("TESSERA_WEB_PUSH_SUBJECT") && e.contains("mailto: or https:"),
            "{bad}: {e}"
        );
    }
}

#[test]
fn radius_is_off_until_an_address_is_given() {
    let load = |pairs: &[(&str, &str)]| {
        Config::load(
            &ConfigArgs::default(),
            &ServeFlags::default(),
            &env_of(pairs),
        )
    };
    assert_eq!(load(&[]).unwrap().radius_listen, None);
    let on = load(&[("TESSERA_RADIUS_LISTEN", "0.0.0.0:1812")]).unwrap();
    assert_eq!(on.radius_listen, Some("0.0.0.0:1812".parse().unwrap()));
    let e = message(load(&[("TESSERA_RADIUS_LISTEN", "1812")]));
    assert!(
        e.contains("TESSERA_RADIUS_LISTEN") && e.contains("0.0.0.0:1812"),
        "{e}"
    );
}
