//! `/api/v1/admin/audit…`: the audit log, read with filters a page at a time, or exported as
//! JSON lines (one event per line, oldest first) for a SIEM or an archive.

use super::admin::{AdminAccess, EventView};
use crate::AppState;
use crate::error::{ApiError, ApiJson, ApiQuery, ErrorBody};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tessera_core::admin::{Admin, exported};
use tessera_core::audit::{AuditAction, RequestContext};
use tessera_core::service::Auth;
use tessera_core::store::admin::{AuditEntry, AuditFilter};
use tessera_core::{AccountId, Error, Problem, Tessera};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct FilterQuery {
    /// An account id or username (at most 254 characters).
    #[param(max_length = 254)]
    pub account: Option<String>,
    /// One action, e.g. `sign_in_succeeded`.
    pub action: Option<String>,
    /// RFC 3339: events at or after.
    pub since: Option<String>,
    /// RFC 3339: events before.
    pub until: Option<String>,
}

fn time_param(raw: Option<&str>, field: &'static str) -> Result<Option<OffsetDateTime>, Error> {
    raw.map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            OffsetDateTime::parse(v, &Rfc3339).map_err(|_| Error::bad(field, Problem::Invalid))
        })
        .transpose()
}

/// The filter a query asks for; an account may be named by id or username.
pub async fn filter_of(admin: &Admin<'_>, q: &FilterQuery) -> Result<AuditFilter, Error> {
    let account = match q
        .account
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        None => None,
        Some(raw) => match raw.parse::<AccountId>() {
            Ok(id) => Some(id),
            // A username; what is wrong with it is said of the parameter it came in.
            Err(_) => Some(
                admin
                    .account(raw)
                    .await
                    .map_err(|e| match e {
                        Error::BadRequest { problem, .. } => Error::bad("account", problem),
                        other => other,
                    })?
                    .id,
            ),
        },
    };
    let action = match q.action.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        None => None,
        Some(raw) => Some(AuditAction::parse(raw).ok_or(Error::bad("action", Problem::Invalid))?),
    };
    Ok(AuditFilter {
        account,
        action,
        since: time_param(q.since.as_deref(), "since")?,
        until: time_param(q.until.as_deref(), "until")?,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// The `next` of the page before.
    pub before: Option<String>,
    /// At most this many (100 by default, 500 at most).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditListEvent {
    pub id: String,
    pub account_id: Option<String>,
    pub username: Option<String>,
    #[serde(flatten)]
    pub event: EventView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    /// Newest first.
    pub events: Vec<AuditListEvent>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next: Option<String>,
}

fn list_event(entry: &AuditEntry) -> AuditListEvent {
    AuditListEvent {
        id: entry.event.id.to_string(),
        account_id: entry.event.account_id.map(|a| a.to_string()),
        username: entry.username.clone(),
        event: EventView::from(&entry.event),
    }
}

/// The audit log, newest first, with filters.
#[utoipa::path(get, path = "/admin/audit", tag = "admin", params(FilterQuery, PageQuery),
    responses((status = 200, body = AuditList), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    access: AdminAccess,
    ApiQuery(filter): ApiQuery<FilterQuery>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<ApiJson<AuditList>, ApiError> {
    let admin = access.admin(&state)?;
    let filter = filter_of(&admin, &filter).await?;
    let before = page
        .before
        .as_deref()
        .map(|b| b.trim().parse::<i64>())
        .transpose()
        .map_err(|_| Error::bad("before", Problem::Invalid))?;
    let limit = page.limit.unwrap_or(100).clamp(1, 500);
    let entries = admin.audit_log(&filter, before, limit).await?;
    let next = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| e.cursor.to_string()))
        .flatten();
    Ok(ApiJson(AuditList {
        events: entries.iter().map(list_event).collect(),
        next,
    }))
}

/// What a streamed export needs between pages.
struct Export {
    tessera: Arc<Tessera>,
    auth: Auth,
    ctx: RequestContext,
    filter: AuditFilter,
    after: Option<i64>,
    done: bool,
}

impl Export {
    /// The next page as JSON lines, or `None` at the end.
    async fn next_page(mut self) -> Option<(Result<String, Error>, Self)> {
        if self.done {
            return None;
        }
        let page = match self.tessera.admin(&self.auth, &self.ctx) {
            Ok(admin) => admin.audit_export_page(&self.filter, self.after).await,
            Err(e) => Err(e),
        };
        let entries = match page {
            Ok(entries) => entries,
            Err(e) => {
                self.done = true;
                return Some((Err(e), self));
            }
        };
        if entries.is_empty() {
            return None;
        }
        self.after = entries.last().map(|e| e.cursor);
        let mut lines = String::new();
        for entry in &entries {
            if let Ok(line) = serde_json::to_string(&exported(entry)) {
                lines.push_str(&line);
                lines.push('\n');
            }
        }
        Some((Ok(lines), self))
    }
}

/// The audit log as JSON lines (`application/x-ndjson`), oldest first, with the same
/// filters. The export itself is an audit event.
#[utoipa::path(get, path = "/admin/audit/export", tag = "admin", params(FilterQuery),
    responses((status = 200, content_type = "application/x-ndjson", description = "One event per line"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn export(
    State(state): State<AppState>,
    access: AdminAccess,
    ApiQuery(q): ApiQuery<FilterQuery>,
) -> Result<Response, ApiError> {
    let filter = {
        let admin = access.admin(&state)?;
        let filter = filter_of(&admin, &q).await?;
        admin.record_audit_export(&filter).await?;
        filter
    };
    let (auth, ctx) = access.into_parts();
    Ok(export_response(state.tessera.clone(), auth, ctx, filter))
}

/// Streams the export: a page is read only when the client has taken the one before.
pub fn export_response(
    tessera: Arc<Tessera>,
    auth: Auth,
    ctx: RequestContext,
    filter: AuditFilter,
) -> Response {
    let start = Export {
        tessera,
        auth,
        ctx,
        filter,
        after: None,
        done: false,
    };
    let stream = futures_util::stream::unfold(start, Export::next_page);
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"tessera-audit.jsonl\""),
    );
    response
}
