//! Crash safety: `tessera serve` is killed with SIGKILL at random moments under a write load
//! (step-up verifications, registrations, deletions), then started again on the same store.
//! Every change the server acknowledged must be there, the database must be intact, and a
//! TOTP step accepted before a crash must still be refused after it. On SQLite, and on
//! PostgreSQL when `TESSERA_TEST_POSTGRES_URL` is set.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tessera_bench::node::{Node, NodeSpec, TempDir};
use tessera_bench::seed::{self, HotAccount, PgDatabase};
use tessera_core::method::authenticator_code;
use tessera_core::{Clock, OsRandom, SystemClock, random};
use tessera_store::SqlStore;

const ACCOUNTS: u64 = 12;
const CLIENTS: usize = 4;
const CRASHES: usize = 3;

/// What the server said yes to.
#[derive(Default)]
struct Ledger {
    /// (account, method, step) of accepted step-up codes.
    verified: Vec<(usize, String, i64)>,
    /// (account, method) of registrations answered `active`.
    registered: Vec<(usize, String)>,
    /// (account, method) of deletions answered 204.
    deleted: Vec<(usize, String)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    crash_cycles(None).await;
    match std::env::var("TESSERA_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => crash_cycles(Some(url)).await,
        _ => eprintln!("TESSERA_TEST_POSTGRES_URL not set: skipping the PostgreSQL run"),
    }
}

async fn crash_cycles(postgres: Option<String>) {
    let dir = TempDir::new("tessera-fault").unwrap();
    let keys = seed::write_master_key(&dir.path().join("master.key")).unwrap();
    let pg = match &postgres {
        Some(admin) => Some(PgDatabase::create(admin, "tessera_fault").await.unwrap()),
        None => None,
    };
    let url = match &pg {
        Some(db) => db.url.clone(),
        None => tessera_store::sqlite_url(dir.path()),
    };
    eprintln!("on {}", if pg.is_some() { "postgres" } else { "sqlite" });
    let store = SqlStore::connect(&url).await.unwrap();
    let org = seed::seed(&store, &keys, ACCOUNTS, ACCOUNTS, |_| {})
        .await
        .unwrap();
    store.close().await;
    let org = Arc::new(org);
    let spec = NodeSpec {
        binary: PathBuf::from(env!("CARGO_BIN_EXE_tessera")),
        data_dir: dir.path().to_path_buf(),
        database_url: pg.as_ref().map(|db| db.url.clone()),
        env: vec![("TESSERA_SIGN_IN_LIMIT_PER_MINUTE".into(), "0".into())],
    };
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    tessera_bench::scenario::install_crypto();
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    for crash in 0..CRASHES {
        let mut node = Node::start(&spec).unwrap();
        let base = Arc::new(node.base.clone());
        let mut load = Vec::new();
        for c in 0..CLIENTS {
            let (org, ledger, client, base) =
                (org.clone(), ledger.clone(), client.clone(), base.clone());
            load.push(tokio::spawn(async move {
                writes(c, &org, &ledger, &client, &base).await
            }));
        }
        // A random moment, after the load has got going.
        let wait = 300 + u64::from(random::below(&OsRandom, 1200));
        tokio::time::sleep(Duration::from_millis(wait)).await;
        node.kill().unwrap();
        let mut acknowledged = 0;
        for task in load {
            acknowledged += task.await.unwrap();
        }
        eprintln!("crash {crash}: killed after {wait} ms; {acknowledged} writes acknowledged");
        if pg.is_none() {
            assert_intact(&dir.path().join("tessera.db")).await;
        }
    }

    let node = Node::start(&spec).unwrap();
    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    check(&node, &org, &ledger, &client).await;
    drop(node);
    if let Some(db) = pg {
        db.drop_now().await.unwrap();
    }
}

/// One client's load until the server goes away: a step-up verification while the account
/// has codes to prove, otherwise a registration and its deletion. Returns how many writes
/// were acknowledged.
async fn writes(
    c: usize,
    org: &seed::Org,
    ledger: &Mutex<Ledger>,
    client: &reqwest::Client,
    base: &str,
) -> usize {
    let mine: Vec<usize> = (0..org.hot.len()).filter(|i| i % CLIENTS == c).collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut acked = 0;
    let mut round = 0;
    while Instant::now() < deadline {
        let i = mine[round % mine.len()];
        round += 1;
        let hot = &org.hot[i];
        let now = SystemClock.now().unix_timestamp();
        let result = match hot.claim_step(now) {
            Some(step) => step_up(hot, step, client, base).await.map(|ok| {
                if ok {
                    let mut l = ledger.lock().unwrap();
                    l.verified.push((i, hot.method_id.to_string(), step));
                }
                usize::from(ok)
            }),
            None => register_and_delete(i, hot, ledger, client, base).await,
        };
        match result {
            Ok(n) => acked += n,
            // The server is gone: what was in flight is neither acknowledged nor refused.
            Err(_) => break,
        }
    }
    acked
}

/// Ok(true) when the code was accepted.
async fn step_up(
    hot: &HotAccount,
    step: i64,
    client: &reqwest::Client,
    base: &str,
) -> reqwest::Result<bool> {
    let r = client
        .post(format!("{base}/api/v1/me/step-up/verify"))
        .bearer_auth(&hot.token)
        .json(&json!({"method_id": hot.method_id.to_string(), "code": hot.code(step).unwrap()}))
        .send()
        .await?;
    let status = r.status().as_u16();
    let body: Value = r.json().await?;
    assert_eq!(status, 200, "a fresh step is accepted: {body}");
    Ok(true)
}

async fn register_and_delete(
    i: usize,
    hot: &HotAccount,
    ledger: &Mutex<Ledger>,
    client: &reqwest::Client,
    base: &str,
) -> reqwest::Result<usize> {
    let methods = format!("{base}/api/v1/me/security-info/methods");
    let r = client
        .post(&methods)
        .bearer_auth(&hot.token)
        .json(&json!({"kind": "authenticator_code"}))
        .send()
        .await?;
    let status = r.status().as_u16();
    let body: Value = r.json().await?;
    if status == 403 {
        // No step-up yet on this session (its first code is still to come).
        assert_eq!(body["error"], "step_up_required", "{body}");
        return Ok(0);
    }
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let secret = body["secret"].as_str().unwrap();
    let seed = data_encoding::BASE32_NOPAD
        .decode(secret.trim_end_matches('=').as_bytes())
        .unwrap();
    let now = SystemClock.now().unix_timestamp() as u64;
    let code = authenticator_code::code_at(&seed, now).unwrap();
    let r = client
        .post(format!("{methods}/{id}/verify"))
        .bearer_auth(&hot.token)
        .json(&json!({"code": code}))
        .send()
        .await?;
    let status = r.status().as_u16();
    let body: Value = r.json().await?;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("active")),
        "{body}"
    );
    ledger.lock().unwrap().registered.push((i, id.clone()));
    let r = client
        .delete(format!("{methods}/{id}"))
        .bearer_auth(&hot.token)
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 204);
    ledger.lock().unwrap().deleted.push((i, id));
    Ok(2)
}

/// SQLite's own check of every page and index.
async fn assert_intact(db: &std::path::Path) {
    use sqlx::Connection;
    let url = format!("sqlite://{}", db.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let result: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(result, "ok", "the database is damaged");
    conn.close().await.unwrap();
}

async fn check(node: &Node, org: &seed::Org, ledger: &Ledger, client: &reqwest::Client) {
    assert!(
        !ledger.verified.is_empty(),
        "the load verified no code at all"
    );
    assert!(
        !ledger.registered.is_empty(),
        "the load registered nothing at all"
    );
    // Registrations: active unless their deletion was acknowledged, gone if it was.
    let mut in_flight = 0;
    for (i, hot) in org.hot.iter().enumerate() {
        let r = client
            .get(node.url("/api/v1/me/security-info"))
            .bearer_auth(&hot.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "the seeded session survives");
        let info: Value = r.json().await.unwrap();
        let listed = |id: &str| {
            info["methods"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["id"] == id)
                .map(|m| m["status"].as_str().unwrap_or("").to_string())
        };
        for (_, id) in ledger.registered.iter().filter(|(a, _)| *a == i) {
            let deleted = ledger.deleted.iter().any(|(a, d)| *a == i && d == id);
            match (deleted, listed(id)) {
                (true, None) => {}
                (false, Some(status)) if status == "active" => {}
                // Deleted by a request in flight at a crash: not acknowledged either way.
                (false, None) => in_flight += 1,
                (deleted, found) => {
                    panic!("method {id}: deletion acknowledged {deleted}, found {found:?}")
                }
            }
        }
    }
    assert!(
        in_flight <= CLIENTS * CRASHES,
        "{in_flight} acknowledged registrations are gone; at most one per client per crash \
         may have had its deletion in flight"
    );
    // Replays: the highest accepted step of each method, while the server would still take
    // it by time, must be refused.
    let now_step = SystemClock.now().unix_timestamp() / authenticator_code::STEP_SECS as i64;
    let mut replayed = 0;
    for (i, hot) in org.hot.iter().enumerate() {
        let Some(step) = ledger
            .verified
            .iter()
            .filter(|(a, _, _)| *a == i)
            .map(|(_, _, s)| *s)
            .max()
        else {
            continue;
        };
        if (step - now_step).abs() > 1 {
            continue;
        }
        let r = client
            .post(node.url("/api/v1/me/step-up/verify"))
            .bearer_auth(&hot.token)
            .json(&json!({"method_id": hot.method_id.to_string(), "code": hot.code(step).unwrap()}))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_code")),
            "step {step} of account {i} was accepted before a crash; it must not be again"
        );
        replayed += 1;
    }
    eprintln!(
        "{} verifications, {} registrations, {} deletions acknowledged; {replayed} replays refused",
        ledger.verified.len(),
        ledger.registered.len(),
        ledger.deleted.len()
    );
    assert!(replayed > 0, "no accepted step was young enough to replay");
}
