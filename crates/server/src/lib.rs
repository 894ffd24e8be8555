//! Tessera's HTTP server: the JSON API (`api/`), the server-rendered pages (`web/`), and what
//! they share: sessions, CSRF, security headers, errors, translations.
//!
//! The server receives a [`Tessera`] service built on some `dyn Store`; it never names SQLite
//! or PostgreSQL.

pub mod api;
pub mod client_addr;
pub mod config;
pub mod cors;
pub mod csrf;
pub mod delivery;
pub mod directory;
pub mod error;
pub mod fields;
pub mod forward_auth;
pub mod headers;
pub mod i18n;
pub mod limits;
pub mod long_poll;
pub mod oidc;
pub mod ops;
pub mod passwords;
pub mod push_wakeup;
pub mod qr;
pub mod radius;
pub mod session;
pub mod tls;
pub mod web;

pub use config::ServerConfig;
pub use passwords::BlockingPasswords;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::get;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tessera_core::Tessera;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub tessera: Arc<Tessera>,
    pub config: Arc<ServerConfig>,
    /// Per-address limits on credential requests; `None` when turned off.
    pub limits: Option<Arc<limits::IpLimits>>,
    /// `/readyz`'s cached directory check (`ops::DirectoryCheck`).
    pub directory_check: Arc<ops::DirectoryCheck>,
}

impl AppState {
    pub fn new(tessera: Arc<Tessera>, config: ServerConfig) -> Self {
        ops::metrics_handle();
        // reqwest and lettre share rustls's ring provider; tests' clients need it too.
        delivery::install_crypto();
        if let Err(e) = tessera.set_public_url(&config.public_url) {
            tracing::warn!(error = %e, "security keys are unavailable");
        }
        Self {
            tessera,
            limits: limits::IpLimits::new(config.sign_in_limit_per_minute).map(Arc::new),
            directory_check: Arc::default(),
            config: Arc::new(config),
        }
    }
}

/// How long one request may take before it is answered 503; no gateway or store call may
/// hang a person's request longer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long connections may take to finish after the shutdown signal. Every request is
/// answered within [`REQUEST_TIMEOUT`]; what is still open after that is an idle connection
/// whose client does not answer the close (HTTP/2's GOAWAY waits for a ping's answer), and
/// it must not hold up a stop until the service manager kills the process.
const DRAIN: Duration = Duration::from_secs(REQUEST_TIMEOUT.as_secs() + 5);

/// The whole application: API, pages, operations endpoints, and the middleware around them.
pub fn router(state: AppState) -> axum::Router {
    let (api, _) = api::router();
    let api = api
        .layer(middleware::from_fn_with_state(state.clone(), limits::api))
        .layer(middleware::from_fn(error::translate_api_errors));
    let web = web::router()
        .merge(forward_auth::pages_router())
        .layer(middleware::from_fn_with_state(state.clone(), limits::pages))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            csrf::ensure_csrf_cookie,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            oidc::return_after_sign_in,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            forward_auth::return_after_sign_in,
        ));
    if csrf::Origin::of(&state.config.public_url).is_none() {
        tracing::warn!(url = %state.config.public_url, "the public URL is not an http(s) origin: browsers' posts that name their origin are refused");
    }
    axum::Router::new()
        // The forward-auth check answers every request of a protected site: it skips the
        // API's nest and its rate limit (it checks no credential anyone types), keeping only
        // the translation of its errors. The API's router has it in its document only.
        .route(
            forward_auth::CHECK_PATH,
            get(forward_auth::check::forward_auth)
                .layer(middleware::from_fn(error::translate_api_errors)),
        )
        .nest("/api/v1", api)
        .merge(web)
        .merge(oidc::protocol_router())
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route_layer(middleware::from_fn(ops::note_route))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            csrf::check_origin,
        ))
        .layer(middleware::from_fn(ops::track))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            headers::security_headers,
        ))
        .layer(middleware::from_fn(cors::device_api))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::new())
        // Outermost: every layer and handler inside reads the client's address from it.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            client_addr::resolve,
        ))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, None, state, shutdown).await
}

/// [`serve`], over TLS when `tls` is given (see `tls`): HTTP/1.1 or HTTP/2 as ALPN chose.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let wakeups = push_wakeup::spawn(
        state.tessera.clone(),
        push_wakeup::web_push::Sender::new(&state.config),
    );
    let backchannel = oidc::spawn_backchannel_logout(state.clone());
    let gateways = delivery::Gateways::new(
        state.config.delivery.clone(),
        &state.config.public_url,
        &state.config.organization,
    )
    .map_err(std::io::Error::other)?;
    let sender = delivery::spawn_worker(state.tessera.clone(), std::sync::Arc::new(gateways));
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        shutdown.await;
        let _ = stopping.send(());
    };
    let serving = async move {
        match tls {
            None => {
                axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
            }
            Some(config) => {
                use axum::serve::ListenerExt;
                // `tap_io` only so axum hands the peer's address to `ConnectInfo`.
                let listener = tls::TlsListener::new(listener, config)?.tap_io(|_| {});
                axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
            }
        }
    };
    let drained = async move {
        if stopped.await.is_err() {
            return std::future::pending().await;
        }
        tokio::time::sleep(DRAIN).await;
        tracing::warn!(
            seconds = DRAIN.as_secs(),
            "connections still open after the shutdown signal: closing them"
        );
    };
    let served = tokio::select! {
        served = serving => served,
        () = drained => Ok(()),
    };
    wakeups.abort();
    backchannel.abort();
    sender.stop().await;
    served
}
