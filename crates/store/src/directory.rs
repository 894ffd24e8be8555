//! Accounts from the organization's directory and their groups (migration 0019).

use async_trait::async_trait;
use sqlx::{Any, Transaction};
use tessera_core::StoreError;
use tessera_core::account::{Account, AccountSource};
use tessera_core::audit::AuditEvent;
use tessera_core::ids::AccountId;
use tessera_core::store::StoreResult;
use tessera_core::store::directory::{
    DirectoryAccount, DirectoryAccountStore, LOCAL_ACCOUNT_CONFLICT, OTHER_ENTRY_CONFLICT,
    normalized_groups,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::rows::{AccountRow, secs, time};
use crate::{SqlStore, audit, bulk, db_err};

const SELECT_BY_EXTERNAL_ID: &str = "SELECT id, username, display_name, password_hash, \
     locale, browser_locale, status, is_admin, email, default_method_id, created_at, source, \
     external_id FROM accounts WHERE external_id = $1";
const SELECT_BY_USERNAME: &str = "SELECT id, username, display_name, password_hash, \
     locale, browser_locale, status, is_admin, email, default_method_id, created_at, source, \
     external_id FROM accounts WHERE username = $1";
const SELECT_DIRECTORY: &str = "SELECT id, username, display_name, password_hash, \
     locale, browser_locale, status, is_admin, email, default_method_id, created_at, source, \
     external_id FROM accounts WHERE source = 'directory' ORDER BY username";
/// Only a directory account's names and link change; the rest is Tessera's.
const UPDATE: &str = "UPDATE accounts SET username = $2, display_name = $3, \
     display_name_lower = $4, external_id = COALESCE($5, external_id), directory_seen_at = $6 \
     WHERE id = $1";
const SEEN: &str = "UPDATE accounts SET directory_seen_at = $2 WHERE id = $1";
const GROUPS: &str = "SELECT name FROM account_groups WHERE account_id = $1 ORDER BY name";
const DELETE_GROUPS: &str = "DELETE FROM account_groups WHERE account_id = $1";
const INSERT_GROUP: &str = "INSERT INTO account_groups (account_id, name) VALUES ($1, $2)";
const EXISTS: &str = "SELECT COUNT(*) FROM accounts WHERE id = $1";

async fn account_where(
    tx: &mut Transaction<'static, Any>,
    sql: &'static str,
    key: &str,
) -> StoreResult<Option<Account>> {
    sqlx::query_as::<_, AccountRow>(sql)
        .bind(key)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_err)?
        .map(Account::try_from)
        .transpose()
}

async fn replace_groups(
    tx: &mut Transaction<'static, Any>,
    account: AccountId,
    groups: &[String],
) -> StoreResult<()> {
    sqlx::query(DELETE_GROUPS)
        .bind(account.to_string())
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    for name in normalized_groups(groups) {
        sqlx::query(INSERT_GROUP)
            .bind(account.to_string())
            .bind(name)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

#[async_trait]
impl DirectoryAccountStore for SqlStore {
    async fn upsert_directory_account(
        &self,
        person: &DirectoryAccount,
        now: OffsetDateTime,
        event: &AuditEvent,
    ) -> StoreResult<(Account, bool)> {
        let mut tx = self.begin_write().await?;
        let by_id = match &person.external_id {
            Some(ext) => account_where(&mut tx, SELECT_BY_EXTERNAL_ID, ext).await?,
            None => None,
        };
        let by_name = account_where(&mut tx, SELECT_BY_USERNAME, &person.username).await?;
        let found = match (by_id, by_name) {
            (Some(a), Some(b)) if a.id != b.id => return Err(StoreError::Conflict("username")),
            (Some(a), _) => Some(a),
            (None, Some(b)) if b.source == AccountSource::Local => {
                return Err(StoreError::Conflict(LOCAL_ACCOUNT_CONFLICT));
            }
            (None, Some(b)) if b.external_id.is_some() && person.external_id.is_some() => {
                return Err(StoreError::Conflict(OTHER_ENTRY_CONFLICT));
            }
            (None, b) => b,
        };
        let (account, created) = match found {
            Some(mut account) => {
                sqlx::query(UPDATE)
                    .bind(account.id.to_string())
                    .bind(person.username.as_str())
                    .bind(person.display_name.as_str())
                    .bind(person.display_name.to_lowercase())
                    .bind(person.external_id.as_deref())
                    .bind(secs(now))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                account.username = person.username.clone();
                account.display_name = person.display_name.clone();
                if person.external_id.is_some() {
                    account.external_id = person.external_id.clone();
                }
                (account, false)
            }
            None => {
                let account = Account::of_directory_person(
                    AccountId(Uuid::new_v4()),
                    person,
                    time(secs(now), "accounts.created_at")?,
                );
                bulk::insert_account(&mut *tx, &account).await?;
                sqlx::query(SEEN)
                    .bind(account.id.to_string())
                    .bind(secs(now))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let event = AuditEvent {
                    account_id: Some(account.id),
                    ..event.clone()
                };
                audit::insert(&mut *tx, &event).await?;
                (account, true)
            }
        };
        replace_groups(&mut tx, account.id, &person.groups).await?;
        tx.commit().await.map_err(db_err)?;
        Ok((account, created))
    }

    async fn account_groups(&self, account: AccountId) -> StoreResult<Vec<String>> {
        sqlx::query_scalar::<_, String>(GROUPS)
            .bind(account.to_string())
            .fetch_all(self.pool())
            .await
            .map_err(db_err)
    }

    async fn set_account_groups(&self, account: AccountId, groups: &[String]) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let exists: i64 = sqlx::query_scalar(EXISTS)
            .bind(account.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        if exists == 0 {
            return Err(StoreError::Conflict("account"));
        }
        replace_groups(&mut tx, account, groups).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn directory_accounts(&self) -> StoreResult<Vec<Account>> {
        sqlx::query_as::<_, AccountRow>(SELECT_DIRECTORY)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(Account::try_from)
            .collect()
    }
}
