//! `/api/v1/me/recovery-codes`: ten single-use codes for when the phone is lost. A new set
//! revokes the old one; the codes are shown once, here.

use crate::AppState;
use crate::error::{ApiError, ApiJson, ErrorBody};
use crate::session::{Authed, Context};
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use tessera_core::Error;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(state_of, generate))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodesResponse {
    pub id: String,
    /// Codes not used yet.
    pub remaining: usize,
    pub total: usize,
    /// Few are left: time for a new set.
    pub few_left: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewRecoveryCodes {
    pub id: String,
    /// Shown this once: `xxxx-xxxx-xxxx-xxxx`, each usable once.
    pub codes: Vec<String>,
    pub remaining: usize,
}

/// How many of the person's recovery codes are left (`404` without a set).
#[utoipa::path(get, path = "/me/recovery-codes", tag = "me",
    responses((status = 200, body = RecoveryCodesResponse), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn state_of(
    State(state): State<AppState>,
    Authed(auth): Authed,
) -> Result<ApiJson<RecoveryCodesResponse>, ApiError> {
    let set = state
        .tessera
        .recovery_codes_state(&auth)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(ApiJson(RecoveryCodesResponse {
        id: set.method_id.to_string(),
        remaining: set.remaining,
        total: set.total,
        few_left: set.few_left(),
        created_at: set.created_at,
    }))
}

/// Makes a new set of ten codes, revoking the old set. Needs a recent second factor when the
/// account has an active method.
#[utoipa::path(post, path = "/me/recovery-codes", tag = "me",
    responses((status = 201, body = NewRecoveryCodes),
        (status = 403, body = ErrorBody, description = "`step_up_required` or `not_allowed`")),
    security(("bearer" = [])))]
pub async fn generate(
    State(state): State<AppState>,
    Context(ctx): Context,
    Authed(auth): Authed,
) -> Result<(StatusCode, ApiJson<NewRecoveryCodes>), ApiError> {
    let proof = state.tessera.step_up_proof(&auth).await?;
    let (method, codes) = state
        .tessera
        .generate_recovery_codes(&auth, proof, &ctx)
        .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(NewRecoveryCodes {
            id: method.id.to_string(),
            remaining: codes.len(),
            codes: codes.iter().map(|c| c.to_string()).collect(),
        }),
    ))
}

/// `POST /me/security-info/methods` with `recovery_codes`: the set is active at once (there
/// is nothing to prove), so the answer carries the codes.
pub async fn add_via_methods(
    state: &AppState,
    auth: &tessera_core::service::Auth,
    ctx: &tessera_core::RequestContext,
) -> Result<super::types::AddMethodResponse, ApiError> {
    let proof = state.tessera.step_up_proof(auth).await?;
    let (method, codes) = state
        .tessera
        .generate_recovery_codes(auth, proof, ctx)
        .await?;
    Ok(super::types::AddMethodResponse {
        codes: Some(codes.iter().map(|c| c.to_string()).collect()),
        ..super::types::AddMethodResponse::from(&method)
    })
}
