//! The RADIUS front door (issue #18; docs/design/radius.md): an authentication server
//! (RFC 2865) on UDP, off until `radius_listen` is set. `listener` receives datagrams,
//! drops those from unknown addresses (counted) and recognizes retransmissions (`dedup`);
//! `exchange` answers one request through core's `radius` module (the packet format is
//! `tessera_core::radius::packet`, shared with the bench and the tests' client).

mod dedup;
mod exchange;
mod listener;

pub use listener::{bind, serve};

/// Counted drops, by reason (`tessera_radius_dropped_total`).
pub(crate) fn dropped(reason: &'static str) {
    metrics::counter!("tessera_radius_dropped_total", "reason" => reason).increment(1);
}
