//! Holding a request open (`?wait=N`) until an answer arrives out of band: a notification
//! approved or denied on the device, a new request for a device, an app activated. Every
//! such answer wakes its key on every node (the store's push wake-ups), so the node holding
//! the request hears it whichever node took the answer.
//!
//! One way for every caller: listen first, look, and while the answer is still to come and
//! time is left, wait for the key's wake-up and look again.

use crate::AppState;
use std::future::Future;
use tessera_core::store::push::{PushSubscription, Wake};

/// The longest a call is held open: under the server's 30-second request timeout.
pub const MAX_WAIT_SECS: u64 = 25;

/// A long poll on one wake-up key.
pub struct LongPoll<'a> {
    state: &'a AppState,
    key: String,
    secs: u64,
    gauge: Option<&'static str>,
    look_again_on_timeout: bool,
}

impl<'a> LongPoll<'a> {
    /// Waits on `key` for the `?wait=` the client asked for, at most [`MAX_WAIT_SECS`].
    pub fn new(state: &'a AppState, key: String, wait: Option<u64>) -> Self {
        LongPoll {
            state,
            key,
            secs: wait.unwrap_or(0).min(MAX_WAIT_SECS),
            gauge: None,
            look_again_on_timeout: true,
        }
    }

    /// Counts the calls waiting right now in the gauge `name`.
    pub fn counted(mut self, name: &'static str) -> Self {
        self.gauge = Some(name);
        self
    }

    /// For an answer that changes only with a wake-up (not with time, as an expiring
    /// notification does): a wait that runs out answers what was found, without looking again.
    pub fn changes_only_when_woken(mut self) -> Self {
        self.look_again_on_timeout = false;
        self
    }

    /// What `look` finds; while `waiting` says the answer is still to come, held until the
    /// key is woken or the time runs out, and looked at again.
    pub async fn look<T, E, F, Fut>(self, look: F, waiting: impl Fn(&T) -> bool) -> Result<T, E>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        // Listening before looking, so an answer in between still wakes the wait.
        let mut subscription = self.state.tessera.store().push_subscribe();
        let found = look().await?;
        if self.secs == 0 || !waiting(&found) {
            return Ok(found);
        }
        if let Some(name) = self.gauge {
            metrics::gauge!(name).increment(1.0);
        }
        let woken = woken(subscription.as_mut(), &self.key, self.secs).await;
        if let Some(name) = self.gauge {
            metrics::gauge!(name).decrement(1.0);
        }
        if woken || self.look_again_on_timeout {
            look().await
        } else {
            Ok(found)
        }
    }
}

/// Waits until `key` is woken (or wake-ups may have been missed): true; or `secs` pass:
/// false.
async fn woken(subscription: &mut dyn PushSubscription, key: &str, secs: u64) -> bool {
    let limit = std::time::Duration::from_secs(secs.min(MAX_WAIT_SECS));
    tokio::time::timeout(limit, async {
        loop {
            match subscription.next().await {
                Wake::Key(k) if k == key => return,
                Wake::Missed => return,
                Wake::Key(_) => {}
            }
        }
    })
    .await
    .is_ok()
}
