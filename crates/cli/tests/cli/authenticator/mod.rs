//! `tessera authenticator`, the reference authenticator, as a separate process against
//! servers in this process (on a fake clock), on SQLite and PostgreSQL.

mod harness;
mod journey;
mod nodes;
