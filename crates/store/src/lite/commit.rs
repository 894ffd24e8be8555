//! The commit thread: it owns the writing connection and runs each batch of the group commit
//! (see [`crate::commit_group`]) in one transaction, every job in its savepoint.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;
use tessera_core::store::StoreResult;
use tokio::sync::oneshot;

use super::{accept, exec};
use crate::SQLITE_BEGIN_WRITE;
use crate::commit_group::{Done, Job};

type Batch = (Vec<Job>, oneshot::Sender<()>);

/// How often the checkpointer looks whether there is anything to copy.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

#[derive(Debug)]
pub(crate) struct Committer {
    batches: mpsc::Sender<Batch>,
    thread: JoinHandle<()>,
    checkpointer: JoinHandle<()>,
}

impl Committer {
    /// `writer` commits; `checkpointer` copies the WAL into the database meanwhile, so the
    /// commit thread never stops for a checkpoint.
    pub(crate) fn start(writer: Connection, checkpointer: Connection) -> StoreResult<Committer> {
        let (batches, received) = mpsc::channel::<Batch>();
        let (stop, stopped) = mpsc::channel::<()>();
        let written = Arc::new(AtomicBool::new(false));
        let wrote = written.clone();
        let thread = spawn("tessera-commit", move || {
            for (batch, done) in received {
                commit(&writer, batch);
                wrote.store(true, Ordering::Release);
                let _ = done.send(());
            }
            drop(stop);
        })?;
        let checkpointer = spawn("tessera-checkpoint", move || {
            checkpoints(&checkpointer, &written, stopped)
        })?;
        Ok(Committer {
            batches,
            thread,
            checkpointer,
        })
    }

    /// Runs `batch`; every job is answered before this returns.
    pub(crate) async fn run(&self, batch: Vec<Job>) {
        let (done, finished) = oneshot::channel();
        match self.batches.send((batch, done)) {
            Ok(()) => {
                let _ = finished.await;
            }
            Err(mpsc::SendError((batch, _))) => {
                batch
                    .into_iter()
                    .for_each(|job| job.fail("the commit thread stopped"));
            }
        }
    }

    /// Ends both threads, closing their connections.
    pub(crate) async fn stop(self) {
        drop(self.batches);
        let (thread, checkpointer) = (self.thread, self.checkpointer);
        let _ = tokio::task::spawn_blocking(move || {
            let _ = thread.join();
            let _ = checkpointer.join();
        })
        .await;
    }
}

fn spawn(name: &str, run: impl FnOnce() + Send + 'static) -> StoreResult<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(run)
        .map_err(|e| tessera_core::StoreError::Backend(Box::new(e)))
}

/// A passive checkpoint after each pause in which something was committed, until the commit
/// thread ends. Passive: it copies what no reader still needs and never blocks a writer.
fn checkpoints(conn: &Connection, written: &AtomicBool, stopped: mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
        if written.swap(false, Ordering::AcqRel)
            && let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
        {
            tracing::warn!(error = %e, "SQLite checkpoint failed; it is tried again");
        }
    }
}

/// One transaction for the batch, then one commit. Nobody hears before the commit; when it
/// fails, everybody hears that.
///
/// The batch runs first without savepoints. A savepoint copies every page to its journal
/// before the page's first change, and nearly every answer keeps what it wrote, while a
/// refused one writes nothing. Only when an answer wrote what it must not keep (an effect
/// gone stale) or failed is the batch rolled back and run again, every answer in its
/// savepoint; each then decides on the rows as the ones before it left them, as before.
fn commit(conn: &Connection, batch: Vec<Job>) {
    if let Err(e) = exec(conn, SQLITE_BEGIN_WRITE, &[]) {
        let message = e.to_string();
        batch.into_iter().for_each(|job| job.fail(&message));
        return;
    }
    let mut done = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter();
    let mut clean = true;
    for job in jobs.by_ref() {
        let before = conn.total_changes();
        let one = job.run(
            |acceptance| accept::accept(conn, acceptance),
            |refusal| accept::refuse(conn, refusal),
        );
        clean = !one.failed() && (one.keeps() || conn.total_changes() == before);
        done.push(one);
        if !clean {
            break;
        }
    }
    if clean {
        return finish(conn, done);
    }
    let _ = conn.execute_batch("ROLLBACK");
    let batch: Vec<Job> = done.into_iter().map(Done::again).chain(jobs).collect();
    in_savepoints(conn, batch);
}

/// As [`commit`], each job in a savepoint kept only when it changed something.
fn in_savepoints(conn: &Connection, batch: Vec<Job>) {
    if let Err(e) = exec(conn, SQLITE_BEGIN_WRITE, &[]) {
        let message = e.to_string();
        batch.into_iter().for_each(|job| job.fail(&message));
        return;
    }
    let mut done = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter();
    match jobs
        .by_ref()
        .find_map(|job| in_savepoint(conn, job, &mut done).err())
    {
        None => finish(conn, done),
        Some(e) => abandon(conn, done, jobs.collect(), &e.to_string()),
    }
}

/// Commits, then answers every job run.
fn finish(conn: &Connection, done: Vec<Done>) {
    match exec(conn, "COMMIT", &[]) {
        Ok(_) => done.into_iter().for_each(Done::answer),
        Err(e) => abandon(conn, done, Vec::new(), &e.to_string()),
    }
}

/// Rolls the batch back and tells everybody it failed.
fn abandon(conn: &Connection, done: Vec<Done>, left: Vec<Job>, message: &str) {
    // Leaves the connection out of any transaction for the next batch.
    let _ = conn.execute_batch("ROLLBACK");
    done.into_iter().for_each(|d| d.fail(message));
    left.into_iter().for_each(|job| job.fail(message));
}

/// Runs the job between `SAVEPOINT` and `RELEASE` (rolled back to the savepoint unless it is
/// kept) and adds it to `done`. An error of the savepoint itself leaves the transaction in
/// doubt: the caller abandons the batch.
fn in_savepoint(conn: &Connection, job: Job, done: &mut Vec<Done>) -> StoreResult<()> {
    if let Err(e) = exec(conn, "SAVEPOINT answer", &[]) {
        job.fail(&e.to_string());
        return Err(e);
    }
    let one = job.run(
        |acceptance| accept::accept(conn, acceptance),
        |refusal| accept::refuse(conn, refusal),
    );
    let kept = one.keeps();
    done.push(one);
    match kept {
        true => exec(conn, "RELEASE answer", &[]),
        false => {
            exec(conn, "ROLLBACK TO answer", &[]).and_then(|_| exec(conn, "RELEASE answer", &[]))
        }
    }
    .map(|_| ())
}
