//! Tessera's load generator and fault-test tooling. It starts real `tessera serve` processes
//! over a fresh store, seeds an organization directly through the store, and drives them over
//! HTTP on loopback: `tessera-bench load` prints the benchmark table (see the README), and the
//! fault tests (crates/cli/tests/fault) and `tessera-bench pg-restart` reuse the same pieces.

pub mod argon;
pub mod forward_auth;
pub mod load;
pub mod node;
pub mod oidc;
pub mod push_web;
pub mod radius;
pub mod report;
pub mod scenario;
pub mod seed;
pub mod seed_push;
pub mod summary;
pub mod targets;
