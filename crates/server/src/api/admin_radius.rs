//! `/api/v1/admin/radius/clients…`: the RADIUS clients (docs/design/radius.md), for admins
//! only (a normal person gets `403 not_allowed`). A client's shared secret is generated and
//! shown once, in the answer that adds it. Every change is an audit event naming the admin.

use super::admin::AdminAccess;
use crate::AppState;
use crate::error::{ApiError, ApiJson, ErrorBody};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tessera_core::Error;
use tessera_core::ids::RadiusClientId;
use tessera_core::radius::RadiusClient;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(delete))
}

/// A RADIUS client as answers show it (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct RadiusClientView {
    #[schema(format = Uuid)]
    pub id: String,
    pub name: String,
    /// The address or network (CIDR) its requests come from.
    pub address: String,
    /// Requests without a valid Message-Authenticator are dropped (BlastRADIUS).
    pub require_message_authenticator: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

impl From<&RadiusClient> for RadiusClientView {
    fn from(c: &RadiusClient) -> Self {
        Self {
            id: c.id.to_string(),
            name: c.name.clone(),
            address: c.network.to_string(),
            require_message_authenticator: c.require_message_authenticator,
            created_at: c.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RadiusClientList {
    /// Oldest first.
    pub clients: Vec<RadiusClientView>,
}

/// A new client.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateRadiusClientRequest {
    /// A name for admins (unique).
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// One address (`192.0.2.10`) or a network in CIDR notation (`10.0.0.0/24`, host bits
    /// zero), IPv4 or IPv6.
    #[schema(min_length = 1, max_length = 64)]
    pub address: String,
    /// `true` when absent: requests without a valid Message-Authenticator are dropped.
    /// Turn off only for a client that cannot send it.
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub require_message_authenticator: bool,
}

fn yes() -> bool {
    true
}

/// The new client and its shared secret, shown only here.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedRadiusClient {
    pub client: RadiusClientView,
    /// 32 letters and digits; put it in the client's configuration now.
    pub secret: String,
}

/// Every RADIUS client, oldest first.
#[utoipa::path(get, path = "/admin/radius/clients", tag = "admin",
    responses((status = 200, body = RadiusClientList), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    access: AdminAccess,
) -> Result<ApiJson<RadiusClientList>, ApiError> {
    let clients = access.admin(&state)?.radius_clients().await?;
    Ok(ApiJson(RadiusClientList {
        clients: clients.iter().map(RadiusClientView::from).collect(),
    }))
}

/// Adds a client; its shared secret is in this answer only.
#[utoipa::path(post, path = "/admin/radius/clients", tag = "admin",
    request_body = CreateRadiusClientRequest,
    responses((status = 201, body = CreatedRadiusClient),
        (status = 400, description = "A field is missing, not valid or taken (`field` names it)", body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    access: AdminAccess,
    ApiJson(req): ApiJson<CreateRadiusClientRequest>,
) -> Result<(StatusCode, ApiJson<CreatedRadiusClient>), ApiError> {
    let admin = access.admin(&state)?;
    let added = admin
        .add_radius_client(&req.name, &req.address, req.require_message_authenticator)
        .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedRadiusClient {
            client: RadiusClientView::from(&added.client),
            secret: added.secret.to_string(),
        }),
    ))
}

/// Removes a client: its requests are dropped from then on.
#[utoipa::path(delete, path = "/admin/radius/clients/{id}", tag = "admin",
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    access: AdminAccess,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let admin = access.admin(&state)?;
    let id: RadiusClientId = id.parse().map_err(|_| ApiError::from(Error::NotFound))?;
    admin.remove_radius_client(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
