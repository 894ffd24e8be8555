//! Accounts.

use async_trait::async_trait;
use tessera_core::account::Account;
use tessera_core::audit::{AuditEvent, RequestLanguage};
use tessera_core::store::StoreResult;
use tessera_core::store::accounts::AccountStore;
use tessera_core::{AccountId, MethodId};

use crate::rows::{AccountRow, flag, secs};
use crate::{SqlStore, audit, db_err};

pub(crate) const INSERT: &str = "INSERT INTO accounts \
     (id, username, display_name, display_name_lower, password_hash, locale, status, is_admin, \
      email, default_method_id, created_at, source, external_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

const SELECT_BY_ID: &str = "SELECT id, username, display_name, password_hash, locale, \
     browser_locale, status, is_admin, email, default_method_id, created_at, source, \
     external_id FROM accounts \
     WHERE id = $1";

const SELECT_BY_USERNAME: &str = "SELECT id, username, display_name, password_hash, locale, \
     browser_locale, status, is_admin, email, default_method_id, created_at, source, \
     external_id FROM accounts \
     WHERE username = $1";

/// `$1` is a lowercased LIKE pattern whose wildcards are escaped with `\`. SQLite has no
/// default escape character, hence the explicit `ESCAPE`.
const SEARCH: &str = "SELECT id, username, display_name, password_hash, locale, \
     browser_locale, status, is_admin, email, default_method_id, created_at, source, \
     external_id FROM accounts \
     WHERE lower(username) LIKE $1 ESCAPE '\\' OR display_name_lower LIKE $1 ESCAPE '\\' \
     ORDER BY username LIMIT $2";

const UPDATE: &str = "UPDATE accounts SET display_name = $2, display_name_lower = $3, \
     password_hash = $4, locale = $5, status = $6, is_admin = $7, email = $8, \
     default_method_id = $9 WHERE id = $1";

const REMEMBER_CHOSEN: &str = "UPDATE accounts SET locale = $2 WHERE id = $1";
const REMEMBER_BROWSER: &str = "UPDATE accounts SET browser_locale = $2 WHERE id = $1";

fn method_text(id: Option<MethodId>) -> Option<String> {
    id.map(|id| id.to_string())
}

#[async_trait]
impl AccountStore for SqlStore {
    async fn insert_account(&self, account: &Account, event: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(INSERT)
            .bind(account.id.to_string())
            .bind(account.username.as_str())
            .bind(account.display_name.as_str())
            .bind(account.display_name.to_lowercase())
            .bind(account.password_hash.as_str())
            .bind(account.locale.as_deref())
            .bind(account.status.as_str())
            .bind(flag(account.is_admin))
            .bind(account.email.as_deref())
            .bind(method_text(account.default_method))
            .bind(secs(account.created_at))
            .bind(account.source.as_str())
            .bind(account.external_id.as_deref())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn account(&self, id: AccountId) -> StoreResult<Option<Account>> {
        sqlx::query_as::<_, AccountRow>(SELECT_BY_ID)
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?
            .map(Account::try_from)
            .transpose()
    }

    async fn account_by_username(&self, username: &str) -> StoreResult<Option<Account>> {
        sqlx::query_as::<_, AccountRow>(SELECT_BY_USERNAME)
            .bind(username)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?
            .map(Account::try_from)
            .transpose()
    }

    async fn list_accounts(&self, search: Option<&str>, limit: u32) -> StoreResult<Vec<Account>> {
        sqlx::query_as::<_, AccountRow>(SEARCH)
            .bind(contains_pattern(search.unwrap_or("")))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(Account::try_from)
            .collect()
    }

    async fn update_account(
        &self,
        account: &Account,
        event: Option<&AuditEvent>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(UPDATE)
            .bind(account.id.to_string())
            .bind(account.display_name.as_str())
            .bind(account.display_name.to_lowercase())
            .bind(account.password_hash.as_str())
            .bind(account.locale.as_deref())
            .bind(account.status.as_str())
            .bind(flag(account.is_admin))
            .bind(account.email.as_deref())
            .bind(method_text(account.default_method))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if let Some(event) = event {
            audit::insert(&mut *tx, event).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn remember_locale(&self, id: AccountId, language: &RequestLanguage) -> StoreResult<()> {
        let (sql, tag) = match language {
            RequestLanguage::Chosen(tag) => (REMEMBER_CHOSEN, tag),
            RequestLanguage::Browser(tag) => (REMEMBER_BROWSER, tag),
        };
        sqlx::query(sql)
            .bind(id.to_string())
            .bind(tag.as_str())
            .execute(self.writer())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

/// `%…%` around the lowercased text, its own `%`, `_` and `\` taken literally.
fn contains_pattern(search: &str) -> String {
    let mut pattern = String::with_capacity(search.len() + 2);
    pattern.push('%');
    for c in search.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn search_patterns_take_wildcards_literally() {
        assert_eq!(contains_pattern("Ali"), "%ali%");
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
        assert_eq!(contains_pattern(""), "%%");
    }
}
