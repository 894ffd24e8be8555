//! `tessera key status|add|rotate|retire` (docs/design/key-rotation.md) while `tessera serve`
//! runs: sign-ins with a password and a fresh TOTP code go on before, during and after a
//! rotation, and still work once the old key has left the key file, after a SIGHUP and after
//! a restart. On PostgreSQL, two nodes: the second learns the new key from its key file.

use crate::harness::{Ran, Server, TempDir, run, tessera};
use crate::postgres::URL_VAR;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tessera_bench::seed::{self, HotAccount, PASSWORD};
use tessera_core::method::authenticator_code;
use tessera_core::store::sealed::SealedStore;
use tessera_core::{Clock, SystemClock};
use tessera_store::SqlStore;

const ACCOUNTS: u64 = 16;
/// How long a wait for the load may take on a slow, busy machine before the test gives up.
const PATIENCE: Duration = Duration::from_secs(300);

/// Accounts with a TOTP method sealed under a fresh key file in `data`.
async fn seed_org(data: &Path, url: &str) -> Vec<HotAccount> {
    std::fs::create_dir_all(data).unwrap();
    let ring = seed::write_master_key(&data.join("master.key")).unwrap();
    let store = SqlStore::connect(url).await.unwrap();
    let org = seed::seed(&store, &ring, ACCOUNTS, ACCOUNTS, |_| {})
        .await
        .unwrap();
    store.close().await;
    org.hot
}

/// `tessera ARGS… --data-dir DATA [--database-url URL]`, run to the end off the runtime.
async fn cli(dir: &Path, data: &Path, url: Option<&str>, args: &[&str]) -> Ran {
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    all.push("--data-dir".into());
    all.push(data.to_str().unwrap().into());
    if let Some(url) = url {
        all.push("--database-url".into());
        all.push(url.into());
    }
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = all.iter().map(String::as_str).collect();
        run(tessera(&dir, &args), "")
    })
    .await
    .unwrap()
}

fn serve(dir: &Path, data: &Path, url: Option<&str>, log: &str) -> Server {
    let mut args = vec![
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data.to_str().unwrap(),
    ];
    if let Some(url) = url {
        args.extend(["--database-url", url]);
    }
    let mut command = tessera(dir, &args);
    // The load signs in from one address, faster than a person would.
    command.env("TESSERA_SIGN_IN_LIMIT_PER_MINUTE", "0");
    Server::start(command, dir.join(log))
}

/// `key status --json`: key id → (in the key file, seals, sealed values).
async fn status(dir: &Path, data: &Path, url: Option<&str>) -> Vec<(u64, bool, bool, u64)> {
    let ran = cli(dir, data, url, &["key", "status", "--json"]).await;
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let v: Value = serde_json::from_str(&ran.stdout).unwrap();
    v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["id"].as_u64().unwrap(),
                k["in_key_file"].as_bool().unwrap(),
                k["seals"].as_bool().unwrap(),
                k["sealed_values"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn key_ids_in_file(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("key "))
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect()
}

/// Copies a key file the way an operator would deploy it: whole, or not at all.
fn deploy_key(from: &Path, to: &Path) {
    let temp = to.with_extension("copy");
    std::fs::copy(from, &temp).unwrap();
    std::fs::rename(&temp, to).unwrap();
}

/// One sign-in: the password, then the code for `step`.
async fn sign_in(
    http: &reqwest::Client,
    base: &str,
    account: &HotAccount,
    step: i64,
) -> Result<(), String> {
    let post = |path: String, body: Value| async move {
        let r = http
            .post(format!("{base}/api/v1{path}"))
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = r.status().as_u16();
        Ok::<_, String>((status, r.json::<Value>().await.unwrap_or(Value::Null)))
    };
    let username = seed::username(account.index);
    let (status, flow) = post(
        "/sign-in".into(),
        json!({"username": username, "password": PASSWORD}),
    )
    .await?;
    if status != 200 || flow["status"] != "mfa_required" {
        return Err(format!("{base} {username}: password: {status} {flow}"));
    }
    let id = flow["flow"].as_str().unwrap_or_default();
    let code = account.code(step).map_err(|e| e.to_string())?;
    let (status, done) = post(
        format!("/sign-in/{id}/verify"),
        json!({"method_id": account.method_id.to_string(), "code": code}),
    )
    .await?;
    if status != 200 || done["status"] != "signed_in" {
        return Err(format!("{base} {username}: code: {status} {done}"));
    }
    Ok(())
}

/// Each sign-in's phase and outcome.
type Results = Arc<Mutex<Vec<(usize, Result<(), String>)>>>;

/// Sign-ins in a loop, round-robin over the accounts and the nodes, each with a step no
/// earlier sign-in of that account used. Results are kept by phase.
///
/// The loop is paced to one sign-in per `STEP_SECS / accounts`: each account then uses one
/// step per step that passes, so the load never runs out of fresh steps and idles. Unpaced,
/// it used every step in a burst and waited up to half a minute, and a whole rotation could
/// fall in that wait with no sign-in during it.
struct Load {
    stop: Arc<AtomicBool>,
    phase: Arc<AtomicUsize>,
    results: Results,
    task: tokio::task::JoinHandle<()>,
}

const BEFORE: usize = 0;
const DURING: usize = 1;
const AFTER: usize = 2;

impl Load {
    fn start(accounts: Arc<Vec<HotAccount>>, bases: Vec<String>) -> Load {
        tessera_bench::scenario::install_crypto();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let phase = Arc::new(AtomicUsize::new(BEFORE));
        let results = Arc::new(Mutex::new(Vec::new()));
        let (s, p, r) = (stop.clone(), phase.clone(), results.clone());
        let pace = Duration::from_secs(authenticator_code::STEP_SECS) / accounts.len() as u32;
        let task = tokio::spawn(async move {
            let mut turn = 0usize;
            let mut next_start = tokio::time::Instant::now();
            while !s.load(Ordering::SeqCst) {
                tokio::time::sleep_until(next_start).await;
                next_start = next_start.max(tokio::time::Instant::now()) + pace;
                let now = SystemClock.now().unix_timestamp();
                let free = (0..accounts.len())
                    .map(|i| (turn + i) % accounts.len())
                    .find_map(|i| accounts[i].claim_step(now).map(|step| (i, step)));
                let Some((i, step)) = free else {
                    // Every account used every step the server accepts now.
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                };
                let phase = p.load(Ordering::SeqCst);
                let base = &bases[turn % bases.len()];
                let outcome = sign_in(&http, base, &accounts[i], step).await;
                // A sign-in that began before the phase changed belongs to the earlier one.
                r.lock().unwrap().push((phase, outcome));
                turn += 1;
            }
        });
        Load {
            stop,
            phase,
            results,
            task,
        }
    }

    fn succeeded(&self, phase: usize) -> usize {
        let results = self.results.lock().unwrap();
        results
            .iter()
            .filter(|(p, r)| *p == phase && r.is_ok())
            .count()
    }

    /// Waits for `n` successful sign-ins in `phase`, failing at the first failure.
    async fn until(&self, phase: usize, n: usize) {
        let deadline = Instant::now() + PATIENCE;
        while self.succeeded(phase) < n {
            self.assert_no_failures();
            assert!(Instant::now() < deadline, "the load stalled");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn assert_no_failures(&self) {
        let results = self.results.lock().unwrap();
        let failed: Vec<&String> = results
            .iter()
            .filter_map(|(_, r)| r.as_ref().err())
            .collect();
        assert!(failed.is_empty(), "sign-ins failed: {failed:#?}");
    }

    fn set_phase(&self, phase: usize) {
        self.phase.store(phase, Ordering::SeqCst);
    }

    async fn finish(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        (&mut self.task).await.unwrap();
        self.assert_no_failures();
        eprintln!(
            "sign-ins that succeeded: {} before, {} during, {} after the rotation",
            self.succeeded(BEFORE),
            self.succeeded(DURING),
            self.succeeded(AFTER)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_master_key_rotates_under_load_and_the_old_one_retires() {
    let dir = TempDir::new("key-rotate");
    let data: PathBuf = dir.join("data");
    let url = tessera_store::sqlite_url(&data);
    let accounts = Arc::new(seed_org(&data, &url).await);
    let mut server = serve(&dir.path, &data, None, "serve.log");
    let base = format!("http://{}", server.addr);
    // A RADIUS secret too; serve sealed the OIDC and Web Push keys at start.
    let ran = cli(
        &dir.path,
        &data,
        None,
        &["radius", "client", "add", "vpn", "--address", "192.0.2.1"],
    )
    .await;
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let before = status(&dir.path, &data, None).await;
    assert_eq!(before.len(), 1, "{before:?}");
    let (id, in_file, seals, sealed) = before[0];
    assert!(id == 1 && in_file && seals, "{before:?}");
    assert!(
        sealed >= ACCOUNTS + 3,
        "seeds, OIDC, VAPID, RADIUS: {before:?}"
    );

    let load = Load::start(accounts.clone(), vec![base.clone()]);
    load.until(BEFORE, 3).await;

    // One node: `rotate` adds key 2, makes it seal and re-seals, two values a transaction.
    load.set_phase(DURING);
    let ran = cli(&dir.path, &data, None, &["key", "rotate", "--batch", "2"]).await;
    assert_eq!(ran.code, Some(0), "{ran:?}\n{}", server.log());
    assert!(ran.stdout.contains("added key 2"), "{ran:?}");
    assert!(
        ran.stdout.contains("re-sealed"),
        "progress is printed: {ran:?}"
    );
    load.set_phase(AFTER);
    // A sign-in that started while the keys rotated counts for the rotation, also when it
    // finishes after it: on a slow machine one sign-in may outlast the whole rotation.
    load.until(DURING, 1).await;
    load.until(AFTER, 3).await;

    let after = status(&dir.path, &data, None).await;
    assert_eq!(
        after,
        vec![(1, true, false, 0), (2, true, true, sealed)],
        "every value moved to key 2"
    );
    let ran = cli(&dir.path, &data, None, &["key", "retire", "1"]).await;
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert_eq!(key_ids_in_file(&data.join("master.key")), vec!["2"]);
    assert_eq!(harness_mode(&data.join("master.key")), Some(0o600));

    // The running server reads the file again (timer or SIGHUP) and goes on signing in.
    let done = load.succeeded(AFTER);
    server.signal("HUP");
    let deadline = Instant::now() + PATIENCE;
    while !server.log().contains("what=\"master keys\"") {
        assert!(
            Instant::now() < deadline,
            "SIGHUP reloads the keys: {}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    load.until(AFTER, done + 3).await;
    load.finish().await;
    assert!(
        server.log().contains("master keys reloaded"),
        "{}",
        server.log()
    );
    let status_code = server.terminate();
    assert!(status_code.success(), "{status_code:?}");

    // A restart with only key 2 opens everything.
    server = serve(&dir.path, &data, None, "serve2.log");
    let load = Load::start(accounts.clone(), vec![format!("http://{}", server.addr)]);
    load.until(BEFORE, 2).await;
    load.finish().await;

    // Retiring is refused while anything is still sealed with the key: here a rotation
    // that chose key 3 but had not re-sealed yet.
    let ran = cli(&dir.path, &data, None, &["key", "add"]).await;
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert!(ran.stdout.contains("added key 3"), "{ran:?}");
    let store = SqlStore::connect(&url).await.unwrap();
    let event = tessera_core::AuditEvent::new(
        &tessera_core::OsRandom,
        SystemClock.now(),
        &tessera_core::RequestContext::default(),
        None,
        tessera_core::AuditAction::SealingKeyChanged,
    );
    store.set_sealing_key_id(3, &event).await.unwrap();
    store.close().await;
    let ran = cli(&dir.path, &data, None, &["key", "retire", "2"]).await;
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(ran.stderr.contains("still sealed with key 2"), "{ran:?}");
    assert_eq!(key_ids_in_file(&data.join("master.key")), vec!["2", "3"]);
    let ran = cli(&dir.path, &data, None, &["key", "retire", "3"]).await;
    assert_eq!(ran.code, Some(2), "the sealing key stays: {ran:?}");
    // `rotate` finishes what was started, with the same key.
    let ran = cli(&dir.path, &data, None, &["key", "rotate"]).await;
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert!(!ran.stdout.contains("added key"), "{ran:?}");
    let ran = cli(&dir.path, &data, None, &["key", "retire", "2"]).await;
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let load = Load::start(accounts, vec![format!("http://{}", server.addr)]);
    load.until(BEFORE, 2).await;
    load.finish().await;
    assert!(server.terminate().success());
}

#[cfg(unix)]
fn harness_mode(path: &Path) -> Option<u32> {
    Some(crate::harness::mode(path))
}

#[cfg(not(unix))]
fn harness_mode(_: &Path) -> Option<u32> {
    Some(0o600)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_postgres_rotate_with_add_copy_rotate_retire() {
    let Some(base_url) = std::env::var(URL_VAR).ok().filter(|u| !u.is_empty()) else {
        eprintln!("{URL_VAR} not set: skipping the two-node key rotation test");
        return;
    };
    let (admin, db_url, name) = create_database(&base_url).await;
    let dir = TempDir::new("key-nodes");
    let (a, b) = (dir.join("node-a"), dir.join("node-b"));
    let url = Some(db_url.as_str());
    let accounts = Arc::new(seed_org(&a, &db_url).await);
    std::fs::create_dir_all(&b).unwrap();
    deploy_key(&a.join("master.key"), &b.join("master.key"));
    let node_a = serve(&dir.path, &a, url, "a.log");
    let node_b = serve(&dir.path, &b, url, "b.log");
    let bases = vec![
        format!("http://{}", node_a.addr),
        format!("http://{}", node_b.addr),
    ];
    let load = Load::start(accounts.clone(), bases.clone());
    load.until(BEFORE, 4).await;

    // Several nodes: a key must reach every node before it seals.
    let ran = cli(&dir.path, &a, url, &["key", "rotate"]).await;
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(ran.stderr.contains("tessera key add"), "{ran:?}");
    let ran = cli(&dir.path, &a, url, &["key", "add"]).await;
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let pending = status(&dir.path, &a, url).await;
    assert!(pending[0].2, "key 1 still seals: {pending:?}");
    assert_eq!(pending[1], (2, true, false, 0), "{pending:?}");
    let ran = cli(&dir.path, &a, url, &["key", "retire", "1"]).await;
    assert_eq!(ran.code, Some(2), "key 1 seals: {ran:?}");

    // The operator copies the key file to node B; B reads it on its own (timer).
    deploy_key(&a.join("master.key"), &b.join("master.key"));
    load.set_phase(DURING);
    let ran = cli(&dir.path, &a, url, &["key", "rotate", "--batch", "3"]).await;
    assert_eq!(ran.code, Some(0), "{ran:?}\n{}", node_b.log());
    load.set_phase(AFTER);
    // A sign-in that started while the keys rotated counts for the rotation, also when it
    // finishes after it: on a slow machine one sign-in may outlast the whole rotation.
    load.until(DURING, 1).await;
    // Every seed is sealed with key 2 now, so B's sign-ins prove B holds key 2.
    let after = status(&dir.path, &b, url).await;
    assert_eq!(after[0].3, 0, "{after:?}");
    assert!(after[1].2 && after[1].3 >= ACCOUNTS, "{after:?}");
    load.until(AFTER, 4).await;
    assert!(
        node_b.log().contains("master keys reloaded"),
        "{}",
        node_b.log()
    );

    let ran = cli(&dir.path, &a, url, &["key", "retire", "1"]).await;
    assert_eq!(ran.code, Some(0), "{ran:?}");
    deploy_key(&a.join("master.key"), &b.join("master.key"));
    node_b.signal("HUP");
    let done = load.succeeded(AFTER);
    load.until(AFTER, done + 4).await;
    load.finish().await;
    assert_eq!(key_ids_in_file(&b.join("master.key")), vec!["2"]);
    assert!(node_a.terminate().success());
    assert!(node_b.terminate().success());
    drop_database(&admin, &name).await;
}

/// A fresh database on the test server (async: the test runs on a runtime already).
async fn create_database(base: &str) -> (String, String, String) {
    use sqlx::{Connection, Executor};
    let name = format!("tessera_cli_keys_{}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(base).await.unwrap();
    conn.execute(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .await
    .unwrap();
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap();
    let _ = conn.close().await;
    let (main, query) = base
        .split_once('?')
        .map_or((base, None), |(m, q)| (m, Some(q)));
    let authority = main.find("://").map_or(0, |i| i + 3);
    let root = main[authority..]
        .find('/')
        .map_or(main, |i| &main[..authority + i]);
    let url = match query {
        Some(query) => format!("{root}/{name}?{query}"),
        None => format!("{root}/{name}"),
    };
    (base.to_string(), url, name)
}

async fn drop_database(base: &str, name: &str) {
    use sqlx::{Connection, Executor};
    if let Ok(mut conn) = sqlx::PgConnection::connect(base).await {
        let _ = conn
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .await;
        let _ = conn.close().await;
    }
}
