//! Importing accounts and hardware tokens from CSV on the admin pages: the file's text is
//! pasted (no JavaScript, no multipart parser), and the answer is a report with a line per
//! row, the temporary passwords of new accounts included (shown once).

use super::{AdminNav, admin_auth, handle};
use crate::AppState;
use crate::api::import::{CSV_LIMIT, ImportReport, import_accounts, import_tokens};
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use crate::web::{Page, WebError, html, ok, posted};
use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use tessera_core::Error;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/import", get(form)).route(
        "/admin/import/{what}",
        post(import).layer(DefaultBodyLimit::max(CSV_LIMIT)),
    )
}

#[derive(Template)]
#[template(path = "admin/import.html")]
struct FormTemplate<'a> {
    page: &'a Page,
    nav: AdminNav,
    error: Option<String>,
}

async fn form(mut page: Page, State(state): State<AppState>) -> Result<Response, WebError> {
    admin_auth(&mut page, &state).await?;
    Ok(ok(&FormTemplate {
        page: &page,
        nav: AdminNav { current: "import" },
        error: None,
    }))
}

#[derive(Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    csv: String,
}

#[derive(Template)]
#[template(path = "admin/import_report.html")]
struct ReportTemplate<'a> {
    page: &'a Page,
    nav: AdminNav,
    title: String,
    summary: String,
    report: ImportReport,
    accounts: bool,
}

async fn import(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(what): Path<String>,
    form: Result<CsrfForm<ImportForm>, ApiError>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let form = posted(form)?;
    let admin = handle(&state, &auth, &ctx)?;
    let accounts = match what.as_str() {
        "accounts" => true,
        "tokens" => false,
        _ => return Err(Error::NotFound.into()),
    };
    let result = if accounts {
        import_accounts(&admin, &form.csv, &page.tr).await
    } else {
        import_tokens(&admin, &form.csv, &page.tr).await
    };
    let report = match result {
        Ok(report) => report,
        Err(ApiError::Domain(e)) => {
            let (status, message) = page.form_error(e)?;
            return Ok(html(
                status,
                &FormTemplate {
                    page: &page,
                    nav: AdminNav { current: "import" },
                    error: Some(message),
                },
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let title = page.t(if accounts {
        "admin-import-accounts-done"
    } else {
        "admin-import-tokens-done"
    });
    let summary = page.tr.args(
        "admin-import-summary",
        &[
            ("imported", report.imported.to_string()),
            ("failed", report.failed.to_string()),
        ],
    );
    Ok(html(
        StatusCode::OK,
        &ReportTemplate {
            page: &page,
            nav: AdminNav { current: "import" },
            title,
            summary,
            report,
            accounts,
        },
    ))
}
