//! `tessera radius client …`: the RADIUS clients, as the admin API and page manage them
//! (docs/design/radius.md). A new client's shared secret is printed once.

use crate::config::{Config, ConfigArgs};
use crate::failure::{Failure, Outcome};
use crate::open::open;
use crate::output::{JsonArgs, print_json, table, timestamp};
use serde::Serialize;
use tessera_core::Tessera;
use tessera_core::radius::RadiusClient;

#[derive(Debug, clap::Subcommand)]
pub enum RadiusCommand {
    /// Manage the clients that may ask (VPN gateways, Wi-Fi controllers, servers)
    #[command(subcommand)]
    Client(ClientCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum ClientCommand {
    /// Add a client; its shared secret is printed once
    Add(AddArgs),
    /// List the clients
    List(JsonArgs),
    /// Remove a client (by id or name); its requests are dropped from then on
    Remove(RemoveArgs),
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// A name for admins (unique)
    pub name: String,
    /// The address (192.0.2.10) or network (10.0.0.0/24) its requests come from
    #[arg(long, value_name = "ADDRESS")]
    pub address: String,
    /// Answer requests without Message-Authenticator (only for a client that cannot send
    /// it: this gives up the BlastRADIUS protection)
    #[arg(long)]
    pub no_message_authenticator: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    /// The client's id or name
    pub client: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

impl RadiusCommand {
    pub fn config_args(&self) -> &ConfigArgs {
        let RadiusCommand::Client(c) = self;
        match c {
            ClientCommand::Add(a) => &a.config,
            ClientCommand::List(a) => &a.config,
            ClientCommand::Remove(a) => &a.config,
        }
    }
}

pub async fn run(command: RadiusCommand, config: &Config) -> Outcome {
    let opened = open(config).await?;
    let result = execute(command, &opened.tessera).await;
    opened.close().await;
    result
}

#[derive(Debug, Serialize)]
struct ClientView {
    id: String,
    name: String,
    address: String,
    require_message_authenticator: bool,
    created_at: String,
}

impl From<&RadiusClient> for ClientView {
    fn from(c: &RadiusClient) -> Self {
        ClientView {
            id: c.id.to_string(),
            name: c.name.clone(),
            address: c.network.to_string(),
            require_message_authenticator: c.require_message_authenticator,
            created_at: timestamp(c.created_at),
        }
    }
}

async fn execute(command: RadiusCommand, tessera: &Tessera) -> Outcome {
    let admin = tessera.local_admin();
    let RadiusCommand::Client(command) = command;
    match command {
        ClientCommand::Add(args) => {
            let added = admin
                .add_radius_client(&args.name, &args.address, !args.no_message_authenticator)
                .await?;
            let view = ClientView::from(&added.client);
            if args.json {
                return print_json(&serde_json::json!({
                    "client": view,
                    "secret": added.secret.as_str(),
                }));
            }
            println!(
                "added RADIUS client {} ({}) for {}",
                view.name, view.id, view.address
            );
            println!("shared secret (shown once): {}", added.secret.as_str());
        }
        ClientCommand::List(args) => {
            let clients = admin.radius_clients().await?;
            let views: Vec<ClientView> = clients.iter().map(ClientView::from).collect();
            if args.json {
                return print_json(&views);
            }
            if views.is_empty() {
                println!("no RADIUS clients");
                return Ok(());
            }
            let mut rows = vec![
                ["ID", "NAME", "ADDRESS", "MESSAGE-AUTHENTICATOR", "ADDED"]
                    .map(String::from)
                    .to_vec(),
            ];
            rows.extend(views.into_iter().map(|v| {
                vec![
                    v.id,
                    v.name,
                    v.address,
                    if v.require_message_authenticator {
                        "required"
                    } else {
                        "not required"
                    }
                    .to_string(),
                    v.created_at,
                ]
            }));
            print!("{}", table(&rows));
        }
        ClientCommand::Remove(args) => {
            let clients = admin.radius_clients().await?;
            let wanted = args.client.trim();
            let client = clients
                .iter()
                .find(|c| c.id.to_string() == wanted || c.name == wanted)
                .ok_or_else(|| Failure::Usage(format!("there is no RADIUS client {wanted}")))?;
            admin.remove_radius_client(client.id).await?;
            if args.json {
                return print_json(&serde_json::json!({ "removed": client.id.to_string() }));
            }
            println!("removed RADIUS client {} ({})", client.name, client.id);
        }
    }
    Ok(())
}
