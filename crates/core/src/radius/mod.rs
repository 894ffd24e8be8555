//! RADIUS (issue #18; docs/design/radius.md): a front door for VPNs, Wi-Fi and servers.
//! `packet` is the wire format, `client` the clients an admin registers, `exchange` the
//! sign-in a RADIUS request is. The server's listener is `server/src/radius/`.

pub mod client;
pub mod exchange;
pub mod network;
pub mod packet;

pub use client::{NewRadiusClient, OpenClient, RadiusClient};
pub use exchange::{Answer, Prompt, RadiusAsker, Refusal};
pub use network::Network;
