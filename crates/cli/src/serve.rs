//! `tessera serve`: open the store, listen, serve until Ctrl-C or SIGTERM, and keep the
//! database tidy meanwhile.

use crate::config::{Config, ConfigArgs, ServeFlags};
use crate::failure::{Failure, Outcome, chain};
use crate::open::open;
use crate::output::shell_word;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tessera_core::Tessera;
use tessera_server::{AppState, ServerConfig};

/// Expired flows and sessions are harmless (every read checks expiry), so this only bounds
/// how much dead data the tables carry.
const PURGE_EVERY: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub flags: ServeFlags,
}

pub async fn run(config: Config) -> Outcome {
    // Before the store: a wrong certificate file is the first and only error.
    let tls = crate::tls::load(&config)?;
    let opened = open(&config).await?;
    // The key file and the sealing key id, read again while serving (key rotation).
    let keys_watch = crate::key_reload::spawn_watch(
        config.master_key_file(),
        opened.keys.clone(),
        opened.store.clone(),
    );
    let result = serve(&config, opened.tessera.clone(), tls).await;
    keys_watch.abort();
    opened.close().await;
    result
}

async fn serve(config: &Config, tessera: Arc<Tessera>, tls: Option<crate::tls::Tls>) -> Outcome {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| Failure::Runtime(format!("cannot listen on {}: {e}", config.listen)))?;
    let bound = listener
        .local_addr()
        .map_err(|e| Failure::Runtime(format!("cannot read the bound address: {e}")))?;

    let mut server = ServerConfig::new(bound);
    if tls.is_some() {
        // Secure, `__Host-` cookies and HSTS follow from an https public URL.
        server.public_url = format!("https://{bound}");
    }
    if let Some(url) = &config.public_url {
        server.public_url = url.clone();
    }
    server.trusted_proxies = config.trusted_proxies.clone();
    server.organization = config.organization.clone();
    server.max_body_bytes = config.max_body_bytes;
    server.delivery = config.delivery.clone();
    server.sign_in_limit_per_minute = config.sign_in_limit_per_minute;
    server.forward_auth_cookie_domain = config.forward_auth_cookie_domain.clone();
    server.web_push_subject = config.web_push_subject.clone();
    // The organization's directory (#19): sign-in binds its people, resets and changes
    // write their passwords there, `/readyz` checks it. Connections are made per request, so
    // a directory that is down at start only answers "try again later" until it is back.
    if let Some(directory) = &config.directory {
        let ldap = tessera_server::directory::LdapDirectory::new(directory.clone())
            .map_err(|e| Failure::Runtime(format!("[directory]: {e}")))?;
        tessera.set_directory(Arc::new(ldap));
        tracing::info!(url = %directory.url, "directory connected");
    }

    // Every node signs ID tokens with the same keys, kept in the store; the first start
    // makes them.
    tessera.oidc_ensure_keys().await?;
    // Likewise the Web Push (VAPID) key browsers subscribe with.
    tessera.vapid_key().await?;
    let accounts = tessera.local_admin().list_accounts(None, 1).await?;
    if accounts.is_empty() {
        let command = first_admin_command(config);
        tracing::warn!(%command, "no accounts yet");
        println!("No accounts yet. Create the first administrator with:\n  {command}");
    }
    tracing::info!(
        address = %bound,
        public_url = %server.public_url,
        database = %config.database_url().redacted(),
        "tessera listening"
    );
    // SIGHUP's hooks are in place before the listening line, which scripts wait for.
    let mut reloaders = crate::reload::Reloaders::default();
    if let Some(tls) = &tls {
        tls.register(&mut reloaders);
    }
    crate::key_reload::register(&mut reloaders, config.master_key_file(), tessera.clone());
    let sighup = reloaders
        .watch()
        .map_err(|e| Failure::Runtime(format!("cannot watch for SIGHUP: {e}")))?;
    // Scripts and tests wait for this exact line, and read the port from it.
    println!("{}", listening_line(bound, tls.is_some()));

    let housekeeping = tokio::spawn(housekeeping(tessera.clone()));
    let directory_sync = crate::directory::spawn_periodic_sync(tessera.clone(), config)?;
    let radius = match config.radius_listen {
        Some(addr) => Some(spawn_radius(addr, tessera.clone()).await?),
        None => None,
    };
    let state = AppState::new(tessera, server);
    let tls = tls.map(|t| t.server_config());
    let served = tessera_server::serve_with(listener, tls, state, shutdown()).await;
    sighup.abort();
    housekeeping.abort();
    if let Some(sync) = directory_sync {
        sync.abort();
    }
    if let Some(radius) = radius {
        radius.abort();
    }
    served.map_err(|e| Failure::Runtime(format!("serving on {bound} failed: {e}")))?;
    tracing::info!("stopped");
    Ok(())
}

/// The RADIUS server (issue #18), beside the HTTP one until the process stops.
async fn spawn_radius(
    addr: SocketAddr,
    tessera: Arc<Tessera>,
) -> Outcome<tokio::task::JoinHandle<()>> {
    let socket = tessera_server::radius::bind(addr)
        .await
        .map_err(|e| Failure::Runtime(format!("cannot listen for RADIUS on {addr}: {e}")))?;
    let bound = socket
        .local_addr()
        .map_err(|e| Failure::Runtime(format!("cannot read the RADIUS address: {e}")))?;
    tracing::info!(address = %bound, "radius listening");
    println!("tessera radius listening on udp://{bound}");
    Ok(tokio::spawn(async move {
        let stopped = tessera_server::radius::serve(socket, tessera, std::future::pending()).await;
        if let Err(e) = stopped {
            tracing::error!(error = %e, "radius stopped");
        }
    }))
}

/// The `user add` line that reaches the same database and key as this server.
fn first_admin_command(config: &Config) -> String {
    let mut words: Vec<String> = [
        "tessera",
        "user",
        "add",
        "alice@example.org",
        "--admin",
        "--password-stdin",
    ]
    .map(String::from)
    .to_vec();
    if let Some(file) = &config.config_file {
        words.push("--config".into());
        words.push(shell_word(&file.to_string_lossy()));
    }
    words.push("--data-dir".into());
    words.push(shell_word(&config.data_dir.to_string_lossy()));
    if config.database_url_is_explicit() {
        // Redacted: this line lands in logs.
        words.push("--database-url".into());
        words.push(shell_word(&config.database_url().redacted()));
    }
    words.join(" ")
}

async fn housekeeping(tessera: Arc<Tessera>) {
    let mut tick = tokio::time::interval(PURGE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = tessera.now();
        let store = tessera.store();
        match store.purge_expired(now).await {
            Ok(0) => {}
            Ok(rows) => tracing::debug!(
                rows,
                "purged expired flows, sessions, challenges and messages"
            ),
            Err(e) => {
                tracing::warn!(error = %chain(&e), "purging expired rows failed")
            }
        }
        match store.delete_expired_pending(now).await {
            Ok(0) => {}
            Ok(rows) => tracing::debug!(rows, "removed lapsed pending registrations"),
            Err(e) => tracing::warn!(error = %chain(&e), "removing lapsed registrations failed"),
        }
        match store.purge_temporary_access_passes(now).await {
            Ok(0) => {}
            Ok(rows) => tracing::debug!(rows, "removed used or lapsed temporary access passes"),
            Err(e) => tracing::warn!(error = %chain(&e), "removing temporary access passes failed"),
        }
        // The verification API counts in one-minute windows; older ones are spent.
        if let Err(e) = store.purge_rate_windows(now.unix_timestamp() - 120).await {
            tracing::warn!(error = %chain(&e), "removing old rate windows failed");
        }
        // A count of password guesses this old would start again anyway.
        let forget = time::Duration::seconds(tessera_core::password_guesses::FORGET_AFTER_SECS);
        if let Err(e) = store.purge_password_guesses(now - forget).await {
            tracing::warn!(error = %chain(&e), "removing old password guess counts failed");
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM (what `docker stop` and systemd send).
async fn shutdown() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot watch for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down; finishing the requests in flight");
}

fn listening_line(bound: SocketAddr, tls: bool) -> String {
    let scheme = if tls { "https" } else { "http" };
    format!("tessera listening on {scheme}://{bound}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_are_bracketed_in_the_url() {
        let addr: Option<SocketAddr> = "[::1]:8080".parse().ok();
        assert_eq!(
            addr.map(|a| listening_line(a, false)).as_deref(),
            Some("tessera listening on http://[::1]:8080")
        );
    }

    #[test]
    fn the_first_admin_command_never_shows_a_database_password() {
        let args = ConfigArgs {
            data_dir: Some("/var/lib/my tessera".into()),
            database_url: Some("postgres://tessera:s3cret@db/tessera".into()),
            ..ConfigArgs::default()
        };
        let config = Config::load(&args, &ServeFlags::default(), &|_| None);
        let command = config.map(|c| first_admin_command(&c)).unwrap_or_default();
        assert_eq!(
            command,
            "tessera user add alice@example.org --admin --password-stdin \
             --data-dir '/var/lib/my tessera' --database-url 'postgres://tessera:***@db/tessera'"
        );
    }
}
