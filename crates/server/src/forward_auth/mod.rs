//! Forward authentication (issue #16): a reverse proxy asks [`check`]'s endpoint about every
//! request to a protected site, and a person without a forward-auth cookie goes through
//! [`start`]'s page, which signs them in on Tessera's own pages and sends them back with one.
//!
//! Two cookies, two jobs (docs/design/forward-auth.md): Tessera's own session cookie stays
//! `__Host-` (this host only, no `Domain`), and the forward-auth cookie, which every site
//! under the configured domain sees, holds a token of its own: it answers only the
//! forward-auth endpoint, and ends with the session it was issued for.

pub mod check;
pub mod start;

pub use start::return_after_sign_in;

use crate::AppState;
use axum::Router;
use axum::routing::get;
use axum_extra::extract::cookie::{Cookie, SameSite};
use tessera_core::forward_auth::DomainPattern;
use utoipa_axum::router::OpenApiRouter;

/// The forward-auth cookie (`__Secure-` when the public URL is `https`).
pub const COOKIE_FA: &str = "tessera_fa";
const COOKIE_FA_SECURE: &str = "__Secure-tessera_fa";
/// Where the browser goes back to after signing in (the URL in base64url: a cookie's value
/// cannot hold every character a URL can).
pub const COOKIE_FA_RETURN: &str = "tessera_fa_return";
/// The start page, as the proxy's redirect and the sign-in's way back name it.
pub const START_PATH: &str = "/forward-auth/start";
/// The check, as the proxy calls it (`/authz/forward-auth` in the API's document).
pub const CHECK_PATH: &str = "/api/v1/authz/forward-auth";

/// The endpoint in the API's OpenAPI document only: it is served outside the API's nest
/// (see `crate::router`), at [`CHECK_PATH`].
pub fn api_router() -> OpenApiRouter<AppState> {
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(check::forward_auth))]
    struct CheckDoc;
    OpenApiRouter::with_openapi(<CheckDoc as utoipa::OpenApi>::openapi())
}

/// The start page, among the pages.
pub fn pages_router() -> Router<AppState> {
    Router::new().route(START_PATH, get(start::start))
}

impl AppState {
    /// The forward-auth cookie's name: `__Secure-` over `https`, so no plain-http page of a
    /// sibling host can set it.
    pub fn fa_cookie_name(&self) -> &'static str {
        if self.config.is_https() {
            COOKIE_FA_SECURE
        } else {
            COOKIE_FA
        }
    }

    /// The forward-auth cookie: HttpOnly, SameSite=Lax, for the configured domain (else this
    /// host), `Secure` over `https`.
    pub fn fa_cookie(&self, token: String) -> Cookie<'static> {
        let mut cookie = Cookie::build((self.fa_cookie_name(), token))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.config.is_https())
            .build();
        if let Some(domain) = &self.config.forward_auth_cookie_domain {
            cookie.set_domain(domain.clone());
        }
        cookie
    }

    /// The configured cookie domain and the hosts under it, as return URLs may name them.
    pub fn fa_cookie_domains(&self) -> Vec<DomainPattern> {
        let Some(domain) = &self.config.forward_auth_cookie_domain else {
            return Vec::new();
        };
        [domain.clone(), format!("*.{domain}")]
            .iter()
            .filter_map(|d| DomainPattern::parse(d))
            .collect()
    }
}

/// `/forward-auth/start?rd=<url>`.
pub fn start_url(rd: &str) -> String {
    let query = serde_urlencoded::to_string([("rd", rd)]).unwrap_or_default();
    format!("{START_PATH}?{query}")
}
