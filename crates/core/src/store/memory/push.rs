//! Push requests to authenticator apps, answered at most once with their effects, and the
//! wake-ups of whoever waits for a device or a binding (devices are in `push_devices`).

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use super::rows::secs;
use super::state::State;
use super::{MemoryStore, push_devices};
use crate::audit::AuditEvent;
use crate::flow::effect::Effect;
use crate::ids::{MethodId, PushRequestId};
use crate::method::Method;
use crate::store::StoreResult;
use crate::store::push::{
    Device, DeviceActivation, PushAnswer, PushRefused, PushRequest, PushStatus, PushStore,
    PushSubscription, binding_key, device_key,
};

impl State {
    /// The account's requests since `since`, a password reset's left out: those have a
    /// budget of their own (core's `flow::reset`).
    fn recent_requests(&self, request: &PushRequest, since: OffsetDateTime) -> Vec<OffsetDateTime> {
        self.push_requests
            .values()
            .map(|r| &r.request)
            .filter(|r| r.account_id == request.account_id && r.created_at > since)
            .filter(|r| r.purpose != "reset")
            .map(|r| r.created_at)
            .collect()
    }
}

#[async_trait]
impl PushStore for MemoryStore {
    async fn insert_app_method(
        &self,
        method: &Method,
        device: &Device,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        self.write(|s| push_devices::insert_app_method(s, method, device, audit))
    }

    async fn device(&self, method: MethodId) -> StoreResult<Option<Device>> {
        self.read(|s| s.push_devices.get(&method).cloned())
    }

    async fn device_by_activation(&self, hash: &[u8]) -> StoreResult<Option<Device>> {
        self.read(|s| {
            s.push_devices
                .values()
                .find(|d| d.activation_hash.as_deref() == Some(hash))
                .cloned()
        })
    }

    async fn device_by_credential(&self, hash: &[u8]) -> StoreResult<Option<Device>> {
        self.read(|s| {
            s.push_devices
                .values()
                .find(|d| d.credential_hash.as_deref() == Some(hash))
                .cloned()
        })
    }

    async fn activate_device(
        &self,
        activation: &DeviceActivation,
        test: &PushRequest,
        audit: &[AuditEvent],
    ) -> StoreResult<bool> {
        let activated =
            self.write(|s| push_devices::activate_device(s, activation, test, audit))?;
        if activated {
            self.push
                .wake(&[device_key(test.method_id), binding_key(&test.binding)]);
        }
        Ok(activated)
    }

    async fn set_wakeup_url(&self, method: MethodId, url: Option<&str>) -> StoreResult<()> {
        self.write(|s| {
            if let Some(d) = s.push_devices.get_mut(&method) {
                d.wakeup_url = url.map(str::to_string);
            }
            // One wake-up path per device: a wake-up URL replaces a Web Push subscription.
            if url.is_some() {
                s.web_push.remove(&method);
            }
            Ok(())
        })
    }

    async fn insert_push_request(
        &self,
        request: &PushRequest,
        max: u32,
        since: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<Result<(), PushRefused>> {
        let inserted = self.write(|s| {
            let recent = s.recent_requests(request, secs(since));
            if recent.len() as u64 >= u64::from(max) {
                let window = request.created_at - since;
                let until = match recent.iter().min() {
                    Some(oldest) => *oldest + window,
                    None => request.created_at + window,
                };
                return Ok(Err(PushRefused::TooMany { until }));
            }
            s.check_new_request(request)?;
            s.check_audit([audit])?;
            // Old answered and expired requests go when the account sends a new one.
            let forget_before = secs(request.created_at - Duration::days(2));
            s.push_requests.retain(|_, r| {
                r.request.account_id != request.account_id || r.request.expires_at >= forget_before
            });
            s.supersede_and_insert_request(request);
            s.append_audit([audit]);
            Ok(Ok(()))
        })?;
        if inserted.is_ok() {
            self.push.wake(&[device_key(request.method_id)]);
        }
        Ok(inserted)
    }

    async fn push_request(&self, id: PushRequestId) -> StoreResult<Option<PushRequest>> {
        self.read(|s| s.push_requests.get(&id).map(|r| r.request.clone()))
    }

    async fn pending_push_requests(
        &self,
        method: MethodId,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<PushRequest>> {
        let now = secs(now);
        self.read(|s| {
            let mut pending: Vec<PushRequest> = s
                .push_requests
                .values()
                .map(|r| &r.request)
                .filter(|r| {
                    r.method_id == method && r.status == PushStatus::Pending && r.expires_at > now
                })
                .cloned()
                .collect();
            pending.sort_by_key(|r| (r.created_at, r.id));
            pending
        })
    }

    async fn latest_push_request(
        &self,
        purpose: &str,
        binding: &str,
    ) -> StoreResult<Option<PushRequest>> {
        self.read(|s| {
            // Of requests made in the same second, the one still pending is the newest (a new
            // one expires the ones before it).
            s.push_requests
                .values()
                .filter(|r| r.request.purpose == purpose && r.request.binding == binding)
                .max_by_key(|r| {
                    let q = &r.request;
                    (
                        q.created_at,
                        q.status == PushStatus::Pending,
                        q.answered_at,
                        r.seq,
                    )
                })
                .map(|r| r.request.clone())
        })
    }

    async fn answer_push_request(
        &self,
        answer: &PushAnswer,
        audit: &[AuditEvent],
    ) -> StoreResult<bool> {
        let now = secs(answer.at);
        let answered = self.write(|s| {
            let Some(request) = s
                .push_requests
                .get(&answer.request)
                .map(|r| r.request.clone())
                .filter(|r| r.status == PushStatus::Pending && r.expires_at > now)
            else {
                return Ok(None);
            };
            s.check_audit(audit)?;
            if !s.apply_effects(&answer.effects)? {
                return Ok(None);
            }
            if let Some(row) = s.push_requests.get_mut(&answer.request) {
                row.request.status = answer.status;
                row.request.answered_at = Some(now);
            }
            s.append_audit(audit);
            Ok(Some(request))
        })?;
        let Some(request) = answered else {
            return Ok(false);
        };
        self.push
            .wake(&[binding_key(&request.binding), device_key(request.method_id)]);
        self.queued(Effect::any_notes(&answer.effects));
        Ok(true)
    }

    async fn claim_wakeup(
        &self,
        method: MethodId,
        now: OffsetDateTime,
    ) -> StoreResult<Option<String>> {
        let now = secs(now);
        self.write(|s| {
            // Only for a device that asked for wake-ups.
            let Some(url) = s
                .push_devices
                .get(&method)
                .and_then(|d| d.wakeup_url.clone())
            else {
                return Ok(None);
            };
            let mut claimed = false;
            for row in s.push_requests.values_mut() {
                let r = &row.request;
                if r.method_id == method
                    && r.status == PushStatus::Pending
                    && !row.woken
                    && r.expires_at > now
                {
                    row.woken = true;
                    claimed = true;
                }
            }
            Ok(claimed.then_some(url))
        })
    }

    fn push_subscribe(&self) -> Box<dyn PushSubscription> {
        self.push.subscribe()
    }
}
