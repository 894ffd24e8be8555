//! The admin pages under `/admin`: accounts, the audit log, imports, service credentials. A
//! person who is not an admin gets a 403 page that says only administrators may go there.
//!
//! Every admin page extends `templates/admin/layout.html`, which adds the admin navigation;
//! other areas' admin pages (the policy) extend it too and add their link with [`SECTIONS`].

mod accounts;
mod audit;
mod forward_auth;
mod import;
mod oidc_clients;
mod outbox;
mod radius_clients;
mod services;

use super::{Page, WebError};
use crate::AppState;
use axum::Router;
use axum::response::Redirect;
use axum::routing::get;
use tessera_core::RequestContext;
use tessera_core::admin::Admin;
use tessera_core::service::Auth;

/// The admin navigation: (section, path, translation key).
pub const SECTIONS: [(&str, &str, &str); 9] = [
    ("accounts", "/admin/accounts", "admin-nav-accounts"),
    ("audit", "/admin/audit", "admin-nav-audit"),
    ("import", "/admin/import", "admin-nav-import"),
    (
        "services",
        "/admin/service-credentials",
        "admin-nav-services",
    ),
    ("policy", "/admin/policy", "admin-nav-policy"),
    ("outbox", "/admin/outbox", "admin-nav-outbox"),
    (
        "oidc-clients",
        "/admin/oidc-clients",
        "admin-nav-oidc-clients",
    ),
    (
        "forward-auth",
        "/admin/forward-auth",
        "admin-nav-forward-auth",
    ),
    ("radius", "/admin/radius", "admin-nav-radius"),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/accounts") }))
        .merge(accounts::router())
        .merge(audit::router())
        .merge(import::router())
        .merge(outbox::router())
        .merge(services::router())
        .merge(oidc_clients::router())
        .merge(forward_auth::router())
        .merge(radius_clients::router())
}

/// What the admin layout needs: the page and which section it belongs to.
pub struct AdminNav {
    pub current: &'static str,
}

impl AdminNav {
    pub fn sections(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        &SECTIONS
    }

    pub fn is_current(&self, section: &str) -> bool {
        self.current == section
    }
}

/// A signed-in admin (full session), or a 403 page for anyone else.
pub async fn admin_auth(page: &mut Page, state: &AppState) -> Result<Auth, WebError> {
    let auth = page.full(state).await?;
    state.tessera.admin(&auth, &RequestContext::default())?;
    Ok(auth)
}

/// The admin handle for this request.
pub fn handle<'a>(
    state: &'a AppState,
    auth: &Auth,
    ctx: &RequestContext,
) -> Result<Admin<'a>, WebError> {
    Ok(state.tessera.admin(auth, ctx)?)
}
