//! `tessera-bench load`: for each size, a fresh store seeded with that many accounts, one or
//! two `tessera serve` nodes on it, and every scenario in turn.

use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tessera_bench::argon;
use tessera_bench::node::{self, Node, NodeSpec, TempDir};
use tessera_bench::report::{Row, Run};
use tessera_bench::scenario::{self, Scenario, Target};
use tessera_bench::seed::{self, PgDatabase};
use tessera_bench::seed_push;
use tessera_bench::summary::{self, Summary};
use tessera_bench::targets;
use tessera_core::Policy;
use tessera_store::SqlStore;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreKind {
    Sqlite,
    Postgres,
}

#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// The tessera binary [default: `tessera` beside this one, i.e. target/release/tessera]
    #[arg(long, value_name = "PATH")]
    tessera: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "sqlite")]
    store: StoreKind,
    /// Nodes on one database (2 needs PostgreSQL)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    nodes: u8,
    /// A PostgreSQL URL whose server may create and drop databases
    #[arg(long, env = "TESSERA_TEST_POSTGRES_URL", value_name = "URL")]
    database_url: Option<String>,
    /// Organization sizes, each run on a fresh store, e.g. 10000,1000000
    #[arg(long, value_delimiter = ',', default_value = "10000")]
    accounts: Vec<u64>,
    /// Accounts with a session that the load signs codes for [default: min(accounts, 50000)]
    #[arg(long)]
    hot: Option<u64>,
    /// Hot accounts given an activated authenticator app for the push scenario (each may
    /// be sent 5 notifications per 5 minutes, the activation's test included)
    #[arg(long, default_value_t = 6000)]
    push_accounts: u64,
    /// Concurrent clients (for push: device and person pairs)
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Seconds each scenario is measured
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of unmeasured load before each scenario
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Scenarios to run, in this order
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "healthz,security-info,verify,verify-wrong,sign-in,push,push-web,token,forward-auth,radius"
    )]
    scenarios: Vec<String>,
    /// Judge the run against the targets (crates/bench/src/targets.rs, issue #20): one line
    /// per target, PASS or MISS; exit with 3 when one is missed
    #[arg(long)]
    check: bool,
    /// Also write every run's figures to FILE as JSON (a later `--baseline`)
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// A previous run's `--json` report: its runs on the same store and node count count as
    /// sizes of this one for the p99 growth target (10 000 → 1 000 000 accounts)
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
}

pub async fn run(args: LoadArgs) -> Result<bool> {
    let binary = args.tessera.clone().unwrap_or_else(node::default_binary);
    if !binary.is_file() {
        bail!(
            "no tessera binary at {}: build it with `cargo build --release -p tessera` or pass --tessera",
            binary.display()
        );
    }
    let scenarios: Vec<Scenario> = args
        .scenarios
        .iter()
        .map(|s| Scenario::parse(s).with_context(|| format!("unknown scenario `{s}`")))
        .collect::<Result<_>>()?;
    if args.nodes > 1 && args.store == StoreKind::Sqlite {
        bail!("two nodes share a PostgreSQL database; use --store postgres");
    }
    if args.clients == 0 || args.duration <= 0.0 {
        bail!("--clients and --duration must be above zero");
    }
    // Read before the long run, so a wrong path fails at once.
    let baseline = match &args.baseline {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            summary::runs_from_json(&text)
                .with_context(|| format!("{} is not a `--json` report", path.display()))?
        }
        None => Vec::new(),
    };
    let mut runs = Vec::new();
    let mut missed = false;
    for &accounts in &args.accounts {
        let run = one_size(&args, &binary, &scenarios, accounts).await?;
        println!("{}", run.render());
        let summary = run.summary(args.clients);
        if args.check {
            println!("Targets (issue #20, crates/bench/src/targets.rs):");
            for c in targets::check(&summary) {
                missed |= c.missed();
                println!("{}", c.line());
            }
            println!();
        }
        runs.push(summary);
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&summary::runs_to_json(&runs))?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
        eprintln!("figures written to {}", path.display());
    }
    if args.check {
        let this = &runs[0];
        let sizes: Vec<Summary> = baseline
            .into_iter()
            .filter(|b| b.store == this.store && b.nodes == this.nodes)
            .chain(runs.iter().cloned())
            .collect();
        let growth = targets::growth(&sizes);
        if growth.is_empty() {
            // A baseline of another store or node count is no earlier size of this run.
            println!(
                "n/a   p99 growth across sizes: one size of {} with {} node(s) only (give \
                 --accounts 10000,1000000, or --baseline with an earlier run's --json)",
                this.store.name(),
                this.nodes
            );
        }
        for c in growth {
            missed |= c.missed();
            println!("{}", c.line());
        }
    }
    Ok(!missed)
}

async fn one_size(
    args: &LoadArgs,
    binary: &std::path::Path,
    scenarios: &[Scenario],
    accounts: u64,
) -> Result<Run> {
    let dir = TempDir::new("tessera-bench")?;
    let keys = Arc::new(seed::write_master_key(&dir.path().join("master.key"))?);
    let pg = match args.store {
        StoreKind::Sqlite => None,
        StoreKind::Postgres => {
            let admin = args
                .database_url
                .as_deref()
                .context("--store postgres needs --database-url or TESSERA_TEST_POSTGRES_URL")?;
            Some(PgDatabase::create(admin, "tessera_bench").await?)
        }
    };
    let url = match &pg {
        Some(db) => db.url.clone(),
        None => tessera_store::sqlite_url(dir.path()),
    };
    let result = async {
        let store = SqlStore::connect(&url)
            .await
            .map_err(|e| anyhow::anyhow!("opening the store: {e:?}"))?;
        let hot = args.hot.unwrap_or(50_000).min(accounts);
        eprintln!("seeding {accounts} accounts ({hot} with sessions) …");
        let step = (accounts / 10).max(1);
        let org = seed::seed(&store, &keys, accounts, hot, |done| {
            if done % step < 2_000 || done == accounts {
                eprintln!("  {done}/{accounts}");
            }
        })
        .await?;
        if org.hot.is_empty() {
            bail!("no hot accounts: give --accounts and --hot above zero");
        }
        let push = if scenarios.contains(&Scenario::Push) || scenarios.contains(&Scenario::WebPush)
        {
            let count = args.push_accounts.min(org.hot.len() as u64) as usize;
            eprintln!("activating {count} authenticator apps for push …");
            seed_push::seed_devices(&store, &keys, &org.hot, count).await?
        } else {
            Vec::new()
        };
        let relying_party = tessera_bench::oidc::seed_client(&store).await?;
        let forward_auth = if scenarios.contains(&Scenario::ForwardAuth) {
            eprintln!("adding {} forward-auth sessions …", org.hot.len());
            tessera_bench::forward_auth::seed(&store, &org.hot).await?
        } else {
            tessera_bench::forward_auth::ForwardAuthCookies { tokens: Vec::new() }
        };
        let radius_runs = scenarios.contains(&Scenario::Radius);
        if radius_runs {
            tessera_bench::radius::seed(&store, &keys).await?;
        }
        store.close().await;

        let spec = NodeSpec {
            binary: binary.to_path_buf(),
            data_dir: dir.path().to_path_buf(),
            database_url: pg.as_ref().map(|db| db.url.clone()),
            // A flood from one address is exactly what this is; the limit would measure itself.
            env: vec![("TESSERA_SIGN_IN_LIMIT_PER_MINUTE".into(), "0".into())],
        };
        let mut nodes = Vec::new();
        let nodes_count = usize::from(args.nodes);
        let mut radius = Vec::new();
        for _ in 0..args.nodes {
            let mut spec = spec.clone();
            if radius_runs {
                let addr = tessera_bench::radius::free_port()?;
                spec.env
                    .push(("TESSERA_RADIUS_LISTEN".into(), addr.to_string()));
                radius.push(addr);
            }
            nodes.push(Node::start(&spec)?);
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        eprintln!("measuring the Argon2id bound on {threads} threads …");
        let hash = seed::password_hash()?;
        let bound = tokio::task::spawn_blocking(move || {
            argon::measure(&hash, seed::PASSWORD, threads, Duration::from_secs(4))
        })
        .await?;

        let target = Target {
            // Push holds a long poll and a challenge open per client at once.
            client: scenario::http_client(args.clients * 2)?,
            nodes: Arc::new(nodes.iter().map(|n| n.base.clone()).collect()),
            org: Arc::new(org),
            wrong_budget: i64::from(Policy::default().lockout_threshold) - 1,
            web_push: if scenarios.contains(&Scenario::WebPush) {
                Some(tessera_bench::push_web::WebPushSink::start(push.len()).await?)
            } else {
                None
            },
            push: Arc::new(push),
            relying_party: Arc::new(relying_party),
            forward_auth: Arc::new(forward_auth),
            radius: Arc::new(radius),
        };
        let mut rows = Vec::new();
        for &s in scenarios {
            eprintln!("running {} …", s.name());
            if args.warmup > 0.0 {
                scenario::run(
                    s,
                    &target,
                    args.clients,
                    Duration::from_secs_f64(args.warmup),
                )
                .await;
            }
            for n in &nodes {
                n.reset_peak_rss();
            }
            let outcome = scenario::run(
                s,
                &target,
                args.clients,
                Duration::from_secs_f64(args.duration),
            )
            .await;
            let peak_rss_kib = nodes.iter().filter_map(Node::peak_rss_kib).max();
            rows.push(Row {
                scenario: s,
                outcome,
                peak_rss_kib,
            });
        }
        for n in &mut nodes {
            if !n.is_running() {
                bail!("a node stopped during the run; its log:\n{}", n.log());
            }
        }
        drop(nodes);
        Ok(Run {
            title: format!(
                "Tessera bench: {} ({} node{}), {accounts} accounts ({hot} hot), {} clients, \
                 {} s per scenario, {threads} cores",
                match args.store {
                    StoreKind::Sqlite => "SQLite",
                    StoreKind::Postgres => "PostgreSQL",
                },
                args.nodes,
                if args.nodes == 1 { "" } else { "s" },
                args.clients,
                args.duration,
            ),
            postgres: pg.is_some(),
            nodes: nodes_count,
            accounts,
            argon2: Some(bound),
            rows,
        })
    }
    .await;
    if let Some(db) = &pg
        && let Err(e) = db.drop_now().await
    {
        eprintln!("warning: could not drop database {}: {e:#}", db.name);
    }
    result
}
