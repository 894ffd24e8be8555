//! What `tessera backup`, `restore` and `doctor` ask of a database beside the Store port: an
//! online copy of a SQLite file, a look at a database without migrating or writing it, and
//! the sealed values a master key must open.

use std::path::Path;

use sqlx::{AnyConnection, AssertSqlSafe, Connection, Row};
use tessera_core::StoreError;
use tessera_core::store::StoreResult;
use tessera_core::store::sealed::SEALED_COLUMNS;

use crate::{Dialect, SqlStore, db_err, migrate};

/// A sealed column's value and where it lives: the associated data it was sealed with. The
/// columns are core's one list, `tessera_core::store::sealed::SEALED_COLUMNS`.
#[derive(Debug, Clone)]
pub struct SealedValue {
    pub table: &'static str,
    pub column: &'static str,
    pub row: String,
    pub sealed: Vec<u8>,
}

/// What a look at a database found, without migrating it.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The newest migration the database has applied; `None`: no schema yet.
    pub applied: Option<i64>,
    /// The newest migration this binary ships.
    pub supported: i64,
    /// `PRAGMA quick_check`'s answer on SQLite (`"ok"` when sound); `None` on PostgreSQL.
    pub quick_check: Option<String>,
    /// Accounts in the database (0 without a schema).
    pub accounts: i64,
    /// A few sealed values (at most `per_column` of each sealed column).
    pub sealed: Vec<SealedValue>,
    /// The stored policy as JSON; `None`: the defaults are in force.
    pub policy: Option<String>,
}

/// The newest migration this binary ships for the URL's database.
pub fn supported_version(url: &str) -> StoreResult<i64> {
    Ok(migrate::supported(Dialect::of(url)?))
}

/// Looks at the database at `url` without creating, migrating or writing it. SQLite is opened
/// `mode=rw`, not `rwc`, so a missing file is an error rather than a new empty database; not
/// `mode=ro`, because a read-only connection to a WAL database that no server has open
/// leaves `-wal` and `-shm` files behind (owned by whoever ran it), while the last read-write
/// connection to close removes them.
pub async fn inspect(url: &str, per_column: u32) -> StoreResult<Inspection> {
    sqlx::any::install_default_drivers();
    let dialect = Dialect::of(url)?;
    let (url, has_table): (String, fn(&str) -> String) = match dialect {
        Dialect::Sqlite => (existing_only(url), |t| {
            format!("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{t}'")
        }),
        Dialect::Postgres => (url.to_string(), |t| {
            format!(
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = '{t}'"
            )
        }),
    };
    let mut conn = AnyConnection::connect(&url).await.map_err(db_err)?;
    let mut found = Inspection {
        applied: None,
        supported: migrate::supported(dialect),
        quick_check: None,
        accounts: 0,
        sealed: Vec::new(),
        policy: None,
    };
    if dialect == Dialect::Sqlite {
        found.quick_check = Some(
            sqlx::query_scalar("PRAGMA quick_check")
                .fetch_one(&mut conn)
                .await
                .map_err(db_err)?,
        );
    }
    let exists = async |conn: &mut AnyConnection, table: &str| -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(has_table(table)))
            .fetch_one(conn)
            .await
            .map_err(db_err)?;
        Ok(n > 0)
    };
    if exists(&mut conn, "_sqlx_migrations").await? {
        found.applied = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(&mut conn)
            .await
            .map_err(db_err)?;
    }
    if exists(&mut conn, "accounts").await? {
        found.accounts = sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
            .fetch_one(&mut conn)
            .await
            .map_err(db_err)?;
    }
    if exists(&mut conn, "settings").await? {
        found.policy = sqlx::query_scalar("SELECT value FROM settings WHERE key = 'policy'")
            .fetch_optional(&mut conn)
            .await
            .map_err(db_err)?;
    }
    // A database of an older release lacks some tables.
    for c in SEALED_COLUMNS {
        if !exists(&mut conn, c.table).await? {
            continue;
        }
        let rows = sqlx::query(AssertSqlSafe(sealed_query(
            c.table, c.column, c.row_id, per_column,
        )))
        .fetch_all(&mut conn)
        .await
        .map_err(db_err)?;
        for row in rows {
            found.sealed.push(SealedValue {
                table: c.aad_table,
                column: c.aad_column,
                row: row.try_get(0).map_err(db_err)?,
                sealed: row.try_get(1).map_err(db_err)?,
            });
        }
    }
    conn.close().await.map_err(db_err)?;
    Ok(found)
}

/// Writes a consistent copy of the SQLite database at `url` to `dest` (which must not exist)
/// while a server keeps reading and writing it: `VACUUM INTO` copies one read transaction's
/// snapshot and, in WAL mode, does not block the writer. The source is only read, and not
/// migrated, so a server of another version running on it is not disturbed.
pub async fn sqlite_copy(url: &str, dest: &Path) -> StoreResult<()> {
    sqlx::any::install_default_drivers();
    if Dialect::of(url)? != Dialect::Sqlite {
        return Err(StoreError::Corrupt(
            "a copy of a PostgreSQL database is pg_dump's job",
        ));
    }
    let path = dest.to_str().ok_or(StoreError::Corrupt(
        "the backup's temporary path is not UTF-8",
    ))?;
    let mut conn = AnyConnection::connect(&existing_only(url))
        .await
        .map_err(db_err)?;
    sqlx::query("PRAGMA busy_timeout = 5000")
        .execute(&mut conn)
        .await
        .map_err(db_err)?;
    sqlx::query("VACUUM INTO $1")
        .bind(path.to_string())
        .execute(&mut conn)
        .await
        .map_err(db_err)?;
    conn.close().await.map_err(db_err)?;
    Ok(())
}

/// The SQLite URL with `mode=rw` (open, never create), whatever mode it asked for.
fn existing_only(url: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("mode="))
        .collect();
    params.push("mode=rw");
    format!("{base}?{}", params.join("&"))
}

fn sealed_query(table: &str, column: &str, row_column: &str, limit: u32) -> String {
    format!("SELECT {row_column}, {column} FROM {table} WHERE {column} IS NOT NULL LIMIT {limit}")
}

impl SqlStore {
    /// A few sealed values (at most `per_column` of each sealed column).
    pub async fn sealed_values(&self, per_column: u32) -> StoreResult<Vec<SealedValue>> {
        let mut out = Vec::new();
        for c in SEALED_COLUMNS {
            let sql = sealed_query(c.table, c.column, c.row_id, per_column);
            let rows = sqlx::query(AssertSqlSafe(sql))
                .fetch_all(self.pool())
                .await
                .map_err(db_err)?;
            for row in rows {
                out.push(SealedValue {
                    table: c.aad_table,
                    column: c.aad_column,
                    row: row.try_get(0).map_err(db_err)?,
                    sealed: row.try_get(1).map_err(db_err)?,
                });
            }
        }
        Ok(out)
    }

    /// The newest migration the database has applied.
    pub async fn schema_version(&self) -> StoreResult<i64> {
        let v: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(self.pool())
            .await
            .map_err(db_err)?;
        Ok(v.unwrap_or(0))
    }

    /// `PRAGMA quick_check` on SQLite (`"ok"` when sound); `None` on PostgreSQL.
    pub async fn quick_check(&self) -> StoreResult<Option<String>> {
        if self.dialect() != Dialect::Sqlite {
            return Ok(None);
        }
        let answer: String = sqlx::query_scalar("PRAGMA quick_check")
            .fetch_one(self.pool())
            .await
            .map_err(db_err)?;
        Ok(Some(answer))
    }
}
