//! App passwords on the security info pages: the list (name, created, last used), creating
//! one (after a recent second factor; it is shown once, on the answer to the POST, with a
//! "Copy" button where JavaScript runs), and deleting one after a confirmation page (a POST
//! without `confirm=yes` shows that page too, so no form deletes in one step).

use super::{Page, WebError, html, ok, posted, step_up_proof};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use crate::web::view::Stamp;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use tessera_core::app_passwords::MAX_PER_ACCOUNT;
use tessera_core::service::Auth;
use tessera_core::{AppPasswordId, Error};

const PATH: &str = "/security-info/app-passwords";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(list).post(create)).route(
        "/security-info/app-passwords/{id}/delete",
        get(delete_form).post(delete),
    )
}

struct Row {
    id: String,
    name: String,
    created: Stamp,
    last_used: Option<Stamp>,
}

#[derive(Template)]
#[template(path = "app_passwords.html")]
struct ListTemplate<'a> {
    page: &'a Page,
    allowed: bool,
    rows: Vec<Row>,
    name: String,
    /// The new password, shown once.
    created: Option<(String, String)>,
    done: Option<String>,
    error: Option<String>,
    limit: String,
    copy_script: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

struct Shown {
    name: String,
    created: Option<(String, String)>,
    done: Option<String>,
    error: Option<(StatusCode, String)>,
}

async fn render(
    page: &Page,
    state: &AppState,
    auth: &Auth,
    shown: Shown,
) -> Result<Response, WebError> {
    let rows = state
        .tessera
        .app_passwords(auth)
        .await?
        .iter()
        .map(|p| Row {
            id: p.id.to_string(),
            name: p.name.clone(),
            created: Stamp::new(p.created_at),
            last_used: p.last_used_at.map(Stamp::new),
        })
        .collect();
    let (status, error) = match shown.error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    Ok(html(
        status,
        &ListTemplate {
            page,
            allowed: state.tessera.policy().await?.app_passwords_allowed,
            rows,
            name: shown.name,
            created: shown.created,
            done: shown.done,
            error,
            limit: page.tr.with("app-passwords-limit", "max", MAX_PER_ACCOUNT),
            copy_script: super::assets::copy_script(),
        },
    ))
}

async fn list(
    mut page: Page,
    State(state): State<AppState>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let auth = page.full(&state).await?;
    let done = (q.done.as_deref() == Some("deleted")).then(|| page.t("app-passwords-deleted"));
    let shown = Shown {
        name: String::new(),
        created: None,
        done,
        error: None,
    };
    render(&page, &state, &auth, shown).await
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
}

async fn create(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<CreateForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = page.full(&state).await?;
    let proof = step_up_proof(&state, &auth, PATH).await?;
    let shown = match state
        .tessera
        .create_app_password(&auth, &form.name, proof, &ctx)
        .await
    {
        Ok(created) => Shown {
            name: String::new(),
            created: Some((
                created.app_password.name.clone(),
                created.password.to_string(),
            )),
            done: None,
            error: None,
        },
        Err(e) => Shown {
            error: Some(page.form_error(e)?),
            name: form.name,
            created: None,
            done: None,
        },
    };
    render(&page, &state, &auth, shown).await
}

#[derive(Template)]
#[template(path = "app_password_delete.html")]
struct DeleteTemplate<'a> {
    page: &'a Page,
    id: String,
    name: String,
}

/// "Delete Old phone mail?", for one of the person's own app passwords.
async fn confirm_page(
    page: &Page,
    state: &AppState,
    auth: &Auth,
    id: &str,
) -> Result<Response, WebError> {
    let id: AppPasswordId = id.trim().parse().map_err(|_| Error::NotFound)?;
    let list = state.tessera.app_passwords(auth).await?;
    let shown = list.iter().find(|p| p.id == id).ok_or(Error::NotFound)?;
    Ok(ok(&DeleteTemplate {
        page,
        id: shown.id.to_string(),
        name: shown.name.clone(),
    }))
}

async fn delete_form(
    mut page: Page,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let auth = page.full(&state).await?;
    confirm_page(&page, &state, &auth, &id).await
}

async fn delete(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    form: Result<CsrfForm<crate::web::DeleteForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = page.full(&state).await?;
    if !form.confirmed() {
        return confirm_page(&page, &state, &auth, &id).await;
    }
    let id: AppPasswordId = id.trim().parse().map_err(|_| Error::NotFound)?;
    state.tessera.delete_app_password(&auth, id, &ctx).await?;
    Ok(Redirect::to(&format!("{PATH}?done=deleted")).into_response())
}
