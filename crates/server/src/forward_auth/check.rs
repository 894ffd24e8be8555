//! `GET /api/v1/authz/forward-auth`: the proxy's question about one request.
//!
//! The URL asked about comes from `X-Original-URL` (nginx) or `X-Forwarded-Proto`, `-Host`
//! and `-Uri` (Traefik, Caddy); the forward-auth cookie from the request's own `Cookie`
//! header, which the proxy passes on. `200` with the `Remote-*` headers lets the request
//! through; `401` (or, with `?redirect=1`, a `302` to the start page) asks for a sign-in;
//! `403` refuses it.

use super::start_url;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::i18n::{Tr, cookie_value};
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tessera_core::forward_auth::{Checked, RemoteUser, RequestError, Requested, Verdict};
use tessera_core::{Error, Problem};
use utoipa::IntoParams;

use crate::session::Context;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckQuery {
    /// `1`: answer a missing sign-in with a `302` to Tessera (Traefik, Caddy) instead of
    /// `401` (nginx, which redirects on its own).
    #[serde(default)]
    pub redirect: Option<String>,
}

/// The headers a proxy passes to the protected site.
pub const REMOTE_USER: HeaderName = HeaderName::from_static("remote-user");
pub const REMOTE_NAME: HeaderName = HeaderName::from_static("remote-name");
pub const REMOTE_EMAIL: HeaderName = HeaderName::from_static("remote-email");
pub const REMOTE_GROUPS: HeaderName = HeaderName::from_static("remote-groups");

/// Asks whether a request to a protected site may pass.
#[utoipa::path(get, path = "/authz/forward-auth", tag = "forward-auth",
    params(
        CheckQuery,
        ("X-Original-URL" = Option<String>, Header, description = "The URL requested (nginx)"),
        ("X-Forwarded-Proto" = Option<String>, Header, description = "Its scheme (Traefik, Caddy)"),
        ("X-Forwarded-Host" = Option<String>, Header, description = "Its host"),
        ("X-Forwarded-Uri" = Option<String>, Header, description = "Its path and query"),
        ("Cookie" = Option<String>, Header, description = "The browser's cookies, with the forward-auth cookie"),
    ),
    responses(
        (status = 200, description = "Let it through", headers(
            ("Remote-User" = String, description = "The username (not for a bypass rule)"),
            ("Remote-Name" = String, description = "The display name"),
            ("Remote-Email" = String, description = "The email address, if the account has one"),
            ("Remote-Groups" = String, description = "Comma-separated groups"))),
        (status = 302, description = "Sign in first (with `redirect=1`)", headers(
            ("Location" = String, description = "Tessera's start page, back to the URL after"))),
        (status = 400, body = ErrorBody, description = "The proxy sent no URL, or an ambiguous one"),
        (status = 401, body = ErrorBody, description = "Sign in first", headers(
            ("Location" = String, description = "Tessera's start page, back to the URL after (for nginx's `error_page 401`)"))),
        (status = 403, body = ErrorBody, description = "This person may not, or no rule protects the URL"),
    ))]
pub async fn forward_auth(
    State(state): State<AppState>,
    Query(q): Query<CheckQuery>,
    // The request itself, not its parts: those would be copied, headers and all, on every
    // check.
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, _) = request.into_parts();
    let ctx = Context::address_only(&parts);
    let requested = requested(&parts.headers).map_err(|_| Error::bad("url", Problem::Invalid))?;
    let token = cookie_value(&parts, state.fa_cookie_name());
    let Checked { verdict, user } = state
        .tessera
        .forward_auth_check(&requested, token.as_deref(), &ctx)
        .await?;
    let mut response = match verdict {
        Verdict::Allow { .. } => allowed(user.as_ref()),
        Verdict::SignIn { .. } | Verdict::StepUp { .. } => {
            let redirect = q
                .redirect
                .as_deref()
                .is_some_and(|r| r == "1" || r == "true");
            // nginx cannot URL-encode the URL to come back to, so the 401 carries the start
            // page already encoded (`auth_request_set … $upstream_http_location`).
            let mut r = match redirect {
                true => StatusCode::FOUND.into_response(),
                false => ApiError::from(Error::Unauthorized).into_response(),
            };
            let to = format!(
                "{}{}",
                state.config.public_url.trim_end_matches('/'),
                start_url(&requested.url)
            );
            if let Ok(v) = HeaderValue::from_str(&to) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        Verdict::Forbidden { .. } | Verdict::NoRule => {
            let tr = Tr::from_parts(&parts);
            let body = ErrorBody {
                error: "not_allowed",
                message: tr.get("forward-auth-denied"),
                retry_after: None,
                field: None,
            };
            (StatusCode::FORBIDDEN, axum::Json(body)).into_response()
        }
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The URL the proxy asks about: nginx's one header, else the three of Traefik and Caddy.
fn requested(headers: &HeaderMap) -> Result<Requested, RequestError> {
    let text = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().map_err(|_| RequestError::Malformed))
            .transpose()
    };
    if let Some(url) = text("x-original-url")? {
        return Requested::from_url(url.trim());
    }
    match (
        text("x-forwarded-proto")?,
        text("x-forwarded-host")?,
        text("x-forwarded-uri")?,
    ) {
        (Some(proto), Some(host), uri) => {
            Requested::from_parts(proto.trim(), host.trim(), uri.unwrap_or("/").trim())
        }
        _ => Err(RequestError::Missing),
    }
}

fn allowed(user: Option<&RemoteUser>) -> Response {
    let mut response = StatusCode::OK.into_response();
    let Some(user) = user else {
        return response;
    };
    let h = response.headers_mut();
    let mut put = |name: HeaderName, value: &str| {
        // UTF-8 passes as it is (as Authelia sends it); a control character cannot.
        if let Ok(v) = HeaderValue::from_bytes(value.as_bytes()) {
            h.insert(name, v);
        }
    };
    put(REMOTE_USER, &user.username);
    put(REMOTE_NAME, &user.display_name);
    if let Some(email) = &user.email {
        put(REMOTE_EMAIL, email);
    }
    put(REMOTE_GROUPS, &user.groups.join(","));
    response
}
