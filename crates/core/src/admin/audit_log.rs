//! Reading the audit log with filters, and exporting it as JSON lines (one event per line,
//! oldest first, so an export can be appended to a SIEM's archive as it is).

use super::Admin;
use crate::audit::AuditAction;
use crate::error::Result;
use crate::store::admin::{AuditEntry, AuditFilter, AuditPage};
use serde::Serialize;
use time::OffsetDateTime;

/// At most this many events in one page.
pub const PAGE_MAX: u32 = 500;

/// One line of an export.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedEvent {
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub action: &'static str,
    pub account_id: Option<String>,
    pub username: Option<String>,
    pub method_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: serde_json::Value,
}

/// An event as an export line shows it.
pub fn exported(entry: &AuditEntry) -> ExportedEvent {
    let event = &entry.event;
    ExportedEvent {
        username: entry.username.clone(),
        id: event.id.to_string(),
        at: event.at,
        action: event.action.as_str(),
        account_id: event.account_id.map(|a| a.to_string()),
        method_id: event.method_id.map(|m| m.to_string()),
        ip: event.ip.clone(),
        user_agent: event.user_agent.clone(),
        detail: event.detail.clone(),
    }
}

impl Admin<'_> {
    /// Newest first: the page before `before` (a cursor from an earlier page), or the newest.
    pub async fn audit_log(
        &self,
        filter: &AuditFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        Ok(self
            .tessera
            .store
            .audit_page(
                filter,
                AuditPage::NewestFirst { before },
                limit.clamp(1, PAGE_MAX),
            )
            .await?)
    }

    /// Oldest first, from after `after`: the pages of an export. Call
    /// [`Admin::record_audit_export`] once per export.
    pub async fn audit_export_page(
        &self,
        filter: &AuditFilter,
        after: Option<i64>,
    ) -> Result<Vec<AuditEntry>> {
        Ok(self
            .tessera
            .store
            .audit_page(filter, AuditPage::OldestFirst { after }, PAGE_MAX)
            .await?)
    }

    /// An export takes the log out of Tessera's hands, so it is itself recorded.
    pub async fn record_audit_export(&self, filter: &AuditFilter) -> Result<()> {
        let audit = self.audit_with(
            None,
            AuditAction::AuditExported,
            serde_json::json!({
                "account": filter.account.map(|a| a.to_string()),
                "action": filter.action.map(|a| a.as_str()),
                "since": filter.since.map(|t| t.unix_timestamp()),
                "until": filter.until.map(|t| t.unix_timestamp()),
            }),
        );
        Ok(self.tessera.store.append_audit(&audit).await?)
    }
}
