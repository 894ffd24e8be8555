//! `tessera-bench`: see the crate documentation and the README's benchmark section.

mod bench;
mod pg_restart;
mod timing;

use clap::Parser;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "tessera-bench",
    about = "Load and fault tests against a real tessera serve"
)]
enum Command {
    /// Seed an organization, start the server, drive each scenario, print the table
    Load(bench::LoadArgs),
    /// Under load on two nodes, restart PostgreSQL; check that nothing hangs or is lost
    PgRestart(pg_restart::PgRestartArgs),
    /// Wrong-password sign-ins for known and unknown usernames: are their times alike?
    Timing(timing::TimingArgs),
}

fn main() -> ExitCode {
    let command = Command::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match command {
            Command::Load(args) => bench::run(args).await,
            Command::PgRestart(args) => pg_restart::run(args).await,
            Command::Timing(args) => timing::run(args).await,
        }
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(3),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
