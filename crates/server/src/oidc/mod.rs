//! Tessera as an OpenID Connect provider over HTTP (docs/design/oidc.md): the protocol
//! endpoints around the rules in `tessera_core::oidc`.
//!
//! - [`discovery`]: `/.well-known/openid-configuration` and the JWKS.
//! - [`authorize`]: the authorization endpoint, its return after sign-in, and the consent page.
//! - [`token`]: the token endpoint, UserInfo, revocation and introspection; called by other
//!   servers, so they answer OAuth's JSON errors and are outside the browsers' origin check.
//! - [`logout`]: RP-initiated logout and its confirmation page; [`backchannel`]: telling
//!   clients, server to server, that a session ended.
//!
//! These are protocol endpoints with their own specifications, so they stay out of the JSON
//! API's OpenAPI document.

mod authorize;
mod backchannel;
mod discovery;
mod logout;
mod token;

pub use authorize::return_after_sign_in;
pub use backchannel::spawn as spawn_backchannel_logout;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub const AUTHORIZE_PATH: &str = "/oidc/authorize";
pub const CONTINUE_PATH: &str = "/oidc/authorize/continue";
pub const CONSENT_PATH: &str = "/oidc/consent";
pub const TOKEN_PATH: &str = "/oidc/token";
pub const USERINFO_PATH: &str = "/oidc/userinfo";
pub const REVOKE_PATH: &str = "/oidc/revoke";
pub const INTROSPECT_PATH: &str = "/oidc/introspect";
pub const JWKS_PATH: &str = "/oidc/jwks";
/// RP-initiated logout (`end_session_endpoint`), and its confirmation form's target.
pub const LOGOUT_PATH: &str = "/oidc/logout";
pub const CONFIRM_PATH: &str = "/oidc/logout/confirm";

/// Paths other servers (and other sites' pages, for the authorization request) call: they
/// authenticate with client credentials or a bearer token, never the session cookie, so the
/// browsers' origin check (`csrf::check_origin`) does not apply to them.
/// The logout endpoint is posted to by clients' pages too; it only redirects to its `GET`,
/// which asks before it ends anything.
pub const CROSS_ORIGIN_PATHS: [&str; 6] = [
    AUTHORIZE_PATH,
    TOKEN_PATH,
    USERINFO_PATH,
    REVOKE_PATH,
    INTROSPECT_PATH,
    LOGOUT_PATH,
];

/// The endpoints that answer other servers (no page, no CSRF cookie).
pub fn protocol_router() -> Router<AppState> {
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::configuration),
        )
        .route(JWKS_PATH, get(discovery::jwks))
        .route(TOKEN_PATH, post(token::token))
        .route(USERINFO_PATH, get(token::userinfo).post(token::userinfo))
        .route(REVOKE_PATH, post(token::revoke))
        .route(INTROSPECT_PATH, post(token::introspect))
}

/// The endpoints a browser visits (pages, forms with the CSRF token): merged into the pages'
/// router, so they share its error pages and CSRF cookie.
pub fn page_router() -> Router<AppState> {
    Router::new()
        .route(
            AUTHORIZE_PATH,
            get(authorize::authorize_get).post(authorize::authorize_post),
        )
        .route(CONTINUE_PATH, get(authorize::resume))
        .route(CONSENT_PATH, post(authorize::consent))
        .route(
            LOGOUT_PATH,
            get(logout::logout_get).post(logout::logout_post),
        )
        .route(CONFIRM_PATH, post(logout::confirm))
}

/// The `login_hint` of the authorization request a sign-in is for (named by the
/// `tessera_oidc` cookie), to fill in the sign-in form's username.
pub async fn login_hint(
    state: &AppState,
    jar: &axum_extra::extract::cookie::CookieJar,
) -> Option<String> {
    let id = jar
        .get(state.cookie_name(crate::session::COOKIE_OIDC))?
        .value()
        .trim()
        .parse()
        .ok()?;
    state.tessera.oidc_request(id).await.ok()?.login_hint
}

/// The issuer: the public URL without a trailing slash.
pub fn issuer(state: &AppState) -> String {
    state.config.public_url.trim_end_matches('/').to_string()
}
