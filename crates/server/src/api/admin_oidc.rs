//! `/api/v1/admin/oidc/…`: the OpenID Connect clients (relying parties) and the signing keys,
//! for admins only (a normal person gets `403 not_allowed`). Every change is an audit event
//! naming the admin. A client's secret is in the answer that makes it and nowhere else: the
//! store keeps its SHA-256, and no answer shows that either.

use super::admin::AdminAccess;
use crate::AppState;
use crate::error::{ApiError, ApiJson, ErrorBody};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tessera_core::oidc::{Client, CreatedClient, NewClient, Requirement, SigningAlg, StoredKey};
use tessera_core::{Error, Problem};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa::openapi::schema::{
    Array, ArrayBuilder, Object, ObjectBuilder, SchemaFormat, SchemaType, Type,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, change, delete))
        .routes(routes!(new_secret))
        .routes(routes!(rotate_keys))
}

/// What a client requires of the person's sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientRequirement {
    /// A password and any second factor.
    #[default]
    TwoStep,
    /// A security key or passkey.
    PhishingResistant,
}

impl From<ClientRequirement> for Requirement {
    fn from(r: ClientRequirement) -> Self {
        match r {
            ClientRequirement::TwoStep => Requirement::TwoStep,
            ClientRequirement::PhishingResistant => Requirement::PhishingResistant,
        }
    }
}

impl From<Requirement> for ClientRequirement {
    fn from(r: Requirement) -> Self {
        match r {
            Requirement::TwoStep => ClientRequirement::TwoStep,
            Requirement::PhishingResistant => ClientRequirement::PhishingResistant,
        }
    }
}

/// The algorithm of the client's ID tokens (`id_token_signed_response_alg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub enum IdTokenAlg {
    #[default]
    #[serde(rename = "ES256")]
    Es256,
    #[serde(rename = "RS256")]
    Rs256,
}

impl From<IdTokenAlg> for SigningAlg {
    fn from(a: IdTokenAlg) -> Self {
        match a {
            IdTokenAlg::Es256 => SigningAlg::Es256,
            IdTokenAlg::Rs256 => SigningAlg::Rs256,
        }
    }
}

impl From<SigningAlg> for IdTokenAlg {
    fn from(a: SigningAlg) -> Self {
        match a {
            SigningAlg::Es256 => IdTokenAlg::Es256,
            SigningAlg::Rs256 => IdTokenAlg::Rs256,
        }
    }
}

/// A client as answers show it: never its secret, nor the secret's hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientView {
    pub client_id: String,
    pub name: String,
    /// `false` for a public client (an app in a browser or on a device): it has no secret
    /// and must use PKCE.
    pub confidential: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    /// First-party clients get no consent page.
    pub first_party: bool,
    pub requirement: ClientRequirement,
    /// Whether the client may have refresh tokens (`offline_access`).
    pub offline_access: bool,
    pub id_token_alg: IdTokenAlg,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

impl From<&Client> for ClientView {
    fn from(c: &Client) -> Self {
        Self {
            client_id: c.client_id.clone(),
            name: c.name.clone(),
            confidential: !c.is_public(),
            redirect_uris: c.redirect_uris.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            backchannel_logout_uri: c.backchannel_logout_uri.clone(),
            first_party: c.first_party,
            requirement: c.requirement.into(),
            offline_access: c.offline_access,
            id_token_alg: c.id_token_alg.into(),
            created_at: c.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientList {
    /// By name.
    pub clients: Vec<ClientView>,
}

/// A client with its secret, which is not shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientWithSecret {
    pub client: ClientView,
    /// `null` for a public client.
    pub client_secret: Option<String>,
}

impl From<CreatedClient> for ClientWithSecret {
    fn from(c: CreatedClient) -> Self {
        Self {
            client: ClientView::from(&c.client),
            client_secret: c.secret.map(|s| s.to_string()),
        }
    }
}

fn yes() -> bool {
    true
}

/// What a client is, as an admin changes it. URIs are absolute, `https` (or `http` on
/// `localhost` or a loopback address), without fragment or user name; redirect URIs are
/// matched exactly.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClientSettings {
    /// The name people see on the consent page, up to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Where the client may ask for the person to be sent back: at least one.
    #[schema(schema_with = redirect_uris_schema)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = post_logout_uris_schema)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = backchannel_uri_schema)]
    pub backchannel_logout_uri: Option<String>,
    /// First-party clients get no consent page (`true` when absent).
    #[serde(default = "yes")]
    pub first_party: bool,
    #[serde(default)]
    pub requirement: ClientRequirement,
    #[serde(default)]
    pub offline_access: bool,
    #[serde(default)]
    pub id_token_alg: IdTokenAlg,
}

fn uri_schema(nullable: bool, description: &str) -> Object {
    let kind: SchemaType = if nullable {
        [Type::String, Type::Null].into_iter().collect()
    } else {
        Type::String.into()
    };
    ObjectBuilder::new()
        .schema_type(kind)
        .format(Some(SchemaFormat::Custom("uri".into())))
        .description(Some(description))
        .build()
}

fn redirect_uris_schema() -> Array {
    ArrayBuilder::new()
        .items(uri_schema(false, "A redirect URI"))
        .min_items(Some(1))
        .description(Some(
            "Where the client may ask for the person to be sent back (matched exactly): at \
             least one.",
        ))
        .build()
}

fn post_logout_uris_schema() -> Array {
    ArrayBuilder::new()
        .items(uri_schema(false, "A post-logout redirect URI"))
        .description(Some(
            "Where the client may send the person after signing out.",
        ))
        .build()
}

fn backchannel_uri_schema() -> Object {
    uri_schema(
        true,
        "Where Tessera posts a logout token when the person signs out.",
    )
}

/// A new client.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateClientRequest {
    /// A confidential client (a server) gets a secret; a public one (`false`) none, and must
    /// use PKCE. `true` when absent.
    #[serde(default = "yes")]
    pub confidential: bool,
    #[serde(flatten)]
    pub settings: ClientSettings,
}

impl ClientSettings {
    fn into_new(self, confidential: bool) -> Result<NewClient, ApiError> {
        // PostgreSQL cannot store NUL, and no name or URI needs a control character.
        let clean = |field: &'static str, s: &str| {
            if s.chars().any(char::is_control) {
                Err(ApiError::from(Error::bad(field, Problem::Invalid)))
            } else {
                Ok(())
            }
        };
        clean("name", &self.name)?;
        for uri in &self.redirect_uris {
            clean("redirect_uris", uri)?;
        }
        for uri in &self.post_logout_redirect_uris {
            clean("post_logout_redirect_uris", uri)?;
        }
        if let Some(uri) = &self.backchannel_logout_uri {
            clean("backchannel_logout_uri", uri)?;
        }
        Ok(NewClient {
            name: self.name,
            confidential,
            redirect_uris: self.redirect_uris,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            backchannel_logout_uri: self.backchannel_logout_uri.filter(|u| !u.is_empty()),
            first_party: self.first_party,
            requirement: self.requirement.into(),
            offline_access: self.offline_access,
            id_token_alg: self.id_token_alg.into(),
        })
    }
}

/// Client ids are made of URL-safe characters (Tessera makes them hex); anything else names
/// no client and never reaches the store, which for PostgreSQL could not even hold some.
fn client_id(raw: &str) -> Result<&str, ApiError> {
    let ok = !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(raw)
    } else {
        Err(Error::NotFound.into())
    }
}

/// Every client, by name.
#[utoipa::path(get, path = "/admin/oidc/clients", tag = "admin",
    responses((status = 200, body = ClientList), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    access: AdminAccess,
) -> Result<ApiJson<ClientList>, ApiError> {
    let clients = access.admin(&state)?.oidc_clients().await?;
    Ok(ApiJson(ClientList {
        clients: clients.iter().map(ClientView::from).collect(),
    }))
}

/// Registers a client. A confidential client's secret is in this answer only.
#[utoipa::path(post, path = "/admin/oidc/clients", tag = "admin",
    request_body = CreateClientRequest,
    responses((status = 201, body = ClientWithSecret),
        (status = 400, description = "A field is missing or not valid (`field` names it)", body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    access: AdminAccess,
    ApiJson(req): ApiJson<CreateClientRequest>,
) -> Result<(StatusCode, ApiJson<ClientWithSecret>), ApiError> {
    let admin = access.admin(&state)?;
    let new = req.settings.into_new(req.confidential)?;
    let created = admin.create_oidc_client(new).await?;
    Ok((StatusCode::CREATED, ApiJson(created.into())))
}

/// A client.
#[utoipa::path(get, path = "/admin/oidc/clients/{client_id}", tag = "admin",
    params(("client_id" = String, Path)),
    responses((status = 200, body = ClientView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    access: AdminAccess,
    Path(id): Path<String>,
) -> Result<ApiJson<ClientView>, ApiError> {
    let admin = access.admin(&state)?;
    let client = admin.oidc_client(client_id(&id)?).await?;
    Ok(ApiJson(ClientView::from(&client)))
}

/// Replaces a client's settings (fields left out take their defaults). Whether it is
/// confidential does not change, nor its secret.
#[utoipa::path(put, path = "/admin/oidc/clients/{client_id}", tag = "admin",
    params(("client_id" = String, Path)), request_body = ClientSettings,
    responses((status = 200, body = ClientView),
        (status = 400, description = "A field is missing or not valid (`field` names it)", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn change(
    State(state): State<AppState>,
    access: AdminAccess,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ClientSettings>,
) -> Result<ApiJson<ClientView>, ApiError> {
    let admin = access.admin(&state)?;
    let id = client_id(&id)?;
    // Core's own check comes first, so a client that does not exist is a 404 whatever the
    // body; the flag it keeps is read from the stored client.
    let confidential = !admin.oidc_client(id).await?.is_public();
    let client = admin
        .update_oidc_client(id, req.into_new(confidential)?)
        .await?;
    Ok(ApiJson(ClientView::from(&client)))
}

/// Removes a client with its codes, tokens and consents.
#[utoipa::path(delete, path = "/admin/oidc/clients/{client_id}", tag = "admin",
    params(("client_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    access: AdminAccess,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let admin = access.admin(&state)?;
    admin.delete_oidc_client(client_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives a confidential client a new secret, shown in this answer only; the old one stops
/// working at once.
#[utoipa::path(post, path = "/admin/oidc/clients/{client_id}/secret", tag = "admin",
    params(("client_id" = String, Path)),
    responses((status = 200, body = ClientWithSecret),
        (status = 400, description = "A public client has no secret (`client_id`)", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn new_secret(
    State(state): State<AppState>,
    access: AdminAccess,
    Path(id): Path<String>,
) -> Result<ApiJson<ClientWithSecret>, ApiError> {
    let admin = access.admin(&state)?;
    let created = admin.new_oidc_client_secret(client_id(&id)?).await?;
    Ok(ApiJson(created.into()))
}

/// A signing key's public side.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    /// The `kid` of the key in the JWKS and in the header of the tokens it signs.
    pub kid: String,
    pub alg: IdTokenAlg,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

impl From<&StoredKey> for KeyView {
    fn from(k: &StoredKey) -> Self {
        Self {
            kid: k.kid.clone(),
            alg: k.alg.into(),
            created_at: k.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedKeys {
    /// The new keys, one per algorithm, which sign from now on.
    pub keys: Vec<KeyView>,
    /// How long the keys they replace stay in the JWKS, so tokens they signed still check.
    pub old_keys_published_for_minutes: i64,
}

/// Makes a new signing key per algorithm. The old keys stop signing and stay in the JWKS
/// until every ID token they signed has expired.
#[utoipa::path(post, path = "/admin/oidc/keys/rotate", tag = "admin",
    responses((status = 200, body = RotatedKeys), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rotate_keys(
    State(state): State<AppState>,
    access: AdminAccess,
) -> Result<ApiJson<RotatedKeys>, ApiError> {
    let keys = access.admin(&state)?.rotate_oidc_keys().await?;
    Ok(ApiJson(RotatedKeys {
        keys: keys.iter().map(KeyView::from).collect(),
        old_keys_published_for_minutes: tessera_core::oidc::KEY_RETENTION.whole_minutes(),
    }))
}
