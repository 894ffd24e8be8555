//! The Tessera authenticator as a web app (PWA) under `/authenticator/`: the page, its web
//! app manifest, its service worker and its messages. The app itself is plain ES modules in
//! `static/authenticator/` (no framework, no build step); it speaks the device protocol of
//! docs/design/push-protocol.md from the browser, with its keys in IndexedDB.
//!
//! The QR code of the setup page opens `/authenticator/#activate=<code>`: a fragment never
//! reaches the server, so the code stays out of logs and `Referer` headers.
//!
//! Everything here is the same for every person (no session is read), so the service worker
//! may keep it for offline use. The page is rendered in the request's language; the scripts'
//! words come from `messages.json`, built from the same catalog.

mod files;

use crate::AppState;
use crate::i18n::{LANGUAGES, Tr};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// Where the app lives: its scope, start URL and the service worker's folder.
pub const SCOPE: &str = "/authenticator/";

/// The app's CSP: the site's, plus what a web app needs. `connect-src` reaches any https
/// Tessera (one app may hold accounts of several servers, whose device API answers CORS)
/// and loopback for development; `manifest-src` and `worker-src` for installing it.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
     connect-src 'self' https: http://localhost:* http://127.0.0.1:* http://[::1]:*; \
     manifest-src 'self'; worker-src 'self'";

/// The catalog's messages for the scripts start with this; `messages.json` drops it.
const SCRIPT_PREFIX: &str = "webapp-js-";
/// The English catalog of the app: the list of the scripts' messages.
const CATALOG: &str = include_str!("../../../locales/en/authenticator_web.ftl");

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/authenticator",
            get(|| async { Redirect::permanent(SCOPE) }),
        )
        .route(SCOPE, get(page))
        .route("/authenticator/manifest.webmanifest", get(manifest))
        .route("/authenticator/messages.json", get(messages))
        .route("/authenticator/sw.js", get(service_worker))
        .route("/authenticator/{file}", get(file))
}

#[derive(Template)]
#[template(path = "authenticator_web.html")]
struct AppPage {
    tr: Tr,
    css_href: String,
    icon_href: String,
    lang_query: String,
    script_version: String,
    /// The public URL is https (or loopback http for development): keys, offline use and
    /// notifications work. Browsers keep WebCrypto and service workers from other pages.
    secure: bool,
}

impl AppPage {
    fn t(&self, key: &str) -> String {
        self.tr.get(key)
    }
}

/// `?lang=nl`: the language of a resource the page links (the service worker keeps one
/// copy per language); without it, the request's language.
#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

fn language(q: &LangQuery, tr: Tr) -> Tr {
    match q.lang.as_deref() {
        Some(tag) if LANGUAGES.iter().any(|(c, _)| *c == tag) => Tr::for_tag(tag),
        _ => tr,
    }
}

/// Headers of every app response: its CSP, and how long it may be kept.
fn app_headers(response: &mut Response, content_type: &'static str, cache: &'static str) {
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
}

async fn page(State(state): State<AppState>, tr: Tr) -> Response {
    let template = AppPage {
        lang_query: format!("lang={}", tr.code()),
        tr,
        css_href: format!("/static/tessera.css?v={:016x}", super::assets::CSS_HASH),
        icon_href: format!("{SCOPE}icon.svg"),
        script_version: files::version(),
        secure: state.config.is_https() || state.config.insecure_loopback(),
    };
    let mut response = match template.render() {
        Ok(body) => Html(body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    // Revalidated each time online: a new version, or another language, shows at once.
    app_headers(&mut response, "text/html; charset=utf-8", "no-cache");
    response.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    response
}

/// The web app manifest: what "Install" and "Add to Home Screen" read.
async fn manifest(Query(q): Query<LangQuery>, tr: Tr) -> Response {
    let tr = language(&q, tr);
    let icon = |src: &str, sizes: &str, kind: &str, purpose: &str| json!({"src": format!("{SCOPE}{src}"), "sizes": sizes, "type": kind, "purpose": purpose});
    let body = json!({
        "id": SCOPE,
        "name": tr.get("webapp-title"),
        "short_name": tr.get("webapp-short-name"),
        "description": tr.get("webapp-description"),
        "lang": tr.code(),
        "dir": "ltr",
        "start_url": SCOPE,
        "scope": SCOPE,
        "display": "standalone",
        "orientation": "any",
        "background_color": "#f5f7fa",
        "theme_color": "#1f4e8c",
        "icons": [
            icon("icon-192.png", "192x192", "image/png", "any"),
            icon("icon-512.png", "512x512", "image/png", "any"),
            icon("icon-maskable-512.png", "512x512", "image/png", "maskable"),
            icon("icon.svg", "any", "image/svg+xml", "any"),
        ],
    });
    let mut response = body.to_string().into_response();
    app_headers(&mut response, "application/manifest+json", "no-cache");
    response
}

/// The scripts' words in one language, from the catalog's `webapp-js-` messages. A message
/// with arguments comes as its pattern (`{ $name }`), which the script fills in.
async fn messages(Query(q): Query<LangQuery>, tr: Tr) -> Response {
    let tr = language(&q, tr);
    let mut out = Map::new();
    out.insert("lang".into(), Value::from(tr.code()));
    for (key, text) in script_messages() {
        let short = key.trim_start_matches(SCRIPT_PREFIX).to_string();
        // Each argument given as its own place, so the pattern comes back as written.
        let places: Vec<(&str, String)> = arguments(text)
            .map(|name| (name, format!("{{ ${name} }}")))
            .collect();
        out.insert(short, Value::from(tr.args(key, &places)));
    }
    let mut response = Value::Object(out).to_string().into_response();
    app_headers(
        &mut response,
        "application/json; charset=utf-8",
        "public, max-age=3600",
    );
    response.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    response
}

/// The scripts' messages (key, English text), as the English catalog lists them.
fn script_messages() -> impl Iterator<Item = (&'static str, &'static str)> {
    CATALOG
        .lines()
        .filter_map(|l| l.split_once(" ="))
        .map(|(key, text)| (key.trim(), text))
        .filter(|(key, _)| key.starts_with(SCRIPT_PREFIX))
}

/// The names of a message's arguments: `{ $name }`.
fn arguments(text: &str) -> impl Iterator<Item = &str> {
    text.split("{ $")
        .skip(1)
        .filter_map(|rest| rest.split_once(" }"))
        .map(|(name, _)| name)
}

/// The service worker, from `/authenticator/` so that its scope covers the app. Never kept
/// stale: the browser checks it for a new version (its cache name) on every visit.
async fn service_worker(Query(q): Query<LangQuery>, tr: Tr) -> Response {
    let tr = language(&q, tr);
    let mut response = files::service_worker(tr.code()).into_response();
    app_headers(&mut response, "text/javascript; charset=utf-8", "no-cache");
    response
}

async fn file(Path(name): Path<String>) -> Response {
    let Some((body, content_type)) = files::find(&name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = body.into_response();
    // Revalidated online; offline, the service worker's copy answers.
    app_headers(&mut response, content_type, "no-cache");
    response
}
