//! The flows: sign-in (with the registration interrupt), step-up, and security info changes.

pub(crate) mod directory;
pub mod effect;
pub mod needs;
pub mod register;
pub mod reset;
mod reset_decoy;
pub mod sign_in;
pub mod step_up;
pub mod wizard;

#[cfg(test)]
mod tests;

use crate::ids::{AccountId, FlowId};
use time::OffsetDateTime;

pub use register::SecurityInfo;
pub use sign_in::{FlowStatus, SignInOutcome};
pub use step_up::StepUpProof;

/// Every change of state goes through [`sign_in::next`], the transition function.
///
/// ```text
///   password ok ──► MfaRequired ──code──► Completed
///        │                 ├──approved out of band (push, call)──► Approved ──status read──► Completed
///        │                 └──deny──► Denied
///        └─(no security info, policy requires it)──► Registration ──method verified──► Completed
/// ```
/// Any state becomes expired at `expires_at`; a completed flow never completes again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowState {
    MfaRequired,
    /// A second factor was proven out of band (a push approved, a call confirmed); the
    /// session is handed to whoever polls the flow next.
    Approved,
    Registration,
    Completed,
    Denied,
}

impl FlowState {
    pub fn as_str(&self) -> &'static str {
        match self {
            FlowState::MfaRequired => "mfa_required",
            FlowState::Approved => "approved",
            FlowState::Registration => "registration",
            FlowState::Completed => "completed",
            FlowState::Denied => "denied",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "mfa_required" => Some(FlowState::MfaRequired),
            "approved" => Some(FlowState::Approved),
            "registration" => Some(FlowState::Registration),
            "completed" => Some(FlowState::Completed),
            "denied" => Some(FlowState::Denied),
            _ => None,
        }
    }
}

/// A sign-in in progress, kept in the store so any node can continue it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInFlow {
    pub id: FlowId,
    pub account_id: AccountId,
    pub state: FlowState,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// The kind of method that approved the flow out of band (a push, a call answered with
    /// #): its session is created later, when the flow is handed over, and records it.
    pub approved_kind: Option<crate::method::Kind>,
}

impl SignInFlow {
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }
}
