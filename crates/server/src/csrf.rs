//! CSRF protection for the pages' forms, in two layers. Every non-GET request must pass
//! `tower_http`'s `Sec-Fetch-Site`/`Origin` check (set up in `lib.rs`), and every form must
//! also carry the token from the CSRF cookie (double submit, `__Host-` prefixed when
//! `Secure`), compared in constant time. The token is renewed at sign-in.

use crate::AppState;
use crate::error::ApiError;
use crate::i18n::cookie_value;
use crate::session::COOKIE_CSRF;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use serde::de::DeserializeOwned;
use std::convert::Infallible;
use tessera_core::random::{self, Random};
use tessera_core::secret::ct_eq;

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
