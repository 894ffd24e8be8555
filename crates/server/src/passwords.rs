//! Password hashing off the async workers: Argon2id costs tens of milliseconds of CPU.
//!
//! The hashes run on threads of their own, one per core, each taking the next waiting job the
//! moment it finishes one. Without the bound a burst of sign-ins starts one blocking thread
//! each, every one holding Argon2id's 19 MiB at once (64 at a time is 1.2 GB) while they share
//! the same cores and finish no sooner. A semaphore in front of `spawn_blocking` bounds them
//! too, but hands each freed slot over through an async worker, which has to be scheduled
//! between two hashes that keep both cores busy: the load benchmark measured a quarter of the
//! hashing capacity lost that way.

use async_trait::async_trait;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};
use tessera_core::password::{Argon2Passwords, PasswordCheck, PasswordHasher};
use tessera_core::{Error, Internal};
use tokio::sync::oneshot;
use zeroize::Zeroizing;

#[derive(Debug, Clone, Default)]
pub struct BlockingPasswords(pub Arc<Argon2Passwords>);

type Job = Box<dyn FnOnce() + Send>;

/// The queue of the hashing threads, one per core for the whole process: the cores are the
/// process's, however many hashers it holds. Jobs run in the order they came.
fn hashing_queue() -> &'static Sender<Job> {
    static QUEUE: OnceLock<Sender<Job>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        for n in 0..cores {
            let queue = queue.clone();
            // A thread that cannot start leaves the others; with none, `run` answers None.
            let _ = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || work(&queue));
        }
        jobs
    })
}

fn work(queue: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while waiting for a job, never while hashing.
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        // A panic ends that job (its caller sees no answer), not the thread.
        let _ = catch_unwind(AssertUnwindSafe(job));
    }
}

/// Runs `f` on a hashing thread; `None` when it could not run. A caller that has gone away
/// before its turn costs no hash.
async fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (answer, answered) = oneshot::channel();
    let job: Job = Box::new(move || {
        if !answer.is_closed() {
            let _ = answer.send(f());
        }
    });
    hashing_queue().send(job).ok()?;
    answered.await.ok()
}

#[async_trait]
impl PasswordHasher for BlockingPasswords {
    async fn hash(&self, password: Zeroizing<String>) -> tessera_core::Result<String> {
        let inner = self.0.clone();
        run(move || inner.hash_now(&password))
            .await
            .unwrap_or(Err(Error::Internal(Internal::PasswordHash)))
    }

    async fn verify(&self, password: Zeroizing<String>, phc: Option<String>) -> PasswordCheck {
        let inner = self.0.clone();
        run(move || inner.verify_now(&password, phc.as_deref()))
            .await
            .unwrap_or(PasswordCheck::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> BlockingPasswords {
        BlockingPasswords(Arc::new(Argon2Passwords::new(256, 1, 1).unwrap()))
    }

    #[tokio::test]
    async fn hashes_and_checks_on_the_hashing_threads() {
        let passwords = fast();
        let phc = passwords
            .hash(Zeroizing::new("correct horse".into()))
            .await
            .unwrap();
        let right = passwords.verify(Zeroizing::new("correct horse".into()), Some(phc.clone()));
        let wrong = passwords.verify(Zeroizing::new("wrong horse".into()), Some(phc));
        assert!(matches!(right.await, PasswordCheck::Match { .. }));
        assert_eq!(wrong.await, PasswordCheck::Mismatch);
    }

    #[tokio::test]
    async fn many_at_once_all_get_their_answer() {
        let passwords = fast();
        let phc = passwords.hash(Zeroizing::new("pw-0".into())).await.unwrap();
        let checks = (0..32).map(|n| {
            let passwords = passwords.clone();
            let phc = phc.clone();
            async move {
                let check = passwords
                    .verify(Zeroizing::new(format!("pw-{}", n % 2)), Some(phc))
                    .await;
                (n, check)
            }
        });
        for (n, check) in futures_util::future::join_all(checks).await {
            assert_eq!(matches!(check, PasswordCheck::Match { .. }), n % 2 == 0);
        }
    }

    #[tokio::test]
    async fn a_panicking_job_leaves_the_threads_working() {
        assert_eq!(run(|| -> u8 { panic!("boom") }).await, None);
        let passwords = fast();
        assert!(passwords.hash(Zeroizing::new("still".into())).await.is_ok());
    }
}
