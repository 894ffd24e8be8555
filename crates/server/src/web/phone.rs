//! Phones and email on the pages: adding one (country list with calling codes, number,
//! "Text me a code" or "Call me"; an address), proving it with the code that was sent (or
//! the # of a call), and signing in with a text or a call.
//!
//! No JavaScript: a call answered with # completes out of band, and the page offers an
//! "I pressed #, continue" button that asks the store where things stand.

use super::phone_sign_in;
use super::view::kind_name;
use super::{Page, WebError, html, ok, posted, step_up_proof};
use crate::AppState;
use crate::api::phone::{Region, region_list};
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tessera_core::message::{Channel, MessageStatus};
use tessera_core::method::phone::PhoneRequest;
use tessera_core::method::{Purpose, RegisterRequest};
use tessera_core::{Error, Kind, MethodId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/security-info/add/phone-mobile",
            get(phone_form).post(phone_add),
        )
        .route(
            "/security-info/add/phone-alternate",
            get(phone_form).post(phone_add),
        )
        .route(
            "/security-info/add/phone-office",
            get(phone_form).post(phone_add),
        )
        .route("/security-info/add/email", get(email_form).post(email_add))
        .route(
            "/security-info/sent-code/{id}",
            get(sent_page).post(sent_verify),
        )
        .route("/security-info/sent-code/{id}/resend", post(sent_resend))
        .route(
            "/security-info/sent-code/{id}/continue",
            post(sent_continue),
        )
        .route(
            "/sign-in/phone",
            get(phone_sign_in::sign_in_page).post(phone_sign_in::sign_in_send),
        )
        .route(
            "/sign-in/phone/continue",
            post(phone_sign_in::sign_in_continue),
        )
        .route(
            "/step-up/phone",
            get(phone_sign_in::step_up_page).post(phone_sign_in::step_up_send),
        )
        .route(
            "/step-up/phone/continue",
            post(phone_sign_in::step_up_continue),
        )
}

fn kind_of(path: &str) -> Kind {
    if path.ends_with("phone-office") {
        Kind::PhoneOffice
    } else if path.ends_with("phone-alternate") {
        Kind::PhoneAlternate
    } else {
        Kind::PhoneMobile
    }
}

#[derive(Template)]
#[template(path = "phone_add.html")]
struct PhoneTemplate<'a> {
    page: &'a Page,
    action: String,
    title: String,
    regions: Vec<Region>,
    country: String,
    number: String,
    extension: String,
    office: bool,
    mobile: bool,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct PhoneForm {
    #[serde(default)]
    country: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    extension: String,
    #[serde(default)]
    delivery: String,
}

/// The region a country menu starts on when the browser's language names none (`en`, not
/// `en-US`) and the policy names no region of its own.
const DEFAULT_REGION: &str = "NL";

/// The region of the browser's preferred language: `nl-NL` → `NL`, `fr-BE` → `BE`,
/// `zh-Hant-TW` → `TW`; `None` for a language alone (`nl`) or a wider area (`es-419`). Only
/// the preferred language counts: `nl,en-US;q=0.7` is a Dutch speaker, not someone in the
/// United States.
fn browser_region(accept_language: &str) -> Option<String> {
    let mut best: Option<(f32, &str)> = None;
    for item in accept_language.split(',') {
        let mut parts = item.trim().split(';');
        let tag = parts.next().unwrap_or("").trim();
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if !tag.is_empty() && tag != "*" && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, tag));
        }
    }
    let (_, tag) = best?;
    tag.split(['-', '_'])
        .skip(1)
        .find(|sub| sub.len() == 2 && sub.chars().all(|c| c.is_ascii_alphabetic()))
        .map(str::to_ascii_uppercase)
}

async fn phone_template<'a>(
    page: &'a Page,
    state: &AppState,
    kind: Kind,
    form: &PhoneForm,
    headers: &HeaderMap,
    error: Option<String>,
) -> Result<PhoneTemplate<'a>, WebError> {
    let policy = state.tessera.policy().await?;
    let regions: Vec<Region> = region_list(&page.tr, &policy)
        .into_iter()
        .filter(|r| r.allowed)
        .collect();
    let country = if form.country.is_empty() {
        // Where the browser says the person is, when phones from there are allowed; else the
        // organization's own region, when the policy names one.
        let accept = headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        browser_region(accept)
            .filter(|region| regions.iter().any(|r| &r.region == region))
            .or_else(|| policy.phone_countries.first().cloned())
            .unwrap_or_else(|| DEFAULT_REGION.into())
    } else {
        form.country.clone()
    };
    Ok(PhoneTemplate {
        page,
        action: format!("/security-info/add/{}", kind.as_str().replace('_', "-")),
        title: page
            .tr
            .with("phone-add-title", "kind", kind_name(kind, &page.tr)),
        regions,
        country,
        number: form.number.clone(),
        extension: form.extension.clone(),
        office: kind == Kind::PhoneOffice,
        mobile: kind == Kind::PhoneMobile,
        error,
    })
}

pub async fn phone_form(
    mut page: Page,
    State(state): State<AppState>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let auth = page.signed_in(&state).await?;
    step_up_proof(&state, &auth, uri.path()).await?;
    let template = phone_template(
        &page,
        &state,
        kind_of(uri.path()),
        &PhoneForm::default(),
        &headers,
        None,
    )
    .await?;
    Ok(ok(&template))
}

pub async fn phone_add(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    uri: axum::http::Uri,
    headers: HeaderMap,
    form: Result<CsrfForm<PhoneForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = page.signed_in(&state).await?;
    let proof = step_up_proof(&state, &auth, uri.path()).await?;
    let kind = kind_of(uri.path());
    let request = RegisterRequest::Phone(PhoneRequest {
        kind,
        country: form.country.clone(),
        number: form.number.clone(),
        extension: Some(form.extension.clone()),
        delivery: Channel::parse(&form.delivery),
    });
    match state
        .tessera
        .register_begin(&auth, request, proof, &ctx)
        .await
    {
        Ok((method, _)) => {
            Ok(Redirect::to(&format!("/security-info/sent-code/{}", method.id)).into_response())
        }
        Err(e) => {
            let (status, message) = page.form_error(e)?;
            let template =
                phone_template(&page, &state, kind, &form, &headers, Some(message)).await?;
            Ok(html(status, &template))
        }
    }
}

#[derive(Template)]
#[template(path = "email_add.html")]
struct EmailTemplate<'a> {
    page: &'a Page,
    address: String,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    address: String,
}

pub async fn email_form(
    mut page: Page,
    State(state): State<AppState>,
) -> Result<Response, WebError> {
    let auth = page.signed_in(&state).await?;
    step_up_proof(&state, &auth, "/security-info/add/email").await?;
    Ok(ok(&EmailTemplate {
        page: &page,
        address: String::new(),
        error: None,
    }))
}

pub async fn email_add(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<EmailForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = page.signed_in(&state).await?;
    let proof = step_up_proof(&state, &auth, "/security-info/add/email").await?;
    let request = RegisterRequest::Email {
        address: form.address.clone(),
    };
    match state
        .tessera
        .register_begin(&auth, request, proof, &ctx)
        .await
    {
        Ok((method, _)) => {
            Ok(Redirect::to(&format!("/security-info/sent-code/{}", method.id)).into_response())
        }
        Err(e) => {
            let (status, message) = page.form_error(e)?;
            Ok(html(
                status,
                &EmailTemplate {
                    page: &page,
                    address: form.address,
                    error: Some(message),
                },
            ))
        }
    }
}

#[derive(Template)]
#[template(path = "sent_code.html")]
pub(super) struct SentTemplate<'a> {
    pub(super) page: &'a Page,
    /// Where the code form (or, for a call that asks for #, "I pressed #") posts.
    pub(super) action: String,
    pub(super) resend: Option<String>,
    pub(super) sent: Sent,
    pub(super) error: Option<String>,
    pub(super) cancel: String,
}

/// What a page that waits on a sent challenge says of it, in the words of its channel: a
/// text or email asks for "the code", a call that reads one for "the code we read to you",
/// and a call that asks for # has no code field at all.
pub(super) struct Sent {
    /// The page's heading.
    pub(super) title: String,
    /// Where it went, and how.
    pub(super) intro: String,
    /// A call that asks for #: no code to type; the page asks where things stand.
    pub(super) confirm: bool,
    /// A call, of either kind: asking again calls again.
    pub(super) call: bool,
    /// "Send a new code", or "Call me again".
    pub(super) again: String,
    /// Delivery failed for good.
    pub(super) notice: Option<String>,
}

/// What a page says about the newest challenge.
pub(super) fn describe(
    page: &Page,
    sent_to: &str,
    state: Option<&tessera_core::challenge::ChallengeState>,
) -> Sent {
    let Some(state) = state else {
        return Sent {
            title: page.t("sent-title"),
            intro: page.t("sent-none"),
            confirm: false,
            call: false,
            again: page.t("sent-resend"),
            notice: None,
        };
    };
    let confirm = state.challenge.is_confirm();
    let call = state.challenge.channel == Channel::Voice;
    let (title, key) = match (state.challenge.channel, confirm) {
        (Channel::Voice, true) => ("sent-title-call-confirm", "sent-call-confirm"),
        (Channel::Voice, false) => ("sent-title-call-code", "sent-call-code"),
        (Channel::Email, _) => ("sent-title", "sent-email"),
        (Channel::Sms, _) => ("sent-title", "sent-sms"),
    };
    Sent {
        title: page.t(title),
        intro: page.tr.with(key, "to", sent_to),
        confirm,
        call,
        again: page.t(if call {
            "sent-call-again"
        } else {
            "sent-resend"
        }),
        notice: (state.delivery == Some(MessageStatus::Failed))
            .then(|| page.t("error-delivery_failed")),
    }
}

async fn sent_template<'a>(
    page: &'a Page,
    state: &AppState,
    auth: &tessera_core::service::Auth,
    id: MethodId,
    error: Option<(StatusCode, String)>,
) -> Result<Result<(StatusCode, SentTemplate<'a>), Response>, WebError> {
    let method = match state.tessera.pending_enrollment(auth, id).await {
        Ok((method, _)) => method,
        Err(Error::Expired) => return Ok(Err(Redirect::to("/security-info/add").into_response())),
        // Verified already (by a call's # or another tab): done.
        Err(Error::BadRequest { .. }) => {
            let kind = state
                .tessera
                .security_info(auth)
                .await?
                .methods
                .iter()
                .find(|m| m.id == id)
                .map_or(tessera_core::Kind::PhoneMobile, |m| m.kind);
            return Ok(Err(super::registration::after_adding(auth, kind)));
        }
        Err(e) => return Err(e.into()),
    };
    let latest = state
        .tessera
        .sent_challenge(id, Purpose::Register(id))
        .await?;
    let sent = describe(page, &method.label(), latest.as_ref());
    let (status, error) = match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    let action = match sent.confirm {
        true => format!("/security-info/sent-code/{id}/continue"),
        false => format!("/security-info/sent-code/{id}"),
    };
    Ok(Ok((
        status,
        SentTemplate {
            page,
            action,
            resend: Some(format!("/security-info/sent-code/{id}/resend")),
            sent,
            error,
            cancel: "/security-info".into(),
        },
    )))
}

pub async fn sent_page(
    mut page: Page,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let auth = page.signed_in(&state).await?;
    let id: MethodId = id.parse().map_err(|_| Error::NotFound)?;
    Ok(match sent_template(&page, &state, &auth, id, None).await? {
        Ok((status, template)) => html(status, &template),
        Err(elsewhere) => elsewhere,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub(super) code: String,
    #[serde(default)]
    pub(super) method_id: String,
    #[serde(default)]
    pub(super) delivery: String,
}

pub async fn sent_verify(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    form: Result<CsrfForm<CodeForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = page.signed_in(&state).await?;
    let id: MethodId = id.parse().map_err(|_| Error::NotFound)?;
    let error = match state
        .tessera
        .register_finish(&auth, id, &form.code, &ctx)
        .await
    {
        Ok(m) => return Ok(super::registration::after_adding(&auth, m.kind)),
        Err(e) => page.form_error(e)?,
    };
    Ok(
        match sent_template(&page, &state, &auth, id, Some(error)).await? {
            Ok((status, template)) => html(status, &template),
            Err(elsewhere) => elsewhere,
        },
    )
}

/// "I pressed #, continue": done when the call's # activated the method (the page then
/// moves on), else the same page, saying the # has not been heard yet.
pub async fn sent_continue(
    mut page: Page,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Result<CsrfForm<CodeForm>, ApiError>,
) -> Result<Response, WebError> {
    posted(form)?;
    let auth = page.signed_in(&state).await?;
    let id: MethodId = id.parse().map_err(|_| Error::NotFound)?;
    let waiting = (StatusCode::OK, page.t("sent-call-waiting"));
    Ok(
        match sent_template(&page, &state, &auth, id, Some(waiting)).await? {
            Ok((status, template)) => html(status, &template),
            Err(elsewhere) => elsewhere,
        },
    )
}

pub async fn sent_resend(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    form: Result<CsrfForm<CodeForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = page.signed_in(&state).await?;
    let id: MethodId = id.parse().map_err(|_| Error::NotFound)?;
    let error = match state
        .tessera
        .register_resend(&auth, id, Channel::parse(&form.delivery), &ctx)
        .await
    {
        Ok(_) => return Ok(Redirect::to(&format!("/security-info/sent-code/{id}")).into_response()),
        Err(e) => page.form_error(e)?,
    };
    Ok(
        match sent_template(&page, &state, &auth, id, Some(error)).await? {
            Ok((status, template)) => html(status, &template),
            Err(elsewhere) => elsewhere,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::browser_region;

    #[test]
    fn the_country_menu_starts_where_the_browser_language_says() {
        assert_eq!(browser_region("en-US,en;q=0.9").as_deref(), Some("US"));
        assert_eq!(
            browser_region("nl-NL,nl;q=0.9,en;q=0.8").as_deref(),
            Some("NL")
        );
        assert_eq!(browser_region("fr-BE").as_deref(), Some("BE"));
        assert_eq!(browser_region("zh-Hant-TW").as_deref(), Some("TW"));
        assert_eq!(browser_region("de_at").as_deref(), Some("AT"));
        assert_eq!(
            browser_region("en;q=0.5,fr-BE;q=0.9").as_deref(),
            Some("BE")
        );
        assert_eq!(browser_region("nl,en-US;q=0.7"), None, "a language alone");
        assert_eq!(
            browser_region("es-419"),
            None,
            "a wider area than a country"
        );
        assert_eq!(browser_region(""), None);
        assert_eq!(browser_region("*"), None);
    }
}
