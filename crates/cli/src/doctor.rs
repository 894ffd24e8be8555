//! `tessera doctor [--config FILE] [--data-dir DIR] [--database-url URL]`: checks a
//! configuration and its data folder and prints one line per check, `ok`, `warn` or `FAIL`,
//! with what to do. It changes nothing: the database is read and not migrated, so it may run
//! beside the server (of any version), and no key file or database is created.
//! Exits 1 when a check fails (warnings alone exit 0).

use crate::config::{self, Config, ConfigArgs, ServeFlags};
use crate::data_dir;
use crate::failure::{Failure, Outcome, chain};
use std::fs;
use std::path::Path;
use std::time::Duration;
use tessera_core::{KeyRing, Kind, Policy};
use tessera_server::delivery::config::{EmailGateway, PhoneGateway};
use tessera_store::backup::Inspection;

/// Sealed values tried with the key, per sealed column.
const SEALED_CHECKED: u32 = 50;
/// How long the directory may take to answer a ping.
const DIRECTORY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Ok,
    Warn,
    Fail,
}

#[derive(Default)]
struct Report {
    counts: [usize; 3],
}

impl Report {
    fn line(&mut self, level: Level, text: impl AsRef<str>) {
        let (tag, i) = match level {
            Level::Ok => ("ok  ", 0),
            Level::Warn => ("warn", 1),
            Level::Fail => ("FAIL", 2),
        };
        if let Some(n) = self.counts.get_mut(i) {
            *n += 1;
        }
        println!("{tag}  {}", text.as_ref());
    }

    fn ok(&mut self, text: impl AsRef<str>) {
        self.line(Level::Ok, text);
    }
    fn warn(&mut self, text: impl AsRef<str>) {
        self.line(Level::Warn, text);
    }
    fn fail(&mut self, text: impl AsRef<str>) {
        self.line(Level::Fail, text);
    }

    fn outcome(&self) -> Outcome {
        let [ok, warn, fail] = self.counts;
        println!("{ok} ok, {warn} warnings, {fail} failed");
        if fail > 0 {
            Err(Failure::Runtime(format!(
                "doctor found {fail} problem{} to fix (the FAIL lines above)",
                if fail == 1 { "" } else { "s" }
            )))
        } else {
            Ok(())
        }
    }
}

pub fn run(args: &DoctorArgs) -> Outcome {
    let mut report = Report::default();
    let config = match Config::load(&args.config, &ServeFlags::default(), &config::process_env) {
        Ok(c) => c,
        Err(e) => {
            report.fail(format!("configuration: {e}"));
            return report.outcome();
        }
    };
    report.ok(match &config.config_file {
        Some(f) => format!("configuration {} reads", f.display()),
        None => "configuration (defaults, TESSERA_* and flags) reads".to_string(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(checks(&config, &mut report));
    report.outcome()
}

async fn checks(config: &Config, report: &mut Report) {
    if config.uses_data_dir() {
        data_folder(&config.data_dir, report);
    }
    let database = database(config, report).await;
    key(config, database.as_ref(), report);
    public_url(config, report);
    let policy = database
        .as_ref()
        .and_then(|d| d.policy.as_deref())
        .map(serde_json::from_str::<Policy>);
    let policy = match policy {
        None => Some(Policy::default()),
        Some(Ok(p)) => Some(p),
        Some(Err(_)) => None,
    };
    gateways(config, policy.as_ref(), report);
    directory(config, report).await;
    tls(config, report);
}

fn tls(config: &Config, report: &mut Report) {
    let Some(files) = &config.tls else {
        report.ok("TLS: not served by tessera itself (a reverse proxy in front terminates it)");
        return;
    };
    match tessera_server::tls::load(files) {
        Ok(_) => report.ok(format!(
            "TLS: {} and {} read, and the key is the certificate's",
            files.cert.display(),
            files.key.display()
        )),
        Err(e) => report.fail(format!(
            "TLS: {e}; fix the file, then `kill -HUP` the server"
        )),
    }
}

/// The uid this process runs as: the owner of `/proc/self` (Linux; no `unsafe` getuid).
#[cfg(unix)]
fn running_uid() -> Option<u32> {
    fs::metadata("/proc/self")
        .ok()
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
}

fn data_folder(dir: &Path, report: &mut Report) {
    let shown = dir.display();
    let meta = match fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            report.warn(format!(
                "data folder {shown} does not exist yet: `tessera serve` creates it (mode 700)"
            ));
            return;
        }
        Err(e) => {
            report.fail(format!("data folder {shown}: {e}"));
            return;
        }
    };
    if !meta.is_dir() {
        report.fail(format!("data folder {shown} is not a folder"));
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let mode = meta.permissions().mode() & 0o777;
        let owner = meta.uid();
        if let Some(me) = running_uid()
            && owner != me
        {
            report.fail(format!(
                "data folder {shown} belongs to uid {owner}, not to the user running this \
                 (uid {me}): run tessera (and doctor) as its owner, or `chown -R` it to the \
                 service's user"
            ));
            return;
        }
        if mode & 0o077 != 0 {
            report.fail(format!(
                "data folder {shown} has mode {mode:o}, so other users can read the database: \
                 run `chmod 700 {shown}`"
            ));
            return;
        }
        report.ok(format!("data folder {shown}: mode {mode:o}, owned by you"));
    }
    #[cfg(not(unix))]
    report.ok(format!("data folder {shown} exists"));
}

async fn database(config: &Config, report: &mut Report) -> Option<Inspection> {
    let url = config.database_url();
    let mut shown = url.redacted();
    if !config.database_url_is_explicit() {
        let file = config.data_dir.join("tessera.db");
        shown = file.display().to_string();
        if !file.exists() {
            report.warn(format!(
                "database {} does not exist yet: `tessera serve` creates it",
                file.display()
            ));
            return None;
        }
    }
    let found = match tessera_store::backup::inspect(url.expose(), SEALED_CHECKED).await {
        Ok(f) => f,
        Err(e) => {
            report.fail(format!(
                "database {shown} cannot be opened: {}; check the URL, that the server \
                 runs and the credentials",
                chain(&e)
            ));
            return None;
        }
    };
    let supported = found.supported;
    match found.applied {
        None => report.warn(format!(
            "database {shown} is reachable but empty: `tessera serve` creates the schema at start"
        )),
        Some(v) if v == supported => {
            report.ok(format!("database {shown}: reachable, schema {v} (current)"))
        }
        Some(v) if v < supported => report.warn(format!(
            "database {shown}: schema {v}, older than this binary's {supported}; \
             `tessera serve` will migrate it at start (take a `tessera backup` first)"
        )),
        Some(v) => report.fail(format!(
            "database {shown}: schema {v}, newer than this binary's {supported}: a newer \
             tessera migrated it, and this one refuses to start on it; run that version"
        )),
    }
    match found.quick_check.as_deref() {
        Some("ok") => report.ok("database integrity (SQLite quick_check): ok"),
        Some(problem) => report.fail(format!(
            "database integrity (SQLite quick_check): {problem}; stop the server and restore \
             the last backup (`tessera restore`)"
        )),
        None => {}
    }
    Some(found)
}

fn key(config: &Config, database: Option<&Inspection>, report: &mut Report) {
    let path = config.master_key_file();
    let shown = path.display();
    let accounts = database.map_or(0, |d| d.accounts);
    if !path.exists() {
        if accounts > 0 {
            report.fail(format!(
                "no master key file at {shown}, but the database holds {accounts} accounts: \
                 restore the key from a backup, or point master_key_file at the key the \
                 other nodes use"
            ));
        } else {
            report.warn(format!(
                "no master key file at {shown} yet: `tessera serve` generates it at first \
                 start; back it up then"
            ));
        }
        return;
    }
    #[cfg(unix)]
    if let (Ok(meta), Some(me)) = (fs::metadata(&path), running_uid()) {
        let owner = std::os::unix::fs::MetadataExt::uid(&meta);
        if owner != me {
            report.fail(format!(
                "master key file {shown} belongs to uid {owner}, not to the user running this \
                 (uid {me}): the server must run as the key's owner; `chown` it"
            ));
            return;
        }
    }
    let keys = match data_dir::load_key(&path) {
        Ok(k) => k,
        Err(e) => {
            report.fail(e.to_string());
            return;
        }
    };
    report.ok(format!(
        "master key {shown}: readable by its owner only, sealing with key {}",
        keys.current_id()
    ));
    if let Some(found) = database {
        sealed(&keys, found, report);
    }
}

fn sealed(keys: &KeyRing, found: &Inspection, report: &mut Report) {
    if found.sealed.is_empty() {
        report.ok("sealed values: none yet, nothing for the key to open");
        return;
    }
    let failed = crate::backup::unopened(&found.sealed, keys);
    match failed.first() {
        None => report.ok(format!(
            "the master key opens the {} sealed values checked",
            found.sealed.len()
        )),
        Some(first) => report.fail(format!(
            "the master key does not open {} of the {} sealed values checked (the first in \
             {}.{}): it is not the key this data was sealed with; find the right key file",
            failed.len(),
            found.sealed.len(),
            first.table,
            first.column
        )),
    }
}

/// Whether a URL's host is this machine, where plain HTTP does not cross a network.
fn is_local(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    let host = host.to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost") || host == "::1" || host.starts_with("127.")
}

fn public_url(config: &Config, report: &mut Report) {
    let Some(url) = &config.public_url else {
        report.warn(format!(
            "public_url is not set: links, cookies and the allowed origin follow http://{}; \
             set it to the https:// URL people open",
            config.listen
        ));
        return;
    };
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        report.ok(format!("public_url {url}: https"));
    } else if is_local(&lower) {
        report.ok(format!(
            "public_url {url}: plain http on this machine only (a try-out)"
        ));
    } else {
        report.fail(format!(
            "public_url {url} is plain http: passwords and session cookies would cross the \
             network unencrypted; serve https (TLS in tessera, or a reverse proxy) and set \
             public_url to the https:// URL"
        ));
    }
}

/// The kinds that need each channel: (channel, setting, kinds).
const CHANNELS: [(&str, &str, &[Kind]); 3] = [
    ("texts", "sms", &[Kind::PhoneMobile]),
    (
        "calls",
        "voice",
        &[Kind::PhoneMobile, Kind::PhoneAlternate, Kind::PhoneOffice],
    ),
    ("emails", "email", &[Kind::Email]),
];

fn gateways(config: &Config, policy: Option<&Policy>, report: &mut Report) {
    let d = &config.delivery;
    for (channel, key, kinds) in CHANNELS {
        let gateway = match key {
            "sms" => phone_name(&d.sms),
            "voice" => phone_name(&d.voice),
            _ => email_name(&d.email),
        };
        if gateway != "outbox" {
            report.ok(format!("{channel}: sent by {gateway} ([delivery] {key})"));
            continue;
        }
        let Some(policy) = policy else {
            report.warn(format!(
                "{channel}: kept in the outbox (no gateway); the policy could not be read to \
                 say whether anything needs them"
            ));
            continue;
        };
        let allowed: Vec<&str> = kinds
            .iter()
            .filter(|k| policy.mfa_kinds.contains(k) || policy.reset_kinds.contains(k))
            .map(Kind::as_str)
            .collect();
        if allowed.is_empty() {
            report.ok(format!(
                "{channel}: kept in the outbox (no gateway), and the policy allows no method \
                 that needs them"
            ));
        } else {
            report.warn(format!(
                "{channel}: the policy allows {} but no gateway sends them (they stay in the \
                 outbox): set [delivery] {key}, or take the kind out of the policy",
                allowed.join(", ")
            ));
        }
    }
}

fn phone_name(g: &PhoneGateway) -> &'static str {
    match g {
        PhoneGateway::Outbox => "outbox",
        PhoneGateway::Webhook(_) => "webhook",
        PhoneGateway::Twilio(_) => "twilio",
    }
}

fn email_name(g: &EmailGateway) -> &'static str {
    match g {
        EmailGateway::Outbox => "outbox",
        EmailGateway::Webhook(_) => "webhook",
        EmailGateway::Smtp(_) => "smtp",
    }
}

async fn directory(config: &Config, report: &mut Report) {
    use tessera_core::directory::Directory;
    let Some(settings) = &config.directory else {
        report.ok("directory: not configured (every account is local)");
        return;
    };
    let url = settings.url.clone();
    let directory = match tessera_server::directory::LdapDirectory::new(settings.clone()) {
        Ok(d) => d,
        Err(e) => {
            report.fail(format!("directory {url}: {e}"));
            return;
        }
    };
    match tokio::time::timeout(DIRECTORY_TIMEOUT, directory.ping()).await {
        Ok(Ok(())) => report.ok(format!(
            "directory {url}: answers, and the service account binds"
        )),
        Ok(Err(e)) => report.fail(format!(
            "directory {url}: {e}; check the URL, the CA file and the service account"
        )),
        Err(_) => report.fail(format!(
            "directory {url}: no answer within {} s; check the address and the firewall",
            DIRECTORY_TIMEOUT.as_secs()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_urls_are_told_apart() {
        assert!(is_local("http://localhost:8080"));
        assert!(is_local("http://127.0.0.1:8080/x"));
        assert!(is_local("http://[::1]:8080"));
        assert!(!is_local("http://mfa.example.org"));
        assert!(!is_local("http://localhost.example.org"));
    }
}
