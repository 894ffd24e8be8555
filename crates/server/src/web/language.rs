//! The language menu: the choice is kept in a cookie for this browser (before sign-in too)
//! and, for a signed-in person, with the account, so their other browsers follow.

use super::{Page, WebError, posted, safe_next};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::i18n::{LANG_COOKIE, LANGUAGES};
use crate::session::Context;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    next: String,
}

pub async fn choose(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<LanguageForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let back = Redirect::to(&safe_next(Some(&form.next)));
    let Some(code) = LANGUAGES
        .iter()
        .map(|(code, _)| *code)
        .find(|c| *c == form.lang)
    else {
        return Ok(back.into_response());
    };
    if let Some(auth) = page.auth(&state).await?
        && auth.account.locale.as_deref() != Some(code)
    {
        state
            .tessera
            .set_locale(&auth, Some(code.to_string()), &ctx)
            .await?;
    }
    let mut cookie = state.cookie(LANG_COOKIE, code.to_string());
    cookie.set_max_age(time::Duration::days(365));
    Ok((CookieJar::new().add(cookie), back).into_response())
}
