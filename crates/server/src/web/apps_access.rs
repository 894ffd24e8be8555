//! "Apps with access" on the security info pages: the third-party apps the person allowed to
//! use their account, what each may see, since when, and a button to take the access back
//! (which also ends every token the app holds for them). Also the words for an app's scopes
//! and for the activity lines that name an app, which the admin pages use too.

use super::{Page, WebError, ok, posted};
use crate::AppState;
use crate::api::me_apps::{AppAccess, named};
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::i18n::Tr;
use crate::session::Context;
use crate::web::view::Stamp;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use std::collections::HashMap;
use tessera_core::{AuditAction, AuditEvent};

pub const PATH: &str = "/security-info/apps";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(list))
        .route("/security-info/apps/{client_id}/remove", post(remove))
}

/// One app on a page: its name, what it may see in words, since when, and where its
/// "Remove access" form posts (the person's page or the admin's; `templates/_apps.html`).
pub struct AppRow {
    pub name: String,
    pub scopes: Vec<String>,
    pub granted: Stamp,
    pub remove_action: String,
}

impl AppRow {
    /// `base`: the path the app's client id and `/remove` follow.
    pub fn new(app: &AppAccess, tr: &Tr, base: &str) -> Self {
        AppRow {
            remove_action: format!("{base}/{}/remove", app.client_id),
            name: app.name.clone(),
            scopes: scope_words(&app.scopes, tr),
            granted: Stamp::new(app.granted_at),
        }
    }
}

/// The scopes in words. `openid` goes without saying (every app signs the person in); a
/// scope without words of its own is shown as it is.
pub fn scope_words(scopes: &[String], tr: &Tr) -> Vec<String> {
    scopes
        .iter()
        .filter(|s| *s != "openid")
        .map(|s| {
            let key = format!("apps-scope-{}", s.replace('_', "-"));
            if tr.has(&key) {
                tr.get(&key)
            } else {
                s.clone()
            }
        })
        .collect()
}

/// The actions whose events name an app (`client_id` in their detail).
const APP_ACTIONS: [AuditAction; 4] = [
    AuditAction::OidcAuthorized,
    AuditAction::OidcTokensIssued,
    AuditAction::OidcConsentGranted,
    AuditAction::OidcConsentRevoked,
];

/// "Signed in to Grafana" for an event about an app that is still registered; `None` for
/// any other event (or an app removed since), which keeps its general wording.
pub fn app_event(event: &AuditEvent, names: &HashMap<String, String>, tr: &Tr) -> Option<String> {
    if !APP_ACTIONS.contains(&event.action) {
        return None;
    }
    let id = event.detail.get("client_id")?.as_str()?;
    let name = names.get(id)?;
    // Each of APP_ACTIONS has its line in oidc_pages.ftl.
    let key = format!("activity-app-{}", event.action.as_str());
    Some(tr.with(&key, "app", name))
}

/// Whether any of `events` names an app, so a page reads the clients only when it needs them.
pub fn names_an_app(events: &[AuditEvent]) -> bool {
    events.iter().any(|e| APP_ACTIONS.contains(&e.action))
}

#[derive(Template)]
#[template(path = "apps_access.html")]
struct ListTemplate<'a> {
    page: &'a Page,
    apps: Vec<AppRow>,
    done: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn list(
    mut page: Page,
    State(state): State<AppState>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let auth = page.full(&state).await?;
    let consents = state.tessera.oidc_consents(&auth).await?;
    let apps = named(&state, consents)
        .await?
        .iter()
        .map(|a| AppRow::new(a, &page.tr, PATH))
        .collect();
    let done = (q.done.as_deref() == Some("removed")).then(|| page.t("apps-removed"));
    Ok(ok(&ListTemplate {
        page: &page,
        apps,
        done,
    }))
}

#[derive(Deserialize)]
pub struct EmptyForm {}

async fn remove(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(client_id): Path<String>,
    form: Result<CsrfForm<EmptyForm>, ApiError>,
) -> Result<Response, WebError> {
    posted(form)?;
    let auth = page.full(&state).await?;
    state
        .tessera
        .oidc_revoke_consent(&auth, client_id.trim(), &ctx)
        .await?;
    Ok(Redirect::to(&format!("{PATH}?done=removed")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tessera_core::RequestContext;

    #[test]
    fn scopes_are_said_in_words_and_openid_goes_without_saying() {
        let scopes: Vec<String> = ["openid", "profile", "offline_access", "calendar"]
            .map(String::from)
            .into();
        assert_eq!(
            scope_words(&scopes, &Tr::for_tag("nl")),
            ["je naam", "aangemeld blijven (offline toegang)", "calendar"]
        );
    }

    #[test]
    fn an_event_about_an_app_names_it_while_it_is_registered() {
        let event = |action| {
            AuditEvent::new(
                &tessera_core::OsRandom,
                time::OffsetDateTime::UNIX_EPOCH,
                &RequestContext::default(),
                None,
                action,
            )
            .detail(json!({ "client_id": "c1" }))
        };
        let names = HashMap::from([("c1".to_string(), "Grafana".to_string())]);
        let en = Tr::english();
        assert_eq!(
            app_event(&event(AuditAction::OidcAuthorized), &names, &en).as_deref(),
            Some("Signed in to Grafana")
        );
        assert_eq!(
            app_event(
                &event(AuditAction::OidcAuthorized),
                &names,
                &Tr::for_tag("nl")
            )
            .as_deref(),
            Some("Aangemeld bij Grafana")
        );
        assert_eq!(
            app_event(&event(AuditAction::OidcAuthorized), &HashMap::new(), &en),
            None
        );
        assert_eq!(
            app_event(&event(AuditAction::SignInSucceeded), &names, &en),
            None
        );
    }
}
