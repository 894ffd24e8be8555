//! Group commit on SQLite for accepted responses (a verified code: the used step, the reset
//! failure count, its effects such as the sign-in flow it completes, and the audit events).
//!
//! SQLite commits one writer transaction at a time, each ending in an fsync of the WAL, and
//! the fsync was half of what a verification cost. Acceptances that arrive while the writer is
//! busy wait here and go into the next transaction together, each in a savepoint of its own,
//! so a burst pays one fsync. Nobody is answered before the commit that holds their change,
//! and one acceptance failing or refused rolls back only its own savepoint. Each acceptance still
//! decides on the rows as the ones before it in the batch left them, exactly as one
//! transaction after another would.

use sqlx::{Acquire, AnyPool};
use tessera_core::audit::AuditEvent;
use tessera_core::flow::effect::Effect;
use tessera_core::store::{Acceptance, Accepted, StoreResult};
use tessera_core::{MethodId, StoreError};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use crate::{SQLITE_BEGIN_WRITE, db_err, lockout};

/// Enough to amortize the fsync; small enough that the first in a batch does not wait long
/// on the statements of the others.
const MAX_BATCH: usize = 64;

#[derive(Debug)]
pub(crate) struct CommitGroup {
    queue: mpsc::UnboundedSender<Job>,
}

#[derive(Debug)]
struct Job {
    acceptance: Owned,
    answer: oneshot::Sender<StoreResult<Accepted>>,
}

/// An [`Acceptance`] that can wait in the queue.
#[derive(Debug)]
struct Owned {
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
    #[error("the store is closed")]
    Closed,
    #[error("the group's commit failed: {0}")]
    Commit(String),
}

impl CommitGroup {
    /// Starts the committer on the current runtime; it ends when the store is dropped.
    pub(crate) fn start(writer: AnyPool) -> CommitGroup {
        let (queue, jobs) = mpsc::unbounded_channel();
        tokio::spawn(commit_batches(writer, jobs));
        CommitGroup { queue }
    }

    pub(crate) async fn accept(&self, acceptance: &Acceptance<'_>) -> StoreResult<Accepted> {
        let (answer, answered) = oneshot::channel();
        let job = Job {
            acceptance: Owned::of(acceptance),
            answer,
        };
        self.queue.send(job).map_err(|_| closed())?;
        answered.await.map_err(|_| closed())?
    }
}

fn closed() -> StoreError {
    StoreError::Backend(Box::new(GroupError::Closed))
}

async fn commit_batches(writer: AnyPool, mut jobs: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = jobs.recv().await {
        // What queued up while the last batch committed; never waits for more.
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit(&writer, batch).await;
    }
}

async fn commit(writer: &AnyPool, batch: Vec<Job>) {
    let mut tx = match writer.begin_with(SQLITE_BEGIN_WRITE).await {
        Ok(tx) => tx,
        Err(e) => {
            let message = e.to_string();
            for job in batch {
                let _ = job.answer.send(Err(failed(&message)));
            }
            return;
        }
    };
    let mut outcomes = Vec::with_capacity(batch.len());
    for job in batch {
        let outcome = one(&mut tx, &job.acceptance.as_acceptance()).await;
        outcomes.push((job.answer, outcome));
    }
    match tx.commit().await.map_err(|e| e.to_string()) {
        Ok(()) => {
            for (answer, outcome) in outcomes {
                let _ = answer.send(outcome);
            }
        }
        Err(message) => {
            for (answer, _) in outcomes {
                let _ = answer.send(Err(failed(&message)));
            }
        }
    }
}

/// One acceptance in its own savepoint, kept only when it was accepted.
async fn one(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    acceptance: &Acceptance<'_>,
) -> StoreResult<Accepted> {
    let mut savepoint = tx.begin().await.map_err(db_err)?;
    match lockout::accept_in(&mut savepoint, acceptance).await {
        Ok(Accepted::Yes) => {
            savepoint.commit().await.map_err(db_err)?;
            Ok(Accepted::Yes)
        }
        Ok(refused) => {
            savepoint.rollback().await.map_err(db_err)?;
            Ok(refused)
        }
        Err(e) => {
            savepoint.rollback().await.map_err(db_err)?;
            Err(e)
        }
    }
}

fn failed(message: &str) -> StoreError {
    StoreError::Backend(Box::new(GroupError::Commit(message.to_string())))
}
