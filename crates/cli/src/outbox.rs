//! `tessera outbox list [--json]`: the texts, calls and emails of the outbox, newest first,
//! with their words while they hold them: with the development `outbox` provider, this is
//! where an admin reads the codes that a gateway would have sent.

use crate::config::{Config, ConfigArgs};
use crate::failure::{Failure, Outcome};
use crate::open::open;
use crate::output::{print_json, table};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, clap::Subcommand)]
pub enum OutboxCommand {
    /// List recent messages, newest first
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
    /// How many messages
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    #[command(flatten)]
    pub config: ConfigArgs,
}

impl OutboxCommand {
    pub fn config_args(&self) -> &ConfigArgs {
        match self {
            OutboxCommand::List(a) => &a.config,
        }
    }
}

#[derive(Debug, Serialize)]
struct Row {
    id: String,
    created_at: String,
    channel: &'static str,
    topic: &'static str,
    to: String,
    status: &'static str,
    attempts: u32,
    subject: Option<String>,
    text: Option<String>,
    note: Option<String>,
}

pub async fn run(command: OutboxCommand, config: &Config) -> Outcome {
    let OutboxCommand::List(args) = command;
    let opened = open(config).await?;
    let messages = opened
        .tessera
        .local_admin()
        .recent_messages(args.limit)
        .await
        .map_err(Failure::from);
    let rows: Outcome<Vec<Row>> = messages.map(|messages| {
        messages
            .iter()
            .map(|m| {
                let words =
                    tessera_server::delivery::words(&opened.tessera, m, &config.organization);
                Row {
                    id: m.id.to_string(),
                    created_at: m.created_at.format(&Rfc3339).unwrap_or_default(),
                    channel: m.channel.as_str(),
                    topic: m.topic.as_str(),
                    to: m.to.clone(),
                    status: m.status.as_str(),
                    attempts: m.attempts,
                    subject: words
                        .as_ref()
                        .filter(|_| m.channel == tessera_core::message::Channel::Email)
                        .map(|w| w.subject.clone()),
                    text: words.map(|w| w.text),
                    note: m.note.clone(),
                }
            })
            .collect()
    });
    opened.close().await;
    let rows = rows?;
    if args.json {
        return print_json(&rows);
    }
    let mut lines = vec![
        ["CREATED", "CHANNEL", "TO", "STATUS", "TEXT"]
            .map(String::from)
            .to_vec(),
    ];
    lines.extend(rows.into_iter().map(|r| {
        vec![
            r.created_at,
            r.channel.to_string(),
            r.to,
            r.status.to_string(),
            r.text.unwrap_or_default().replace('\n', " "),
        ]
    }));
    print!("{}", table(&lines));
    Ok(())
}
