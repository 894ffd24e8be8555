//! Group commit on SQLite for the answers to codes: accepted responses (the used step, the
//! reset failure count, its effects such as the sign-in flow it completes, and the audit
//! events) and refused ones (the failure counted, with its audit event).
//!
//! SQLite commits one writer transaction at a time, each ending in an fsync of the WAL, and
//! the fsync was half of what a verification cost. Answers that arrive while the writer is
//! busy wait here and go into the next transaction together, so a burst pays one fsync.
//! Nobody is answered before the commit that holds their change, and one answer failing or
//! gone stale undoes only its own changes: the batch is then run again with every answer in a
//! savepoint of its own (see `lite::commit`). Each still decides on the rows as the ones
//! before it in the batch left them, exactly as one transaction after another would.
//!
//! The commit thread of [`crate::lite`] takes the queued answers itself and holds sqlx's one
//! writing connection while it writes, so no other write runs meanwhile. An in-memory
//! SQLite (a database per connection, so none of ours) has no group: each answer is a
//! transaction through sqlx, as on PostgreSQL.

use sqlx::AnyPool;
use tessera_core::audit::AuditEvent;
use tessera_core::flow::effect::Effect;
use tessera_core::store::{Acceptance, Accepted, Refused, StoreResult};
use tessera_core::{MethodId, StoreError};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use crate::lite::Lite;
use crate::lockout::Refusal;

#[derive(Debug)]
pub(crate) struct CommitGroup {
    queue: mpsc::UnboundedSender<Queued>,
}

#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "a close is sent once; boxing would cost every job an allocation"
)]
pub(crate) enum Queued {
    Job(Job),
    /// Stop after what is queued, and say so once the writing connection is closed.
    Close(oneshot::Sender<()>),
}

/// One answer to commit, and whom to tell.
#[derive(Debug)]
pub(crate) enum Job {
    Accept(Owned, oneshot::Sender<StoreResult<Accepted>>),
    Refuse(Refusal, oneshot::Sender<StoreResult<Refused>>),
}

/// A job run, waiting for the commit: what it asked, whom to tell, and what it came to.
#[derive(Debug)]
pub(crate) enum Done {
    Accept(
        Owned,
        oneshot::Sender<StoreResult<Accepted>>,
        StoreResult<Accepted>,
    ),
    Refuse(
        Refusal,
        oneshot::Sender<StoreResult<Refused>>,
        StoreResult<Refused>,
    ),
}

impl Job {
    /// Runs with `accept` or `refuse`; what it wrote is kept only when it changed something
    /// (see [`Done::keeps`]).
    pub(crate) fn run(
        self,
        accept: impl FnOnce(&Acceptance<'_>) -> StoreResult<Accepted>,
        refuse: impl FnOnce(&Refusal) -> StoreResult<Refused>,
    ) -> Done {
        match self {
            Job::Accept(owned, answer) => {
                let outcome = accept(&owned.as_acceptance());
                Done::Accept(owned, answer, outcome)
            }
            Job::Refuse(refusal, answer) => {
                let outcome = refuse(&refusal);
                Done::Refuse(refusal, answer, outcome)
            }
        }
    }

    /// Answers with a failure, without running.
    pub(crate) fn fail(self, message: &str) {
        match self {
            Job::Accept(_, answer) => drop(answer.send(Err(failed(message)))),
            Job::Refuse(_, answer) => drop(answer.send(Err(failed(message)))),
        }
    }
}

impl Done {
    /// Whether what it wrote is kept: an answer accepted, or a failure counted.
    pub(crate) fn keeps(&self) -> bool {
        match self {
            Done::Accept(_, _, outcome) => outcome.as_ref().is_ok_and(Kept::kept),
            Done::Refuse(_, _, outcome) => outcome.as_ref().is_ok_and(Kept::kept),
        }
    }

    /// Whether its statements failed (the transaction may then be in doubt).
    pub(crate) fn failed(&self) -> bool {
        match self {
            Done::Accept(_, _, outcome) => outcome.is_err(),
            Done::Refuse(_, _, outcome) => outcome.is_err(),
        }
    }

    /// The job again, its outcome forgotten: for a batch rolled back to run once more.
    pub(crate) fn again(self) -> Job {
        match self {
            Done::Accept(owned, answer, _) => Job::Accept(owned, answer),
            Done::Refuse(refusal, answer, _) => Job::Refuse(refusal, answer),
        }
    }

    /// After the commit: the outcome.
    pub(crate) fn answer(self) {
        match self {
            Done::Accept(_, answer, outcome) => drop(answer.send(outcome)),
            Done::Refuse(_, answer, outcome) => drop(answer.send(outcome)),
        }
    }

    /// After a failed commit: the failure, whatever the outcome was.
    pub(crate) fn fail(self, message: &str) {
        match self {
            Done::Accept(_, answer, _) => drop(answer.send(Err(failed(message)))),
            Done::Refuse(_, answer, _) => drop(answer.send(Err(failed(message)))),
        }
    }
}

/// An [`Acceptance`] that can wait in the queue.
#[derive(Debug)]
pub(crate) struct Owned {
    method: MethodId,
    step: Option<i64>,
    now: OffsetDateTime,
    gate: Option<u32>,
    effects: Vec<Effect>,
    audit: Vec<AuditEvent>,
}

impl Owned {
    fn of(a: &Acceptance<'_>) -> Owned {
        Owned {
            method: a.method,
            step: a.step,
            now: a.now,
            gate: a.gate,
            effects: a.effects.to_vec(),
            audit: a.audit.to_vec(),
        }
    }

    fn as_acceptance(&self) -> Acceptance<'_> {
        Acceptance {
            method: self.method,
            step: self.step,
            now: self.now,
            gate: self.gate,
            effects: &self.effects,
            audit: &self.audit,
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum GroupError {
    #[error("the group's commit failed: {0}")]
    Commit(String),
}

impl CommitGroup {
    /// Starts the commit thread of `lite` (see `lite::commit`), which holds `writer`, sqlx's
    /// one writing connection, while it writes.
    pub(crate) fn start(writer: AnyPool, lite: &Lite) -> StoreResult<CommitGroup> {
        let (queue, jobs) = mpsc::unbounded_channel();
        crate::lite::commit::start(lite, jobs, writer)?;
        Ok(CommitGroup { queue })
    }

    pub(crate) async fn accept(&self, acceptance: &Acceptance<'_>) -> StoreResult<Accepted> {
        let (answer, answered) = oneshot::channel();
        self.send(Job::Accept(Owned::of(acceptance), answer))?;
        answered.await.map_err(|_| closed())?
    }

    pub(crate) async fn refuse(&self, refusal: Refusal) -> StoreResult<Refused> {
        let (answer, answered) = oneshot::channel();
        self.send(Job::Refuse(refusal, answer))?;
        answered.await.map_err(|_| closed())?
    }

    fn send(&self, job: Job) -> StoreResult<()> {
        self.queue.send(Queued::Job(job)).map_err(|_| closed())
    }

    /// Commits what is queued, then closes the commit thread's connection; later answers
    /// fail.
    pub(crate) async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.queue.send(Queued::Close(done)).is_ok() {
            let _ = closed.await;
        }
    }
}

fn closed() -> StoreError {
    crate::closed()
}

/// Whether an outcome keeps what it wrote.
trait Kept {
    fn kept(&self) -> bool;
}

impl Kept for Accepted {
    fn kept(&self) -> bool {
        *self == Accepted::Yes
    }
}

impl Kept for Refused {
    fn kept(&self) -> bool {
        matches!(self, Refused::Counted { .. })
    }
}

fn failed(message: &str) -> StoreError {
    StoreError::Backend(Box::new(GroupError::Commit(message.to_string())))
}
