//! [`Tessera`]: the use cases, with their ports. HTTP handlers and CLI commands call these and
//! nothing else; the flows live in `flow/`, admin operations in `admin`.

use crate::account::{Account, AccountStatus};
use crate::audit::{AuditAction, AuditEvent, RequestContext, RequestLanguage};
use crate::clock::Clock;
use crate::error::{Error, NotAllowed, Result};
use crate::flow::effect::Effect;
use crate::ids::{AccountId, FlowId, SessionId};
use crate::lockout::{self, AttemptGate, Counter};
use crate::method::{KindContext, Method, Verified};
use crate::password::PasswordHasher;
use crate::policy::Policy;
use crate::random::Random;
use crate::secret::{self, KeyRing};
use crate::session::{Session, SessionKind};
use crate::store::methods::Refused;
use crate::store::{Acceptance, Accepted, Store};
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

/// How long a policy read from the store is reused before it is read again; a change made on
/// another node takes effect within this time.
const POLICY_CACHE: Duration = Duration::seconds(5);
/// `last_seen_at` is written at most this often, so reads do not each cost a write.
const TOUCH_EVERY: Duration = Duration::seconds(60);

pub struct Tessera {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) rng: Arc<dyn Random>,
    pub(crate) keys: Arc<KeyRing>,
    pub(crate) passwords: Arc<dyn PasswordHasher>,
    /// The organization's name, shown in authenticator apps.
    pub(crate) issuer: String,
    policy_cache: Mutex<Option<(OffsetDateTime, Arc<Policy>)>>,
    /// This server as security keys know it, once the public URL is known.
    pub(crate) relying_party: std::sync::OnceLock<crate::method::security_key::RelyingParty>,
    /// Told when sessions end, so back-channel logout need not wait for its next round
    /// (`Tessera::on_sessions_ended`, in `oidc::logout`).
    pub(crate) sessions_ended: std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>,
    /// The forward-auth check's rules and sessions, held for at most a second.
    pub(crate) forward_auth_cache: crate::forward_auth::cache::ForwardAuthCache,
    /// The organization's directory, once the server connects one (`flow::directory`).
    pub(crate) directory: std::sync::OnceLock<Arc<dyn crate::directory::Directory>>,
}

/// A signed-in request: the session and its account, both current.
#[derive(Debug, Clone)]
pub struct Auth {
    pub session: Session,
    pub account: Account,
    /// An admin set a temporary password: until the person chooses their own, only changing
    /// it (and registering security info) is allowed.
    pub password_change_required: bool,
    /// The account's groups as [`Tessera::groups_of`] says, read with the session.
    pub groups: Vec<String>,
}

impl Auth {
    /// An admin by the flag or by the policy's `admin_groups` (`crate::groups`).
    pub fn is_admin(&self) -> bool {
        self.groups.iter().any(|g| g == crate::groups::ADMIN_GROUP)
    }

    /// Registration sessions may only register security info.
    pub fn require_full(&self) -> Result<()> {
        if self.password_change_required {
            return Err(Error::NotAllowed(NotAllowed::PasswordChangeRequired));
        }
        match self.session.kind {
            SessionKind::Full => Ok(()),
            SessionKind::Registration => Err(Error::NotAllowed(NotAllowed::RegistrationOnly)),
        }
    }
}

/// A new session and its token, which is shown to the client once and never stored.
pub struct IssuedSession {
    pub token: Zeroizing<String>,
    pub session: Session,
}

impl std::fmt::Debug for IssuedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedSession")
            .field("session", &self.session.id)
            .finish()
    }
}

pub use crate::method::Challenge;

impl Tessera {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Random>,
        keys: Arc<KeyRing>,
        passwords: Arc<dyn PasswordHasher>,
        issuer: impl Into<String>,
    ) -> Self {
        Self {
            store,
            clock,
            rng,
            keys,
            passwords,
            issuer: issuer.into(),
            policy_cache: Mutex::new(None),
            relying_party: std::sync::OnceLock::new(),
            sessions_ended: std::sync::OnceLock::new(),
            forward_auth_cache: Default::default(),
            directory: std::sync::OnceLock::new(),
        }
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The policy in force (the default until an admin saves one). Shared, not copied: every
    /// request reads it, and a change swaps in a new one.
    pub async fn policy(&self) -> Result<Arc<Policy>> {
        let now = self.now();
        if let Some((at, policy)) = self
            .policy_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            && now - *at < POLICY_CACHE
            && now >= *at
        {
            return Ok(Arc::clone(policy));
        }
        let policy = Arc::new(self.store.policy().await?.unwrap_or_default());
        *self.policy_cache.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((now, Arc::clone(&policy)));
        Ok(policy)
    }

    pub(crate) fn forget_policy(&self) {
        *self.policy_cache.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The session behind a bearer token or cookie, if it is current and its account active.
    pub async fn authenticate(&self, token: &str) -> Result<Auth> {
        let now = self.now();
        let crate::store::SessionAuth {
            session,
            account,
            password_change_required,
        } = self
            .store
            .session_auth(&secret::token_hash(token))
            .await?
            .ok_or(Error::Unauthorized)?;
        let policy = self.policy().await?;
        if session.is_expired(now, Duration::seconds(policy.session_idle_secs as i64)) {
            self.store.delete_session(session.id, None).await?;
            return Err(Error::Unauthorized);
        }
        if account.status != AccountStatus::Active {
            return Err(Error::Unauthorized);
        }
        if now - session.last_seen_at >= TOUCH_EVERY {
            self.store.touch_session(session.id, now).await?;
        }
        let groups = self.groups_of(&account).await?;
        Ok(Auth {
            session,
            account,
            password_change_required,
            groups,
        })
    }

    pub async fn sign_out(&self, auth: &Auth, ctx: &RequestContext) -> Result<()> {
        let audit = self.audit(ctx, Some(auth.account.id), AuditAction::SignedOut);
        self.store
            .delete_session(auth.session.id, Some(&audit))
            .await?;
        self.sessions_ended();
        Ok(())
    }

    /// The person's own recent audit events, newest first.
    pub async fn activity(&self, auth: &Auth, limit: u32) -> Result<Vec<AuditEvent>> {
        auth.require_full()?;
        Ok(self.store.audit_of(auth.account.id, limit.min(500)).await?)
    }

    /// Sets the person's language (`None` follows the browser).
    pub async fn set_locale(
        &self,
        auth: &Auth,
        locale: Option<String>,
        ctx: &RequestContext,
    ) -> Result<()> {
        let mut account = auth.account.clone();
        account.locale = locale;
        let audit = self.audit(ctx, Some(account.id), AuditAction::LocaleChanged);
        self.store.update_account(&account, Some(&audit)).await?;
        Ok(())
    }

    /// Keeps the language of a request by the person with their account, for the messages
    /// sent to them later: a choice made in the browser's menu becomes their choice; the
    /// browser's preference is kept beside it, and never replaces a choice.
    pub(crate) async fn remember_language(
        &self,
        account: &Account,
        ctx: &RequestContext,
    ) -> Result<()> {
        let Some(language) = &ctx.language else {
            return Ok(());
        };
        let kept = match language {
            RequestLanguage::Chosen(_) => &account.locale,
            RequestLanguage::Browser(_) => &account.browser_locale,
        };
        if kept.as_deref() != Some(language.tag()) {
            self.store.remember_locale(account.id, language).await?;
        }
        Ok(())
    }

    pub(crate) fn audit(
        &self,
        ctx: &RequestContext,
        account: Option<AccountId>,
        action: AuditAction,
    ) -> AuditEvent {
        AuditEvent::new(self.rng.as_ref(), self.now(), ctx, account, action)
    }

    pub(crate) fn kind_context(&self) -> KindContext<'_> {
        KindContext {
            rng: self.rng.as_ref(),
            keys: &self.keys,
            now: self.now(),
            issuer: &self.issuer,
            relying_party: self.relying_party.get(),
        }
    }

    pub(crate) fn new_session(
        &self,
        account: AccountId,
        kind: SessionKind,
        flow: Option<FlowId>,
        policy: &Policy,
        second_factor_at: Option<OffsetDateTime>,
        second_factor_kind: Option<crate::method::Kind>,
    ) -> IssuedSession {
        let now = self.now();
        // A registration session lives as long as its flow (which starts anew with it), and
        // ends with it: the password alone does not keep one open for hours.
        let lifetime = match kind {
            SessionKind::Full => policy.session_max_secs,
            SessionKind::Registration => policy.flow_secs.min(policy.session_max_secs),
        };
        let token = secret::new_token(self.rng.as_ref());
        let session = Session {
            id: SessionId::new(self.rng.as_ref()),
            token_hash: secret::token_hash(&token),
            account_id: account,
            kind,
            flow_id: flow,
            created_at: now,
            expires_at: now + Duration::seconds(lifetime as i64),
            last_seen_at: now,
            second_factor_at,
            second_factor_kind,
        };
        IssuedSession { token, session }
    }

    /// The lock-out gate before an answer is checked (see `lockout`): counts the attempt as a
    /// failure in advance, or refuses while the method is locked.
    pub(crate) async fn reserve_attempt(
        &self,
        method: &Method,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<()> {
        self.reserve_attempt_for(method, Counter::Method, ctx, policy)
            .await
    }

    /// As [`Tessera::reserve_attempt`], on `counter`: a reset reserved its attempt already.
    pub(crate) async fn reserve_attempt_for(
        &self,
        method: &Method,
        counter: Counter,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<()> {
        if counter == Counter::Reset {
            return Ok(());
        }
        let now = self.now();
        match self
            .store
            .begin_attempt(method.id, now, policy.lockout_threshold)
            .await?
        {
            AttemptGate::Open => Ok(()),
            AttemptGate::Locked { until } => Err(self.locked(method, until, ctx, policy).await),
        }
    }

    async fn locked(
        &self,
        method: &Method,
        until: Option<OffsetDateTime>,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Error {
        let audit = self
            .audit(ctx, Some(method.account_id), AuditAction::MethodLocked)
            .method(method.id);
        if let Err(e) = self.store.append_audit(&audit).await {
            return e.into();
        }
        Error::Locked {
            retry_after: lockout::retry_after(until, self.now(), policy.lockout_secs),
        }
    }

    /// A failed answer for which no attempt was reserved: reserves one and records it, in one
    /// commit (`MethodStore::refuse`).
    pub(crate) async fn refuse_unreserved(
        &self,
        method: &Method,
        counter: Counter,
        ctx: &RequestContext,
        policy: &Policy,
        action: AuditAction,
    ) -> Error {
        if counter == Counter::Reset {
            return self
                .code_failed_for(method, counter, ctx, policy, action)
                .await;
        }
        let now = self.now();
        let audit = self
            .audit(ctx, Some(method.account_id), action)
            .method(method.id);
        let lock_until = now + Duration::seconds(policy.lockout_secs as i64);
        match self
            .store
            .refuse(method.id, now, policy.lockout_threshold, lock_until, &audit)
            .await
        {
            Ok(Refused::Shut { until }) => self.locked(method, until, ctx, policy).await,
            Ok(Refused::Counted {
                locked_until: Some(until),
            }) => Error::Locked {
                retry_after: lockout::retry_after(Some(until), now, policy.lockout_secs),
            },
            Ok(Refused::Counted { locked_until: None }) => Error::InvalidCode,
            Err(e) => e.into(),
        }
    }

    /// Records a failed attempt (wrong or replayed code) and says what to answer.
    pub(crate) async fn code_failed(
        &self,
        method: &Method,
        ctx: &RequestContext,
        policy: &Policy,
        action: AuditAction,
    ) -> Error {
        self.code_failed_for(method, Counter::Method, ctx, policy, action)
            .await
    }

    /// As [`Tessera::code_failed`], on `counter`. A reset's failure is audited here and
    /// answered `invalid_code`; the reset flow counts it (and may answer `locked` instead).
    pub(crate) async fn code_failed_for(
        &self,
        method: &Method,
        counter: Counter,
        ctx: &RequestContext,
        policy: &Policy,
        action: AuditAction,
    ) -> Error {
        let now = self.now();
        let audit = self
            .audit(ctx, Some(method.account_id), action)
            .method(method.id);
        if counter == Counter::Reset {
            return match self.store.append_audit(&audit).await {
                Ok(()) => Error::InvalidCode,
                Err(e) => e.into(),
            };
        }
        let lock_until = now + Duration::seconds(policy.lockout_secs as i64);
        match self
            .store
            .record_failure(method.id, policy.lockout_threshold, lock_until, &audit)
            .await
        {
            Ok(Some(until)) => Error::Locked {
                retry_after: lockout::retry_after(Some(until), now, policy.lockout_secs),
            },
            Ok(None) => Error::InvalidCode,
            Err(e) => e.into(),
        }
    }

    /// Records a matched code as used; a step already accepted is a replay and fails.
    pub(crate) async fn accept_code(
        &self,
        method: &Method,
        verified: Verified,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<()> {
        self.accept_response(method, verified, &[], Vec::new(), ctx, policy)
            .await
    }

    /// As [`Tessera::accept_code`], on `counter`: a reset's right code passes no method gate
    /// (the reset's counters were the gate), but its step is recorded all the same, so it
    /// cannot be replayed at sign-in, nor a sign-in's step at a reset.
    pub(crate) async fn accept_code_for(
        &self,
        method: &Method,
        counter: Counter,
        verified: Verified,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<()> {
        self.accept_counted(method, counter, verified, &[], Vec::new(), ctx, policy)
            .await
    }

    /// As [`Tessera::accept_code`], with what the response proves (`effects`: the sign-in
    /// flow it completes, the step-up session it marks) and their `audit` events in the same
    /// commit. When an effect that must apply does not, nothing changes: `Expired`.
    pub(crate) async fn accept_response(
        &self,
        method: &Method,
        verified: Verified,
        effects: &[Effect],
        audit: Vec<AuditEvent>,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<()> {
        self.accept_counted(
            method,
            Counter::Method,
            verified,
            effects,
            audit,
            ctx,
            policy,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn accept_counted(
        &self,
        method: &Method,
        counter: Counter,
        verified: Verified,
        effects: &[Effect],
        then: Vec<AuditEvent>,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<()> {
        let mut audit = vec![
            self.audit(ctx, Some(method.account_id), AuditAction::CodeAccepted)
                .method(method.id),
        ];
        audit.extend(then);
        let gated = !verified.reserved && counter == Counter::Method;
        let acceptance = Acceptance {
            method: method.id,
            step: verified.step,
            now: self.now(),
            gate: gated.then_some(policy.lockout_threshold),
            effects,
            audit: &audit,
        };
        match self.store.accept(&acceptance).await? {
            Accepted::Yes => Ok(()),
            Accepted::Locked { until } => Err(self.locked(method, until, ctx, policy).await),
            Accepted::Replayed => Err(self.replayed(method, counter, verified, ctx, policy).await),
            Accepted::Stale => Err(Error::Expired),
        }
    }

    /// A step accepted before, answered as a wrong code and counted as one.
    pub(crate) async fn replayed(
        &self,
        method: &Method,
        counter: Counter,
        verified: Verified,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Error {
        let action = AuditAction::CodeReplayed;
        if verified.reserved {
            self.code_failed_for(method, counter, ctx, policy, action)
                .await
        } else {
            self.refuse_unreserved(method, counter, ctx, policy, action)
                .await
        }
    }

    /// Methods that count as a second factor at sign-in under the policy.
    pub(crate) fn usable_for_sign_in<'m>(
        policy: &Policy,
        methods: &'m [Method],
    ) -> Vec<&'m Method> {
        methods
            .iter()
            .filter(|m| m.is_active() && policy.allows_mfa(m.kind))
            .filter(|m| !crate::method::temporary_access_pass::is_used(m))
            .collect()
    }
}
