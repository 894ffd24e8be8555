//! Servers in this process on a fake clock (one node, or two on one PostgreSQL database),
//! and the reference authenticator as a separate process with its own state file.

use crate::harness::{Ran, TempDir, run, tessera};
use serde_json::{Value, json};
use sqlx::Executor;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use tessera_core::admin::NewAccount;
use tessera_core::password::Argon2Passwords;
use tessera_core::{FakeClock, KeyRing, OsRandom, Tessera};
use tessera_server::{AppState, BlockingPasswords, ServerConfig};
use tessera_store::SqlStore;
use time::Duration;
use tokio::sync::oneshot;
use zeroize::Zeroizing;

pub const PASSWORD: &str = "correct horse battery staple";
const POSTGRES_URL: &str = "TESSERA_TEST_POSTGRES_URL";

/// One server node.
pub struct Node {
    pub base: String,
    pub store: Arc<SqlStore>,
    pub tessera: Arc<Tessera>,
    shutdown: Option<oneshot::Sender<()>>,
}

pub struct Push {
    pub nodes: Vec<Node>,
    pub clock: Arc<FakeClock>,
    pub backend: &'static str,
    pub http: reqwest::Client,
    pub dir: TempDir,
    postgres_db: Option<(String, String)>,
}

/// Runs `test` on SQLite, then on PostgreSQL when `TESSERA_TEST_POSTGRES_URL` is set.
pub async fn each_backend<F, Fut>(name: &str, test: F)
where
    F: Fn(Push) -> Fut,
    Fut: Future<Output = Push>,
{
    for postgres in [false, true] {
        let Some(push) = Push::start(name, postgres, 1).await else {
            continue;
        };
        eprintln!("on {}", push.backend);
        let push = test(push).await;
        push.finish().await;
    }
}

fn postgres_base() -> Option<String> {
    std::env::var(POSTGRES_URL).ok().filter(|u| !u.is_empty())
}

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

impl Push {
    /// `nodes` servers on one database; `None` when PostgreSQL is asked for but not set.
    pub async fn start(name: &str, postgres: bool, nodes: usize) -> Option<Push> {
        let dir = TempDir::new(name);
        let (url, postgres_db) = if postgres {
            let admin = postgres_base()?;
            let db = format!("tessera_auth_{}", uuid_like());
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
                .await
                .unwrap();
            conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
                .await
                .unwrap();
            (with_database(&admin, &db), Some((admin, db)))
        } else {
            (tessera_store::sqlite_url(&dir.join("data")), None)
        };
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let clock = Arc::new(FakeClock::at_epoch_2026());
        let keys = Arc::new(KeyRing::generate(&OsRandom));
        let passwords = BlockingPasswords(Arc::new(Argon2Passwords::new(256, 1, 1).unwrap()));
        let passwords = Arc::new(passwords);
        let mut started = Vec::new();
        for _ in 0..nodes {
            // Each node opens the database on its own, as separate processes would.
            let store = Arc::new(SqlStore::connect(&url).await.unwrap());
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
            let state = AppState::new(tessera.clone(), config);
            let (tx, rx) = oneshot::channel::<()>();
            tokio::spawn(async move {
                let _ = tessera_server::serve(listener, state, async move {
                    let _ = rx.await;
                })
                .await;
            });
            started.push(Node {
                base: format!("http://{addr}"),
                store,
                tessera,
                shutdown: Some(tx),
            });
        }
        Some(Push {
            nodes: started,
            clock,
            backend: if postgres { "postgres" } else { "sqlite" },
            http: reqwest::Client::new(),
            dir,
            postgres_db,
        })
    }

    pub async fn finish(mut self) {
        for node in &mut self.nodes {
            if let Some(tx) = node.shutdown.take() {
                let _ = tx.send(());
            }
            node.store.close().await;
        }
        if let Some((admin, db)) = &self.postgres_db
            && let Ok(mut conn) = <sqlx::PgConnection as sqlx::Connection>::connect(admin).await
        {
            let _ = conn
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
                )))
                .await;
        }
    }

    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i]
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.nodes[0].base)
    }

    pub fn advance(&self, secs: i64) {
        self.clock.advance(Duration::seconds(secs));
    }

    pub fn state_file(&self) -> PathBuf {
        self.dir.join("authenticator.json")
    }

    /// `tessera authenticator --state FILE args…`, as a separate process.
    pub async fn cli(&self, args: &[&str]) -> Ran {
        self.cli_with_input(args, "").await
    }

    pub async fn cli_with_input(&self, args: &[&str], stdin: &str) -> Ran {
        let state = self.state_file();
        let mut all = vec!["authenticator", "--state", state.to_str().unwrap()];
        all.extend_from_slice(args);
        let command = tessera(&self.dir.path, &all);
        let stdin = stdin.to_string();
        tokio::task::spawn_blocking(move || run(command, &stdin))
            .await
            .unwrap()
    }

    /// A successful CLI run's standard output.
    pub async fn cli_ok(&self, args: &[&str]) -> String {
        let ran = self.cli(args).await;
        assert_eq!(ran.code, Some(0), "{args:?}: {ran:?}");
        ran.stdout
    }

    /// The authenticator's pending requests (`pending`), as JSON.
    pub async fn pending(&self) -> Vec<Value> {
        self.cli_ok(&["pending"])
            .await
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    pub async fn add_user(&self, username: &str) {
        self.nodes[0]
            .tessera
            .local_admin()
            .create_account(NewAccount {
                username: username.into(),
                display_name: None,
                password: Zeroizing::new(PASSWORD.into()),
                is_admin: false,
                email: None,
            })
            .await
            .unwrap();
    }

    pub async fn set_policy(&self, key: &str, value: &str) {
        for node in &self.nodes {
            node.tessera
                .local_admin()
                .set_policy(&[(key.into(), value.into())])
                .await
                .unwrap()
                .unwrap();
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        url: String,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, self.url(path), token, Some(body))
            .await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        self.call(reqwest::Method::GET, self.url(path), token, None)
            .await
    }

    /// Signs in with the password: the response.
    pub async fn sign_in(&self, username: &str) -> Value {
        let (status, body) = self
            .post(
                "/api/v1/sign-in",
                None,
                json!({"username": username, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// A new person registering the app at the registration interrupt, on `node`: the
    /// registration session, its flow, the method and the activation.
    pub async fn start_app_registration(
        &self,
        username: &str,
        node: usize,
    ) -> (String, String, String, Value) {
        self.add_user(username).await;
        let body = self.sign_in(username).await;
        assert_eq!(body["status"], "registration_required", "{body}");
        let token = body["session"].as_str().unwrap().to_string();
        let flow = body["flow"].as_str().unwrap().to_string();
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                format!("{}/api/v1/me/security-info/methods", self.nodes[node].base),
                Some(&token),
                Some(json!({"kind": "authenticator_app"})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let method = body["id"].as_str().unwrap().to_string();
        (token, flow, method, body["activation"].clone())
    }

    /// The number the registration page shows for the test notification.
    pub async fn test_number(&self, token: &str, method: &str) -> u64 {
        let (status, body) = self
            .get(
                &format!("/api/v1/me/security-info/methods/{method}/activation"),
                Some(token),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "waiting_for_approval", "{body}");
        body["test_notification"]["number"].as_u64().unwrap()
    }

    /// A person with the app activated through the CLI (`add <uri>`) and approved; the
    /// full session.
    pub async fn enrolled(&self, username: &str) -> (String, String) {
        let (token, flow, method, activation) = self.start_app_registration(username, 0).await;
        self.cli_ok(&[
            "add",
            activation["uri"].as_str().unwrap(),
            "--name",
            "Test phone",
        ])
        .await;
        let number = self.test_number(&token, &method).await;
        let pending = self.pending().await;
        let id = pending[0]["id"].as_str().unwrap().to_string();
        self.cli_ok(&["respond", &id, "approve", "--number", &number.to_string()])
            .await;
        let (status, body) = self
            .get(&format!("/api/v1/sign-in/{flow}"), Some(&token))
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("signed_in")),
            "{body}"
        );
        (body["session"].as_str().unwrap().to_string(), method)
    }

    /// Password, then a notification: the flow and the number it shows.
    pub async fn push_sign_in(&self, username: &str) -> (String, u64) {
        let body = self.sign_in(username).await;
        assert_eq!(body["status"], "mfa_required", "{body}");
        let flow = body["flow"].as_str().unwrap().to_string();
        let method = body["default_method"].as_str().unwrap();
        let (status, challenge) = self
            .post(
                &format!("/api/v1/sign-in/{flow}/challenge"),
                None,
                json!({"method_id": method}),
            )
            .await;
        assert_eq!(status, 200, "{challenge}");
        (flow, challenge["number"].as_u64().unwrap())
    }

    /// The pending request's id, the only one there is.
    pub async fn only_request(&self) -> String {
        let pending = self.pending().await;
        assert_eq!(pending.len(), 1, "{pending:?}");
        pending[0]["id"].as_str().unwrap().to_string()
    }

    pub async fn flow_status(&self, flow: &str) -> Value {
        let (status, body) = self.get(&format!("/api/v1/sign-in/{flow}"), None).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// The state file, as JSON.
    pub fn state(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.state_file()).unwrap()).unwrap()
    }
}

fn uuid_like() -> String {
    let bytes = tessera_core::random::bytes::<12>(&OsRandom);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `tessera authenticator watch`, running: what it printed, and its keyboard.
pub struct Watch {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    lines: Arc<std::sync::Mutex<Vec<String>>>,
    rx: Arc<std::sync::Mutex<std::sync::mpsc::Receiver<String>>>,
}

impl Push {
    pub fn watch(&self) -> Watch {
        use std::io::BufRead;
        use std::process::Stdio;
        let state = self.state_file();
        let mut child = tessera(
            &self.dir.path,
            &["authenticator", "--state", state.to_str().unwrap(), "watch"],
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                if tx.send(line.unwrap_or_default()).is_err() {
                    break;
                }
            }
        });
        Watch {
            stdin: child.stdin.take(),
            child,
            lines: Arc::default(),
            rx: Arc::new(std::sync::Mutex::new(rx)),
        }
    }
}

impl Watch {
    /// Waits until a printed line contains `text` (a minute at most: a slow machine).
    pub async fn until(&mut self, text: &str) {
        let rx = self.rx.clone();
        let lines = self.lines.clone();
        let text = text.to_string();
        tokio::task::spawn_blocking(move || {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            let rx = rx.lock().unwrap();
            loop {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                let Ok(line) = rx.recv_timeout(left) else {
                    panic!(
                        "watch never printed {text:?}; it printed {:?}",
                        lines.lock().unwrap()
                    );
                };
                let found = line.contains(&text);
                lines.lock().unwrap().push(line);
                if found {
                    return;
                }
            }
        })
        .await
        .unwrap();
    }

    pub fn seen(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    pub fn type_line(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The keys of a JSON object as written, repeats kept: `serde_json::Value` keeps only the last
/// of a key written twice, which would hide the repeat.
pub fn top_level_keys(json: &str) -> Vec<String> {
    struct Keys(Vec<String>);
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = Keys;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
            let mut keys = Vec::new();
            while let Some((key, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                keys.push(key);
            }
            Ok(Keys(keys))
        }
    }
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_map(Visitor)
        }
    }
    serde_json::from_str::<Keys>(json).unwrap().0
}
