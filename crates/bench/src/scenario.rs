//! The scenarios: what one request of each is, and what answer counts as served.
//!
//! To add one (push delivery, say), add a variant, its name, and its arm in [`run`]; the
//! table, the ratios and the command line pick it up.

use crate::load::{self, Outcome, Step};
use crate::seed::{self, HotAccount, Org};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tessera_core::{Clock, SystemClock};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// `GET /healthz`: the ceiling every other figure is a ratio to.
    Healthz,
    /// `GET /api/v1/me/security-info` with a bearer token.
    SecurityInfo,
    /// `POST /api/v1/me/step-up/verify` with a valid, never-used code: session lookup, seed
    /// unsealing, TOTP check, replay record, audit event.
    Verify,
    /// The same with a wrong code: the failure is counted and audited.
    VerifyWrong,
    /// `POST /api/v1/sign-in` with the right password: one Argon2id verification.
    SignIn,
}

impl Scenario {
    pub const ALL: [Scenario; 5] = [
        Scenario::Healthz,
        Scenario::SecurityInfo,
        Scenario::Verify,
        Scenario::VerifyWrong,
        Scenario::SignIn,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Scenario::Healthz => "healthz",
            Scenario::SecurityInfo => "security-info",
            Scenario::Verify => "verify",
            Scenario::VerifyWrong => "verify-wrong",
            Scenario::SignIn => "sign-in",
        }
    }

    pub fn parse(s: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|x| x.name() == s.trim())
    }

    /// What the table's ratio column compares this scenario with.
    pub fn bound(&self) -> Bound {
        match self {
            Scenario::SignIn => Bound::Argon2,
            _ => Bound::Healthz,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Healthz,
    Argon2,
}

/// What every request of a run needs.
#[derive(Clone)]
pub struct Target {
    pub client: reqwest::Client,
    /// One base URL per node; client `i` talks to node `i % nodes`.
    pub nodes: Arc<Vec<String>>,
    pub org: Arc<Org>,
    /// Wrong codes an account may take before it would lock (the policy's threshold − 1).
    pub wrong_budget: i64,
}

impl Target {
    fn url(&self, client: usize, path: &str) -> String {
        format!("{}{path}", self.nodes[client % self.nodes.len()])
    }
}

/// reqwest is built without a TLS provider of its own (DEPENDENCIES.md: ring, not aws-lc);
/// even a plain-http client needs one installed.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client for loopback load: no proxy, keep-alive, and a timeout beyond the server's own
/// 30 s, so a hung request shows as one.
pub fn http_client(clients: usize) -> reqwest::Result<reqwest::Client> {
    install_crypto();
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(clients)
        .timeout(Duration::from_secs(40))
        .build()
}

pub async fn run(
    scenario: Scenario,
    target: &Target,
    clients: usize,
    duration: Duration,
) -> Outcome {
    let t = target.clone();
    let cursor = Arc::new(AtomicU64::new(0));
    match scenario {
        Scenario::Healthz => {
            load::drive(clients, duration, move |c, _| {
                let req = t.client.get(t.url(c, "/healthz"));
                async move { load::expect(req.send().await, 200).await }
            })
            .await
        }
        Scenario::SecurityInfo => {
            load::drive(clients, duration, move |c, _| {
                let n = cursor.fetch_add(1, Ordering::Relaxed);
                let hot = &t.org.hot[(n % t.org.hot.len() as u64) as usize];
                let req = t
                    .client
                    .get(t.url(c, "/api/v1/me/security-info"))
                    .bearer_auth(&hot.token);
                async move { load::expect(req.send().await, 200).await }
            })
            .await
        }
        Scenario::Verify => {
            load::drive(clients, duration, move |c, _| {
                let now = SystemClock.now().unix_timestamp();
                let claimed = claim(&t.org.hot, &cursor, |h| {
                    h.claim_step(now).map(|s| h.code(s))
                });
                let req = claimed.map(|(hot, code)| {
                    code.map(|code| {
                        t.client
                            .post(t.url(c, "/api/v1/me/step-up/verify"))
                            .bearer_auth(&hot.token)
                            .json(&json!({"method_id": hot.method_id.to_string(), "code": code}))
                    })
                });
                send(req, 200)
            })
            .await
        }
        Scenario::VerifyWrong => {
            load::drive(clients, duration, move |c, _| {
                let now = SystemClock.now().unix_timestamp();
                let budget = t.wrong_budget;
                let claimed = claim(&t.org.hot, &cursor, |h| {
                    (h.wrong.fetch_add(1, Ordering::AcqRel) < budget).then(|| h.wrong_code(now))
                });
                let req = claimed.map(|(hot, code)| {
                    code.map(|code| {
                        t.client
                            .post(t.url(c, "/api/v1/me/step-up/verify"))
                            .bearer_auth(&hot.token)
                            .json(&json!({"method_id": hot.method_id.to_string(), "code": code}))
                    })
                });
                send(req, 400)
            })
            .await
        }
        Scenario::SignIn => {
            load::drive(clients, duration, move |c, _| {
                // A stride coprime with any size walks every account before repeating.
                let n = cursor.fetch_add(1, Ordering::Relaxed);
                let index = n.wrapping_mul(2_654_435_761) % t.org.accounts.max(1);
                let req = t.client.post(t.url(c, "/api/v1/sign-in")).json(&json!({
                    "username": seed::username(index),
                    "password": seed::PASSWORD,
                }));
                async move { load::expect(req.send().await, 200).await }
            })
            .await
        }
    }
}

/// The next hot account (round robin) that `take` accepts, with what it gave; `None` when a
/// whole round found none.
fn claim<'a, T>(
    hot: &'a [HotAccount],
    cursor: &AtomicU64,
    take: impl Fn(&HotAccount) -> Option<T>,
) -> Option<(&'a HotAccount, T)> {
    for _ in 0..hot.len() {
        let n = cursor.fetch_add(1, Ordering::Relaxed);
        let h = &hot[(n % hot.len() as u64) as usize];
        if let Some(v) = take(h) {
            return Some((h, v));
        }
    }
    None
}

async fn send_inner(req: reqwest::RequestBuilder, status: u16) -> Step {
    load::expect(req.send().await, status).await
}

fn send(
    req: Option<anyhow::Result<reqwest::RequestBuilder>>,
    status: u16,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Step> + Send>> {
    match req {
        None => Box::pin(async { Step::Exhausted }),
        Some(Err(e)) => {
            let what = e.to_string();
            Box::pin(async move { Step::Unexpected(what) })
        }
        Some(Ok(req)) => Box::pin(send_inner(req, status)),
    }
}
