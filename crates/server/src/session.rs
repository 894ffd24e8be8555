//! Sessions over HTTP: the token comes as `Authorization: Bearer …` (API clients) or in the
//! session cookie (browsers); either way it is checked against the store on every request.

use crate::AppState;
use crate::error::ApiError;
use crate::i18n::cookie_value;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, USER_AGENT};
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, SameSite};
use std::convert::Infallible;
use tessera_core::service::Auth;
use tessera_core::{Error, RequestContext};

/// The bearer token or session cookie of a request, if any.
pub fn token_from_parts(parts: &Parts, state: &AppState) -> Option<String> {
    let bearer = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    bearer.or_else(|| cookie_value(parts, state.cookie_name(COOKIE_SESSION)))
}

pub const COOKIE_SESSION: &str = "tessera_session";
pub const COOKIE_FLOW: &str = "tessera_flow";
pub const COOKIE_CSRF: &str = "tessera_csrf";
/// The password reset this browser is in (its flow id).
pub const COOKIE_RESET: &str = "tessera_reset";
/// The OpenID Connect authorization request this browser signs in for (its id).
pub const COOKIE_OIDC: &str = "tessera_oidc";

impl AppState {
    /// Cookie names carry the `__Host-` prefix whenever cookies are `Secure`, so a sibling
    /// subdomain cannot plant them.
    pub fn cookie_name(&self, base: &'static str) -> &'static str {
        if self.config.insecure_loopback() {
            return base;
        }
        match base {
            COOKIE_SESSION => "__Host-tessera_session",
            COOKIE_FLOW => "__Host-tessera_flow",
            COOKIE_CSRF => "__Host-tessera_csrf",
            COOKIE_RESET => "__Host-tessera_reset",
            COOKIE_OIDC => "__Host-tessera_oidc",
            crate::forward_auth::COOKIE_FA_RETURN => "__Host-tessera_fa_return",
            other => other,
        }
    }

    /// An HttpOnly, SameSite=Lax cookie for the whole site; `Secure` except on plain-http
    /// loopback.
    pub fn cookie(&self, base: &'static str, value: String) -> Cookie<'static> {
        Cookie::build((self.cookie_name(base), value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(!self.config.insecure_loopback())
            .build()
    }

    /// A cookie that removes `base`.
    pub fn removal_cookie(&self, base: &'static str) -> Cookie<'static> {
        let mut c = self.cookie(base, String::new());
        c.make_removal();
        c
    }
}

/// A signed-in request (full or registration session); 401 otherwise.
pub struct Authed(pub Auth);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = token_from_parts(parts, state).ok_or(Error::Unauthorized)?;
        Ok(Authed(state.tessera.authenticate(&token).await?))
    }
}

/// A request that may be signed in.
pub struct MaybeAuthed(pub Option<Auth>);

impl FromRequestParts<AppState> for MaybeAuthed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = token_from_parts(parts, state) else {
            return Ok(MaybeAuthed(None));
        };
        match state.tessera.authenticate(&token).await {
            Ok(auth) => Ok(MaybeAuthed(Some(auth))),
            Err(Error::Unauthorized) => Ok(MaybeAuthed(None)),
            Err(e) => Err(e.into()),
        }
    }
}

/// Where a request came from, for the audit log.
pub struct Context(pub RequestContext);

impl<S: Send + Sync> FromRequestParts<S> for Context {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Context(RequestContext {
            language: crate::i18n::request_language(parts),
            ..Context::address_only(parts)
        }))
    }
}

impl Context {
    /// The address and browser alone, without the language (which only messages to the
    /// person use): the audit needs no more, and the forward-auth check runs on every
    /// request of a protected site.
    pub fn address_only(parts: &Parts) -> RequestContext {
        let ip = crate::client_addr::of(&parts.extensions);
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        RequestContext {
            ip,
            user_agent,
            language: None,
        }
    }
}
