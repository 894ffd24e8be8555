//! RADIUS clients on the admin pages (docs/design/radius.md): the VPN gateways, Wi-Fi
//! controllers and servers that may ask. A new client's shared secret is shown once.

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
use tessera_core::Error;
use tessera_core::ids::RadiusClientId;

const PATH: &str = "/admin/radius";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(list).post(create))
        .route("/admin/radius/{id}/remove", post(remove))
}

struct Row {
    id: String,
    name: String,
    address: String,
    require_ma: bool,
    created: Stamp,
}

#[derive(Template)]
#[template(path = "admin/radius_clients.html")]
struct ListTemplate<'a> {
    page: &'a Page,
    nav: AdminNav,
    rows: Vec<Row>,
    name: String,
    address: String,
    require_ma: bool,
    done: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// What the form held, to show it again after an error.
struct Typed {
    name: String,
    address: String,
    require_ma: bool,
}

async fn list_page(
    page: &Page,
    state: &AppState,
    auth: &tessera_core::service::Auth,
    ctx: &tessera_core::RequestContext,
    typed: Typed,
    error: Option<(axum::http::StatusCode, String)>,
    done: Option<String>,
) -> Result<Response, WebError> {
    let admin = handle(state, auth, ctx)?;
    let rows = admin
        .radius_clients()
        .await?
        .iter()
        .map(|c| Row {
            id: c.id.to_string(),
            name: c.name.clone(),
            address: c.network.to_string(),
            require_ma: c.require_message_authenticator,
            created: Stamp::new(c.created_at),
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
            nav: AdminNav { current: "radius" },
            rows,
            name: typed.name,
            address: typed.address,
            require_ma: typed.require_ma,
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
    let done = (q.done.as_deref() == Some("removed")).then(|| page.t("radius-client-removed"));
    let typed = Typed {
        name: String::new(),
        address: String::new(),
        require_ma: true,
    };
    list_page(&page, &state, &auth, &ctx, typed, None, done).await
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    address: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    require_message_authenticator: Option<String>,
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
    let require_ma = form.require_message_authenticator.is_some();
    match admin
        .add_radius_client(&form.name, &form.address, require_ma)
        .await
    {
        Ok(added) => Ok(ok(&SecretTemplate {
            nav: AdminNav { current: "radius" },
            title: page.t("radius-client-secret-title"),
            intro: format!("{} ({})", added.client.name, added.client.network),
            secret: added.secret.to_string(),
            note: page.t("radius-client-secret-once"),
            back: PATH.into(),
            back_text: page.t("radius-clients-title"),
            page: &page,
        })),
        Err(e) => {
            let error = page.form_error(e)?;
            let typed = Typed {
                name: form.name,
                address: form.address,
                require_ma,
            };
            list_page(&page, &state, &auth, &ctx, typed, Some(error), None).await
        }
    }
}

#[derive(Deserialize)]
pub struct EmptyForm {}

async fn remove(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    form: Result<CsrfForm<EmptyForm>, ApiError>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    posted(form)?;
    let admin = handle(&state, &auth, &ctx)?;
    let id: RadiusClientId = id.trim().parse().map_err(|_| Error::NotFound)?;
    admin.remove_radius_client(id).await?;
    Ok(Redirect::to(&format!("{PATH}?done=removed")).into_response())
}
