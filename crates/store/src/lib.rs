//! Tessera's storage: one [`Store`](tessera_core::Store) over SQLite (the embedded default)
//! and PostgreSQL (several server nodes on one database).
//!
//! Each module implements one role of the port for [`SqlStore`] (`accounts`, `methods` with
//! `lockout`, `sessions` for sign-in flows and sessions, `audit`, `policy`, `delivery`, …);
//! [`Store`](tessera_core::Store) itself, the ping and the purge, is implemented here.
//!
//! Both run through sqlx's `Any` driver with one SQL text: `$1` placeholders, TEXT uuids,
//! BIGINT unix seconds, BLOB/BYTEA. Where the two differ (how a write transaction begins,
//! how to ask whether a table exists) [`Dialect`] says so.
//!
//! Every decision that races between requests or nodes is one conditional `UPDATE … WHERE`
//! whose row count (or `RETURNING`) decides, so READ COMMITTED on PostgreSQL and SQLite's
//! single writer both give the same answers.

mod accounts;
mod admin;
mod app_passwords;
mod audit;
pub mod backup;
mod bulk;
mod commit_group;
mod delivery;
mod directory;
mod effects;
mod forward_auth;
mod lite;
mod lockout;
mod methods;
mod migrate;
mod oidc;
mod oidc_logout;
mod oidc_tokens;
mod outbox;
mod password_guesses;
mod pg_answers;
mod policy;
mod push;
mod push_devices;
mod push_wakeups;
mod radius;
mod recovery_codes;
mod reset;
mod rows;
mod sealed;
mod security_questions;
mod sessions;
mod verify_api;
mod web_push;
mod webauthn;

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::error::DatabaseError;
use sqlx::{Any, AnyPool, Executor, Transaction};
use tessera_core::store::{SessionAuth, StoreResult};
use tessera_core::{Store, StoreError};
use time::OffsetDateTime;

pub use bulk::SeedRow;

/// The two databases differ in a handful of places; this says which one we talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// The [`Store`](tessera_core::Store) over SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct SqlStore {
    /// Reads, on any connection.
    pool: AnyPool,
    /// Writes. On SQLite, one connection: SQLite has one writer at a time, and writers that
    /// wait for each other on `busy_timeout` poll with sleeps of up to 100 ms, while a pool of
    /// one queues them in order and hands the connection over at once. On PostgreSQL, and
    /// for an in-memory SQLite (whose every pool is a database of its own), the same pool.
    writer: AnyPool,
    /// SQLite's group commit of answered codes; `None` on PostgreSQL.
    group: Option<std::sync::Arc<commit_group::CommitGroup>>,
    /// The hot path's own connections to a SQLite file; `None` on PostgreSQL and for an
    /// in-memory SQLite.
    lite: Option<std::sync::Arc<lite::Lite>>,
    dialect: Dialect,
    /// Push wake-ups: this node's channel, fed by `LISTEN` on PostgreSQL.
    push: std::sync::Arc<push_wakeups::Hub>,
    /// Wakes this node's delivery worker when a message is queued here.
    outbox_wake: std::sync::Arc<tokio::sync::Notify>,
}

/// Set on every SQLite connection. Waiting for the other writer is normal on SQLite (one
/// writer at a time): `busy_timeout` is how long a statement waits before "database is
/// locked". WAL lets readers run beside the writer; `synchronous=FULL`
/// syncs the WAL on every commit, so an acknowledged write survives a power cut (NORMAL
/// would only keep the database consistent, not the last commits).
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; \
     PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = FULL; \
     PRAGMA foreign_keys = ON;";

/// Several nodes share one PostgreSQL; ten connections each keeps a few nodes well under the
/// server's default of 100.
const POSTGRES_POOL_SIZE: u32 = 10;

/// How a SQLite write transaction begins (see [`SqlStore::begin_write`]).
pub(crate) const SQLITE_BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// Readers run in parallel under WAL; the one writer has a pool of its own.
const SQLITE_READERS: u32 = 8;

/// What a store answers once [`SqlStore::close`] has run.
#[derive(Debug, thiserror::Error)]
#[error("the store is closed")]
pub(crate) struct Closed;

pub(crate) fn closed() -> StoreError {
    StoreError::Backend(Box::new(Closed))
}

#[derive(Debug, thiserror::Error)]
enum ConnectError {
    /// The URL is deliberately not repeated: it may hold a password.
    #[error("unsupported database URL: expected sqlite://… or postgres://…")]
    UnsupportedUrl,
}

impl SqlStore {
    /// Opens (creating if needed) and migrates. `sqlite://PATH` or `postgres://...`.
    ///
    /// Refuses with [`StoreError::SchemaTooNew`] a database that a newer Tessera has
    /// migrated, before touching it.
    pub async fn connect(url: &str) -> Result<SqlStore, StoreError> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::of(url)?;
        let (pool, writer, file) = match dialect {
            Dialect::Sqlite => sqlite_pools(url).await?,
            Dialect::Postgres => {
                let pool = postgres_pool(url).await?;
                (pool.clone(), pool, None)
            }
        };
        let push = push_wakeups::Hub::start(dialect, url).await?;
        let lite = file
            .map(|file| lite::Lite::open(&file).map(std::sync::Arc::new))
            .transpose()?;
        let group = match &lite {
            Some(lite) => {
                let group = commit_group::CommitGroup::start(writer.clone(), lite)?;
                Some(std::sync::Arc::new(group))
            }
            None => None,
        };
        let store = SqlStore {
            pool,
            writer,
            group,
            lite,
            dialect,
            push,
            outbox_wake: Default::default(),
        };
        migrate::run(&store).await?;
        Ok(store)
    }

    pub fn is_postgres(&self) -> bool {
        self.dialect == Dialect::Postgres
    }

    /// Waits for connections in use and closes them all (on SQLite this also checkpoints the
    /// WAL into the database file). Later calls fail.
    pub async fn close(&self) {
        self.push.close();
        // Ours first, so that sqlx's writer is the last connection, which checkpoints.
        if let Some(lite) = &self.lite {
            lite.close();
        }
        if let Some(group) = &self.group {
            group.close().await;
        }
        self.writer.close().await;
        self.pool.close().await;
    }

    /// How many push wake-up subscriptions are open on this node (long polls waiting, and
    /// the wake-up sender).
    pub fn push_subscribers(&self) -> usize {
        self.push.subscribers()
    }

    pub(crate) fn outbox_wake(&self) -> &tokio::sync::Notify {
        &self.outbox_wake
    }

    pub(crate) fn push_hub(&self) -> &push_wakeups::Hub {
        &self.push
    }

    /// Begins a transaction that will write.
    ///
    /// On SQLite a plain `BEGIN` is deferred: a transaction that reads first and then writes
    /// fails with SQLITE_BUSY instead of waiting when another connection wrote meanwhile.
    /// `BEGIN IMMEDIATE` takes the write lock up front, waiting on the busy timeout, so
    /// concurrent writers queue instead.
    pub(crate) async fn begin_write(&self) -> StoreResult<Transaction<'static, Any>> {
        match self.dialect {
            Dialect::Sqlite => self.writer.begin_with(SQLITE_BEGIN_WRITE).await,
            Dialect::Postgres => self.writer.begin().await,
        }
        .map_err(db_err)
    }

    /// For reads outside a transaction.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub(crate) fn commit_group(&self) -> Option<&commit_group::CommitGroup> {
        self.group.as_deref()
    }

    /// For the hot path's reads on a SQLite file (see [`lite`]).
    pub(crate) fn lite(&self) -> Option<&lite::Lite> {
        self.lite.as_deref()
    }

    /// For a write outside a transaction (one statement that commits on its own).
    pub(crate) fn writer(&self) -> &AnyPool {
        &self.writer
    }

    pub(crate) fn dialect(&self) -> Dialect {
        self.dialect
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(self.pool())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> StoreResult<u64> {
        use tessera_core::store::oidc::OidcStore;
        Ok(sessions::purge_expired(self, now).await? + self.purge_oidc(now).await?)
    }

    async fn session_auth(&self, token_hash: &[u8]) -> StoreResult<Option<SessionAuth>> {
        sessions::session_auth(self, token_hash).await
    }
}

/// The readers' pool and the writer's (see [`SqlStore::writer`]), and the file, unless the
/// database is in memory.
async fn sqlite_pools(url: &str) -> StoreResult<(AnyPool, AnyPool, Option<PathBuf>)> {
    let (url, in_memory) = prepare_sqlite(url)?;
    let open = |connections: u32| {
        AnyPoolOptions::new()
            .max_connections(connections)
            // A SQLite connection does not go stale, and the test is a round trip.
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(SQLITE_PRAGMAS).await?;
                    Ok(())
                })
            })
            .connect(&url)
    };
    // The writer first: the first connection switches the file to WAL.
    let writer = open(1).await.map_err(db_err)?;
    warn_unless_wal(&writer).await?;
    if in_memory {
        return Ok((writer.clone(), writer, None));
    }
    let readers = open(SQLITE_READERS).await.map_err(db_err)?;
    let options: AnyConnectOptions = url.parse().map_err(db_err)?;
    let file = sqlx::sqlite::SqliteConnectOptions::try_from(&options)
        .map_err(db_err)?
        .get_filename()
        .to_path_buf();
    Ok((readers, writer, Some(file)))
}

async fn postgres_pool(url: &str) -> StoreResult<AnyPool> {
    AnyPoolOptions::new()
        .max_connections(POSTGRES_POOL_SIZE)
        .acquire_timeout(Duration::from_secs(30))
        .connect(url)
        .await
        .map_err(db_err)
}

/// SQLite keeps its old journal, without an error, where WAL cannot work (some network file
/// systems); writers then block readers. Worth a line in the log, not a refusal.
async fn warn_unless_wal(pool: &AnyPool) -> StoreResult<()> {
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(pool)
        .await
        .map_err(db_err)?;
    if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
        tracing::warn!(journal_mode = %mode, "SQLite could not switch to WAL");
    }
    Ok(())
}

impl Dialect {
    fn of(url: &str) -> StoreResult<Dialect> {
        let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("sqlite") => Ok(Dialect::Sqlite),
            Some("postgres" | "postgresql") => Ok(Dialect::Postgres),
            _ => Err(StoreError::Backend(Box::new(ConnectError::UnsupportedUrl))),
        }
    }
}

/// The SQLite URL for a data folder: `sqlite://<dir>/tessera.db?mode=rwc`.
///
/// The folder is made absolute, so a relative one cannot be read as a URL host, and the
/// characters that would end the path (`?`, `#`) or start an escape (`%`) are escaped.
pub fn sqlite_url(data_dir: &Path) -> String {
    let dir = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let file = dir.join("tessera.db");
    let mut url = String::from("sqlite://");
    for c in file.to_string_lossy().chars() {
        match c {
            '%' => url.push_str("%25"),
            '?' => url.push_str("%3F"),
            '#' => url.push_str("%23"),
            c => url.push(c),
        }
    }
    url.push_str("?mode=rwc");
    url
}

/// Prepares a SQLite URL: creating is the default (`mode=rwc` unless the URL sets a mode),
/// and the file is created readable by its owner only, before SQLite would create it with
/// the umask's permissions (SQLite gives the `-wal` and `-shm` files the same permissions).
/// Returns the URL to connect with, and whether it is an in-memory database.
fn prepare_sqlite(url: &str) -> StoreResult<(String, bool)> {
    let options: AnyConnectOptions = url.parse().map_err(db_err)?;
    let mut database_url = options.database_url.clone();
    let mode = database_url
        .query_pairs()
        .find(|(key, _)| key == "mode")
        .map(|(_, value)| value.into_owned());
    if mode.is_none() {
        database_url.query_pairs_mut().append_pair("mode", "rwc");
    }
    let in_memory = mode.as_deref() == Some("memory") || database_url.path().contains(":memory:");
    if in_memory || !matches!(mode.as_deref(), None | Some("rwc")) {
        return Ok((database_url.to_string(), in_memory));
    }
    // Parsed the way sqlx will parse it, so this is the file SQLite opens.
    let sqlite = sqlx::sqlite::SqliteConnectOptions::try_from(&options).map_err(db_err)?;
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    match open.open(sqlite.get_filename()) {
        Ok(_) => Ok((database_url.to_string(), false)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok((database_url.to_string(), false))
        }
        Err(e) => Err(StoreError::Backend(Box::new(e))),
    }
}

/// Maps a database error: unique violations to `Conflict` (named after the column or table),
/// values that do not decode to `Corrupt`, and everything else to `Backend`.
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(conflict_name(db.as_ref()))
        }
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Corrupt("a column did not decode")
        }
        e => StoreError::Backend(Box::new(e)),
    }
}

/// PostgreSQL names the constraint (`accounts_username`); SQLite names the column in its
/// message (`UNIQUE constraint failed: accounts.username`). Columns come before tables,
/// since an index name holds both.
fn conflict_name(db: &dyn DatabaseError) -> &'static str {
    conflict_name_in(db.constraint().unwrap_or_else(|| db.message()))
}

/// As [`conflict_name`], in the constraint's name or the error's message.
pub(crate) fn conflict_name_in(text: &str) -> &'static str {
    const NAMES: [(&str, &str); 9] = [
        ("username", "username"),
        ("external_id", "external_id"),
        ("token_hash", "token_hash"),
        ("audit_events", "audit_event"),
        ("accounts", "account"),
        ("methods", "method"),
        ("sign_in_flows", "flow"),
        ("sessions", "session"),
        ("settings", "setting"),
    ];
    NAMES
        .iter()
        .find(|(needle, _)| text.contains(needle))
        .map_or("unique", |(_, name)| name)
}

#[cfg(test)]
mod tests;
