//! Password reset flows, the counters behind the reset limits, and (in `reset_attempts`) the
//! reset's own wrong-answer counters.

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use super::rows::{Stored, secs};
use super::state::{RateCounter, State};
use super::{MemoryStore, drain, reset_attempts};
use crate::audit::AuditEvent;
use crate::error::StoreError;
use crate::flow::effect::GatePass;
use crate::flow::reset::{ResetCompletion, ResetFlow};
use crate::ids::{AccountId, FlowId, MethodId};
use crate::lockout::AttemptGate;
use crate::message::Message;
use crate::store::StoreResult;
use crate::store::reset::{AttemptCounter, Hits, ResetStore};

impl State {
    /// Whether the gate's flow is where core saw it and still current.
    fn gate_passes(&self, gate: &GatePass) -> bool {
        let (moved, now) = (&gate.flow, secs(gate.flow.at));
        self.reset_flows
            .get(&moved.flow)
            .is_some_and(|f| f.state == moved.from && f.expires_at > now)
    }

    /// Passes the gate (see [`GatePass`]): the gates passed afterwards, `None` (nothing
    /// changed) when the flow moved on or lapsed. Also an effect of a push answer.
    pub(super) fn pass_reset_gate(&mut self, gate: &GatePass) -> Option<Vec<MethodId>> {
        if !self.gate_passes(gate) {
            return None;
        }
        let flow = self.reset_flows.get_mut(&gate.flow.flow)?;
        flow.state = gate.flow.to;
        // The first gate, or a second that is another method.
        let gates = &mut flow.gates_passed;
        if gates.is_empty() || (gates.len() == 1 && gates[0] != gate.method) {
            gates.push(gate.method);
        }
        Some(gates.clone())
    }
}

#[async_trait]
impl ResetStore for MemoryStore {
    async fn insert_reset_flow(&self, flow: &ResetFlow, audit: &AuditEvent) -> StoreResult<()> {
        self.write(|s| {
            if s.reset_flows.contains_key(&flow.id) {
                return Err(StoreError::Conflict("unique"));
            }
            if let Some(account) = flow.account_id {
                s.require_account(account, "reset_flows.account_id")?;
            }
            s.check_audit([audit])?;
            // A new flow has passed no gate and been asked nothing.
            let stored = ResetFlow {
                gates_passed: Vec::new(),
                asked: None,
                ..flow.stored()
            };
            s.reset_flows.insert(flow.id, stored);
            s.append_audit([audit]);
            Ok(())
        })
    }

    async fn reset_flow(&self, id: FlowId) -> StoreResult<Option<ResetFlow>> {
        self.read(|s| s.reset_flows.get(&id).cloned())
    }

    async fn pass_reset_gate(
        &self,
        gate: &GatePass,
        audit: &AuditEvent,
    ) -> StoreResult<Option<Vec<MethodId>>> {
        self.write(|s| {
            if !s.gate_passes(gate) {
                return Ok(None);
            }
            s.check_audit([audit])?;
            let passed = s.pass_reset_gate(gate);
            s.append_audit([audit]);
            Ok(passed)
        })
    }

    async fn ask_reset_questions(
        &self,
        id: FlowId,
        method: MethodId,
        questions: &[String],
    ) -> StoreResult<Vec<String>> {
        self.write(|s| {
            let Some(flow) = s.reset_flows.get_mut(&id) else {
                return Ok(Vec::new());
            };
            if flow
                .asked
                .as_ref()
                .is_none_or(|(asked, _)| *asked != method)
            {
                flow.asked = Some((method, questions.to_vec()));
            }
            Ok(match &flow.asked {
                Some((asked, questions)) if *asked == method => questions.clone(),
                _ => Vec::new(),
            })
        })
    }

    async fn complete_reset(
        &self,
        done: &ResetCompletion,
        audits: &[AuditEvent],
        notes: &[Message],
    ) -> StoreResult<bool> {
        let (moved, account) = (&done.done, done.account);
        let now = secs(moved.at);
        let completed = self.write(|s| {
            let ready = s.reset_flows.get(&moved.flow).is_some_and(|f| {
                f.account_id == Some(account)
                    && f.state == moved.from
                    && f.expires_at > now
                    && f.is_ready()
            });
            if !ready {
                return Ok(false);
            }
            s.check_audit(audits)?;
            s.check_messages(notes)?;
            for flow in s.reset_flows.values_mut() {
                if flow.id == moved.flow {
                    flow.state = moved.to;
                } else if flow.account_id == Some(account) && flow.state == done.others_from {
                    flow.state = done.others_to;
                }
            }
            if let Some(a) = s.accounts.get_mut(&account) {
                a.password_hash = done.password_hash.clone();
            }
            s.end_sessions(account);
            // A password the person chose needs no change at the next sign-in.
            s.password_change_required.remove(&account);
            s.append_audit(audits);
            s.put_messages(notes);
            Ok(true)
        })?;
        self.queued(completed && !notes.is_empty());
        Ok(completed)
    }

    async fn count_hit(
        &self,
        key: &str,
        now: OffsetDateTime,
        window: Duration,
    ) -> StoreResult<Hits> {
        let (start, end) = (secs(now), secs(now + window));
        self.write(|s| {
            let counter = s
                .rate_counters
                .entry(key.to_string())
                .or_insert(RateCounter {
                    window_start: start,
                    window_end: end,
                    hits: 0,
                });
            // A window that has ended restarts at this hit.
            if counter.window_end <= start {
                *counter = RateCounter {
                    window_start: start,
                    window_end: end,
                    hits: 0,
                };
            }
            counter.hits += 1;
            Ok(Hits {
                count: counter.hits,
                window_start: counter.window_start,
            })
        })
    }

    async fn peek_hits(&self, key: &str) -> StoreResult<Option<Hits>> {
        self.read(|s| {
            s.rate_counters.get(key).map(|c| Hits {
                count: c.hits,
                window_start: c.window_start,
            })
        })
    }

    async fn purge_reset(&self, before: OffsetDateTime) -> StoreResult<u64> {
        let before = secs(before);
        self.write(|s| {
            Ok(drain(&mut s.reset_flows, |f| f.expires_at <= before)
                + drain(&mut s.rate_counters, |c| c.window_end <= before)
                + drain(&mut s.reset_attempts, |a| a.expires_at <= before))
        })
    }

    async fn begin_reset_attempt(
        &self,
        counters: &[AttemptCounter],
        now: OffsetDateTime,
        forget_at: OffsetDateTime,
    ) -> StoreResult<AttemptGate> {
        self.write(|s| Ok(reset_attempts::begin(s, counters, now, forget_at)))
    }

    async fn reset_attempt_failed(
        &self,
        counters: &[AttemptCounter],
        lock_until: OffsetDateTime,
    ) -> StoreResult<Option<OffsetDateTime>> {
        self.write(|s| Ok(reset_attempts::failed(s, counters, lock_until)))
    }

    async fn release_reset_attempt(&self, counters: &[AttemptCounter]) -> StoreResult<()> {
        self.write(|s| {
            reset_attempts::release(s, counters);
            Ok(())
        })
    }

    async fn reset_locked_until(
        &self,
        counters: &[AttemptCounter],
        now: OffsetDateTime,
    ) -> StoreResult<Option<OffsetDateTime>> {
        self.read(|s| reset_attempts::locked_until(s, counters, now))
    }

    async fn clear_reset_attempts(&self, counters: &[AttemptCounter]) -> StoreResult<()> {
        self.write(|s| {
            for counter in counters {
                s.reset_attempts.remove(&counter.key);
            }
            Ok(())
        })
    }

    async fn sample_accounts(&self, from: AccountId, limit: u32) -> StoreResult<Vec<AccountId>> {
        self.read(|s| reset_attempts::sample_accounts(s, from, limit))
    }
}
