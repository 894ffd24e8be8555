//! `tessera-bench pg-restart`: two nodes on one PostgreSQL database under a steady load of
//! code verifications; PostgreSQL is restarted in the middle (by a command the caller gives,
//! see scripts/pg-restart-test.sh). Passes when
//! - no request took longer than the server's 30 s request timeout (plus slack),
//! - each node served verifications again after the restart without being restarted,
//! - every acknowledged verification is in the database afterwards.

use anyhow::{Context, Result, bail};
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tessera_bench::load::{self, Step};
use tessera_bench::node::{self, Node, NodeSpec, TempDir};
use tessera_bench::scenario;
use tessera_bench::seed::{self, PgDatabase};
use tessera_core::store::methods::MethodStore;
use tessera_core::{Clock, MethodId, SystemClock};
use tessera_store::SqlStore;

/// The server answers 503 after 30 s; anything slower hung.
const HANG: Duration = Duration::from_secs(35);

#[derive(Debug, clap::Args)]
pub struct PgRestartArgs {
    #[arg(long, value_name = "PATH")]
    tessera: Option<PathBuf>,
    /// A PostgreSQL URL whose server may create and drop databases
    #[arg(long, env = "TESSERA_TEST_POSTGRES_URL", value_name = "URL")]
    database_url: String,
    /// Shell command that restarts that PostgreSQL, e.g. "pg_ctl -D /tmp/pg restart -m fast"
    #[arg(long, value_name = "COMMAND")]
    restart_cmd: String,
    #[arg(long, default_value_t = 2_000)]
    accounts: u64,
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Seconds of load in all
    #[arg(long, default_value_t = 40)]
    duration: u64,
    /// Seconds of load before the restart
    #[arg(long, default_value_t = 8)]
    restart_after: u64,
    /// Milliseconds each client waits between requests (keeps enough valid codes in hand)
    #[arg(long, default_value_t = 50)]
    pause_ms: u64,
}

struct Ack {
    method: MethodId,
    step: i64,
}

pub async fn run(args: PgRestartArgs) -> Result<bool> {
    let binary = args.tessera.clone().unwrap_or_else(node::default_binary);
    let dir = TempDir::new("tessera-pg-restart")?;
    let keys = seed::write_master_key(&dir.path().join("master.key"))?;
    let db = PgDatabase::create(&args.database_url, "tessera_pg_restart").await?;
    let result = drive(&args, &binary, &dir, &keys, &db).await;
    if let Err(e) = db.drop_now().await {
        eprintln!("warning: could not drop database {}: {e:#}", db.name);
    }
    result
}

async fn drive(
    args: &PgRestartArgs,
    binary: &std::path::Path,
    dir: &TempDir,
    keys: &tessera_core::KeyRing,
    db: &PgDatabase,
) -> Result<bool> {
    let store = SqlStore::connect(&db.url)
        .await
        .map_err(|e| anyhow::anyhow!("opening the store: {e:?}"))?;
    let org = Arc::new(seed::seed(&store, keys, args.accounts, args.accounts, |_| {}).await?);
    let spec = NodeSpec {
        binary: binary.to_path_buf(),
        data_dir: dir.path().to_path_buf(),
        database_url: Some(db.url.clone()),
        env: vec![("TESSERA_SIGN_IN_LIMIT_PER_MINUTE".into(), "0".into())],
    };
    let mut nodes = vec![Node::start(&spec)?, Node::start(&spec)?];
    let pids: Vec<u32> = nodes.iter().map(Node::pid).collect();
    let bases: Arc<Vec<String>> = Arc::new(nodes.iter().map(|n| n.base.clone()).collect());
    let client = scenario::http_client(args.clients)?;
    let acks = Arc::new(Mutex::new(Vec::<Ack>::new()));
    let served = Arc::new(Mutex::new(Vec::<(usize, Instant)>::new()));
    let cursor = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let pause = Duration::from_millis(args.pause_ms);

    let load = {
        let (org, acks, served, bases) = (org.clone(), acks.clone(), served.clone(), bases.clone());
        let clients = args.clients;
        let duration = Duration::from_secs(args.duration);
        tokio::spawn(load::drive(clients, duration, move |c, _| {
            let now = SystemClock.now().unix_timestamp();
            let n = cursor.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let hot = &org.hot[(n % org.hot.len() as u64) as usize];
            let node = c % bases.len();
            let claimed = hot.claim_step(now).map(|s| (s, hot.code(s)));
            let req = claimed.map(|(s, code)| {
                code.map(|code| {
                    (
                        s,
                        client
                            .post(format!("{}/api/v1/me/step-up/verify", bases[node]))
                            .bearer_auth(&hot.token)
                            .json(&json!({"method_id": hot.method_id.to_string(), "code": code})),
                    )
                })
            });
            let (acks, served, method) = (acks.clone(), served.clone(), hot.method_id);
            async move {
                tokio::time::sleep(pause).await;
                let (step, req) = match req {
                    None => return Step::Unexpected("no valid code left; raise --accounts".into()),
                    Some(Err(e)) => return Step::Unexpected(e.to_string()),
                    Some(Ok(r)) => r,
                };
                let outcome = load::expect(req.send().await, 200).await;
                if matches!(outcome, Step::Ok) {
                    if let Ok(mut a) = acks.lock() {
                        a.push(Ack { method, step });
                    }
                    if let Ok(mut s) = served.lock() {
                        s.push((node, Instant::now()));
                    }
                }
                outcome
            }
        }))
    };

    tokio::time::sleep(Duration::from_secs(args.restart_after)).await;
    eprintln!("restarting PostgreSQL: {}", args.restart_cmd);
    let restart = args.restart_cmd.clone();
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(restart)
            .status()
    })
    .await?
    .context("running the restart command")?;
    if !status.success() {
        bail!("the restart command failed: {status}");
    }
    let restarted = Instant::now();
    eprintln!("PostgreSQL is back; load continues");
    let outcome = load.await?;

    let mut ok = true;
    let mut say = |met: bool, what: String| {
        ok &= met;
        println!("{} {what}", if met { "ok:    " } else { "FAILED:" });
    };
    let slowest = outcome.latencies_us.last().copied().unwrap_or(0);
    say(
        Duration::from_micros(slowest) < HANG,
        format!(
            "slowest request {:.2} s (must stay under {HANG:?})",
            slowest as f64 / 1e6
        ),
    );
    println!(
        "requests: {} answered as expected, {} not (during the restart these are 500/503){}",
        outcome.ok,
        outcome.unexpected,
        outcome
            .first_unexpected
            .as_deref()
            .map(|w| format!("; first: {w}"))
            .unwrap_or_default()
    );
    let served = served.lock().map(|s| s.clone()).unwrap_or_default();
    for (i, n) in nodes.iter_mut().enumerate() {
        let after = served
            .iter()
            .filter(|(node, at)| *node == i && *at > restarted)
            .count();
        say(
            n.is_running() && n.pid() == pids[i] && after > 0,
            format!(
                "node {i} (pid {}) served {after} verifications after the restart, without a restart of its own",
                pids[i]
            ),
        );
    }

    let acks = std::mem::take(&mut *acks.lock().map_err(|_| anyhow::anyhow!("poisoned"))?);
    let mut highest: HashMap<MethodId, i64> = HashMap::new();
    for a in &acks {
        let h = highest.entry(a.method).or_insert(a.step);
        *h = (*h).max(a.step);
    }
    let mut lost = 0;
    for (method, step) in &highest {
        let stored = store
            .method(*method)
            .await
            .map_err(|e| anyhow::anyhow!("reading back: {e:?}"))?
            .and_then(|m| m.last_step);
        if stored.is_none_or(|s| s < *step) {
            lost += 1;
        }
    }
    say(
        lost == 0 && !acks.is_empty(),
        format!(
            "{} acknowledged verifications on {} methods; {lost} methods lost an acknowledged step",
            acks.len(),
            highest.len()
        ),
    );
    drop(nodes);
    store.close().await;
    Ok(ok)
}
