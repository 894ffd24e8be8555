//! Setting up security questions: choose the policy's number of questions and answer each.
//! They only ever serve password reset. Answering again replaces the earlier answers.

use super::{Page, WebError, html, posted, step_up_proof};
use crate::AppState;
use crate::api::security_questions::question_text;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use std::collections::HashMap;
use tessera_core::Kind;
use tessera_core::method::security_questions::{ANSWER_MAX, registered};
use tessera_core::service::Auth;

const PATH: &str = "/security-info/add/security-questions";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(form).post(save))
}

/// One question to choose: (id, text).
struct QuestionOption {
    id: String,
    text: String,
}

/// One row of the form: the question chosen (if any) and its place.
struct Row {
    index: usize,
    chosen: Option<String>,
}

#[derive(Template)]
#[template(path = "security_questions.html")]
struct QuestionsTemplate<'a> {
    page: &'a Page,
    intro: String,
    options: Vec<QuestionOption>,
    rows: Vec<Row>,
    answer_max: usize,
    replacing: bool,
    error: Option<String>,
}

/// The person's session, if the policy lets them have security questions at all.
async fn allowed(page: &mut Page, state: &AppState) -> Result<Auth, WebError> {
    let auth = page.signed_in(state).await?;
    state.tessera.may_add(Kind::SecurityQuestions).await?;
    Ok(auth)
}

async fn questions_page(
    page: &Page,
    state: &AppState,
    auth: &Auth,
    chosen: Vec<Option<String>>,
    error: Option<(StatusCode, String)>,
) -> Result<Response, WebError> {
    let policy = state.tessera.policy().await?;
    let custom = state.tessera.custom_questions().await?;
    let options = state
        .tessera
        .question_pool()
        .await?
        .into_iter()
        .map(|id| QuestionOption {
            text: question_text(&id, &page.tr, &custom),
            id,
        })
        .collect();
    let count = policy.security_questions_to_register as usize;
    let rows = (0..count)
        .map(|index| Row {
            index,
            chosen: chosen.get(index).cloned().flatten(),
        })
        .collect();
    let replacing = state.tessera.security_questions_of(auth).await?.is_some();
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    Ok(html(
        status,
        &QuestionsTemplate {
            page,
            intro: page.tr.with("questions-intro", "count", count),
            options,
            rows,
            answer_max: ANSWER_MAX,
            replacing,
            error,
        },
    ))
}

pub async fn form(mut page: Page, State(state): State<AppState>) -> Result<Response, WebError> {
    let auth = allowed(&mut page, &state).await?;
    step_up_proof(&state, &auth, PATH).await?;
    // Answering again starts from the questions chosen before (never their answers).
    let before: Vec<Option<String>> = state
        .tessera
        .security_questions_of(&auth)
        .await?
        .map(|m| {
            registered(&m)
                .into_iter()
                .map(|a| Some(a.question.clone()))
                .collect()
        })
        .unwrap_or_default();
    questions_page(&page, &state, &auth, before, None).await
}

/// `question-<i>` and `answer-<i>` for each row.
pub async fn save(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<HashMap<String, String>>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = allowed(&mut page, &state).await?;
    let proof = step_up_proof(&state, &auth, PATH).await?;
    let count = state.tessera.policy().await?.security_questions_to_register as usize;
    let chosen: Vec<Option<String>> = (0..count)
        .map(|i| {
            form.get(&format!("question-{i}"))
                .filter(|q| !q.is_empty())
                .cloned()
        })
        .collect();
    let answers: Vec<(String, String)> = (0..count)
        .map(|i| {
            (
                chosen[i].clone().unwrap_or_default(),
                form.get(&format!("answer-{i}"))
                    .cloned()
                    .unwrap_or_default(),
            )
        })
        .collect();
    match state
        .tessera
        .register_security_questions(&auth, &answers, proof, &ctx)
        .await
    {
        Ok(_) => Ok(super::registration::after_adding(
            &auth,
            tessera_core::Kind::SecurityQuestions,
        )),
        Err(e) => {
            let error = page.form_error(e)?;
            questions_page(&page, &state, &auth, chosen, Some(error)).await
        }
    }
}
