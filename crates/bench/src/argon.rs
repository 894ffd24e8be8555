//! The Argon2id bound: how many password checks per second this machine can do at all with
//! the server's parameters, measured in this process on as many threads as the server may
//! use. A sign-in can go no faster; the gap is what everything else costs.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tessera_core::password::{Argon2Passwords, PasswordCheck};

#[derive(Debug, Clone, Copy)]
pub struct Argon2Bound {
    pub threads: usize,
    /// Verifications per second measured on all threads at once (for comparison: on a busy
    /// or throttled machine it falls below `single_per_second × threads`).
    pub all_threads_per_second: f64,
    /// One thread's rate, for the "hashes per second × cores" reading.
    pub single_per_second: f64,
}

/// Measures for about `time` (half on one thread, half on all).
pub fn measure(phc: &str, password: &str, threads: usize, time: Duration) -> Argon2Bound {
    let hasher = Argon2Passwords::default();
    let single = rate(&hasher, phc, password, 1, time / 2);
    let all = rate(&hasher, phc, password, threads.max(1), time / 2);
    Argon2Bound {
        threads: threads.max(1),
        all_threads_per_second: all,
        single_per_second: single,
    }
}

fn rate(
    hasher: &Argon2Passwords,
    phc: &str,
    password: &str,
    threads: usize,
    time: Duration,
) -> f64 {
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let check = hasher.verify_now(password, Some(phc));
                    debug_assert!(matches!(check, PasswordCheck::Match { .. }));
                    done.fetch_add(1, Ordering::Relaxed);
                    if started.elapsed() >= time {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

impl Argon2Bound {
    /// The bound the issue names: one thread's rate times the cores the server may use.
    pub fn per_second(&self) -> f64 {
        self.single_per_second * self.threads as f64
    }
}
