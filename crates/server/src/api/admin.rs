//! `/api/v1/admin/accounts…`: administering accounts. Admin-only (a normal person gets
//! `403 not_allowed`), and every change is an audit event naming the admin. [`AdminAccess`]
//! is the permission every admin route of the API takes first.

use crate::AppState;
use crate::error::{ApiError, ApiJson, ApiQuery, ErrorBody};
use crate::session::{Authed, Context};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use tessera_core::admin::{AccountOverview, Admin, NewTemporaryAccount};
use tessera_core::audit::AuditEvent;
use tessera_core::service::Auth;
use tessera_core::{Account, AccountId, AccountStatus, Error, Method, RequestContext};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use zeroize::Zeroizing;

/// A request from a signed-in admin (full session). Admin routes take it as their first
/// extractor after the state, so the permission is checked before the path, query or body is
/// read: whatever the request holds, an anonymous one gets `401 unauthorized` and a person who
/// is not an admin `403 not_allowed`, never a `400` that tells them about the input.
pub struct AdminAccess {
    auth: Auth,
    ctx: RequestContext,
}

impl FromRequestParts<AppState> for AdminAccess {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Authed(auth) = Authed::from_request_parts(parts, state).await?;
        let Ok(Context(ctx)) = Context::from_request_parts(parts, state).await;
        state.tessera.admin(&auth, &ctx)?;
        Ok(AdminAccess { auth, ctx })
    }
}

impl AdminAccess {
    /// The admin handle for this request (the capability of `tessera_core::admin`).
    pub fn admin<'a>(&self, state: &'a AppState) -> Result<Admin<'a>, ApiError> {
        Ok(state.tessera.admin(&self.auth, &self.ctx)?)
    }

    /// The admin's session and where the request came from.
    pub fn into_parts(self) -> (Auth, RequestContext) {
        (self.auth, self.ctx)
    }
}

pub(crate) fn account_id(raw: &str) -> Result<AccountId, ApiError> {
    raw.trim().parse().map_err(|_| Error::NotFound.into())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountSummary {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    /// `active` or `disabled`.
    pub status: &'static str,
    pub is_admin: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

impl From<&Account> for AccountSummary {
    fn from(a: &Account) -> Self {
        Self {
            id: a.id.to_string(),
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            email: a.email.clone(),
            status: a.status.as_str(),
            is_admin: a.is_admin,
            created_at: a.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountList {
    pub accounts: Vec<AccountSummary>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Part of a username or display name (at most 256 characters; `%` and `_` are taken
    /// literally).
    #[param(max_length = 256)]
    pub search: Option<String>,
    /// At most this many (100 by default, 1000 at most).
    pub limit: Option<u32>,
}

/// Accounts whose username or display name contains `search`, by username.
#[utoipa::path(get, path = "/admin/accounts", tag = "admin", params(ListQuery),
    responses((status = 200, body = AccountList),
        (status = 400, description = "A query that does not parse, or a `search` over 256 characters", body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    access: AdminAccess,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<ApiJson<AccountList>, ApiError> {
    let admin = access.admin(&state)?;
    let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let accounts = admin
        .list_accounts(search, q.limit.unwrap_or(100).clamp(1, 1000))
        .await?;
    Ok(ApiJson(AccountList {
        accounts: accounts.iter().map(AccountSummary::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateAccountRequest {
    pub username: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub is_admin: bool,
    /// A temporary password; one is generated when absent. Either way the person must change
    /// it at their first sign-in.
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedAccount {
    pub account: AccountSummary,
    /// To hand over to the person; it is not shown again.
    pub temporary_password: String,
}

/// Creates an account with a temporary password.
#[utoipa::path(post, path = "/admin/accounts", tag = "admin", request_body = CreateAccountRequest,
    responses((status = 201, body = CreatedAccount), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    access: AdminAccess,
    ApiJson(req): ApiJson<CreateAccountRequest>,
) -> Result<(StatusCode, ApiJson<CreatedAccount>), ApiError> {
    let admin = access.admin(&state)?;
    let (account, password) = admin
        .create_account_with_temporary_password(NewTemporaryAccount {
            username: req.username,
            display_name: req.display_name,
            email: req.email,
            is_admin: req.is_admin,
            password: req.password.filter(|p| !p.is_empty()).map(Zeroizing::new),
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedAccount {
            account: AccountSummary::from(&account),
            temporary_password: password.to_string(),
        }),
    ))
}

/// A method as an admin sees it: the label masks details (`+31 6•••••78`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminMethodView {
    pub id: String,
    #[schema(value_type = String)]
    pub kind: tessera_core::Kind,
    pub label: String,
    /// `active` or `pending`.
    pub status: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<OffsetDateTime>,
    /// When a temporary access pass ends.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
}

impl From<&Method> for AdminMethodView {
    fn from(m: &Method) -> Self {
        Self {
            id: m.id.to_string(),
            kind: m.kind,
            label: m.label(),
            status: m.status.as_str(),
            created_at: m.created_at,
            last_used_at: m.last_used_at,
            expires_at: m.expires_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppPasswordSummary {
    pub id: String,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<OffsetDateTime>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub action: &'static str,
    pub method_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// What else the event records; `null` when nothing.
    #[schema(value_type = Option<Object>)]
    pub detail: serde_json::Value,
}

impl From<&AuditEvent> for EventView {
    fn from(e: &AuditEvent) -> Self {
        Self {
            at: e.at,
            action: e.action.as_str(),
            method_id: e.method_id.map(|m| m.to_string()),
            ip: e.ip.clone(),
            user_agent: e.user_agent.clone(),
            detail: e.detail.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountDetail {
    pub account: AccountSummary,
    pub password_change_required: bool,
    pub default_method: Option<String>,
    pub methods: Vec<AdminMethodView>,
    pub app_passwords: Vec<AppPasswordSummary>,
    /// Recent events, newest first.
    pub activity: Vec<EventView>,
}

impl From<&AccountOverview> for AccountDetail {
    fn from(o: &AccountOverview) -> Self {
        Self {
            account: AccountSummary::from(&o.account),
            password_change_required: o.password_change_required,
            default_method: o.account.default_method.map(|m| m.to_string()),
            methods: o.methods.iter().map(AdminMethodView::from).collect(),
            app_passwords: o
                .app_passwords
                .iter()
                .map(|p| AppPasswordSummary {
                    id: p.id.to_string(),
                    name: p.name.clone(),
                    created_at: p.created_at,
                    last_used_at: p.last_used_at,
                })
                .collect(),
            activity: o.activity.iter().map(EventView::from).collect(),
        }
    }
}

/// An account: its methods (masked), app passwords and recent activity.
#[utoipa::path(get, path = "/admin/accounts/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = AccountDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    access: AdminAccess,
    Path(id): Path<String>,
) -> Result<ApiJson<AccountDetail>, ApiError> {
    let admin = access.admin(&state)?;
    let overview = admin.overview(account_id(&id)?).await?;
    Ok(ApiJson(AccountDetail::from(&overview)))
}

/// Disables the account and ends its sessions.
#[utoipa::path(post, path = "/admin/accounts/{id}/disable", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = AccountSummary), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn disable(
    State(state): State<AppState>,
    access: AdminAccess,
    Path(id): Path<String>,
) -> Result<ApiJson<AccountSummary>, ApiError> {
    let admin = access.admin(&state)?;
    let account = admin
        .set_account_status(account_id(&id)?, AccountStatus::Disabled)
        .await?;
    Ok(ApiJson(AccountSummary::from(&account)))
}

#[utoipa::path(post, path = "/admin/accounts/{id}/enable", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = AccountSummary), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn enable(
    State(state): State<AppState>,
    access: AdminAccess,
    Path(id): Path<String>,
) -> Result<ApiJson<AccountSummary>, ApiError> {
    let admin = access.admin(&state)?;
    let account = admin
        .set_account_status(account_id(&id)?, AccountStatus::Active)
        .await?;
    Ok(ApiJson(AccountSummary::from(&account)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedResponse {
    /// How many methods were revoked.
    pub revoked: u64,
}

/// Revokes every method and ends every session: the next sign-in registers security info
/// again.
#[utoipa::path(post, path = "/admin/accounts/{id}/require-registration", tag = "admin",
    params(("id" = String, Path)),
    responses((status = 200, body = RevokedResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn require_registration(
    State(state): State<AppState>,
    access: AdminAccess,
    Path(id): Path<String>,
) -> Result<ApiJson<RevokedResponse>, ApiError> {
    let admin = access.admin(&state)?;
    let revoked = admin.require_registration(account_id(&id)?).await?;
    Ok(ApiJson(RevokedResponse { revoked }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TemporaryPasswordRequest {
    /// The password to set; one is generated when absent.
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemporaryPasswordResponse {
    /// To hand over; the person must change it at the next sign-in.
    pub temporary_password: String,
}

/// Sets a temporary password that must be changed at the next sign-in; ends every session.
#[utoipa::path(post, path = "/admin/accounts/{id}/temporary-password", tag = "admin",
    params(("id" = String, Path)), request_body = TemporaryPasswordRequest,
    responses((status = 200, body = TemporaryPasswordResponse), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn temporary_password(
    State(state): State<AppState>,
    access: AdminAccess,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<TemporaryPasswordRequest>,
) -> Result<ApiJson<TemporaryPasswordResponse>, ApiError> {
    let admin = access.admin(&state)?;
    let password = admin
        .set_temporary_password(account_id(&id)?, req.password.map(Zeroizing::new))
        .await?;
    Ok(ApiJson(TemporaryPasswordResponse {
        temporary_password: password.to_string(),
    }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PassRequest {
    /// 10 to 43200 (30 days); 60 when absent.
    #[serde(default)]
    pub valid_for_minutes: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PassResponse {
    pub method_id: String,
    /// Ten digits, to hand over; not shown again.
    pub pass: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
}

/// Issues a temporary access pass (one use, time-limited, counts as a second factor),
/// replacing an earlier one, and notifies the person.
#[utoipa::path(post, path = "/admin/accounts/{id}/temporary-access-pass", tag = "admin",
    params(("id" = String, Path)), request_body = PassRequest,
    responses((status = 201, body = PassResponse), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn issue_pass(
    State(state): State<AppState>,
    access: AdminAccess,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<PassRequest>,
) -> Result<(StatusCode, ApiJson<PassResponse>), ApiError> {
    let admin = access.admin(&state)?;
    let issued = admin
        .issue_temporary_access_pass(account_id(&id)?, req.valid_for_minutes)
        .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(PassResponse {
            method_id: issued.method.id.to_string(),
            pass: issued.pass.to_string(),
            expires_at: issued.expires_at,
        }),
    ))
}

/// Revokes the account's temporary access pass.
#[utoipa::path(delete, path = "/admin/accounts/{id}/temporary-access-pass", tag = "admin",
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke_pass(
    State(state): State<AppState>,
    access: AdminAccess,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let admin = access.admin(&state)?;
    if admin.revoke_temporary_access_pass(account_id(&id)?).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound.into())
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EndedResponse {
    /// How many sessions ended.
    pub ended: u64,
}

/// Signs the account out everywhere.
#[utoipa::path(delete, path = "/admin/accounts/{id}/sessions", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = EndedResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn end_sessions(
    State(state): State<AppState>,
    access: AdminAccess,
    Path(id): Path<String>,
) -> Result<ApiJson<EndedResponse>, ApiError> {
    let admin = access.admin(&state)?;
    let ended = admin.end_sessions(account_id(&id)?).await?;
    Ok(ApiJson(EndedResponse { ended }))
}
