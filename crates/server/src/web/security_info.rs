//! "My security info": the person's methods and default, choosing what to add, deleting a
//! method and changing the default. Changes need a recent second factor: the pages check for
//! it before they ask anything, so the detour through `/step-up` comes first, and the POSTs
//! check again, since the window may have closed in between.

use super::sign_in::EmptyForm;
use super::view::{MethodView, kind_name, kind_slug};
use super::{Page, WebError, ok, posted, session_cookies, step_up_proof};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tessera_core::service::Auth;
use tessera_core::{Error, Kind, MethodId, SessionKind};

#[derive(Template)]
#[template(path = "security_info.html")]
struct OverviewTemplate<'a> {
    page: &'a Page,
    methods: Vec<MethodView>,
    default_line: String,
    has_default: bool,
    done: Option<String>,
    /// The policy allows app passwords: link to them.
    app_passwords: bool,
    /// Few recovery codes are left: "You have 2 recovery codes left."
    recovery_nag: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn overview(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Query(q): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let auth = page.signed_in(&state).await?;
    if auth.session.kind == SessionKind::Registration {
        // A registration whose method was verified but not yet exchanged (say, the browser
        // went away at that moment) completes here.
        if let Some(session) = state.tessera.complete_registration(&auth, &ctx).await? {
            return Ok((
                session_cookies(&state, &session),
                Redirect::to("/security-info"),
            )
                .into_response());
        }
        return super::registration::page(&page, &state, &auth).await;
    }
    let info = state.tessera.security_info(&auth).await?;
    let methods: Vec<MethodView> = info
        .methods
        .iter()
        .map(|m| MethodView::new(m, info.default_method, &page.tr))
        .collect();
    let default_line = match methods.iter().find(|m| m.is_default) {
        Some(m) => page.tr.with("security-info-default", "method", &m.label),
        None => page.t("security-info-default-none"),
    };
    let done = match q.done.as_deref() {
        Some(what @ ("added" | "deleted" | "default" | "password")) => {
            Some(page.t(&format!("done-{what}")))
        }
        _ => None,
    };
    let template = OverviewTemplate {
        page: &page,
        has_default: info.default_method.is_some(),
        methods,
        default_line,
        done,
        app_passwords: state.tessera.policy().await?.app_passwords_allowed,
        recovery_nag: state
            .tessera
            .recovery_codes_state(&auth)
            .await?
            .filter(|set| set.few_left())
            .map(|set| {
                page.tr
                    .with("security-info-recovery-few", "left", set.remaining)
            }),
    };
    Ok(ok(&template))
}

/// One kind on the "add a method" page.
struct KindChoice {
    name: String,
    description: String,
    href: String,
}

#[derive(Template)]
#[template(path = "add_method.html")]
struct AddTemplate<'a> {
    page: &'a Page,
    kinds: Vec<KindChoice>,
}

/// The kinds a person can add: those this server can register and the policy allows.
pub async fn add(mut page: Page, State(state): State<AppState>) -> Result<Response, WebError> {
    page.signed_in(&state).await?;
    let policy = state.tessera.policy().await?;
    let kinds = Kind::ALL
        .into_iter()
        .filter(|k| state.tessera.can_register(*k) && policy.allows_kind(*k))
        .map(|k| KindChoice {
            name: kind_name(k, &page.tr),
            description: page.t(&format!("add-kind-{}", k.as_str())),
            href: format!("/security-info/add/{}", kind_slug(k)),
        })
        .collect();
    Ok(ok(&AddTemplate { page: &page, kinds }))
}

/// One of the person's own methods.
async fn own_method(
    state: &AppState,
    auth: &Auth,
    id: &str,
    page: &Page,
) -> Result<MethodView, WebError> {
    let id: MethodId = id.parse().map_err(|_| Error::NotFound)?;
    let info = state.tessera.security_info(auth).await?;
    let method = info
        .methods
        .iter()
        .find(|m| m.id == id)
        .ok_or(Error::NotFound)?;
    Ok(MethodView::new(method, info.default_method, &page.tr))
}

#[derive(Template)]
#[template(path = "delete_method.html")]
struct DeleteTemplate<'a> {
    page: &'a Page,
    question: String,
    method: MethodView,
    /// Deleting the last usable method means registering again at the next sign-in.
    is_last: bool,
}

async fn delete_page(
    page: &Page,
    state: &AppState,
    auth: &Auth,
    id: &str,
) -> Result<Response, WebError> {
    let method = own_method(state, auth, id, page).await?;
    let info = state.tessera.security_info(auth).await?;
    let is_last = method.active && info.methods.iter().filter(|m| m.is_active()).count() == 1;
    let question = page.tr.with("delete-confirm", "method", &method.label);
    Ok(ok(&DeleteTemplate {
        page,
        question,
        method,
        is_last,
    }))
}

pub async fn delete_form(
    mut page: Page,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let auth = page.full(&state).await?;
    step_up_proof(&state, &auth, &page.here).await?;
    delete_page(&page, &state, &auth, &id).await
}

pub async fn delete(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    form: Result<CsrfForm<EmptyForm>, ApiError>,
) -> Result<Response, WebError> {
    posted(form)?;
    let auth = page.full(&state).await?;
    let method_id: MethodId = id.parse().map_err(|_| Error::NotFound)?;
    let proof = step_up_proof(
        &state,
        &auth,
        &format!("/security-info/methods/{method_id}/delete"),
    )
    .await?;
    state
        .tessera
        .delete_method(&auth, method_id, proof, &ctx)
        .await?;
    Ok(Redirect::to("/security-info?done=deleted").into_response())
}

#[derive(Template)]
#[template(path = "default_method.html")]
struct DefaultTemplate<'a> {
    page: &'a Page,
    methods: Vec<MethodView>,
    error: Option<String>,
}

async fn default_page(
    page: &Page,
    state: &AppState,
    auth: &Auth,
    error: Option<String>,
) -> Result<Response, WebError> {
    // The methods that can ask for the second step, the same ones step-up offers.
    let (usable, default) = state.tessera.step_up_methods(auth).await?;
    let methods = usable
        .iter()
        .map(|m| MethodView::new(m, default, &page.tr))
        .collect();
    let status = if error.is_some() {
        axum::http::StatusCode::BAD_REQUEST
    } else {
        axum::http::StatusCode::OK
    };
    Ok(super::html(
        status,
        &DefaultTemplate {
            page,
            methods,
            error,
        },
    ))
}

pub async fn default_form(
    mut page: Page,
    State(state): State<AppState>,
) -> Result<Response, WebError> {
    let auth = page.full(&state).await?;
    step_up_proof(&state, &auth, "/security-info/default").await?;
    default_page(&page, &state, &auth, None).await
}

#[derive(Deserialize)]
pub struct DefaultForm {
    #[serde(default)]
    method_id: String,
}

pub async fn set_default(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<DefaultForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = page.full(&state).await?;
    let proof = step_up_proof(&state, &auth, "/security-info/default").await?;
    let Ok(method_id) = form.method_id.trim().parse::<MethodId>() else {
        let message = page.t("default-choose");
        return default_page(&page, &state, &auth, Some(message)).await;
    };
    match state
        .tessera
        .set_default_method(&auth, method_id, proof, &ctx)
        .await
    {
        Ok(()) => Ok(Redirect::to("/security-info?done=default").into_response()),
        Err(e) => {
            let (_, message) = page.form_error(e)?;
            default_page(&page, &state, &auth, Some(message)).await
        }
    }
}
