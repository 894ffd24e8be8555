//! Phones and email on the pages: adding one (country list with calling codes, number,
//! "Text me a code" or "Call me"; an address), proving it with the code that was sent (or
//! the # of a call), signing in with a text or a call, and the admins' outbox.
//!
//! No JavaScript: a call answered with # completes out of band, and the page offers an
//! "I pressed #, continue" button that asks the store where things stand.

use super::phone_sign_in;
use super::view::kind_name;
use super::{Page, WebError, html, ok, posted, session_cookies, step_up_proof};
use crate::AppState;
use crate::api::phone::{Region, region_list};
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tessera_core::message::{Channel, MessageStatus};
use tessera_core::method::phone::PhoneRequest;
use tessera_core::method::{Purpose, RegisterRequest};
use tessera_core::{Error, Kind, MethodId, SessionKind};

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
        .route("/admin/outbox", get(outbox))
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

async fn phone_template<'a>(
    page: &'a Page,
    state: &AppState,
    kind: Kind,
    form: &PhoneForm,
    error: Option<String>,
) -> Result<PhoneTemplate<'a>, WebError> {
    let policy = state.tessera.policy().await?;
    let regions: Vec<Region> = region_list(&page.tr, &policy)
        .into_iter()
        .filter(|r| r.allowed)
        .collect();
    let country = if form.country.is_empty() {
        // The organization's own region first, when the policy names one.
        policy
            .phone_countries
            .first()
            .cloned()
            .unwrap_or_else(|| "NL".into())
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
) -> Result<Response, WebError> {
    let auth = page.signed_in(&state).await?;
    step_up_proof(&state, &auth, uri.path()).await?;
    let template = phone_template(
        &page,
        &state,
        kind_of(uri.path()),
        &PhoneForm::default(),
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
            let template = phone_template(&page, &state, kind, &form, Some(message)).await?;
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
    /// Where the code form and the buttons post.
    pub(super) action: String,
    pub(super) resend: Option<String>,
    pub(super) intro: String,
    /// A call that asks for #: no code to type.
    pub(super) confirm: bool,
    pub(super) notice: Option<String>,
    pub(super) error: Option<String>,
    pub(super) cancel: String,
}

/// What a page says about the newest challenge: the intro, whether it is a call asking
/// for #, and a notice when delivery failed for good.
pub(super) fn describe(
    page: &Page,
    sent_to: &str,
    state: Option<&tessera_core::challenge::ChallengeState>,
) -> (String, bool, Option<String>) {
    let Some(state) = state else {
        return (page.t("sent-none"), false, None);
    };
    let confirm = state.challenge.is_confirm();
    let key = match (state.challenge.channel, confirm) {
        (Channel::Voice, true) => "sent-call-confirm",
        (Channel::Voice, false) => "sent-call-code",
        (Channel::Email, _) => "sent-email",
        (Channel::Sms, _) => "sent-sms",
    };
    let failed =
        (state.delivery == Some(MessageStatus::Failed)).then(|| page.t("error-delivery_failed"));
    (page.tr.with(key, "to", sent_to), confirm, failed)
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
            return Ok(Err(
                Redirect::to("/security-info?done=added").into_response()
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let latest = state
        .tessera
        .sent_challenge(id, Purpose::Register(id))
        .await?;
    let sent_to = method.label();
    let (intro, confirm, notice) = describe(page, &sent_to, latest.as_ref());
    let (status, error) = match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    Ok(Ok((
        status,
        SentTemplate {
            page,
            action: format!("/security-info/sent-code/{id}"),
            resend: Some(format!("/security-info/sent-code/{id}/resend")),
            intro,
            confirm,
            notice,
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
        Ok(_) => return finished(&state, &auth, &ctx).await,
        Err(e) => page.form_error(e)?,
    };
    Ok(
        match sent_template(&page, &state, &auth, id, Some(error)).await? {
            Ok((status, template)) => html(status, &template),
            Err(elsewhere) => elsewhere,
        },
    )
}

/// After a method is proven: a registration session becomes a full one.
async fn finished(
    state: &AppState,
    auth: &tessera_core::service::Auth,
    ctx: &tessera_core::RequestContext,
) -> Result<Response, WebError> {
    let done = Redirect::to("/security-info?done=added");
    if auth.session.kind == SessionKind::Registration
        && let Some(session) = state.tessera.complete_registration(auth, ctx).await?
    {
        return Ok((session_cookies(state, &session), done).into_response());
    }
    Ok(done.into_response())
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

// The admins' outbox.

#[derive(Template)]
#[template(path = "admin_outbox.html")]
struct OutboxTemplate<'a> {
    page: &'a Page,
    messages: Vec<crate::api::phone::OutboxMessage>,
}

pub async fn outbox(mut page: Page, State(state): State<AppState>) -> Result<Response, WebError> {
    let auth = super::admin::admin_auth(&mut page, &state).await?;
    let admin = state
        .tessera
        .admin(&auth, &tessera_core::RequestContext::default())?;
    let messages = admin.recent_messages(100).await?;
    let messages = crate::api::phone::outbox_view(&state, &messages);
    Ok(ok(&OutboxTemplate {
        page: &page,
        messages,
    }))
}
