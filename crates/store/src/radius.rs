//! RADIUS clients (migration 0017).

use async_trait::async_trait;
use tessera_core::StoreError;
use tessera_core::audit::AuditEvent;
use tessera_core::ids::RadiusClientId;
use tessera_core::radius::RadiusClient;
use tessera_core::store::StoreResult;
use tessera_core::store::radius::RadiusStore;
use time::OffsetDateTime;

use crate::rows::secs;
use crate::{SqlStore, audit, db_err};

const INSERT: &str = "INSERT INTO radius_clients \
     (id, name, network, secret, require_message_authenticator, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";
const SELECT: &str = "SELECT id, name, network, secret, require_message_authenticator, \
     created_at FROM radius_clients ORDER BY created_at, name";
const DELETE: &str = "DELETE FROM radius_clients WHERE id = $1";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    name: String,
    network: String,
    secret: Vec<u8>,
    require_message_authenticator: i64,
    created_at: i64,
}

impl TryFrom<Row> for RadiusClient {
    type Error = StoreError;

    fn try_from(row: Row) -> StoreResult<RadiusClient> {
        Ok(RadiusClient {
            id: RadiusClientId(
                row.id
                    .parse()
                    .map_err(|_| StoreError::Corrupt("radius_clients.id"))?,
            ),
            name: row.name,
            network: row
                .network
                .parse()
                .map_err(|_| StoreError::Corrupt("radius_clients.network"))?,
            sealed_secret: row.secret,
            require_message_authenticator: row.require_message_authenticator != 0,
            created_at: OffsetDateTime::from_unix_timestamp(row.created_at)
                .map_err(|_| StoreError::Corrupt("radius_clients.created_at"))?,
        })
    }
}

#[async_trait]
impl RadiusStore for SqlStore {
    async fn radius_clients(&self) -> StoreResult<Vec<RadiusClient>> {
        sqlx::query_as::<_, Row>(SELECT)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(RadiusClient::try_from)
            .collect()
    }

    async fn insert_radius_client(
        &self,
        client: &RadiusClient,
        event: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(INSERT)
            .bind(client.id.to_string())
            .bind(client.name.as_str())
            .bind(client.network.to_string())
            .bind(client.sealed_secret.as_slice())
            .bind(i64::from(client.require_message_authenticator))
            .bind(secs(client.created_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn delete_radius_client(
        &self,
        id: RadiusClientId,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query(DELETE)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if deleted == 0 {
            return Ok(false);
        }
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }
}
