//! Security keys: their credentials and the WebAuthn ceremonies in progress (migration 0004).

use async_trait::async_trait;
use tessera_core::method::MethodStatus;
use tessera_core::store::StoreResult;
use tessera_core::store::webauthn::{Ceremony, SecurityKeyCredential, WebAuthnStore};
use tessera_core::{MethodId, StoreError};
use time::OffsetDateTime;

use crate::rows::secs;
use crate::{SqlStore, db_err};

const SAVE_CEREMONY: &str = "INSERT INTO webauthn_ceremonies \
     (purpose, binding, method_id, state, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (purpose, binding, method_id) DO UPDATE SET \
     state = excluded.state, created_at = excluded.created_at, expires_at = excluded.expires_at";

const DROP_EXPIRED: &str = "DELETE FROM webauthn_ceremonies WHERE expires_at <= $1";

/// Deleting is the read: of two nodes answering the same ceremony, one gets the row.
const TAKE_CEREMONY: &str = "DELETE FROM webauthn_ceremonies \
     WHERE purpose = $1 AND binding = $2 AND method_id = $3 \
     RETURNING purpose, binding, method_id, state, created_at, expires_at";

/// The registration's sealed state goes as the credential arrives, so it completes once.
const FORGET_REGISTRATION: &str = "UPDATE methods SET sealed_secret = NULL \
     WHERE id = $1 AND status = $2 AND sealed_secret IS NOT NULL";

const INSERT_KEY: &str = "INSERT INTO webauthn_credentials \
     (method_id, account_id, credential_id, passkey, aaguid, sign_count, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

const SELECT_KEY: &str = "SELECT method_id, account_id, credential_id, passkey, aaguid, \
     sign_count, created_at FROM webauthn_credentials";

/// A counter must move forward; a key that keeps none reports 0 every time.
const RECORD_USE: &str = "UPDATE webauthn_credentials SET passkey = $2, sign_count = $3 \
     WHERE method_id = $1 AND (sign_count < $3 OR ($3 = 0 AND sign_count = 0))";

#[derive(sqlx::FromRow)]
struct CeremonyRow {
    purpose: String,
    binding: String,
    method_id: String,
    state: String,
    created_at: i64,
    expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    method_id: String,
    account_id: String,
    credential_id: String,
    passkey: String,
    aaguid: Option<String>,
    sign_count: i64,
    created_at: i64,
}

fn time(secs: i64, column: &'static str) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(|_| StoreError::Corrupt(column))
}

impl TryFrom<CeremonyRow> for Ceremony {
    type Error = StoreError;

    fn try_from(row: CeremonyRow) -> StoreResult<Ceremony> {
        let method_id = match row.method_id.as_str() {
            "" => None,
            id => Some(
                id.parse()
                    .map_err(|_| StoreError::Corrupt("webauthn_ceremonies.method_id"))?,
            ),
        };
        Ok(Ceremony {
            purpose: row.purpose,
            binding: row.binding,
            method_id,
            state: row.state,
            created_at: time(row.created_at, "webauthn_ceremonies.created_at")?,
            expires_at: time(row.expires_at, "webauthn_ceremonies.expires_at")?,
        })
    }
}

impl TryFrom<KeyRow> for SecurityKeyCredential {
    type Error = StoreError;

    fn try_from(row: KeyRow) -> StoreResult<SecurityKeyCredential> {
        Ok(SecurityKeyCredential {
            method_id: row
                .method_id
                .parse()
                .map_err(|_| StoreError::Corrupt("webauthn_credentials.method_id"))?,
            account_id: row
                .account_id
                .parse()
                .map_err(|_| StoreError::Corrupt("webauthn_credentials.account_id"))?,
            credential_id: row.credential_id,
            passkey: row.passkey,
            aaguid: row.aaguid,
            sign_count: u32::try_from(row.sign_count)
                .map_err(|_| StoreError::Corrupt("webauthn_credentials.sign_count"))?,
            created_at: time(row.created_at, "webauthn_credentials.created_at")?,
        })
    }
}

fn method_key(method: Option<MethodId>) -> String {
    method.map(|m| m.to_string()).unwrap_or_default()
}

impl SqlStore {
    async fn key_where(
        &self,
        clause: &'static str,
        value: String,
    ) -> StoreResult<Option<SecurityKeyCredential>> {
        let sql = sqlx::AssertSqlSafe(format!("{SELECT_KEY} WHERE {clause} = $1"));
        sqlx::query_as::<_, KeyRow>(sql)
            .bind(value)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?
            .map(SecurityKeyCredential::try_from)
            .transpose()
    }
}

#[async_trait]
impl WebAuthnStore for SqlStore {
    async fn save_ceremony(&self, ceremony: &Ceremony, now: OffsetDateTime) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(DROP_EXPIRED)
            .bind(secs(now))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(SAVE_CEREMONY)
            .bind(ceremony.purpose.as_str())
            .bind(ceremony.binding.as_str())
            .bind(method_key(ceremony.method_id))
            .bind(ceremony.state.as_str())
            .bind(secs(ceremony.created_at))
            .bind(secs(ceremony.expires_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn take_ceremony(
        &self,
        purpose: &str,
        binding: &str,
        method: Option<MethodId>,
    ) -> StoreResult<Option<Ceremony>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query_as::<_, CeremonyRow>(TAKE_CEREMONY)
            .bind(purpose)
            .bind(binding)
            .bind(method_key(method))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        row.map(Ceremony::try_from).transpose()
    }

    async fn insert_security_key(&self, key: &SecurityKeyCredential) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let forgotten = sqlx::query(FORGET_REGISTRATION)
            .bind(key.method_id.to_string())
            .bind(MethodStatus::Pending.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if forgotten == 0 {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        let inserted = sqlx::query(INSERT_KEY)
            .bind(key.method_id.to_string())
            .bind(key.account_id.to_string())
            .bind(key.credential_id.as_str())
            .bind(key.passkey.as_str())
            .bind(key.aaguid.as_deref())
            .bind(i64::from(key.sign_count))
            .bind(secs(key.created_at))
            .execute(&mut *tx)
            .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                tx.rollback().await.map_err(db_err)?;
                return Err(StoreError::Conflict("credential"));
            }
            Err(e) => return Err(db_err(e)),
        }
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn security_key(&self, method: MethodId) -> StoreResult<Option<SecurityKeyCredential>> {
        self.key_where("method_id", method.to_string()).await
    }

    async fn security_key_by_credential(
        &self,
        credential_id: &str,
    ) -> StoreResult<Option<SecurityKeyCredential>> {
        self.key_where("credential_id", credential_id.to_string())
            .await
    }

    async fn record_security_key_use(
        &self,
        method: MethodId,
        passkey: &str,
        sign_count: u32,
    ) -> StoreResult<bool> {
        let changed = sqlx::query(RECORD_USE)
            .bind(method.to_string())
            .bind(passkey)
            .bind(i64::from(sign_count))
            .execute(self.writer())
            .await
            .map_err(db_err)?
            .rows_affected();
        Ok(changed == 1)
    }
}
