//! Self-service password reset: a username, then one or two gates (policy), each a different
//! reset-capable method of the account, then a new password.
//!
//! ```text
//!   username ──► open (gates 0/N) ──gate passed──► open (gates k/N) ──k = N, new password──► completed
//!                  └──────────────── `flow_secs` pass ──► expired (every read checks) ◄───────┘
//! ```
//!
//! The flow lives in the store, so any node continues it. Every gate goes through the one
//! dispatch point (`start_challenge` / `check_response` with [`Purpose::Reset`]), so a kind
//! that can challenge can be a gate. Completing sets the password, ends every session of the
//! account and notifies the person, in one transaction.
//!
//! Anyone can start a reset with nothing but a username, so a reset never spends what the
//! person's sign-in needs:
//!
//! - Wrong answers count on the reset's own counters, never on the method's lock-out
//!   (`lockout`, [`Counter::Reset`](crate::lockout::Counter::Reset)): the account's resets
//!   together lock after `lockout_threshold` wrong answers in a row, as one method does at
//!   sign-in, so a stranger guesses no faster than before; a flow locks after half of that, so
//!   a person who mistypes can start again once. Either lock lasts `lockout_secs` and stops
//!   resets only: the person still signs in. An attempt reserves a failure on both counters
//!   before its answer is checked, as at sign-in, so parallel guesses cannot slip past; a
//!   completed reset clears them, and a day without attempts forgets them. A method locked at
//!   sign-in still serves a reset (see `lockout` for why).
//! - Codes by text, call or email and notifications have their own budgets, the sign-in's
//!   sizes counted apart (per account and per destination an hour; notifications per account
//!   per `push_window_secs`), after a cool-down per flow and method; the sign-in's counts
//!   leave a reset's out. Only the global limit on sends a minute is shared.
//! - A TOTP step is recorded on the method whichever way it was used, so one accepted at a
//!   reset is refused at sign-in, and the other way round.
//!
//! No enumeration: an unknown username (or an account that is disabled or has too few
//! methods) gets a *decoy* flow (`reset_decoy`) that answers as a real one would: gates like a
//! real person's, the same counters, budgets and lock-out arithmetic (they are keyed by the
//! flow and the username, which a decoy has too), and checks that never pass. The gates shown
//! never carry a name the person gave a method ("Blue key"): a stranger should not read it,
//! and a decoy could not invent one.

mod limits;

use super::effect::{GatePass, ResetMove};
use super::reset_decoy;
use crate::account::{Account, AccountStatus, normalize_username};
use crate::audit::{AuditAction, RequestContext};
use crate::error::{Error, NotAllowed, Problem, Result};
use crate::ids::{AccountId, FlowId, MethodId};
use crate::lockout;
use crate::message::SecurityEvent;
use crate::method::{Challenge, Kind, Method, Purpose, Response, recovery_codes};
use crate::password::{PasswordCheck, validate_new_password};
use crate::policy::Policy;
use crate::service::Tessera;
use limits::{attempt_counters, sends};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

/// What a stranger may see of a gate: no name the person gave it.
fn shown(methods: Vec<Method>) -> Vec<Method> {
    methods
        .into_iter()
        .map(|m| Method { name: None, ..m })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetState {
    Open,
    Completed,
}

impl ResetState {
    pub fn as_str(&self) -> &'static str {
        match self {
            ResetState::Open => "open",
            ResetState::Completed => "completed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(ResetState::Open),
            "completed" => Some(ResetState::Completed),
            _ => None,
        }
    }
}

/// What happens to a reset flow (see [`next`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetEvent {
    /// A gate passed (by a typed answer, or a push approved): the flow stays open.
    GatePassed,
    /// Every gate passed and a new password chosen: this flow is done.
    PasswordChosen,
    /// Another reset of the same account completed: this one closes with it.
    AnotherCompleted,
}

/// The reset flow's transition function: where `event` takes a flow in `from`, `None` when
/// it cannot happen there. Every change the store makes to a flow's state is a
/// [`ResetMove`] built from it: a gate ([`GatePass`]) and a completion
/// ([`ResetCompletion`], which also closes the account's other open flows).
pub fn next(from: ResetState, event: ResetEvent) -> Option<ResetState> {
    match (from, event) {
        (ResetState::Open, ResetEvent::GatePassed) => Some(ResetState::Open),
        (ResetState::Open, ResetEvent::PasswordChosen | ResetEvent::AnotherCompleted) => {
            Some(ResetState::Completed)
        }
        (ResetState::Completed, _) => None,
    }
}

/// What completing a reset changes, in one transaction (`ResetStore::complete_reset`): this
/// flow's move, if it is ready (of `account`, every gate passed) and current, and the move
/// of every other flow of the account still in `others_from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetCompletion {
    pub account: AccountId,
    /// [`ResetEvent::PasswordChosen`] from open.
    pub done: ResetMove,
    /// [`ResetEvent::AnotherCompleted`], for the account's other flows.
    pub others_from: ResetState,
    pub others_to: ResetState,
    pub password_hash: String,
}

impl ResetCompletion {
    /// The open flow `flow` of `account` completes at `at` with the new `password_hash`.
    pub fn new(
        flow: FlowId,
        account: AccountId,
        password_hash: String,
        at: OffsetDateTime,
    ) -> Option<ResetCompletion> {
        let open = ResetState::Open;
        Some(ResetCompletion {
            account,
            done: ResetMove::new(flow, open, ResetEvent::PasswordChosen, at)?,
            others_from: open,
            others_to: next(open, ResetEvent::AnotherCompleted)?,
            password_hash,
        })
    }
}

/// A password reset in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetFlow {
    pub id: FlowId,
    /// `None` for a decoy: an unknown username, or an account that cannot reset.
    pub account_id: Option<AccountId>,
    /// Normalized; decoy gates derive from it.
    pub username: String,
    pub gates_required: u32,
    /// Distinct methods proven so far, in order.
    pub gates_passed: Vec<MethodId>,
    /// The security questions asked, and of which method.
    pub asked: Option<(MethodId, Vec<String>)>,
    pub state: ResetState,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl ResetFlow {
    pub fn is_open(&self, now: OffsetDateTime) -> bool {
        self.state == ResetState::Open && now < self.expires_at
    }

    pub fn is_ready(&self) -> bool {
        self.gates_passed.len() as u32 >= self.gates_required
    }
}

/// What the person sees of a reset: the flow, how many gates it needs and the methods that
/// can be one.
#[derive(Debug, Clone)]
pub struct ResetView {
    pub flow: FlowId,
    pub gates_required: u32,
    pub gates_passed: Vec<MethodId>,
    pub methods: Vec<Method>,
}

/// Where a reset stands after a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResetProgress {
    pub gates_passed: u32,
    pub gates_required: u32,
    /// After a recovery code: how many codes of the set are left.
    pub recovery_codes_left: Option<usize>,
}

impl Tessera {
    /// Starts a reset for `username`. Unknown usernames get a decoy of the same shape.
    pub async fn reset_begin(&self, username: &str, ctx: &RequestContext) -> Result<ResetView> {
        let policy = self.policy().await?;
        if !policy.reset_enabled {
            return Err(Error::NotAllowed(NotAllowed::ResetDisabled));
        }
        let username = normalize_username(username)?;
        let now = self.now();
        self.reset_limits(&policy, &username, ctx, now).await?;
        // Expired flows and counters go on the way; a day's grace keeps a late reader's
        // answer "expired" rather than "not found".
        self.store.purge_reset(now - Duration::days(1)).await?;

        let account = self.store.account_by_username(&username).await?;
        // The same reads happen for an unknown username, so the answer takes as long.
        let lookup = account
            .as_ref()
            .map_or_else(|| AccountId::new(self.rng.as_ref()), |a| a.id);
        let methods = self.store.methods_of(lookup).await?;
        let gates = account
            .as_ref()
            .filter(|a| a.status == AccountStatus::Active)
            .map(|_| gate_methods(&policy, &methods))
            .unwrap_or_default();
        let required = policy.reset_methods_required;
        let real = account
            .as_ref()
            .filter(|_| gates.len() >= required as usize);

        let flow = ResetFlow {
            id: FlowId::new(self.rng.as_ref()),
            account_id: real.map(|a| a.id),
            username: username.clone(),
            gates_required: required,
            gates_passed: Vec::new(),
            asked: None,
            state: ResetState::Open,
            created_at: now,
            expires_at: now + Duration::seconds(policy.flow_secs as i64),
        };
        let detail = match (&account, real) {
            (_, Some(_)) => serde_json::json!({}),
            (Some(a), None) if a.status != AccountStatus::Active => {
                serde_json::json!({ "refused": "account_disabled" })
            }
            (Some(_), None) => serde_json::json!({ "refused": "too_few_methods" }),
            (None, _) => self.typed_username_detail(&username, None).into(),
        };
        let audit = self
            .audit(
                ctx,
                account.as_ref().map(|a| a.id),
                AuditAction::ResetStarted,
            )
            .detail(detail);
        self.store.insert_reset_flow(&flow, &audit).await?;
        // The decoy is made every time, so a real account's answer costs the same.
        let decoy = reset_decoy::methods(self, &policy, &username).await?;
        let methods = match real {
            Some(_) => gates,
            None => decoy,
        };
        Ok(ResetView {
            flow: flow.id,
            gates_required: required,
            gates_passed: Vec::new(),
            methods: shown(methods),
        })
    }

    /// The open flow.
    pub(crate) async fn open_reset(&self, id: FlowId) -> Result<ResetFlow> {
        let flow = self.store.reset_flow(id).await?.ok_or(Error::NotFound)?;
        if !flow.is_open(self.now()) {
            return Err(Error::Expired);
        }
        Ok(flow)
    }

    /// A reset's gates and progress, as it stands.
    pub async fn reset_view(&self, id: FlowId) -> Result<ResetView> {
        let flow = self.open_reset(id).await?;
        let (_, methods) = self.reset_gates(&flow).await?;
        Ok(ResetView {
            flow: flow.id,
            gates_required: flow.gates_required,
            gates_passed: flow.gates_passed,
            methods: shown(methods),
        })
    }

    /// The account (`None` for a decoy) and the methods that can be gates of this flow.
    /// Both kinds of flow do the same reads (a decoy reads an account that is not there), so
    /// the time taken does not tell them apart.
    async fn reset_gates(&self, flow: &ResetFlow) -> Result<(Option<Account>, Vec<Method>)> {
        let policy = self.policy().await?;
        let decoy = reset_decoy::methods(self, &policy, &flow.username).await?;
        let Some(account_id) = flow.account_id else {
            let nobody = AccountId::new(self.rng.as_ref());
            self.store.account(nobody).await?;
            self.store.methods_of(nobody).await?;
            return Ok((None, decoy));
        };
        let account = self
            .store
            .account(account_id)
            .await?
            .filter(|a| a.status == AccountStatus::Active)
            .ok_or(Error::Expired)?;
        let methods = self.store.methods_of(account_id).await?;
        Ok((Some(account), gate_methods(&policy, &methods)))
    }

    /// A gate of the flow not passed yet.
    async fn reset_gate(
        &self,
        flow: &ResetFlow,
        method_id: MethodId,
    ) -> Result<(Option<Account>, Method)> {
        let (account, methods) = self.reset_gates(flow).await?;
        let method = methods
            .into_iter()
            .find(|m| m.id == method_id)
            .ok_or(Error::NotFound)?;
        if flow.gates_passed.contains(&method_id) {
            return Err(Error::bad("method_id", Problem::Duplicate));
        }
        Ok((account, method))
    }

    /// Starts a challenge on a gate: sends a code, asks questions, … (a decoy sends nothing).
    /// Nothing more is sent for a reset that is locked (asking again for the questions, or
    /// the key, costs nothing and is still answered).
    pub async fn reset_challenge(
        &self,
        id: FlowId,
        method_id: MethodId,
        ctx: &RequestContext,
    ) -> Result<Challenge> {
        self.reset_challenge_via(id, method_id, None, ctx).await
    }

    /// As [`Tessera::reset_challenge`], choosing a text or a call for a mobile phone.
    pub async fn reset_challenge_via(
        &self,
        id: FlowId,
        method_id: MethodId,
        via: Option<crate::message::Channel>,
        ctx: &RequestContext,
    ) -> Result<Challenge> {
        let flow = self.open_reset(id).await?;
        let (account, method) = self.reset_gate(&flow, method_id).await?;
        let policy = self.policy().await?;
        let now = self.now();
        if sends(&method) {
            let counters = attempt_counters(&flow, &policy);
            if let Some(until) = self.store.reset_locked_until(&counters, now).await? {
                return Err(Error::Locked {
                    retry_after: lockout::retry_after(Some(until), now, policy.lockout_secs),
                });
            }
            self.reset_send_limits(&flow, &method, &policy).await?;
        }
        if account.is_none() {
            return reset_decoy::challenge(self, &flow, &method, via, &policy).await;
        }
        self.start_challenge_via(&method, Purpose::Reset(flow.id), via, ctx)
            .await
    }

    /// Checks a response on a gate; on success the gate counts as passed.
    pub async fn reset_respond(
        &self,
        id: FlowId,
        method_id: MethodId,
        response: &Response,
        ctx: &RequestContext,
    ) -> Result<ResetProgress> {
        let flow = self.open_reset(id).await?;
        let (account, method) = self.reset_gate(&flow, method_id).await?;
        let policy = self.policy().await?;
        let check = async {
            let Some(account) = account else {
                return Err(
                    reset_decoy::respond(self, &flow, &method, response, &policy, ctx).await,
                );
            };
            self.reset_check(&flow, &account, &method, response, ctx, &policy)
                .await
        };
        self.reset_attempt(&flow, &policy, ctx, check).await
    }

    /// A real gate's check: the method's, counted as a reset's; passed, the gate counts.
    async fn reset_check(
        &self,
        flow: &ResetFlow,
        account: &Account,
        method: &Method,
        response: &Response,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<ResetProgress> {
        let purpose = Purpose::Reset(flow.id);
        let verified = self
            .check_response(method, purpose, response, ctx, policy)
            .await?;
        self.accept_code_for(method, purpose.into(), verified, ctx, policy)
            .await?;
        let audit = self
            .audit(ctx, Some(account.id), AuditAction::ResetGatePassed)
            .method(method.id)
            .detail(serde_json::json!({ "kind": method.kind.as_str() }));
        let gate = GatePass::new(flow.id, method.id, self.now()).ok_or(Error::Expired)?;
        let passed = self
            .store
            .pass_reset_gate(&gate, &audit)
            .await?
            .ok_or(Error::Expired)?;
        let recovery_codes_left = match method.kind {
            Kind::RecoveryCodes => self
                .store
                .method(method.id)
                .await?
                .map(|m| recovery_codes::remaining(&m)),
            _ => None,
        };
        Ok(ResetProgress {
            gates_passed: (passed.len() as u32).min(flow.gates_required),
            gates_required: flow.gates_required,
            recovery_codes_left,
        })
    }

    /// Sets the new password once every gate is passed; every session of the account ends
    /// and the person is told.
    pub async fn reset_password(
        &self,
        id: FlowId,
        new_password: Zeroizing<String>,
        ctx: &RequestContext,
    ) -> Result<()> {
        let flow = self.open_reset(id).await?;
        let (Some(account_id), true) = (flow.account_id, flow.is_ready()) else {
            return Err(Error::NotAllowed(NotAllowed::ResetGatesPending));
        };
        let account = self
            .store
            .account(account_id)
            .await?
            .filter(|a| a.status == AccountStatus::Active)
            .ok_or(Error::Expired)?;
        validate_new_password(&new_password, &account.username)
            .map_err(|e| rename_field(e, "new_password"))?;
        // A directory account keeps no hash here: the directory's policy judges reuse, and
        // its unusable marker stays (`flow::directory`).
        let hash = if account.is_directory() {
            account.password_hash.clone()
        } else {
            let same = self
                .passwords
                .verify(new_password.clone(), Some(account.password_hash.clone()))
                .await;
            if matches!(same, PasswordCheck::Match { .. }) {
                return Err(Error::bad("new_password", Problem::SameAsCurrent));
            }
            self.passwords.hash(new_password.clone()).await?
        };
        let audits = [
            self.audit(ctx, Some(account.id), AuditAction::PasswordReset)
                .detail(serde_json::json!({ "gates": flow.gates_passed.len() })),
            self.audit(ctx, Some(account.id), AuditAction::SessionsEnded)
                .detail(serde_json::json!({ "why": "password_reset" })),
        ];
        // Told through every channel but the last gate's: whoever took that one over cannot
        // hide the reset.
        let notes = match flow.gates_passed.last() {
            Some(gate) => match self.store.method(*gate).await? {
                Some(gate) => {
                    self.notifications(&account, &gate, SecurityEvent::PasswordReset, ctx)
                        .await?
                }
                None => Vec::new(),
            },
            None => Vec::new(),
        };
        let completion =
            ResetCompletion::new(flow.id, account.id, hash, self.now()).ok_or(Error::Expired)?;
        // The directory write is the last step, after every gate and check: a refusal (its
        // policy) or an outage changes nothing here, and the reset stays open for another try.
        if account.is_directory() {
            self.open_reset(flow.id).await?;
            self.directory_reset_password(&account, &new_password, ctx)
                .await?;
        }
        if !self
            .store
            .complete_reset(&completion, &audits, &notes)
            .await?
        {
            return Err(Error::Expired);
        }
        // Only now, with every gate passed: a stranger who types a username does not choose
        // the language of its owner's messages.
        self.remember_language(&account, ctx).await?;
        // Every gate was proven: the wrong answers before are forgiven, the password's too.
        self.forget_password_guesses(&account.username).await?;
        let policy = self.policy().await?;
        self.store
            .clear_reset_attempts(&attempt_counters(&flow, &policy))
            .await?;
        Ok(())
    }
}

/// The methods of an account that can be a reset gate under the policy.
pub fn gate_methods(policy: &Policy, methods: &[Method]) -> Vec<Method> {
    methods
        .iter()
        .filter(|m| m.is_active() && policy.allows_reset(m.kind))
        // A temporary access pass works once.
        .filter(|m| !crate::method::temporary_access_pass::is_used(m))
        .cloned()
        .collect()
}

/// The password rules name their field `password`; the reset API calls it `new_password`.
fn rename_field(e: Error, field: &'static str) -> Error {
    match e {
        Error::BadRequest { problem, .. } => Error::BadRequest { field, problem },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_open_reset_completes() {
        for event in [ResetEvent::PasswordChosen, ResetEvent::AnotherCompleted] {
            assert_eq!(next(ResetState::Open, event), Some(ResetState::Completed));
            assert_eq!(next(ResetState::Completed, event), None);
        }
    }

    #[test]
    fn a_gate_keeps_an_open_reset_open_and_a_completed_one_takes_none() {
        assert_eq!(
            next(ResetState::Open, ResetEvent::GatePassed),
            Some(ResetState::Open)
        );
        assert_eq!(next(ResetState::Completed, ResetEvent::GatePassed), None);
    }

    #[test]
    fn the_moves_core_hands_the_store_come_from_next() {
        let flow = FlowId(uuid::Uuid::from_u128(1));
        let method = MethodId(uuid::Uuid::from_u128(2));
        let account = AccountId(uuid::Uuid::from_u128(3));
        let at = OffsetDateTime::UNIX_EPOCH;
        let gate = GatePass::new(flow, method, at).unwrap();
        assert_eq!(
            (gate.flow.from, gate.flow.to, gate.method),
            (ResetState::Open, ResetState::Open, method)
        );
        let done = ResetCompletion::new(flow, account, "$h".into(), at).unwrap();
        assert_eq!(
            (done.done.from, done.done.to),
            (ResetState::Open, ResetState::Completed)
        );
        assert_eq!(
            (done.others_from, done.others_to),
            (ResetState::Open, ResetState::Completed)
        );
        assert_eq!(
            ResetMove::new(flow, ResetState::Completed, ResetEvent::GatePassed, at),
            None
        );
    }
}
