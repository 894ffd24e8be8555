//! `tessera directory sync`: directory accounts brought in step with the organization's
//! directory (issue #19): a person removed or disabled there is disabled here with every
//! session ended; names and groups are updated; an account the sync disabled is enabled again
//! when the person is back. A progress bar, then a report like `tessera import`. And the same
//! sync every `sync_interval_secs` inside `tessera serve`.
//!
//! Each node of a deployment runs its own periodic sync (there is no job lease in the store):
//! the sync is idempotent — every change is "make it so", so two nodes at once make each
//! change once and report it twice at most.

use crate::config::{Config, ConfigArgs};
use crate::failure::{Failure, Outcome, chain};
use crate::open::open;
use crate::output::print_json;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::Arc;
use std::time::Duration;
use tessera_core::Tessera;
use tessera_core::admin::{SyncError, SyncOptions, SyncOutcome, SyncProgress, SyncReport};
use tessera_core::directory::Directory;
use tessera_server::directory::LdapDirectory;

#[derive(Debug, clap::Subcommand)]
pub enum DirectoryCommand {
    /// Bring directory accounts in step with the directory: disable (and sign out) people
    /// removed or disabled there, update names and groups, enable again those the sync
    /// disabled. Accounts are created at the first sign-in (or with --create)
    Sync(SyncArgs),
}

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// Show what would change, change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Also create accounts for directory people who have not signed in yet
    #[arg(long)]
    pub create: bool,
    /// Go on when the directory lists nobody (every directory account is then disabled)
    #[arg(long)]
    pub allow_empty: bool,
    /// Print the report as JSON instead of lines
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

impl DirectoryCommand {
    pub fn config_args(&self) -> &ConfigArgs {
        match self {
            DirectoryCommand::Sync(a) => &a.config,
        }
    }
}

fn directory_of(config: &Config) -> Outcome<LdapDirectory> {
    let Some(settings) = &config.directory else {
        return Err(Failure::Usage(
            "no [directory] section in the configuration: there is no directory to sync with"
                .into(),
        ));
    };
    LdapDirectory::new(settings.clone()).map_err(|e| Failure::Usage(format!("`directory.{e}`")))
}

fn failure(e: SyncError) -> Failure {
    match e {
        SyncError::Tessera(e) => e.into(),
        other => Failure::Runtime(other.to_string()),
    }
}

pub async fn run(command: DirectoryCommand, config: &Config) -> Outcome {
    let DirectoryCommand::Sync(args) = command;
    // A directory that cannot be set up is refused before the database is opened.
    let directory = directory_of(config)?;
    let opened = open(config).await?;
    let options = SyncOptions {
        dry_run: args.dry_run,
        create: args.create,
        allow_empty: args.allow_empty,
    };
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} accounts {msg}") {
        bar.set_style(style);
    }
    bar.set_message("reading the directory");
    let step = |p: SyncProgress| match p {
        SyncProgress::Listed { steps } => {
            bar.set_length(steps as u64);
            bar.set_message("");
        }
        SyncProgress::Step => bar.inc(1),
    };
    let synced = opened
        .tessera
        .sync_directory(&directory, options, &step)
        .await;
    bar.finish_and_clear();
    opened.close().await;
    let report = synced.map_err(failure)?;
    if args.json {
        print_json(&report)?;
    } else {
        print_lines(&report);
    }
    Ok(())
}

fn print_lines(report: &SyncReport) {
    let would = if report.dry_run { "would be " } else { "" };
    for change in &report.changes {
        let what = match change.outcome {
            SyncOutcome::Created => "created",
            SyncOutcome::Updated => "updated",
            SyncOutcome::Disabled => "disabled",
            SyncOutcome::Reenabled => "enabled again",
            SyncOutcome::Skipped => "skipped",
        };
        let would = if change.outcome == SyncOutcome::Skipped {
            ""
        } else {
            would
        };
        println!("{}: {would}{what}: {}", change.username, change.detail);
    }
    println!("{}", summary(report));
    if report.dry_run {
        println!("dry run: nothing was changed");
    }
}

/// The counts line, also the periodic sync's log line.
fn summary(report: &SyncReport) -> String {
    format!(
        "{} people in the directory, {} directory accounts: {} created, {} updated, \
         {} disabled, {} enabled again, {} unchanged, {} skipped, {} not signed in yet",
        report.people,
        report.accounts,
        report.created,
        report.updated,
        report.disabled,
        report.reenabled,
        report.unchanged,
        report.skipped,
        report.not_signed_in
    )
}

/// The periodic sync of `tessera serve`, when `[directory]` is configured with a
/// `sync_interval_secs` other than 0. Uses the directory the server signs in with, so both
/// share one connection pool. The first sync runs one interval after the start, so a restart
/// loop cannot hammer the directory.
pub fn spawn_periodic_sync(
    tessera: Arc<Tessera>,
    config: &Config,
) -> Outcome<Option<tokio::task::JoinHandle<()>>> {
    let Some(settings) = &config.directory else {
        return Ok(None);
    };
    let every = settings.sync_interval;
    if every.is_zero() {
        return Ok(None);
    }
    let directory: Arc<dyn Directory> = match tessera.directory() {
        Some(d) => d.clone(),
        None => Arc::new(directory_of(config)?),
    };
    tracing::info!(every_secs = every.as_secs(), "directory sync scheduled");
    Ok(Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            sync_once(&tessera, directory.as_ref()).await;
        }
    })))
}

async fn sync_once(tessera: &Tessera, directory: &dyn Directory) {
    let started = std::time::Instant::now();
    match tessera
        .sync_directory(directory, SyncOptions::default(), &|_| {})
        .await
    {
        Ok(report) => {
            for change in report.changes.iter().filter(|c| {
                matches!(
                    c.outcome,
                    SyncOutcome::Disabled | SyncOutcome::Reenabled | SyncOutcome::Skipped
                )
            }) {
                tracing::info!(username = %change.username, outcome = ?change.outcome, detail = %change.detail, "directory sync");
            }
            tracing::info!(
                changed = report.changed(),
                took_ms = duration_ms(started.elapsed()),
                "{}",
                summary(&report)
            );
        }
        // Nothing changed; the next tick tries again.
        Err(SyncError::Tessera(e)) => {
            tracing::warn!(error = %chain(&e), "directory sync failed")
        }
        Err(e) => tracing::warn!(error = %e, "directory sync skipped"),
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
