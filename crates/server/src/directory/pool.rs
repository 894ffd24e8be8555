//! A few connections bound as the service account, kept open for the searches and the
//! service's writes, so a busy server does not open a TCP connection, do a TLS handshake and
//! bind for every sign-in. A connection is reused while it looks healthy, dropped after any
//! error that may have left it broken, and replaced lazily by the next request. A person's
//! own bind never happens on a pooled connection: it would leave it bound as them.

use super::DirectoryError;
use ldap3::Ldap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Connections in use at once, and kept idle at most. A sign-in holds one for one search,
/// so a few serve many sign-ins a second; the directory's own limits stay out of reach.
pub const DEFAULT_SIZE: usize = 4;

/// An idle connection older than this is closed rather than reused: firewalls and load
/// balancers drop quiet connections without a word (AD itself after 15 minutes), and a
/// reused dead connection would cost a whole operation timeout before the retry.
const MAX_IDLE: Duration = Duration::from_secs(60);

/// A connection is bound again at least this often, however busy: a service account that
/// was disabled or got a new password shows as an outage within minutes, not never.
const MAX_AGE: Duration = Duration::from_secs(10 * 60);

struct Idle {
    ldap: Ldap,
    opened: Instant,
    since: Instant,
}

pub(crate) struct Pool {
    idle: Mutex<Vec<Idle>>,
    /// One permit per connection in use: the bound on concurrent use. Idle connections are
    /// at most `size` too, and a new one is opened only when none is idle, so no more than
    /// `size` are open at once in the steady state.
    permits: Arc<Semaphore>,
    size: usize,
}

/// A connection taken from the pool (or opened for it), with the permit that counts it.
pub(crate) struct Pooled {
    pub ldap: Ldap,
    /// Taken from the idle list rather than just opened: if it fails, the directory may
    /// have restarted while it sat there, and a fresh connection is worth one try.
    pub reused: bool,
    opened: Instant,
    _permit: OwnedSemaphorePermit,
}

impl Pool {
    /// `size` 0 keeps nothing: every request opens and closes its own connection.
    pub fn new(size: usize) -> Pool {
        Pool {
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(size.max(1))),
            size,
        }
    }

    /// A permit to use a connection; waits at most `wait` for a busy one to come back.
    pub async fn permit(&self, wait: Duration) -> Result<OwnedSemaphorePermit, DirectoryError> {
        let closed = |_| DirectoryError::Unavailable("the directory client is closed".into());
        if self.size == 0 {
            // No pool: nothing to bound beyond what the callers already do.
            return Arc::new(Semaphore::new(1))
                .acquire_owned()
                .await
                .map_err(closed);
        }
        tokio::time::timeout(wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| {
                DirectoryError::Unavailable(format!(
                    "all {} directory connections stayed busy for {wait:?}",
                    self.size
                ))
            })?
            .map_err(closed)
    }

    /// An idle connection that still looks alive, if any; the permit back otherwise.
    pub fn take_idle(&self, permit: OwnedSemaphorePermit) -> Result<Pooled, OwnedSemaphorePermit> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        // The most recently used first: the others age out instead of all staying warm.
        while let Some(mut conn) = idle.pop() {
            // `is_closed` notices a connection whose driver has stopped (the server closed
            // it); one dropped silently on the way shows only when used.
            if !conn.ldap.is_closed()
                && conn.since.elapsed() < MAX_IDLE
                && conn.opened.elapsed() < MAX_AGE
            {
                return Ok(Pooled {
                    ldap: conn.ldap,
                    reused: true,
                    opened: conn.opened,
                    _permit: permit,
                });
            }
            close(conn.ldap);
        }
        Err(permit)
    }

    /// Closes every idle connection: after an outage they are as suspect as the one that
    /// failed, and each would cost a whole operation timeout to find out.
    pub fn drop_idle(&self) {
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|e| e.into_inner()));
        for conn in idle {
            close(conn.ldap);
        }
    }

    pub fn fresh(ldap: Ldap, permit: OwnedSemaphorePermit) -> Pooled {
        Pooled {
            ldap,
            reused: false,
            opened: Instant::now(),
            _permit: permit,
        }
    }

    /// Hands the connection back after `outcome`: kept when the directory answered (a
    /// "no such person" or a policy refusal leaves the connection as it was), dropped when
    /// the answer was an outage, which may have left it half-read or dead.
    pub fn put_back<T>(&self, mut conn: Pooled, outcome: &Result<T, DirectoryError>) {
        let healthy = !matches!(outcome, Err(DirectoryError::Unavailable(_)));
        if self.size == 0 || !healthy || conn.ldap.is_closed() || conn.opened.elapsed() >= MAX_AGE {
            close(conn.ldap);
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.size {
            idle.push(Idle {
                ldap: conn.ldap,
                opened: conn.opened,
                since: Instant::now(),
            });
        } else {
            close(conn.ldap);
        }
        // The permit drops with `conn`'s last field here, once the connection is back.
    }
}

/// Closes politely in the background (best effort: a dead connection drops on its own).
fn close(mut ldap: Ldap) {
    tokio::spawn(async move {
        let _ = ldap.unbind().await;
    });
}
