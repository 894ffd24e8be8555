//! `/api/v1/sign-in…`: the password, the second factor, and the flow's status.

use super::parse_id;
use super::types::*;
use crate::AppState;
use crate::error::{ApiError, ApiJson, ApiQuery, ErrorBody};
use crate::long_poll::LongPoll;
use crate::session::{Authed, Context, MaybeAuthed};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use tessera_core::flow::{FlowStatus, SignInOutcome};
use tessera_core::method::way::first_way;
use tessera_core::{Error, FlowId};
use zeroize::Zeroizing;

fn flow_id(raw: &str) -> Result<FlowId, ApiError> {
    raw.parse().map_err(|_| Error::NotFound.into())
}

/// Checks the password; says what comes next.
#[utoipa::path(post, path = "/sign-in", tag = "sign-in", request_body = SignInRequest,
    responses((status = 200, body = SignInResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "a disabled account, or `directory_refused` with the directory's reason"),
        (status = 503, body = ErrorBody, description = "`directory_unavailable`: the directory did not answer; try again later")))]
pub async fn sign_in(
    State(state): State<AppState>,
    Context(ctx): Context,
    ApiJson(req): ApiJson<SignInRequest>,
) -> Result<ApiJson<SignInResponse>, ApiError> {
    let outcome = state
        .tessera
        .sign_in(&req.username, Zeroizing::new(req.password), &ctx)
        .await?;
    Ok(ApiJson(match outcome {
        SignInOutcome::SignedIn(s) => SignInResponse::SignedIn {
            session: s.token.to_string(),
        },
        SignInOutcome::MfaRequired {
            flow,
            default_method,
            methods,
        } => {
            let policy = state.tessera.policy().await?;
            let default_way = methods
                .iter()
                .find(|m| m.id == default_method)
                .and_then(|m| first_way(m, &policy))
                .map(|w| w.as_str());
            SignInResponse::MfaRequired {
                flow: flow.to_string(),
                default_method: default_method.to_string(),
                default_way,
                methods: methods.iter().map(MethodSummary::from).collect(),
            }
        }
        SignInOutcome::RegistrationRequired { flow, session } => {
            SignInResponse::RegistrationRequired {
                flow: flow.to_string(),
                session: session.token.to_string(),
            }
        }
    }))
}

/// Starts a challenge on one of the flow's methods.
#[utoipa::path(post, path = "/sign-in/{flow}/challenge", tag = "sign-in", request_body = ChallengeRequest,
    params(("flow" = String, Path)),
    responses((status = 200, body = ChallengeResponse), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn challenge(
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(flow): Path<String>,
    ApiJson(req): ApiJson<ChallengeRequest>,
) -> Result<ApiJson<ChallengeResponse>, ApiError> {
    let method_id = parse_id(&req.method_id, "method_id")?;
    let c = state
        .tessera
        .sign_in_challenge_via(
            flow_id(&flow)?,
            method_id,
            super::phone::via(req.delivery.as_deref())?,
            &ctx,
        )
        .await?;
    Ok(ApiJson(c.into()))
}

/// Verifies the second factor; a new session on success.
#[utoipa::path(post, path = "/sign-in/{flow}/verify", tag = "sign-in", request_body = VerifyRequest,
    params(("flow" = String, Path)),
    responses((status = 200, body = SignedIn), (status = 400, body = ErrorBody), (status = 410, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(flow): Path<String>,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> Result<ApiJson<SignedIn>, ApiError> {
    let method_id = parse_id(&req.method_id, "method_id")?;
    let session = state
        .tessera
        .sign_in_respond(flow_id(&flow)?, method_id, &req.response()?, &ctx)
        .await?;
    Ok(ApiJson(SignedIn {
        status: session_status(&session),
        session: session.token.to_string(),
    }))
}

/// `registration_required` when the policy still requires security info (enough methods
/// for password reset): the session may then only register methods, and
/// `GET /sign-in/{flow}` exchanges it for a full one once the requirement is met.
fn session_status(session: &tessera_core::service::IssuedSession) -> &'static str {
    match session.session.kind {
        tessera_core::SessionKind::Full => "signed_in",
        tessera_core::SessionKind::Registration => "registration_required",
    }
}

/// Where the flow stands. With the registration session's token, a registration flow whose
/// requirement is now met completes here and answers a full session.
/// With `?wait=N` (at most 25), a flow waiting for a second factor approved out of band (a
/// notification) is held open until that happens or `N` seconds pass.
#[utoipa::path(get, path = "/sign-in/{flow}", tag = "sign-in",
    params(("flow" = String, Path), super::push::WaitQuery),
    responses((status = 200, body = FlowStatusResponse), (status = 404, body = ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    Context(ctx): Context,
    MaybeAuthed(auth): MaybeAuthed,
    Path(flow): Path<String>,
    ApiQuery(wait): ApiQuery<super::push::WaitQuery>,
) -> Result<ApiJson<FlowStatusResponse>, ApiError> {
    let flow = flow_id(&flow)?;
    let key = tessera_core::store::push::binding_key(&flow.to_string());
    let status = LongPoll::new(&state, key, wait.wait)
        .look(
            || state.tessera.sign_in_status(flow, auth.as_ref(), &ctx),
            |status| matches!(status, FlowStatus::MfaRequired),
        )
        .await?;
    let (status, session) = match status {
        FlowStatus::MfaRequired => ("mfa_required", None),
        FlowStatus::RegistrationRequired => ("registration_required", None),
        FlowStatus::SignedIn(s) => (
            s.as_ref().map_or("signed_in", session_status),
            s.map(|s| s.token.to_string()),
        ),
        FlowStatus::Denied => ("denied", None),
        FlowStatus::Expired => ("expired", None),
    };
    Ok(ApiJson(FlowStatusResponse { status, session }))
}

/// Ends the session.
#[utoipa::path(post, path = "/sign-out", tag = "sign-in",
    responses((status = 204), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn sign_out(
    State(state): State<AppState>,
    Context(ctx): Context,
    Authed(auth): Authed,
) -> Result<StatusCode, ApiError> {
    state.tessera.sign_out(&auth, &ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}
