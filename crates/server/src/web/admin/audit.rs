//! The audit log page: filters (account, action, time), newest first, a page at a time, and
//! the export as JSON lines with the same filters.

use super::accounts::action_name;
use super::{AdminNav, admin_auth, handle};
use crate::AppState;
use crate::api::admin_audit::{FilterQuery, export_response, filter_of};
use crate::session::Context;
use crate::web::view::{Stamp, browser};
use crate::web::{Page, WebError, html, ok};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use tessera_core::AuditAction;

const PAGE: u32 = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/audit", get(list))
        .route("/admin/audit/export", get(export))
}

struct Row {
    at: Stamp,
    who: String,
    account_id: Option<String>,
    what: String,
    ip: String,
    browser: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditTemplate<'a> {
    page: &'a Page,
    nav: AdminNav,
    account: String,
    action: String,
    since: String,
    until: String,
    actions: Vec<(&'static str, String)>,
    rows: Vec<Row>,
    /// The query string of this filter, for the export link and the next page.
    filter_query: String,
    older: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    account: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    before: Option<i64>,
}

impl AuditQuery {
    fn filter(&self) -> FilterQuery {
        let some = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        FilterQuery {
            account: some(&self.account),
            action: some(&self.action),
            since: some(&self.since),
            until: some(&self.until),
        }
    }

    fn query_string(&self) -> String {
        serde_urlencoded::to_string([
            ("account", self.account.trim()),
            ("action", self.action.trim()),
            ("since", self.since.trim()),
            ("until", self.until.trim()),
        ])
        .unwrap_or_default()
    }
}

/// The actions to choose from, in words.
fn all_actions(page: &Page) -> Vec<(&'static str, String)> {
    KNOWN
        .iter()
        .filter_map(|name| AuditAction::parse(name))
        .map(|a| (a.as_str(), action_name(a, page)))
        .collect()
}

/// The actions an admin filters by most; any other is typed into the URL.
const KNOWN: [&str; 16] = [
    "sign_in_succeeded",
    "sign_in_password_failed",
    "code_rejected",
    "method_locked",
    "method_added",
    "method_deleted",
    "account_created",
    "account_disabled",
    "account_enabled",
    "temporary_password_set",
    "methods_revoked",
    "temporary_access_pass_issued",
    "hardware_token_assigned",
    "service_verify_accepted",
    "service_verify_rejected",
    "audit_exported",
];

async fn list(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let admin = handle(&state, &auth, &ctx)?;
    let (entries, error) = match filter_of(&admin, &q.filter()).await {
        Ok(filter) => (admin.audit_log(&filter, q.before, PAGE).await?, None),
        Err(e) => (Vec::new(), Some(page.form_error(e)?.1)),
    };
    let older = (entries.len() == PAGE as usize)
        .then(|| entries.last().map(|e| e.cursor))
        .flatten()
        .map(|cursor| format!("{}&before={cursor}", q.query_string()));
    let rows = entries
        .iter()
        .map(|e| Row {
            at: Stamp::new(e.event.at),
            who: e
                .username
                .clone()
                .or_else(|| e.event.detail["username"].as_str().map(str::to_string))
                .unwrap_or_default(),
            account_id: e.event.account_id.map(|a| a.to_string()),
            what: action_name(e.event.action, &page),
            ip: e.event.ip.clone().unwrap_or_default(),
            browser: browser(e.event.user_agent.as_deref(), &page.tr),
            detail: detail_text(&e.event.detail),
        })
        .collect();
    let template = AuditTemplate {
        nav: AdminNav { current: "audit" },
        account: q.account.clone(),
        action: q.action.clone(),
        since: q.since.clone(),
        until: q.until.clone(),
        actions: all_actions(&page),
        rows,
        filter_query: q.query_string(),
        older,
        error: error.clone(),
        page: &page,
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(if status == StatusCode::OK {
        ok(&template)
    } else {
        html(status, &template)
    })
}

/// The event's facts as `key: value` pairs; they never hold secrets.
fn detail_text(detail: &serde_json::Value) -> String {
    match detail.as_object() {
        Some(map) => map
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| match v.as_str() {
                Some(s) => format!("{k}: {s}"),
                None => format!("{k}: {v}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        None => String::new(),
    }
}

async fn export(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let filter = {
        let admin = handle(&state, &auth, &ctx)?;
        let filter = filter_of(&admin, &q.filter()).await?;
        admin.record_audit_export(&filter).await?;
        filter
    };
    Ok(export_response(state.tessera.clone(), auth, ctx, filter))
}
