//! The store contract: each test is written once against `dyn Store` and runs on core's
//! in-memory store, on SQLite (a fresh folder per test) and, when `TESSERA_TEST_POSTGRES_URL`
//! is set, on PostgreSQL (a fresh database per test, dropped afterwards), so tests run in
//! parallel on all of them. Tests of what only a database has run on the two databases only
//! (`harness::on_both`).
//!
//! ```text
//! TESSERA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo test -p tessera-store
//! ```

// Helpers outside `#[test]` functions are not covered by clippy.toml's `allow-*-in-tests`.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod accounts;
mod admin;
mod audit;
mod batches;
mod delivery;
mod directory;
mod forward_auth;
mod harness;
mod lockout;
mod methods;
mod oidc;
mod oidc_logout;
mod outbox;
mod password_guesses;
mod push;
mod radius;
mod refusals;
mod reset;
mod reset_attempts;
mod reset_push;
mod schema;
mod sealed;
mod sessions;
mod verify_api;
mod web_push;
mod webauthn;
mod writers;
