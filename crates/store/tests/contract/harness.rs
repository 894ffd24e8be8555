//! Runs one test on each database, and builds the values the tests store.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use tessera_core::account::{Account, AccountStatus};
use tessera_core::audit::{AuditAction, AuditEvent};
use tessera_core::flow::effect::FlowMove;
use tessera_core::flow::sign_in::Event;
use tessera_core::flow::{FlowState, SignInFlow};
use tessera_core::method::{Kind, Method, MethodData, MethodStatus};
use tessera_core::session::{Session, SessionKind};
use tessera_core::store::memory::MemoryStore;
use tessera_core::store::{Acceptance, Accepted};
use tessera_core::{AccountId, AuditId, FlowId, MethodId, SessionId, Store};
use tessera_store::{SqlStore, sqlite_url};
use time::OffsetDateTime;
use uuid::Uuid;

pub const POSTGRES_URL_VAR: &str = "TESSERA_TEST_POSTGRES_URL";

/// A store under test, and the URL that opens it again ([`MEMORY_URL`] for the memory store,
/// which no URL opens again).
#[derive(Clone)]
pub struct Db {
    pub store: Arc<dyn Store>,
    pub url: String,
}

/// What [`Db::url`] says on the memory store.
pub const MEMORY_URL: &str = "memory:";

/// Runs `test` on core's in-memory store, then as [`on_both`] does. A failure names the store.
///
/// For every test of the port's behaviour. A test that opens the database again by its URL,
/// runs SQL of its own, or tests what only a database has (migrations, durability, several
/// nodes) runs [`on_both`] instead.
pub async fn on_all<F, Fut>(test: F)
where
    F: Fn(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    // A task, as on the databases, so a failed assertion comes back here to be named.
    let outcome = tokio::spawn(test(Db {
        store,
        url: MEMORY_URL.to_string(),
    }))
    .await;
    rethrow("memory", outcome);
    on_both(test).await;
}

/// Runs `test` on SQLite, then on PostgreSQL when configured. A failure names the database.
pub async fn on_both<F, Fut>(test: F)
where
    F: Fn(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = temp_dir();
    let url = sqlite_url(&dir);
    let outcome = run(&url, &test).await;
    let _ = std::fs::remove_dir_all(&dir);
    rethrow("SQLite", outcome);

    let Some(base) = std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("{POSTGRES_URL_VAR} not set: skipping PostgreSQL store tests");
        return;
    };
    let name = format!("tessera_t_{}", Uuid::new_v4().simple());
    admin(&base, &format!("CREATE DATABASE {name}")).await;
    let outcome = run(&with_database(&base, &name), &test).await;
    admin(
        &base,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await;
    rethrow("PostgreSQL", outcome);
}

async fn run<F, Fut>(url: &str, test: &F) -> Result<(), tokio::task::JoinError>
where
    F: Fn(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let sql = Arc::new(SqlStore::connect(url).await.expect("open the store"));
    let store: Arc<dyn Store> = sql.clone();
    // A task, so a failed assertion comes back here and the database is still cleaned up.
    let outcome = tokio::spawn(test(Db {
        store,
        url: url.to_string(),
    }))
    .await;
    sql.close().await;
    outcome
}

fn rethrow(backend: &str, outcome: Result<(), tokio::task::JoinError>) {
    if let Err(e) = outcome {
        eprintln!("contract test failed on {backend}");
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("test task on {backend}: {e}"),
        }
    }
}

async fn admin(base: &str, sql: &str) {
    let mut conn = PgConnection::connect(base)
        .await
        .expect("connect to TESSERA_TEST_POSTGRES_URL");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut conn)
        .await
        .expect(sql);
    let _ = conn.close().await;
}

/// The same server and options, another database.
fn with_database(base: &str, name: &str) -> String {
    let (main, query) = match base.split_once('?') {
        Some((main, query)) => (main, Some(query)),
        None => (base, None),
    };
    let authority = main.find("://").map_or(0, |i| i + 3);
    let root = match main[authority..].find('/') {
        Some(i) => &main[..authority + i],
        None => main,
    };
    match query {
        Some(query) => format!("{root}/{name}?{query}"),
        None => format!("{root}/{name}"),
    }
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tessera-contract-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("create a temp folder");
    dir
}

/// A fixed moment plus `secs`; whole seconds, as the store keeps them.
pub fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000 + secs).expect("a valid time")
}

pub fn account(username: &str) -> Account {
    Account {
        id: AccountId(Uuid::new_v4()),
        username: username.to_string(),
        display_name: format!("{username} display"),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".to_string(),
        locale: None,
        browser_locale: None,
        status: AccountStatus::Active,
        is_admin: false,
        email: None,
        default_method: None,
        created_at: at(0),
        source: tessera_core::account::AccountSource::Local,
        external_id: None,
    }
}

pub fn event(account: Option<AccountId>, action: AuditAction) -> AuditEvent {
    AuditEvent {
        id: AuditId(Uuid::new_v4()),
        at: at(0),
        account_id: account,
        action,
        method_id: None,
        ip: Some("192.0.2.7".to_string()),
        user_agent: Some("contract-test/1.0".to_string()),
        detail: json!(null),
    }
}

/// An account, stored.
pub async fn seeded(store: &dyn Store, username: &str) -> Account {
    let account = account(username);
    store
        .insert_account(
            &account,
            &event(Some(account.id), AuditAction::AccountCreated),
        )
        .await
        .expect("insert account");
    account
}

pub fn method(account: AccountId, status: MethodStatus, created: i64) -> Method {
    Method {
        id: MethodId(Uuid::new_v4()),
        account_id: account,
        kind: Kind::AuthenticatorCode,
        status,
        name: Some("work phone".to_string()),
        data: MethodData::Totp {
            digits: 6,
            step_secs: 30,
        },
        sealed_secret: Some(vec![1, 2, 3, 0, 255]),
        created_at: at(created),
        last_used_at: None,
        expires_at: (status == MethodStatus::Pending).then(|| at(created + 600)),
        last_step: None,
        failures: 0,
        locked_until: None,
        registered_by: None,
        way: None,
    }
}

/// A method, stored.
pub async fn seeded_method(
    store: &dyn Store,
    account: AccountId,
    status: MethodStatus,
    created: i64,
) -> Method {
    let method = method(account, status, created);
    store
        .insert_method(
            &method,
            &event(Some(account), AuditAction::MethodAdded).method(method.id),
        )
        .await
        .expect("insert method");
    method
}

pub fn flow(account: AccountId, state: FlowState) -> SignInFlow {
    SignInFlow {
        id: FlowId(Uuid::new_v4()),
        account_id: account,
        state,
        created_at: at(0),
        expires_at: at(600),
        approved_kind: None,
    }
}

pub fn session(account: AccountId, kind: SessionKind) -> Session {
    Session {
        id: SessionId(Uuid::new_v4()),
        token_hash: Uuid::new_v4().as_bytes().to_vec(),
        account_id: account,
        kind,
        flow_id: None,
        created_at: at(0),
        expires_at: at(3600),
        last_seen_at: at(0),
        second_factor_at: None,
        second_factor_kind: None,
    }
}

/// How many audit events of `action` the account has.
pub async fn count(store: &dyn Store, account: AccountId, action: AuditAction) -> usize {
    store
        .audit_of(account, 1000)
        .await
        .expect("audit_of")
        .iter()
        .filter(|e| e.action == action)
        .count()
}

/// A matching response with no attempt gate (as a code checked after `begin_attempt`):
/// whether it was accepted, `false` on a replayed step.
pub async fn accept_ungated(
    store: &dyn Store,
    method: MethodId,
    step: Option<i64>,
    now: OffsetDateTime,
    audit: &AuditEvent,
) -> bool {
    let acceptance = Acceptance {
        method,
        step,
        now,
        gate: None,
        effects: &[],
        audit: std::slice::from_ref(audit),
    };
    store.accept(&acceptance).await.expect("accept") == Accepted::Yes
}

/// The move that completes a flow from `from` with `session`, ending `revoke`.
pub fn completing(
    flow: FlowId,
    from: FlowState,
    session: &Session,
    revoke: Option<SessionId>,
) -> FlowMove {
    FlowMove {
        flow,
        from,
        to: FlowState::Completed,
        current_at: None,
        expires_at: None,
        session: Some(session.clone()),
        revoke,
        approved_kind: None,
    }
}

/// The move on to registration after a second factor, with the registration `session`.
pub fn to_registration(flow: FlowId, session: &Session) -> FlowMove {
    let proven = Event::SecondFactorProven { needs_met: false };
    FlowMove::new(flow, FlowState::MfaRequired, proven)
        .expect("a waiting flow moves on to registration")
        .with_session(session.clone())
}

#[test]
fn with_database_swaps_only_the_database() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/test?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://h:5432", "x"),
        "postgres://h:5432/x"
    );
}
