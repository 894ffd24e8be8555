//! What a reset may spend, and what it counts: the limits on starting one, the budgets of
//! what its gates send, and the wrong-answer counters of the flow and the account (the
//! module header of `reset` says why a reset never spends what the person's sign-in needs).

use super::ResetFlow;
use crate::audit::{AuditAction, RequestContext};
use crate::error::{Error, Result};
use crate::ids::FlowId;
use crate::lockout::{self, AttemptGate};
use crate::method::{Kind, Method, MethodData};
use crate::policy::Policy;
use crate::service::Tessera;
use crate::store::reset::{AttemptCounter, Hits};
use data_encoding::HEXLOWER;
use std::future::Future;
use time::{Duration, OffsetDateTime};

/// A reset's wrong-answer counter with no attempt for this long starts again.
pub(super) const FORGET: Duration = Duration::days(1);

/// The flow's and the account's wrong-answer counters. Keyed by the flow and the normalized
/// username, which a decoy has as well as a real flow: both count alike.
pub(super) fn attempt_counters(flow: &ResetFlow, policy: &Policy) -> [AttemptCounter; 2] {
    [
        AttemptCounter {
            key: format!("flow:{}", flow.id),
            threshold: policy.lockout_threshold.div_ceil(2).max(1),
        },
        AttemptCounter {
            key: format!("user:{}", flow.username),
            threshold: policy.lockout_threshold.max(1),
        },
    ]
}

/// The rate counter of a flow's cool-down between two codes to one method.
pub(super) fn resend_key(flow: &ResetFlow, method: &Method) -> String {
    format!("reset:resend:{}:{}", flow.id, method.id)
}

/// Where a method's codes go, for the budget per destination.
pub(super) fn destination(method: &Method) -> Option<&str> {
    match &method.data {
        MethodData::Phone { number, .. } => Some(number),
        MethodData::Email { address } => Some(address),
        _ => None,
    }
}

/// Whether a gate's challenge sends something: a code, or a notification.
pub(super) fn sends(method: &Method) -> bool {
    method.kind == Kind::AuthenticatorApp || destination(method).is_some()
}

impl Tessera {
    /// Per IP address and per username, counted in the store so every node sees them.
    pub(super) async fn reset_limits(
        &self,
        policy: &Policy,
        username: &str,
        ctx: &RequestContext,
        now: OffsetDateTime,
    ) -> Result<()> {
        let window = Duration::seconds(policy.reset_window_secs as i64);
        let over = |hits: Hits, limit: u32| {
            (hits.count > u64::from(limit)).then(|| Error::RateLimited {
                retry_after: (hits.window_start + window - now).whole_seconds().max(1) as u64,
            })
        };
        if let Some(ip) = ctx.ip {
            let hits = self
                .store
                .count_hit(&format!("reset:ip:{ip}"), now, window)
                .await?;
            if let Some(e) = over(hits, policy.reset_attempts_per_ip) {
                return Err(e);
            }
        }
        let hits = self
            .store
            .count_hit(&format!("reset:user:{username}"), now, window)
            .await?;
        match over(hits, policy.reset_attempts_per_account) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The reset's own budgets for what it sends (see the module header): the cool-down of
    /// a flow's method, then codes per account and per destination an hour, or notifications
    /// per account. Counted alike for a decoy. A refused attempt counts too, as it does for
    /// the other reset limits.
    pub(super) async fn reset_send_limits(
        &self,
        flow: &ResetFlow,
        method: &Method,
        policy: &Policy,
    ) -> Result<()> {
        let now = self.now();
        let hit = |key: String, limit: u32, window: Duration| async move {
            let hits = self.store.count_hit(&key, now, window).await?;
            match hits.count > u64::from(limit) {
                true => Err(Error::RateLimited {
                    retry_after: (hits.window_start + window - now).whole_seconds().max(1) as u64,
                }),
                false => Ok(()),
            }
        };
        if method.kind == Kind::AuthenticatorApp {
            let window = Duration::seconds(policy.push_window_secs as i64);
            let key = format!("reset:push:{}", flow.username);
            return hit(key, policy.push_requests_max, window).await;
        }
        let Some(to) = destination(method) else {
            return Ok(());
        };
        let cooldown = Duration::seconds(policy.resend_cooldown_secs as i64);
        hit(resend_key(flow, method), 1, cooldown).await?;
        let hour = Duration::hours(1);
        let key = format!("reset:send:{}", flow.username);
        hit(key, policy.sends_per_account_hour, hour).await?;
        let to = HEXLOWER.encode(&self.keys.mac("reset-send-to", to.as_bytes()));
        hit(
            format!("reset:send-to:{to}"),
            policy.sends_per_destination_hour,
            hour,
        )
        .await
    }

    /// One attempt at a gate of `flow`, under the reset's counters: a failure is reserved on
    /// the flow's and the account's counters first (refused as `locked` while one is locked),
    /// then `check` runs; `invalid_code` counts as the wrong answer (and may lock), anything
    /// else gives the reservation back.
    pub(super) async fn reset_attempt<T>(
        &self,
        flow: &ResetFlow,
        policy: &Policy,
        ctx: &RequestContext,
        check: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let counters = attempt_counters(flow, policy);
        let now = self.now();
        if let AttemptGate::Locked { until } = self
            .store
            .begin_reset_attempt(&counters, now, now + FORGET)
            .await?
        {
            return Err(Error::Locked {
                retry_after: lockout::retry_after(until, now, policy.lockout_secs),
            });
        }
        match check.await {
            Err(Error::InvalidCode) => {
                let now = self.now();
                let lock_until = now + Duration::seconds(policy.lockout_secs as i64);
                let Some(until) = self
                    .store
                    .reset_attempt_failed(&counters, lock_until)
                    .await?
                else {
                    return Err(Error::InvalidCode);
                };
                if until == lock_until {
                    let audit = self
                        .audit(ctx, flow.account_id, AuditAction::ResetLocked)
                        .detail(
                            serde_json::json!({ "flow": flow.id, "until": until.unix_timestamp() }),
                        );
                    self.store.append_audit(&audit).await?;
                }
                Err(Error::Locked {
                    retry_after: lockout::retry_after(Some(until), now, policy.lockout_secs),
                })
            }
            outcome => {
                self.store.release_reset_attempt(&counters).await?;
                outcome
            }
        }
    }

    /// As [`Tessera::reset_attempt`], for an answer that reaches a reset by another way (a
    /// notification answered on the device).
    pub(crate) async fn reset_attempt_on<T>(
        &self,
        flow: FlowId,
        policy: &Policy,
        ctx: &RequestContext,
        check: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        match self.store.reset_flow(flow).await? {
            Some(flow) => self.reset_attempt(&flow, policy, ctx, check).await,
            // Gone: the answer finds no gate to pass, and says so.
            None => check.await,
        }
    }
}
