//! The `tessera` binary as scripts use it (API.md's command-line section): one test binary,
//! each test in a fresh folder.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod authenticator;
mod backup;
mod backup_load;
mod directory;
mod directory_serve;
mod directory_slapd;
mod doctor;
mod fixture;
mod forward_auth;
mod harness;
mod import;
mod key;
mod oidc;
mod policy;
mod postgres;
mod radius;
mod serve;
mod shutdown;
mod tls;
mod upgrade;
mod users;
