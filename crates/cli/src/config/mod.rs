//! Configuration, layered and strict: defaults → TOML file (`--config` or `TESSERA_CONFIG`) →
//! `TESSERA_*` environment → command-line flags. Every layer is read into the same [`Layer`],
//! each value remembering where it came from, so an error names the file key, variable or flag
//! to fix. The result is one validated [`Config`] value that is passed down, never a global.
//!
//! The environment is read key by key rather than by prefix: other `TESSERA_*` variables (the
//! test suite's `TESSERA_TEST_POSTGRES_URL`) are not configuration and must not be refused as
//! unknown keys.

mod delivery;
mod directory;
mod layers;
mod network;

use crate::failure::Outcome;
use layers::Layer;
use std::net::SocketAddr;
use std::path::PathBuf;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./data";
pub const MASTER_KEY_NAME: &str = "master.key";
pub const DEFAULT_MAX_BODY_BYTES: u64 = 64 * 1024;

/// Where the configuration lives; every command that opens the database takes these.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigArgs {
    /// Configuration file (TOML; see tessera.example.toml). Also TESSERA_CONFIG
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Folder of the SQLite database and the master key [default: ./data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite:… or postgres://… [default: SQLite in the data folder]. A password here shows
    /// in the process list; prefer database_url_file
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

/// The flags only `serve` has.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeFlags {
    /// Address to listen on, e.g. 0.0.0.0:8080 (port 0 picks a free port) [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// The URL people open, e.g. https://mfa.example.org [default: http://<listen address>]
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// The organization's name, shown on pages and in authenticator apps [default: Tessera]
    #[arg(long, value_name = "NAME")]
    pub organization: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The configuration in force, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// The RADIUS server's UDP address (`radius_listen`, e.g. 0.0.0.0:1812); `None`: off.
    pub radius_listen: Option<SocketAddr>,
    /// Web Push's VAPID contact (`web_push_subject`, `mailto:` or `https:`); `None`: the
    /// public URL.
    pub web_push_subject: Option<String>,
    pub data_dir: PathBuf,
    /// `None`: SQLite in the data folder.
    database_url: Option<DatabaseUrl>,
    /// `None`: `master.key` in the data folder.
    master_key_file: Option<PathBuf>,
    /// `None`: `http://` and the address actually bound.
    pub public_url: Option<String>,
    pub organization: String,
    pub log_format: LogFormat,
    pub max_body_bytes: usize,
    /// The file the configuration was read from, if any.
    pub config_file: Option<PathBuf>,
    /// Credential requests one address may make per minute; 0: no limit.
    pub sign_in_limit_per_minute: u32,
    /// The forward-auth cookie's `Domain` (`example.org`), validated.
    pub forward_auth_cookie_domain: Option<String>,
    /// The gateways for texts, calls and email (`[delivery]`; the outbox by default).
    pub delivery: tessera_server::delivery::DeliveryConfig,
    /// The organization's LDAP or Active Directory (`[directory]`); `None`: off, all accounts
    /// local. Read and validated, not yet used by sign-in or reset (issue #19).
    pub directory: Option<tessera_server::directory::DirectoryConfig>,
    /// `tls_cert_file` and `tls_key_file`: TLS in Tessera itself; `None`: plain HTTP (a
    /// reverse proxy terminates TLS). The files are read when `serve` starts.
    pub tls: Option<tessera_server::tls::TlsFiles>,
    /// `trusted_proxies`: whose forwarding headers name the client; empty: nobody's.
    pub trusted_proxies: tessera_server::client_addr::TrustedProxies,
}

impl Config {
    /// Reads every layer; `env` looks up one environment variable.
    pub fn load(
        args: &ConfigArgs,
        serve: &ServeFlags,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Outcome<Config> {
        let config_file = args
            .config
            .clone()
            .or_else(|| lookup(env, "TESSERA_CONFIG").map(PathBuf::from));
        let file = match &config_file {
            Some(path) => Layer::from_file(path)?,
            None => Layer::default(),
        };
        let layered = Layer::from_flags(args, serve).over(Layer::from_env(env)?.over(file));
        layered.resolve(config_file)
    }

    /// An explicit URL, or SQLite in the data folder.
    pub fn database_url(&self) -> DatabaseUrl {
        self.database_url
            .clone()
            .unwrap_or_else(|| DatabaseUrl(tessera_store::sqlite_url(&self.data_dir)))
    }

    /// Whether the database URL was configured rather than defaulted.
    pub fn database_url_is_explicit(&self) -> bool {
        self.database_url.is_some()
    }

    pub fn master_key_file(&self) -> PathBuf {
        self.master_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join(MASTER_KEY_NAME))
    }

    /// The data folder holds the SQLite database or the master key unless both are elsewhere.
    pub fn uses_data_dir(&self) -> bool {
        self.database_url.is_none() || self.master_key_file.is_none()
    }
}

/// The real environment. A value that is not UTF-8 is read lossily and then fails validation.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

/// Unset and empty both mean "not configured here" (`TESSERA_X=` in a compose file).
fn lookup(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.trim().is_empty())
}

/// A database URL; it may hold a password, so it prints redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    // libpq-style URLs may also carry `?password=…`.
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some(("password", _)) => "password=***".to_string(),
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests;
