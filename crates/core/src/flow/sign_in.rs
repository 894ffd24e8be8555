//! Sign-in: the password, then a second factor, or the registration interrupt when the policy
//! requires security info the account lacks.

use super::{FlowState, SignInFlow};
use crate::account::{AccountStatus, normalize_username};
use crate::audit::{AuditAction, RequestContext};
use crate::error::{Error, NotAllowed, Result};
use crate::ids::{FlowId, MethodId};
use crate::method::{Method, Purpose, Response};
use crate::password::PasswordCheck;
use crate::policy::Policy;
use crate::service::{Auth, Challenge, IssuedSession, Tessera};
use crate::session::SessionKind;
use time::Duration;
use zeroize::Zeroizing;

#[derive(Debug)]
pub enum SignInOutcome {
    /// No second factor is needed (the account has none and the policy does not require one).
    SignedIn(IssuedSession),
    MfaRequired {
        flow: FlowId,
        default_method: MethodId,
        methods: Vec<Method>,
    },
    /// The session may only register security info until the requirement is met.
    RegistrationRequired {
        flow: FlowId,
        session: IssuedSession,
    },
}

#[derive(Debug)]
pub enum FlowStatus {
    MfaRequired,
    RegistrationRequired,
    /// With a session when this call completed the flow (a registration just finished).
    SignedIn(Option<IssuedSession>),
    Denied,
    Expired,
}

impl Tessera {
    pub async fn sign_in(
        &self,
        username: &str,
        password: Zeroizing<String>,
        ctx: &RequestContext,
    ) -> Result<SignInOutcome> {
        // One more guess for this username, counted before the password is checked; while an
        // earlier failure's wait runs, the password is not checked at all (`password_guesses`).
        let guess = self.begin_password_guess(username).await?;
        let account = match normalize_username(username) {
            Ok(name) => self.store.account_by_username(&name).await?,
            Err(_) => None,
        };
        // Unknown users cost one hash too, so the answer and its timing are the same.
        let check = self
            .passwords
            .verify(
                password.clone(),
                account.as_ref().map(|a| a.password_hash.clone()),
            )
            .await;
        let account = match (account, check) {
            (Some(account), PasswordCheck::Match { needs_rehash })
                if account.status == AccountStatus::Active =>
            {
                self.password_was_right(&guess).await?;
                if needs_rehash {
                    self.rehash(&account, password).await?;
                }
                self.remember_language(&account, ctx).await?;
                account
            }
            // A disabled account is answered, and counted, as a wrong password: anything else
            // would confirm the password to whoever typed it. Only the audit says why.
            (Some(account), PasswordCheck::Match { .. }) => {
                let audit = self.audit(ctx, Some(account.id), AuditAction::SignInRefusedDisabled);
                self.store.append_audit(&audit).await?;
                return Err(Error::InvalidCredentials);
            }
            (account, _) => {
                // The typed username only when it names an account: it may be a password.
                let mut detail = self.typed_username_detail(username, account.as_ref());
                detail.insert("failures".into(), guess.failures.into());
                let audit = self
                    .audit(
                        ctx,
                        account.as_ref().map(|a| a.id),
                        AuditAction::SignInPasswordFailed,
                    )
                    .detail(detail.into());
                self.store.append_audit(&audit).await?;
                return Err(Error::InvalidCredentials);
            }
        };

        let policy = self.policy().await?;
        let methods = self.store.methods_of(account.id).await?;
        let methods = self.without_lapsed_passes(methods).await?;
        let usable: Vec<Method> = Self::usable_for_sign_in(&policy, &methods)
            .into_iter()
            .cloned()
            .collect();
        let now = self.now();
        let mut flow = SignInFlow {
            id: FlowId::new(self.rng.as_ref()),
            account_id: account.id,
            state: FlowState::MfaRequired,
            created_at: now,
            expires_at: now + Duration::seconds(policy.flow_secs as i64),
        };
        let audit = self.audit(ctx, Some(account.id), AuditAction::SignInPasswordAccepted);
        self.store.append_audit(&audit).await?;

        // A second factor first when the policy requires one, or when it is the way to add
        // the reset methods the policy requires (adding to existing security info needs one).
        let needs = self.needs(&policy, &methods);
        if let Some(first) = usable
            .first()
            .filter(|_| policy.two_step_required || !needs.met())
        {
            let default_method = account
                .default_method
                .filter(|d| usable.iter().any(|m| m.id == *d))
                .unwrap_or(first.id);
            self.store.insert_flow(&flow).await?;
            return Ok(SignInOutcome::MfaRequired {
                flow: flow.id,
                default_method,
                methods: usable,
            });
        }
        if !needs.met() {
            flow.state = FlowState::Registration;
            self.store.insert_flow(&flow).await?;
            let session = self.new_session(
                account.id,
                SessionKind::Registration,
                Some(flow.id),
                &policy,
                None,
            );
            self.store.insert_session(&session.session).await?;
            return Ok(SignInOutcome::RegistrationRequired {
                flow: flow.id,
                session,
            });
        }
        let session = self.new_session(account.id, SessionKind::Full, None, &policy, None);
        let audit = self.audit(ctx, Some(account.id), AuditAction::SignInSucceeded);
        flow.state = FlowState::MfaRequired;
        self.store.insert_flow(&flow).await?;
        self.store
            .complete_flow(
                flow.id,
                FlowState::MfaRequired,
                &session.session,
                None,
                &audit,
            )
            .await?;
        Ok(SignInOutcome::SignedIn(session))
    }

    async fn rehash(
        &self,
        account: &crate::account::Account,
        password: Zeroizing<String>,
    ) -> Result<()> {
        let mut updated = account.clone();
        updated.password_hash = self.passwords.hash(password).await?;
        self.store.update_account(&updated, None).await?;
        Ok(())
    }

    /// The flow, if it is current and waiting for a second factor.
    async fn open_flow(&self, id: FlowId) -> Result<SignInFlow> {
        let flow = self.store.flow(id).await?.ok_or(Error::NotFound)?;
        if flow.is_expired(self.now()) || flow.state != FlowState::MfaRequired {
            return Err(Error::Expired);
        }
        Ok(flow)
    }

    /// The methods a waiting flow may use, and the one to ask first.
    pub async fn sign_in_methods(&self, id: FlowId) -> Result<(Vec<Method>, MethodId)> {
        let flow = self.open_flow(id).await?;
        let policy = self.policy().await?;
        let account = self
            .store
            .account(flow.account_id)
            .await?
            .ok_or(Error::Expired)?;
        let methods = self.store.methods_of(flow.account_id).await?;
        let methods = self.without_lapsed_passes(methods).await?;
        let usable: Vec<Method> = Self::usable_for_sign_in(&policy, &methods)
            .into_iter()
            .cloned()
            .collect();
        let first = usable.first().map(|m| m.id).ok_or(Error::Expired)?;
        let default = account
            .default_method
            .filter(|d| usable.iter().any(|m| m.id == *d))
            .unwrap_or(first);
        Ok((usable, default))
    }

    async fn flow_method(
        &self,
        flow: &SignInFlow,
        method_id: MethodId,
        policy: &Policy,
    ) -> Result<Method> {
        let method = self
            .store
            .method(method_id)
            .await?
            .filter(|m| m.account_id == flow.account_id)
            .ok_or(Error::NotFound)?;
        if !method.is_active() || !policy.allows_mfa(method.kind) {
            return Err(Error::NotAllowed(NotAllowed::MethodNotUsable));
        }
        Ok(method)
    }

    /// Starts a challenge on a method (sends a code, places a call, …).
    pub async fn sign_in_challenge(
        &self,
        id: FlowId,
        method_id: MethodId,
        ctx: &RequestContext,
    ) -> Result<Challenge> {
        self.sign_in_challenge_via(id, method_id, None, ctx).await
    }

    /// As [`Tessera::sign_in_challenge`], choosing a text or a call for a mobile phone.
    pub async fn sign_in_challenge_via(
        &self,
        id: FlowId,
        method_id: MethodId,
        via: Option<crate::message::Channel>,
        ctx: &RequestContext,
    ) -> Result<Challenge> {
        let flow = self.open_flow(id).await?;
        let policy = self.policy().await?;
        let method = self.flow_method(&flow, method_id, &policy).await?;
        self.start_challenge_via(&method, Purpose::SignIn(flow.id), via, ctx)
            .await
    }

    /// Verifies a code and completes the sign-in with a new session.
    pub async fn sign_in_verify(
        &self,
        id: FlowId,
        method_id: MethodId,
        code: &str,
        ctx: &RequestContext,
    ) -> Result<IssuedSession> {
        self.sign_in_respond(id, method_id, &Response::Code(code.to_string()), ctx)
            .await
    }

    /// Verifies the second factor and completes the sign-in with a new session.
    pub async fn sign_in_respond(
        &self,
        id: FlowId,
        method_id: MethodId,
        response: &Response,
        ctx: &RequestContext,
    ) -> Result<IssuedSession> {
        let flow = self.open_flow(id).await?;
        let policy = self.policy().await?;
        let method = self.flow_method(&flow, method_id, &policy).await?;
        let verified = self
            .check_response(&method, Purpose::SignIn(flow.id), response, ctx, &policy)
            .await?;
        self.accept_code(&method, verified, ctx, &policy).await?;
        let audit = self
            .audit(ctx, Some(flow.account_id), AuditAction::SignInSucceeded)
            .method(method.id);
        // A registration session when the policy still requires security info.
        self.finish_sign_in(&flow, FlowState::MfaRequired, &policy, &audit, ctx)
            .await?
            .ok_or(Error::Expired)
    }

    /// Where a flow stands. A registration flow completes here, for its own session, once the
    /// account has the security info the policy requires.
    pub async fn sign_in_status(
        &self,
        id: FlowId,
        auth: Option<&Auth>,
        ctx: &RequestContext,
    ) -> Result<FlowStatus> {
        let Some(flow) = self.store.flow(id).await? else {
            return Err(Error::NotFound);
        };
        match flow.state {
            FlowState::Completed => return Ok(FlowStatus::SignedIn(None)),
            FlowState::Denied => return Ok(FlowStatus::Denied),
            _ if flow.is_expired(self.now()) => return Ok(FlowStatus::Expired),
            FlowState::MfaRequired => return Ok(FlowStatus::MfaRequired),
            FlowState::Approved => return self.hand_over_approved(&flow, ctx).await,
            FlowState::Registration => {}
        }
        let Some(auth) = auth.filter(|a| a.session.flow_id == Some(flow.id)) else {
            return Ok(FlowStatus::RegistrationRequired);
        };
        Ok(match self.complete_registration(auth, ctx).await? {
            Some(session) => FlowStatus::SignedIn(Some(session)),
            None => FlowStatus::RegistrationRequired,
        })
    }

    /// A flow approved out of band completes for the first poller, with a new session.
    async fn hand_over_approved(
        &self,
        flow: &SignInFlow,
        ctx: &RequestContext,
    ) -> Result<FlowStatus> {
        let policy = self.policy().await?;
        let audit = self.audit(ctx, Some(flow.account_id), AuditAction::SignInSucceeded);
        // The session is a registration one when the policy still requires security info.
        Ok(FlowStatus::SignedIn(
            self.finish_sign_in(flow, FlowState::Approved, &policy, &audit, ctx)
                .await?,
        ))
    }

    /// Exchanges a registration session for a full one once the account has what the policy
    /// requires. `None` while it has not; `Expired` once its flow is over.
    ///
    /// Only what the session could vouch for counts: the methods it registered itself, and
    /// those the account already had when it began. A method the real person registered in
    /// another session must never complete the session of someone who knew only the password.
    pub async fn complete_registration(
        &self,
        auth: &Auth,
        ctx: &RequestContext,
    ) -> Result<Option<IssuedSession>> {
        let (SessionKind::Registration, Some(flow_id)) = (auth.session.kind, auth.session.flow_id)
        else {
            return Ok(None);
        };
        let flow = self.store.flow(flow_id).await?.ok_or(Error::Expired)?;
        if flow.state != FlowState::Registration || flow.is_expired(self.now()) {
            return Err(Error::Expired);
        }
        let policy = self.policy().await?;
        let methods: Vec<Method> = self
            .store
            .methods_of(auth.account.id)
            .await?
            .into_iter()
            .filter(|m| super::needs::vouched_for(auth, m))
            .collect();
        if !self.needs(&policy, &methods).met() {
            return Ok(None);
        }
        // Registering the method proved it: the new session starts with a fresh second factor.
        let session = self.new_session(
            auth.account.id,
            SessionKind::Full,
            None,
            &policy,
            Some(self.now()),
        );
        let audit = self.audit(
            ctx,
            Some(auth.account.id),
            AuditAction::RegistrationCompleted,
        );
        let done = self
            .store
            .complete_flow(
                flow_id,
                FlowState::Registration,
                &session.session,
                Some(auth.session.id),
                &audit,
            )
            .await?;
        Ok(done.then_some(session))
    }
}
