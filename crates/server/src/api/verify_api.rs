//! `POST /api/v1/verify`, the question a PAM module or a RADIUS server asks, and the service
//! credentials (API keys) admins issue for it under `/api/v1/admin/service-credentials`.

use super::admin::AdminAccess;
use crate::AppState;
use crate::error::{ApiError, ApiJson, ErrorBody};
use crate::session::Context;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use tessera_core::verify_api::{Reason, ServiceCredential, VerifyRequest as CoreRequest};
use tessera_core::{Error, ServiceCredentialId};
use time::OffsetDateTime;
use utoipa::ToSchema;
use zeroize::Zeroizing;

/// A request from a service, authenticated by its API key (`Authorization: Bearer tsk_…`).
pub struct Service(pub ServiceCredential);

impl FromRequestParts<AppState> for Service {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let key = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(Error::Unauthorized)?;
        Ok(Service(state.tessera.service_credential(key).await?))
    }
}

/// Either `password` (with `code` when the account has a second factor), or `app_password`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VerifyRequest {
    pub username: String,
    #[serde(default)]
    pub password: Option<String>,
    /// A code from the person's authenticator app or hardware token (or a recovery code, or
    /// a temporary access pass).
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub app_password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResponse {
    /// Whether to let the person in.
    pub valid: bool,
    /// `ok`, `invalid_credentials` (also for a disabled account, so the answer never confirms
    /// a password), `code_required`, `invalid_code`, `locked`, `password_change_required`,
    /// `registration_required` or `app_passwords_not_allowed`.
    pub reason: &'static str,
    /// With `locked`: seconds until codes are accepted again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// Are these credentials good? Answers `200` with yes or no and a reason; `401` for a missing,
/// unknown or revoked API key, `429` when the service or the username has spent its budget.
#[utoipa::path(post, path = "/verify", tag = "services", request_body = VerifyRequest,
    responses((status = 200, body = VerifyResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody, description = "`directory_unavailable`: the directory did not answer; try again later")),
    security(("service_key" = [])))]
pub async fn verify(
    State(state): State<AppState>,
    Context(ctx): Context,
    Service(service): Service,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> Result<ApiJson<VerifyResponse>, ApiError> {
    let reason = state
        .tessera
        .service_verify(
            &service,
            CoreRequest {
                username: req.username,
                password: req.password.map(Zeroizing::new),
                code: req.code,
                app_password: req.app_password.map(Zeroizing::new),
            },
            &ctx,
        )
        .await?;
    Ok(ApiJson(VerifyResponse {
        valid: reason.is_ok(),
        reason: reason.code(),
        retry_after: match reason {
            Reason::Locked { retry_after } => Some(retry_after),
            _ => None,
        },
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialView {
    pub id: String,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<&ServiceCredential> for CredentialView {
    fn from(c: &ServiceCredential) -> Self {
        Self {
            id: c.id.to_string(),
            name: c.name.clone(),
            created_at: c.created_at,
            last_used_at: c.last_used_at,
            revoked_at: c.revoked_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialList {
    pub credentials: Vec<CredentialView>,
}

#[utoipa::path(get, path = "/admin/service-credentials", tag = "admin",
    responses((status = 200, body = CredentialList), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    access: AdminAccess,
) -> Result<ApiJson<CredentialList>, ApiError> {
    let admin = access.admin(&state)?;
    let credentials = admin.service_credentials().await?;
    Ok(ApiJson(CredentialList {
        credentials: credentials.iter().map(CredentialView::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCredentialRequest {
    /// What the key is for, e.g. "VPN RADIUS".
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedCredential {
    pub credential: CredentialView,
    /// The API key (`tsk_…`), shown once: send it as `Authorization: Bearer`.
    pub key: String,
}

/// Issues an API key for a service.
#[utoipa::path(post, path = "/admin/service-credentials", tag = "admin",
    request_body = CreateCredentialRequest,
    responses((status = 201, body = CreatedCredential), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    access: AdminAccess,
    ApiJson(req): ApiJson<CreateCredentialRequest>,
) -> Result<(StatusCode, ApiJson<CreatedCredential>), ApiError> {
    let admin = access.admin(&state)?;
    let issued = admin.create_service_credential(&req.name).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedCredential {
            credential: CredentialView::from(&issued.credential),
            key: issued.key.to_string(),
        }),
    ))
}

/// Revokes an API key: the service's next request is refused.
#[utoipa::path(delete, path = "/admin/service-credentials/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    access: AdminAccess,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let admin = access.admin(&state)?;
    let id: ServiceCredentialId = id.trim().parse().map_err(|_| Error::NotFound)?;
    admin.revoke_service_credential(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
