//! "Apps with access": the third-party OpenID Connect clients a person allowed to use their
//! account, and taking that access back (which also ends every token the app holds for
//! them). `/api/v1/me/apps` for the person, `/api/v1/admin/accounts/{id}/apps` for admins.
//! The pages (`web/apps_access.rs`, the admin account page) use [`named`] too.

use super::admin::{AdminAccess, account_id};
use crate::AppState;
use crate::error::{ApiError, ApiJson, ErrorBody};
use crate::session::{Authed, Context};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use std::collections::HashMap;
use tessera_core::Error;
use tessera_core::oidc::Consent;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(revoke))
        .routes(routes!(admin_list))
        .routes(routes!(admin_revoke))
}

/// One app and what the person granted it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppAccess {
    pub client_id: String,
    /// The app's name as the administrator registered it.
    pub name: String,
    /// The scopes granted, e.g. `openid`, `profile`, `email`, `groups`, `offline_access`.
    pub scopes: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub granted_at: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppAccessList {
    /// Most recently granted first.
    pub apps: Vec<AppAccess>,
}

/// The consents with their apps' names, most recent first. A client removed since has taken
/// its consents with it, so every consent has a name; the id stands in should one not.
pub(crate) async fn named(
    state: &AppState,
    consents: Vec<Consent>,
) -> Result<Vec<AppAccess>, Error> {
    let names = client_names(state).await?;
    let mut apps: Vec<AppAccess> = consents
        .into_iter()
        .map(|c| AppAccess {
            name: names
                .get(&c.client_id)
                .cloned()
                .unwrap_or_else(|| c.client_id.clone()),
            scopes: c.scopes.iter().map(str::to_string).collect(),
            granted_at: c.granted_at,
            client_id: c.client_id,
        })
        .collect();
    apps.sort_by_key(|a| std::cmp::Reverse(a.granted_at));
    Ok(apps)
}

/// Every registered client's name, by client id.
pub(crate) async fn client_names(state: &AppState) -> Result<HashMap<String, String>, Error> {
    Ok(state
        .tessera
        .store()
        .oidc_clients()
        .await
        .map_err(Error::from)?
        .into_iter()
        .map(|c| (c.client_id, c.name))
        .collect())
}

/// The apps the signed-in person allowed to use their account.
#[utoipa::path(get, path = "/me/apps", tag = "me", operation_id = "list_my_apps",
    responses((status = 200, body = AppAccessList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "A session that is not a full sign-in (`not_allowed`)")),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Authed(auth): Authed,
) -> Result<ApiJson<AppAccessList>, ApiError> {
    let consents = state.tessera.oidc_consents(&auth).await?;
    Ok(ApiJson(AppAccessList {
        apps: named(&state, consents).await?,
    }))
}

/// Takes an app's access back: its consent goes, and every token it holds for the person
/// stops working. Signing in to it again asks for consent again.
#[utoipa::path(delete, path = "/me/apps/{client_id}", tag = "me",
    operation_id = "revoke_my_app",
    params(("client_id" = String, Path, description = "The app's client ID")),
    responses((status = 204, description = "Access taken back"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "A session that is not a full sign-in (`not_allowed`)"),
        (status = 404, body = ErrorBody, description = "The person has not given this app access")),
    security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    Context(ctx): Context,
    Authed(auth): Authed,
    Path(client_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .tessera
        .oidc_revoke_consent(&auth, client_id.trim(), &ctx)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The apps an account allowed to use it (admins only).
#[utoipa::path(get, path = "/admin/accounts/{id}/apps", tag = "admin",
    operation_id = "list_account_apps",
    params(("id" = String, Path, description = "The account's id")),
    responses((status = 200, body = AppAccessList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not an admin (`not_allowed`)"),
        (status = 404, body = ErrorBody, description = "No account of that id")),
    security(("bearer" = [])))]
pub async fn admin_list(
    State(state): State<AppState>,
    access: AdminAccess,
    Path(id): Path<String>,
) -> Result<ApiJson<AppAccessList>, ApiError> {
    let admin = access.admin(&state)?;
    let id = account_id(&id)?;
    // An unknown account is a 404, not an empty list.
    admin.account_by_id(id).await?;
    let consents = admin.oidc_consents_of(id).await?;
    Ok(ApiJson(AppAccessList {
        apps: named(&state, consents).await?,
    }))
}

/// Takes an app's access to an account back, with every token it holds for the account
/// (admins only).
#[utoipa::path(delete, path = "/admin/accounts/{id}/apps/{client_id}", tag = "admin",
    operation_id = "revoke_account_app",
    params(("id" = String, Path, description = "The account's id"),
        ("client_id" = String, Path, description = "The app's client ID")),
    responses((status = 204, description = "Access taken back"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not an admin (`not_allowed`)"),
        (status = 404, body = ErrorBody, description = "No such account, or it has not given this app access")),
    security(("bearer" = [])))]
pub async fn admin_revoke(
    State(state): State<AppState>,
    access: AdminAccess,
    Path((id, client_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let admin = access.admin(&state)?;
    let id = account_id(&id)?;
    admin.revoke_oidc_consent(id, client_id.trim()).await?;
    Ok(StatusCode::NO_CONTENT)
}
