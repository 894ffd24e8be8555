//! The `tessera` binary as scripts use it (API.md's command-line section): one test binary,
//! each test in a fresh folder.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod authenticator;
mod forward_auth;
mod harness;
mod import;
mod oidc;
mod policy;
mod postgres;
mod radius;
mod serve;
mod users;
