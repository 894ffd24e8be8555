//! The policy: `/api/v1/admin/policy` (admin-only, audited) and, for a person at the
//! registration interrupt, `/api/v1/me/registration` (what is still needed, and skipping).

use super::admin::AdminAccess;
use super::types::SignedIn;
use crate::AppState;
use crate::error::{ApiError, ApiJson, ErrorBody};
use crate::i18n::Tr;
use crate::session::{Authed, Context};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tessera_core::Kind;
use tessera_core::policy::{Policy, PolicyError};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show, replace, change))
        .routes(routes!(registration))
        .routes(routes!(skip))
}

/// The policy and what an admin should know about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyResponse {
    /// Every key with its value (`tessera policy show` prints the same).
    #[schema(value_type = Object)]
    pub policy: serde_json::Value,
    /// Advice on the choices made: `security_questions` when they are on (NIST SP 800-63B
    /// and OWASP ASVS 5.0 advise against them).
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Warning {
    pub key: &'static str,
    pub message: String,
}

fn respond(policy: &Policy, tr: &Tr) -> ApiJson<PolicyResponse> {
    ApiJson(PolicyResponse {
        policy: serde_json::to_value(policy).unwrap_or_default(),
        warnings: warnings(policy, tr),
    })
}

/// What the admin is told about the policy they keep.
pub fn warnings(policy: &Policy, tr: &Tr) -> Vec<Warning> {
    let mut out = Vec::new();
    if policy.allows_reset(Kind::SecurityQuestions) {
        out.push(Warning {
            key: "reset_kinds",
            message: tr.get("policy-warning-security-questions"),
        });
    }
    if !policy.two_step_required {
        out.push(Warning {
            key: "two_step_required",
            message: tr.get("policy-warning-two-step-off"),
        });
    }
    out
}

/// The policy in force.
#[utoipa::path(get, path = "/admin/policy", tag = "admin",
    responses((status = 200, body = PolicyResponse), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    _: AdminAccess,
    tr: Tr,
) -> Result<ApiJson<PolicyResponse>, ApiError> {
    Ok(respond(&*state.tessera.policy().await?, &tr))
}

/// Replaces the policy: keys left out take their defaults; an unknown key or a value out of
/// range is `400 bad_request` and changes nothing.
#[utoipa::path(put, path = "/admin/policy", tag = "admin", request_body(content = Object),
    responses((status = 200, body = PolicyResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn replace(
    State(state): State<AppState>,
    access: AdminAccess,
    tr: Tr,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Response, ApiError> {
    save(&state, &access, &tr, body).await
}

/// Changes the keys given and keeps the others.
#[utoipa::path(patch, path = "/admin/policy", tag = "admin", request_body(content = Object),
    responses((status = 200, body = PolicyResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn change(
    State(state): State<AppState>,
    access: AdminAccess,
    tr: Tr,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Response, ApiError> {
    let mut merged = serde_json::to_value(&*state.tessera.policy().await?).unwrap_or_default();
    let (Some(target), serde_json::Value::Object(changes)) = (merged.as_object_mut(), body) else {
        return Ok(refused(&tr, "body", &tr.get("problem-invalid")));
    };
    for (key, value) in changes {
        target.insert(key, value);
    }
    save(&state, &access, &tr, merged).await
}

async fn save(
    state: &AppState,
    access: &AdminAccess,
    tr: &Tr,
    body: serde_json::Value,
) -> Result<Response, ApiError> {
    let next: Policy = match serde_json::from_value(body.clone()) {
        Ok(p) => p,
        Err(_) => {
            let key = culprit(&body);
            return Ok(refused(
                tr,
                &key,
                &tr.get("policy-problem-unknown-or-wrong-type"),
            ));
        }
    };
    match access.admin(state)?.replace_policy(next).await? {
        Ok(policy) => Ok(respond(&policy, tr).into_response()),
        Err(PolicyError::UnknownKey(key)) => Ok(refused(
            tr,
            &key,
            &tr.get("policy-problem-unknown-or-wrong-type"),
        )),
        Err(PolicyError::Invalid { key, reason }) => {
            Ok(refused(tr, &key, &policy_problem(&reason, tr)))
        }
    }
}

/// The key of a policy object that does not read: unknown, or of the wrong type (serde's
/// message names the one but not the other, so each key is tried on its own).
pub fn culprit(body: &serde_json::Value) -> String {
    let Some(map) = body.as_object() else {
        return "body".into();
    };
    let base = serde_json::to_value(Policy::default()).unwrap_or_default();
    map.iter()
        .find(|(key, value)| {
            let mut one = base.clone();
            if let Some(slot) = one.as_object_mut() {
                slot.insert((*key).clone(), (*value).clone());
            }
            serde_json::from_value::<Policy>(one).is_err()
        })
        .map_or_else(|| "policy".into(), |(key, _)| key.clone())
}

/// The validator's reason in the admin's language: ranges are translated, other reasons are
/// about values the admin typed and are shown as they are.
pub fn policy_problem(reason: &str, tr: &Tr) -> String {
    if let Some((lo, hi)) = reason
        .strip_prefix("must be ")
        .and_then(|r| r.split_once(" to "))
    {
        return tr.args(
            "policy-problem-range",
            &[("min", lo.to_string()), ("max", hi.to_string())],
        );
    }
    tr.with("policy-problem-other", "reason", reason)
}

/// `400 bad_request` naming a policy key (which is not a fixed field of a request type).
fn refused(tr: &Tr, key: &str, problem: &str) -> Response {
    let message = tr.args(
        "error-bad_request",
        &[("field", key.to_string()), ("problem", problem.to_string())],
    );
    (
        StatusCode::BAD_REQUEST,
        axum::Json(serde_json::json!({
            "error": "bad_request",
            "field": key,
            "message": message,
        })),
    )
        .into_response()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationResponse {
    /// True when nothing more is needed.
    pub met: bool,
    /// A second factor for sign-in is still needed.
    pub sign_in_method_needed: bool,
    /// How many more methods password reset needs.
    pub reset_methods_missing: u32,
    /// How many more times the person may skip this (policy).
    pub skips_left: u32,
}

/// What the person still has to register, and whether they may skip it.
#[utoipa::path(get, path = "/me/registration", tag = "me",
    responses((status = 200, body = RegistrationResponse), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn registration(
    State(state): State<AppState>,
    Authed(auth): Authed,
) -> Result<ApiJson<RegistrationResponse>, ApiError> {
    let r = state.tessera.registration(&auth).await?;
    Ok(ApiJson(RegistrationResponse {
        met: r.needs.met(),
        sign_in_method_needed: r.needs.sign_in,
        reset_methods_missing: r.needs.reset_missing,
        skips_left: r.skips_left,
    }))
}

/// Skips the registration interrupt, when the policy allows one more skip: a registration
/// session becomes a full one.
#[utoipa::path(post, path = "/me/registration/skip", tag = "me",
    responses((status = 200, body = SignedIn), (status = 403, body = ErrorBody, description = "no skips left")),
    security(("bearer" = [])))]
pub async fn skip(
    State(state): State<AppState>,
    Context(ctx): Context,
    Authed(auth): Authed,
) -> Result<ApiJson<SignedIn>, ApiError> {
    let session = state.tessera.skip_registration(&auth, &ctx).await?;
    Ok(ApiJson(SignedIn {
        status: "signed_in",
        session: session.token.to_string(),
    }))
}
