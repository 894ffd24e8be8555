//! The client's address behind a reverse proxy (issue #21): `X-Forwarded-For` moves the
//! rate-limit key and the audit address only when the peer is in `trusted_proxies`.

use crate::common::{Harness, PASSWORD, each_backend_with};
use serde_json::{Value, json};
use tessera_core::AccountId;
use tessera_server::ServerConfig;
use tessera_server::client_addr::TrustedProxies;

/// A POST to the API's sign-in, said to come from `forwarded_for`.
async fn sign_in(h: &Harness, username: &str, forwarded_for: &str) -> (u16, Value) {
    let response = h
        .client()
        .post(h.url("/api/v1/sign-in"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    crate::common::response(response).await
}

/// The addresses the audit recorded for `account` (events made over HTTP; creating the
/// account in-process has none).
async fn audit_addresses(h: &Harness, account: AccountId) -> Vec<String> {
    h.store()
        .audit_of(account, 50)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| e.ip)
        .collect()
}

fn three_a_minute(config: &mut ServerConfig) {
    config.sign_in_limit_per_minute = 3;
}

fn behind_a_proxy(config: &mut ServerConfig) {
    config.sign_in_limit_per_minute = 3;
    config.trusted_proxies = TrustedProxies::parse(["127.0.0.0/8", "::1"]).unwrap();
}

#[tokio::test]
async fn an_untrusted_peers_forwarding_header_changes_nothing() {
    each_backend_with(three_a_minute, |h| async move {
        let alice = h.add_user("alice@example.org").await;
        let (status, body) = sign_in(&h, "alice@example.org", "198.51.100.7").await;
        assert_eq!(status, 200, "{body}");
        let addresses = audit_addresses(&h, alice.id).await;
        assert!(!addresses.is_empty());
        assert!(
            addresses.iter().all(|ip| ip == "127.0.0.1"),
            "the peer's address, not the header's: {addresses:?}"
        );

        // A new address in every spoofed header: still one key, so the fourth is refused.
        let mut statuses = Vec::new();
        for n in 8..11 {
            let (status, _) = sign_in(&h, "nobody@example.org", &format!("198.51.100.{n}")).await;
            statuses.push(status);
        }
        assert_eq!(statuses, [401, 401, 429], "{statuses:?}");
    })
    .await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_the_key_and_the_audit_address() {
    each_backend_with(behind_a_proxy, |h| async move {
        let alice = h.add_user("alice@example.org").await;
        // The client's own entry (left) proves nothing; the proxy appended the right one.
        let (status, body) = sign_in(&h, "alice@example.org", "6.6.6.6, 203.0.113.7").await;
        assert_eq!(status, 200, "{body}");
        let addresses = audit_addresses(&h, alice.id).await;
        assert!(!addresses.is_empty());
        assert!(
            addresses.iter().all(|ip| ip == "203.0.113.7"),
            "{addresses:?}"
        );

        // Each client behind the proxy has its own allowance…
        for n in 1..5 {
            let (status, _) = sign_in(&h, "nobody@example.org", &format!("198.51.100.{n}")).await;
            assert_eq!(status, 401, "198.51.100.{n}");
        }
        // …and one client's flood is still refused.
        let mut statuses = Vec::new();
        for _ in 0..3 {
            let (status, _) = sign_in(&h, "nobody@example.org", "198.51.100.1").await;
            statuses.push(status);
        }
        assert_eq!(statuses, [401, 401, 429], "{statuses:?}");
    })
    .await;
}
