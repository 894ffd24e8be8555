//! SQLite where the connection lives: the hot path's statements run on rusqlite connections
//! of our own to the same file, not through sqlx.
//!
//! sqlx runs each SQLite connection on a thread of its own and hands every statement over
//! through a channel and back. A verification ran about a dozen statements, so a dozen
//! round trips between threads, and the profile of issue #20 showed two thirds of the
//! server's time in the kernel switching threads. Here:
//!
//! - the reads that every request makes (the session with its account, a method, an
//!   account's methods) run inline on the async worker, on a connection from a small pool:
//!   under WAL a read never waits for the writer, and it takes microseconds;
//! - the group commit ([`crate::commit_group`]) runs on a thread that owns the writing
//!   connection and takes the queued answers itself: a whole batch, every acceptance and
//!   refusal, then one `COMMIT`, with one hand-over per answer (its reply) instead of
//!   several per statement.
//!
//! The SQL is the store's own (the same constants); only the binding is written again here,
//! for the statements the hot path runs. The contract suite runs it on every SQLite test;
//! PostgreSQL and an in-memory SQLite keep the sqlx path.
//!
//! rusqlite 0.39 is the newest release whose `libsqlite3-sys` (0.37) is the one sqlx-sqlite
//! 0.9 links, so both use the one bundled SQLite.

mod accept;
pub(crate) mod commit;
pub(crate) mod reads;

use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::{Connection, OpenFlags, Row, Statement, ToSql};
use tessera_core::StoreError;
use tessera_core::store::StoreResult;

/// The same settings as sqlx's connections (see `SQLITE_PRAGMAS`): WAL, a full sync on
/// every commit, foreign keys, and the same patience for the other writer.
/// (Memory-mapped reads were slower: every connection maps the file again as it grows.)
const PRAGMAS: &str = "PRAGMA busy_timeout = 5000; \
     PRAGMA synchronous = FULL; \
     PRAGMA foreign_keys = ON;";

/// Idle readers kept open; more are opened when the workers need them at once.
const IDLE_READERS: usize = 8;

/// Statements kept prepared per connection: every statement of the hot path, with room.
const STATEMENT_CACHE: usize = 64;

/// The hot path's connections to one SQLite file.
#[derive(Debug)]
pub(crate) struct Lite {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    closed: AtomicBool,
}

impl Lite {
    /// For the file sqlx opened (and migrated, and switched to WAL) already.
    pub(crate) fn open(path: &Path) -> StoreResult<Lite> {
        let lite = Lite {
            path: path.to_path_buf(),
            readers: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        };
        // Fails here, at start, if the file cannot be opened, rather than on a request.
        let first = lite.reader()?;
        lite.readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(first);
        Ok(lite)
    }

    /// Opens the file, never creating it: sqlx made it.
    fn connect(&self) -> StoreResult<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(lite_err)?;
        conn.execute_batch(PRAGMAS).map_err(lite_err)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }

    /// A reader: opened for writing, as WAL's shared memory needs, and refusing to write.
    fn reader(&self) -> StoreResult<Connection> {
        let conn = self.connect()?;
        conn.execute_batch("PRAGMA query_only = 1")
            .map_err(lite_err)?;
        Ok(conn)
    }

    /// The writing connection, for the commit thread. It keeps SQLite's default page cache
    /// (2 MiB): a larger one was slower, as every commit sweeps the whole cache for pages
    /// past the end of the file (`pcache1Truncate`, 3 % of a verification at 16 MiB), and it
    /// cost RSS. It keeps the savepoints' journal in memory, and leaves checkpoints to the
    /// checkpointer's connection, on another core.
    pub(crate) fn writer(&self) -> StoreResult<Connection> {
        let conn = self.connect()?;
        conn.execute_batch(
            "PRAGMA cache_size = -2048; \
             PRAGMA temp_store = MEMORY; \
             PRAGMA wal_autocheckpoint = 0;",
        )
        .map_err(lite_err)?;
        Ok(conn)
    }

    /// The connection that copies the WAL into the database (see `commit::checkpoints`).
    pub(crate) fn checkpointer(&self) -> StoreResult<Connection> {
        self.connect()
    }

    /// Runs `read` on a reader, here on the caller's thread: a read under WAL does not wait
    /// for the writer, and costs less than handing it to another thread would.
    pub(crate) fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        if self.closed.load(Ordering::Acquire) {
            return Err(crate::closed());
        }
        let idle = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.reader()?,
        };
        let result = read(&conn);
        let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if readers.len() < IDLE_READERS && !self.closed.load(Ordering::Acquire) {
            readers.push(conn);
        }
        result
    }

    /// Closes the readers; later reads fail.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// `$1` … `$16`, the store's placeholders, as SQLite names them (no allocation per bind).
const NAMES: [&CStr; 16] = [
    c"$1", c"$2", c"$3", c"$4", c"$5", c"$6", c"$7", c"$8", c"$9", c"$10", c"$11", c"$12", c"$13",
    c"$14", c"$15", c"$16",
];

/// Binds `args` to `$1`, `$2`, … by name: SQLite numbers named parameters in the order they
/// first appear, and the store's SQL uses `$2` before `$1` in places.
fn bind(stmt: &mut Statement<'_>, args: &[&dyn ToSql]) -> rusqlite::Result<()> {
    for (name, arg) in NAMES.iter().zip(args) {
        stmt.raw_bind_parameter(*name, arg)?;
    }
    Ok(())
}

/// Runs a statement that returns no rows; how many rows it changed.
pub(crate) fn exec(conn: &Connection, sql: &str, args: &[&dyn ToSql]) -> StoreResult<usize> {
    let mut stmt = conn.prepare_cached(sql).map_err(lite_err)?;
    bind(&mut stmt, args).map_err(lite_err)?;
    stmt.raw_execute().map_err(lite_err)
}

/// The first row, if any, read by `map`.
pub(crate) fn first<T>(
    conn: &Connection,
    sql: &str,
    args: &[&dyn ToSql],
    map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Option<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(lite_err)?;
    bind(&mut stmt, args).map_err(lite_err)?;
    let mut rows = stmt.raw_query();
    match rows.next().map_err(lite_err)? {
        Some(row) => map(row).map(Some).map_err(lite_err),
        None => Ok(None),
    }
}

/// Every row, each read by `map`.
pub(crate) fn all<T>(
    conn: &Connection,
    sql: &str,
    args: &[&dyn ToSql],
    mut map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(lite_err)?;
    bind(&mut stmt, args).map_err(lite_err)?;
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(lite_err)? {
        out.push(map(row).map_err(lite_err)?);
    }
    Ok(out)
}

/// As `db_err` does for sqlx: unique violations are conflicts named like sqlx's, values that
/// do not read back are corrupt, the rest is the backend's.
pub(crate) fn lite_err(e: rusqlite::Error) -> StoreError {
    use rusqlite::ffi::{SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE};
    match e {
        rusqlite::Error::SqliteFailure(code, message)
            if matches!(
                code.extended_code,
                SQLITE_CONSTRAINT_UNIQUE | SQLITE_CONSTRAINT_PRIMARYKEY
            ) =>
        {
            StoreError::Conflict(crate::conflict_name_in(message.as_deref().unwrap_or("")))
        }
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::IntegralValueOutOfRange(..) => {
            StoreError::Corrupt("a column did not decode")
        }
        e => StoreError::Backend(Box::new(e)),
    }
}
