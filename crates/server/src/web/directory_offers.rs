//! Contact info offered from the organization's directory on "My security info" (issue #19,
//! `tessera_core::directory_offers`): "Use +31 6•••••78 from your organization's directory?".
//! Accepting posts only which attribute; the number or address is read from the directory
//! again and goes through the ordinary registration, proven by the code sent to it.

use super::sign_in::EmptyForm;
use super::{Page, WebError, posted, step_up_proof};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use tessera_core::Error;
use tessera_core::directory_offers::OfferSource;
use tessera_core::service::Auth;

pub fn router() -> Router<AppState> {
    Router::new().route("/security-info/directory-offer/{source}", post(accept))
}

/// One offer as the overview shows it.
pub struct OfferView {
    pub source: &'static str,
    /// "Use +31 6•••••78 from your organization's directory as your mobile phone?"
    pub question: String,
}

/// The person's offers, worded; none whenever the directory does not answer.
pub async fn offers(state: &AppState, auth: &Auth, page: &Page) -> Vec<OfferView> {
    crate::api::directory_offers::offers_of(state, auth)
        .await
        .into_iter()
        .map(|o| OfferView {
            source: o.source,
            question: page
                .tr
                .with(&format!("directory-offer-{}", o.source), "label", o.label),
        })
        .collect()
}

pub async fn accept(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(source): Path<String>,
    form: Result<CsrfForm<EmptyForm>, ApiError>,
) -> Result<Response, WebError> {
    posted(form)?;
    let auth = page.signed_in(&state).await?;
    let source = OfferSource::parse(&source).ok_or(Error::NotFound)?;
    let proof = step_up_proof(&state, &auth, "/security-info").await?;
    match state
        .tessera
        .accept_directory_offer(&auth, source, proof, &ctx)
        .await
    {
        Ok((method, _)) => {
            Ok(Redirect::to(&format!("/security-info/sent-code/{}", method.id)).into_response())
        }
        // The directory no longer holds it, or does not answer: back to the overview, which
        // then offers what there is.
        Err(Error::NotFound) => Ok(Redirect::to("/security-info").into_response()),
        Err(e) => Err(e.into()),
    }
}
