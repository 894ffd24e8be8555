//! The server the browser talks to: a real Tessera on 127.0.0.1:0, reached as `localhost`
//! (security keys need a domain name), over SQLite or, when configured, PostgreSQL, with a
//! fake clock shared with the test so authenticator codes can be computed.

use sqlx::Executor;
use std::sync::Arc;
use tessera_core::admin::NewAccount;
use tessera_core::method::authenticator_code;
use tessera_core::password::Argon2Passwords;
use tessera_core::{Clock, FakeClock, KeyRing, OsRandom, Tessera};
use tessera_server::{AppState, BlockingPasswords, ServerConfig};
use tessera_store::SqlStore;
use tokio::sync::oneshot;
use zeroize::Zeroizing;

pub const PASSWORD: &str = "correct horse battery staple";

/// A temporary folder removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(what: &str) -> Self {
        let name = format!("tessera-browser-{what}-{}", uuid::Uuid::new_v4().simple());
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

pub struct Server {
    pub base: String,
    pub backend: &'static str,
    pub clock: Arc<FakeClock>,
    pub tessera: Arc<Tessera>,
    store: Arc<SqlStore>,
    shutdown: Option<oneshot::Sender<()>>,
    postgres_db: Option<(String, String)>,
    _dir: Option<TempDir>,
}

fn postgres_url() -> Option<String> {
    std::env::var("TESSERA_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let root = base.rsplit_once('/').map_or(base, |(r, _)| r);
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

/// The stores to run on: SQLite, and PostgreSQL when `TESSERA_TEST_POSTGRES_URL` is set.
pub fn backends() -> Vec<bool> {
    if postgres_url().is_some() {
        vec![false, true]
    } else {
        vec![false]
    }
}

impl Server {
    pub async fn start(postgres: bool) -> Server {
        let (url, dir, postgres_db) = if postgres {
            let admin = postgres_url().unwrap();
            let db = format!("tessera_browser_{}", uuid::Uuid::new_v4().simple());
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
                .await
                .unwrap();
            conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
                .await
                .unwrap();
            (with_database(&admin, &db), None, Some((admin, db)))
        } else {
            let dir = TempDir::new("db");
            (tessera_store::sqlite_url(&dir.0), Some(dir), None)
        };
        let store = Arc::new(SqlStore::connect(&url).await.unwrap());
        let clock = Arc::new(FakeClock::at_epoch_2026());
        let passwords = BlockingPasswords(Arc::new(Argon2Passwords::new(256, 1, 1).unwrap()));
        let tessera = Arc::new(Tessera::new(
            store.clone(),
            clock.clone(),
            Arc::new(OsRandom),
            Arc::new(KeyRing::generate(&OsRandom)),
            Arc::new(passwords),
            "Example Org",
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut config = ServerConfig::new(listener.local_addr().unwrap());
        config.organization = "Example Org".into();
        config.public_url = format!("http://localhost:{port}");
        let state = AppState::new(tessera.clone(), config);
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = tessera_server::serve(listener, state, async move {
                let _ = rx.await;
            })
            .await;
        });
        Server {
            base: format!("http://localhost:{port}"),
            backend: if postgres { "postgres" } else { "sqlite" },
            clock,
            tessera,
            store,
            shutdown: Some(tx),
            postgres_db,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn add_user(&self, username: &str) {
        self.tessera
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
        self.tessera
            .local_admin()
            .set_policy(&[(key.into(), value.into())])
            .await
            .unwrap()
            .unwrap();
    }

    /// The code an authenticator app shows now for the secret shown on the page.
    pub fn code(&self, secret_b32: &str) -> String {
        let clean: String = secret_b32
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let seed = data_encoding::BASE32_NOPAD
            .decode(clean.as_bytes())
            .unwrap();
        let now = self.clock.now().unix_timestamp() as u64;
        authenticator_code::code_at(&seed, now).unwrap()
    }

    pub async fn finish(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.store.close().await;
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
}
