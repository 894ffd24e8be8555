//! SIGHUP: read again what can change without a restart (issue #21), the way nginx and most
//! daemons do, so `systemctl reload tessera` (or a certificate renewal hook) needs no restart
//! and drops no connection.
//!
//! Each part that can be reloaded registers a [`Reloaders::add`] hook before `serve` starts
//! listening (the TLS certificate today). On SIGHUP every hook runs in the order added; one
//! that fails is logged and leaves its part as it was, and the others still run.

use crate::failure::chain;
use std::future::Future;
use std::pin::Pin;
use tokio::task::JoinHandle;

/// What a hook answers: `Err` keeps the old state and is logged.
pub type Reloaded = Result<(), Box<dyn std::error::Error + Send + Sync>>;

type Hook = Box<dyn Fn() -> Pin<Box<dyn Future<Output = Reloaded> + Send>> + Send + Sync>;

/// The hooks SIGHUP runs.
#[derive(Default)]
pub struct Reloaders {
    hooks: Vec<(&'static str, Hook)>,
}

impl Reloaders {
    /// Adds a hook; `what` names it in the log ("TLS certificate", "master keys").
    pub fn add<F, Fut>(&mut self, what: &'static str, reload: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Reloaded> + Send + 'static,
    {
        self.hooks
            .push((what, Box::new(move || Box::pin(reload()) as Pin<Box<_>>)));
    }

    /// Runs every hook once; how many failed.
    pub async fn run_all(&self) -> usize {
        if self.hooks.is_empty() {
            tracing::info!("SIGHUP: nothing to reload");
        }
        let mut failed = 0;
        for (what, hook) in &self.hooks {
            match hook().await {
                Ok(()) => tracing::info!(what, "reloaded"),
                Err(e) => {
                    failed += 1;
                    tracing::error!(what, error = %chain(e.as_ref()), "reload failed; the previous one stays in force");
                }
            }
        }
        failed
    }

    /// Runs the hooks at every SIGHUP until the task is aborted. The handler is in place when
    /// this returns: a SIGHUP sent after the listening line never ends the process (SIGHUP's
    /// default action).
    pub fn watch(self) -> std::io::Result<JoinHandle<()>> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut hangups = signal(SignalKind::hangup())?;
            Ok(tokio::spawn(async move {
                while hangups.recv().await.is_some() {
                    tracing::info!("SIGHUP: reloading");
                    self.run_all().await;
                }
            }))
        }
        #[cfg(not(unix))]
        {
            // No SIGHUP to wait for; the hooks stay unused.
            drop(self);
            Ok(tokio::spawn(async {}))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn every_hook_runs_even_after_one_fails() {
        let ran = Arc::new(AtomicUsize::new(0));
        let mut reloaders = Reloaders::default();
        reloaders.add("broken", || async { Err("the file is gone".into()) });
        let counter = ran.clone();
        reloaders.add("counter", move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        });
        assert_eq!(reloaders.run_all().await, 1);
        assert_eq!(reloaders.run_all().await, 1);
        assert_eq!(ran.load(Ordering::SeqCst), 2);
    }
}
