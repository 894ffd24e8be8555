//! `GET /forward-auth/start?rd=<url>`: where a person without a forward-auth cookie is sent.
//!
//! The URL to return to must be on a domain a rule or the configuration names
//! ([`safe_return_url`]); anything else goes to the security info, so this page is never an
//! open redirect. Signed in well enough: a new forward-auth cookie and back to the URL. Not
//! signed in: the URL waits in a short cookie while the sign-in pages run, and
//! [`return_after_sign_in`] brings the browser back here. Signed in, but the rule wants a
//! fresher or stronger second factor: the step-up pages, then back here.

use super::{COOKIE_FA_RETURN, start_url};
use crate::AppState;
use crate::i18n::cookie_value;
use crate::session::{COOKIE_SESSION, Context};
use crate::web::{Page, WebError, html, step_up_url};
use askama::Template;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use data_encoding::BASE64URL_NOPAD;
use serde::Deserialize;
use tessera_core::forward_auth::{Level, Requested, Start, safe_return_url};
use tessera_core::method::Kind;
use tessera_core::service::Auth;
use tessera_core::{MethodId, RequestContext};

/// Longer return URLs are not remembered across the sign-in (a cookie holds about 4 KB); the
/// person then lands on their security info, as after any sign-in.
const REMEMBER_MAX: usize = 3000;

#[derive(Template)]
#[template(path = "error.html")]
struct DeniedTemplate<'a> {
    page: &'a Page,
    title: String,
    message: String,
}

#[derive(Debug, Deserialize)]
pub struct StartQuery {
    #[serde(default)]
    rd: Option<String>,
    /// Back from a step-up: asking again would loop.
    #[serde(default)]
    stepped: Option<String>,
}

pub async fn start(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    incoming: CookieJar,
    Query(q): Query<StartQuery>,
) -> Result<Response, WebError> {
    let mut domains = state.tessera.forward_auth_domains().await?;
    domains.extend(state.fa_cookie_domains());
    let rd = q.rd.as_deref().and_then(|rd| safe_return_url(rd, &domains));
    let Some((rd, requested)) = rd.and_then(|rd| Requested::from_url(&rd).ok().map(|r| (rd, r)))
    else {
        return Ok(Redirect::to("/security-info").into_response());
    };
    let auth = page.auth(&state).await?;
    let decision = state
        .tessera
        .forward_auth_start(&requested, auth.as_ref(), &ctx)
        .await?;
    match decision {
        Start::Return { token } => {
            let mut jar = CookieJar::new();
            if let Some(token) = token {
                jar = jar.add(state.fa_cookie(token.to_string()));
            }
            if incoming.get(state.cookie_name(COOKIE_FA_RETURN)).is_some() {
                jar = jar.add(state.removal_cookie(COOKIE_FA_RETURN));
            }
            Ok((jar, Redirect::to(&rd)).into_response())
        }
        Start::SignIn => Ok((remember(&state, &rd), Redirect::to("/sign-in")).into_response()),
        Start::StepUp { .. } if q.stepped.is_some() => Ok(denied(
            &page,
            StatusCode::FORBIDDEN,
            "forward-auth-still-short",
        )),
        Start::StepUp { level } => {
            // A second factor from now on: one still inside the step-up window, but older
            // than the rule's `max_age`, must not wave the person through the step-up pages.
            let next = format!(
                "{}&stepped=1&fresh_after={}",
                start_url(&rd),
                state.tessera.now().unix_timestamp()
            );
            // The step-up form's redirects end at the site, which `form-action` must name:
            // the layer adds its origin while the URL waits in its cookie (not for a refusal,
            // which has no form to send there).
            let response = step_up(&page, &state, auth.as_ref(), level, &next, &ctx).await?;
            if !response.status().is_redirection() {
                return Ok(response);
            }
            Ok((remember(&state, &rd), response).into_response())
        }
        Start::Forbidden => Ok(denied(&page, StatusCode::FORBIDDEN, "forward-auth-denied")),
    }
}

/// `rd` in its cookie, for [`return_after_sign_in`] (too long a URL is not remembered).
fn remember(state: &AppState, rd: &str) -> CookieJar {
    let encoded = BASE64URL_NOPAD.encode(rd.as_bytes());
    let jar = CookieJar::new();
    if encoded.len() <= REMEMBER_MAX {
        jar.add(state.cookie(COOKIE_FA_RETURN, encoded))
    } else {
        jar
    }
}

/// The step-up a rule asks for: any second factor for a `max_age`, the person's security key
/// for `phishing_resistant` (another kind would not do, so it is the only one offered).
async fn step_up(
    page: &Page,
    state: &AppState,
    auth: Option<&Auth>,
    level: Level,
    next: &str,
    _ctx: &RequestContext,
) -> Result<Response, WebError> {
    if level != Level::PhishingResistant {
        return Ok(Redirect::to(&step_up_url(next)).into_response());
    }
    let key = match auth {
        Some(auth) => security_key_of(state, auth).await?,
        None => None,
    };
    let Some(key) = key else {
        return Ok(denied(
            page,
            StatusCode::FORBIDDEN,
            "forward-auth-needs-key",
        ));
    };
    let query = serde_urlencoded::to_string([
        ("next", next),
        ("method", &key.to_string()),
        ("phishing_resistant", "1"),
    ])
    .unwrap_or_default();
    Ok(Redirect::to(&format!("/step-up/security-key?{query}")).into_response())
}

async fn security_key_of(state: &AppState, auth: &Auth) -> Result<Option<MethodId>, WebError> {
    let (methods, _) = state.tessera.step_up_methods(auth).await?;
    Ok(methods
        .iter()
        .find(|m| m.kind == Kind::SecurityKey)
        .map(|m| m.id))
}

fn denied(page: &Page, status: StatusCode, message: &str) -> Response {
    html(
        status,
        &DeniedTemplate {
            page,
            title: page.t("forward-auth-denied-title"),
            message: page.t(message),
        },
    )
}

/// The return URL waiting in its cookie, as the start page checks it again.
fn waiting(parts: &axum::http::request::Parts, state: &AppState) -> Option<String> {
    let encoded = cookie_value(parts, state.cookie_name(COOKIE_FA_RETURN))?;
    let bytes = BASE64URL_NOPAD.decode(encoded.trim().as_bytes()).ok()?;
    String::from_utf8(bytes).ok()
}

/// After a sign-in that began at the start page: the sign-in pages' redirect to the security
/// info (with a new session cookie) goes back to the start page instead, which checks the
/// URL again before it sends anyone there; the cookie that held it goes.
pub async fn return_after_sign_in(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let rd = waiting(&parts, &state);
    let mut response = next.run(Request::from_parts(parts, body)).await;
    let Some(rd) = rd else {
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
        allow_forms_to(&mut response, &rd);
        return response;
    }
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&start_url(&rd)) {
        h.insert(header::LOCATION, v);
    }
    let removal = state.removal_cookie(COOKIE_FA_RETURN).encoded().to_string();
    if let Ok(v) = HeaderValue::from_str(&removal) {
        h.append(header::SET_COOKIE, v);
    }
    response
}

/// Browsers hold a form's redirects to the CSP of the page that sent it: the sign-in form
/// ends, through the start page, at the protected site, so its origin joins `form-action`.
/// Only a URL the start page would accept could have been stored there, but it is the
/// start page that checks; here the origin is only parsed.
fn allow_forms_to(response: &mut Response, rd: &str) {
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"))
        && !response
            .headers()
            .contains_key(header::CONTENT_SECURITY_POLICY);
    let origin = Requested::from_url(rd).ok().map(|r| match r.port {
        Some(port) => format!("{}://{}:{port}", r.scheme, r.host),
        None => format!("{}://{}", r.scheme, r.host),
    });
    if is_page
        && let Some(origin) = origin
        && !origin.contains([' ', ';', '\'', ','])
        && let Ok(csp) = HeaderValue::from_str(&crate::headers::csp_with_form_action(&origin))
    {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
}
