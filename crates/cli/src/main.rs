//! The `tessera` command: parse, load the configuration, dispatch. Exit codes: 0 done,
//! 1 failed while doing it, 2 the command, its input or the configuration is wrong.

mod authenticator;
mod backup;
mod config;
mod data_dir;
mod directory;
mod doctor;
mod failure;
mod forward_auth;
mod import;
mod key;
mod key_reload;
mod logging;
mod oidc;
mod open;
mod outbox;
mod output;
mod policy;
mod radius;
mod reload;
mod serve;
mod tls;
mod user;

use clap::Parser;
use config::{Config, ServeFlags};
use failure::{Failure, Outcome};
use std::process::ExitCode;
use tracing_subscriber::filter::LevelFilter;

/// mimalloc for Rust's allocations and, through `override`, for the C code's `malloc` too
/// (SQLite's page cache and journals): glibc's allocator was a tenth of a verification's time
/// (issue #20, docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Tessera: self-hosted two-step verification.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Run the server (defaults: 127.0.0.1:8080, SQLite and the master key in ./data)
    Serve(serve::ServeArgs),
    /// Manage accounts
    #[command(subcommand)]
    User(user::UserCommand),
    /// Show or change the organization's policy
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Manage OpenID Connect clients and signing keys
    #[command(subcommand)]
    Oidc(oidc::OidcCommand),
    /// Manage the access rules of forward authentication (sites behind a reverse proxy)
    #[command(subcommand)]
    ForwardAuth(forward_auth::ForwardAuthCommand),
    /// Manage RADIUS clients (VPNs, Wi-Fi and servers that ask over RADIUS)
    #[command(subcommand)]
    Radius(radius::RadiusCommand),
    /// Rotate the master key: status, add, rotate, retire (while servers run)
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Import accounts or hardware OATH tokens from CSV
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// The organization's directory (LDAP, Active Directory): sync its people's accounts
    #[command(subcommand)]
    Directory(directory::DirectoryCommand),
    /// Read the outbox: texts, calls and emails (kept there by the development provider)
    #[command(subcommand)]
    Outbox(outbox::OutboxCommand),
    /// The reference authenticator: activate, show codes, approve sign-ins
    Authenticator(authenticator::AuthenticatorArgs),
    /// Write a consistent archive of the SQLite data while the server runs (PostgreSQL: pg_dump)
    Backup(backup::BackupArgs),
    /// Restore a backup archive into an empty or new data folder, checking the key first
    Restore(backup::RestoreArgs),
    /// Check the configuration, data folder, key, database and gateways; print what to fix
    Doctor(doctor::DoctorArgs),
}

fn main() -> ExitCode {
    // Usage errors exit with 2 here, before anything else happens.
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.exit_code()
        }
    }
}

fn run(cli: Cli) -> Outcome {
    let no_serve_flags = ServeFlags::default();
    let (args, serve_flags, quiet) = match &cli.command {
        // A device of its own: no server configuration, no database.
        Command::Authenticator(a) => return authenticator::run(a),
        // Checks the configuration itself, so a broken one is reported, not just refused.
        Command::Doctor(a) => return doctor::run(a),
        // Reads no configuration: the archive and the flags say everything.
        Command::Restore(a) => return backup::restore(a),
        Command::Backup(a) => (&a.config, &no_serve_flags, true),
        Command::Serve(a) => (&a.config, &a.flags, false),
        Command::User(c) => (c.config_args(), &no_serve_flags, true),
        Command::Policy(c) => (c.config_args(), &no_serve_flags, true),
        Command::Oidc(c) => (c.config_args(), &no_serve_flags, true),
        Command::ForwardAuth(c) => (c.config_args(), &no_serve_flags, true),
        Command::Radius(c) => (c.config_args(), &no_serve_flags, true),
        Command::Import(c) => (c.config_args(), &no_serve_flags, true),
        Command::Directory(c) => (c.config_args(), &no_serve_flags, true),
        Command::Key(c) => (c.config_args(), &no_serve_flags, true),
        Command::Outbox(c) => (c.config_args(), &no_serve_flags, true),
    };
    let config = Config::load(args, serve_flags, &config::process_env)?;
    // Admin commands print their result; routine log lines would only be noise there.
    logging::init(
        config.log_format,
        if quiet {
            LevelFilter::WARN
        } else {
            LevelFilter::INFO
        },
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(_) => serve::run(config).await,
            Command::User(command) => user::run(command, &config).await,
            Command::Policy(command) => policy::run(command, &config).await,
            Command::Oidc(command) => oidc::run(command, &config).await,
            Command::ForwardAuth(command) => forward_auth::run(command, &config).await,
            Command::Radius(command) => radius::run(command, &config).await,
            Command::Import(command) => import::run(command, &config).await,
            Command::Directory(command) => directory::run(command, &config).await,
            Command::Key(command) => key::run(command, &config).await,
            Command::Outbox(command) => outbox::run(command, &config).await,
            Command::Backup(args) => backup::backup(args, &config).await,
            // Ran above, before the configuration.
            Command::Authenticator(_) | Command::Doctor(_) | Command::Restore(_) => Ok(()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
