//! A backup taken while a server writes: the bench's verify scenario (step-up verification of
//! fresh TOTP codes, `POST /api/v1/me/step-up/verify` with a session's bearer token) runs as
//! fast as the server answers, `tessera backup` runs in the middle, the archive is restored
//! into a fresh folder, and every verification the server acknowledged before the backup
//! started must be in it: the method's `last_step` at least the highest step acknowledged
//! (the replay guard, written with the acceptance) and a `step_up_succeeded` audit event for
//! each acknowledged code. Each acceptance writes the method, the session and the audit log,
//! durably, before the server answers.
//!
//! No timing is asserted: the order of events decides, recorded as they happen. A backup no
//! write overlapped would prove nothing, so the test insists on one: a write sent after the
//! backup command started and acknowledged before it returned. The load runs until the command
//! returns, and on a machine where a backup still fell between two writes the backup is taken
//! again rather than the test passing without the overlap.

use crate::backup::restore;
use crate::harness::{TempDir, run, tessera};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tessera_bench::node::{Node, NodeSpec};
use tessera_bench::seed::{self, HotAccount, Org};
use tessera_core::method::authenticator_code::STEP_SECS;
use tessera_core::{Clock, SystemClock};
use tessera_store::SqlStore;

/// Accounts in the database: enough pages that copying them takes a while.
const ACCOUNTS: u64 = 20_000;
/// Accounts with a session the load verifies codes for. A TOTP step is used once per method,
/// so an account offers three codes at first (one step of skew each way) and then one every
/// 30 seconds: this many keep the load writing at about 100 a second once the first codes are
/// spent, however long a slow machine takes to get to the backup.
const HOT: u64 = 3_000;
const CLIENTS: usize = 4;
/// Acknowledged verifications before the (first) backup starts.
const BEFORE: usize = 50;
/// Backups taken before giving up on one that a write overlapped. Each later one waits for a
/// write acknowledged after the one before, so a live load cannot miss them all but by a
/// freak of scheduling; a dead load ends the test with the load's own error.
const ATTEMPTS: usize = 10;

/// One verification the server answered 200 to: the account (an index into the org's hot
/// accounts), the TOTP step of the code, when the request was sent and when the answer came.
#[derive(Clone, Copy)]
struct Ack {
    hot: usize,
    step: i64,
    sent: Instant,
    acked: Instant,
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
    let ledger: Arc<Mutex<Vec<Ack>>> = Arc::default();
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
            verify_load(&org, c, &ledger, &stop, &http, &base).await
        }));
    }

    // Some changes acknowledged first (the load's own pace decides when).
    wait_for_acks(&ledger, &mut load, BEFORE, None).await;
    let mut attempts = Vec::new();
    let chosen = loop {
        let archive = dir.join(&format!("under-load-{}.backup", attempts.len()));
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
        assert_eq!(made.code, Some(0), "{}", made.stderr);
        // Writes wholly inside the command's run: sent after it started, acknowledged before
        // it returned, so the server committed them while the backup was being made.
        let during = ledger
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a.sent >= started && a.acked <= finished)
            .count();
        attempts.push(during);
        if during > 0 {
            break (archive, started);
        }
        assert!(
            attempts.len() < ATTEMPTS,
            "no write overlapped any of {ATTEMPTS} backups"
        );
        std::fs::remove_file(&archive).unwrap();
        wait_for_acks(&ledger, &mut load, 1, Some(finished)).await;
    };
    stop.store(true, Ordering::Release);
    for task in load {
        task.await.unwrap();
    }
    drop(node);
    let (archive, started) = chosen;

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
    // Per account: the highest step and how many codes were acknowledged before the start.
    let mut before: HashMap<usize, (i64, usize)> = HashMap::new();
    for a in ledger.iter().filter(|a| a.acked < started) {
        let e = before.entry(a.hot).or_insert((i64::MIN, 0));
        e.0 = e.0.max(a.step);
        e.1 += 1;
    }
    let (last_steps, successes) = restored_state(&restored.join("tessera.db")).await;
    let mut missing = Vec::new();
    for (&hot, &(step, count)) in &before {
        let method = org.hot[hot].method_id.to_string();
        let kept_step = last_steps.get(&method).copied().flatten();
        let kept_events = successes.get(&method).copied().unwrap_or(0);
        if kept_step.is_none_or(|s| s < step) || kept_events < count {
            missing.push(format!(
                "{method}: acknowledged step {step} and {count} codes, restored last_step \
                 {kept_step:?} and {kept_events} step_up_succeeded events"
            ));
        }
    }
    let acknowledged_before: usize = before.values().map(|(_, n)| n).sum();
    eprintln!(
        "{acknowledged_before} verifications acknowledged before the backup, {} in all; \
         writes inside each backup attempt: {attempts:?}",
        ledger.len(),
    );
    assert!(acknowledged_before >= BEFORE);
    assert!(
        missing.is_empty(),
        "acknowledged before the backup started, but not in it: {missing:#?}"
    );
}

/// One client of the verify scenario: walks its share of the hot accounts, sending a fresh
/// code for each step an account can still prove, until told to stop. When every account's
/// codes are spent it waits for the next step.
async fn verify_load(
    org: &Org,
    client: usize,
    ledger: &Mutex<Vec<Ack>>,
    stop: &AtomicBool,
    http: &reqwest::Client,
    base: &str,
) {
    let mine: Vec<usize> = (0..org.hot.len())
        .filter(|i| i % CLIENTS == client)
        .collect();
    while !stop.load(Ordering::Acquire) {
        let mut sent_any = false;
        for &i in &mine {
            if stop.load(Ordering::Acquire) {
                return;
            }
            let hot = &org.hot[i];
            let Some(step) = hot.claim_step(SystemClock.now().unix_timestamp()) else {
                continue;
            };
            sent_any = true;
            let sent = Instant::now();
            if verify(hot, step, http, base).await {
                let acked = Instant::now();
                ledger.lock().unwrap().push(Ack {
                    hot: i,
                    step,
                    sent,
                    acked,
                });
            }
        }
        if !sent_any {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Sends the code of `step`: true when the server accepted it. A refusal is tolerated only
/// when the step may have lapsed before the server checked it (a busy machine answering
/// late); a step still valid when the answer came was valid when it was checked, so refusing
/// it is a failure.
async fn verify(hot: &HotAccount, step: i64, http: &reqwest::Client, base: &str) -> bool {
    let r = http
        .post(format!("{base}/api/v1/me/step-up/verify"))
        .bearer_auth(&hot.token)
        .json(&json!({"method_id": hot.method_id.to_string(), "code": hot.code(step).unwrap()}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    if status == 200 {
        return true;
    }
    let now_step = SystemClock.now().unix_timestamp() / STEP_SECS as i64;
    assert!(
        status == 400 && step < now_step - 1,
        "step-up verify of step {step} (now {now_step}): {status} {body}"
    );
    false
}

/// Waits until `n` verifications were acknowledged (after `after`, when given). A load task
/// that ended early has failed: its panic is the test's.
async fn wait_for_acks(
    ledger: &Mutex<Vec<Ack>>,
    load: &mut Vec<tokio::task::JoinHandle<()>>,
    n: usize,
    after: Option<Instant>,
) {
    loop {
        let seen = ledger
            .lock()
            .unwrap()
            .iter()
            .filter(|a| after.is_none_or(|t| a.acked > t))
            .count();
        if seen >= n {
            return;
        }
        if let Some(i) = load.iter().position(|t| t.is_finished()) {
            match load.remove(i).await {
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                other => panic!("a load client ended before the backup: {other:?}"),
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// In a restored SQLite database: every method's `last_step` and its `step_up_succeeded`
/// events, by method id.
async fn restored_state(
    db: &std::path::Path,
) -> (HashMap<String, Option<i64>>, HashMap<String, usize>) {
    use sqlx::{Connection, Row};
    let url = format!("sqlite://{}?mode=ro", db.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let steps = sqlx::query("SELECT id, last_step FROM methods")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let events = sqlx::query(
        "SELECT method_id, COUNT(*) FROM audit_events \
         WHERE action = 'step_up_succeeded' AND method_id IS NOT NULL GROUP BY method_id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    (
        steps
            .iter()
            .map(|r| (r.get::<String, _>(0), r.get::<Option<i64>, _>(1)))
            .collect(),
        events
            .iter()
            .map(|r| {
                let n: i64 = r.get(1);
                (r.get::<String, _>(0), usize::try_from(n).unwrap())
            })
            .collect(),
    )
}
