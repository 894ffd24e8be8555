//! `/api/v1/me/app-passwords` (for legacy apps; checked by services through `/verify`) and
//! `/api/v1/me/password` (changing one's own password, which a temporary one requires).

use super::admin::AppPasswordSummary;
use crate::AppState;
use crate::error::{ApiError, ApiJson, ErrorBody};
use crate::session::{Authed, Context};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tessera_core::app_passwords::AppPassword;
use tessera_core::{AppPasswordId, Error};
use utoipa::ToSchema;
use zeroize::Zeroizing;

fn summary(p: &AppPassword) -> AppPasswordSummary {
    AppPasswordSummary {
        id: p.id.to_string(),
        name: p.name.clone(),
        created_at: p.created_at,
        last_used_at: p.last_used_at,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppPasswordList {
    /// Newest first.
    pub app_passwords: Vec<AppPasswordSummary>,
    /// Whether the policy allows app passwords (existing ones stop working when it does not).
    pub allowed: bool,
    pub max: u32,
}

#[utoipa::path(get, path = "/me/app-passwords", tag = "me",
    responses((status = 200, body = AppPasswordList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Authed(auth): Authed,
) -> Result<ApiJson<AppPasswordList>, ApiError> {
    let passwords = state.tessera.app_passwords(&auth).await?;
    Ok(ApiJson(AppPasswordList {
        app_passwords: passwords.iter().map(summary).collect(),
        allowed: state.tessera.policy().await?.app_passwords_allowed,
        max: tessera_core::app_passwords::MAX_PER_ACCOUNT,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateAppPasswordRequest {
    /// What it is for, e.g. "Mail on the old laptop".
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedAppPassword {
    pub app_password: AppPasswordSummary,
    /// 16 letters in four groups; shown once.
    pub password: String,
}

/// Creates an app password. Needs a recent second factor, and a policy that allows them.
#[utoipa::path(post, path = "/me/app-passwords", tag = "me", request_body = CreateAppPasswordRequest,
    responses((status = 201, body = CreatedAppPassword), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "`step_up_required` or `not_allowed`")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Context(ctx): Context,
    Authed(auth): Authed,
    ApiJson(req): ApiJson<CreateAppPasswordRequest>,
) -> Result<(StatusCode, ApiJson<CreatedAppPassword>), ApiError> {
    let proof = state.tessera.step_up_proof(&auth).await?;
    let created = state
        .tessera
        .create_app_password(&auth, &req.name, proof, &ctx)
        .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedAppPassword {
            app_password: summary(&created.app_password),
            password: created.password.to_string(),
        }),
    ))
}

#[utoipa::path(delete, path = "/me/app-passwords/{id}", tag = "me", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    Context(ctx): Context,
    Authed(auth): Authed,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: AppPasswordId = id.trim().parse().map_err(|_| Error::NotFound)?;
    state.tessera.delete_app_password(&auth, id, &ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Changes one's own password (required after an admin set a temporary one). Every other
/// session ends; this one stays.
#[utoipa::path(post, path = "/me/password", tag = "me", request_body = ChangePasswordRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "`directory_refused`: the directory's password policy said no, and nothing changed"),
        (status = 503, body = ErrorBody, description = "`directory_unavailable`: the directory did not answer; try again later")),
    security(("bearer" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    Context(ctx): Context,
    Authed(auth): Authed,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .tessera
        .change_password(
            &auth,
            Zeroizing::new(req.current_password),
            Zeroizing::new(req.new_password),
            &ctx,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
