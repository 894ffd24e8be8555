//! What the policy requires of a person's security info, and the registration interrupt that
//! enforces it at sign-in: enough for two-step sign-in *and* enough for password reset.
//!
//! ```text
//!   password ok ──(two-step: no usable method)──────────────► registration ─┐
//!   second factor ok ──(reset: fewer gates than required)───► registration ─┤
//!                                                                          ├─ needs met ──► signed in
//!                                                                          └─ skip (policy allows N) ──► signed in
//! ```

use crate::audit::{AuditAction, AuditEvent, RequestContext};
use crate::error::{Error, NotAllowed, Result};
use crate::flow::effect::FlowMove;
use crate::flow::sign_in::Event;
use crate::flow::wizard::Wizard;
use crate::flow::{FlowState, SignInFlow};
use crate::ids::MethodId;
use crate::method::{Kind, Method};
use crate::policy::Policy;
use crate::service::{Auth, IssuedSession, Tessera};
use crate::session::SessionKind;

/// What a person still has to register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Needs {
    /// No method can serve as a second factor at sign-in, and the policy requires one.
    pub sign_in: bool,
    /// How many more reset-capable methods the policy's reset gates require.
    pub reset_missing: u32,
}

impl Needs {
    pub fn met(&self) -> bool {
        !self.sign_in && self.reset_missing == 0
    }

    /// What `policy` requires of someone with `methods`. Needs that no kind `can_register`
    /// could meet are not demanded: nobody could ever get past them.
    pub fn of(policy: &Policy, methods: &[Method], can_register: &dyn Fn(Kind) -> bool) -> Needs {
        if !policy.registration_required {
            return Needs::default();
        }
        let registrable = |allowed: &dyn Fn(Kind) -> bool| {
            Kind::ALL.into_iter().any(|k| can_register(k) && allowed(k))
        };
        let sign_in = policy.two_step_required
            && Tessera::usable_for_sign_in(policy, methods).is_empty()
            && registrable(&|k| policy.allows_mfa(k));
        let reset_missing = if registrable(&|k| policy.allows_reset(k)) {
            let have = crate::flow::reset::gate_methods(policy, methods).len() as u32;
            policy.reset_methods_required.saturating_sub(have)
        } else {
            0
        };
        Needs {
            sign_in,
            reset_missing,
        }
    }
}

/// A registration interrupt as the person sees it.
#[derive(Debug, Clone)]
pub struct Registration {
    pub needs: Needs,
    pub skips_left: u32,
    /// The active methods this registration session registered itself, oldest first.
    pub added: Vec<Method>,
    /// The wizard's next step, and how far along it is.
    pub wizard: Wizard,
}

/// Whether a registration session can vouch for `method`: it registered it itself, or the
/// account had it before the session began. `complete_registration` completes with these
/// alone, and the pages count these alone, so they never call "met" what the session cannot
/// complete with.
pub(crate) fn vouched_for(auth: &Auth, method: &Method) -> bool {
    auth.session.kind != SessionKind::Registration
        || method.registered_by == Some(auth.session.id)
        || method.created_at < auth.session.created_at
}

impl Tessera {
    /// What `policy` requires of someone with `methods`, on this server.
    pub fn needs(&self, policy: &Policy, methods: &[Method]) -> Needs {
        Needs::of(policy, methods, &|k| self.can_register(k))
    }

    /// What the person still has to register, what this session added, the wizard's next
    /// step, and how many skips they have left.
    pub async fn registration(&self, auth: &Auth) -> Result<Registration> {
        let policy = self.policy_for(&auth.account).await?;
        let methods: Vec<Method> = self
            .store
            .methods_of(auth.account.id)
            .await?
            .into_iter()
            .filter(|m| vouched_for(auth, m))
            .collect();
        let used = self.store.registration_skips(auth.account.id).await?;
        let before: Vec<Method> = methods
            .iter()
            .filter(|m| m.created_at < auth.session.created_at)
            .cloned()
            .collect();
        let wizard = Wizard::plan(&policy, &before, &methods, &|k| self.can_register(k));
        Ok(Registration {
            needs: self.needs(&policy, &methods),
            skips_left: policy.registration_skips.saturating_sub(used),
            added: methods
                .into_iter()
                .filter(|m| m.registered_by == Some(auth.session.id) && m.is_active())
                .collect(),
            wizard,
        })
    }

    /// Skips the registration interrupt, when the policy allows one more skip: the flow
    /// completes with a full session (a second factor counts if one was proven).
    pub async fn skip_registration(
        &self,
        auth: &Auth,
        ctx: &RequestContext,
    ) -> Result<IssuedSession> {
        let (SessionKind::Registration, Some(flow)) = (auth.session.kind, auth.session.flow_id)
        else {
            return Err(Error::NotAllowed(NotAllowed::NoSkipsLeft));
        };
        let policy = self.policy().await?;
        let session = self.new_session(
            auth.account.id,
            SessionKind::Full,
            None,
            &policy,
            auth.session.second_factor_at,
            auth.session.second_factor_kind,
        );
        let audit = self.audit(ctx, Some(auth.account.id), AuditAction::RegistrationSkipped);
        let skip = FlowMove::new(flow, FlowState::Registration, Event::RegistrationDone)
            .ok_or(Error::Expired)?
            .with_session(session.session.clone())
            .revoking(auth.session.id);
        if policy.registration_skips == 0
            || !self
                .store
                .skip_registration(&skip, auth.account.id, policy.registration_skips, &audit)
                .await?
        {
            return Err(Error::NotAllowed(NotAllowed::NoSkipsLeft));
        }
        Ok(session)
    }

    /// After the second factor: a full session, or, when the policy still requires security
    /// info (enough reset methods), a registration session for the same flow that counts the
    /// second factor as proven, so adding methods needs no further step-up. `event` says what
    /// moves the flow, given whether the needs are met; the caller has the move applied.
    ///
    /// `proof` is the method and step a response about to be accepted records: the needs
    /// count the methods as that acceptance leaves them (a temporary access pass is spent).
    pub(crate) async fn finish_sign_in(
        &self,
        flow: &SignInFlow,
        policy: &Policy,
        audit: AuditEvent,
        ctx: &RequestContext,
        proof: Option<(MethodId, Option<i64>)>,
        event: impl FnOnce(bool) -> Event,
    ) -> Result<Finish> {
        let mut methods = self.store.methods_of(flow.account_id).await?;
        if let Some((id, step)) = proof
            && let Some(method) = methods.iter_mut().find(|m| m.id == id)
        {
            method.last_step = step.or(method.last_step);
        }
        // What proved the second factor: the method that answered here, or the one that
        // approved the flow out of band.
        let kind = proof
            .and_then(|(id, _)| methods.iter().find(|m| m.id == id).map(|m| m.kind))
            .or(flow.approved_kind);
        let needs = self.needs(policy, &methods);
        let change =
            FlowMove::new(flow.id, flow.state, event(needs.met())).ok_or(Error::Expired)?;
        if needs.met() {
            let session = self.new_session(
                flow.account_id,
                SessionKind::Full,
                None,
                policy,
                Some(self.now()),
                kind,
            );
            return Ok(Finish {
                change: change.with_session(session.session.clone()),
                audit,
                session,
            });
        }
        let session = self.new_session(
            flow.account_id,
            SessionKind::Registration,
            Some(flow.id),
            policy,
            Some(self.now()),
            kind,
        );
        let audit = self
            .audit(
                ctx,
                Some(flow.account_id),
                AuditAction::RegistrationRequired,
            )
            .detail(serde_json::json!({ "reset_methods_missing": needs.reset_missing }));
        Ok(Finish {
            change: change.with_session(session.session.clone()),
            audit,
            session,
        })
    }
}

/// How a sign-in ends after its second factor: the flow's move (with the new session), its
/// audit event, and the session to hand out once the move is applied.
pub(crate) struct Finish {
    pub(crate) change: FlowMove,
    pub(crate) audit: AuditEvent,
    pub(crate) session: IssuedSession,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ids::{AccountId, MethodId};
    use crate::method::{MethodData, MethodStatus};
    use crate::random::OsRandom;

    /// A method of `kind` for the flow tests (the wizard's too).
    pub(crate) fn method(kind: Kind, status: MethodStatus) -> Method {
        Method {
            id: MethodId::new(&OsRandom),
            account_id: AccountId::new(&OsRandom),
            kind,
            status,
            name: None,
            data: MethodData::Totp {
                digits: 6,
                step_secs: 30,
            },
            sealed_secret: None,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            last_used_at: None,
            expires_at: None,
            last_step: None,
            failures: 0,
            locked_until: None,
            registered_by: None,
            way: None,
        }
    }

    #[test]
    fn both_needs_count_and_impossible_ones_are_not_demanded() {
        let all = |_: Kind| true;
        let mut policy = Policy::default();
        let code = method(Kind::AuthenticatorCode, MethodStatus::Active);
        let pending = method(Kind::AuthenticatorCode, MethodStatus::Pending);
        let email = method(Kind::Email, MethodStatus::Active);

        let none = Needs::of(&policy, &[], &all);
        assert!(none.sign_in && none.reset_missing == 1);
        assert!(Needs::of(&policy, std::slice::from_ref(&code), &all).met());
        let only_pending = Needs::of(&policy, std::slice::from_ref(&pending), &all);
        assert!(only_pending.sign_in, "a pending method proves nothing");
        let only_email = Needs::of(&policy, std::slice::from_ref(&email), &all);
        assert_eq!((only_email.sign_in, only_email.reset_missing), (true, 0));

        policy.reset_methods_required = 2;
        let one = Needs::of(&policy, std::slice::from_ref(&code), &all);
        assert_eq!((one.sign_in, one.reset_missing), (false, 1));
        assert!(Needs::of(&policy, &[code.clone(), email.clone()], &all).met());

        policy.two_step_required = false;
        assert!(!Needs::of(&policy, &[], &all).sign_in);
        policy.reset_enabled = false;
        assert!(Needs::of(&policy, &[], &all).met());

        // Nothing this server can register would do: not demanded.
        let mut policy = Policy {
            reset_kinds: vec![Kind::TemporaryAccessPass],
            ..Policy::default()
        };
        let nothing = |k: Kind| k != Kind::TemporaryAccessPass;
        assert_eq!(Needs::of(&policy, &[], &nothing).reset_missing, 0);
        policy.registration_required = false;
        assert!(Needs::of(&policy, &[], &all).met());
    }
}
