//! The commit thread: it owns the writing connection, takes the group commit's queued answers
//! itself (see [`crate::commit_group`]) and commits each batch in one transaction.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool};
use tessera_core::store::StoreResult;
use tokio::runtime::Handle;
use tokio::sync::mpsc::UnboundedReceiver;

use super::{Lite, accept, exec};
use crate::SQLITE_BEGIN_WRITE;
use crate::commit_group::{Done, Job, Queued};

/// How often the checkpointer looks whether there is anything to copy.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// Enough to amortize the fsync; small enough that the first in a batch does not wait long
/// on the statements of the others.
const MAX_BATCH: usize = 64;

/// How long batches that follow each other keep sqlx's writer before they let a write
/// waiting for it in: long enough to save the hand-over between most batches, short enough
/// that a sign-in's write waits no longer than a few commits.
const HOLD: Duration = Duration::from_millis(10);

/// Starts the commit thread on `lite`'s writing connection and, beside it, the checkpointer.
/// The thread runs until the queue's senders are gone or it is asked to close; a close is
/// answered once both connections are closed. `sqlx_writer` is sqlx's one writing
/// connection, held while the thread writes, so a write through sqlx waits for it in the
/// pool's queue instead of polling SQLite's lock.
pub(crate) fn start(
    lite: &Lite,
    queue: UnboundedReceiver<Queued>,
    sqlx_writer: AnyPool,
) -> StoreResult<()> {
    let (writer, checkpointer) = (lite.writer()?, lite.checkpointer()?);
    let runtime = Handle::current();
    let (stop, stopped) = mpsc::channel::<()>();
    let written = Arc::new(AtomicBool::new(false));
    let wrote = written.clone();
    let checkpoints = spawn("tessera-checkpoint", move || {
        checkpoints(&checkpointer, &written, stopped)
    })?;
    spawn("tessera-commit", move || {
        // sqlx hands a connection back to its pool on a task of the runtime's.
        let _runtime = runtime.enter();
        let group = Group {
            conn: &writer,
            sqlx_writer: &sqlx_writer,
            runtime: &runtime,
            wrote: &wrote,
        };
        let closing = group.run(queue);
        // Both connections closed before the close is answered: sqlx's writer, closed after
        // them, is the last connection and folds the WAL into the database.
        drop(writer);
        drop(stop);
        let _ = checkpoints.join();
        if let Some(done) = closing {
            let _ = done.send(());
        }
    })?;
    Ok(())
}

fn spawn(name: &str, run: impl FnOnce() + Send + 'static) -> StoreResult<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(run)
        .map_err(|e| tessera_core::StoreError::Backend(Box::new(e)))
}

struct Group<'a> {
    conn: &'a Connection,
    sqlx_writer: &'a AnyPool,
    runtime: &'a Handle,
    wrote: &'a AtomicBool,
}

impl Group<'_> {
    /// Commits batches until the queue ends or a close is asked (returned, to answer once the
    /// connections are closed). A batch is what waits when the last one is done: the thread
    /// goes on at once with the answers that queued up meanwhile, without a hand-over to the
    /// async workers and back.
    fn run(
        &self,
        mut queue: UnboundedReceiver<Queued>,
    ) -> Option<tokio::sync::oneshot::Sender<()>> {
        let mut held: Option<(PoolConnection<Any>, Instant)> = None;
        let mut closing = None;
        while closing.is_none() {
            if queue.is_empty() {
                // Nothing waits: sqlx's writer is free for everybody else meanwhile.
                held = None;
            }
            // Waits for the first answer; takes the others only if they are there already.
            let mut batch = Vec::new();
            while batch.len() < MAX_BATCH {
                let next = match batch.is_empty() {
                    true => queue.blocking_recv(),
                    false => queue.try_recv().ok(),
                };
                match next {
                    Some(Queued::Job(job)) => batch.push(job),
                    Some(Queued::Close(done)) => {
                        closing = Some(done);
                        break;
                    }
                    None => break,
                }
            }
            if batch.is_empty() {
                break;
            }
            if held
                .as_ref()
                .is_some_and(|(_, since)| since.elapsed() >= HOLD)
            {
                held = None;
            }
            if held.is_none() {
                match self.runtime.block_on(self.sqlx_writer.acquire()) {
                    Ok(token) => held = Some((token, Instant::now())),
                    Err(e) => {
                        let message = e.to_string();
                        batch.into_iter().for_each(|job| job.fail(&message));
                        continue;
                    }
                }
            }
            commit(self.conn, batch);
            self.wrote.store(true, Ordering::Release);
        }
        drop(held);
        queue.close();
        while let Ok(queued) = queue.try_recv() {
            match queued {
                Queued::Job(job) => job.fail(&crate::Closed.to_string()),
                Queued::Close(done) => drop(done.send(())),
            }
        }
        closing
    }
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
    let Some(batch) = begin(conn, batch) else {
        return;
    };
    let mut done = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter();
    let mut clean = true;
    for job in jobs.by_ref() {
        let before = conn.total_changes();
        let one = run_job(conn, job);
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
    let Some(batch) = begin(conn, batch) else {
        return;
    };
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

/// Begins the batch's transaction; the batch back, or, when it cannot begin, every job
/// told so.
fn begin(conn: &Connection, batch: Vec<Job>) -> Option<Vec<Job>> {
    match exec(conn, SQLITE_BEGIN_WRITE, &[]) {
        Ok(_) => Some(batch),
        Err(e) => {
            let message = e.to_string();
            batch.into_iter().for_each(|job| job.fail(&message));
            None
        }
    }
}

/// Runs one job's statements in the open transaction.
fn run_job(conn: &Connection, job: Job) -> Done {
    job.run(
        |acceptance| accept::accept(conn, acceptance),
        |refusal| accept::refuse(conn, refusal),
    )
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
    let one = run_job(conn, job);
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
