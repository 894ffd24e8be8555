//! Devices of authenticator apps activated for notifications (migration 0003): the pending
//! activation, its one spend, and the credential the app authenticates with afterwards.

use tessera_core::audit::AuditEvent;
use tessera_core::method::{Method, MethodStatus};
use tessera_core::store::StoreResult;
use tessera_core::store::push::{
    Device, DeviceActivation, KeyAlgorithm, PushRequest, binding_key, device_key,
};
use tessera_core::{MethodId, StoreError};

use crate::rows::{id, secs, time};
use crate::{SqlStore, audit, db_err};

const INSERT_DEVICE: &str = "INSERT INTO push_devices \
     (method_id, account_id, activation_hash, sealed_activation, activation_expires_at) \
     VALUES ($1, $2, $3, $4, $5)";

const SELECT_DEVICE: &str = "SELECT method_id, account_id, activation_hash, sealed_activation, \
     activation_expires_at, activated_at, name, algorithm, public_key, credential_hash, \
     wakeup_url FROM push_devices";

/// Spends the code: only an unspent, current one, once.
const ACTIVATE_DEVICE: &str = "UPDATE push_devices SET activation_hash = NULL, \
     sealed_activation = NULL, activated_at = $2, name = $3, algorithm = $4, public_key = $5, \
     credential_hash = $6, wakeup_url = $7 \
     WHERE method_id = $1 AND activation_hash IS NOT NULL AND activated_at IS NULL \
     AND activation_expires_at > $2";

/// The pending method lives on until the test notification can be answered.
const EXTEND_PENDING: &str = "UPDATE methods SET expires_at = $2, name = COALESCE(name, $3) \
     WHERE id = $1 AND status = $4 AND expires_at > $5";

const SET_WAKEUP: &str = "UPDATE push_devices SET wakeup_url = $2 WHERE method_id = $1";

/// One wake-up path per device: a wake-up URL replaces a Web Push subscription (0016).
const SET_WAKEUP_ONLY: &str = "UPDATE push_devices SET wakeup_url = $2, \
     webpush_endpoint = NULL, webpush_p256dh = NULL, webpush_auth = NULL WHERE method_id = $1";

#[derive(sqlx::FromRow)]
struct DeviceRow {
    method_id: String,
    account_id: String,
    activation_hash: Option<Vec<u8>>,
    sealed_activation: Option<Vec<u8>>,
    activation_expires_at: i64,
    activated_at: Option<i64>,
    name: Option<String>,
    algorithm: Option<String>,
    public_key: Option<Vec<u8>>,
    credential_hash: Option<Vec<u8>>,
    wakeup_url: Option<String>,
}

impl TryFrom<DeviceRow> for Device {
    type Error = StoreError;

    fn try_from(row: DeviceRow) -> StoreResult<Device> {
        let algorithm = match row.algorithm.as_deref() {
            None => None,
            Some(a) => {
                Some(KeyAlgorithm::parse(a).ok_or(StoreError::Corrupt("push_devices.algorithm"))?)
            }
        };
        Ok(Device {
            method_id: id(&row.method_id, "push_devices.method_id")?,
            account_id: id(&row.account_id, "push_devices.account_id")?,
            activation_hash: row.activation_hash,
            sealed_activation: row.sealed_activation,
            activation_expires_at: time(
                row.activation_expires_at,
                "push_devices.activation_expires_at",
            )?,
            activated_at: row
                .activated_at
                .map(|t| time(t, "push_devices.activated_at"))
                .transpose()?,
            name: row.name,
            algorithm,
            public_key: row.public_key,
            credential_hash: row.credential_hash,
            wakeup_url: row.wakeup_url,
        })
    }
}

async fn devices_where(
    store: &SqlStore,
    clause: &'static str,
    key: &[u8],
) -> StoreResult<Option<Device>> {
    let sql = match clause {
        "activation" => sqlx::AssertSqlSafe(format!("{SELECT_DEVICE} WHERE activation_hash = $1")),
        _ => sqlx::AssertSqlSafe(format!("{SELECT_DEVICE} WHERE credential_hash = $1")),
    };
    sqlx::query_as::<_, DeviceRow>(sql)
        .bind(key)
        .fetch_optional(store.pool())
        .await
        .map_err(db_err)?
        .map(Device::try_from)
        .transpose()
}

pub(crate) async fn insert_app_method(
    store: &SqlStore,
    method: &Method,
    device: &Device,
    event: &AuditEvent,
) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    crate::methods::insert_on(&mut *tx, method).await?;
    sqlx::query(INSERT_DEVICE)
        .bind(device.method_id.to_string())
        .bind(device.account_id.to_string())
        .bind(device.activation_hash.as_deref())
        .bind(device.sealed_activation.as_deref())
        .bind(secs(device.activation_expires_at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    audit::insert(&mut *tx, event).await?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn device(store: &SqlStore, method: MethodId) -> StoreResult<Option<Device>> {
    sqlx::query_as::<_, DeviceRow>(sqlx::AssertSqlSafe(format!(
        "{SELECT_DEVICE} WHERE method_id = $1"
    )))
    .bind(method.to_string())
    .fetch_optional(store.pool())
    .await
    .map_err(db_err)?
    .map(Device::try_from)
    .transpose()
}

pub(crate) async fn device_by_activation(
    store: &SqlStore,
    hash: &[u8],
) -> StoreResult<Option<Device>> {
    devices_where(store, "activation", hash).await
}

pub(crate) async fn device_by_credential(
    store: &SqlStore,
    hash: &[u8],
) -> StoreResult<Option<Device>> {
    devices_where(store, "credential", hash).await
}

pub(crate) async fn activate_device(
    store: &SqlStore,
    activation: &DeviceActivation,
    test: &PushRequest,
    events: &[AuditEvent],
) -> StoreResult<bool> {
    let at = secs(activation.at);
    let mut tx = store.begin_write().await?;
    let spent = sqlx::query(ACTIVATE_DEVICE)
        .bind(activation.method_id.to_string())
        .bind(at)
        .bind(activation.name.as_str())
        .bind(activation.algorithm.as_str())
        .bind(activation.public_key.as_slice())
        .bind(activation.credential_hash.as_slice())
        .bind(activation.wakeup_url.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
    let extended = if spent == 1 {
        sqlx::query(EXTEND_PENDING)
            .bind(activation.method_id.to_string())
            .bind(secs(activation.method_expires_at))
            .bind(activation.method_name.as_deref())
            .bind(MethodStatus::Pending.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected()
    } else {
        0
    };
    if extended != 1 {
        tx.rollback().await.map_err(db_err)?;
        return Ok(false);
    }
    SqlStore::insert_request_on(&mut tx, test).await?;
    for event in events {
        audit::insert(&mut *tx, event).await?;
    }
    let keys = [device_key(test.method_id), binding_key(&test.binding)];
    store.notify(&mut tx, &keys).await?;
    tx.commit().await.map_err(db_err)?;
    store.woken(&keys);
    Ok(true)
}

pub(crate) async fn set_wakeup_url(
    store: &SqlStore,
    method: MethodId,
    url: Option<&str>,
) -> StoreResult<()> {
    let sql = if url.is_some() {
        SET_WAKEUP_ONLY
    } else {
        SET_WAKEUP
    };
    sqlx::query(sql)
        .bind(method.to_string())
        .bind(url)
        .execute(store.writer())
        .await
        .map_err(db_err)?;
    Ok(())
}
