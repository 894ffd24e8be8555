//! The sealed columns, for master key rotation (docs/design/key-rotation.md).
//!
//! The SQL names only the tables and columns of core's `SEALED_COLUMNS` registry, never a
//! caller's string. The key id is bytes 2..5 of the value in SQL's 1-based `substr`, which
//! both databases apply to BLOB/BYTEA alike.

use std::collections::BTreeMap;

use async_trait::async_trait;
use sqlx::AssertSqlSafe;
use tessera_core::StoreError;
use tessera_core::audit::AuditEvent;
use tessera_core::store::StoreResult;
use tessera_core::store::sealed::{
    Resealed, SEALING_KEY_SETTING, SealedColumn, SealedStore, SealedValue, listed, mac_key_id,
};
use time::OffsetDateTime;

use crate::{SqlStore, audit, db_err};

const SETTING: &str = "SELECT value FROM settings WHERE key = $1";
const SAVE_SETTING: &str = "INSERT INTO settings (key, value) VALUES ($1, $2) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";
const CODE_MACS: &str = "SELECT substr(code_mac, 1, 4) AS k, COUNT(*) AS n FROM challenges \
     WHERE code_mac IS NOT NULL AND expires_at > $1 GROUP BY substr(code_mac, 1, 4)";

fn known(column: &SealedColumn) -> StoreResult<&'static SealedColumn> {
    listed(column).ok_or(StoreError::Corrupt("not a sealed column"))
}

fn key_id(bytes: &[u8]) -> u32 {
    bytes
        .first_chunk::<4>()
        .map_or(0, |b| u32::from_be_bytes(*b))
}

#[async_trait]
impl SealedStore for SqlStore {
    async fn count_sealed(&self, column: &SealedColumn) -> StoreResult<BTreeMap<u32, u64>> {
        let c = known(column)?;
        let sql = format!(
            "SELECT substr({col}, 2, 4) AS k, COUNT(*) AS n FROM {table} \
             WHERE {col} IS NOT NULL GROUP BY substr({col}, 2, 4)",
            col = c.column,
            table = c.table
        );
        let rows: Vec<(Vec<u8>, i64)> = sqlx::query_as(AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        let mut counts = BTreeMap::new();
        for (k, n) in rows {
            // Ids that are not four bytes long count under 0, as damage.
            let id = if k.len() == 4 { key_id(&k) } else { 0 };
            *counts.entry(id).or_default() += u64::try_from(n).unwrap_or(0);
        }
        Ok(counts)
    }

    async fn sealed_batch(
        &self,
        column: &SealedColumn,
        key_id: u32,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<SealedValue>> {
        let c = known(column)?;
        // Placeholders in the order they appear, the order the values are bound in.
        let (cursor, limit_at) = if after.is_some() {
            (format!("AND {} > $2 ", c.row_id), "$3")
        } else {
            (String::new(), "$2")
        };
        let sql = format!(
            "SELECT {row} AS r, {col} AS v FROM {table} \
             WHERE {col} IS NOT NULL AND substr({col}, 2, 4) <> $1 {cursor}\
             ORDER BY {row} LIMIT {limit_at}",
            row = c.row_id,
            col = c.column,
            table = c.table
        );
        let mut query = sqlx::query_as::<_, (String, Vec<u8>)>(AssertSqlSafe(sql))
            .bind(key_id.to_be_bytes().to_vec());
        if let Some(after) = after {
            query = query.bind(after.to_string());
        }
        let query = query.bind(i64::from(limit));
        let rows = query.fetch_all(self.pool()).await.map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|(row, sealed)| SealedValue { row, sealed })
            .collect())
    }

    async fn reseal(&self, column: &SealedColumn, values: &[Resealed]) -> StoreResult<u64> {
        let c = known(column)?;
        if values.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "UPDATE {table} SET {col} = $1 WHERE {row} = $2 AND {col} = $3",
            table = c.table,
            col = c.column,
            row = c.row_id
        );
        let mut tx = self.begin_write().await?;
        let mut written = 0;
        for v in values {
            written += sqlx::query(AssertSqlSafe(sql.clone()))
                .bind(v.new.as_slice())
                .bind(v.row.as_str())
                .bind(v.old.as_slice())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
        }
        tx.commit().await.map_err(db_err)?;
        Ok(written)
    }

    async fn count_code_macs(&self, now: OffsetDateTime) -> StoreResult<BTreeMap<u32, u64>> {
        let rows: Vec<(Vec<u8>, i64)> = sqlx::query_as(CODE_MACS)
            .bind(now.unix_timestamp())
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        let mut counts = BTreeMap::new();
        for (k, n) in rows {
            *counts.entry(mac_key_id(&k)).or_default() += u64::try_from(n).unwrap_or(0);
        }
        Ok(counts)
    }

    async fn sealing_key_id(&self) -> StoreResult<Option<u32>> {
        let value: Option<String> = sqlx::query_scalar(SETTING)
            .bind(SEALING_KEY_SETTING)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        value
            .map(|v| {
                serde_json::from_str::<u32>(&v)
                    .map_err(|_| StoreError::Corrupt("settings.sealing_key"))
            })
            .transpose()
    }

    async fn set_sealing_key_id(&self, id: u32, event: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(SAVE_SETTING)
            .bind(SEALING_KEY_SETTING)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)
    }
}
