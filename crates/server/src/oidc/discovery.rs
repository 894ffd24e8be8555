//! OpenID Connect Discovery 1.0 and the JWKS.

use super::{
    AUTHORIZE_PATH, INTROSPECT_PATH, JWKS_PATH, LOGOUT_PATH, REVOKE_PATH, TOKEN_PATH,
    USERINFO_PATH, issuer,
};
use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tessera_core::oidc::{Acr, SigningAlg};

/// `GET /.well-known/openid-configuration`.
pub async fn configuration(State(state): State<AppState>) -> Response {
    let iss = issuer(&state);
    let at = |path: &str| format!("{iss}{path}");
    let algs: Vec<&str> = SigningAlg::ALL.iter().map(SigningAlg::as_str).collect();
    let body = json!({
        "issuer": iss,
        "authorization_endpoint": at(AUTHORIZE_PATH),
        "token_endpoint": at(TOKEN_PATH),
        "userinfo_endpoint": at(USERINFO_PATH),
        "jwks_uri": at(JWKS_PATH),
        "revocation_endpoint": at(REVOKE_PATH),
        "introspection_endpoint": at(INTROSPECT_PATH),
        "end_session_endpoint": at(LOGOUT_PATH),
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "scopes_supported": ["openid", "profile", "email", "groups", "offline_access"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "token_endpoint_auth_methods_supported":
            ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported":
            ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported":
            ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": Acr::ALL.iter().map(Acr::as_str).collect::<Vec<_>>(),
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp",
            "sid", "name", "preferred_username", "email", "email_verified", "groups"
        ],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
    });
    (
        [(header::CACHE_CONTROL, "public, max-age=3600")],
        Json(body),
    )
        .into_response()
}

/// `GET /oidc/jwks`: every published key, current and retired.
pub async fn jwks(State(state): State<AppState>) -> Response {
    match state.tessera.oidc_jwks().await {
        Ok(set) => ([(header::CACHE_CONTROL, "public, max-age=300")], Json(set)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the JWKS could not be read");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
