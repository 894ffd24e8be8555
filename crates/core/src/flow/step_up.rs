//! Step-up: changes to security info need a second factor verified within the policy's window
//! (10 minutes by default) when the account already has an active method. The check yields a
//! [`StepUpProof`], which every change demands as an argument: forgetting it does not compile.

use crate::audit::{AuditAction, RequestContext};
use crate::error::{Error, NotAllowed, Result};
use crate::flow::effect::Effect;
use crate::ids::{MethodId, SessionId};
use crate::method::{Method, Purpose, Response};
use crate::service::{Auth, Challenge, Tessera};
use time::Duration;

/// Evidence that one session may change security info now: it holds the session that earned
/// it, and every change checks that it is the one asking, so a proof cannot serve another.
#[derive(Debug)]
pub struct StepUpProof {
    session: SessionId,
}

impl StepUpProof {
    /// The proof, when it was earned by `auth`'s session.
    pub(crate) fn of(self, auth: &Auth) -> Result<()> {
        match self.session == auth.session.id {
            true => Ok(()),
            false => Err(Error::StepUpRequired),
        }
    }
}

impl Tessera {
    pub async fn step_up_proof(&self, auth: &Auth) -> Result<StepUpProof> {
        let methods = self.store.methods_of(auth.account.id).await?;
        if !methods.iter().any(Method::is_active) {
            return Ok(StepUpProof {
                session: auth.session.id,
            });
        }
        // At the registration interrupt the person may go on adding what the policy requires
        // (a second method for password reset) without a second factor they had no way to
        // give, as long as every method that could give one was registered by this very
        // session. A method someone else registered (the real person, in their own session)
        // is at stake: the password alone must not touch it.
        let policy = self.policy().await?;
        if auth.session.kind == crate::session::SessionKind::Registration
            && Self::usable_for_sign_in(&policy, &methods)
                .iter()
                .all(|m| m.registered_by == Some(auth.session.id))
        {
            return Ok(StepUpProof {
                session: auth.session.id,
            });
        }
        let window = Duration::seconds(policy.step_up_window_secs as i64);
        match auth.session.second_factor_at {
            Some(at) if self.now() - at < window => Ok(StepUpProof {
                session: auth.session.id,
            }),
            _ => Err(Error::StepUpRequired),
        }
    }

    /// The methods that can step up, and the one to ask first.
    pub async fn step_up_methods(&self, auth: &Auth) -> Result<(Vec<Method>, Option<MethodId>)> {
        auth.require_full()?;
        let policy = self.policy().await?;
        let methods = self.store.methods_of(auth.account.id).await?;
        let usable: Vec<Method> = Self::usable_for_sign_in(&policy, &methods)
            .into_iter()
            .cloned()
            .collect();
        let default = auth
            .account
            .default_method
            .filter(|d| usable.iter().any(|m| m.id == *d))
            .or_else(|| usable.first().map(|m| m.id));
        Ok((usable, default))
    }

    async fn step_up_method(&self, auth: &Auth, method_id: MethodId) -> Result<Method> {
        auth.require_full()?;
        let policy = self.policy().await?;
        let method = self
            .store
            .method(method_id)
            .await?
            .filter(|m| m.account_id == auth.account.id)
            .ok_or(Error::NotFound)?;
        if !method.is_active() || !policy.allows_mfa(method.kind) {
            return Err(Error::NotAllowed(NotAllowed::MethodNotUsable));
        }
        Ok(method)
    }

    pub async fn step_up_challenge(
        &self,
        auth: &Auth,
        method_id: MethodId,
        ctx: &RequestContext,
    ) -> Result<Challenge> {
        self.step_up_challenge_via(auth, method_id, None, ctx).await
    }

    /// As [`Tessera::step_up_challenge`], choosing a text or a call for a mobile phone.
    pub async fn step_up_challenge_via(
        &self,
        auth: &Auth,
        method_id: MethodId,
        via: Option<crate::message::Channel>,
        ctx: &RequestContext,
    ) -> Result<Challenge> {
        let method = self.step_up_method(auth, method_id).await?;
        self.start_challenge_via(&method, Purpose::StepUp(auth.session.id), via, ctx)
            .await
    }

    pub async fn step_up_verify(
        &self,
        auth: &Auth,
        method_id: MethodId,
        code: &str,
        ctx: &RequestContext,
    ) -> Result<()> {
        self.step_up_respond(auth, method_id, &Response::Code(code.to_string()), ctx)
            .await
    }

    pub async fn step_up_respond(
        &self,
        auth: &Auth,
        method_id: MethodId,
        response: &Response,
        ctx: &RequestContext,
    ) -> Result<()> {
        let method = self.step_up_method(auth, method_id).await?;
        let policy = self.policy().await?;
        let verified = self
            .check_response(
                &method,
                Purpose::StepUp(auth.session.id),
                response,
                ctx,
                &policy,
            )
            .await?;
        let marked = Effect::SecondFactor {
            session: auth.session.id,
            at: self.now(),
            kind: method.kind,
        };
        let audit = self
            .audit(ctx, Some(method.account_id), AuditAction::StepUpSucceeded)
            .method(method.id);
        self.accept_response(&method, verified, &[marked], vec![audit], ctx, &policy)
            .await
    }
}
