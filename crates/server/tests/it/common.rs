//! The harness: a real server on 127.0.0.1:0 over a real store, a fake clock shared with it,
//! and helpers to create people and compute their authenticator codes.

use data_encoding::BASE32_NOPAD;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use sqlx::Executor;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tessera_core::admin::NewAccount;
use tessera_core::method::authenticator_code;
use tessera_core::password::Argon2Passwords;
use tessera_core::password::{PasswordCheck, PasswordHasher};
use tessera_core::{Account, Clock, FakeClock, KeyRing, OsRandom, Store, Tessera};
use tessera_server::{AppState, BlockingPasswords, ServerConfig};
use tessera_store::SqlStore;
use time::Duration;
use tokio::sync::oneshot;
use zeroize::Zeroizing;

pub const PASSWORD: &str = "correct horse battery staple";

#[derive(Clone)]
pub struct Harness {
    inner: Arc<Inner>,
}

struct Inner {
    base: String,
    /// The public URL's origin (every node of one deployment shares it).
    origin: String,
    /// The database, for another node on it.
    db_url: String,
    keys: Arc<KeyRing>,
    backend: &'static str,
    clock: Arc<FakeClock>,
    tessera: Arc<Tessera>,
    store: Arc<SqlStore>,
    shutdown: std::sync::Mutex<Option<oneshot::Sender<()>>>,
    postgres_db: Option<(String, String)>,
    _dir: Option<TempDir>,
    passwords: Arc<CountingPasswords>,
}

/// A temporary folder removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let name = format!("tessera-it-{}", uuid::Uuid::new_v4().simple());
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `test` once per store: SQLite always, PostgreSQL when configured.
pub async fn each_backend<F, Fut>(test: F)
where
    F: Fn(Harness) -> Fut,
    Fut: Future<Output = ()>,
{
    each_backend_with(|_| {}, test).await
}

/// As [`each_backend`], with the server's configuration changed by `configure` first.
pub async fn each_backend_with<F, Fut>(configure: fn(&mut ServerConfig), test: F)
where
    F: Fn(Harness) -> Fut,
    Fut: Future<Output = ()>,
{
    for postgres in [false, true] {
        let Some(h) = Harness::start_with(postgres, configure).await else {
            continue;
        };
        eprintln!("on {}", h.backend());
        test(h.clone()).await;
        h.finish().await;
    }
}

fn postgres_url() -> Option<String> {
    let url = std::env::var("TESSERA_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        static NOTICE: std::sync::Once = std::sync::Once::new();
        NOTICE.call_once(|| {
            eprintln!("TESSERA_TEST_POSTGRES_URL not set: skipping the PostgreSQL runs")
        });
    }
    url
}

/// `url` with its database name replaced.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map(|(b, q)| (b, Some(q)))
        .unwrap_or((url, None));
    let root = base.rsplit_once('/').map(|(r, _)| r).unwrap_or(base);
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

impl Harness {
    /// `None` when PostgreSQL is asked for but not configured.
    #[allow(dead_code)]
    pub async fn start(postgres: bool) -> Option<Harness> {
        Self::start_with(postgres, |_| {}).await
    }

    pub async fn start_with(postgres: bool, configure: fn(&mut ServerConfig)) -> Option<Harness> {
        let (url, dir, postgres_db) = if postgres {
            let admin = postgres_url()?;
            let db = format!("tessera_it_{}", uuid::Uuid::new_v4().simple());
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
                .await
                .unwrap();
            conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
                .await
                .unwrap();
            (with_database(&admin, &db), None, Some((admin, db)))
        } else {
            let dir = TempDir::new();
            (tessera_store::sqlite_url(&dir.0), Some(dir), None)
        };
        let clock = Arc::new(FakeClock::at_epoch_2026());
        let keys = Arc::new(KeyRing::generate(&OsRandom));
        let node = Node::start(&url, clock, keys, None, configure).await;
        node.tessera.oidc_ensure_keys().await.unwrap();
        Some(node.into_harness(
            if postgres { "postgres" } else { "sqlite" },
            dir,
            postgres_db,
        ))
    }

    /// A second server on the same database, with the same master key and public URL: a
    /// node of the same deployment (it stops with this one's test; the database stays).
    #[allow(dead_code)]
    pub async fn another_node(&self) -> Harness {
        let i = &self.inner;
        let node = Node::start(
            &i.db_url,
            i.clock.clone(),
            i.keys.clone(),
            Some(i.origin.clone()),
            |_| {},
        )
        .await;
        node.into_harness(i.backend, None, None)
    }

    /// Stops the server, and drops its PostgreSQL database when it made one.
    pub async fn finish(self) {
        if let Some(tx) = self.inner.shutdown.lock().unwrap().take() {
            let _ = tx.send(());
        }
        self.inner.store.close().await;
        if let Some((admin, db)) = &self.inner.postgres_db
            && let Ok(mut conn) = <sqlx::PgConnection as sqlx::Connection>::connect(admin).await
        {
            let _ = conn
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
                )))
                .await;
        }
    }

    /// Password hashes and checks the server has done so far.
    #[allow(dead_code)]
    pub fn password_checks(&self) -> u64 {
        self.inner.passwords.checks.load(Ordering::SeqCst)
    }

    pub fn backend(&self) -> &'static str {
        self.inner.backend
    }

    /// The origin browsers (and software authenticators) report: the public URL's.
    #[allow(dead_code)]
    pub fn origin(&self) -> String {
        self.inner.origin.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.inner.base, path)
    }

    pub fn tessera(&self) -> &Arc<Tessera> {
        &self.inner.tessera
    }

    #[allow(dead_code)]
    pub fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    pub fn clock(&self) -> &FakeClock {
        &self.inner.clock
    }

    pub fn advance(&self, secs: i64) {
        self.inner.clock.advance(Duration::seconds(secs));
    }

    /// A client that keeps cookies and does not follow redirects, like a browser whose every
    /// hop the test checks.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap()
    }

    pub async fn add_user(&self, username: &str) -> Account {
        self.tessera()
            .local_admin()
            .create_account(NewAccount {
                username: username.into(),
                display_name: None,
                password: Zeroizing::new(PASSWORD.into()),
                is_admin: false,
                email: None,
            })
            .await
            .unwrap()
    }

    pub async fn set_policy(&self, key: &str, value: &str) {
        self.tessera()
            .local_admin()
            .set_policy(&[(key.into(), value.into())])
            .await
            .unwrap()
            .unwrap();
    }

    /// The code an authenticator app shows now for a base32 secret, `offset_steps` from now.
    pub fn code(&self, secret_b32: &str, offset_steps: i64) -> String {
        let clean: String = secret_b32.chars().filter(|c| !c.is_whitespace()).collect();
        let seed = BASE32_NOPAD
            .decode(clean.trim_end_matches('=').as_bytes())
            .unwrap();
        let t = self.clock().now().unix_timestamp() + offset_steps * 30;
        authenticator_code::code_at(&seed, t as u64).unwrap()
    }

    /// A code that is surely wrong now.
    pub fn wrong_code(&self, secret_b32: &str) -> String {
        let right: u32 = self.code(secret_b32, 0).parse().unwrap();
        format!("{:06}", (right + 500_000) % 1_000_000)
    }

    pub async fn post(
        &self,
        client: &reqwest::Client,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> (u16, Value) {
        let mut req = client.post(self.url(path)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        response(req.send().await.unwrap()).await
    }

    pub async fn get(
        &self,
        client: &reqwest::Client,
        path: &str,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut req = client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        response(req.send().await.unwrap()).await
    }

    pub async fn delete(&self, client: &reqwest::Client, path: &str, token: &str) -> (u16, Value) {
        response(
            client
                .delete(self.url(path))
                .bearer_auth(token)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn put(
        &self,
        client: &reqwest::Client,
        path: &str,
        token: &str,
        body: Value,
    ) -> (u16, Value) {
        response(
            client
                .put(self.url(path))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Signs in with the password through the API.
    pub async fn api_sign_in(&self, client: &reqwest::Client, username: &str) -> Value {
        let (status, body) = self
            .post(
                client,
                "/api/v1/sign-in",
                None,
                json!({"username": username, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// A person with one active authenticator code method, registered through the API
    /// (the registration interrupt). Returns (session token, method id, secret).
    pub async fn enrolled_user(
        &self,
        client: &reqwest::Client,
        username: &str,
    ) -> (String, String, String) {
        self.add_user(username).await;
        let body = self.api_sign_in(client, username).await;
        assert_eq!(body["status"], "registration_required", "{body}");
        let reg_token = body["session"].as_str().unwrap().to_string();
        let flow = body["flow"].as_str().unwrap().to_string();
        let (id, secret) = self.add_code_method(client, &reg_token).await;
        let (status, body) = self
            .post(
                client,
                &format!("/api/v1/me/security-info/methods/{id}/verify"),
                Some(&reg_token),
                json!({"code": self.code(&secret, 0)}),
            )
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("active")),
            "{body}"
        );
        let (status, body) = self
            .get(client, &format!("/api/v1/sign-in/{flow}"), Some(&reg_token))
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("signed_in")),
            "{body}"
        );
        // The code just used may not be used again: later sign-ins start a step later.
        self.advance(30);
        (body["session"].as_str().unwrap().to_string(), id, secret)
    }

    /// Starts an authenticator code registration; returns (method id, secret).
    pub async fn add_code_method(&self, client: &reqwest::Client, token: &str) -> (String, String) {
        let (status, body) = self
            .post(
                client,
                "/api/v1/me/security-info/methods",
                Some(token),
                json!({"kind": "authenticator_code"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        (
            body["id"].as_str().unwrap().to_string(),
            body["secret"].as_str().unwrap().to_string(),
        )
    }

    /// Signs in with password and code; returns the session token.
    #[allow(dead_code)]
    pub async fn sign_in_with_code(
        &self,
        client: &reqwest::Client,
        username: &str,
        secret: &str,
    ) -> String {
        let body = self.api_sign_in(client, username).await;
        assert_eq!(body["status"], "mfa_required", "{body}");
        let flow = body["flow"].as_str().unwrap();
        let method = body["default_method"].as_str().unwrap();
        let (status, body) = self
            .post(
                client,
                &format!("/api/v1/sign-in/{flow}/verify"),
                None,
                json!({"method_id": method, "code": self.code(secret, 0)}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        self.advance(30);
        body["session"].as_str().unwrap().to_string()
    }
}

/// One server over a store, before it becomes a [`Harness`].
struct Node {
    base: String,
    origin: String,
    db_url: String,
    keys: Arc<KeyRing>,
    clock: Arc<FakeClock>,
    tessera: Arc<Tessera>,
    store: Arc<SqlStore>,
    shutdown: oneshot::Sender<()>,
    passwords: Arc<CountingPasswords>,
}

impl Node {
    /// `public_url`: another node's, or (`None`) this one's own address as `localhost`.
    async fn start(
        url: &str,
        clock: Arc<FakeClock>,
        keys: Arc<KeyRing>,
        public_url: Option<String>,
        configure: fn(&mut ServerConfig),
    ) -> Node {
        let store = Arc::new(SqlStore::connect(url).await.unwrap());
        // Cheap parameters: tests exercise the rules, not the cost.
        let passwords = Arc::new(CountingPasswords {
            inner: BlockingPasswords(Arc::new(Argon2Passwords::new(256, 1, 1).unwrap())),
            checks: AtomicU64::new(0),
        });
        let tessera = Arc::new(Tessera::new(
            store.clone(),
            clock.clone(),
            Arc::new(OsRandom),
            keys.clone(),
            passwords.clone(),
            "Example Org",
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = ServerConfig::new(addr);
        config.organization = "Example Org".into();
        // Security keys need a domain name for their relying party (browsers refuse an IP
        // address as RP id); `localhost` is the loopback domain they accept over plain HTTP.
        config.public_url =
            public_url.unwrap_or_else(|| format!("http://localhost:{}", addr.port()));
        configure(&mut config);
        let origin = config.public_url.trim_end_matches('/').to_string();
        let state = AppState::new(tessera.clone(), config);
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = tessera_server::serve(listener, state, async move {
                let _ = rx.await;
            })
            .await;
        });
        Node {
            base: format!("http://{addr}"),
            origin,
            db_url: url.to_string(),
            keys,
            clock,
            tessera,
            store,
            shutdown: tx,
            passwords,
        }
    }

    fn into_harness(
        self,
        backend: &'static str,
        dir: Option<TempDir>,
        postgres_db: Option<(String, String)>,
    ) -> Harness {
        Harness {
            inner: Arc::new(Inner {
                base: self.base,
                origin: self.origin,
                db_url: self.db_url,
                keys: self.keys,
                backend,
                clock: self.clock,
                tessera: self.tessera,
                store: self.store,
                shutdown: std::sync::Mutex::new(Some(self.shutdown)),
                postgres_db,
                _dir: dir,
                passwords: self.passwords,
            }),
        }
    }
}

pub async fn response(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The server's hasher, counting: every sign-in must cost one check, known user or not.
pub struct CountingPasswords {
    inner: BlockingPasswords,
    checks: AtomicU64,
}

#[async_trait::async_trait]
impl PasswordHasher for CountingPasswords {
    async fn hash(&self, password: Zeroizing<String>) -> tessera_core::Result<String> {
        self.checks.fetch_add(1, Ordering::SeqCst);
        self.inner.hash(password).await
    }

    async fn verify(&self, password: Zeroizing<String>, phc: Option<String>) -> PasswordCheck {
        self.checks.fetch_add(1, Ordering::SeqCst);
        self.inner.verify(password, phc).await
    }
}

/// The `kind` of each method a sign-in or reset answer offers, in its order.
pub fn method_kinds(body: &Value) -> Vec<&str> {
    body["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect()
}
