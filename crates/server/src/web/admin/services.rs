//! Service credentials on the admin pages: the API keys that PAM modules, RADIUS servers and
//! legacy apps send to `POST /api/v1/verify`. A new key is shown once; a revoked one is
//! refused from its next request on.

use super::accounts::SecretTemplate;
use super::{AdminNav, admin_auth, handle};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use crate::web::view::Stamp;
use crate::web::{Page, WebError, html, ok, posted};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tessera_core::{Error, ServiceCredentialId};

const PATH: &str = "/admin/service-credentials";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(list).post(create))
        .route("/admin/service-credentials/{id}/revoke", post(revoke))
}

struct Row {
    id: String,
    name: String,
    created: Stamp,
    last_used: Option<Stamp>,
    revoked: Option<Stamp>,
}

#[derive(Template)]
#[template(path = "admin/services.html")]
struct ListTemplate<'a> {
    page: &'a Page,
    nav: AdminNav,
    rows: Vec<Row>,
    name: String,
    done: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn list_page(
    page: &Page,
    state: &AppState,
    auth: &tessera_core::service::Auth,
    ctx: &tessera_core::RequestContext,
    name: String,
    error: Option<(axum::http::StatusCode, String)>,
    done: Option<String>,
) -> Result<Response, WebError> {
    let admin = handle(state, auth, ctx)?;
    let rows = admin
        .service_credentials()
        .await?
        .iter()
        .map(|c| Row {
            id: c.id.to_string(),
            name: c.name.clone(),
            created: Stamp::new(c.created_at),
            last_used: c.last_used_at.map(Stamp::new),
            revoked: c.revoked_at.map(Stamp::new),
        })
        .collect();
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (axum::http::StatusCode::OK, None),
    };
    Ok(html(
        status,
        &ListTemplate {
            page,
            nav: AdminNav {
                current: "services",
            },
            rows,
            name,
            done,
            error,
        },
    ))
}

async fn list(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Query(q): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let done = (q.done.as_deref() == Some("revoked")).then(|| page.t("admin-services-revoked"));
    list_page(&page, &state, &auth, &ctx, String::new(), None, done).await
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
    let auth = admin_auth(&mut page, &state).await?;
    let form = posted(form)?;
    let admin = handle(&state, &auth, &ctx)?;
    match admin.create_service_credential(&form.name).await {
        Ok(issued) => Ok(ok(&SecretTemplate {
            nav: AdminNav {
                current: "services",
            },
            title: page.t("admin-services-created-title"),
            intro: page.tr.with(
                "admin-services-created-intro",
                "name",
                &issued.credential.name,
            ),
            secret: issued.key.to_string(),
            note: page.t("admin-services-created-note"),
            back: PATH.into(),
            back_text: page.t("admin-services-back"),
            page: &page,
        })),
        Err(e) => {
            let error = page.form_error(e)?;
            list_page(&page, &state, &auth, &ctx, form.name, Some(error), None).await
        }
    }
}

#[derive(Deserialize)]
pub struct EmptyForm {}

async fn revoke(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    form: Result<CsrfForm<EmptyForm>, ApiError>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    posted(form)?;
    let admin = handle(&state, &auth, &ctx)?;
    let id: ServiceCredentialId = id.trim().parse().map_err(|_| Error::NotFound)?;
    admin.revoke_service_credential(id).await?;
    Ok(Redirect::to(&format!("{PATH}?done=revoked")).into_response())
}
