//! Notifications with number matching: a push request per challenge on an
//! `authenticator_app` method, answered on the device with a signed message.
//!
//! ```text
//!   challenge ──► pending ──approve, right number──► approved ──► sign-in flow approved,
//!                    │                                           step-up session marked,
//!                    │                                           registration activated,
//!                    │                                           reset gate passed
//!                    ├──approve, wrong number──► failed (a wrong code for the lock-out)
//!                    ├──deny──► denied (a sign-in flow is denied)
//!                    ├──deny and report──► reported (audited; the account is disabled when
//!                    │                      the policy says so)
//!                    └──90 s pass, or a newer request for the same thing──► expired
//! ```
//!
//! [`next`] is that diagram as a function; every status core gives a request comes from it
//! (the store binds it: an answer's status, and [`PushMove::superseded`] for the older
//! requests a new one expires).
//!
//! Only the newest request of a flow, session or registration can be answered, and only
//! once. An account gets at most `push_requests_max` requests per `push_window_secs`: a
//! flood of notifications hoping for a tired "approve" stops there (notification fatigue).

use super::device::DeviceAuth;
use crate::audit::{AuditAction, AuditEvent, RequestContext};
use crate::error::{Error, NotAllowed, Problem, Result};
use crate::flow::FlowState;
use crate::flow::effect::{Activation, Effect, FlowMove, GatePass};
use crate::flow::sign_in::Event;
use crate::ids::{FlowId, MethodId, PushRequestId};
use crate::lockout::Counter;
use crate::message::SecurityEvent;
use crate::method::Kind;
use crate::method::authenticator_app::{self as app, Decision};
use crate::method::{Challenge, Method, MethodStatus, Purpose, Verified};
use crate::policy::Policy;
use crate::random;
use crate::service::{Auth, Tessera};
use crate::store::push::{PushAnswer, PushRefused, PushRequest, PushStatus};
use time::{Duration, OffsetDateTime};

/// What happens to a push request (see [`next`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushEvent {
    /// Approved on the device with the number shown.
    Approved,
    /// Approved with another number: a wrong code.
    WrongNumber,
    Denied,
    /// Denied, and reported as not the person's own doing.
    Reported,
    /// Its time passed unanswered.
    TimedOut,
    /// A newer request for the same flow, session or registration was sent.
    Superseded,
}

/// The push request's transition function: where `event` takes a request in `from`, `None`
/// when it cannot happen there. Only a pending request moves, and only once.
pub fn next(from: PushStatus, event: PushEvent) -> Option<PushStatus> {
    if from != PushStatus::Pending {
        return None;
    }
    Some(match event {
        PushEvent::Approved => PushStatus::Approved,
        PushEvent::WrongNumber => PushStatus::Failed,
        PushEvent::Denied => PushStatus::Denied,
        PushEvent::Reported => PushStatus::Reported,
        PushEvent::TimedOut | PushEvent::Superseded => PushStatus::Expired,
    })
}

/// A move the store makes on requests core does not name one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushMove {
    pub from: PushStatus,
    pub to: PushStatus,
}

impl PushMove {
    /// What a new request does to the older ones of its binding still pending (only the
    /// newest can be answered).
    pub fn superseded() -> PushMove {
        let from = PushStatus::Pending;
        PushMove {
            from,
            // A status `next` could not supersede would stay as it is.
            to: next(from, PushEvent::Superseded).unwrap_or(from),
        }
    }
}

/// The answer `event` gives `request` at `at`, with what it does; `None` when the request
/// cannot take it any more (answered, or its time passed).
fn answer(
    request: &PushRequest,
    event: PushEvent,
    at: OffsetDateTime,
    effects: Vec<Effect>,
) -> Option<PushAnswer> {
    Some(PushAnswer {
        request: request.id,
        status: next(request.status_at(at), event)?,
        at,
        effects,
    })
}

/// A device's signed answer to a request.
#[derive(Debug, Clone)]
pub struct SignedAnswer {
    pub decision: Decision,
    /// The number the person typed (approvals only).
    pub number: Option<u8>,
    /// The device's time of signing, in unix seconds (on the server's clock).
    pub signed_at: i64,
    pub signature: Vec<u8>,
}

/// The purpose a stored request was sent for.
fn purpose_of(request: &PushRequest) -> Option<Purpose> {
    Purpose::parse(&request.purpose, &request.binding)
}

impl Tessera {
    pub(crate) fn new_push_request(
        &self,
        method: &Method,
        purpose: Purpose,
        ctx: &RequestContext,
    ) -> PushRequest {
        let now = self.now();
        PushRequest {
            id: PushRequestId::new(self.rng.as_ref()),
            method_id: method.id,
            account_id: method.account_id,
            purpose: purpose.as_str().to_string(),
            binding: purpose.binding(),
            number: (random::below(self.rng.as_ref(), 90) + 10) as u8,
            status: PushStatus::Pending,
            app: self.issuer.clone(),
            ip: ctx.ip.map(|ip| ip.to_string()),
            user_agent: ctx
                .user_agent
                .as_ref()
                .map(|ua| ua.chars().take(256).collect()),
            created_at: now,
            expires_at: now + Duration::seconds(app::REQUEST_SECS),
            answered_at: None,
        }
    }

    pub(crate) fn push_sent_audit(
        &self,
        request: &PushRequest,
        ctx: &RequestContext,
    ) -> AuditEvent {
        self.audit(ctx, Some(request.account_id), AuditAction::PushSent)
            .method(request.method_id)
            .detail(serde_json::json!({ "purpose": request.purpose, "request": request.id }))
    }

    /// Sends a notification to the method's device: the challenge of an app method. The
    /// number comes back to be shown where the person signs in.
    pub(crate) async fn challenge_authenticator_app(
        &self,
        method: &Method,
        purpose: Purpose,
        ctx: &RequestContext,
    ) -> Result<Challenge> {
        let activated = self
            .store
            .device(method.id)
            .await?
            .is_some_and(|d| d.is_activated());
        if !activated {
            return Err(Error::NotAllowed(NotAllowed::MethodNotUsable));
        }
        let policy = self.policy().await?;
        let now = self.now();
        let request = self.new_push_request(method, purpose, ctx);
        let since = now - Duration::seconds(policy.push_window_secs as i64);
        let audit = self.push_sent_audit(&request, ctx);
        // A reset's notifications have their own budget, counted by the reset flow (any
        // stranger can start one); the store's count is the sign-in's, which leaves them out.
        let max = match purpose {
            Purpose::Reset(_) => u32::MAX,
            _ => policy.push_requests_max,
        };
        match self
            .store
            .insert_push_request(&request, max, since, &audit)
            .await?
        {
            Ok(()) => Ok(Challenge {
                number: Some(request.number),
                ..Challenge::nothing_sent(method)
            }),
            Err(PushRefused::TooMany { until }) => Err(Error::RateLimited {
                retry_after: (until - now).whole_seconds().max(1) as u64,
            }),
        }
    }

    /// The app's code typed instead of approving a notification, where the policy allows.
    /// A registration is proven by approving its test notification, never by a code.
    pub(crate) async fn check_authenticator_app(
        &self,
        method: &Method,
        purpose: Purpose,
        code: &str,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<Verified> {
        if matches!(purpose, Purpose::Register(_)) || !policy.code_instead_of_notification {
            return Err(Error::NotAllowed(NotAllowed::NotificationRequired));
        }
        self.check_authenticator_code(method, purpose, code, ctx, policy)
            .await
    }

    /// The device's requests waiting for an answer, oldest first.
    pub async fn device_requests(&self, auth: &DeviceAuth) -> Result<Vec<PushRequest>> {
        Ok(self
            .store
            .pending_push_requests(auth.device.method_id, self.now())
            .await?)
    }

    /// One of the device's requests, whatever its status.
    pub async fn device_request(
        &self,
        auth: &DeviceAuth,
        id: PushRequestId,
    ) -> Result<PushRequest> {
        self.store
            .push_request(id)
            .await?
            .filter(|r| r.method_id == auth.device.method_id)
            .ok_or(Error::NotFound)
    }

    /// A device answers a request. The signature, its freshness, the request (this
    /// device's, pending, unexpired) and, to approve, the number are checked; a wrong number
    /// ends the request and counts as a wrong code.
    pub async fn device_answer(
        &self,
        auth: &DeviceAuth,
        id: PushRequestId,
        answer: &SignedAnswer,
        ctx: &RequestContext,
    ) -> Result<PushStatus> {
        let now = self.now();
        let request = self.device_request(auth, id).await?;
        let (Some(algorithm), Some(key)) =
            (auth.device.algorithm, auth.device.public_key.as_deref())
        else {
            return Err(Error::Unauthorized);
        };
        let message = app::answer_message(id, answer.decision, answer.number, answer.signed_at);
        if !app::verify_signature(algorithm, key, &message, &answer.signature) {
            let audit = self
                .audit(
                    ctx,
                    Some(auth.account.id),
                    AuditAction::PushSignatureRejected,
                )
                .method(request.method_id)
                .detail(serde_json::json!({ "request": id }));
            self.store.append_audit(&audit).await?;
            return Err(Error::Unauthorized);
        }
        if !app::fresh(answer.signed_at, now) || request.status_at(now) != PushStatus::Pending {
            return Err(Error::Expired);
        }
        let purpose = purpose_of(&request).ok_or(Error::NotFound)?;
        let policy = self.policy().await?;
        match answer.decision {
            Decision::Approve => {
                let number = answer
                    .number
                    .ok_or(Error::bad("number", Problem::Required))?;
                let approve = self.approve(auth, &request, purpose, number, ctx, &policy);
                match purpose {
                    // A reset's number counts on the reset's counters, not the method's.
                    Purpose::Reset(flow) => {
                        self.reset_attempt_on(flow, &policy, ctx, approve).await
                    }
                    _ => approve.await,
                }
            }
            Decision::Deny | Decision::Report => {
                self.deny(auth, &request, purpose, answer.decision, ctx, &policy)
                    .await
            }
        }
    }

    async fn approve(
        &self,
        auth: &DeviceAuth,
        request: &PushRequest,
        purpose: Purpose,
        number: u8,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<PushStatus> {
        let now = self.now();
        let method = &auth.method;
        // Like a typed code: a failure is counted in advance, so parallel guesses cannot
        // slip past the lock-out; the approval clears it.
        let counter = Counter::from(purpose);
        self.reserve_attempt_for(method, counter, ctx, policy)
            .await?;
        if number != request.number {
            if let Some(failed) = answer(request, PushEvent::WrongNumber, now, Vec::new()) {
                self.store.answer_push_request(&failed, &[]).await?;
            }
            return Err(self
                .code_failed_for(method, counter, ctx, policy, AuditAction::PushNumberWrong)
                .await);
        }
        let approved = self
            .audit(ctx, Some(method.account_id), AuditAction::PushApproved)
            .method(method.id)
            .detail(serde_json::json!({ "purpose": request.purpose, "request": request.id }));
        let mut audit = vec![approved];
        let used = Effect::MethodUsed {
            method: method.id,
            at: now,
        };
        let effects = match purpose {
            Purpose::SignIn(flow) => {
                let approved =
                    FlowMove::new(flow, FlowState::MfaRequired, Event::ApprovedOutOfBand)
                        .ok_or(Error::Expired)?
                        .if_current_at(now)
                        .approved_by(method.kind);
                vec![used, Effect::MoveFlow(approved)]
            }
            Purpose::StepUp(session) => {
                audit.push(
                    self.audit(ctx, Some(method.account_id), AuditAction::StepUpSucceeded)
                        .method(method.id),
                );
                let marked = Effect::SecondFactor {
                    session,
                    at: now,
                    kind: method.kind,
                };
                vec![used, marked]
            }
            Purpose::Register(id) => {
                audit.push(
                    self.audit(ctx, Some(method.account_id), AuditAction::MethodVerified)
                        .method(id)
                        .detail(serde_json::json!({ "kind": method.kind.as_str() })),
                );
                self.activation_effects(auth, ctx).await?
            }
            Purpose::Reset(flow) => {
                // The gate passes with the answer, or neither happens (the flow completed
                // or lapsed meanwhile).
                audit.push(
                    self.audit(ctx, Some(method.account_id), AuditAction::ResetGatePassed)
                        .method(method.id)
                        .detail(serde_json::json!({ "kind": Kind::AuthenticatorApp.as_str() })),
                );
                let gate = GatePass::new(flow, method.id, now).ok_or(Error::Expired)?;
                vec![used, Effect::PassResetGate(gate)]
            }
        };
        let approved = answer(request, PushEvent::Approved, now, effects).ok_or(Error::Expired)?;
        if !self.store.answer_push_request(&approved, &audit).await? {
            return Err(Error::Expired);
        }
        Ok(approved.status)
    }

    /// Activating an approved registration: the default when the person has no usable one,
    /// and their other channels are told in the same commit.
    async fn activation_effects(
        &self,
        auth: &DeviceAuth,
        ctx: &RequestContext,
    ) -> Result<Vec<Effect>> {
        let methods = self.store.methods_of(auth.account.id).await?;
        let has_default = auth.account.default_method.is_some_and(|d| {
            methods
                .iter()
                .any(|m| m.id == d && m.status == MethodStatus::Active)
        });
        let notes = self
            .notifications(&auth.account, &auth.method, SecurityEvent::MethodAdded, ctx)
            .await?;
        let now = self.now();
        Ok(vec![
            Effect::Activate(Activation {
                method: auth.method.id,
                step: None,
                now,
                make_default: !has_default,
                by: None,
            }),
            Effect::MethodUsed {
                method: auth.method.id,
                at: now,
            },
            Effect::Notes(notes),
        ])
    }

    async fn deny(
        &self,
        auth: &DeviceAuth,
        request: &PushRequest,
        purpose: Purpose,
        decision: Decision,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<PushStatus> {
        let account = Some(auth.account.id);
        let mut effects = Vec::new();
        if let Purpose::SignIn(flow) = purpose {
            effects.extend(
                FlowMove::new(flow, FlowState::MfaRequired, Event::Denied)
                    .map(Effect::MoveFlowIfWaiting),
            );
        }
        let (event, action) = match decision {
            Decision::Report => (PushEvent::Reported, AuditAction::PushReported),
            _ => (PushEvent::Denied, AuditAction::PushDenied),
        };
        let mut audit = vec![
            self.audit(ctx, account, action)
                .method(request.method_id)
                .detail(serde_json::json!({
                    "purpose": request.purpose,
                    "request": request.id,
                    "sign_in_ip": request.ip,
                    "sign_in_user_agent": request.user_agent,
                })),
        ];
        if event == PushEvent::Reported && policy.report_blocks_account {
            effects.push(Effect::BlockAccount(auth.account.id));
            let by = serde_json::json!({ "by": "push_report", "request": request.id });
            audit.push(
                self.audit(ctx, account, AuditAction::AccountDisabled)
                    .detail(by.clone()),
            );
            audit.push(
                self.audit(ctx, account, AuditAction::SessionsEnded)
                    .detail(by),
            );
        }
        let answered = answer(request, event, self.now(), effects).ok_or(Error::Expired)?;
        if !self.store.answer_push_request(&answered, &audit).await? {
            return Err(Error::Expired);
        }
        Ok(answered.status)
    }

    /// The newest notification of a sign-in flow, for the page that waits on it.
    pub async fn sign_in_push(&self, flow: FlowId) -> Result<Option<PushRequest>> {
        Ok(self
            .store
            .latest_push_request(Purpose::SignIn(flow).as_str(), &flow.to_string())
            .await?)
    }

    /// The newest step-up notification of this session.
    pub async fn step_up_push(&self, auth: &Auth) -> Result<Option<PushRequest>> {
        let purpose = Purpose::StepUp(auth.session.id);
        Ok(self
            .store
            .latest_push_request(purpose.as_str(), &purpose.binding())
            .await?)
    }

    /// For the wake-up sender: the device's wake-up URL, when this node claimed the wake-up
    /// of at least one new request (so one node sends it).
    pub async fn claim_push_wakeup(&self, device: MethodId) -> Result<Option<String>> {
        Ok(self.store.claim_wakeup(device, self.now()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [PushStatus; 6] = [
        PushStatus::Pending,
        PushStatus::Approved,
        PushStatus::Denied,
        PushStatus::Reported,
        PushStatus::Failed,
        PushStatus::Expired,
    ];
    const EVENTS: [PushEvent; 6] = [
        PushEvent::Approved,
        PushEvent::WrongNumber,
        PushEvent::Denied,
        PushEvent::Reported,
        PushEvent::TimedOut,
        PushEvent::Superseded,
    ];

    #[test]
    fn a_pending_request_takes_each_answer_once() {
        let expected = [
            PushStatus::Approved,
            PushStatus::Failed,
            PushStatus::Denied,
            PushStatus::Reported,
            PushStatus::Expired,
            PushStatus::Expired,
        ];
        for (event, to) in EVENTS.into_iter().zip(expected) {
            assert_eq!(next(PushStatus::Pending, event), Some(to), "{event:?}");
        }
        for from in ALL.into_iter().filter(|s| *s != PushStatus::Pending) {
            for event in EVENTS {
                assert_eq!(next(from, event), None, "{from:?} on {event:?}");
            }
        }
    }

    #[test]
    fn a_new_request_expires_the_pending_ones() {
        assert_eq!(
            PushMove::superseded(),
            PushMove {
                from: PushStatus::Pending,
                to: PushStatus::Expired
            }
        );
    }
}
