//! Recovery codes: the page that makes a new set of ten (revoking the old), shows them this
//! once, and offers them as a text file. The server keeps only their hashes, so the file is
//! made from the codes the page itself posts back.

use super::view::Stamp;
use super::{Page, WebError, html, ok, posted, step_up_proof};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tessera_core::method::recovery_codes::{CODE_CHARS, COUNT};
use tessera_core::service::Auth;
use tessera_core::{Error, Kind};

const PATH: &str = "/security-info/add/recovery-codes";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(overview).post(generate))
        .route("/security-info/recovery-codes/download", post(download))
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct OverviewTemplate<'a> {
    page: &'a Page,
    /// "7 of 10 codes left, made on …", when the person has a set.
    current: Option<String>,
    few_left: bool,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "recovery_codes_new.html")]
struct NewTemplate<'a> {
    page: &'a Page,
    codes: Vec<String>,
    /// Where "I've saved my codes" goes: on through the registration wizard, or back to
    /// the person's security info.
    next: &'static str,
}

async fn allowed(page: &mut Page, state: &AppState) -> Result<Auth, WebError> {
    let auth = page.signed_in(state).await?;
    state.tessera.may_add(Kind::RecoveryCodes).await?;
    Ok(auth)
}

pub async fn overview(mut page: Page, State(state): State<AppState>) -> Result<Response, WebError> {
    let auth = allowed(&mut page, &state).await?;
    step_up_proof(&state, &auth, PATH).await?;
    let set = state.tessera.recovery_codes_state(&auth).await?;
    let current = set.map(|s| {
        page.tr.args(
            "recovery-left",
            &[
                ("left", s.remaining.to_string()),
                ("total", s.total.to_string()),
                ("date", Stamp::new(s.created_at).text),
            ],
        )
    });
    Ok(ok(&OverviewTemplate {
        page: &page,
        current,
        few_left: set.is_some_and(|s| s.few_left()),
        error: None,
    }))
}

#[derive(serde::Deserialize)]
pub struct EmptyForm {}

/// Makes the new set and shows it, this once (the page is not cached; reloading it makes
/// yet another set, which is why the codes are never put in a URL).
pub async fn generate(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<EmptyForm>, ApiError>,
) -> Result<Response, WebError> {
    posted(form)?;
    let auth = allowed(&mut page, &state).await?;
    let proof = step_up_proof(&state, &auth, PATH).await?;
    match state
        .tessera
        .generate_recovery_codes(&auth, proof, &ctx)
        .await
    {
        Ok((_, codes)) => {
            let mut response = ok(&NewTemplate {
                page: &page,
                codes: codes.iter().map(|c| c.to_string()).collect(),
                next: if auth.session.kind == tessera_core::SessionKind::Registration {
                    super::registration::PATH
                } else {
                    "/security-info?done=added"
                },
            });
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(response)
        }
        Err(e) => {
            let (status, message) = page.form_error(e)?;
            Ok(html(
                status,
                &OverviewTemplate {
                    page: &page,
                    current: None,
                    few_left: false,
                    error: Some(message),
                },
            ))
        }
    }
}

/// Whether `code` has the shape of a recovery code: what the download will carry, nothing
/// else.
fn is_code(code: &str) -> bool {
    code.len() == CODE_CHARS + 3
        && code.split('-').all(|g| {
            g.len() == 4
                && g.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// The codes the page posted, as a text file to keep.
pub async fn download(
    mut page: Page,
    State(state): State<AppState>,
    form: Result<CsrfForm<Vec<(String, String)>>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = page.signed_in(&state).await?;
    let codes: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k == "code")
        .map(|(_, v)| v.as_str())
        .filter(|c| is_code(c))
        .take(COUNT)
        .collect();
    if codes.is_empty() {
        return Err(Error::NotFound.into());
    }
    let mut text = page.tr.args(
        "recovery-file-header",
        &[
            ("org", page.org.clone()),
            ("username", auth.account.username.clone()),
        ],
    );
    text.push_str("\n\n");
    for code in codes {
        text.push_str(code);
        text.push('\n');
    }
    text.push('\n');
    text.push_str(&page.t("recovery-file-footer"));
    text.push('\n');
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"recovery-codes.txt\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_codes_go_into_the_file() {
        assert!(is_code("abcd-0123-wxyz-9876"));
        assert!(!is_code("abcd-0123-wxyz-987"));
        assert!(!is_code("<scr-ipt>-wxyz-9876"));
        assert!(!is_code("ABCD-0123-WXYZ-9876"));
    }
}
