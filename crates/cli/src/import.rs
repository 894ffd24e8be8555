//! `tessera import tokens|accounts FILE`: hardware OATH tokens and accounts from CSV, row by
//! row, with a progress bar and a report of every row that was not imported (and, for
//! accounts, the temporary password of each new one). Exit 0 when every row was imported,
//! 2 when some rows were not (the others are in), 1 when doing it failed.

use crate::config::{Config, ConfigArgs};
use crate::failure::{Failure, Outcome};
use crate::open::open;
use crate::output::print_json;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};
use tessera_core::Error;
use tessera_core::admin::Admin;
use tessera_core::import::{self, RowProblem};

#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// Hardware OATH TOTP tokens: upn,serial number,secret key,time interval,manufacturer,model
    /// (secret key in Base32, time interval 30 or 60). Each token is assigned to its account;
    /// the person activates it by typing one code on the security info page
    Tokens(FileArgs),
    /// Accounts: username, and optionally display name, email, admin (yes/no) and password.
    /// Each gets a temporary password (generated when the column is empty, and printed) that
    /// must be changed at the first sign-in
    Accounts(FileArgs),
}

#[derive(Debug, clap::Args)]
pub struct FileArgs {
    /// The CSV file, with a header row; `-` reads standard input
    pub file: PathBuf,
    /// Print the report as JSON instead of lines
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

impl ImportCommand {
    pub fn config_args(&self) -> &ConfigArgs {
        match self {
            ImportCommand::Tokens(a) | ImportCommand::Accounts(a) => &a.config,
        }
    }
}

/// One row of the report.
#[derive(Debug, Serialize)]
struct RowReport {
    line: u64,
    username: String,
    imported: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temporary_password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

#[derive(Debug, Serialize)]
struct Report {
    imported: usize,
    failed: usize,
    rows: Vec<RowReport>,
}

fn read(path: &Path) -> Outcome<String> {
    let mut text = String::new();
    let read = if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    read.map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
    Ok(text)
}

/// What was wrong with a row, as a sentence.
fn sentence(problem: &RowProblem) -> String {
    match problem {
        RowProblem::Field { field, problem } => Failure::from(Error::BadRequest {
            field,
            problem: *problem,
        })
        .to_string(),
        RowProblem::Unreadable => {
            "the row could not be read: check the number of columns and the quotes".into()
        }
        RowProblem::UnknownAccount => "there is no account with this username".into(),
        RowProblem::UsernameTaken => "an account with this username already exists".into(),
        RowProblem::SerialTaken => "a token with this serial number is already assigned".into(),
    }
}

fn failed(line: u64, username: String, problem: &RowProblem) -> RowReport {
    RowReport {
        line,
        username,
        imported: false,
        id: None,
        temporary_password: None,
        error: Some(problem.code()),
        message: Some(sentence(problem)),
    }
}

fn progress(rows: usize) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(rows as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} rows {msg}") {
        bar.set_style(style);
    }
    bar
}

async fn tokens(admin: &Admin<'_>, text: &str) -> Outcome<Vec<RowReport>> {
    let rows = import::parse_tokens(text)?;
    let bar = progress(rows.len());
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let outcome = match &row.record {
            Ok(record) => admin.import_token(record).await?,
            Err(problem) => Err(problem.clone()),
        };
        out.push(match outcome {
            Ok(method) => RowReport {
                line: row.line,
                username: row.key,
                imported: true,
                id: Some(method.to_string()),
                temporary_password: None,
                error: None,
                message: None,
            },
            Err(problem) => failed(row.line, row.key, &problem),
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(out)
}

async fn accounts(admin: &Admin<'_>, text: &str) -> Outcome<Vec<RowReport>> {
    let rows = import::parse_accounts(text)?;
    let bar = progress(rows.len());
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let outcome = match &row.record {
            Ok(record) => admin.import_account(record).await?,
            Err(problem) => Err(problem.clone()),
        };
        out.push(match outcome {
            Ok((account, password)) => RowReport {
                line: row.line,
                username: account.username,
                imported: true,
                id: Some(account.id.to_string()),
                temporary_password: Some(password.to_string()),
                error: None,
                message: None,
            },
            Err(problem) => failed(row.line, row.key, &problem),
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(out)
}

pub async fn run(command: ImportCommand, config: &Config) -> Outcome {
    let (args, is_tokens) = match &command {
        ImportCommand::Tokens(a) => (a, true),
        ImportCommand::Accounts(a) => (a, false),
    };
    // A file that cannot be read is refused before the database is opened.
    let text = read(&args.file)?;
    let opened = open(config).await?;
    let admin = opened.tessera.local_admin();
    let rows = if is_tokens {
        tokens(&admin, &text).await
    } else {
        accounts(&admin, &text).await
    };
    drop(admin);
    opened.close().await;
    let rows = rows?;
    let imported = rows.iter().filter(|r| r.imported).count();
    let report = Report {
        imported,
        failed: rows.len() - imported,
        rows,
    };
    if args.json {
        print_json(&report)?;
    } else {
        print_lines(&report);
    }
    if report.failed > 0 {
        return Err(Failure::Usage(format!(
            "{} of {} rows were not imported (see above); fix them and import those rows again",
            report.failed,
            report.imported + report.failed
        )));
    }
    Ok(())
}

fn print_lines(report: &Report) {
    for row in &report.rows {
        match (&row.message, &row.temporary_password) {
            (Some(message), _) => println!(
                "line {}: {}: not imported: {message}",
                row.line, row.username
            ),
            (None, Some(password)) => {
                println!(
                    "line {}: {}: imported, temporary password {password}",
                    row.line, row.username
                )
            }
            (None, None) => println!("line {}: {}: imported", row.line, row.username),
        }
    }
    println!(
        "{} imported, {} not imported",
        report.imported, report.failed
    );
}
