//! Core's effects ([`Effect`]) applied to the state, all or none, as the SQL store applies
//! them inside the transaction of an acceptance, a push answer or a call's approval.

use super::rows::secs;
use super::state::State;
use crate::flow::effect::{Effect, FlowMove};
use crate::store::StoreResult;

impl State {
    /// Applies `effects` in order. False, with the state as it was, as soon as one that
    /// must apply did not; an error (what a database would refuse: a session or message that
    /// exists) leaves the state as it was too.
    pub(super) fn apply_effects(&mut self, effects: &[Effect]) -> StoreResult<bool> {
        if effects.is_empty() {
            return Ok(true);
        }
        // The effects touch only these tables; the outbox's notes go in once all applied.
        let before = (
            self.accounts.clone(),
            self.methods.clone(),
            self.flows.clone(),
            self.sessions.clone(),
            self.reset_flows.clone(),
        );
        for effect in effects {
            match self.apply_effect(effect) {
                Ok(applied) if applied || !effect.must_apply() => {}
                outcome => {
                    (
                        self.accounts,
                        self.methods,
                        self.flows,
                        self.sessions,
                        self.reset_flows,
                    ) = before;
                    return outcome.map(|_| false);
                }
            }
        }
        for effect in effects {
            if let Effect::Notes(notes) = effect {
                self.put_messages(notes);
            }
        }
        Ok(true)
    }

    /// Whether the effect changed anything (notes are only checked here: they are queued
    /// once every effect applied).
    fn apply_effect(&mut self, effect: &Effect) -> StoreResult<bool> {
        Ok(match effect {
            Effect::MethodUsed { method, at } => {
                let known = self.methods.contains_key(method);
                self.method_used(*method, secs(*at));
                known
            }
            Effect::MoveFlow(change) | Effect::MoveFlowIfWaiting(change) => {
                self.move_flow(change)?
            }
            Effect::SecondFactor { session, at, kind } => match self.sessions.get_mut(session) {
                Some(session) => {
                    session.second_factor_at = Some(secs(*at));
                    session.second_factor_kind = Some(*kind);
                    true
                }
                None => false,
            },
            Effect::Activate(a) => {
                let Some(account) = self.activate(a.method, a.step, secs(a.now), a.by) else {
                    return Ok(false);
                };
                self.activated(account, a.method, a.make_default);
                true
            }
            Effect::BlockAccount(account) => {
                let known = match self.accounts.get_mut(account) {
                    Some(a) => {
                        a.status = crate::account::AccountStatus::Disabled;
                        true
                    }
                    None => false,
                };
                self.end_sessions(*account);
                known
            }
            Effect::PassResetGate(gate) => self.pass_reset_gate(gate).is_some(),
            Effect::Notes(notes) => {
                self.check_messages(notes)?;
                !notes.is_empty()
            }
        })
    }

    /// The flow's move, if it is in `from` (and current, when asked), with its sessions.
    fn move_flow(&mut self, change: &FlowMove) -> StoreResult<bool> {
        let current_at = change.current_at.map(secs);
        let moves = self.flows.get(&change.flow).is_some_and(|f| {
            f.state == change.from && current_at.is_none_or(|now| f.expires_at > now)
        });
        if !moves {
            return Ok(false);
        }
        if let Some(session) = &change.session {
            self.check_new_session(session)?;
        }
        let Some(flow) = self.flows.get_mut(&change.flow) else {
            return Ok(false);
        };
        flow.state = change.to;
        if let Some(kind) = change.approved_kind {
            flow.approved_kind = Some(kind);
        }
        if let Some(end) = change.expires_at {
            flow.expires_at = secs(end);
        }
        if let Some(session) = &change.session {
            self.put_session(session);
        }
        if let Some(revoke) = change.revoke {
            self.remove_sessions(|id, _| *id == revoke);
        }
        Ok(true)
    }
}
