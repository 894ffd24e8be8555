//! Wake-ups for push requests, across nodes.
//!
//! A request inserted or answered names a key (`device:<id>`, `bind:<flow/session/method>`)
//! that someone may be waiting on: a device's long poll, a sign-in page. On PostgreSQL the
//! key is sent with `NOTIFY` inside the transaction that made the change, so it is heard
//! only once the change is visible, and by every node: each node keeps one `LISTEN`
//! connection that feeds its in-process channel. On SQLite (one node) the key goes on the
//! in-process channel after the commit.
//!
//! A waiter subscribes *before* it looks at the database, so a change made between its look
//! and its wait still wakes it. When the listener loses its connection, notifications sent
//! meanwhile are lost; waiters are told [`Wake::Missed`] and look again.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tessera_core::store::StoreResult;
use tessera_core::store::push::{PushSubscription, Wake};
use tokio::sync::{broadcast, watch};

use crate::{Dialect, db_err};

/// The PostgreSQL channel every node listens on.
pub(crate) const CHANNEL: &str = "tessera_push";

/// Sent on the in-process channel when wake-ups may have been lost.
const MISSED: &str = "*";

/// Enough for a burst; a waiter that falls further behind is told to look again.
const CAPACITY: usize = 1024;

/// One node's wake-up channel (and, on PostgreSQL, its listener).
pub(crate) struct Hub {
    tx: broadcast::Sender<Arc<str>>,
    stop: watch::Sender<bool>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("subscribers", &self.tx.receiver_count())
            .finish()
    }
}

impl Hub {
    /// The hub of a store; on PostgreSQL, listening before this returns, so nothing
    /// committed afterwards is missed.
    pub(crate) async fn start(dialect: Dialect, url: &str) -> StoreResult<Arc<Hub>> {
        let (tx, _) = broadcast::channel(CAPACITY);
        let (stop, stopped) = watch::channel(false);
        if dialect == Dialect::Postgres {
            let mut listener = PgListener::connect(url).await.map_err(db_err)?;
            listener.listen(CHANNEL).await.map_err(db_err)?;
            tokio::spawn(forward(listener, tx.clone(), stopped));
        }
        Ok(Arc::new(Hub { tx, stop }))
    }

    /// Wakes the waiters on `key` on this node (SQLite; PostgreSQL uses `NOTIFY`).
    pub(crate) fn wake(&self, key: &str) {
        // No receivers is fine: nobody was waiting.
        let _ = self.tx.send(Arc::from(key));
    }

    pub(crate) fn subscribe(&self) -> Box<dyn PushSubscription> {
        Box::new(Subscription(self.tx.subscribe()))
    }

    /// How many subscriptions are open on this node.
    pub(crate) fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }

    /// Stops the listener.
    pub(crate) fn close(&self) {
        let _ = self.stop.send(true);
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.close();
    }
}

/// Feeds notifications to the node's channel until the hub stops.
async fn forward(
    mut listener: PgListener,
    tx: broadcast::Sender<Arc<str>>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            next = listener.try_recv() => match next {
                Ok(Some(notification)) => {
                    let _ = tx.send(Arc::from(notification.payload()));
                }
                // The connection went; the next call reconnects and listens again.
                Ok(None) => {
                    let _ = tx.send(Arc::from(MISSED));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "push listener failed; retrying");
                    let _ = tx.send(Arc::from(MISSED));
                    tokio::select! {
                        _ = stopped.changed() => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        }
    }
}

struct Subscription(broadcast::Receiver<Arc<str>>);

impl PushSubscription for Subscription {
    fn next(&mut self) -> Pin<Box<dyn Future<Output = Wake> + Send + '_>> {
        Box::pin(async move {
            match self.0.recv().await {
                Ok(key) if &*key == MISSED => Wake::Missed,
                Ok(key) => Wake::Key(key.to_string()),
                Err(broadcast::error::RecvError::Lagged(_)) => Wake::Missed,
                // The hub lives as long as the store; without it nothing will ever come.
                Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
            }
        })
    }
}
