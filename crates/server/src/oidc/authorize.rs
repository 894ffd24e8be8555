//! The authorization endpoint (OpenID Connect Core §3.1.2): the request is checked and kept
//! in the store; a person without a session signs in on Tessera's own pages and comes back
//! to [`CONTINUE_PATH`]; then the code goes to the client (`query` or `form_post`), after
//! a step-up or a consent page when the client needs one.
//!
//! Coming back after sign-in: the request's id waits in a cookie, and
//! [`return_after_sign_in`] turns the sign-in pages' "on to your security info" into "back
//! to the request". The cookie holds only an id, and the way back is always a path built
//! here, so it cannot redirect anywhere else.

use super::{CONTINUE_PATH, issuer};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::i18n::cookie_value;
use crate::session::{COOKIE_OIDC, COOKIE_SESSION, Context};
use crate::web::{Page, WebError, html, posted, step_up_url};
use askama::Template;
use axum::extract::{Form, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;
use tessera_core::method::Kind;
use tessera_core::oidc::authorize::{RedirectError, redirect_url};
use tessera_core::oidc::token::ErrorCode;
use tessera_core::oidc::{
    Acr, Authentication, AuthorizationRequest, AuthorizeError, AuthorizeParams, Decision,
    PageError, RequestId, ResponseMode, amr_for,
};
use tessera_core::service::Auth;
use tessera_core::{Error, MethodId, RequestContext, SessionKind};

#[derive(Template)]
#[template(path = "oidc_error.html")]
struct ErrorTemplate<'a> {
    page: &'a Page,
    message: String,
}

#[derive(Template)]
#[template(path = "oidc_form_post.html")]
struct FormPostTemplate<'a> {
    page: &'a Page,
    action: String,
    fields: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "oidc_consent.html")]
struct ConsentTemplate<'a> {
    page: &'a Page,
    intro: String,
    scopes: Vec<String>,
    request: String,
}

/// `GET /oidc/authorize`.
pub async fn authorize_get(
    page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Query(params): Query<AuthorizeParams>,
) -> Result<Response, WebError> {
    start(page, &state, &ctx, params).await
}

/// `POST /oidc/authorize` (form-encoded, OpenID Connect Core §3.1.2.1): posted by the
/// client's page, so no CSRF token; it changes nothing a GET could not.
pub async fn authorize_post(
    page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Form(params): Form<AuthorizeParams>,
) -> Result<Response, WebError> {
    start(page, &state, &ctx, params).await
}

async fn start(
    page: Page,
    state: &AppState,
    ctx: &RequestContext,
    params: AuthorizeParams,
) -> Result<Response, WebError> {
    match state.tessera.oidc_authorize(&params).await {
        Ok(request) => proceed(page, state, ctx, &request, false).await,
        Err(AuthorizeError::Page(e)) => Ok(error_page(&page, page_message(&page, e))),
        Err(AuthorizeError::Redirect(e)) => Ok(send_error(&page, state, &e)),
        Err(AuthorizeError::Internal(e)) => Err(e.into()),
    }
}

fn page_message(page: &Page, e: PageError) -> String {
    page.t(match e {
        PageError::MissingClientId | PageError::UnknownClient => "oidc-error-unknown-client",
        PageError::MissingRedirectUri | PageError::UnregisteredRedirectUri => {
            "oidc-error-redirect-uri"
        }
    })
}

fn error_page(page: &Page, message: String) -> Response {
    html(StatusCode::BAD_REQUEST, &ErrorTemplate { page, message })
}

#[derive(Deserialize)]
pub struct ResumeQuery {
    #[serde(default)]
    request: String,
    /// Back from a step-up: asking again would loop.
    #[serde(default)]
    stepped: Option<String>,
}

/// `GET /oidc/authorize/continue?request=…`: after sign-in, step-up or consent.
pub async fn resume(
    page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Query(q): Query<ResumeQuery>,
) -> Result<Response, WebError> {
    let request = match pending(&state, &q.request).await? {
        Some(r) => r,
        None => return Ok(error_page(&page, page.t("oidc-error-expired"))),
    };
    proceed(page, &state, &ctx, &request, q.stepped.is_some()).await
}

async fn pending(state: &AppState, id: &str) -> Result<Option<AuthorizationRequest>, WebError> {
    let Ok(id) = id.trim().parse::<RequestId>() else {
        return Ok(None);
    };
    match state.tessera.oidc_request(id).await {
        Ok(r) => Ok(Some(r)),
        Err(Error::Expired | Error::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn continue_url(id: RequestId) -> String {
    format!("{CONTINUE_PATH}?request={id}")
}

/// What the session proved, for the ID token: the kind of its second factor says the `amr`
/// and whether it was phishing-resistant (a security key).
fn authentication(auth: &Auth) -> Option<Authentication> {
    if auth.session.kind != SessionKind::Full || auth.password_change_required {
        return None;
    }
    let (amr, acr) = match (
        auth.session.second_factor_at,
        auth.session.second_factor_kind,
    ) {
        (Some(_), kind @ Some(_)) => amr_for(kind),
        // A second factor whose kind was not recorded (a session from before it was): two-step.
        (Some(_), None) => (vec!["pwd".into(), "mfa".into()], Some(Acr::TwoStep)),
        (None, _) => amr_for(None),
    };
    Some(Authentication {
        account: auth.account.id,
        session: auth.session.id,
        auth_time: auth
            .session
            .second_factor_at
            .unwrap_or(auth.session.created_at),
        amr,
        acr,
    })
}

/// The person's security key that can step up, if they have one.
async fn security_key_of(state: &AppState, auth: &Auth) -> Result<Option<MethodId>, WebError> {
    let (methods, _) = state.tessera.step_up_methods(auth).await?;
    Ok(methods
        .iter()
        .find(|m| m.kind == Kind::SecurityKey)
        .map(|m| m.id))
}

async fn proceed(
    mut page: Page,
    state: &AppState,
    ctx: &RequestContext,
    request: &AuthorizationRequest,
    stepped: bool,
) -> Result<Response, WebError> {
    let auth = page.auth(state).await?;
    let signed_in = auth.as_ref().and_then(authentication);
    let decision = state
        .tessera
        .oidc_decide(request, signed_in.as_ref())
        .await?;
    match (decision, signed_in) {
        (Decision::Error(e), _) => Ok(send_error(&page, state, &e)),
        (Decision::SignIn, _) | (_, None) => {
            let jar = CookieJar::new().add(state.cookie(COOKIE_OIDC, request.id.to_string()));
            Ok((jar, Redirect::to("/sign-in")).into_response())
        }
        (Decision::StepUp, Some(_)) if stepped => {
            let e = request.error(
                ErrorCode::InteractionRequired,
                "the sign-in does not meet the client's requirement",
            );
            Ok(send_error(&page, state, &e))
        }
        // Two steps already, and still short: the client needs a phishing-resistant sign-in,
        // which only a security key gives. A fresh second factor of another kind would let
        // the step-up pages wave the person through, so they are asked for their key.
        (Decision::StepUp, Some(signed)) if signed.acr == Some(Acr::TwoStep) => {
            let next = format!("{}&stepped=1", continue_url(request.id));
            let key = match &auth {
                Some(auth) => security_key_of(state, auth).await?,
                None => None,
            };
            let Some(key) = key else {
                let e = request.error(
                    ErrorCode::InteractionRequired,
                    "the client requires a security key, and the person has none",
                );
                return Ok(send_error(&page, state, &e));
            };
            let query = serde_urlencoded::to_string([
                ("next", next.as_str()),
                ("method", &key.to_string()),
                ("phishing_resistant", "1"),
            ])
            .unwrap_or_default();
            Ok(Redirect::to(&format!("/step-up/security-key?{query}")).into_response())
        }
        (Decision::StepUp, Some(_)) => {
            let next = format!("{}&stepped=1", continue_url(request.id));
            Ok(Redirect::to(&step_up_url(&next)).into_response())
        }
        (Decision::Consent, Some(_)) => Ok(consent_page(&page, state, request).await?),
        (Decision::Issue, Some(auth)) => {
            let issued = match state.tessera.oidc_issue_code(request, &auth, ctx).await {
                Ok(r) => r,
                Err(Error::Expired) => return Ok(error_page(&page, page.t("oidc-error-expired"))),
                Err(e) => return Err(e.into()),
            };
            let params = issued.params(&issuer(state));
            Ok(respond(
                &page,
                &issued.redirect_uri,
                issued.response_mode,
                params,
            ))
        }
    }
}

fn send_error(page: &Page, state: &AppState, e: &RedirectError) -> Response {
    respond(
        page,
        &e.redirect_uri,
        e.response_mode,
        e.params(&issuer(state)),
    )
}

/// The answer to the client: a redirect with the parameters in the query, or a page whose
/// form posts them (`form_post`; the person presses its button, as the CSP allows no
/// script to do it for them). Either may leave for the client's origin, which the CSP's
/// `form-action` must name (browsers apply it to a form's redirects too).
fn respond(
    page: &Page,
    redirect_uri: &str,
    mode: ResponseMode,
    params: Vec<(&'static str, String)>,
) -> Response {
    let mut response = match mode {
        ResponseMode::Query => Redirect::to(&redirect_url(redirect_uri, &params)).into_response(),
        ResponseMode::FormPost => html(
            StatusCode::OK,
            &FormPostTemplate {
                page,
                action: redirect_uri.to_string(),
                fields: params,
            },
        ),
    };
    if let Some(origin) = origin_of(redirect_uri)
        && let Ok(csp) = HeaderValue::from_str(&crate::headers::csp_with_form_action(&origin))
    {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

/// `scheme://host[:port]` of a registered redirect URI (they are absolute and checked).
pub(super) fn origin_of(uri: &str) -> Option<String> {
    let url = url_parts(uri)?;
    (!url.contains(['\'', ';', ' ', ','])).then_some(url)
}

fn url_parts(uri: &str) -> Option<String> {
    let uri: axum::http::Uri = uri.parse().ok()?;
    let scheme = uri.scheme_str()?;
    let authority = uri.authority()?;
    let host_port = authority
        .as_str()
        .rsplit_once('@')
        .map_or(authority.as_str(), |(_, h)| h);
    Some(format!("{scheme}://{host_port}"))
}

async fn consent_page(
    page: &Page,
    state: &AppState,
    request: &AuthorizationRequest,
) -> Result<Response, WebError> {
    let client = state
        .tessera
        .store()
        .oidc_client(&request.client_id)
        .await
        .map_err(Error::from)?
        .ok_or(Error::NotFound)?;
    let intro = page.tr.with("oidc-consent-intro", "client", &client.name);
    let scopes = request
        .scope
        .iter()
        .map(|s| match s {
            "openid" | "profile" | "email" | "groups" | "offline_access" => {
                page.t(&format!("oidc-scope-{}", s.replace('_', "-")))
            }
            other => other.to_string(),
        })
        .collect();
    let mut response = html(
        StatusCode::OK,
        &ConsentTemplate {
            page,
            intro,
            scopes,
            request: request.id.to_string(),
        },
    );
    allow_forms_to_client(&mut response, &request.redirect_uri);
    Ok(response)
}

#[derive(Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    request: String,
    #[serde(default)]
    decision: String,
}

/// `POST /oidc/consent`: the person allowed or denied (a form with the page's CSRF token).
pub async fn consent(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<ConsentForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let Some(request) = pending(&state, &form.request).await? else {
        return Ok(error_page(&page, page.t("oidc-error-expired")));
    };
    let Some(auth) = page.auth(&state).await?.as_ref().and_then(authentication) else {
        let jar = CookieJar::new().add(state.cookie(COOKIE_OIDC, request.id.to_string()));
        return Ok((jar, Redirect::to("/sign-in")).into_response());
    };
    if form.decision != "allow" {
        let e = state.tessera.oidc_deny(&request).await?;
        return Ok(send_error(&page, &state, &e));
    }
    state
        .tessera
        .oidc_grant_consent(&request, auth.account, &ctx)
        .await?;
    proceed(page, &state, &ctx, &request, false).await
}

/// Browsers hold a form's redirects to the CSP of the page that sent it, so a page whose
/// form ends, through the way back, at the client (the sign-in pages while a request waits,
/// the consent page) names the client's origin in `form-action`; else the browser stops at
/// the last of Tessera's redirects and the person stays on the page they just submitted.
fn allow_forms_to_client(response: &mut Response, redirect_uri: &str) {
    if let Some(origin) = origin_of(redirect_uri)
        && let Ok(csp) = HeaderValue::from_str(&crate::headers::csp_with_form_action(&origin))
    {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
}

async fn allow_forms_to_request(state: &AppState, id: RequestId, response: &mut Response) {
    if is_page(response)
        && let Ok(request) = state.tessera.oidc_request(id).await
    {
        allow_forms_to_client(response, &request.redirect_uri);
    }
}

/// The request a step-up page's `next` (the way back, [`continue_url`]) goes on to.
fn request_in_next(query: &str) -> Option<RequestId> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    let (_, next) = pairs.into_iter().find(|(k, _)| k == "next")?;
    let rest = next
        .strip_prefix(CONTINUE_PATH)?
        .strip_prefix("?request=")?;
    rest.split('&').next()?.parse().ok()
}

fn is_page(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"))
        && !response
            .headers()
            .contains_key(header::CONTENT_SECURITY_POLICY)
}

/// After a sign-in that began at the authorization endpoint: the sign-in pages' redirect to
/// the security info (with a new session cookie) goes back to the waiting request instead,
/// and the cookie that named it goes.
pub async fn return_after_sign_in(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let waiting = cookie_value(&parts, state.cookie_name(COOKIE_OIDC))
        .and_then(|v| v.trim().parse::<RequestId>().ok());
    // A step-up for a waiting request carries the way back in `next` instead.
    let stepping_up = parts.uri.query().and_then(request_in_next);
    let mut response = next.run(Request::from_parts(parts, body)).await;
    let Some(id) = waiting else {
        if let Some(id) = stepping_up {
            allow_forms_to_request(&state, id, &mut response).await;
        }
        return response;
    };
    let to_security_info = response.status().is_redirection()
        && response
            .headers()
            .get(header::LOCATION)
            .is_some_and(|l| l.as_bytes() == b"/security-info");
    let session_prefix = format!("{}=", state.cookie_name(COOKIE_SESSION));
    let new_session = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with(&session_prefix) && !c.starts_with(&format!("{session_prefix};")));
    if !(to_security_info && new_session) {
        allow_forms_to_request(&state, id, &mut response).await;
        return response;
    }
    // A request given up on (expired, or answered in another tab) leaves the person on
    // their security info, as any sign-in.
    let still_waiting = state.tessera.oidc_request(id).await.is_ok();
    let h = response.headers_mut();
    if still_waiting && let Ok(v) = HeaderValue::from_str(&continue_url(id)) {
        h.insert(header::LOCATION, v);
    }
    let removal = state.removal_cookie(COOKIE_OIDC).encoded().to_string();
    if let Ok(v) = HeaderValue::from_str(&removal) {
        h.append(header::SET_COOKIE, v);
    }
    response
}
