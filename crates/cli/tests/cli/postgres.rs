//! The same binary on PostgreSQL, when `TESSERA_TEST_POSTGRES_URL` names a server (CI sets it).
//! Each test gets a database of its own, dropped afterwards.

use crate::harness::{Server, TempDir, run, tessera};
use sqlx::Connection;
use sqlx::postgres::PgConnection;

pub(crate) const URL_VAR: &str = "TESSERA_TEST_POSTGRES_URL";

/// A fresh database on the test server, dropped when this is.
pub(crate) struct Database {
    base: String,
    name: String,
    pub url: String,
}

impl Database {
    pub(crate) fn create(base: &str, test: &str) -> Database {
        // Unique among running tests; one left by a crashed run of the same pid goes first.
        let name = format!("tessera_cli_{test}_{}", std::process::id());
        execute(
            base,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        );
        execute(base, &format!("CREATE DATABASE {name}"));
        let url = with_database(base, &name);
        Database {
            base: base.to_string(),
            name,
            url,
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        execute(
            &self.base,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn execute(base: &str, sql: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut conn = PgConnection::connect(base)
            .await
            .expect("connect to TESSERA_TEST_POSTGRES_URL");
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut conn)
            .await
            .expect(sql);
        let _ = conn.close().await;
    });
}

/// `base` with its database replaced by `name`, options kept.
fn with_database(base: &str, name: &str) -> String {
    let (main, query) = base
        .split_once('?')
        .map_or((base, None), |(m, q)| (m, Some(q)));
    let authority = main.find("://").map_or(0, |i| i + 3);
    let root = main[authority..]
        .find('/')
        .map_or(main, |i| &main[..authority + i]);
    match query {
        Some(query) => format!("{root}/{name}?{query}"),
        None => format!("{root}/{name}"),
    }
}

#[test]
fn serve_and_user_add_work_on_postgres() {
    let Some(base) = std::env::var(URL_VAR).ok().filter(|u| !u.is_empty()) else {
        eprintln!("{URL_VAR} not set: skipping the PostgreSQL CLI test");
        return;
    };
    let db = Database::create(&base, "serve");
    let dir = TempDir::new("postgres");

    // The URL comes from a file, as a deployment would keep its password.
    std::fs::write(dir.join("database-url"), format!("{}\n", db.url)).unwrap();
    let command = |args: &[&str]| {
        let mut command = tessera(&dir.path, args);
        command.env("TESSERA_DATABASE_URL_FILE", dir.join("database-url"));
        command
    };

    let server = Server::start(
        command(&["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"]),
        dir.join("serve.log"),
    );
    assert_eq!(server.get("/healthz").0, 200, "{}", server.log());
    assert!(
        dir.join("data/master.key").is_file(),
        "the key stays in the data folder"
    );
    assert!(!dir.join("data/tessera.db").exists(), "no SQLite database");

    let add = [
        "user",
        "add",
        "pg@example.org",
        "--password-stdin",
        "--data-dir",
        "data",
    ];
    let ran = run(command(&add), "correct horse battery staple\n");
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let ran = run(
        command(&["user", "list", "--json", "--data-dir", "data"]),
        "",
    );
    assert!(ran.stdout.contains("pg@example.org"), "{ran:?}");

    let status = server.terminate();
    assert!(status.success(), "{status:?}");
}
