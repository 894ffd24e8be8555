//! RP-Initiated Logout 1.0: a client sends the person to [`LOGOUT_PATH`] to end their
//! Tessera session, and is sent back to a registered post-logout redirect URI.
//!
//! A mere link must not end a session, so a person with a session is asked first ("Sign
//! out of Tessera?", a form with the CSRF token that posts to [`CONFIRM_PATH`]), unless the
//! request carries a verified ID token of this very session, which only a client the
//! person signed in to has. Without a session there is nothing to end: straight on.
//!
//! A `POST` from the client's page comes without the session cookie (it is `SameSite=Lax`),
//! so it is turned into a `GET` of the same request, which a top-level navigation sends the
//! cookie with.

use super::{CONFIRM_PATH, LOGOUT_PATH, issuer};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::i18n::{LANG_COOKIE, Tr};
use crate::session::{COOKIE_FLOW, COOKIE_SESSION, Context};
use crate::web::{Page, WebError, html, posted};
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::{Deserialize, Serialize};
use tessera_core::RequestContext;
use tessera_core::oidc::{LogoutParams, LogoutPlan};

#[derive(Template)]
#[template(path = "oidc_logout_confirm.html")]
struct ConfirmTemplate<'a> {
    page: &'a Page,
    action: &'static str,
    intro: String,
    client_id: String,
    post_logout_redirect_uri: String,
    state: String,
}

#[derive(Template)]
#[template(path = "oidc_logout_done.html")]
struct DoneTemplate<'a> {
    page: &'a Page,
}

/// `GET /oidc/logout`.
pub async fn logout_get(
    page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    jar: CookieJar,
    Query(params): Query<LogoutParams>,
) -> Result<Response, WebError> {
    logout(page, &state, &ctx, &jar, params).await
}

/// The parameters again, as a query: what a `POST` is redirected to.
#[derive(Serialize)]
struct Again<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token_hint: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    post_logout_redirect_uri: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ui_locales: Option<&'a str>,
}

/// `POST /oidc/logout` (form-encoded), posted by the client's page: on to the `GET`, which
/// carries the session cookie.
pub async fn logout_post(Form(params): Form<LogoutParams>) -> Response {
    let query = serde_urlencoded::to_string(Again {
        id_token_hint: params.id_token_hint.as_deref(),
        client_id: params.client_id.as_deref(),
        post_logout_redirect_uri: params.post_logout_redirect_uri.as_deref(),
        state: params.state.as_deref(),
        ui_locales: params.ui_locales.as_deref(),
    })
    .unwrap_or_default();
    Redirect::to(&format!("{LOGOUT_PATH}?{query}")).into_response()
}

async fn logout(
    mut page: Page,
    state: &AppState,
    ctx: &RequestContext,
    jar: &CookieJar,
    params: LogoutParams,
) -> Result<Response, WebError> {
    let plan = state
        .tessera
        .oidc_logout_plan(&issuer(state), &params)
        .await?;
    let auth = page.auth(state).await?;
    // The client's choice of language beats the account's, not this browser's own choice.
    if jar.get(LANG_COOKIE).is_none()
        && let Some(tr) = ui_locale(params.ui_locales.as_deref())
    {
        page.tr = tr;
    }
    match auth {
        None => Ok(finish(&page, state, &plan)),
        Some(auth) if plan.names_session(&auth) => {
            state
                .tessera
                .oidc_end_session(&auth, plan.client_id.as_deref(), ctx)
                .await?;
            Ok(finish(&page, state, &plan))
        }
        Some(_) => Ok(confirmation(&page, &plan, &params)),
    }
}

/// The first of `ui_locales` (space-separated, in order of preference) with a catalog.
fn ui_locale(ui_locales: Option<&str>) -> Option<Tr> {
    ui_locales?.split(' ').find_map(|tag| {
        let tr = Tr::for_tag(tag);
        let primary = tag.split(['-', '_']).next().unwrap_or("");
        primary.eq_ignore_ascii_case(tr.code()).then_some(tr)
    })
}

fn confirmation(page: &Page, plan: &LogoutPlan, params: &LogoutParams) -> Response {
    let intro = match &plan.client_name {
        Some(name) => page
            .tr
            .with("oidc-logout-confirm-intro-client", "client", name),
        None => page.t("oidc-logout-confirm-intro"),
    };
    let mut response = html(
        StatusCode::OK,
        &ConfirmTemplate {
            page,
            action: CONFIRM_PATH,
            intro,
            client_id: plan.client_id.clone().unwrap_or_default(),
            post_logout_redirect_uri: plan.redirect_uri.clone().unwrap_or_default(),
            state: params.state.clone().unwrap_or_default(),
        },
    );
    // The form's answer redirects to the client, which `form-action` must allow.
    if let Some(origin) = plan
        .redirect_uri
        .as_deref()
        .and_then(super::authorize::origin_of)
        && let Ok(csp) = HeaderValue::from_str(&crate::headers::csp_with_form_action(&origin))
    {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    post_logout_redirect_uri: String,
    #[serde(default)]
    state: String,
}

/// `POST /oidc/logout/confirm`: the person chose to sign out. The redirect URI is checked
/// against the client again: the form is only as trustworthy as the page that filled it.
pub async fn confirm(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<ConfirmForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let some = |s: String| (!s.is_empty()).then_some(s);
    let params = LogoutParams {
        client_id: some(form.client_id),
        post_logout_redirect_uri: some(form.post_logout_redirect_uri),
        state: some(form.state),
        ..LogoutParams::default()
    };
    let plan = state
        .tessera
        .oidc_logout_plan(&issuer(&state), &params)
        .await?;
    if let Some(auth) = page.auth(&state).await? {
        state
            .tessera
            .oidc_end_session(&auth, plan.client_id.as_deref(), &ctx)
            .await?;
    }
    Ok(finish(&page, &state, &plan))
}

/// Signed out: the session cookies go, and the person goes back to the client, or sees
/// that they have signed out.
fn finish(page: &Page, state: &AppState, plan: &LogoutPlan) -> Response {
    let mut page = page.clone();
    page.signed_in = false;
    page.username = None;
    page.is_admin = false;
    let jar = CookieJar::new()
        .add(state.removal_cookie(COOKIE_SESSION))
        .add(state.removal_cookie(COOKIE_FLOW));
    match &plan.redirect {
        Some(to) => (jar, Redirect::to(to)).into_response(),
        None => (jar, html(StatusCode::OK, &DoneTemplate { page: &page })).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_locales_picks_the_first_language_with_a_catalog() {
        assert_eq!(ui_locale(Some("fr-CA nl en")).map(|t| t.code()), Some("nl"));
        assert_eq!(ui_locale(Some("en-GB")).map(|t| t.code()), Some("en"));
        assert!(ui_locale(Some("fr de")).is_none());
        assert!(ui_locale(None).is_none());
    }
}
