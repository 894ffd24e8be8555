//! Security questions: `/api/v1/me/security-questions` (a person's answers, a reset gate
//! only) and `/api/v1/admin/security-questions` (the organization's own questions). Texts
//! come in the request's language: built-in questions from the catalog (`question-<id>`),
//! the admin's from their text per language.

use super::admin::AdminAccess;
use super::types::ChallengeResponse;
use crate::AppState;
use crate::error::{ApiError, ApiJson, ErrorBody};
use crate::i18n::Tr;
use crate::session::{Authed, Context};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tessera_core::method::security_questions::{self, CustomQuestion};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(mine, register))
        .routes(routes!(admin_list, admin_add))
        .routes(routes!(admin_retire))
}

/// `POST /me/security-info/methods` with `security_questions`: the answers are active at
/// once (there is nothing to prove), so the answer carries the questions answered.
pub async fn add_via_methods(
    state: &AppState,
    auth: &tessera_core::service::Auth,
    ctx: &tessera_core::RequestContext,
    req: super::types::AddMethodRequest,
) -> Result<super::types::AddMethodResponse, ApiError> {
    let proof = state.tessera.step_up_proof(auth).await?;
    let answers: Vec<(String, String)> = req
        .answers
        .unwrap_or_default()
        .into_iter()
        .map(|a| (a.id, a.answer))
        .collect();
    let method = state
        .tessera
        .register_security_questions(auth, &answers, proof, ctx)
        .await?;
    let questions = security_questions::registered(&method)
        .into_iter()
        .map(|a| a.question.clone())
        .collect();
    Ok(super::types::AddMethodResponse {
        questions: Some(questions),
        ..super::types::AddMethodResponse::from(&method)
    })
}

/// A question's text in the page's language.
pub fn question_text(id: &str, tr: &Tr, custom: &[CustomQuestion]) -> String {
    if security_questions::is_builtin(id) {
        return tr.get(&format!("question-{id}"));
    }
    custom
        .iter()
        .find(|c| c.id == id)
        .map_or_else(|| id.to_string(), |c| c.text(tr.code()).to_string())
}

/// Puts the questions of a challenge into the request's language.
pub async fn localize_questions(
    state: &AppState,
    tr: &Tr,
    response: &mut ChallengeResponse,
) -> Result<(), ApiError> {
    if let Some(questions) = response.questions.as_mut() {
        let custom = state.tessera.custom_questions().await?;
        for q in questions {
            q.text = question_text(&q.id, tr, &custom);
        }
    }
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionText {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyQuestions {
    /// How many questions to answer when registering.
    pub to_register: u32,
    /// Every question one may choose.
    pub available: Vec<QuestionText>,
    /// The ids of the questions answered, when registered.
    pub registered: Option<Vec<String>>,
}

/// The questions one may choose, and which ones the person answered.
#[utoipa::path(get, path = "/me/security-questions", tag = "me",
    responses((status = 200, body = MyQuestions), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn mine(
    State(state): State<AppState>,
    Authed(auth): Authed,
    tr: Tr,
) -> Result<ApiJson<MyQuestions>, ApiError> {
    let policy = state.tessera.policy().await?;
    let custom = state.tessera.custom_questions().await?;
    let available = state
        .tessera
        .question_pool()
        .await?
        .into_iter()
        .map(|id| QuestionText {
            text: question_text(&id, &tr, &custom),
            id,
        })
        .collect();
    let registered = state.tessera.security_questions_of(&auth).await?.map(|m| {
        security_questions::registered(&m)
            .into_iter()
            .map(|a| a.question.clone())
            .collect()
    });
    Ok(ApiJson(MyQuestions {
        to_register: policy.security_questions_to_register,
        available,
        registered,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswerItem {
    pub id: String,
    pub answer: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterAnswers {
    pub answers: Vec<AnswerItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisteredQuestions {
    pub id: String,
    /// Always `active`.
    pub status: &'static str,
    pub questions: Vec<String>,
}

/// Registers (or replaces) the person's answers: the policy's number of questions, each
/// once, answers of at least 3 characters, all different. Needs a recent second factor
/// when the account has an active method.
#[utoipa::path(put, path = "/me/security-questions", tag = "me", request_body = RegisterAnswers,
    responses((status = 200, body = RegisteredQuestions), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "`step_up_required` or `not_allowed`")),
    security(("bearer" = [])))]
pub async fn register(
    State(state): State<AppState>,
    Context(ctx): Context,
    Authed(auth): Authed,
    ApiJson(req): ApiJson<RegisterAnswers>,
) -> Result<ApiJson<RegisteredQuestions>, ApiError> {
    let proof = state.tessera.step_up_proof(&auth).await?;
    let answers: Vec<(String, String)> =
        req.answers.into_iter().map(|a| (a.id, a.answer)).collect();
    let method = state
        .tessera
        .register_security_questions(&auth, &answers, proof, &ctx)
        .await?;
    Ok(ApiJson(RegisteredQuestions {
        id: method.id.to_string(),
        status: method.status.as_str(),
        questions: security_questions::registered(&method)
            .into_iter()
            .map(|a| a.question.clone())
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminQuestion {
    pub id: String,
    /// Language (`en`, `nl`) → text.
    pub texts: BTreeMap<String, String>,
    /// No longer offered; people who answered it keep their answer.
    pub retired: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

impl From<CustomQuestion> for AdminQuestion {
    fn from(q: CustomQuestion) -> Self {
        Self {
            id: q.id,
            texts: q.texts,
            retired: q.retired,
            created_at: q.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminQuestions {
    /// The built-in questions' ids (their texts are in the translation catalog).
    pub builtin: Vec<QuestionText>,
    pub custom: Vec<AdminQuestion>,
}

/// The built-in questions and the organization's own.
#[utoipa::path(get, path = "/admin/security-questions", tag = "admin",
    responses((status = 200, body = AdminQuestions), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn admin_list(
    State(state): State<AppState>,
    _: AdminAccess,
    tr: Tr,
) -> Result<ApiJson<AdminQuestions>, ApiError> {
    let custom = state.tessera.custom_questions().await?;
    Ok(ApiJson(AdminQuestions {
        builtin: security_questions::BUILTIN
            .iter()
            .map(|id| QuestionText {
                id: id.to_string(),
                text: question_text(id, &tr, &custom),
            })
            .collect(),
        custom: custom.into_iter().map(AdminQuestion::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewQuestion {
    /// Language (`en`, `nl`) → text; English is required.
    pub texts: BTreeMap<String, String>,
}

/// Adds a question of the organization's own, with its text per language.
#[utoipa::path(post, path = "/admin/security-questions", tag = "admin", request_body = NewQuestion,
    responses((status = 201, body = AdminQuestion), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn admin_add(
    State(state): State<AppState>,
    access: AdminAccess,
    ApiJson(req): ApiJson<NewQuestion>,
) -> Result<(StatusCode, ApiJson<AdminQuestion>), ApiError> {
    let question = access
        .admin(&state)?
        .add_security_question(req.texts)
        .await?;
    Ok((StatusCode::CREATED, ApiJson(question.into())))
}

/// Retires a question: nobody can choose it any more; answers given to it still count.
#[utoipa::path(delete, path = "/admin/security-questions/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn admin_retire(
    State(state): State<AppState>,
    access: AdminAccess,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    access.admin(&state)?.retire_security_question(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}
