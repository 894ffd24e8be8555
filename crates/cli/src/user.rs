//! `tessera user …`: accounts, administered by whoever holds the database.

use crate::config::{Config, ConfigArgs};
use crate::failure::{Failure, Outcome};
use crate::open::open;
use crate::output::{print_json, table, timestamp};
use serde::Serialize;
use std::io::{BufRead, IsTerminal};
use tessera_core::account::normalize_username;
use tessera_core::admin::NewAccount;
use tessera_core::{Account, AccountStatus, Error, Method, Tessera};
use zeroize::Zeroizing;

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is the first line of standard input
    Add(AddArgs),
    /// List accounts, by username
    List(ListArgs),
    /// Show an account and its security info (never its secrets)
    Show(ShowArgs),
    /// Disable an account and end all its sessions
    Disable(NameArgs),
    /// Enable a disabled account
    Enable(NameArgs),
    /// Set a new password, read from standard input, and end all sessions
    SetPassword(SetPasswordArgs),
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// e.g. alice@example.org
    pub username: String,
    /// The name shown to people [default: the part of the username before @]
    #[arg(long, value_name = "NAME")]
    pub display_name: Option<String>,
    /// Make the account an administrator
    #[arg(long)]
    pub admin: bool,
    /// Where notifications go
    #[arg(long, value_name = "ADDR")]
    pub email: Option<String>,
    /// Read the password from the first line of standard input
    #[arg(long, required = true)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only accounts whose username or display name contains this
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// At most this many accounts
    #[arg(long, default_value_t = 10_000)]
    pub limit: u32,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    pub username: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, clap::Args)]
pub struct NameArgs {
    pub username: String,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, clap::Args)]
pub struct SetPasswordArgs {
    pub username: String,
    /// Read the password from the first line of standard input
    #[arg(long, required = true)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

impl UserCommand {
    pub fn config_args(&self) -> &ConfigArgs {
        match self {
            UserCommand::Add(a) => &a.config,
            UserCommand::List(a) => &a.config,
            UserCommand::Show(a) => &a.config,
            UserCommand::Disable(a) | UserCommand::Enable(a) => &a.config,
            UserCommand::SetPassword(a) => &a.config,
        }
    }
}

pub async fn run(command: UserCommand, config: &Config) -> Outcome {
    // Read before the database opens, so bad input leaves nothing behind.
    let password = match &command {
        UserCommand::Add(_) | UserCommand::SetPassword(_) => read_password()?,
        _ => Zeroizing::default(),
    };
    let opened = open(config).await?;
    let result = execute(command, password, &opened.tessera).await;
    opened.close().await;
    result
}

async fn execute(command: UserCommand, password: Zeroizing<String>, tessera: &Tessera) -> Outcome {
    let admin = tessera.local_admin();
    match command {
        UserCommand::Add(args) => {
            let account = admin
                .create_account(NewAccount {
                    username: args.username,
                    display_name: args.display_name,
                    password,
                    is_admin: args.admin,
                    email: args.email,
                })
                .await?;
            let role = if account.is_admin {
                "administrator"
            } else {
                "account"
            };
            println!("created {role} {} ({})", account.username, account.id);
        }
        UserCommand::List(args) => {
            let accounts = admin
                .list_accounts(args.search.as_deref(), args.limit)
                .await?;
            if args.json {
                let views: Vec<AccountView> = accounts.iter().map(AccountView::from).collect();
                print_json(&views)?;
            } else if accounts.is_empty() {
                eprintln!("no accounts");
            } else {
                print!("{}", account_table(&accounts));
            }
        }
        UserCommand::Show(args) => {
            let account = find(admin.account(&args.username).await, &args.username)?;
            let methods = admin.methods(&account).await?;
            let view = AccountDetail {
                account: AccountView::from(&account),
                methods: methods.iter().map(MethodView::from).collect(),
            };
            if args.json {
                print_json(&view)?;
            } else {
                print!("{}", view.text());
            }
        }
        UserCommand::Disable(args) => {
            let result = admin
                .set_status(&args.username, AccountStatus::Disabled)
                .await;
            let account = find(result, &args.username)?;
            println!("disabled {}; its sessions have ended", account.username);
        }
        UserCommand::Enable(args) => {
            let result = admin
                .set_status(&args.username, AccountStatus::Active)
                .await;
            let account = find(result, &args.username)?;
            println!("enabled {}", account.username);
        }
        UserCommand::SetPassword(args) => {
            find(
                admin.set_password(&args.username, password).await,
                &args.username,
            )?;
            let username = normalize_username(&args.username)?;
            println!("changed the password of {username}; its sessions have ended");
        }
    }
    Ok(())
}

/// `NotFound` with the name that was not found.
fn find<T>(result: Result<T, Error>, username: &str) -> Outcome<T> {
    result.map_err(|e| match e {
        Error::NotFound => Failure::Usage(format!("there is no account named {username}")),
        other => Failure::from(other),
    })
}

/// The first line of standard input, without its line ending.
fn read_password() -> Outcome<Zeroizing<String>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password (visible as you type; pipe it in to hide it): ");
    }
    let mut line = Zeroizing::new(String::new());
    stdin.lock().read_line(&mut line).map_err(|e| {
        if e.kind() == std::io::ErrorKind::InvalidData {
            Failure::usage("password: standard input is not UTF-8 text")
        } else {
            Failure::Runtime(format!("cannot read the password from standard input: {e}"))
        }
    })?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err(Failure::usage(
            "password: standard input held no password; give it on the first line",
        ));
    }
    Ok(Zeroizing::new(password.to_string()))
}

/// An account as scripts see it; no password hash.
#[derive(Debug, Serialize)]
struct AccountView {
    id: String,
    username: String,
    display_name: String,
    status: &'static str,
    is_admin: bool,
    email: Option<String>,
    locale: Option<String>,
    default_method: Option<String>,
    created_at: String,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        AccountView {
            id: a.id.to_string(),
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            status: a.status.as_str(),
            is_admin: a.is_admin,
            email: a.email.clone(),
            locale: a.locale.clone(),
            default_method: a.default_method.map(|m| m.to_string()),
            created_at: timestamp(a.created_at),
        }
    }
}

/// A method as API.md's security info shows it; no secret, no sealed data.
#[derive(Debug, Serialize)]
struct MethodView {
    id: String,
    kind: &'static str,
    label: String,
    status: &'static str,
    created_at: String,
    last_used_at: Option<String>,
    locked_until: Option<String>,
}

impl From<&Method> for MethodView {
    fn from(m: &Method) -> Self {
        MethodView {
            id: m.id.to_string(),
            kind: m.kind.as_str(),
            label: m.label(),
            status: m.status.as_str(),
            created_at: timestamp(m.created_at),
            last_used_at: m.last_used_at.map(timestamp),
            locked_until: m.locked_until.map(timestamp),
        }
    }
}

#[derive(Debug, Serialize)]
struct AccountDetail {
    #[serde(flatten)]
    account: AccountView,
    methods: Vec<MethodView>,
}

impl AccountDetail {
    fn text(&self) -> String {
        let a = &self.account;
        let dash = || "-".to_string();
        let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
        let fields = [
            ["username", &a.username],
            ["display name", &a.display_name],
            ["id", &a.id],
            ["status", a.status],
            ["administrator", &yes_no(a.is_admin)],
            ["email", &a.email.clone().unwrap_or_else(dash)],
            [
                "language",
                &a.locale.clone().unwrap_or_else(|| "(browser)".into()),
            ],
            ["created", &a.created_at],
        ]
        .map(|[k, v]| vec![k.to_string(), v.to_string()]);
        let mut out = table(&fields);
        if self.methods.is_empty() {
            out.push_str("\nno security info\n");
            return out;
        }
        let mut rows = vec![
            ["", "KIND", "LABEL", "STATUS", "CREATED", "LAST USED"]
                .map(String::from)
                .to_vec(),
        ];
        for m in &self.methods {
            let is_default = a.default_method.as_deref() == Some(m.id.as_str());
            let mut status = m.status.to_string();
            if let Some(until) = &m.locked_until {
                status.push_str(&format!(" (locked until {until})"));
            }
            rows.push(vec![
                if is_default { "*" } else { "" }.to_string(),
                m.kind.to_string(),
                m.label.clone(),
                status,
                m.created_at.clone(),
                m.last_used_at.clone().unwrap_or_else(|| "never".into()),
            ]);
        }
        out.push_str("\nsecurity info (* marks the default method)\n");
        out.push_str(&table(&rows));
        out
    }
}

fn account_table(accounts: &[Account]) -> String {
    let mut rows = vec![
        ["USERNAME", "DISPLAY NAME", "STATUS", "ADMIN", "CREATED"]
            .map(String::from)
            .to_vec(),
    ];
    for a in accounts {
        rows.push(vec![
            a.username.clone(),
            a.display_name.clone(),
            a.status.as_str().to_string(),
            if a.is_admin { "yes" } else { "no" }.to_string(),
            timestamp(a.created_at),
        ]);
    }
    table(&rows)
}
