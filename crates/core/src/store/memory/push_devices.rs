//! Devices of authenticator apps activated for notifications: the pending activation, its
//! one spend, and the credential the app authenticates with afterwards.

use super::rows::{Stored, secs};
use super::state::{RequestRow, State};
use crate::audit::AuditEvent;
use crate::error::StoreError;
use crate::method::authenticator_app::push::PushMove;
use crate::method::{Method, MethodStatus};
use crate::store::StoreResult;
use crate::store::push::{Device, DeviceActivation, PushRequest};

impl State {
    /// Refuses a request whose id is taken, or whose method or account does not exist.
    pub(super) fn check_new_request(&self, request: &PushRequest) -> StoreResult<()> {
        if self.push_requests.contains_key(&request.id) {
            return Err(StoreError::Conflict("unique"));
        }
        self.require_method(request.method_id, None, "push_requests.method_id")?;
        self.require_account(request.account_id, "push_requests.account_id")
    }

    /// Expires the older pending requests for the same thing (only the newest can be
    /// answered), then inserts it.
    pub(super) fn supersede_and_insert_request(&mut self, request: &PushRequest) {
        let at = secs(request.created_at);
        let superseded = PushMove::superseded();
        for row in self.push_requests.values_mut() {
            let r = &mut row.request;
            if r.purpose == request.purpose
                && r.binding == request.binding
                && r.status == superseded.from
            {
                r.status = superseded.to;
                r.answered_at = Some(at);
            }
        }
        let seq = self.next_seq();
        self.push_requests.insert(
            request.id,
            RequestRow {
                seq,
                request: request.stored(),
                woken: false,
                closed_sent: false,
            },
        );
    }

    /// Whether a device other than `except` holds this credential already.
    fn credential_taken(&self, hash: &[u8], except: crate::ids::MethodId) -> bool {
        self.push_devices
            .values()
            .any(|d| d.method_id != except && d.credential_hash.as_deref() == Some(hash))
    }
}

fn activation_taken(s: &State, device: &Device) -> bool {
    device.activation_hash.as_deref().is_some_and(|h| {
        s.push_devices
            .values()
            .any(|d| d.activation_hash.as_deref() == Some(h))
    })
}

pub(super) fn insert_app_method(
    s: &mut State,
    method: &Method,
    device: &Device,
    audit: &AuditEvent,
) -> StoreResult<()> {
    s.check_new_method(method)?;
    if s.push_devices.contains_key(&device.method_id) || activation_taken(s, device) {
        return Err(StoreError::Conflict("unique"));
    }
    s.require_method(device.method_id, Some(method.id), "push_devices.method_id")?;
    s.require_account(device.account_id, "push_devices.account_id")?;
    s.check_audit([audit])?;
    s.put_method(method);
    // What the SQL store inserts: the activation only.
    let stored = Device {
        activated_at: None,
        name: None,
        algorithm: None,
        public_key: None,
        credential_hash: None,
        wakeup_url: None,
        ..device.stored()
    };
    s.push_devices.insert(device.method_id, stored);
    s.append_audit([audit]);
    Ok(())
}

/// Spends the code, extends the pending method and sends the test request; false, with
/// nothing changed, when the code was spent or lapsed, or the method did.
pub(super) fn activate_device(
    s: &mut State,
    activation: &DeviceActivation,
    test: &PushRequest,
    audits: &[AuditEvent],
) -> StoreResult<bool> {
    let at = secs(activation.at);
    let id = activation.method_id;
    let unspent = s.push_devices.get(&id).is_some_and(|d| {
        d.activation_hash.is_some() && d.activated_at.is_none() && d.activation_expires_at > at
    });
    let pending = s
        .methods
        .get(&id)
        .is_some_and(|m| m.status == MethodStatus::Pending && m.expires_at.is_some_and(|e| e > at));
    // Spending the code writes the credential first: a taken one fails even if the method
    // lapsed.
    if unspent && s.credential_taken(&activation.credential_hash, id) {
        return Err(StoreError::Conflict("unique"));
    }
    if !unspent || !pending {
        return Ok(false);
    }
    s.check_new_request(test)?;
    s.check_audit(audits)?;
    if let Some(d) = s.push_devices.get_mut(&id) {
        d.activation_hash = None;
        d.sealed_activation = None;
        d.activated_at = Some(at);
        d.name = Some(activation.name.clone());
        d.algorithm = Some(activation.algorithm);
        d.public_key = Some(activation.public_key.clone());
        d.credential_hash = Some(activation.credential_hash.clone());
        d.wakeup_url = activation.wakeup_url.clone();
    }
    if let Some(m) = s.methods.get_mut(&id) {
        m.expires_at = Some(secs(activation.method_expires_at));
        if m.name.is_none() {
            m.name = activation.method_name.clone();
        }
    }
    s.supersede_and_insert_request(test);
    s.append_audit(audits);
    Ok(true)
}
