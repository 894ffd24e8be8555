//! A backup taken while a server writes: clients register authenticator methods as fast as
//! the server answers, `tessera backup` runs in the middle, the archive is restored into a
//! fresh folder, and every registration the server acknowledged before the backup started
//! must be there, active. (A registration is two durable writes, the pending method and its
//! verification with an audit event; the same path as the bench's verify scenario.) No timing
//! is asserted: the order of events decides, recorded as they happen.

use crate::backup::restore;
use crate::harness::{TempDir, run, tessera};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tessera_bench::node::{Node, NodeSpec};
use tessera_bench::seed::{self, HotAccount};
use tessera_core::method::authenticator_code;
use tessera_core::{Clock, SystemClock};
use tessera_store::SqlStore;

/// Accounts in the database: enough pages that copying them takes a while.
const ACCOUNTS: u64 = 20_000;
/// Accounts the load writes for.
const HOT: u64 = 8;
const CLIENTS: usize = 4;
/// Registrations per account (the policy allows 100 methods; each account has one already).
const PER_ACCOUNT: usize = 90;
/// Acknowledged registrations before the backup starts.
const BEFORE: usize = 8;

/// Registrations the server answered `active`, with when the answer arrived.
#[derive(Default)]
struct Ledger {
    active: Vec<(String, Instant)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_write_load_holds_every_acknowledged_change() {
    let dir = TempDir::new("backup-load");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    #[cfg(unix)]
    crate::fixture::set_mode(&data, 0o700);
    let keys = seed::write_master_key(&data.join("master.key")).unwrap();
    let store = SqlStore::connect(&tessera_store::sqlite_url(&data))
        .await
        .unwrap();
    let org = seed::seed(&store, &keys, ACCOUNTS, HOT, |_| {})
        .await
        .unwrap();
    store.close().await;
    let data_arg = data.to_str().unwrap().to_string();
    let set = run(
        tessera(
            &dir.path,
            &["policy", "set", "max_methods=100", "--data-dir", &data_arg],
        ),
        "",
    );
    assert_eq!(set.code, Some(0), "{}", set.stderr);

    let node = Node::start(&NodeSpec {
        binary: env!("CARGO_BIN_EXE_tessera").into(),
        data_dir: data.clone(),
        database_url: None,
        env: vec![("TESSERA_SIGN_IN_LIMIT_PER_MINUTE".into(), "0".into())],
    })
    .unwrap();
    tessera_bench::scenario::install_crypto();
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let org = Arc::new(org);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for c in 0..CLIENTS {
        let (org, ledger, stop, http, base) = (
            org.clone(),
            ledger.clone(),
            stop.clone(),
            http.clone(),
            node.base.clone(),
        );
        load.push(tokio::spawn(async move {
            let mine: Vec<&HotAccount> = org
                .hot
                .iter()
                .enumerate()
                .filter(|(i, _)| i % CLIENTS == c)
                .map(|(_, h)| h)
                .collect();
            for hot in &mine {
                step_up(hot, &http, &base).await;
            }
            'rounds: for _ in 0..PER_ACCOUNT {
                for hot in &mine {
                    if stop.load(Ordering::Acquire) {
                        break 'rounds;
                    }
                    let id = register(hot, &http, &base).await;
                    ledger.lock().unwrap().active.push((id, Instant::now()));
                }
            }
        }));
    }

    // Some changes acknowledged first (the load's own pace decides when).
    while ledger.lock().unwrap().active.len() < BEFORE {
        assert!(
            !load.iter().all(|t| t.is_finished()),
            "the load ended before the backup"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let archive = dir.join("under-load.backup");
    let started = Instant::now();
    let command = tessera(
        &dir.path,
        &[
            "backup",
            "--to",
            archive.to_str().unwrap(),
            "--data-dir",
            &data_arg,
        ],
    );
    let made = tokio::task::spawn_blocking(move || run(command, ""))
        .await
        .unwrap();
    let finished = Instant::now();
    stop.store(true, Ordering::Release);
    for task in load {
        task.await.unwrap();
    }
    drop(node);
    assert_eq!(made.code, Some(0), "{}", made.stderr);

    let restored = dir.join("restored");
    let key = data.join("master.key");
    let done = restore(
        &dir.path,
        &archive,
        &restored,
        &["--key-file", key.to_str().unwrap()],
    );
    assert_eq!(done.code, Some(0), "{}", done.stderr);

    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    let before: Vec<&String> = ledger
        .active
        .iter()
        .filter(|(_, at)| *at < started)
        .map(|(id, _)| id)
        .collect();
    let during = ledger
        .active
        .iter()
        .filter(|(_, at)| *at >= started && *at <= finished)
        .count();
    let restored_db = restored.join("tessera.db");
    let statuses = method_statuses(&restored_db).await;
    let missing: Vec<&&String> = before
        .iter()
        .filter(|id| statuses.get(id.as_str()).map(String::as_str) != Some("active"))
        .collect();
    eprintln!(
        "{} registrations acknowledged before the backup, {during} while it ran, {} in all; \
         {} methods in the archive",
        before.len(),
        ledger.active.len(),
        statuses.len()
    );
    assert!(before.len() >= BEFORE);
    assert!(
        missing.is_empty(),
        "acknowledged before the backup started, but not in it: {missing:?}"
    );
}

/// Every method's status in a SQLite database, by id.
async fn method_statuses(db: &std::path::Path) -> std::collections::HashMap<String, String> {
    use sqlx::{Connection, Row};
    let url = format!("sqlite://{}?mode=ro", db.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let rows = sqlx::query("SELECT id, status FROM methods")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    rows.iter()
        .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
        .collect()
}

/// A recent second factor for the seeded session, so it may register methods.
async fn step_up(hot: &HotAccount, http: &reqwest::Client, base: &str) {
    let step = loop {
        if let Some(step) = hot.claim_step(SystemClock.now().unix_timestamp()) {
            break step;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let r = http
        .post(format!("{base}/api/v1/me/step-up/verify"))
        .bearer_auth(&hot.token)
        .json(&json!({"method_id": hot.method_id.to_string(), "code": hot.code(step).unwrap()}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "step-up: {body}");
}

/// Registers an authenticator and verifies it; its id once the server said `active`.
async fn register(hot: &HotAccount, http: &reqwest::Client, base: &str) -> String {
    let methods = format!("{base}/api/v1/me/security-info/methods");
    let r = http
        .post(&methods)
        .bearer_auth(&hot.token)
        .json(&json!({"kind": "authenticator_code"}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let seed = data_encoding::BASE32_NOPAD
        .decode(
            body["secret"]
                .as_str()
                .unwrap()
                .trim_end_matches('=')
                .as_bytes(),
        )
        .unwrap();
    let now = u64::try_from(SystemClock.now().unix_timestamp()).unwrap();
    let code = authenticator_code::code_at(&seed, now).unwrap();
    let r = http
        .post(format!("{methods}/{id}/verify"))
        .bearer_auth(&hot.token)
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("active")),
        "{body}"
    );
    id
}
