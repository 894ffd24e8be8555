//! Security info: registering, verifying, deleting methods and choosing the default.

use super::step_up::StepUpProof;
use crate::audit::{AuditAction, RequestContext};
use crate::error::{Error, NotAllowed, Problem, Result};
use crate::ids::MethodId;
use crate::message::SecurityEvent;
use crate::method::way::Way;
use crate::method::{self, Enrollment, Method, MethodStatus, Purpose, RegisterRequest, Response};
use crate::service::{Auth, Tessera};
use crate::store::delivery::Activation;
use time::Duration;

#[derive(Debug, Clone)]
pub struct SecurityInfo {
    pub default_method: Option<MethodId>,
    /// Oldest first; lapsed pending registrations are left out.
    pub methods: Vec<Method>,
}

impl Tessera {
    pub async fn security_info(&self, auth: &Auth) -> Result<SecurityInfo> {
        let now = self.now();
        let methods: Vec<Method> = self
            .store
            .methods_of(auth.account.id)
            .await?
            .into_iter()
            // A pending method without an end (an imported hardware token) waits for its code.
            .filter(|m| m.is_active() || m.expires_at.is_none_or(|e| e > now))
            .filter(|m| !method::temporary_access_pass::has_lapsed(m, now))
            .collect();
        let default_method = auth
            .account
            .default_method
            .filter(|d| methods.iter().any(|m| m.id == *d && m.is_active()));
        Ok(SecurityInfo {
            default_method,
            methods,
        })
    }

    /// Whether a person may add a method of `kind`, and why not: the policy allows the kind
    /// (for sign-in or for reset, as `register_begin` asks) and this server can register it.
    /// Pages ask this rather than read the policy, so what they offer is what core accepts.
    pub async fn may_add(&self, kind: method::Kind) -> Result<()> {
        if !self.policy().await?.allows_kind(kind) {
            return Err(Error::NotAllowed(NotAllowed::KindNotAllowed));
        }
        if !self.can_register(kind) {
            return Err(Error::NotAllowed(NotAllowed::KindUnavailable));
        }
        Ok(())
    }

    /// The kinds a person may add (see [`Tessera::may_add`]).
    pub async fn addable_kinds(&self) -> Result<Vec<method::Kind>> {
        let policy = self.policy().await?;
        Ok(method::Kind::ALL
            .into_iter()
            .filter(|k| policy.allows_kind(*k) && self.can_register(*k))
            .collect())
    }

    /// Starts registering a method: it is pending until `register_finish`.
    pub async fn register_begin(
        &self,
        auth: &Auth,
        request: RegisterRequest,
        proof: StepUpProof,
        ctx: &RequestContext,
    ) -> Result<(Method, Enrollment)> {
        proof.of(auth)?;
        let kind = request.kind();
        let policy = self.policy().await?;
        if !policy.allows_kind(kind) {
            return Err(Error::NotAllowed(NotAllowed::KindNotAllowed));
        }
        self.store.delete_expired_pending(self.now()).await?;
        let existing = self.store.methods_of(auth.account.id).await?;
        if existing.len() >= policy.max_methods as usize {
            return Err(Error::bad(
                "kind",
                Problem::TooLong {
                    max: policy.max_methods as usize,
                },
            ));
        }
        let id = MethodId::new(self.rng.as_ref());
        let pending_for = Duration::seconds(policy.flow_secs as i64);
        let (mut method, enrollment) = method::register_begin(
            request,
            &auth.account,
            id,
            &self.kind_context(),
            pending_for,
        )?;
        method.registered_by = Some(auth.session.id);
        let audit = self
            .audit(ctx, Some(auth.account.id), AuditAction::MethodAdded)
            .method(method.id)
            .detail(serde_json::json!({ "kind": kind.as_str() }));
        match &enrollment {
            // An app's activation is stored with it, so the device can find it by its code.
            Enrollment::AppActivation { code, expires_at } => {
                self.insert_app_method(&method, code, *expires_at, &audit)
                    .await?
            }
            _ => self.insert_new_method(&method, &audit, ctx).await?,
        }
        Ok((method, enrollment))
    }

    /// A pending registration of the person's, with what is needed to finish it.
    pub async fn pending_enrollment(
        &self,
        auth: &Auth,
        id: MethodId,
    ) -> Result<(Method, Enrollment)> {
        let method = self.pending_method(auth, id).await?;
        let enrollment = self.pending_enrollment_of(&method, &auth.account).await?;
        Ok((method, enrollment))
    }

    async fn pending_method(&self, auth: &Auth, id: MethodId) -> Result<Method> {
        let method = self
            .store
            .method(id)
            .await?
            .filter(|m| m.account_id == auth.account.id)
            .ok_or(Error::NotFound)?;
        if method.status != MethodStatus::Pending {
            return Err(Error::bad("id", Problem::Invalid));
        }
        if method.expires_at.is_some_and(|e| e <= self.now()) {
            return Err(Error::Expired);
        }
        Ok(method)
    }

    /// Proves a pending method with a code from it; it becomes active (and the default when
    /// the person had none).
    pub async fn register_finish(
        &self,
        auth: &Auth,
        id: MethodId,
        code: &str,
        ctx: &RequestContext,
    ) -> Result<Method> {
        self.register_respond(auth, id, &Response::Code(code.to_string()), ctx)
            .await
    }

    /// Proves a pending method with the kind's response (a code, a WebAuthn attestation …).
    pub async fn register_respond(
        &self,
        auth: &Auth,
        id: MethodId,
        response: &Response,
        ctx: &RequestContext,
    ) -> Result<Method> {
        let method = self.pending_method(auth, id).await?;
        let policy = self.policy().await?;
        let verified = self
            .check_response(
                &method,
                Purpose::Register(method.id),
                response,
                ctx,
                &policy,
            )
            .await?;
        if !verified.reserved {
            // Activation does not pass the lock-out gate itself.
            self.reserve_attempt(&method, ctx, &policy).await?;
        }
        let current_default = self.security_info(auth).await?.default_method;
        let make_default = current_default.is_none() && method.kind.is_sign_in_factor();
        let audit = self
            .audit(ctx, Some(auth.account.id), AuditAction::MethodVerified)
            .method(method.id)
            .detail(serde_json::json!({ "kind": method.kind.as_str() }));
        let notes = self
            .notifications(&auth.account, &method, SecurityEvent::MethodAdded, ctx)
            .await?;
        if !self
            .store
            .activate_method_noting(
                &Activation {
                    method: method.id,
                    step: verified.step,
                    now: self.now(),
                    make_default,
                    by: Some(auth.session.id),
                },
                &audit,
                &notes,
            )
            .await?
        {
            return Err(self
                .code_failed(&method, ctx, &policy, AuditAction::CodeReplayed)
                .await);
        }
        self.store.method(method.id).await?.ok_or(Error::NotFound)
    }

    /// Deletes a method. If it was the default, the oldest other usable method takes over.
    pub async fn delete_method(
        &self,
        auth: &Auth,
        id: MethodId,
        proof: StepUpProof,
        ctx: &RequestContext,
    ) -> Result<()> {
        proof.of(auth)?;
        auth.require_full()?;
        let policy = self.policy().await?;
        let methods = self.store.methods_of(auth.account.id).await?;
        let method = methods.iter().find(|m| m.id == id).ok_or(Error::NotFound)?;
        let new_default = Self::usable_for_sign_in(&policy, &methods)
            .into_iter()
            .chain(
                methods
                    .iter()
                    .filter(|m| m.is_active() && m.kind.is_sign_in_factor()),
            )
            .find(|m| m.id != id)
            .map(|m| m.id);
        let audit = self
            .audit(ctx, Some(auth.account.id), AuditAction::MethodDeleted)
            .method(id)
            .detail(serde_json::json!({ "kind": method.kind.as_str() }));
        let notes = self
            .notifications(&auth.account, method, SecurityEvent::MethodRemoved, ctx)
            .await?;
        if !self
            .store
            .delete_method_noting(auth.account.id, id, new_default, &audit, &notes)
            .await?
        {
            return Err(Error::NotFound);
        }
        Ok(())
    }

    /// Makes a method the default, asking `way` first when it has more than one (an app by
    /// notification or code, a mobile phone by text or call); `None` keeps its way.
    pub async fn set_default_method(
        &self,
        auth: &Auth,
        id: MethodId,
        way: Option<Way>,
        proof: StepUpProof,
        ctx: &RequestContext,
    ) -> Result<()> {
        proof.of(auth)?;
        auth.require_full()?;
        let policy = self.policy().await?;
        let method = self
            .store
            .method(id)
            .await?
            .filter(|m| m.account_id == auth.account.id)
            .ok_or(Error::NotFound)?;
        if !method.is_active() || !policy.allows_mfa(method.kind) {
            return Err(Error::NotAllowed(NotAllowed::MethodNotUsable));
        }
        if way.is_some_and(|w| !method::way::ways(method.kind, &policy).contains(&w)) {
            return Err(Error::bad("way", Problem::Invalid));
        }
        let audit = self
            .audit(
                ctx,
                Some(auth.account.id),
                AuditAction::DefaultMethodChanged,
            )
            .method(id)
            .detail(serde_json::json!({ "way": way.map(|w| w.as_str()) }));
        let notes = self
            .notifications(&auth.account, &method, SecurityEvent::DefaultChanged, ctx)
            .await?;
        self.store
            .set_default_method_noting(auth.account.id, Some(id), way, &audit, &notes)
            .await?;
        Ok(())
    }
}
