//! `tessera oidc …`: the OpenID Connect clients (relying parties) and the signing keys, as
//! the admin API and pages manage them (docs/design/oidc.md).

use crate::config::{Config, ConfigArgs};
use crate::failure::{Failure, Outcome};
use crate::open::open;
use crate::output::{print_json, table, timestamp};
use tessera_core::oidc::{Client, ClientError, NewClient, Requirement, SigningAlg};
use tessera_core::{Error, Tessera};
use view::{ClientView, Created, KeyView, client_table};

mod view;

#[derive(Debug, clap::Subcommand)]
pub enum OidcCommand {
    /// Register and manage clients (the sites and apps people sign in to)
    #[command(subcommand)]
    Client(ClientCommand),
    /// Make new signing keys; the old ones stay in the JWKS until the tokens they signed
    /// have expired
    RotateKeys(RotateArgs),
}

#[derive(Debug, clap::Subcommand)]
pub enum ClientCommand {
    /// Register a client; print its id and secret (the secret is shown this once)
    Add(AddArgs),
    /// List the clients, by name
    List(ListArgs),
    /// Show a client (never its secret)
    Show(ShowArgs),
    /// Change a client; only the settings given change
    Set(SetArgs),
    /// Give a confidential client a new secret (shown once); the old one stops working
    NewSecret(IdArgs),
    /// Remove a client with its tokens and consents
    Remove(IdArgs),
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The name people see when asked to allow the client access
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// Where the client may send people back to (exact match); repeat for more
    #[arg(long = "redirect-uri", value_name = "URI", required = true)]
    pub redirect_uris: Vec<String>,
    /// An app in a browser or on a device: no secret, PKCE required
    #[arg(long)]
    pub public: bool,
    #[command(flatten)]
    pub settings: Settings,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// The settings `add` and `set` share; for `set`, absent means unchanged.
#[derive(Debug, clap::Args)]
pub struct Settings {
    /// Where the client may send people after signing out; repeat for more
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    pub post_logout_redirect_uris: Vec<String>,
    /// Where Tessera tells the client that a person signed out
    #[arg(long, value_name = "URI")]
    pub backchannel_logout_uri: Option<String>,
    /// Ask people for consent before the client gets their details
    #[arg(long)]
    pub third_party: bool,
    /// Accept only a security key or passkey as the second step
    #[arg(long)]
    pub phishing_resistant: bool,
    /// Allow refresh tokens (scope offline_access)
    #[arg(long)]
    pub offline_access: bool,
    /// The algorithm of its ID tokens [default: ES256]
    #[arg(long, value_name = "ALG", value_parser = parse_alg)]
    pub alg: Option<SigningAlg>,
}

#[derive(Debug, clap::Args)]
pub struct SetArgs {
    pub client_id: String,
    /// A new name
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Replaces the redirect URIs; repeat for more
    #[arg(long = "redirect-uri", value_name = "URI")]
    pub redirect_uris: Vec<String>,
    #[command(flatten)]
    pub settings: Settings,
    /// Remove every post-logout redirect URI
    #[arg(long, conflicts_with = "post_logout_redirect_uris")]
    pub no_post_logout_redirect_uris: bool,
    /// Remove the back-channel logout URI
    #[arg(long, conflicts_with = "backchannel_logout_uri")]
    pub no_backchannel_logout_uri: bool,
    /// No consent page (the opposite of --third-party)
    #[arg(long, conflicts_with = "third_party")]
    pub first_party: bool,
    /// Any second step will do (the opposite of --phishing-resistant)
    #[arg(long, conflicts_with = "phishing_resistant")]
    pub two_step: bool,
    /// No more refresh tokens
    #[arg(long, conflicts_with = "offline_access")]
    pub no_offline_access: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    pub client_id: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, clap::Args)]
pub struct IdArgs {
    pub client_id: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

fn parse_alg(s: &str) -> Result<SigningAlg, String> {
    SigningAlg::parse(&s.to_ascii_uppercase()).ok_or_else(|| "ES256 or RS256".to_string())
}

impl OidcCommand {
    pub fn config_args(&self) -> &ConfigArgs {
        match self {
            OidcCommand::RotateKeys(a) => &a.config,
            OidcCommand::Client(c) => match c {
                ClientCommand::Add(a) => &a.config,
                ClientCommand::List(a) => &a.config,
                ClientCommand::Show(a) => &a.config,
                ClientCommand::Set(a) => &a.config,
                ClientCommand::NewSecret(a) | ClientCommand::Remove(a) => &a.config,
            },
        }
    }
}

pub async fn run(command: OidcCommand, config: &Config) -> Outcome {
    // A description that cannot be right is refused before the database opens.
    if let OidcCommand::Client(ClientCommand::Add(args)) = &command {
        checked(new_client(args))?;
    }
    let opened = open(config).await?;
    let result = execute(command, &opened.tessera).await;
    opened.close().await;
    result
}

async fn execute(command: OidcCommand, tessera: &Tessera) -> Outcome {
    let admin = tessera.local_admin();
    match command {
        OidcCommand::RotateKeys(args) => {
            let keys = admin.rotate_oidc_keys().await?;
            let minutes = tessera_core::oidc::KEY_RETENTION.whole_minutes();
            if args.json {
                let views: Vec<KeyView> = keys
                    .iter()
                    .map(|k| KeyView {
                        kid: k.kid.clone(),
                        alg: k.alg.as_str(),
                        created_at: timestamp(k.created_at),
                    })
                    .collect();
                return print_json(&views);
            }
            let mut rows = vec![vec!["ALG".to_string(), "NEW KID".to_string()]];
            rows.extend(
                keys.iter()
                    .map(|k| vec![k.alg.as_str().to_string(), k.kid.clone()]),
            );
            print!("{}", table(&rows));
            println!(
                "the new keys sign from now on; the old ones stay in the JWKS for {minutes} \
                 minutes, until the tokens they signed have expired"
            );
        }
        OidcCommand::Client(ClientCommand::Add(args)) => {
            let created = admin
                .create_oidc_client(checked(new_client(&args))?)
                .await?;
            let secret = created.secret.as_ref().map(|s| s.to_string());
            if args.json {
                return print_json(&Created {
                    client: ClientView::from(&created.client),
                    client_secret: secret,
                });
            }
            println!("created client {}", created.client.name);
            print_secret(&created.client.client_id, secret.as_deref());
        }
        OidcCommand::Client(ClientCommand::List(args)) => {
            let clients = admin.oidc_clients().await?;
            if args.json {
                let views: Vec<ClientView> = clients.iter().map(ClientView::from).collect();
                return print_json(&views);
            }
            if clients.is_empty() {
                eprintln!("no clients");
            } else {
                print!("{}", client_table(&clients));
            }
        }
        OidcCommand::Client(ClientCommand::Show(args)) => {
            let client = find(admin.oidc_client(&args.client_id).await, &args.client_id)?;
            print_client(&client, args.json)?;
        }
        OidcCommand::Client(ClientCommand::Set(args)) => {
            let old = find(admin.oidc_client(&args.client_id).await, &args.client_id)?;
            let changed = checked(changed(&old, &args))?;
            let client = find(
                admin.update_oidc_client(&args.client_id, changed).await,
                &args.client_id,
            )?;
            print_client(&client, args.json)?;
        }
        OidcCommand::Client(ClientCommand::NewSecret(args)) => {
            let client = find(admin.oidc_client(&args.client_id).await, &args.client_id)?;
            if client.is_public() {
                return Err(Failure::Usage(format!(
                    "{} is a public client: it has no secret",
                    args.client_id
                )));
            }
            let created = find(
                admin.new_oidc_client_secret(&args.client_id).await,
                &args.client_id,
            )?;
            let secret = created.secret.as_ref().map(|s| s.to_string());
            if args.json {
                return print_json(&Created {
                    client: ClientView::from(&created.client),
                    client_secret: secret,
                });
            }
            println!(
                "new secret for {}; the old one no longer works",
                created.client.name
            );
            print_secret(&created.client.client_id, secret.as_deref());
        }
        OidcCommand::Client(ClientCommand::Remove(args)) => {
            find(
                admin.delete_oidc_client(&args.client_id).await,
                &args.client_id,
            )?;
            if args.json {
                return print_json(&serde_json::json!({ "removed": args.client_id }));
            }
            println!(
                "removed client {}; its tokens and consents are gone",
                args.client_id
            );
        }
    }
    Ok(())
}

fn print_secret(client_id: &str, secret: Option<&str>) {
    let mut rows = vec![vec!["client_id".to_string(), client_id.to_string()]];
    if let Some(secret) = secret {
        rows.push(vec!["client_secret".to_string(), secret.to_string()]);
    }
    print!("{}", table(&rows));
    match secret {
        Some(_) => println!("the secret is shown this once: keep it now"),
        None => println!("a public client: no secret; it must use PKCE"),
    }
}

fn print_client(client: &Client, json: bool) -> Outcome {
    let view = ClientView::from(client);
    if json {
        print_json(&view)
    } else {
        print!("{}", view.text());
        Ok(())
    }
}

fn new_client(args: &AddArgs) -> NewClient {
    let s = &args.settings;
    NewClient {
        name: args.name.clone(),
        confidential: !args.public,
        redirect_uris: args.redirect_uris.clone(),
        post_logout_redirect_uris: s.post_logout_redirect_uris.clone(),
        backchannel_logout_uri: s.backchannel_logout_uri.clone(),
        first_party: !s.third_party,
        requirement: if s.phishing_resistant {
            Requirement::PhishingResistant
        } else {
            Requirement::TwoStep
        },
        offline_access: s.offline_access,
        id_token_alg: s.alg.unwrap_or_default(),
    }
}

/// `old` with the settings `args` gives.
fn changed(old: &Client, args: &SetArgs) -> NewClient {
    let s = &args.settings;
    let pick = |on: bool, off: bool, was: bool| {
        if on {
            true
        } else if off {
            false
        } else {
            was
        }
    };
    NewClient {
        name: args.name.clone().unwrap_or_else(|| old.name.clone()),
        confidential: !old.is_public(),
        redirect_uris: if args.redirect_uris.is_empty() {
            old.redirect_uris.clone()
        } else {
            args.redirect_uris.clone()
        },
        post_logout_redirect_uris: if args.no_post_logout_redirect_uris {
            Vec::new()
        } else if s.post_logout_redirect_uris.is_empty() {
            old.post_logout_redirect_uris.clone()
        } else {
            s.post_logout_redirect_uris.clone()
        },
        backchannel_logout_uri: if args.no_backchannel_logout_uri {
            None
        } else {
            s.backchannel_logout_uri
                .clone()
                .or_else(|| old.backchannel_logout_uri.clone())
        },
        first_party: !pick(s.third_party, args.first_party, !old.first_party),
        requirement: if s.phishing_resistant {
            Requirement::PhishingResistant
        } else if args.two_step {
            Requirement::TwoStep
        } else {
            old.requirement
        },
        offline_access: pick(s.offline_access, args.no_offline_access, old.offline_access),
        id_token_alg: s.alg.unwrap_or(old.id_token_alg),
    }
}

/// The description checked here, so a refusal says which URI is wrong and why.
fn checked(new: NewClient) -> Outcome<NewClient> {
    new.validate().map_err(refusal)
}

fn refusal(e: ClientError) -> Failure {
    let flag = match &e {
        ClientError::NameRequired | ClientError::NameTooLong { .. } => "--name",
        ClientError::NoRedirectUri | ClientError::RedirectUri { .. } => "--redirect-uri",
        ClientError::PostLogoutRedirectUri { .. } => "--post-logout-redirect-uri",
        ClientError::BackchannelLogoutUri { .. } => "--backchannel-logout-uri",
    };
    Failure::Usage(format!("{flag}: {e}; nothing was changed"))
}

/// `NotFound` with the id that was not found.
fn find<T>(result: Result<T, Error>, client_id: &str) -> Outcome<T> {
    result.map_err(|e| match e {
        Error::NotFound => Failure::Usage(format!("there is no client with id {client_id}")),
        other => Failure::from(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        command: OidcCommand,
    }

    fn set_args(args: &[&str]) -> SetArgs {
        let mut all = vec!["oidc", "client", "set", "id"];
        all.extend_from_slice(args);
        match Cli::try_parse_from(all).expect("parses").command {
            OidcCommand::Client(ClientCommand::Set(a)) => a,
            other => panic!("{other:?}"),
        }
    }

    fn client() -> Client {
        Client {
            client_id: "id".into(),
            name: "Wiki".into(),
            secret_hash: None,
            redirect_uris: vec!["https://wiki.example/cb".into()],
            post_logout_redirect_uris: vec!["https://wiki.example/bye".into()],
            backchannel_logout_uri: Some("https://wiki.example/bc".into()),
            first_party: false,
            requirement: Requirement::PhishingResistant,
            offline_access: true,
            id_token_alg: SigningAlg::Rs256,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn set_changes_only_what_is_given() {
        let old = client();
        let same = changed(&old, &set_args(&[]));
        assert_eq!(same.name, "Wiki");
        assert_eq!(same.redirect_uris, old.redirect_uris);
        assert_eq!(
            same.post_logout_redirect_uris,
            old.post_logout_redirect_uris
        );
        assert_eq!(same.backchannel_logout_uri, old.backchannel_logout_uri);
        assert!(!same.first_party && same.offline_access && !same.confidential);
        assert_eq!(same.requirement, Requirement::PhishingResistant);
        assert_eq!(same.id_token_alg, SigningAlg::Rs256);

        let new = changed(
            &old,
            &set_args(&[
                "--first-party",
                "--two-step",
                "--no-offline-access",
                "--no-backchannel-logout-uri",
                "--no-post-logout-redirect-uris",
                "--alg",
                "es256",
                "--redirect-uri",
                "https://wiki.example/a",
                "--redirect-uri",
                "https://wiki.example/b",
            ]),
        );
        assert!(new.first_party && !new.offline_access);
        assert_eq!(new.requirement, Requirement::TwoStep);
        assert_eq!(new.id_token_alg, SigningAlg::Es256);
        assert_eq!(new.backchannel_logout_uri, None);
        assert!(new.post_logout_redirect_uris.is_empty());
        assert_eq!(new.redirect_uris.len(), 2);
    }

    #[test]
    fn opposite_flags_conflict() {
        let mut all = vec![
            "oidc",
            "client",
            "set",
            "id",
            "--third-party",
            "--first-party",
        ];
        assert!(Cli::try_parse_from(&all).is_err());
        all.truncate(4);
        all.extend(["--alg", "HS256"]);
        assert!(Cli::try_parse_from(&all).is_err());
    }

    #[test]
    fn a_refusal_names_the_flag() {
        let message = refusal(ClientError::RedirectUri {
            uri: "http://a.example/cb".into(),
            problem: tessera_core::oidc::UriProblem::NotHttps,
        })
        .to_string();
        assert!(message.starts_with("--redirect-uri: "), "{message}");
        assert!(message.contains("https"), "{message}");
    }
}
