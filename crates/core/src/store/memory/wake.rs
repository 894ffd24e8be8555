//! Waking waiters without a runtime: push wake-ups on a broadcast channel, and the outbox's
//! wait bounded by a timer thread (core has no runtime, so no runtime timer either).

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::sync::{Notify, broadcast};

use crate::store::push::{PushSubscription, Wake};

/// Enough for a burst; a waiter that falls further behind is told to look again.
const CAPACITY: usize = 1024;

/// The store's wake-up channel: what the SQL store's hub is on SQLite (one node).
#[derive(Debug)]
pub(super) struct Hub {
    tx: broadcast::Sender<Arc<str>>,
}

impl Hub {
    pub(super) fn new() -> Hub {
        Hub {
            tx: broadcast::channel(CAPACITY).0,
        }
    }

    /// Wakes the waiters on `keys`; called once the change is made.
    pub(super) fn wake(&self, keys: &[String]) {
        for key in keys {
            // No receivers is fine: nobody was waiting.
            let _ = self.tx.send(Arc::from(key.as_str()));
        }
    }

    pub(super) fn subscribe(&self) -> Box<dyn PushSubscription> {
        Box::new(Subscription(self.tx.subscribe()))
    }

    pub(super) fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }
}

struct Subscription(broadcast::Receiver<Arc<str>>);

impl PushSubscription for Subscription {
    fn next(&mut self) -> Pin<Box<dyn Future<Output = Wake> + Send + '_>> {
        Box::pin(async move {
            match self.0.recv().await {
                Ok(key) => Wake::Key(key.to_string()),
                Err(broadcast::error::RecvError::Lagged(_)) => Wake::Missed,
                // The hub lives as long as the store; without it nothing will ever come.
                Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
            }
        })
    }
}

/// Waits until `notify` is notified (or was, with no waiter then) or `max` passes.
pub(super) async fn notified_within(notify: &Notify, max: Duration) {
    let mut notified = pin!(notify.notified());
    let mut timer = Timer::new(max);
    std::future::poll_fn(|cx| {
        if notified.as_mut().poll(cx).is_ready() || timer.poll(cx).is_ready() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Ready once `after` has passed: a thread sleeps it, then wakes the last poller.
struct Timer {
    after: Duration,
    shared: Option<Arc<Mutex<TimerState>>>,
}

#[derive(Default)]
struct TimerState {
    done: bool,
    waker: Option<Waker>,
}

impl Timer {
    fn new(after: Duration) -> Timer {
        Timer {
            after,
            shared: None,
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let shared = match &self.shared {
            Some(shared) => shared,
            None => self.start(),
        };
        // A poisoned lock means the timer thread panicked: no wake will come, so stop waiting.
        let Ok(mut state) = shared.lock() else {
            return Poll::Ready(());
        };
        if state.done {
            return Poll::Ready(());
        }
        state.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    fn start(&mut self) -> &Arc<Mutex<TimerState>> {
        let shared = Arc::new(Mutex::new(TimerState::default()));
        let theirs = Arc::clone(&shared);
        let after = self.after;
        let spawned = std::thread::Builder::new()
            .name("memory-store-timer".into())
            .spawn(move || {
                std::thread::sleep(after);
                if let Ok(mut state) = theirs.lock() {
                    state.done = true;
                    if let Some(waker) = state.waker.take() {
                        waker.wake();
                    }
                }
            });
        if spawned.is_err()
            && let Ok(mut state) = shared.lock()
        {
            // Without a timer the wait cannot end on time; it ends at once (a poll too early
            // is harmless: the worker looks and waits again).
            state.done = true;
        }
        self.shared.insert(shared)
    }
}
