//! Schema migrations: `migrations/sqlite` and `migrations/postgres`, numbered alike.
//!
//! A database that a newer Tessera has migrated is refused before anything runs: an older
//! binary would misread the newer tables, and sqlx would only complain about an unknown
//! migration after taking the migration lock.

use sqlx::migrate::Migrator;
use tessera_core::StoreError;
use tessera_core::store::StoreResult;

use crate::{Dialect, SqlStore, db_err};

static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

const SQLITE_HAS_TABLE: &str =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'";
const POSTGRES_HAS_TABLE: &str = "SELECT COUNT(*) FROM information_schema.tables \
     WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'";
const NEWEST_APPLIED: &str = "SELECT MAX(version) FROM _sqlx_migrations";

fn migrator(dialect: Dialect) -> &'static Migrator {
    match dialect {
        Dialect::Sqlite => &SQLITE,
        Dialect::Postgres => &POSTGRES,
    }
}

/// The newest migration this binary ships.
pub(crate) fn supported(dialect: Dialect) -> i64 {
    migrator(dialect)
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

pub(crate) async fn run(store: &SqlStore) -> StoreResult<()> {
    let migrator = migrator(store.dialect());
    let supported = supported(store.dialect());
    if let Some(found) = newest_applied(store).await?
        && found > supported
    {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    migrator
        .run(store.pool())
        .await
        .map_err(|e| StoreError::Backend(Box::new(e)))?;
    tracing::debug!(version = supported, "database schema is current");
    Ok(())
}

/// The highest migration version the database has recorded, if it has any.
async fn newest_applied(store: &SqlStore) -> StoreResult<Option<i64>> {
    let has_table = match store.dialect() {
        Dialect::Sqlite => SQLITE_HAS_TABLE,
        Dialect::Postgres => POSTGRES_HAS_TABLE,
    };
    let tables: i64 = sqlx::query_scalar(has_table)
        .fetch_one(store.pool())
        .await
        .map_err(db_err)?;
    if tables == 0 {
        return Ok(None);
    }
    sqlx::query_scalar(NEWEST_APPLIED)
        .fetch_one(store.pool())
        .await
        .map_err(db_err)
}
