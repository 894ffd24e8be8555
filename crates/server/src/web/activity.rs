//! "Recent activity": the person's own sign-ins and changes from the audit log, so they can
//! spot one that was not theirs. Each line names the method used where the event has one
//! ("Signed in — Phone (+31 6•••••78)"); a deleted method is named by its kind, from the
//! events that recorded it. Paged, newest first, so a phone never scrolls through hundreds.

use super::view::{MethodView, Stamp, browser, kind_name};
use super::{Page, WebError, ok};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use std::collections::HashMap;
use tessera_core::{AuditAction, AuditEvent, Kind, MethodId};

/// How many events are read: the most the service hands out, and years of a person's
/// sign-ins.
const READ: u32 = 500;

/// Lines per page: a phone's screen or two.
const PER_PAGE: usize = 20;

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
    /// "Page 2 of 5", when there is more than one.
    position: Option<String>,
    newer: Option<String>,
    older: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    page: Option<String>,
}

pub async fn list(
    mut page: Page,
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    let auth = page.full(&state).await?;
    let events = state.tessera.activity(&auth, READ).await?;
    let info = state.tessera.security_info(&auth).await?;
    let methods: HashMap<MethodId, MethodView> = info
        .methods
        .iter()
        .map(|m| (m.id, MethodView::new(m, info.default_method, &page.tr)))
        .collect();
    let kinds = recorded_kinds(&events);
    // The app an event names ("Signed in to Grafana"), from its `client_id`.
    let apps = if super::apps_access::names_an_app(&events) {
        crate::api::me_apps::client_names(&state).await?
    } else {
        HashMap::new()
    };
    let shown: Vec<&AuditEvent> = events
        .iter()
        .filter(|e| !STEPS.contains(&e.action))
        .collect();
    let pages = shown.len().div_ceil(PER_PAGE).max(1);
    let number = q
        .page
        .and_then(|p| p.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let rows = shown
        .iter()
        .skip((number - 1) * PER_PAGE)
        .take(PER_PAGE)
        .map(|e| Row {
            at: Stamp::new(e.at),
            what: super::apps_access::app_event(e, &apps, &page.tr)
                .unwrap_or_else(|| what(e, &methods, &kinds, &page)),
            ip: e.ip.clone().unwrap_or_else(|| page.t("activity-unknown")),
            browser: browser(e.user_agent.as_deref(), &page.tr),
        })
        .collect();
    let link = |n: usize| format!("/activity?page={n}");
    let template = ActivityTemplate {
        page: &page,
        rows,
        position: (pages > 1).then(|| {
            page.tr.args(
                "activity-page-of",
                &[("page", number.to_string()), ("pages", pages.to_string())],
            )
        }),
        newer: (number > 1).then(|| link(number - 1)),
        older: (number < pages).then(|| link(number + 1)),
    };
    Ok(ok(&template))
}

/// The kind of each method the events name it with (added, deleted), so a line about a
/// method deleted since still says what it was.
fn recorded_kinds(events: &[AuditEvent]) -> HashMap<MethodId, Kind> {
    events
        .iter()
        .filter_map(|e| {
            let kind = e.detail.get("kind")?.as_str()?;
            let kind = Kind::ALL.into_iter().find(|k| k.as_str() == kind)?;
            Some((e.method_id?, kind))
        })
        .collect()
}

/// The action in words, with the method it used when there was one.
fn what(
    event: &AuditEvent,
    methods: &HashMap<MethodId, MethodView>,
    kinds: &HashMap<MethodId, Kind>,
    page: &Page,
) -> String {
    let action = action_name(event.action, page);
    let method = event.method_id.and_then(|id| match methods.get(&id) {
        Some(m) => Some(match &m.name {
            Some(name) => page.tr.args(
                "activity-method-named",
                &[("kind", m.kind.clone()), ("name", name.clone())],
            ),
            None => m.kind.clone(),
        }),
        None => kinds.get(&id).map(|k| kind_name(*k, &page.tr)),
    });
    match method {
        Some(method) => page.tr.args(
            "activity-with-method",
            &[("action", action), ("method", method)],
        ),
        None => action,
    }
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
