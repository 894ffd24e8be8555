//! Whole HTTP requests against the whole application (API and pages, over a SQLite store):
//! JSON bodies, forms, cookies, CSRF tokens, Accept-Language, bearer tokens, paths. Whatever
//! comes in, the answer is never a 500 and nothing panics.
//!
//! Input: a request line (`POST /api/v1/sign-in`), header lines, a blank line, the body. The
//! text `{T}` becomes a valid session token of alice@example.org (an admin, signed in), so
//! the fuzzer reaches the signed-in handlers too.

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::Request;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use tessera_core::admin::NewAccount;
use tessera_core::flow::SignInOutcome;
use tessera_core::password::Argon2Passwords;
use tessera_core::{KeyRing, OsRandom, RequestContext, SystemClock, Tessera};
use tessera_server::{AppState, BlockingPasswords, ServerConfig};
use tessera_store::SqlStore;
use tower::ServiceExt;
use zeroize::Zeroizing;

struct App {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    token: String,
}

fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (router, token) = runtime.block_on(build());
        App {
            runtime,
            router,
            token,
        }
    })
}

async fn build() -> (axum::Router, String) {
    let dir = std::env::temp_dir().join(format!("tessera-fuzz-{}", std::process::id()));
    // A folder left by an earlier process of the same id would hold alice already.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(
        SqlStore::connect(&tessera_store::sqlite_url(&dir))
            .await
            .unwrap(),
    );
    let tessera = Arc::new(Tessera::new(
        store,
        Arc::new(SystemClock),
        Arc::new(OsRandom),
        Arc::new(KeyRing::generate(&OsRandom)),
        // Cheap: the fuzzer explores parsing, not hashing.
        Arc::new(BlockingPasswords(Arc::new(
            Argon2Passwords::new(64, 1, 1).unwrap(),
        ))),
        "Fuzz Org",
    ));
    let admin = tessera.local_admin();
    admin
        .create_account(NewAccount {
            username: "alice@example.org".into(),
            display_name: None,
            password: Zeroizing::new("correct horse battery staple".into()),
            is_admin: true,
            email: None,
        })
        .await
        .unwrap();
    admin
        .set_policy(&[("registration_required".into(), "false".into())])
        .await
        .unwrap()
        .unwrap();
    let outcome = tessera
        .sign_in(
            "alice@example.org",
            Zeroizing::new("correct horse battery staple".into()),
            &RequestContext::default(),
        )
        .await
        .unwrap();
    let SignInOutcome::SignedIn(session) = outcome else {
        panic!("no second factor is required yet");
    };
    let addr: SocketAddr = ([127, 0, 0, 1], 8080).into();
    let mut config = ServerConfig::new(addr);
    config.sign_in_limit_per_minute = 0;
    let router = tessera_server::router(AppState::new(tessera, config))
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    (router, session.token.to_string())
}

pub fn http_request(data: &[u8]) {
    let app = app();
    let text = String::from_utf8_lossy(data).replace("{T}", &app.token);
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let Some((method, path)) = lines.next().and_then(|l| l.split_once(' ')) else {
        return;
    };
    let mut request = Request::builder().method(method).uri(path.trim());
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            request = request.header(name.trim(), value.trim());
        }
    }
    // What an HTTP parser would refuse never reaches the application.
    let Ok(request) = request.body(Body::from(body.to_string())) else {
        return;
    };
    let response = app
        .runtime
        .block_on(app.router.clone().oneshot(request))
        .unwrap();
    assert_ne!(
        response.status().as_u16(),
        500,
        "an internal error for outside input: {text:?}"
    );
}
