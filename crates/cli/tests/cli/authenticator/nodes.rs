//! Two server nodes on one PostgreSQL database: a request started on one node reaches a
//! device long-polling on the other at once (LISTEN/NOTIFY), and the approval made on that
//! node wakes the browser waiting on the first.

use super::harness::Push;
use crate::harness::{run, tessera};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Waits until `node` holds one more push subscription than `baseline` (a long poll).
async fn until_waiting(h: &Push, node: usize, baseline: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while h.node(node).store.push_subscribers() <= baseline {
        assert!(Instant::now() < deadline, "the long poll never arrived");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_started_on_one_node_reaches_a_device_waiting_on_another() {
    let Some(h) = Push::start("auth-nodes", true, 2).await else {
        eprintln!("TESSERA_TEST_POSTGRES_URL not set: skipping the two-node test");
        return;
    };
    // The app activates on node B: its server is B, where it will wait.
    let (token, flow, method, activation) = h.start_app_registration("ivan@example.org", 1).await;
    assert!(activation["url"].as_str().unwrap() == h.node(1).base);
    h.cli_ok(&["add", activation["uri"].as_str().unwrap()])
        .await;
    let number = h.test_number(&token, &method).await;
    let id = h.only_request().await;
    h.cli_ok(&["respond", &id, "approve", "--number", &number.to_string()])
        .await;
    assert_eq!(
        h.flow_status(&flow).await["status"],
        "registration_required"
    );

    // The device holds a long poll on B…
    let baseline = h.node(1).store.push_subscribers();
    let state = h.state_file();
    let command = tessera(
        &h.dir.path,
        &[
            "authenticator",
            "--state",
            state.to_str().unwrap(),
            "pending",
            "--wait",
            "25",
        ],
    );
    let device = tokio::task::spawn_blocking(move || run(command, ""));
    until_waiting(&h, 1, baseline).await;

    // …while the person signs in on A.
    let (flow, number) = h.push_sign_in("ivan@example.org").await;
    let ran = device.await.unwrap();
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let lines: Vec<Value> = ran
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "the request reached the device on B: {ran:?}"
    );
    assert_eq!(lines[0]["purpose"], "sign_in");
    let id = lines[0]["id"].as_str().unwrap().to_string();

    // The browser waits on A; the device approves on B; A hands over the session.
    let a = h.node(0).base.clone();
    let http = h.http.clone();
    let baseline = h.node(0).store.push_subscribers();
    let browser = tokio::spawn(async move {
        let r = http
            .get(format!("{a}/api/v1/sign-in/{flow}?wait=25"))
            .send()
            .await
            .unwrap();
        r.json::<Value>().await.unwrap()
    });
    until_waiting(&h, 0, baseline).await;
    h.cli_ok(&["respond", &id, "approve", "--number", &number.to_string()])
        .await;
    let status = browser.await.unwrap();
    assert_eq!(status["status"], "signed_in", "{status}");
    assert!(status["session"].is_string(), "{status}");
    h.finish().await;
}
