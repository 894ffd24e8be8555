//! "Recent activity": the person's own sign-ins and changes from the audit log, so they can
//! spot one that was not theirs.

use super::view::{Stamp, browser};
use super::{Page, WebError, ok};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use tessera_core::AuditAction;

/// How many events the page lists.
const SHOWN: u32 = 50;

/// Steps of a sign-in or a change that the event after them already tells (a code accepted,
/// then "signed in"); failures stay, as they are what a person should notice.
const STEPS: [AuditAction; 2] = [
    AuditAction::SignInPasswordAccepted,
    AuditAction::CodeAccepted,
];

struct Row {
    at: Stamp,
    what: String,
    ip: String,
    browser: String,
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityTemplate<'a> {
    page: &'a Page,
    rows: Vec<Row>,
}

pub async fn list(mut page: Page, State(state): State<AppState>) -> Result<Response, WebError> {
    let auth = page.full(&state).await?;
    let events = state.tessera.activity(&auth, SHOWN).await?;
    let rows = events
        .iter()
        .filter(|e| !STEPS.contains(&e.action))
        .map(|e| Row {
            at: Stamp::new(e.at),
            what: action_name(e.action, &page),
            ip: e.ip.clone().unwrap_or_else(|| page.t("activity-unknown")),
            browser: browser(e.user_agent.as_deref(), &page.tr),
        })
        .collect();
    Ok(ok(&ActivityTemplate { page: &page, rows }))
}

/// The action in words; one added to the audit log before its translation still shows.
fn action_name(action: AuditAction, page: &Page) -> String {
    let key = format!("action-{}", action.as_str());
    if page.tr.has(&key) {
        page.t(&key)
    } else {
        action.as_str().replace('_', " ")
    }
}
