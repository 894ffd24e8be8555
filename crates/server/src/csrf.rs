//! CSRF protection, in two layers. Every request that may change something (any method but
//! GET, HEAD, OPTIONS and TRACE) must pass [`check_origin`]: a browser's `Sec-Fetch-Site` must
//! say `same-origin` (or `none`, typed by the person); without it, an `Origin` must be the
//! public URL's origin: scheme, host and port, so `http://mfa.example.org` is another origin
//! than `https://mfa.example.org`. A request with neither header is not a browser's
//! cross-site request (API clients, gateways, old browsers' same-origin forms). Every form must also
//! carry the token from the CSRF cookie (double submit, `__Host-` prefixed when `Secure`),
//! compared in constant time; the token is renewed at sign-in.
//!
//! A refusal is `403 csrf`: the API's JSON error under `/api/`, the error page elsewhere,
//! both in the request's language.

use crate::AppState;
use crate::error::ApiError;
use crate::i18n::{Tr, cookie_value};
use crate::session::COOKIE_CSRF;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, Uri, header};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use serde::de::DeserializeOwned;
use std::convert::Infallible;
use tessera_core::random::{self, Random};
use tessera_core::secret::ct_eq;

/// A web origin: scheme, host and port (the default port of the scheme when none is written),
/// compared as browsers compare them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: &'static str,
    host: String,
    port: u16,
}

impl Origin {
    /// The origin of an `http`/`https` URL (a public URL, or an `Origin` header); `None` for
    /// anything else, `null` included.
    pub fn of(url: &str) -> Option<Origin> {
        let uri: Uri = url.trim().parse().ok()?;
        let (scheme, default_port) = match uri.scheme_str()? {
            s if s.eq_ignore_ascii_case("https") => ("https", 443),
            s if s.eq_ignore_ascii_case("http") => ("http", 80),
            _ => return None,
        };
        let host = uri.host().filter(|h| !h.is_empty())?.to_ascii_lowercase();
        Some(Origin {
            scheme,
            host,
            port: uri.port_u16().unwrap_or(default_port),
        })
    }
}

/// Whether a state-changing request may go on: not a browser's request from another origin
/// than `public`. A browser's own `Sec-Fetch-Site` decides when it is sent (it compares
/// scheme, host and port itself; and with `Referrer-Policy: no-referrer` Chromium sends
/// `Origin: null` on a same-origin form). Without it (an old browser, or no browser), an
/// `Origin` must be `public`.
pub fn same_origin(headers: &HeaderMap, public: Option<&Origin>) -> bool {
    let fetch_site = headers
        .get("sec-fetch-site")
        .map(|v| v.as_bytes())
        .filter(|v| !v.is_empty());
    if let Some(site) = fetch_site {
        return site == b"same-origin" || site == b"none";
    }
    match headers.get(header::ORIGIN).filter(|v| !v.is_empty()) {
        None => true,
        Some(origin) => {
            let origin = origin.to_str().ok().and_then(Origin::of);
            origin.is_some() && origin.as_ref() == public
        }
    }
}

/// Refuses a state-changing request from another origin (see the module's header) with
/// `403 csrf`.
pub async fn check_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    let public = Origin::of(&state.config.public_url);
    // OpenID Connect's protocol endpoints are called by other sites and servers, with client
    // credentials or bearer tokens rather than the session cookie.
    // So is the device API (`cors.rs`): a bearer credential and signatures, never a cookie,
    // so another origin's call carries nothing a forged request could ride on.
    let protocol = crate::oidc::CROSS_ORIGIN_PATHS.contains(&request.uri().path())
        || crate::cors::is_device_api(request.uri().path());
    if safe || protocol || same_origin(request.headers(), public.as_ref()) {
        return next.run(request).await;
    }
    tracing::info!(
        method = %request.method(),
        path = request.uri().path(),
        origin = ?request.headers().get(header::ORIGIN),
        "a request from another origin was refused"
    );
    let (mut parts, _) = request.into_parts();
    let path = parts.uri.path();
    if path == "/api" || path.starts_with("/api/") {
        ApiError::Csrf.render(&Tr::from_parts(&parts))
    } else {
        crate::web::error_page(&mut parts, &state, ApiError::Csrf).await
    }
}

/// The CSRF token that forms on this page must carry.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

pub fn new_csrf_token(rng: &dyn Random) -> String {
    data_encoding::BASE64URL_NOPAD.encode(&random::bytes::<32>(rng))
}

/// Makes sure every page request has a CSRF cookie: one is issued when missing, and the
/// value is handed to the handler as a [`CsrfToken`] extension.
pub async fn ensure_csrf_cookie(
    state: axum::extract::State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let existing = cookie_value(&parts, state.cookie_name(COOKIE_CSRF)).filter(|v| v.len() >= 32);
    let token = existing
        .clone()
        .unwrap_or_else(|| new_csrf_token(&tessera_core::OsRandom));
    parts.extensions.insert(CsrfToken(token.clone()));
    request = Request::from_parts(parts, body);
    let mut response = next.run(request).await;
    let already_set = response
        .headers()
        .get_all(axum::http::header::SET_COOKIE)
        .iter()
        .any(|v| {
            v.to_str()
                .is_ok_and(|s| s.starts_with(&format!("{}=", state.cookie_name(COOKIE_CSRF))))
        });
    if existing.is_none() && !already_set {
        let jar = CookieJar::new().add(state.cookie(COOKIE_CSRF, token));
        for cookie in jar.iter() {
            if let Ok(v) = cookie.encoded().to_string().parse() {
                response
                    .headers_mut()
                    .append(axum::http::header::SET_COOKIE, v);
            }
        }
    }
    response
}

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<CsrfToken>()
            .cloned()
            .unwrap_or_else(|| CsrfToken(String::new())))
    }
}

/// A submitted form whose `csrf` field matches the CSRF cookie; 403 otherwise.
pub struct CsrfForm<T>(pub T);

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let cookie = cookie_value(&parts, state.cookie_name(COOKIE_CSRF)).unwrap_or_default();
        let request = Request::from_parts(parts, body);
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|r| {
                if r.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::BodyTooLarge
                } else {
                    ApiError::Malformed
                }
            })?;
        let field: CsrfField =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| ApiError::Malformed)?;
        if cookie.len() < 32 || !ct_eq(cookie.as_bytes(), field.csrf.as_bytes()) {
            return Err(ApiError::Csrf);
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|_| ApiError::Malformed)?;
        Ok(CsrfForm(form))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let public = Origin::of("https://MFA.example.org/");
        assert_eq!(public, Origin::of("https://mfa.example.org:443"));
        for other in [
            "http://mfa.example.org",
            "https://mfa.example.org:8443",
            "https://evil.example",
            "null",
            "mfa.example.org",
        ] {
            assert_ne!(Origin::of(other), public, "{other}");
        }
    }

    #[test]
    fn only_the_public_origin_may_post() {
        let public = Origin::of("https://mfa.example.org");
        let public = public.as_ref();
        let allowed = [
            headers(&[]),
            headers(&[("origin", "https://mfa.example.org")]),
            headers(&[("sec-fetch-site", "same-origin")]),
            headers(&[
                ("sec-fetch-site", "same-origin"),
                ("origin", "https://mfa.example.org"),
            ]),
            // Chromium's same-origin form under `Referrer-Policy: no-referrer`.
            headers(&[("sec-fetch-site", "same-origin"), ("origin", "null")]),
        ];
        for h in &allowed {
            assert!(same_origin(h, public), "{h:?}");
        }
        let refused = [
            headers(&[("origin", "http://mfa.example.org")]),
            headers(&[("origin", "https://mfa.example.org.evil.example")]),
            headers(&[("origin", "null")]),
            headers(&[("sec-fetch-site", "cross-site")]),
            headers(&[("sec-fetch-site", "same-site")]),
            headers(&[
                ("sec-fetch-site", "same-site"),
                ("origin", "http://mfa.example.org"),
            ]),
            headers(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://mfa.example.org"),
            ]),
        ];
        for h in &refused {
            assert!(!same_origin(h, public), "{h:?}");
        }
    }
}
