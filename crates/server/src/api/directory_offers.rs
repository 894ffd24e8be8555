//! Contact info offered from the organization's directory (issue #19,
//! `tessera_core::directory_offers`): `GET /me/security-info` lists the offers masked, and
//! accepting one starts the ordinary phone or email registration with the directory's value,
//! which the client never sees.

use super::types::AddMethodResponse;
use crate::AppState;
use crate::error::{ApiError, ApiJson, ErrorBody};
use crate::session::{Authed, Context};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use tessera_core::Error;
use tessera_core::directory_offers::{DirectoryOffer, OfferSource};
use tessera_core::method::Enrollment;
use tessera_core::service::Auth;
use utoipa::ToSchema;

/// A phone number or address the organization's directory holds for the person and they
/// have not registered; masked as method labels are.
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectoryOfferView {
    /// The directory attribute: `mobile`, `telephone` (`telephoneNumber`) or `mail`; accept
    /// it at `POST /me/security-info/directory-offers/{source}`.
    pub source: &'static str,
    /// The method accepting it registers: `phone_mobile`, `phone_office` or `email`.
    #[schema(value_type = String)]
    pub kind: tessera_core::Kind,
    /// `+31 6•••••78`, `a•••@example.org`.
    pub label: String,
}

impl From<&DirectoryOffer> for DirectoryOfferView {
    fn from(o: &DirectoryOffer) -> Self {
        Self {
            source: o.source.as_str(),
            kind: o.kind,
            label: o.label.clone(),
        }
    }
}

/// The person's offers; empty for a local account and whenever the directory does not
/// answer (an offer is a convenience, never a reason to fail the page).
pub async fn offers_of(state: &AppState, auth: &Auth) -> Vec<DirectoryOfferView> {
    match state.tessera.directory_offers(auth).await {
        Ok(offers) => offers.iter().map(DirectoryOfferView::from).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "directory offers left out");
            Vec::new()
        }
    }
}

/// Starts registering the phone or address the directory holds for `source`: pending until
/// the code sent to it is verified at `…/methods/{id}/verify`, like any phone or email.
#[utoipa::path(post, path = "/me/security-info/directory-offers/{source}", tag = "me",
    params(("source" = String, Path, description = "`mobile`, `telephone` or `mail`")),
    responses((status = 201, body = AddMethodResponse), (status = 404, body = ErrorBody,
        description = "the directory offers nothing for `source` now (or does not answer)"),
        (status = 403, body = ErrorBody, description = "`step_up_required` or `not_allowed`")),
    security(("bearer" = [])))]
pub async fn accept(
    State(state): State<AppState>,
    Context(ctx): Context,
    Authed(auth): Authed,
    Path(source): Path<String>,
) -> Result<(StatusCode, ApiJson<AddMethodResponse>), ApiError> {
    let source = OfferSource::parse(&source).ok_or(Error::NotFound)?;
    let proof = state.tessera.step_up_proof(&auth).await?;
    let (method, enrollment) = state
        .tessera
        .accept_directory_offer(&auth, source, proof, &ctx)
        .await?;
    let mut response = AddMethodResponse::from(&method);
    if let Enrollment::Sent { sent_to, channel } = enrollment {
        response.sent_to = Some(sent_to);
        response.delivery = Some(channel.as_str());
    }
    Ok((StatusCode::CREATED, ApiJson(response)))
}
