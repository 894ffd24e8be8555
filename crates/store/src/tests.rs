//! What the contract suite cannot see from outside: the connection settings and the URL.

use super::*;
use tessera_core::Store;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tessera-store-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("create a temp folder");
    dir
}

#[tokio::test]
async fn sqlite_connections_are_durable_wal_with_foreign_keys() {
    let dir = temp_dir("pragmas");
    let store = SqlStore::connect(&sqlite_url(&dir)).await.expect("open");
    let mut conn = store.pool().acquire().await.expect("a connection");
    let journal: Result<String, _> = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await;
    assert_eq!(journal.ok().as_deref(), Some("wal"));
    for (pragma, want) in [
        ("PRAGMA synchronous", 2_i64),
        ("PRAGMA foreign_keys", 1),
        ("PRAGMA busy_timeout", 5000),
    ] {
        let got: Result<i64, _> = sqlx::query_scalar(pragma).fetch_one(&mut *conn).await;
        assert_eq!(got.ok(), Some(want), "{pragma}");
    }
    drop(conn);
    store.close().await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("tessera.db")).map(|m| m.permissions().mode());
        assert_eq!(mode.ok().map(|m| m & 0o777), Some(0o600));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn sqlite_url_survives_awkward_folder_names() {
    let dir = temp_dir("odd name #1 ?x %20");
    let url = sqlite_url(&dir);
    assert!(url.starts_with("sqlite:///") && url.ends_with("/tessera.db?mode=rwc"));
    let store = SqlStore::connect(&url).await.expect("open");
    assert!(!store.is_postgres());
    store.close().await;
    assert!(dir.join("tessera.db").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn unknown_url_schemes_are_refused() {
    let refused = SqlStore::connect("mysql://localhost/x").await;
    assert!(matches!(refused, Err(StoreError::Backend(_))));
}

#[tokio::test]
async fn a_sqlite_url_without_a_mode_creates_the_file() {
    let dir = temp_dir("no-mode");
    let file = dir.join("plain.db");
    let url = format!("sqlite://{}", file.display());
    let store = SqlStore::connect(&url).await.expect("open");
    store.close().await;
    assert!(file.is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_in_memory_sqlite_creates_no_file() {
    let before = std::fs::read_dir(".").map(|d| d.count()).ok();
    let store = SqlStore::connect("sqlite::memory:").await.expect("open");
    assert!(store.ping().await.is_ok());
    store.close().await;
    assert_eq!(std::fs::read_dir(".").map(|d| d.count()).ok(), before);
}

/// The hot path's own connections (readers, the commit thread, the checkpointer) close with
/// the store and before sqlx's writer, so the last connection folds the WAL into the file
/// and removes it; later reads fail.
#[tokio::test]
async fn close_ends_the_hot_paths_connections_before_the_last_checkpoint() {
    let dir = temp_dir("close-lite");
    let store = SqlStore::connect(&sqlite_url(&dir)).await.expect("open");
    assert!(
        store.lite().is_some(),
        "a SQLite file has its own hot-path connections"
    );
    assert!(
        store
            .session_auth(b"no such token")
            .await
            .expect("read")
            .is_none()
    );
    let wal = dir.join("tessera.db-wal");
    assert!(wal.exists(), "the migrations wrote to the WAL");
    store.close().await;
    assert!(
        !wal.exists(),
        "the WAL is folded in and removed once every connection closed"
    );
    assert!(store.session_auth(b"no such token").await.is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
