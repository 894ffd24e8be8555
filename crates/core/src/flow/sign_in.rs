//! Sign-in: the password, then a second factor, or the registration interrupt when the policy
//! requires security info the account lacks.

use super::effect::{Effect, FlowMove};
use super::{FlowState, SignInFlow};
use crate::account::{AccountStatus, normalize_username};
use crate::audit::{AuditAction, RequestContext};
use crate::error::{Error, NotAllowed, Result};
use crate::ids::{FlowId, MethodId};
use crate::method::{Kind, Method, Purpose, Response};
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

/// Whose password was typed, and which kind of password it was.
#[derive(Debug)]
pub(crate) enum PasswordProof {
    Password(crate::account::Account),
    /// One of the account's app passwords (only where asked for).
    AppPassword(crate::account::Account),
}

/// What happens to a sign-in flow (see [`next`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The first step was enough: the password when nothing more is asked, or a passkey.
    NothingMoreAsked,
    /// A second factor proven in this request (a code, a key); `needs_met` when the account
    /// has the security info the policy requires.
    SecondFactorProven { needs_met: bool },
    /// A second factor proven out of band: a push approved, # pressed on a call.
    ApprovedOutOfBand,
    /// The push was denied on the device.
    Denied,
    /// The first poll of a flow approved out of band takes its session.
    HandedOver { needs_met: bool },
    /// The registration interrupt is over: the needs are met, or a skip was used.
    RegistrationDone,
}

/// The state a flow starts in once the password was right: waiting for a second factor when
/// one is asked, the registration interrupt when the policy requires security info the
/// account lacks, and otherwise waiting too, for [`Event::NothingMoreAsked`] to end it.
pub fn start(ask_second_factor: bool, needs_met: bool) -> FlowState {
    if !ask_second_factor && !needs_met {
        FlowState::Registration
    } else {
        FlowState::MfaRequired
    }
}

/// The sign-in flow's transition function: where `event` takes a flow in `from`, `None` when
/// it cannot happen there. Every change of a flow's state is built from it (as a
/// [`FlowMove`]); the store only checks that the flow is still in
/// `from`.
pub fn next(from: FlowState, event: Event) -> Option<FlowState> {
    use FlowState::*;
    let proven = |needs_met: bool| if needs_met { Completed } else { Registration };
    match (from, event) {
        (MfaRequired, Event::NothingMoreAsked) => Some(Completed),
        (MfaRequired, Event::SecondFactorProven { needs_met }) => Some(proven(needs_met)),
        (MfaRequired, Event::ApprovedOutOfBand) => Some(Approved),
        (MfaRequired, Event::Denied) => Some(Denied),
        (Approved, Event::HandedOver { needs_met }) => Some(proven(needs_met)),
        (Registration, Event::RegistrationDone) => Some(Completed),
        _ => None,
    }
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
        let account = match self
            .check_sign_in_password(username, password, ctx, false)
            .await?
        {
            PasswordProof::Password(account) | PasswordProof::AppPassword(account) => account,
        };

        // As it applies to this person: their groups may require two-step verification.
        let policy = self.policy_for(&account).await?;
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
            approved_kind: None,
        };
        let audit = self.audit(ctx, Some(account.id), AuditAction::SignInPasswordAccepted);
        self.store.append_audit(&audit).await?;

        // A second factor first when the policy requires one, or when it is the way to add
        // the reset methods the policy requires (adding to existing security info needs one).
        let needs = self.needs(&policy, &methods);
        let ask = usable
            .first()
            .filter(|_| policy.two_step_required || !needs.met());
        flow.state = start(ask.is_some(), needs.met());
        if let Some(first) = ask {
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
        if flow.state == FlowState::Registration {
            self.store.insert_flow(&flow).await?;
            let session = self.new_session(
                account.id,
                SessionKind::Registration,
                Some(flow.id),
                &policy,
                None,
                None,
            );
            self.store.insert_session(&session.session).await?;
            return Ok(SignInOutcome::RegistrationRequired {
                flow: flow.id,
                session,
            });
        }
        let session = self.new_session(account.id, SessionKind::Full, None, &policy, None, None);
        let audit = self.audit(ctx, Some(account.id), AuditAction::SignInSucceeded);
        self.store.insert_flow(&flow).await?;
        let done = FlowMove::new(flow.id, flow.state, Event::NothingMoreAsked)
            .ok_or(Error::Expired)?
            .with_session(session.session.clone());
        self.store.move_flow(&done, &audit).await?;
        Ok(SignInOutcome::SignedIn(session))
    }

    /// The sign-in's first step: the account whose password this is, or
    /// `InvalidCredentials` (counted and audited). Where `app_passwords` (RADIUS, under a
    /// policy that allows them), a wrong password may be one of the account's app passwords.
    pub(crate) async fn check_sign_in_password(
        &self,
        username: &str,
        password: Zeroizing<String>,
        ctx: &RequestContext,
        app_passwords: bool,
    ) -> Result<PasswordProof> {
        // One more guess for this username, counted before the password is checked; while an
        // earlier failure's wait runs, the password is not checked at all (`password_guesses`).
        let guess = self.begin_password_guess(username).await?;
        let account = match normalize_username(username) {
            Ok(name) => self.store.account_by_username(&name).await?,
            Err(_) => None,
        };
        // Not a local account, and a directory is configured: the directory binds the person
        // (`flow::directory`). A local account always keeps its own hash.
        if self.directory().is_some() && account.as_ref().is_none_or(|a| a.is_directory()) {
            return self
                .check_directory_password(username, password, account, &guess, ctx, app_passwords)
                .await;
        }
        // Unknown users cost one hash too, so the answer and its timing are the same.
        let check = self
            .passwords
            .verify(
                password.clone(),
                account.as_ref().map(|a| a.password_hash.clone()),
            )
            .await;
        match (account, check) {
            (Some(account), PasswordCheck::Match { needs_rehash })
                if account.status == AccountStatus::Active =>
            {
                self.password_was_right(&guess).await?;
                if needs_rehash {
                    self.rehash(&account, password).await?;
                }
                self.remember_language(&account, ctx).await?;
                Ok(PasswordProof::Password(account))
            }
            // A disabled account is answered, and counted, as a wrong password: anything else
            // would confirm the password to whoever typed it. Only the audit says why.
            (Some(account), PasswordCheck::Match { .. }) => {
                let audit = self.audit(ctx, Some(account.id), AuditAction::SignInRefusedDisabled);
                self.store.append_audit(&audit).await?;
                Err(Error::InvalidCredentials)
            }
            (Some(account), _)
                if app_passwords
                    && account.status == AccountStatus::Active
                    && self
                        .match_app_password(&account, &password)
                        .await?
                        .is_some() =>
            {
                self.password_was_right(&guess).await?;
                Ok(PasswordProof::AppPassword(account))
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
                Err(Error::InvalidCredentials)
            }
        }
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
        let audit = self
            .audit(ctx, Some(flow.account_id), AuditAction::SignInSucceeded)
            .method(method.id);
        // A registration session when the policy still requires security info. The flow moves
        // in the commit that accepts the response: if it moved on meanwhile, neither happens
        // (the step stays unused) and the answer is `Expired`.
        let proof = Some((method.id, verified.step));
        let finish = self
            .finish_sign_in(&flow, &policy, audit, ctx, proof, |needs_met| {
                Event::SecondFactorProven { needs_met }
            })
            .await?;
        self.accept_response(
            &method,
            verified,
            &[Effect::MoveFlow(finish.change)],
            vec![finish.audit],
            ctx,
            &policy,
        )
        .await?;
        Ok(finish.session)
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
        let finish = self
            .finish_sign_in(flow, &policy, audit, ctx, None, |needs_met| {
                Event::HandedOver { needs_met }
            })
            .await?;
        let moved = self.store.move_flow(&finish.change, &finish.audit).await?;
        Ok(FlowStatus::SignedIn(moved.then_some(finish.session)))
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
        let policy = self.policy_for(&auth.account).await?;
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
        // Registering the method proved it: the new session starts with a fresh second factor,
        // of the sign-in's kind if it had one, else of what this session registered (a
        // security key first, as the strongest).
        let registered = methods
            .iter()
            .filter(|m| m.registered_by == Some(auth.session.id) && m.is_active())
            .map(|m| m.kind);
        let kind = auth.session.second_factor_kind.or_else(|| {
            let kinds: Vec<Kind> = registered.collect();
            kinds
                .iter()
                .copied()
                .find(|k| *k == Kind::SecurityKey)
                .or_else(|| kinds.first().copied())
        });
        let session = self.new_session(
            auth.account.id,
            SessionKind::Full,
            None,
            &policy,
            Some(self.now()),
            kind,
        );
        let audit = self.audit(
            ctx,
            Some(auth.account.id),
            AuditAction::RegistrationCompleted,
        );
        let done = FlowMove::new(flow_id, flow.state, Event::RegistrationDone)
            .ok_or(Error::Expired)?
            .with_session(session.session.clone())
            .revoking(auth.session.id);
        let done = self.store.move_flow(&done, &audit).await?;
        Ok(done.then_some(session))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FlowState::*;

    #[test]
    fn a_flow_starts_waiting_or_in_registration() {
        assert_eq!(start(true, true), MfaRequired);
        assert_eq!(start(true, false), MfaRequired);
        assert_eq!(start(false, false), Registration);
        assert_eq!(start(false, true), MfaRequired);
    }

    #[test]
    fn each_event_moves_a_flow_only_from_where_it_may() {
        let met = |needs_met| Event::SecondFactorProven { needs_met };
        let handed = |needs_met| Event::HandedOver { needs_met };
        let moves = [
            (MfaRequired, Event::NothingMoreAsked, Some(Completed)),
            (MfaRequired, met(true), Some(Completed)),
            (MfaRequired, met(false), Some(Registration)),
            (MfaRequired, Event::ApprovedOutOfBand, Some(Approved)),
            (MfaRequired, Event::Denied, Some(Denied)),
            (MfaRequired, handed(true), None),
            (MfaRequired, Event::RegistrationDone, None),
            (Approved, handed(true), Some(Completed)),
            (Approved, handed(false), Some(Registration)),
            (Approved, met(true), None),
            (Approved, Event::Denied, None),
            (Registration, Event::RegistrationDone, Some(Completed)),
            (Registration, met(true), None),
            (Registration, Event::ApprovedOutOfBand, None),
        ];
        for (from, event, to) in moves {
            assert_eq!(next(from, event), to, "{from:?} on {event:?}");
        }
        // A flow that is over never moves again.
        let every = [
            Event::NothingMoreAsked,
            met(true),
            met(false),
            Event::ApprovedOutOfBand,
            Event::Denied,
            handed(true),
            Event::RegistrationDone,
        ];
        for over in [Completed, Denied] {
            assert!(every.iter().all(|e| next(over, *e).is_none()));
        }
    }
}
