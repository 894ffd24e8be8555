//! Web Push in memory: the VAPID key, subscriptions by device, and the claims that make one
//! sender per message (the database's conditional updates, as plain checks under the lock).

use async_trait::async_trait;
use time::OffsetDateTime;

use super::MemoryStore;
use super::rows::secs;
use crate::ids::MethodId;
use crate::store::StoreResult;
use crate::store::push::PushStatus;
use crate::store::web_push::{VapidKey, WebPushClaim, WebPushStore, WebPushSubscription};

#[async_trait]
impl WebPushStore for MemoryStore {
    async fn insert_vapid_key(&self, key: &VapidKey) -> StoreResult<()> {
        self.write(|s| {
            if s.vapid_key.is_none() {
                s.vapid_key = Some(key.clone());
            }
            Ok(())
        })
    }

    async fn vapid_key(&self) -> StoreResult<Option<VapidKey>> {
        self.read(|s| s.vapid_key.clone())
    }

    async fn set_web_push(
        &self,
        method: MethodId,
        subscription: Option<&WebPushSubscription>,
    ) -> StoreResult<()> {
        self.write(|s| {
            let Some(device) = s.push_devices.get_mut(&method) else {
                return Ok(());
            };
            match subscription {
                Some(sub) => {
                    // One wake-up path per device.
                    device.wakeup_url = None;
                    s.web_push.insert(method, sub.clone());
                }
                None => {
                    s.web_push.remove(&method);
                }
            }
            Ok(())
        })
    }

    async fn web_push(&self, method: MethodId) -> StoreResult<Option<WebPushSubscription>> {
        self.read(|s| s.web_push.get(&method).cloned())
    }

    async fn forget_web_push(&self, method: MethodId, endpoint: &str) -> StoreResult<bool> {
        self.write(|s| {
            let current = s
                .web_push
                .get(&method)
                .is_some_and(|w| w.endpoint == endpoint);
            if current {
                s.web_push.remove(&method);
            }
            Ok(current)
        })
    }

    async fn claim_web_push(
        &self,
        method: MethodId,
        now: OffsetDateTime,
    ) -> StoreResult<Option<WebPushClaim>> {
        let now = secs(now);
        self.write(|s| {
            let Some(subscription) = s
                .web_push
                .get(&method)
                .filter(|_| s.push_devices.contains_key(&method))
                .cloned()
            else {
                return Ok(None);
            };
            let mut requests = Vec::new();
            let mut closed = Vec::new();
            for row in s.push_requests.values_mut() {
                let r = &row.request;
                if r.method_id != method {
                    continue;
                }
                if !row.woken && r.status == PushStatus::Pending && r.expires_at > now {
                    row.woken = true;
                    requests.push((row.seq, r.clone()));
                } else if row.woken && !row.closed_sent && r.status != PushStatus::Pending {
                    row.closed_sent = true;
                    closed.push(r.id);
                }
            }
            if requests.is_empty() && closed.is_empty() {
                return Ok(None);
            }
            requests.sort_by_key(|(seq, r)| (r.created_at, *seq));
            Ok(Some(WebPushClaim {
                subscription,
                requests: requests.into_iter().map(|(_, r)| r).collect(),
                closed,
            }))
        })
    }
}
