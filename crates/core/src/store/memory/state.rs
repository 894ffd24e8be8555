//! The tables, and what several operations do to them alike: the checks a database makes
//! before it writes a row, and the rows that go with a deleted method.
//!
//! Maps are ordered by id, as the SQL store's `ORDER BY id` reads (a uuid's text sorts as its
//! bytes do). `seq` numbers rows as they are inserted, where the SQL store breaks ties by
//! insertion order.

use std::collections::{BTreeMap, BTreeSet};

use time::OffsetDateTime;

use super::foreign_key;
use super::rows::Stored;
use crate::account::Account;
use crate::app_passwords::AppPassword;
use crate::audit::AuditEvent;
use crate::challenge::SentChallenge;
use crate::error::StoreError;
use crate::flow::SignInFlow;
use crate::flow::reset::ResetFlow;
use crate::ids::{
    AccountId, AppPasswordId, AuditId, ChallengeId, FlowId, MessageId, MethodId, PushRequestId,
    ServiceCredentialId, SessionId,
};
use crate::message::Message;
use crate::method::Method;
use crate::method::security_questions::CustomQuestion;
use crate::session::{Session, SessionKind};
use crate::store::StoreResult;
use crate::store::admin::HardwareToken;
use crate::store::push::{Device, PushRequest};
use crate::store::webauthn::{Ceremony, SecurityKeyCredential};
use crate::verify_api::ServiceCredential;

#[derive(Debug, Default)]
pub(super) struct State {
    seq: u64,
    pub(super) accounts: BTreeMap<AccountId, Account>,
    pub(super) methods: BTreeMap<MethodId, Method>,
    pub(super) flows: BTreeMap<FlowId, SignInFlow>,
    pub(super) sessions: BTreeMap<SessionId, Session>,
    /// Every session that ended, in order: a cursor is how many were read. Kept whole,
    /// as the memory store lives only as long as a test.
    pub(super) session_ends: Vec<SessionId>,
    /// In the order written; an event's cursor is its index plus one.
    pub(super) audit: Vec<AuditEvent>,
    audit_ids: BTreeSet<AuditId>,
    /// The policy as JSON, as the settings table keeps it.
    pub(super) policy: Option<String>,
    pub(super) challenges: BTreeMap<ChallengeId, ChallengeRow>,
    pub(super) outbox: BTreeMap<MessageId, OutboxRow>,
    pub(super) push_devices: BTreeMap<MethodId, Device>,
    pub(super) push_requests: BTreeMap<PushRequestId, RequestRow>,
    /// Web Push subscriptions, by device (the database keeps them on the device's row).
    pub(super) web_push: BTreeMap<MethodId, crate::store::web_push::WebPushSubscription>,
    pub(super) vapid_key: Option<crate::store::web_push::VapidKey>,
    /// Keyed by purpose, binding and the key asked.
    pub(super) ceremonies: BTreeMap<(String, String, Option<MethodId>), Ceremony>,
    pub(super) security_keys: BTreeMap<MethodId, SecurityKeyCredential>,
    pub(super) reset_flows: BTreeMap<FlowId, ResetFlow>,
    pub(super) rate_counters: BTreeMap<String, RateCounter>,
    pub(super) reset_attempts: BTreeMap<String, AttemptRow>,
    pub(super) custom_questions: BTreeMap<String, CustomQuestion>,
    pub(super) registration_skips: BTreeMap<AccountId, u32>,
    /// Accounts whose password an admin set, and since when.
    pub(super) password_change_required: BTreeMap<AccountId, OffsetDateTime>,
    pub(super) app_passwords: BTreeMap<AppPasswordId, AppPassword>,
    /// Keyed by serial.
    pub(super) hardware_tokens: BTreeMap<String, TokenRow>,
    pub(super) service_credentials: BTreeMap<ServiceCredentialId, ServiceCredential>,
    /// Keyed by key and window start (unix seconds).
    pub(super) verify_windows: BTreeMap<(String, i64), u64>,
    pub(super) password_guesses: BTreeMap<Vec<u8>, GuessRow>,
    pub(super) oidc: super::oidc::Tables,
    pub(super) forward_auth: super::forward_auth::Tables,
    pub(super) radius_clients: Vec<crate::radius::RadiusClient>,
    /// The sealing key id, as the settings table keeps it (`store::sealed`).
    pub(super) sealing_key: Option<u32>,
    /// Directory accounts' groups (sorted) and when a sign-in or sync last saw them.
    pub(super) account_groups: BTreeMap<AccountId, Vec<String>>,
    pub(super) directory_seen: BTreeMap<AccountId, OffsetDateTime>,
}

#[derive(Debug, Clone)]
pub(super) struct ChallengeRow {
    pub(super) seq: u64,
    pub(super) challenge: SentChallenge,
}

#[derive(Debug, Clone)]
pub(super) struct OutboxRow {
    pub(super) seq: u64,
    pub(super) message: Message,
    /// Claimed by a worker until then.
    pub(super) lease_until: Option<OffsetDateTime>,
}

#[derive(Debug, Clone)]
pub(super) struct RequestRow {
    pub(super) seq: u64,
    pub(super) request: PushRequest,
    /// A wake-up was claimed for it.
    pub(super) woken: bool,
    /// Sent by Web Push, then ended, and the message that closes it was claimed.
    pub(super) closed_sent: bool,
}

#[derive(Debug, Clone)]
pub(super) struct TokenRow {
    pub(super) method_id: MethodId,
    pub(super) token: HardwareToken,
}

/// A fixed-window counter of the reset limits.
#[derive(Debug, Clone, Copy)]
pub(super) struct RateCounter {
    pub(super) window_start: OffsetDateTime,
    pub(super) window_end: OffsetDateTime,
    pub(super) hits: u64,
}

/// One of a reset's wrong-answer counters.
#[derive(Debug, Clone, Copy)]
pub(super) struct AttemptRow {
    pub(super) failures: i64,
    pub(super) locked_until: Option<OffsetDateTime>,
    pub(super) expires_at: OffsetDateTime,
}

/// A typed username's failures, in unix seconds as the SQL store computes them.
#[derive(Debug, Clone, Copy)]
pub(super) struct GuessRow {
    pub(super) failures: i64,
    pub(super) wait_secs: i64,
    pub(super) next_at: i64,
    pub(super) last_at: i64,
}

impl State {
    pub(super) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub(super) fn require_account(&self, id: AccountId, column: &'static str) -> StoreResult<()> {
        match self.accounts.contains_key(&id) {
            true => Ok(()),
            false => Err(foreign_key(column)),
        }
    }

    /// `also` is a method the same operation inserts first.
    pub(super) fn require_method(
        &self,
        id: MethodId,
        also: Option<MethodId>,
        column: &'static str,
    ) -> StoreResult<()> {
        match self.methods.contains_key(&id) || also == Some(id) {
            true => Ok(()),
            false => Err(foreign_key(column)),
        }
    }

    // The audit log.

    /// Refuses events whose id was written before (or repeats among them).
    pub(super) fn check_audit<'a>(
        &self,
        events: impl IntoIterator<Item = &'a AuditEvent>,
    ) -> StoreResult<()> {
        let mut new = BTreeSet::new();
        for event in events {
            if self.audit_ids.contains(&event.id) || !new.insert(event.id) {
                return Err(StoreError::Conflict("audit_event"));
            }
        }
        Ok(())
    }

    /// Appends checked events.
    pub(super) fn append_audit<'a>(&mut self, events: impl IntoIterator<Item = &'a AuditEvent>) {
        for event in events {
            self.audit_ids.insert(event.id);
            self.audit.push(event.stored());
        }
    }

    // Methods.

    pub(super) fn check_new_method(&self, method: &Method) -> StoreResult<()> {
        if self.methods.contains_key(&method.id) {
            return Err(StoreError::Conflict("method"));
        }
        self.require_account(method.account_id, "methods.account_id")
    }

    pub(super) fn put_method(&mut self, method: &Method) {
        self.methods.insert(method.id, method.stored());
    }

    /// Deletes a method and the rows that belong to it (the database's `ON DELETE CASCADE`).
    /// The account's default is the caller's to move: it has no foreign key.
    pub(super) fn delete_method(&mut self, id: MethodId) -> bool {
        if self.methods.remove(&id).is_none() {
            return false;
        }
        self.challenges.retain(|_, c| c.challenge.method_id != id);
        self.push_devices.remove(&id);
        self.web_push.remove(&id);
        self.push_requests.retain(|_, r| r.request.method_id != id);
        self.security_keys.remove(&id);
        self.hardware_tokens.retain(|_, t| t.method_id != id);
        true
    }

    /// Moves the account's default from `from` to `to`, if it was `from`.
    pub(super) fn move_default(
        &mut self,
        account: AccountId,
        from: MethodId,
        to: Option<MethodId>,
    ) {
        if let Some(a) = self.accounts.get_mut(&account)
            && a.default_method == Some(from)
        {
            a.default_method = to;
        }
    }

    /// What follows a method's activation: the default when asked, and the end of every
    /// registration session of its account but the one that registered it.
    pub(super) fn activated(&mut self, account: AccountId, method: MethodId, make_default: bool) {
        if make_default && let Some(a) = self.accounts.get_mut(&account) {
            a.default_method = Some(method);
        }
        let registered_by = self.methods.get(&method).and_then(|m| m.registered_by);
        self.remove_sessions(|id, s| {
            s.account_id == account
                && s.kind == SessionKind::Registration
                && Some(*id) != registered_by
        });
    }

    // Sessions.

    pub(super) fn check_new_session(&self, session: &Session) -> StoreResult<()> {
        if self.sessions.contains_key(&session.id) {
            return Err(StoreError::Conflict("session"));
        }
        if self
            .sessions
            .values()
            .any(|s| s.token_hash == session.token_hash)
        {
            return Err(StoreError::Conflict("token_hash"));
        }
        self.require_account(session.account_id, "sessions.account_id")
    }

    pub(super) fn put_session(&mut self, session: &Session) {
        self.sessions.insert(session.id, session.stored());
    }

    /// Ends every session of the account; how many.
    pub(super) fn end_sessions(&mut self, account: AccountId) -> u64 {
        self.remove_sessions(|_, s| s.account_id == account)
    }

    /// Removes the sessions `gone` picks, noting each end as the SQL stores' trigger does;
    /// how many. Every removal of a session goes through here.
    pub(super) fn remove_sessions(&mut self, gone: impl Fn(&SessionId, &Session) -> bool) -> u64 {
        let ended: Vec<SessionId> = self
            .sessions
            .iter()
            .filter(|(id, s)| gone(id, s))
            .map(|(id, _)| *id)
            .collect();
        for id in &ended {
            self.sessions.remove(id);
        }
        self.session_ends.extend_from_slice(&ended);
        ended.len() as u64
    }

    // The outbox.

    pub(super) fn check_messages(&self, messages: &[Message]) -> StoreResult<()> {
        let mut new = BTreeSet::new();
        for m in messages {
            if self.outbox.contains_key(&m.id) || !new.insert(m.id) {
                return Err(StoreError::Conflict("unique"));
            }
        }
        Ok(())
    }

    pub(super) fn put_messages(&mut self, messages: &[Message]) {
        for m in messages {
            let seq = self.next_seq();
            self.outbox.insert(
                m.id,
                OutboxRow {
                    seq,
                    message: m.stored(),
                    lease_until: None,
                },
            );
        }
    }

    // Challenges.

    /// `also` is a method the same operation inserts first.
    pub(super) fn check_new_challenge(
        &self,
        challenge: &SentChallenge,
        also: Option<MethodId>,
    ) -> StoreResult<()> {
        if self.challenges.contains_key(&challenge.id) {
            return Err(StoreError::Conflict("unique"));
        }
        self.require_method(challenge.method_id, also, "challenges.method_id")?;
        self.require_account(challenge.account_id, "challenges.account_id")
    }
}
