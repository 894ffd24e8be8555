//! Methods (security info): registration, activation, the default, deletion, and the code
//! attempts against one (core's `lockout`), decided as the SQL store's conditional `UPDATE`s
//! decide them.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::MemoryStore;
use super::rows::secs;
use crate::audit::AuditEvent;
use crate::ids::{AccountId, MethodId, SessionId};
use crate::lockout::AttemptGate;
use crate::method::{Method, MethodStatus};
use crate::store::StoreResult;
use crate::store::methods::{Acceptance, Accepted, MethodStore};

/// A step at or below the last accepted one is a replay.
fn step_is_new(method: &Method, step: Option<i64>) -> bool {
    match (step, method.last_step) {
        (Some(step), Some(last)) => last < step,
        _ => true,
    }
}

/// The gate `begin_attempt` opens: unlocked and under the threshold, or a lock that lapsed.
fn gate_open(method: &Method, now: OffsetDateTime, threshold: u32) -> bool {
    match method.locked_until {
        None => method.failures < threshold,
        Some(until) => until <= now,
    }
}

impl super::State {
    /// Pending → active, if it is pending, current and `step` is new; the account it is of.
    /// The session that proves it (`by`) becomes the one that registered it.
    pub(super) fn activate(
        &mut self,
        id: MethodId,
        step: Option<i64>,
        now: OffsetDateTime,
        by: Option<SessionId>,
    ) -> Option<AccountId> {
        let method = self.methods.get_mut(&id)?;
        let ready = method.status == MethodStatus::Pending
            && method.expires_at.is_none_or(|e| e > now)
            && step_is_new(method, step);
        if !ready {
            return None;
        }
        method.status = MethodStatus::Active;
        method.expires_at = None;
        method.last_step = step.or(method.last_step);
        method.failures = 0;
        method.locked_until = None;
        method.registered_by = by.or(method.registered_by);
        Some(method.account_id)
    }

    /// Deletes the method of `account`, moving the default; false when there was none.
    pub(super) fn delete_method_of(
        &mut self,
        account: AccountId,
        id: MethodId,
        new_default: Option<MethodId>,
    ) -> bool {
        if self
            .methods
            .get(&id)
            .is_none_or(|m| m.account_id != account)
        {
            return false;
        }
        self.delete_method(id);
        self.move_default(account, id, new_default);
        true
    }

    /// A proof of the method: its failures clear and its use is recorded.
    pub(super) fn method_used(&mut self, id: MethodId, now: OffsetDateTime) {
        if let Some(m) = self.methods.get_mut(&id) {
            m.failures = 0;
            m.locked_until = None;
            m.last_used_at = Some(now);
        }
    }

    pub(super) fn set_default(&mut self, account: AccountId, method: Option<MethodId>) {
        if let Some(a) = self.accounts.get_mut(&account) {
            a.default_method = method;
        }
    }
}

#[async_trait]
impl MethodStore for MemoryStore {
    async fn insert_method(&self, method: &Method, audit: &AuditEvent) -> StoreResult<()> {
        self.write(|s| {
            s.check_new_method(method)?;
            s.check_audit([audit])?;
            s.put_method(method);
            s.append_audit([audit]);
            Ok(())
        })
    }

    async fn method(&self, id: MethodId) -> StoreResult<Option<Method>> {
        self.read(|s| s.methods.get(&id).cloned())
    }

    async fn methods_of(&self, account: AccountId) -> StoreResult<Vec<Method>> {
        self.read(|s| {
            let mut found: Vec<Method> = s
                .methods
                .values()
                .filter(|m| m.account_id == account)
                .cloned()
                .collect();
            found.sort_by_key(|m| (m.created_at, m.id));
            found
        })
    }

    async fn activate_method(
        &self,
        id: MethodId,
        step: Option<i64>,
        now: OffsetDateTime,
        make_default: bool,
        audit: &AuditEvent,
    ) -> StoreResult<bool> {
        let now = secs(now);
        self.write(|s| {
            s.check_audit([audit])?;
            let Some(account) = s.activate(id, step, now, None) else {
                return Ok(false);
            };
            s.activated(account, id, make_default);
            s.append_audit([audit]);
            Ok(true)
        })
    }

    async fn delete_method(
        &self,
        account: AccountId,
        id: MethodId,
        new_default: Option<MethodId>,
        audit: &AuditEvent,
    ) -> StoreResult<bool> {
        self.write(|s| {
            s.check_audit([audit])?;
            if !s.delete_method_of(account, id, new_default) {
                return Ok(false);
            }
            s.append_audit([audit]);
            Ok(true)
        })
    }

    async fn set_default_method(
        &self,
        account: AccountId,
        method: Option<MethodId>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        self.write(|s| {
            s.check_audit([audit])?;
            s.set_default(account, method);
            s.append_audit([audit]);
            Ok(())
        })
    }

    async fn delete_expired_pending(&self, now: OffsetDateTime) -> StoreResult<u64> {
        let now = secs(now);
        self.write(|s| {
            let lapsed: Vec<MethodId> = s
                .methods
                .values()
                .filter(|m| {
                    m.status == MethodStatus::Pending && m.expires_at.is_some_and(|e| e <= now)
                })
                .map(|m| m.id)
                .collect();
            for id in &lapsed {
                s.delete_method(*id);
            }
            Ok(lapsed.len() as u64)
        })
    }

    async fn begin_attempt(
        &self,
        id: MethodId,
        now: OffsetDateTime,
        threshold: u32,
    ) -> StoreResult<AttemptGate> {
        let now = secs(now);
        self.write(|s| {
            // A missing method is refused too (the caller loaded it; it was deleted meanwhile).
            let Some(m) = s.methods.get_mut(&id) else {
                return Ok(AttemptGate::Locked { until: None });
            };
            if !gate_open(m, now, threshold) {
                let until = m.locked_until.filter(|until| *until > now);
                return Ok(AttemptGate::Locked { until });
            }
            m.failures = match m.locked_until {
                None => m.failures.saturating_add(1),
                Some(_) => 1,
            };
            m.locked_until = None;
            Ok(AttemptGate::Open)
        })
    }

    async fn record_failure(
        &self,
        id: MethodId,
        threshold: u32,
        lock_until: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<Option<OffsetDateTime>> {
        let lock_until = secs(lock_until);
        self.write(|s| {
            s.check_audit([audit])?;
            // The lock is set once, by the failure that reaches the threshold.
            let locked = s.methods.get_mut(&id).and_then(|m| {
                if m.failures >= threshold && m.locked_until.is_none() {
                    m.locked_until = Some(lock_until);
                }
                (m.failures >= threshold)
                    .then_some(m.locked_until)
                    .flatten()
            });
            s.append_audit([audit]);
            Ok(locked)
        })
    }

    async fn accept(&self, acceptance: &Acceptance<'_>) -> StoreResult<Accepted> {
        let now = secs(acceptance.now);
        self.write(|s| {
            s.check_audit(acceptance.audit)?;
            let before = s.methods.get(&acceptance.method).cloned();
            let Some(m) = s.methods.get_mut(&acceptance.method) else {
                return Ok(Accepted::Replayed);
            };
            let gate_passed = acceptance
                .gate
                .is_none_or(|threshold| gate_open(m, now, threshold));
            if !step_is_new(m, acceptance.step) || !gate_passed {
                return Ok(refused(m, acceptance.gate, now));
            }
            m.failures = 0;
            m.locked_until = None;
            m.last_used_at = Some(now);
            m.last_step = acceptance.step.or(m.last_step);
            // The effects and the step commit together: a stale effect (or an error) leaves
            // the step unused.
            let applied = s.apply_effects(acceptance.effects);
            if !matches!(applied, Ok(true)) {
                if let Some(before) = before {
                    s.methods.insert(acceptance.method, before);
                }
                return applied.map(|_| Accepted::Stale);
            }
            s.append_audit(acceptance.audit);
            Ok(Accepted::Yes)
        })
    }
}

/// Why a response that matched changed nothing: the gate was shut, or the step was used.
fn refused(method: &Method, gate: Option<u32>, now: OffsetDateTime) -> Accepted {
    let Some(threshold) = gate else {
        return Accepted::Replayed;
    };
    match gate_open(method, now, threshold) {
        true => Accepted::Replayed,
        false => Accepted::Locked {
            until: method.locked_until.filter(|until| *until > now),
        },
    }
}
