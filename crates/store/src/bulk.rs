//! Seeding many rows at once, for benchmarks and load tests: an organization of a million
//! accounts would take hours through the audited one-row-per-transaction operations.
//!
//! Not part of the [`Store`](tessera_core::Store) port: nothing a person does reaches it, so it
//! writes no audit events. It binds the same `INSERT` texts as the audited operations, so a
//! seeded row is exactly the row a registration would have written.

use sqlx::Executor;
use tessera_core::account::Account;
use tessera_core::method::Method;
use tessera_core::session::Session;
use tessera_core::store::StoreResult;

use crate::rows::{flag, secs};
use crate::{SqlStore, accounts, db_err, methods, sessions};

/// One account with its methods.
#[derive(Debug, Clone)]
pub struct SeedRow {
    pub account: Account,
    pub methods: Vec<Method>,
}

impl SqlStore {
    /// Inserts `rows` in one transaction: all of them, or none on an error.
    pub async fn seed(&self, rows: &[SeedRow]) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for row in rows {
            insert_account(&mut *tx, &row.account).await?;
            for method in &row.methods {
                insert_method(&mut *tx, method).await?;
            }
        }
        tx.commit().await.map_err(db_err)
    }

    /// Inserts sessions of seeded accounts in one transaction. Kept apart from [`seed`]
    /// so that sessions can be made last: a long seeding would otherwise let the first ones
    /// idle out before the load starts.
    ///
    /// [`seed`]: SqlStore::seed
    pub async fn seed_sessions(&self, sessions: &[Session]) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for session in sessions {
            sessions::insert_session_on(&mut *tx, session).await?;
        }
        tx.commit().await.map_err(db_err)
    }
}

pub(crate) async fn insert_account<'c, E>(exec: E, account: &Account) -> StoreResult<()>
where
    E: Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(accounts::INSERT)
        .bind(account.id.to_string())
        .bind(account.username.as_str())
        .bind(account.display_name.as_str())
        .bind(account.display_name.to_lowercase())
        .bind(account.password_hash.as_str())
        .bind(account.locale.as_deref())
        .bind(account.status.as_str())
        .bind(flag(account.is_admin))
        .bind(account.email.as_deref())
        .bind(account.default_method.map(|id| id.to_string()))
        .bind(secs(account.created_at))
        .bind(account.source.as_str())
        .bind(account.external_id.as_deref())
        .execute(exec)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn insert_method<'c, E>(exec: E, method: &Method) -> StoreResult<()>
where
    E: Executor<'c, Database = sqlx::Any>,
{
    methods::insert_on(exec, method).await
}
