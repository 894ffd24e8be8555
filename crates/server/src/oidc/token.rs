//! The endpoints other servers call: token (RFC 6749 §3.2, OpenID Connect Core §3.1.3),
//! UserInfo, revocation (RFC 7009) and introspection (RFC 7662). Form-encoded requests, JSON
//! answers with `Cache-Control: no-store`, OAuth's errors: 400, or 401 with
//! `WWW-Authenticate` for a client that failed to authenticate.

use super::issuer;
use crate::AppState;
use crate::session::Context;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_core::Error;
use tessera_core::method::{Method, MethodData, MethodStatus};
use tessera_core::oidc::token::ErrorCode;
use tessera_core::oidc::{ClientCredentials, TokenError};
use zeroize::Zeroizing;

/// An OAuth error answer.
struct OAuthError {
    status: StatusCode,
    error: ErrorCode,
    description: &'static str,
}

impl OAuthError {
    fn new(error: ErrorCode, description: &'static str) -> OAuthError {
        let status = match error {
            ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        OAuthError {
            status,
            error,
            description,
        }
    }

    fn from_token(e: TokenError) -> OAuthError {
        match e {
            TokenError::OAuth { error, description } => OAuthError::new(error, description),
            TokenError::Internal(e) => {
                tracing::error!(error = ?e, "an OpenID Connect endpoint failed");
                OAuthError::new(ErrorCode::ServerError, "internal error")
            }
        }
    }

    fn internal(e: Error) -> OAuthError {
        OAuthError::from_token(TokenError::Internal(e))
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error.as_str(), "error_description": self.description });
        let mut response = no_store(self.status, body);
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6749 §5.2 asks for it when the client used Basic; a client that sent its
            // credentials in the form learns the same scheme is available.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"tessera\""),
            );
        }
        response
    }
}

fn no_store(status: StatusCode, body: Value) -> Response {
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(body),
    )
        .into_response()
}

/// A form body. Parameters sent twice are refused (RFC 6749 §3.1).
fn form<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, OAuthError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| OAuthError::new(ErrorCode::InvalidRequest, "malformed form"))?;
    let mut names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(OAuthError::new(
            ErrorCode::InvalidRequest,
            "a parameter was sent twice",
        ));
    }
    serde_urlencoded::from_bytes(body)
        .map_err(|_| OAuthError::new(ErrorCode::InvalidRequest, "malformed form"))
}

#[derive(Deserialize)]
struct ClientFields {
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// The client's credentials: HTTP Basic (`client_secret_basic`, both parts form-encoded,
/// RFC 6749 §2.3.1), or `client_id` (+ `client_secret`) in the form; not both.
fn credentials(headers: &HeaderMap, body: &Bytes) -> Result<ClientCredentials, OAuthError> {
    let fields: ClientFields = form(body)?;
    let bad = || OAuthError::new(ErrorCode::InvalidClient, "client authentication failed");
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split_once(' ')
                .filter(|(s, _)| s.eq_ignore_ascii_case("basic"))
        })
        .map(|(_, b)| b.trim().to_string());
    if let Some(encoded) = basic {
        if fields.client_secret.is_some() {
            return Err(OAuthError::new(
                ErrorCode::InvalidRequest,
                "more than one client authentication method",
            ));
        }
        let decoded = data_encoding::BASE64
            .decode(encoded.as_bytes())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(bad)?;
        let decoded = Zeroizing::new(decoded);
        let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
        let unescape = |s: &str| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
                .ok()
                .and_then(|mut v| v.pop())
                .map(|(_, v)| v)
        };
        let id = unescape(id).ok_or_else(bad)?;
        let secret = unescape(secret).ok_or_else(bad)?;
        if fields.client_id.as_ref().is_some_and(|f| *f != id) {
            return Err(OAuthError::new(
                ErrorCode::InvalidRequest,
                "client_id differs from the authenticated client",
            ));
        }
        return Ok(ClientCredentials {
            client_id: id,
            secret: Some(Zeroizing::new(secret)),
        });
    }
    let client_id = fields.client_id.filter(|c| !c.is_empty()).ok_or_else(bad)?;
    Ok(ClientCredentials {
        client_id,
        secret: fields.client_secret.map(Zeroizing::new),
    })
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
}

/// `POST /oidc/token`.
pub async fn token(
    State(state): State<AppState>,
    Context(ctx): Context,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match token_inner(&state, &ctx, &headers, &body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn token_inner(
    state: &AppState,
    ctx: &tessera_core::RequestContext,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, OAuthError> {
    let f: TokenForm = form(body)?;
    let creds = credentials(headers, body)?;
    let missing = |what| OAuthError::new(ErrorCode::InvalidRequest, what);
    let iss = issuer(state);
    let result = match f.grant_type.as_deref() {
        Some("authorization_code") => {
            let code = f
                .code
                .as_deref()
                .ok_or_else(|| missing("code is missing"))?;
            state
                .tessera
                .oidc_exchange_code(
                    &iss,
                    &creds,
                    code,
                    f.redirect_uri.as_deref(),
                    f.code_verifier.as_deref(),
                    ctx,
                )
                .await
        }
        Some("refresh_token") => {
            let refresh = f
                .refresh_token
                .as_deref()
                .ok_or_else(|| missing("refresh_token is missing"))?;
            state
                .tessera
                .oidc_refresh(&iss, &creds, refresh, f.scope.as_deref(), ctx)
                .await
        }
        None => return Err(missing("grant_type is missing")),
        Some(_) => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                "only authorization_code and refresh_token",
            ));
        }
    };
    let t = result.map_err(OAuthError::from_token)?;
    let mut body = json!({
        "access_token": t.access_token.as_str(),
        "token_type": t.token_type,
        "expires_in": t.expires_in,
        "scope": t.scope.to_string(),
    });
    if let Some(r) = &t.refresh_token {
        body["refresh_token"] = json!(r.as_str());
    }
    if let Some(id) = &t.id_token {
        body["id_token"] = json!(id);
    }
    Ok(no_store(StatusCode::OK, body))
}

/// `GET|POST /oidc/userinfo` with `Authorization: Bearer` (RFC 6750).
pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split_once(' ')
                .filter(|(s, _)| s.eq_ignore_ascii_case("bearer"))
        })
        .map(|(_, t)| t.trim().to_string());
    let refuse = |error: &'static str| {
        let value = format!("Bearer realm=\"tessera\", error=\"{error}\"");
        let mut r = no_store(StatusCode::UNAUTHORIZED, json!({ "error": error }));
        if let Ok(v) = HeaderValue::from_str(&value) {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        r
    };
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return refuse("invalid_request");
    };
    let grant = match state.tessera.oidc_access(&token).await {
        Ok(g) => g,
        Err(Error::Unauthorized) => return refuse("invalid_token"),
        Err(e) => return OAuthError::internal(e).into_response(),
    };
    let account = match state.tessera.store().account(grant.account).await {
        Ok(Some(a)) => a,
        Ok(None) => return refuse("invalid_token"),
        Err(e) => return OAuthError::internal(e.into()).into_response(),
    };
    let mut claims = json!({ "sub": account.id.to_string() });
    if grant.scope.contains("profile") {
        claims["name"] = json!(account.display_name);
        claims["preferred_username"] = json!(account.username);
    }
    if grant.scope.contains("email") {
        let proven = match state.tessera.store().methods_of(account.id).await {
            Ok(methods) => proven_emails(&methods),
            Err(e) => return OAuthError::internal(e.into()).into_response(),
        };
        // The account's address, else one the person added to their security info.
        if let Some(email) = account.email.as_ref().or(proven.first()) {
            claims["email"] = json!(email);
            // An admin's (or an import's) address is taken on trust; one the person
            // proved with a code sent to it is verified.
            claims["email_verified"] = json!(proven.iter().any(|p| p.eq_ignore_ascii_case(email)));
        }
    }
    if grant.scope.contains("groups") {
        match state.tessera.groups_of(&account).await {
            Ok(groups) => claims["groups"] = json!(groups),
            Err(e) => return OAuthError::internal(e).into_response(),
        }
    }
    no_store(StatusCode::OK, claims)
}

/// The addresses of the person's active email methods: each was proven with a code.
fn proven_emails(methods: &[Method]) -> Vec<String> {
    methods
        .iter()
        .filter(|m| m.status == MethodStatus::Active)
        .filter_map(|m| match &m.data {
            MethodData::Email { address } => Some(address.clone()),
            _ => None,
        })
        .collect()
}

#[derive(Deserialize)]
struct TokenField {
    token: Option<String>,
}

/// `POST /oidc/revoke` (RFC 7009): 200 whether or not the token was known.
pub async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let f: TokenField = form(&body)?;
        let creds = credentials(&headers, &body)?;
        let token = f
            .token
            .ok_or_else(|| OAuthError::new(ErrorCode::InvalidRequest, "token is missing"))?;
        state
            .tessera
            .oidc_revoke(&creds, &token)
            .await
            .map_err(OAuthError::from_token)
    }
    .await;
    match result {
        Ok(()) => no_store(StatusCode::OK, json!({})),
        Err(e) => e.into_response(),
    }
}

/// `POST /oidc/introspect` (RFC 7662), for clients with a secret (resource servers).
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let f: TokenField = form(&body)?;
        let creds = credentials(&headers, &body)?;
        let client = state
            .tessera
            .oidc_authenticate_client(&creds)
            .await
            .map_err(OAuthError::from_token)?;
        // A public client's id is not a secret: it may not read other clients' tokens.
        if client.is_public() {
            return Err(OAuthError::new(
                ErrorCode::InvalidClient,
                "client authentication failed",
            ));
        }
        let token = f
            .token
            .ok_or_else(|| OAuthError::new(ErrorCode::InvalidRequest, "token is missing"))?;
        state
            .tessera
            .oidc_introspect(&token)
            .await
            .map_err(OAuthError::internal)
    }
    .await;
    match result {
        Ok(Some(i)) => no_store(StatusCode::OK, json!(i)),
        Ok(None) => no_store(StatusCode::OK, json!({ "active": false })),
        Err(e) => e.into_response(),
    }
}
