//! The one dispatch point from flows to kinds. Every verb a kind answers is one `match` on
//! the kind here, one line per kind, calling the kind's module by the verb's name:
//!
//! ```text
//!   register     <kind>::register_begin          (kinds a person registers)
//!   enrollment   <kind>::enrollment              (kinds that show something while pending)
//!   challenge    Tessera::challenge_<kind>       (kinds that send or ask something first)
//!   check        Tessera::check_<kind>           (every kind)
//!   label        <kind>::label                   (kinds with details to show, masked)
//! ```
//!
//! Phones and email addresses share `sent_code` (`challenge_sent_code`, `check_sent_code`);
//! the authenticator app checks its codes as `authenticator_code` does. The flows (sign-in,
//! step-up, registration, reset, the verify API) call only these. What a kind may be used for
//! (sign-in or only reset, issued by admins only) is a one-line match on [`Kind`] itself.

use super::{
    Challenge, Enrollment, Kind, KindContext, Method, Purpose, RegisterRequest, Response, Verified,
    authenticator_code, email, phone, security_key, sent_code,
};
use crate::account::Account;
use crate::audit::RequestContext;
use crate::error::{Error, NotAllowed, Problem, Result};
use crate::ids::MethodId;
use crate::message::Channel;
use crate::policy::Policy;
use crate::service::Tessera;

impl RegisterRequest {
    /// The kind a request registers.
    pub fn kind(&self) -> Kind {
        match self {
            RegisterRequest::AuthenticatorCode { .. } => Kind::AuthenticatorCode,
            RegisterRequest::AuthenticatorApp { .. } => Kind::AuthenticatorApp,
            RegisterRequest::Phone(phone) => phone.kind,
            RegisterRequest::Email { .. } => Kind::Email,
            RegisterRequest::SecurityKey { .. } => Kind::SecurityKey,
        }
    }
}

pub fn register_begin(
    request: RegisterRequest,
    account: &Account,
    id: MethodId,
    ctx: &KindContext<'_>,
    pending_for: time::Duration,
) -> Result<(Method, Enrollment)> {
    use super::authenticator_app;
    match request {
        RegisterRequest::AuthenticatorCode { name } => {
            authenticator_code::register_begin(name, account, id, ctx, pending_for)
        }
        RegisterRequest::AuthenticatorApp { name } => {
            authenticator_app::register_begin(name, account, id, ctx, pending_for)
        }
        RegisterRequest::Phone(request) => {
            phone::register_begin(request, account, id, ctx, pending_for)
        }
        RegisterRequest::Email { address } => {
            email::register_begin(&address, account, id, ctx, pending_for)
        }
        RegisterRequest::SecurityKey { name } => {
            security_key::register_begin(name, account, id, ctx, pending_for)
        }
    }
}

/// Shows a pending registration's enrollment again (the page was reloaded).
pub fn enrollment(method: &Method, account: &Account, ctx: &KindContext<'_>) -> Result<Enrollment> {
    match method.kind {
        Kind::AuthenticatorCode => authenticator_code::enrollment(method, account, ctx),
        Kind::PhoneMobile | Kind::PhoneAlternate | Kind::PhoneOffice => phone::enrollment(method),
        Kind::Email => email::enrollment(method),
        Kind::SecurityKey => security_key::enrollment(method, ctx),
        _ => Err(Error::NotAllowed(NotAllowed::KindUnavailable)),
    }
}

/// Checks a code against a method. `Ok(None)` is a wrong code.
pub fn verify(method: &Method, code: &str, ctx: &KindContext<'_>) -> Result<Option<Verified>> {
    match method.kind {
        Kind::AuthenticatorCode | Kind::AuthenticatorApp => {
            authenticator_code::verify(method, code, ctx)
        }
        _ => Err(Error::NotAllowed(NotAllowed::MethodNotUsable)),
    }
}

/// What a label shows of a method's details: the masked number or address.
pub fn detail(method: &Method) -> Option<String> {
    match method.kind {
        Kind::PhoneMobile | Kind::PhoneAlternate | Kind::PhoneOffice => phone::label(method),
        Kind::Email => email::label(method),
        _ => None,
    }
}

impl Tessera {
    /// A pending registration's enrollment, where the kind keeps it in the store (an app's
    /// activation code) or in the method itself.
    pub(crate) async fn pending_enrollment_of(
        &self,
        method: &Method,
        account: &Account,
    ) -> Result<Enrollment> {
        match method.kind {
            Kind::AuthenticatorApp => self.app_enrollment(method).await,
            _ => enrollment(method, account, &self.kind_context()),
        }
    }

    /// Starts a challenge on a method: sends a text, places a call, creates a push request,
    /// or returns WebAuthn options. Codes the person reads from something they hold need
    /// nothing.
    pub(crate) async fn start_challenge(
        &self,
        method: &Method,
        purpose: Purpose,
        ctx: &RequestContext,
    ) -> Result<Challenge> {
        match method.kind {
            Kind::AuthenticatorCode => Ok(Challenge::nothing_sent(method)),
            Kind::AuthenticatorApp => self.challenge_authenticator_app(method, purpose, ctx).await,
            Kind::RecoveryCodes => Ok(Challenge::nothing_sent(method)),
            Kind::TemporaryAccessPass => Ok(Challenge::nothing_sent(method)),
            Kind::SecurityQuestions => self.challenge_security_questions(method, purpose).await,
            Kind::SecurityKey => self.challenge_security_key(method, purpose).await,
            Kind::PhoneMobile | Kind::PhoneAlternate | Kind::PhoneOffice | Kind::Email => {
                self.challenge_sent_code(method, purpose, ctx).await
            }
        }
    }

    /// Starts a challenge, choosing the channel (a text or a call) for kinds that send.
    pub(crate) async fn start_challenge_via(
        &self,
        method: &Method,
        purpose: Purpose,
        via: Option<Channel>,
        ctx: &RequestContext,
    ) -> Result<Challenge> {
        match via {
            None => self.start_challenge(method, purpose, ctx).await,
            Some(via) if sent_code::sends_codes(method.kind) => {
                self.send_code(method, purpose, Some(via), ctx).await
            }
            Some(_) => Err(Error::bad("delivery", Problem::Invalid)),
        }
    }

    /// Checks a response to a method under the lock-out rule (a reset's under its own
    /// counters: see `lockout`). The caller records the success (`accept_code`, or activation
    /// while registering), which refuses a replayed step.
    pub(crate) async fn check_response(
        &self,
        method: &Method,
        purpose: Purpose,
        response: &Response,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<Verified> {
        use Response::{Answers, Code, WebAuthn};
        let (m, p) = (method, purpose);
        match (method.kind, response) {
            (Kind::AuthenticatorCode, Code(c)) => {
                self.check_authenticator_code(m, p, c, ctx, policy).await
            }
            (Kind::AuthenticatorApp, Code(c)) => {
                self.check_authenticator_app(m, p, c, ctx, policy).await
            }
            (Kind::TemporaryAccessPass, Code(c)) => {
                self.check_temporary_access_pass(m, p, c, ctx, policy).await
            }
            (Kind::RecoveryCodes, Code(c)) => self.check_recovery_codes(m, p, c, ctx, policy).await,
            (Kind::PhoneMobile | Kind::PhoneAlternate | Kind::PhoneOffice, Code(c))
            | (Kind::Email, Code(c)) => self.check_sent_code(m, p, c, ctx, policy).await,
            (Kind::SecurityKey, WebAuthn(a)) => self.check_security_key(m, p, a, ctx, policy).await,
            (Kind::SecurityQuestions, Answers(a)) => {
                self.check_security_questions(m, p, a, ctx, policy).await
            }
            _ => Err(Error::bad("response", Problem::Invalid)),
        }
    }
}
