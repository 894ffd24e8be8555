//! `/api/v1/me…`: the signed-in person's security info, step-up and activity.

use super::parse_id;
use super::types::*;
use crate::AppState;
use crate::error::{ApiError, ApiJson, ApiQuery, ErrorBody};
use crate::qr;
use crate::session::{Authed, Context};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use tessera_core::method::way::{Way, first_way};
use tessera_core::method::{Enrollment, RegisterRequest};
use tessera_core::{Error, Kind, NotAllowed, Problem};

/// Who is signed in.
#[utoipa::path(get, path = "/me", tag = "me", responses((status = 200, body = Me), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn me(Authed(auth): Authed) -> ApiJson<Me> {
    ApiJson(Me {
        id: auth.account.id.to_string(),
        username: auth.account.username.clone(),
        display_name: auth.account.display_name.clone(),
        locale: auth.account.locale.clone(),
        is_admin: auth.is_admin(),
        session: auth.session.kind.as_str(),
        password_change_required: auth.password_change_required,
    })
}

#[utoipa::path(get, path = "/me/security-info", tag = "me",
    responses((status = 200, body = SecurityInfoResponse), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn security_info(
    State(state): State<AppState>,
    Authed(auth): Authed,
) -> Result<ApiJson<SecurityInfoResponse>, ApiError> {
    let info = state.tessera.security_info(&auth).await?;
    let policy = state.tessera.policy().await?;
    let default_way = info
        .methods
        .iter()
        .find(|m| Some(m.id) == info.default_method)
        .and_then(|m| first_way(m, &policy))
        .map(|w| w.as_str());
    Ok(ApiJson(SecurityInfoResponse {
        default_method: info.default_method.map(|d| d.to_string()),
        default_way,
        methods: info.methods.iter().map(MethodView::from).collect(),
        directory_offers: super::directory_offers::offers_of(&state, &auth).await,
    }))
}

/// Starts registering a method; it is pending until verified.
#[utoipa::path(post, path = "/me/security-info/methods", tag = "me", request_body = AddMethodRequest,
    responses((status = 201, body = AddMethodResponse), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "`step_up_required` or `not_allowed`")),
    security(("bearer" = [])))]
pub async fn add_method(
    State(state): State<AppState>,
    Context(ctx): Context,
    Authed(auth): Authed,
    ApiJson(req): ApiJson<AddMethodRequest>,
) -> Result<(StatusCode, ApiJson<AddMethodResponse>), ApiError> {
    let kind = Kind::parse(&req.kind).ok_or(Error::bad("kind", Problem::Invalid))?;
    let request = match kind {
        Kind::AuthenticatorCode => RegisterRequest::AuthenticatorCode { name: req.name },
        Kind::AuthenticatorApp => RegisterRequest::AuthenticatorApp { name: req.name },
        Kind::SecurityKey => RegisterRequest::SecurityKey { name: req.name },
        Kind::PhoneMobile | Kind::PhoneAlternate | Kind::PhoneOffice => {
            RegisterRequest::Phone(super::phone::phone_request(kind, &req)?)
        }
        Kind::Email => RegisterRequest::Email {
            address: req.address.clone().unwrap_or_default(),
        },
        // Active at once, replacing the person's earlier set or answers.
        Kind::RecoveryCodes => {
            let response = super::recovery_codes::add_via_methods(&state, &auth, &ctx).await?;
            return Ok((StatusCode::CREATED, ApiJson(response)));
        }
        Kind::SecurityQuestions => {
            let response =
                super::security_questions::add_via_methods(&state, &auth, &ctx, req).await?;
            return Ok((StatusCode::CREATED, ApiJson(response)));
        }
        _ => return Err(Error::NotAllowed(NotAllowed::KindUnavailable).into()),
    };
    let proof = state.tessera.step_up_proof(&auth).await?;
    let (method, enrollment) = state
        .tessera
        .register_begin(&auth, request, proof, &ctx)
        .await?;
    let mut response = AddMethodResponse::from(&method);
    match enrollment {
        Enrollment::Totp {
            secret_base32,
            otpauth_uri,
        } => {
            response.secret = Some(secret_base32);
            response.qr_svg = Some(qr::svg(&otpauth_uri).unwrap_or_default());
            response.otpauth_uri = Some(otpauth_uri);
        }
        Enrollment::WebAuthn { options } => response.webauthn = Some(options),
        Enrollment::AppActivation { code, expires_at } => {
            response.activation = Some(super::push::ActivationView::new(&state, code, expires_at));
        }
        Enrollment::Sent { sent_to, channel } => {
            response.sent_to = Some(sent_to);
            response.delivery = Some(channel.as_str());
        }
        _ => {}
    }
    Ok((StatusCode::CREATED, ApiJson(response)))
}

/// Proves a pending method with a code from it, or a security key with its attestation.
#[utoipa::path(post, path = "/me/security-info/methods/{id}/verify", tag = "me", request_body = ProofRequest,
    params(("id" = String, Path)),
    responses((status = 200, body = MethodStatusResponse), (status = 400, body = ErrorBody), (status = 410, body = ErrorBody),
        (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn verify_method(
    State(state): State<AppState>,
    Context(ctx): Context,
    Authed(auth): Authed,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ProofRequest>,
) -> Result<ApiJson<MethodStatusResponse>, ApiError> {
    let id = id.parse().map_err(|_| Error::NotFound)?;
    let method = state
        .tessera
        .register_respond(&auth, id, &req.response()?, &ctx)
        .await?;
    Ok(ApiJson(MethodStatusResponse {
        id: method.id.to_string(),
        status: method.status.as_str(),
    }))
}

#[utoipa::path(delete, path = "/me/security-info/methods/{id}", tag = "me", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_method(
    State(state): State<AppState>,
    Context(ctx): Context,
    Authed(auth): Authed,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = id.parse().map_err(|_| Error::NotFound)?;
    let proof = state.tessera.step_up_proof(&auth).await?;
    state.tessera.delete_method(&auth, id, proof, &ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/me/security-info/default", tag = "me", request_body = SetDefaultRequest,
    responses((status = 200, body = DefaultResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_default(
    State(state): State<AppState>,
    Context(ctx): Context,
    Authed(auth): Authed,
    ApiJson(req): ApiJson<SetDefaultRequest>,
) -> Result<ApiJson<DefaultResponse>, ApiError> {
    let id = parse_id(&req.method_id, "method_id")?;
    let way = match req.way.as_deref() {
        None => None,
        Some(w) => Some(Way::parse(w).ok_or(Error::bad("way", Problem::Invalid))?),
    };
    let proof = state.tessera.step_up_proof(&auth).await?;
    state
        .tessera
        .set_default_method(&auth, id, way, proof, &ctx)
        .await?;
    let policy = state.tessera.policy().await?;
    let default_way = state
        .tessera
        .security_info(&auth)
        .await?
        .methods
        .iter()
        .find(|m| m.id == id)
        .and_then(|m| first_way(m, &policy))
        .map(|w| w.as_str());
    Ok(ApiJson(DefaultResponse {
        default_method: id.to_string(),
        default_way,
    }))
}

/// Starts a step-up challenge on one of the person's methods.
#[utoipa::path(post, path = "/me/step-up", tag = "me", request_body = ChallengeRequest,
    responses((status = 200, body = ChallengeResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn step_up(
    State(state): State<AppState>,
    Context(ctx): Context,
    Authed(auth): Authed,
    ApiJson(req): ApiJson<ChallengeRequest>,
) -> Result<ApiJson<ChallengeResponse>, ApiError> {
    let id = parse_id(&req.method_id, "method_id")?;
    let via = super::phone::via(req.delivery.as_deref())?;
    let c = state
        .tessera
        .step_up_challenge_via(&auth, id, via, &ctx)
        .await?;
    Ok(ApiJson(c.into()))
}

/// Verifies a fresh second factor for this session.
#[utoipa::path(post, path = "/me/step-up/verify", tag = "me", request_body = VerifyRequest,
    responses((status = 200, body = StepUpResponse), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn step_up_verify(
    State(state): State<AppState>,
    Context(ctx): Context,
    Authed(auth): Authed,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> Result<ApiJson<StepUpResponse>, ApiError> {
    let id = parse_id(&req.method_id, "method_id")?;
    state
        .tessera
        .step_up_respond(&auth, id, &req.response()?, &ctx)
        .await?;
    Ok(ApiJson(StepUpResponse { status: "verified" }))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct ActivityQuery {
    /// How many events, newest first (at most 500).
    pub limit: Option<u32>,
}

/// The person's own sign-ins and security-info changes, newest first.
#[utoipa::path(get, path = "/me/activity", tag = "me", params(ActivityQuery),
    responses((status = 200, body = ActivityResponse), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn activity(
    State(state): State<AppState>,
    Authed(auth): Authed,
    ApiQuery(q): ApiQuery<ActivityQuery>,
) -> Result<ApiJson<ActivityResponse>, ApiError> {
    let events = state
        .tessera
        .activity(&auth, q.limit.unwrap_or(100))
        .await?;
    Ok(ApiJson(ActivityResponse {
        events: events
            .into_iter()
            .map(|e| ActivityEvent {
                at: e.at,
                action: e.action.as_str(),
                method_id: e.method_id.map(|m| m.to_string()),
                ip: e.ip,
                user_agent: e.user_agent,
            })
            .collect(),
    }))
}
