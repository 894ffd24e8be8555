//! Phones on the pages: adding one (country list with calling codes, number, "Text me a
//! code" or "Call me"), and signing in with a text or a call. Proving it with the code that
//! was sent (or the # of a call) is `sent_code`'s page, shared with email.

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
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tessera_core::Kind;
use tessera_core::message::Channel;
use tessera_core::method::RegisterRequest;
use tessera_core::method::phone::PhoneRequest;

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
