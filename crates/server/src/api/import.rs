//! `/api/v1/admin/import/…`: accounts and hardware OATH tokens from CSV (the request body, as
//! `text/csv`), with a report per row. A bad row does not stop the others.

use super::admin::AdminAccess;
use crate::AppState;
use crate::error::{ApiError, ApiJson, ErrorBody, message};
use crate::i18n::Tr;
use axum::extract::rejection::StringRejection;
use axum::extract::{DefaultBodyLimit, State};
use serde::Serialize;
use tessera_core::Error;
use tessera_core::admin::Admin;
use tessera_core::import::{self, RowProblem};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A CSV file may be far larger than a JSON request: 10,000 tokens take about a megabyte.
pub const CSV_LIMIT: usize = 8 * 1024 * 1024;
/// Rows per request. Accounts cost a password hash each, so very large files belong to the
/// command line (`tessera import`), which shows progress.
pub const MAX_ROWS: usize = 10_000;

pub fn router() -> OpenApiRouter<crate::AppState> {
    OpenApiRouter::new()
        .routes(routes!(tokens))
        .routes(routes!(accounts))
        .layer(DefaultBodyLimit::max(CSV_LIMIT))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RowResult {
    /// The line in the file (the header is line 1).
    pub line: u64,
    /// The username (`upn`) of the row.
    pub username: String,
    /// `imported` or `failed`.
    pub status: &'static str,
    /// For a token: its pending method, which the person activates with one code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method_id: Option<String>,
    /// For an account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// For an account: the temporary password to hand over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporary_password: Option<String>,
    /// `unreadable`, `bad_field`, `unknown_account`, `username_taken` or `serial_taken`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// What is wrong, in the request's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub imported: usize,
    pub failed: usize,
    pub rows: Vec<RowResult>,
}

/// The text of a row's problem, in the request's language.
pub fn row_message(problem: &RowProblem, tr: &Tr) -> String {
    match problem {
        RowProblem::Field { field, problem } => message(
            &Error::BadRequest {
                field,
                problem: *problem,
            },
            tr,
        ),
        other => tr.get(&format!(
            "import-problem-{}",
            other.code().replace('_', "-")
        )),
    }
}

fn failed(line: u64, username: String, problem: &RowProblem, tr: &Tr) -> RowResult {
    RowResult {
        line,
        username,
        status: "failed",
        method_id: None,
        account_id: None,
        temporary_password: None,
        error: Some(problem.code()),
        field: match problem {
            RowProblem::Field { field, .. } => Some(field),
            _ => None,
        },
        message: Some(row_message(problem, tr)),
    }
}

fn report(rows: Vec<RowResult>) -> ImportReport {
    let imported = rows.iter().filter(|r| r.status == "imported").count();
    ImportReport {
        imported,
        failed: rows.len() - imported,
        rows,
    }
}

/// The file, or why it cannot be read: too large, or not UTF-8.
fn csv_body(body: Result<String, StringRejection>) -> Result<String, ApiError> {
    body.map_err(|r| {
        if r.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::BodyTooLarge
        } else {
            ApiError::Malformed
        }
    })
}

fn too_many<T>(rows: &[T]) -> Result<(), ApiError> {
    if rows.len() > MAX_ROWS {
        return Err(Error::bad("csv", tessera_core::Problem::TooLong { max: MAX_ROWS }).into());
    }
    Ok(())
}

/// Assigns every token of the file to its account.
pub async fn import_tokens(
    admin: &Admin<'_>,
    csv: &str,
    tr: &Tr,
) -> Result<ImportReport, ApiError> {
    let rows = import::parse_tokens(csv)?;
    too_many(&rows)?;
    let mut results = Vec::with_capacity(rows.len());
    for row in rows {
        let outcome = match &row.record {
            Ok(record) => admin.import_token(record).await?,
            Err(problem) => Err(problem.clone()),
        };
        results.push(match outcome {
            Ok(method_id) => RowResult {
                line: row.line,
                username: row.key,
                status: "imported",
                method_id: Some(method_id.to_string()),
                account_id: None,
                temporary_password: None,
                error: None,
                field: None,
                message: None,
            },
            Err(problem) => failed(row.line, row.key, &problem, tr),
        });
    }
    Ok(report(results))
}

/// Creates every account of the file, each with a temporary password.
pub async fn import_accounts(
    admin: &Admin<'_>,
    csv: &str,
    tr: &Tr,
) -> Result<ImportReport, ApiError> {
    let rows = import::parse_accounts(csv)?;
    too_many(&rows)?;
    let mut results = Vec::with_capacity(rows.len());
    for row in rows {
        let outcome = match &row.record {
            Ok(record) => admin.import_account(record).await?,
            Err(problem) => Err(problem.clone()),
        };
        results.push(match outcome {
            Ok((account, password)) => RowResult {
                line: row.line,
                username: account.username.clone(),
                status: "imported",
                method_id: None,
                account_id: Some(account.id.to_string()),
                temporary_password: Some(password.to_string()),
                error: None,
                field: None,
                message: None,
            },
            Err(problem) => failed(row.line, row.key, &problem, tr),
        });
    }
    Ok(report(results))
}

/// Imports hardware OATH TOTP tokens: `upn,serial number,secret key,time interval,
/// manufacturer,model` with a header row; the secret key in Base32, the interval 30 or 60.
/// Each token is assigned to its account as a pending method that the person activates by
/// typing one code from it.
#[utoipa::path(post, path = "/admin/import/tokens", tag = "admin",
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn tokens(
    State(state): State<AppState>,
    access: AdminAccess,
    tr: Tr,
    body: Result<String, StringRejection>,
) -> Result<ApiJson<ImportReport>, ApiError> {
    let admin = access.admin(&state)?;
    let body = csv_body(body)?;
    Ok(ApiJson(import_tokens(&admin, &body, &tr).await?))
}

/// Imports accounts: a header row with `username` (or `upn`), and optionally `display name`,
/// `email`, `admin` (yes/no) and `password` (temporary; generated when empty). Every imported
/// account must change its password at its first sign-in.
#[utoipa::path(post, path = "/admin/import/accounts", tag = "admin",
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn accounts(
    State(state): State<AppState>,
    access: AdminAccess,
    tr: Tr,
    body: Result<String, StringRejection>,
) -> Result<ApiJson<ImportReport>, ApiError> {
    let admin = access.admin(&state)?;
    let body = csv_body(body)?;
    Ok(ApiJson(import_accounts(&admin, &body, &tr).await?))
}
