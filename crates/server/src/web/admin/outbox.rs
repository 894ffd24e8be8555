//! The outbox on the admin pages: every text, call and email, newest first, with what it
//! says while the message still holds it. A call the development outbox kept rang no phone,
//! so when it asks for # the page offers "Press #" in the person's place (see
//! `tessera_core::admin` for why that gives an admin nothing they could not read already).

use super::{AdminNav, admin_auth, handle};
use crate::AppState;
use crate::api::phone::{OutboxMessage, outbox_view};
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use crate::web::view::Stamp;
use crate::web::{Page, WebError, ok, posted};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tessera_core::{Error, MessageId};

const PATH: &str = "/admin/outbox";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(list))
        .route("/admin/outbox/{id}/press", post(press))
}

struct Row {
    m: OutboxMessage,
    when: Stamp,
}

#[derive(Template)]
#[template(path = "admin_outbox.html")]
struct OutboxTemplate<'a> {
    page: &'a Page,
    nav: AdminNav,
    rows: Vec<Row>,
    done: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn list(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Query(q): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let admin = handle(&state, &auth, &ctx)?;
    let rows = outbox_view(&state, &admin, 100)
        .await?
        .into_iter()
        .map(|m| Row {
            when: Stamp::new(m.created_at),
            m,
        })
        .collect();
    let done = match q.done.as_deref() {
        Some("pressed") => Some(page.t("outbox-pressed")),
        Some("over") => Some(page.t("outbox-call-over")),
        _ => None,
    };
    Ok(ok(&OutboxTemplate {
        page: &page,
        nav: AdminNav { current: "outbox" },
        rows,
        done,
    }))
}

#[derive(Deserialize)]
pub struct EmptyForm {}

/// "Press #" on a call the outbox kept: the call is answered as on a phone, and audited.
async fn press(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    form: Result<CsrfForm<EmptyForm>, ApiError>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    posted(form)?;
    let admin = handle(&state, &auth, &ctx)?;
    let id: MessageId = id.trim().parse().map_err(|_| Error::NotFound)?;
    let done = match admin.press_pound(id).await? {
        true => "pressed",
        false => "over",
    };
    Ok(Redirect::to(&format!("{PATH}?done={done}")).into_response())
}
