//! What a proof changes beyond recording itself: core decides the effects, the store applies
//! them inside the transaction that records the proof (an accepted code, an answered push, a
//! call answered with #), so both commit together or not at all.
//!
//! Some effects must apply: when one does not (the flow moved on, the registration lapsed),
//! the whole transaction rolls back and the caller gets a typed answer. The others apply
//! only where still relevant, and never refuse. [`Effect::must_apply`] says which is which.

use crate::flow::FlowState;
use crate::flow::reset::{self, ResetEvent, ResetState};
use crate::flow::sign_in::{self, Event};
use crate::ids::{AccountId, FlowId, MethodId, SessionId};
use crate::message::Message;
use crate::method::Kind;
use crate::session::Session;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// The method proved itself: its failure count clears and `last_used_at` moves. Applies.
    MethodUsed {
        method: MethodId,
        at: OffsetDateTime,
    },
    /// A sign-in flow moves on (see [`FlowMove`]). Must apply.
    MoveFlow(FlowMove),
    /// A sign-in flow moves on if it is still where it was (a denial). Applies if relevant.
    MoveFlowIfWaiting(FlowMove),
    /// A session's second factor is fresh (a step-up). Must apply: the session still exists.
    SecondFactor {
        session: SessionId,
        at: OffsetDateTime,
        kind: Kind,
    },
    /// A pending method becomes active (see [`Activation`]). Must apply.
    Activate(Activation),
    /// The account is disabled and its sessions end (a reported push). Applies.
    BlockAccount(AccountId),
    /// A reset flow takes a passed gate (see [`GatePass`]). Must apply: the flow is still
    /// open and current.
    PassResetGate(GatePass),
    /// Messages queued in the outbox, in the same transaction (e.g. "a method was added").
    /// Applies.
    Notes(Vec<Message>),
}

impl Effect {
    /// Whether the transaction must roll back when this effect changes nothing.
    pub fn must_apply(&self) -> bool {
        match self {
            Effect::MoveFlow(_)
            | Effect::SecondFactor { .. }
            | Effect::Activate(_)
            | Effect::PassResetGate(_) => true,
            Effect::MethodUsed { .. }
            | Effect::MoveFlowIfWaiting(_)
            | Effect::BlockAccount(_)
            | Effect::Notes(_) => false,
        }
    }

    /// Whether applying these effects queues messages (so the delivery worker is woken).
    pub fn any_notes(effects: &[Effect]) -> bool {
        effects
            .iter()
            .any(|e| matches!(e, Effect::Notes(notes) if !notes.is_empty()))
    }
}

/// A sign-in flow's move from `from` to `to`, as [`sign_in::next`] decides it, with what the
/// new state needs. Whoever moves the flow out of `from` first wins; every rival misses.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowMove {
    pub flow: FlowId,
    pub from: FlowState,
    pub to: FlowState,
    /// Only while the flow is current at this time (an approval out of band).
    pub current_at: Option<OffsetDateTime>,
    /// The flow's new end (registration gets the flow's lifetime anew).
    pub expires_at: Option<OffsetDateTime>,
    /// Inserted with the move: the full session, or the registration session.
    pub session: Option<Session>,
    /// Ended with the move: the registration session a full one replaces.
    pub revoke: Option<SessionId>,
    /// Recorded on the flow with the move: the kind that approved it out of band.
    pub approved_kind: Option<Kind>,
}

impl FlowMove {
    /// The move `event` makes from `from`; `None` when the flow has no such move.
    pub fn new(flow: FlowId, from: FlowState, event: Event) -> Option<FlowMove> {
        Some(FlowMove {
            flow,
            from,
            to: sign_in::next(from, event)?,
            current_at: None,
            expires_at: None,
            session: None,
            revoke: None,
            approved_kind: None,
        })
    }

    /// Inserts `session` with the move; a registration session's end becomes the flow's.
    pub fn with_session(mut self, session: Session) -> FlowMove {
        if self.to == FlowState::Registration {
            self.expires_at = Some(session.expires_at);
        }
        self.session = Some(session);
        self
    }

    /// Records the kind of method that approved the flow out of band.
    pub fn approved_by(mut self, kind: Kind) -> FlowMove {
        self.approved_kind = Some(kind);
        self
    }

    pub fn revoking(mut self, session: SessionId) -> FlowMove {
        self.revoke = Some(session);
        self
    }

    pub fn if_current_at(mut self, now: OffsetDateTime) -> FlowMove {
        self.current_at = Some(now);
        self
    }
}

/// A reset flow's move from `from` to `to`, as [`reset::next`] decides it, only while the
/// flow is current at `at`. Whoever moves the flow out of `from` first wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResetMove {
    pub flow: FlowId,
    pub from: ResetState,
    pub to: ResetState,
    pub at: OffsetDateTime,
}

impl ResetMove {
    /// The move `event` makes from `from`; `None` when the flow has no such move.
    pub fn new(
        flow: FlowId,
        from: ResetState,
        event: ResetEvent,
        at: OffsetDateTime,
    ) -> Option<ResetMove> {
        Some(ResetMove {
            flow,
            from,
            to: reset::next(from, event)?,
            at,
        })
    }
}

/// A gate passed on an open reset flow: it takes `method` as its first gate, or as its second
/// when that is another method (a third, or the same twice, changes no gate but still
/// applies). The flow's move is [`ResetEvent::GatePassed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatePass {
    pub flow: ResetMove,
    pub method: MethodId,
}

impl GatePass {
    /// `method` passed as a gate of the open flow `flow` at `at`.
    pub fn new(flow: FlowId, method: MethodId, at: OffsetDateTime) -> Option<GatePass> {
        Some(GatePass {
            flow: ResetMove::new(flow, ResetState::Open, ResetEvent::GatePassed, at)?,
            method,
        })
    }
}

/// A pending method proven: it becomes active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Activation {
    pub method: MethodId,
    /// The TOTP step that proved it; a step at or below the last accepted one changes nothing.
    pub step: Option<i64>,
    pub now: OffsetDateTime,
    /// Whether it becomes the account's default.
    pub make_default: bool,
    /// The session that proved it, which becomes the one that registered it (every other
    /// registration session of the account ends).
    pub by: Option<SessionId>,
}
