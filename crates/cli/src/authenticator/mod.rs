//! `tessera authenticator`: the reference authenticator. It activates for notifications
//! with a QR code's activation link (or the code and URL typed in), keeps its device keys and
//! TOTP secrets in a private state file, shows codes, and answers sign-in requests by
//! number matching: interactively (`watch`) or from scripts (`pending`, `respond`).

mod device;
mod requests;
mod state;

use crate::failure::{Failure, Outcome};
use crate::output;
use device::Client;
use state::{Account, State, Totp};
use std::path::PathBuf;
use tessera_core::method::authenticator_app;
use totp_rs::{Algorithm, Builder, Secret, Totp as TotpCode};

#[derive(Debug, clap::Args)]
pub struct AuthenticatorArgs {
    /// The state file: device keys and TOTP secrets, kept private (0600) [default:
    /// ~/.config/tessera/authenticator.json]
    #[arg(
        long,
        value_name = "FILE",
        env = "TESSERA_AUTHENTICATOR_STATE",
        global = true
    )]
    pub state: Option<PathBuf>,
    #[command(subcommand)]
    pub command: AuthenticatorCommand,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum AuthenticatorCommand {
    /// Activate for notifications: with the activation URI of the QR code, or --code and --url
    Add {
        /// The QR code's activation link, `https://<server>/authenticator/#activate=<code>`
        /// (or the older `tessera-activate://v1?url=…&code=…`)
        uri: Option<String>,
        /// The activation code, typed in by hand
        #[arg(long, requires = "url", conflicts_with = "uri")]
        code: Option<String>,
        /// The server's URL, typed in by hand
        #[arg(long, requires = "code", conflicts_with = "uri")]
        url: Option<String>,
        /// How the server lists this device [default: this machine's host name]
        #[arg(long)]
        name: Option<String>,
        /// The device key's algorithm
        #[arg(long, default_value = "ed25519", value_parser = ["ed25519", "es256"])]
        algorithm: String,
        /// Where the server may POST a wake-up when a request arrives (UnifiedPush style)
        #[arg(long, value_name = "URL")]
        wakeup_url: Option<String>,
    },
    /// Add a code-only account from an `otpauth://` URI
    AddOtpauth {
        /// `otpauth://totp/Issuer:alice?secret=…&issuer=Issuer`
        uri: String,
    },
    /// List the accounts
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show the current code of an account (of every account when none is named)
    Code {
        /// The account's id, or a part of its name
        account: Option<String>,
    },
    /// Remove an account; an account activated for notifications is also revoked on the server
    Remove {
        /// The account's id, or a part of its name
        account: String,
        /// Forget it here only, without telling the server
        #[arg(long)]
        local_only: bool,
    },
    /// Wait for requests and answer them: type the number shown on the sign-in screen
    Watch {
        /// Only this account
        account: Option<String>,
    },
    /// Print the pending requests as JSON lines: the request as the server sent it (its
    /// `account` is the person), with `local_account`, the id `list` shows
    Pending {
        /// Only this account
        account: Option<String>,
        /// Seconds to wait for a request when none is pending (at most 25)
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
    /// Answer a request: approve (with --number), deny, or report (deny, and report it)
    Respond {
        /// The request's id, as `pending` prints it
        request: String,
        #[arg(value_parser = ["approve", "deny", "report"])]
        decision: String,
        /// The number shown on the sign-in screen (to approve)
        #[arg(long)]
        number: Option<u8>,
    },
}

pub fn run(args: &AuthenticatorArgs) -> Outcome {
    let path = match &args.state {
        Some(path) => path.clone(),
        None => state::default_path()?,
    };
    let command = args.command.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async move {
        match command {
            AuthenticatorCommand::Add {
                uri,
                code,
                url,
                name,
                algorithm,
                wakeup_url,
            } => {
                let (url, code) = match (uri, code, url) {
                    (Some(uri), _, _) => {
                        authenticator_app::parse_activation_uri(&uri).ok_or_else(|| {
                            Failure::usage(
                                "not an activation link (https://<server>/authenticator/#activate=<code>)",
                            )
                        })?
                    }
                    (None, Some(code), Some(url)) => (url, code),
                    _ => {
                        return Err(Failure::usage(
                            "give the activation URI, or --code and --url",
                        ));
                    }
                };
                let name = name.unwrap_or_else(host_name);
                add(&path, &url, &code, &algorithm, &name, wakeup_url.as_deref()).await
            }
            AuthenticatorCommand::AddOtpauth { uri } => add_otpauth(&path, &uri),
            AuthenticatorCommand::List { json } => list(&path, json),
            AuthenticatorCommand::Code { account } => code(&path, account.as_deref()),
            AuthenticatorCommand::Remove {
                account,
                local_only,
            } => remove(&path, &account, local_only).await,
            AuthenticatorCommand::Watch { account } => {
                requests::watch(&path, account.as_deref()).await
            }
            AuthenticatorCommand::Pending { account, wait } => {
                requests::pending(&path, account.as_deref(), wait).await
            }
            AuthenticatorCommand::Respond {
                request,
                decision,
                number,
            } => requests::respond(&path, &request, &decision, number).await,
        }
    })
}

/// This machine's name, for the server's list of devices.
fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .map(|h| format!("tessera authenticator on {h}"))
        .unwrap_or_else(|| "tessera authenticator".into())
}

async fn add(
    path: &std::path::Path,
    url: &str,
    code: &str,
    algorithm: &str,
    name: &str,
    wakeup_url: Option<&str>,
) -> Outcome {
    let mut state = State::load(path)?;
    let client = Client::new()?;
    let account = client
        .activate(url, code, algorithm, name, wakeup_url, state.next_id())
        .await?;
    println!(
        "Added {} (account {}). A test notification is waiting: run `tessera authenticator watch` and type the number the page shows.",
        account.label(),
        account.id
    );
    state.accounts.push(account);
    state.save(path)
}

fn add_otpauth(path: &std::path::Path, uri: &str) -> Outcome {
    let totp = TotpCode::from_url_unchecked(uri.trim())
        .map_err(|e| Failure::Usage(format!("not an otpauth URI: {e}")))?;
    if totp.secret().to_base32().is_empty() || totp.step() == 0 {
        return Err(Failure::usage("the otpauth URI has no secret or no period"));
    }
    let mut state = State::load(path)?;
    let account = Account {
        id: state.next_id(),
        issuer: totp.issuer().unwrap_or_default().to_string(),
        username: totp.account_name().to_string(),
        totp: Totp {
            secret: totp.secret().to_base32().trim_end_matches('=').to_string(),
            digits: totp.digits(),
            period: totp.step(),
            algorithm: totp.algorithm().as_str().to_string(),
        },
        push: None,
    };
    println!("Added {} (account {}).", account.label(), account.id);
    state.accounts.push(account);
    state.save(path)
}

#[derive(serde::Serialize)]
struct Listed<'a> {
    id: &'a str,
    issuer: &'a str,
    username: &'a str,
    /// `notifications` (and codes), or `codes`.
    kind: &'static str,
    server: Option<&'a str>,
}

fn list(path: &std::path::Path, json: bool) -> Outcome {
    let state = State::load(path)?;
    let listed: Vec<Listed<'_>> = state
        .accounts
        .iter()
        .map(|a| Listed {
            id: &a.id,
            issuer: &a.issuer,
            username: &a.username,
            kind: if a.push.is_some() {
                "notifications"
            } else {
                "codes"
            },
            server: a.push.as_ref().map(|p| p.server.as_str()),
        })
        .collect();
    if json {
        return output::print_json(&listed);
    }
    if listed.is_empty() {
        println!("No accounts yet: add one with `tessera authenticator add`.");
        return Ok(());
    }
    let mut rows = vec![vec![
        "ID".into(),
        "ACCOUNT".into(),
        "KIND".into(),
        "SERVER".into(),
    ]];
    rows.extend(listed.iter().map(|l| {
        vec![
            l.id.to_string(),
            format!("{}: {}", l.issuer, l.username),
            l.kind.to_string(),
            l.server.unwrap_or("-").to_string(),
        ]
    }));
    print!("{}", output::table(&rows));
    Ok(())
}

/// The code `account` shows now: on the server's clock, as last seen, for an account
/// activated for notifications.
fn current_code(account: &Account) -> Outcome<String> {
    let t = &account.totp;
    let algorithm = match t.algorithm.to_ascii_uppercase().as_str() {
        "SHA1" => Algorithm::SHA1,
        "SHA256" => Algorithm::SHA256,
        "SHA512" => Algorithm::SHA512,
        other => return Err(Failure::Usage(format!("unknown TOTP algorithm {other}"))),
    };
    let secret = Secret::try_from_base32(&t.secret)
        .map_err(|_| Failure::usage("the state file holds a damaged TOTP secret"))?;
    let totp = Builder::new()
        .with_algorithm(algorithm)
        .with_digits(t.digits)
        .with_step_duration(t.period.max(1))
        .with_secret(secret)
        .build_noncompliant();
    let offset = account.push.as_ref().map_or(0, |p| p.clock_offset);
    let now = (device::local_now() + offset).max(0) as u64;
    Ok(totp.generate(now).to_string())
}

fn code(path: &std::path::Path, wanted: Option<&str>) -> Outcome {
    let state = State::load(path)?;
    match wanted {
        Some(_) => println!("{}", current_code(state.find(wanted)?)?),
        None if state.accounts.len() == 1 => println!("{}", current_code(&state.accounts[0])?),
        None => {
            let mut rows = Vec::new();
            for a in &state.accounts {
                rows.push(vec![a.id.clone(), current_code(a)?, a.label()]);
            }
            print!("{}", output::table(&rows));
        }
    }
    Ok(())
}

async fn remove(path: &std::path::Path, wanted: &str, local_only: bool) -> Outcome {
    let mut state = State::load(path)?;
    let account = state.find(Some(wanted))?.clone();
    if let (Some(push), false) = (&account.push, local_only) {
        match Client::new()?.remove(push).await {
            Ok(()) => println!("Revoked on {}.", push.server),
            // The server no longer knows the device (its method was deleted there).
            Err(Failure::Usage(m)) if m.contains("(unauthorized)") => {
                println!("The server had already revoked this device.");
            }
            Err(e) => return Err(e),
        }
    }
    state.accounts.retain(|a| a.id != account.id);
    state.save(path)?;
    println!("Removed {}.", account.label());
    Ok(())
}
