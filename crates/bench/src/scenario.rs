//! The scenarios: what one request of each is, and what answer counts as served.
//!
//! To add one, add a variant, its name, and its arm in [`run`]; the table, the ratios and
//! the command line pick it up.

use crate::forward_auth::ForwardAuthCookies;
use crate::load::{self, Outcome, Step};
use crate::oidc::RelyingParty;
use crate::seed::{self, HotAccount, Org};
use crate::seed_push::PushAccount;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tessera_core::method::authenticator_app::Decision;
use tessera_core::{Clock, Policy, PushRequestId, SystemClock};

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
    /// A device waits on `GET /api/v1/device/requests?wait=N`; a step-up challenge on its
    /// method (`POST /api/v1/me/step-up`, on the other node when there are two) sends it a
    /// notification. Timed from sending the challenge to the long poll returning it; then
    /// the device denies it with a signed answer, so nothing stays pending.
    Push,
    /// The same round trip by standard Web Push: the device is subscribed to the bench's
    /// own push service; timed from sending the challenge to that service receiving the
    /// encrypted message (`push_web`).
    WebPush,
    /// An app's sign-in for a signed-in person: `GET /oidc/authorize` with the session
    /// cookie gives a code, `POST /oidc/token` exchanges it (client secret, PKCE, an ID token
    /// signed with ES256). Timed: the exchange.
    Token,
    /// A reverse proxy's question for one request of a protected site:
    /// `GET /api/v1/authz/forward-auth` with the page's URL and a signed-in person's
    /// forward-auth cookie, answered `200` with who they are.
    ForwardAuth,
    /// A VPN's RADIUS sign-in (`radius`): an Access-Request with the password answered by an
    /// Access-Challenge, and the challenge answered with a TOTP code, Access-Accept. One
    /// request is both round trips (one Argon2id check).
    Radius,
}

impl Scenario {
    pub const ALL: [Scenario; 10] = [
        Scenario::Healthz,
        Scenario::SecurityInfo,
        Scenario::Verify,
        Scenario::VerifyWrong,
        Scenario::SignIn,
        Scenario::Push,
        Scenario::WebPush,
        Scenario::Token,
        Scenario::ForwardAuth,
        Scenario::Radius,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Scenario::Healthz => "healthz",
            Scenario::SecurityInfo => "security-info",
            Scenario::Verify => "verify",
            Scenario::VerifyWrong => "verify-wrong",
            Scenario::SignIn => "sign-in",
            Scenario::Push => "push",
            Scenario::WebPush => "push-web",
            Scenario::Token => "token",
            Scenario::ForwardAuth => "forward-auth",
            Scenario::Radius => "radius",
        }
    }

    pub fn parse(s: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|x| x.name() == s.trim())
    }

    /// What the table's ratio column compares this scenario with.
    pub fn bound(&self) -> Bound {
        match self {
            Scenario::SignIn | Scenario::Radius => Bound::Argon2,
            // A round trip is several requests and a wait: no single ceiling compares.
            Scenario::Push | Scenario::WebPush => Bound::None,
            _ => Bound::Healthz,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Healthz,
    Argon2,
    None,
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
    /// Accounts with an activated app (empty unless the push scenario runs).
    pub push: Arc<Vec<PushAccount>>,
    /// The push service and browser keys of `push-web` (`None` unless it runs).
    pub web_push: Option<Arc<crate::push_web::WebPushSink>>,
    /// The OpenID Connect client the token scenario signs in to.
    pub relying_party: Arc<RelyingParty>,
    /// The hot accounts' forward-auth cookies.
    pub forward_auth: Arc<ForwardAuthCookies>,
    /// Each node's RADIUS address (empty unless the radius scenario runs).
    pub radius: Arc<Vec<std::net::SocketAddr>>,
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

/// A client for loopback load: no proxy, keep-alive, a timeout beyond the server's own 30 s
/// (so a hung request shows as one), and redirects returned rather than followed (the token
/// scenario reads the code from one).
pub fn http_client(clients: usize) -> reqwest::Result<reqwest::Client> {
    install_crypto();
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(clients)
        .timeout(Duration::from_secs(40))
        .redirect(reqwest::redirect::Policy::none())
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
        Scenario::Push => {
            load::drive(clients, duration, move |c, _| {
                let t = t.clone();
                let cursor = cursor.clone();
                async move { push_round(&t, c, &cursor).await }
            })
            .await
        }
        Scenario::WebPush => {
            load::drive(clients, duration, move |c, _| {
                let t = t.clone();
                let cursor = cursor.clone();
                async move { crate::push_web::round(&t, c, &cursor).await }
            })
            .await
        }
        Scenario::Token => {
            load::drive(clients, duration, move |c, _| {
                let t = t.clone();
                let cursor = cursor.clone();
                async move { crate::oidc::token_round(&t, c, &cursor).await }
            })
            .await
        }
        Scenario::Radius => {
            load::drive(clients, duration, move |c, _| {
                let t = t.clone();
                let cursor = cursor.clone();
                async move { crate::radius::round(&t, c, &cursor).await }
            })
            .await
        }
        Scenario::ForwardAuth => {
            load::drive(clients, duration, move |c, _| {
                let t = t.clone();
                let cursor = cursor.clone();
                async move { crate::forward_auth::check_round(&t, c, &cursor).await }
            })
            .await
        }
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
                let org = Arc::clone(&t.org);
                let claimed = claim(&org.hot, &cursor, |h| h.begin_verify(now));
                let Some((at, hot, step)) = claimed else {
                    return send(None, 200);
                };
                let busy = Busy(Arc::clone(&org), at);
                let req = hot.code(step).map(|code| {
                    t.client
                        .post(t.url(c, "/api/v1/me/step-up/verify"))
                        .bearer_auth(&hot.token)
                        .json(&json!({"method_id": hot.method_id.to_string(), "code": code}))
                });
                let answer = send(Some(req), 200);
                Box::pin(async move {
                    let step = answer.await;
                    drop(busy);
                    step
                })
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
                let req = claimed.map(|(_, hot, code)| {
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

/// The next hot account (round robin) that `take` accepts, with its index and what `take`
/// gave; `None` when a whole round found none.
fn claim<'a, T>(
    hot: &'a [HotAccount],
    cursor: &AtomicU64,
    take: impl Fn(&HotAccount) -> Option<T>,
) -> Option<(usize, &'a HotAccount, T)> {
    for _ in 0..hot.len() {
        let n = cursor.fetch_add(1, Ordering::Relaxed);
        let at = (n % hot.len() as u64) as usize;
        let h = &hot[at];
        if let Some(v) = take(h) {
            return Some((at, h, v));
        }
    }
    None
}

/// A hot account with a code on its way (see [`HotAccount::begin_verify`]); free again when
/// dropped, once the answer is back.
struct Busy(Arc<Org>, usize);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.hot[self.1].end_verify();
    }
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

/// How long the device's long poll may wait: far beyond any delivery, short enough that a
/// lost notification shows within the run.
const PUSH_WAIT_SECS: u64 = 5;

/// The head start of the device's long poll: enough for the server to take its request and
/// start listening, so the challenge finds it waiting (were it not yet, the poll would find
/// the request at once, and the figure would barely change).
const PUSH_SETTLE: Duration = Duration::from_millis(5);

/// The nodes of one round trip: the device waits on one, the challenge goes to the other
/// (the same with one node), so two nodes time the cross-node wake-up.
pub fn push_nodes(client: usize, nodes: usize) -> (usize, usize) {
    let nodes = nodes.max(1);
    (client % nodes, (client + 1) % nodes)
}

/// Frees a push account's slot however the round trip ends.
pub(crate) struct Claimed {
    accounts: Arc<Vec<PushAccount>>,
    index: usize,
}

impl Claimed {
    pub(crate) fn account(&self) -> &PushAccount {
        &self.accounts[self.index]
    }

    /// The account's place in `Target::push`.
    pub(crate) fn index(&self) -> usize {
        self.index
    }
}

impl Drop for Claimed {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.accounts[self.index].slot.lock() {
            slot.release();
        }
    }
}

/// The next push account (round robin) whose device is free and whose account the server
/// would send one more notification now.
pub(crate) fn claim_push(accounts: &Arc<Vec<PushAccount>>, cursor: &AtomicU64) -> Option<Claimed> {
    let policy = Policy::default();
    let now = SystemClock.now().unix_timestamp();
    let window = policy.push_window_secs as i64;
    for _ in 0..accounts.len() {
        let n = cursor.fetch_add(1, Ordering::Relaxed);
        let index = (n % accounts.len() as u64) as usize;
        let taken = accounts[index]
            .slot
            .lock()
            .is_ok_and(|mut s| s.claim(now, policy.push_requests_max, window));
        if taken {
            return Some(Claimed {
                accounts: accounts.clone(),
                index,
            });
        }
    }
    None
}

/// A request the device saw, as far as the round trip needs it.
#[derive(Debug, PartialEq, Eq)]
pub struct Seen {
    pub id: PushRequestId,
    pub purpose: String,
    pub status: String,
}

/// The requests of a `GET /device/requests` body.
pub fn seen_requests(body: &serde_json::Value) -> Result<Vec<Seen>, String> {
    let list = body["requests"]
        .as_array()
        .ok_or_else(|| format!("no request list in {body}"))?;
    list.iter()
        .map(|r| {
            let id = r["id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("a request without an id: {r}"))?;
            Ok(Seen {
                id,
                purpose: r["purpose"].as_str().unwrap_or_default().to_string(),
                status: r["status"].as_str().unwrap_or_default().to_string(),
            })
        })
        .collect()
}

/// Whether what the long poll returned is the step-up notification just asked for: the
/// account's device had nothing pending before (every round trip ends with an answer), so
/// it must be the only request, and still pending.
pub fn delivered(seen: &[Seen]) -> Result<PushRequestId, String> {
    match seen {
        [one] if one.purpose == "step_up" && one.status == "pending" => Ok(one.id),
        [] => Err("the long poll ended with no request".into()),
        other => Err(format!(
            "the long poll returned {other:?}, not one pending step-up"
        )),
    }
}

async fn read_json(
    response: reqwest::Result<reqwest::Response>,
) -> Result<serde_json::Value, String> {
    let response = response.map_err(|e| format!("transport: {e}"))?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("reading the body: {e}"))?;
    if status != 200 {
        return Err(format!(
            "status {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        ));
    }
    serde_json::from_slice(&body).map_err(|e| format!("not JSON: {e}"))
}

/// One round trip: the device waits, the person asks for a step-up, the device hears of it
/// and denies it. The figure is the challenge → delivery part.
async fn push_round(t: &Target, client: usize, cursor: &AtomicU64) -> Step {
    let Some(claimed) = claim_push(&t.push, cursor) else {
        return Step::Exhausted;
    };
    let account = claimed.account();
    let (device_node, person_node) = push_nodes(client, t.nodes.len());
    let device_base = t.nodes[device_node].clone();
    let person_base = &t.nodes[person_node];

    let poll = t
        .client
        .get(format!(
            "{device_base}/api/v1/device/requests?wait={PUSH_WAIT_SECS}"
        ))
        .bearer_auth(&account.credential)
        .send();
    let waiting = tokio::spawn(async move {
        let body = read_json(poll.await).await;
        (Instant::now(), body)
    });
    tokio::time::sleep(PUSH_SETTLE).await;

    let sent = Instant::now();
    let challenge = t
        .client
        .post(format!("{person_base}/api/v1/me/step-up"))
        .bearer_auth(&account.token)
        .json(&json!({"method_id": account.method_id.to_string()}))
        .send()
        .await;
    match read_json(challenge).await {
        Ok(body) if body["number"].is_u64() => {}
        Ok(body) => {
            waiting.abort();
            return Step::Unexpected(format!("a step-up challenge without a number: {body}"));
        }
        Err(e) => {
            waiting.abort();
            return Step::Unexpected(format!("step-up challenge: {e}"));
        }
    }
    let (heard_at, polled) = match waiting.await {
        Ok(done) => done,
        Err(e) => return Step::Unexpected(format!("the long poll task failed: {e}")),
    };
    let seen = polled.and_then(|body| seen_requests(&body));
    let id = match seen.as_deref().map_err(Clone::clone).and_then(delivered) {
        Ok(id) => id,
        Err(e) => {
            clear_pending(t, &device_base, account).await;
            return Step::Unexpected(format!("device: {e}"));
        }
    };
    let latency = heard_at.saturating_duration_since(sent);

    // Answered, so the next round trip on this device finds nothing pending. A denial of a
    // step-up changes nothing else; the notification budget is what limits reuse.
    match deny(t, &device_base, account, id).await {
        Ok(()) => Step::OkTimed(latency),
        Err(e) => {
            clear_pending(t, &device_base, account).await;
            Step::Unexpected(format!("answering: {e}"))
        }
    }
}

pub(crate) async fn deny(
    t: &Target,
    base: &str,
    account: &PushAccount,
    id: PushRequestId,
) -> Result<(), String> {
    let signed_at = SystemClock.now().unix_timestamp();
    let body = account.answer(id, Decision::Deny, None, signed_at);
    let answered = t
        .client
        .post(format!("{base}/api/v1/device/requests/{id}/answer"))
        .bearer_auth(&account.credential)
        .json(&body)
        .send()
        .await;
    let answered = read_json(answered).await?;
    if answered["status"] != "denied" {
        return Err(format!("answered {answered}"));
    }
    Ok(())
}

/// After a failed round trip: denies whatever the device still has pending, so the account
/// can serve again.
async fn clear_pending(t: &Target, base: &str, account: &PushAccount) {
    let listed = t
        .client
        .get(format!("{base}/api/v1/device/requests"))
        .bearer_auth(&account.credential)
        .send()
        .await;
    let Ok(seen) = read_json(listed).await.and_then(|b| seen_requests(&b)) else {
        return;
    };
    for s in seen {
        let _ = deny(t, base, account, s.id).await;
    }
}

#[cfg(test)]
mod push_tests {
    use super::*;

    #[test]
    fn two_nodes_put_the_device_and_the_challenge_apart() {
        assert_eq!(push_nodes(0, 1), (0, 0));
        assert_eq!(push_nodes(5, 1), (0, 0));
        assert_eq!(push_nodes(0, 2), (0, 1));
        assert_eq!(push_nodes(3, 2), (1, 0));
        assert_eq!(push_nodes(3, 0), (0, 0));
    }

    #[test]
    fn only_one_pending_step_up_counts_as_delivered() {
        let id = PushRequestId::new(&tessera_core::OsRandom);
        let one = |purpose: &str, status: &str| json!({"requests": [{"id": id.to_string(), "purpose": purpose, "status": status}]});
        let seen = seen_requests(&one("step_up", "pending")).unwrap();
        assert_eq!(delivered(&seen), Ok(id));
        let seen = seen_requests(&one("sign_in", "pending")).unwrap();
        assert!(delivered(&seen).is_err());
        let seen = seen_requests(&one("step_up", "expired")).unwrap();
        assert!(delivered(&seen).is_err());
        let seen = seen_requests(&json!({"requests": []})).unwrap();
        assert!(delivered(&seen).is_err());
        let two = json!({"requests": [
            {"id": id.to_string(), "purpose": "step_up", "status": "pending"},
            {"id": id.to_string(), "purpose": "step_up", "status": "pending"},
        ]});
        assert!(delivered(&seen_requests(&two).unwrap()).is_err());
        assert!(seen_requests(&json!({"error": "unauthorized"})).is_err());
        assert!(seen_requests(&json!({"requests": [{"id": "nope"}]})).is_err());
    }
}
