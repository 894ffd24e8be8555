//! Web Push (migration 0016): the VAPID key, made once for the deployment, and each
//! device's subscription on its `push_devices` row.
//!
//! Claims are one conditional update whose `RETURNING` rows decide: a pending request moves
//! from `woken = 0` to 1 for the one node that sends it, and once it has ended (answered,
//! replaced) from 1 to 2 for the one node that sends the message closing it.

use async_trait::async_trait;
use tessera_core::store::StoreResult;
use tessera_core::store::push::{PushRequest, PushStatus};
use tessera_core::store::web_push::{VapidKey, WebPushClaim, WebPushStore, WebPushSubscription};
use tessera_core::{MethodId, StoreError};
use time::OffsetDateTime;

use crate::push::{RequestRow, SELECT_REQUEST};
use crate::rows::{secs, time};
use crate::{SqlStore, db_err};

const INSERT_VAPID: &str = "INSERT INTO server_keys (name, sealed_private, public_key, created_at) \
     VALUES ('vapid', $1, $2, $3) ON CONFLICT (name) DO NOTHING";

const SELECT_VAPID: &str =
    "SELECT sealed_private, public_key, created_at FROM server_keys WHERE name = 'vapid'";

/// One wake-up path per device: a subscription replaces the wake-up URL.
const SET: &str = "UPDATE push_devices SET webpush_endpoint = $2, webpush_p256dh = $3, \
     webpush_auth = $4, wakeup_url = NULL WHERE method_id = $1";

const CLEAR: &str = "UPDATE push_devices SET webpush_endpoint = NULL, webpush_p256dh = NULL, \
     webpush_auth = NULL WHERE method_id = $1";

const FORGET: &str = "UPDATE push_devices SET webpush_endpoint = NULL, webpush_p256dh = NULL, \
     webpush_auth = NULL WHERE method_id = $1 AND webpush_endpoint = $2";

const SELECT: &str = "SELECT webpush_endpoint, webpush_p256dh, webpush_auth FROM push_devices \
     WHERE method_id = $1 AND webpush_endpoint IS NOT NULL";

const SUBSCRIBED: &str = "EXISTS (SELECT 1 FROM push_devices d \
     WHERE d.method_id = push_requests.method_id AND d.webpush_endpoint IS NOT NULL)";

#[derive(sqlx::FromRow)]
struct VapidRow {
    sealed_private: Vec<u8>,
    public_key: Vec<u8>,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct SubscriptionRow {
    webpush_endpoint: Option<String>,
    webpush_p256dh: Option<Vec<u8>>,
    webpush_auth: Option<Vec<u8>>,
}

impl TryFrom<SubscriptionRow> for WebPushSubscription {
    type Error = StoreError;

    fn try_from(row: SubscriptionRow) -> StoreResult<Self> {
        match (row.webpush_endpoint, row.webpush_p256dh, row.webpush_auth) {
            (Some(endpoint), Some(p256dh), Some(auth)) => Ok(WebPushSubscription {
                endpoint,
                p256dh,
                auth,
            }),
            _ => Err(StoreError::Corrupt("push_devices.webpush_endpoint")),
        }
    }
}

/// One statement claims both: a pending request not yet sent (0 → 1, to send it) and a sent
/// one that has ended (1 → 2, to close it); the returned `woken` says which.
fn claim() -> String {
    // The columns of SELECT_REQUEST, returned by the claim itself.
    let columns = SELECT_REQUEST
        .trim_start_matches("SELECT ")
        .trim_end_matches(" FROM push_requests");
    format!(
        "UPDATE push_requests SET woken = CASE WHEN status = $3 THEN 1 ELSE 2 END \
         WHERE method_id = $1 \
         AND ((woken = 0 AND status = $3 AND expires_at > $2) OR (woken = 1 AND status <> $3)) \
         AND {SUBSCRIBED} RETURNING {columns}, woken"
    )
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    #[sqlx(flatten)]
    request: RequestRow,
    woken: i64,
}

#[async_trait]
impl WebPushStore for SqlStore {
    async fn insert_vapid_key(&self, key: &VapidKey) -> StoreResult<()> {
        sqlx::query(INSERT_VAPID)
            .bind(key.sealed_private.as_slice())
            .bind(key.public_key.as_slice())
            .bind(secs(key.created_at))
            .execute(self.writer())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn vapid_key(&self) -> StoreResult<Option<VapidKey>> {
        let row: Option<VapidRow> = sqlx::query_as(SELECT_VAPID)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.map(|r| {
            Ok(VapidKey {
                sealed_private: r.sealed_private,
                public_key: r.public_key,
                created_at: time(r.created_at, "server_keys.created_at")?,
            })
        })
        .transpose()
    }

    async fn set_web_push(
        &self,
        method: MethodId,
        subscription: Option<&WebPushSubscription>,
    ) -> StoreResult<()> {
        let query = match subscription {
            Some(sub) => sqlx::query(SET)
                .bind(method.to_string())
                .bind(sub.endpoint.as_str())
                .bind(sub.p256dh.as_slice())
                .bind(sub.auth.as_slice()),
            None => sqlx::query(CLEAR).bind(method.to_string()),
        };
        query.execute(self.writer()).await.map_err(db_err)?;
        Ok(())
    }

    async fn web_push(&self, method: MethodId) -> StoreResult<Option<WebPushSubscription>> {
        let row: Option<SubscriptionRow> = sqlx::query_as(SELECT)
            .bind(method.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.map(WebPushSubscription::try_from).transpose()
    }

    async fn forget_web_push(&self, method: MethodId, endpoint: &str) -> StoreResult<bool> {
        let done = sqlx::query(FORGET)
            .bind(method.to_string())
            .bind(endpoint)
            .execute(self.writer())
            .await
            .map_err(db_err)?
            .rows_affected();
        Ok(done > 0)
    }

    async fn claim_web_push(
        &self,
        method: MethodId,
        now: OffsetDateTime,
    ) -> StoreResult<Option<WebPushClaim>> {
        // Every node hears every device's wake-ups; most devices have no subscription, and a
        // read on the pool spares the writer the update.
        let Some(subscription) = self.web_push(method).await? else {
            return Ok(None);
        };
        let claimed: Vec<ClaimedRow> = sqlx::query_as(sqlx::AssertSqlSafe(claim()))
            .bind(method.to_string())
            .bind(secs(now))
            .bind(PushStatus::Pending.as_str())
            .fetch_all(self.writer())
            .await
            .map_err(db_err)?;
        if claimed.is_empty() {
            return Ok(None);
        }
        let (mut requests, mut closed) = (Vec::new(), Vec::new());
        for row in claimed {
            let request = PushRequest::try_from(row.request)?;
            if row.woken == 1 {
                requests.push(request);
            } else {
                closed.push(request.id);
            }
        }
        requests.sort_by_key(|a| (a.created_at, a.id));
        Ok(Some(WebPushClaim {
            subscription,
            requests,
            closed,
        }))
    }
}
