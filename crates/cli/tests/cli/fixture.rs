//! The upgrade fixture of release 0.1 (tests/fixtures/release-0.1, made by
//! scripts/make-upgrade-fixture.sh with that release's binary), copied into a data folder
//! the way `tessera serve` would have left it.

use serde_json::Value;
use std::path::{Path, PathBuf};

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/release-0.1")
}

/// fixture.json: the passwords, alice's TOTP seed, a recovery code, the policy.
pub fn facts() -> Value {
    let text = std::fs::read_to_string(dir().join("fixture.json")).expect("fixture.json");
    serde_json::from_str(&text).expect("fixture.json is JSON")
}

/// The account `username` in fixture.json.
pub fn account(facts: &Value, username: &str) -> Value {
    facts["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["username"] == username)
        .unwrap_or_else(|| panic!("{username} in fixture.json"))
        .clone()
}

/// Copies the database and the key into `data` (created 0700; files 0600, since git keeps
/// no modes).
pub fn copy_to(data: &Path) {
    std::fs::create_dir_all(data).expect("create the data folder");
    for name in ["tessera.db", "master.key"] {
        let to = data.join(name);
        std::fs::copy(dir().join(name), &to).expect("copy the fixture");
        #[cfg(unix)]
        set_mode(&to, 0o600);
    }
    #[cfg(unix)]
    set_mode(data, 0o700);
}

#[cfg(unix)]
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// The newest migration a SQLite database has applied, read without migrating it.
pub fn schema_version(db: &Path) -> i64 {
    sqlite_scalar(db, "SELECT MAX(version) FROM _sqlx_migrations")
}

/// `work` on a runtime of its own, on a thread of its own: callable from async tests too.
fn blocking<T: Send>(work: impl std::future::Future<Output = T> + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(work)
        })
        .join()
        .unwrap()
    })
}

/// One number from a SQLite database, on a connection of its own.
pub fn sqlite_scalar(db: &Path, sql: &'static str) -> i64 {
    use sqlx::Connection;
    blocking(async {
        let url = format!("sqlite://{}?mode=ro", db.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.expect(&url);
        let v: i64 = sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .expect(sql);
        conn.close().await.unwrap();
        v
    })
}

/// How many migrations this source tree ships for SQLite.
pub fn shipped_migrations() -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../store/migrations/sqlite");
    std::fs::read_dir(dir)
        .expect("the migrations folder")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".sql"))
        })
        .count()
}

/// Far beyond any migration this binary ships: a release from the future.
pub const FUTURE_VERSION: i64 = 99_990_101_000_000;

/// Records a migration a newer release would have applied, as sqlx records one.
pub fn record_future_migration(db: &Path) {
    use sqlx::Connection;
    blocking(async {
        let url = format!("sqlite://{}", db.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.expect(&url);
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES ($1, 'from the future', TRUE, X'00', 1)",
        )
        .bind(FUTURE_VERSION)
        .execute(&mut conn)
        .await
        .expect("record a future migration");
        conn.close().await.unwrap();
    });
}
