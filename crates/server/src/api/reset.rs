//! `/api/v1/reset…`: self-service password reset (API.md, "Password reset"). An unknown
//! username gets answers of the same shape; nothing is ever sent for it.

use super::parse_id;
use super::security_questions::localize_questions;
use super::types::{ChallengeRequest, ChallengeResponse, MethodSummary};
use crate::AppState;
use crate::error::{ApiError, ApiJson, ErrorBody};
use crate::i18n::Tr;
use crate::session::Context;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tessera_core::flow::reset::ResetView;
use tessera_core::method::Response;
use tessera_core::{Error, FlowId, Problem};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zeroize::Zeroizing;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(begin))
        .routes(routes!(status))
        .routes(routes!(challenge))
        .routes(routes!(verify))
        .routes(routes!(password))
}

fn flow_id(raw: &str) -> Result<FlowId, ApiError> {
    raw.parse().map_err(|_| Error::NotFound.into())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetRequest {
    pub username: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResetResponse {
    pub flow: String,
    /// 1 or 2: how many different methods must be proven.
    pub gates_required: u32,
    /// Methods proven so far.
    pub gates_passed: u32,
    /// The methods that can be a gate (labels mask details).
    pub methods: Vec<MethodSummary>,
}

impl From<ResetView> for ResetResponse {
    fn from(v: ResetView) -> Self {
        Self {
            flow: v.flow.to_string(),
            gates_required: v.gates_required,
            gates_passed: (v.gates_passed.len() as u32).min(v.gates_required),
            methods: v
                .methods
                .iter()
                .filter(|m| !v.gates_passed.contains(&m.id))
                .map(MethodSummary::from)
                .collect(),
        }
    }
}

/// Starts a reset: the gates it needs and the methods that can be one.
#[utoipa::path(post, path = "/reset", tag = "reset", request_body = ResetRequest,
    responses((status = 200, body = ResetResponse), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "reset is off"),
        (status = 429, body = ErrorBody, description = "too many resets for this account or address")))]
pub async fn begin(
    State(state): State<AppState>,
    Context(ctx): Context,
    ApiJson(req): ApiJson<ResetRequest>,
) -> Result<ApiJson<ResetResponse>, ApiError> {
    let view = state.tessera.reset_begin(&req.username, &ctx).await?;
    Ok(ApiJson(view.into()))
}

/// Where a reset stands: gates passed and the methods left.
#[utoipa::path(get, path = "/reset/{flow}", tag = "reset", params(("flow" = String, Path)),
    responses((status = 200, body = ResetResponse), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    Path(flow): Path<String>,
) -> Result<ApiJson<ResetResponse>, ApiError> {
    let view = state.tessera.reset_view(flow_id(&flow)?).await?;
    Ok(ApiJson(view.into()))
}

/// Starts a challenge on a gate: sends a code, or asks security questions.
#[utoipa::path(post, path = "/reset/{flow}/challenge", tag = "reset", request_body = ChallengeRequest,
    params(("flow" = String, Path)),
    responses((status = 200, body = ChallengeResponse), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn challenge(
    State(state): State<AppState>,
    Context(ctx): Context,
    tr: Tr,
    Path(flow): Path<String>,
    ApiJson(req): ApiJson<ChallengeRequest>,
) -> Result<ApiJson<ChallengeResponse>, ApiError> {
    let method_id = parse_id(&req.method_id, "method_id")?;
    let via = super::phone::via(req.delivery.as_deref())?;
    let challenge = state
        .tessera
        .reset_challenge_via(flow_id(&flow)?, method_id, via, &ctx)
        .await?;
    let mut response = ChallengeResponse::from(challenge);
    localize_questions(&state, &tr, &mut response).await?;
    Ok(ApiJson(response))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Answer {
    /// The question's id, as the challenge gave it.
    pub id: String,
    pub answer: String,
}

/// `{"method_id", "code"}`, `{"method_id", "answers": [{"id", "answer"}]}` or
/// `{"method_id", "webauthn": {...}}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetVerifyRequest {
    pub method_id: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub answers: Option<Vec<Answer>>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub webauthn: Option<serde_json::Value>,
}

impl ResetVerifyRequest {
    /// Exactly one of `code`, `answers` and `webauthn`.
    fn response(self) -> Result<Response, Error> {
        match (self.code, self.answers, self.webauthn) {
            (Some(code), None, None) => Ok(Response::Code(code)),
            (None, Some(answers), None) => Ok(Response::Answers(
                answers.into_iter().map(|a| (a.id, a.answer)).collect(),
            )),
            (None, None, Some(w)) => Ok(Response::WebAuthn(w)),
            (None, None, None) => Err(Error::bad("code", Problem::Required)),
            _ => Err(Error::bad("code", Problem::Invalid)),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResetProgressResponse {
    pub gates_passed: u32,
    pub gates_required: u32,
    /// After a recovery code: how many codes of the set are left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes_left: Option<usize>,
}

/// Proves a gate with a code, answers or a security key.
#[utoipa::path(post, path = "/reset/{flow}/verify", tag = "reset", request_body = ResetVerifyRequest,
    params(("flow" = String, Path)),
    responses((status = 200, body = ResetProgressResponse), (status = 400, body = ErrorBody), (status = 410, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(flow): Path<String>,
    ApiJson(req): ApiJson<ResetVerifyRequest>,
) -> Result<ApiJson<ResetProgressResponse>, ApiError> {
    let method_id = parse_id(&req.method_id, "method_id")?;
    let progress = state
        .tessera
        .reset_respond(flow_id(&flow)?, method_id, &req.response()?, &ctx)
        .await?;
    Ok(ApiJson(ResetProgressResponse {
        gates_passed: progress.gates_passed,
        gates_required: progress.gates_required,
        recovery_codes_left: progress.recovery_codes_left,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPasswordRequest {
    pub new_password: String,
}

/// Sets the new password once every gate is passed; every session of the account ends.
#[utoipa::path(post, path = "/reset/{flow}/password", tag = "reset", request_body = NewPasswordRequest,
    params(("flow" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "gates not passed yet, or `directory_refused`: the directory's password policy said no, and nothing changed"),
        (status = 410, body = ErrorBody), (status = 503, body = ErrorBody, description = "`directory_unavailable`: the directory did not answer; try again later")))]
pub async fn password(
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(flow): Path<String>,
    ApiJson(req): ApiJson<NewPasswordRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .tessera
        .reset_password(flow_id(&flow)?, Zeroizing::new(req.new_password), &ctx)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
