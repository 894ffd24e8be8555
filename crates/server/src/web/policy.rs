//! `/admin/policy`: the organization's policy as a form (drawn in [`form`]), and its own
//! security questions. Saving replaces the whole policy, validated and audited; a refused
//! value changes nothing and is shown next to the form.

mod form;

use super::admin::{AdminNav, admin_auth, handle};
use super::{Page, WebError, html, posted};
use crate::AppState;
use crate::api::policy::{culprit, warnings};
use crate::api::security_questions::question_text;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use form::{Input, Section, from_form, label, problem, sections};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use tessera_core::policy::{Policy, PolicyError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/policy", get(show).post(save))
        .route("/admin/policy/questions", post(add_question))
        .route("/admin/policy/questions/{id}/retire", post(retire_question))
}

struct QuestionRow {
    id: String,
    text: String,
    retired: bool,
}

#[derive(Template)]
#[template(path = "admin/policy.html")]
struct PolicyTemplate<'a> {
    page: &'a Page,
    nav: AdminNav,
    sections: Vec<Section>,
    warnings: Vec<String>,
    questions: Vec<QuestionRow>,
    done: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn policy_page(
    page: &Page,
    state: &AppState,
    shown: &Map<String, Value>,
    done: Option<String>,
    error: Option<(StatusCode, String)>,
) -> Result<Response, WebError> {
    let saved = state.tessera.policy().await?;
    let custom = state.tessera.custom_questions().await?;
    let questions = custom
        .iter()
        .map(|q| QuestionRow {
            id: q.id.clone(),
            text: question_text(&q.id, &page.tr, &custom),
            retired: q.retired,
        })
        .collect();
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    Ok(html(
        status,
        &PolicyTemplate {
            page,
            nav: AdminNav { current: "policy" },
            sections: sections(&page.tr, shown),
            warnings: warnings(&saved, &page.tr)
                .into_iter()
                .map(|w| w.message)
                .collect(),
            questions,
            done,
            error,
        },
    ))
}

fn as_map(policy: &Policy) -> Map<String, Value> {
    match serde_json::to_value(policy) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

pub async fn show(
    mut page: Page,
    State(state): State<AppState>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, WebError> {
    admin_auth(&mut page, &state).await?;
    let done = match q.done.as_deref() {
        Some(what @ ("saved" | "question-added" | "question-retired")) => {
            Some(page.t(&format!("policy-done-{what}")))
        }
        _ => None,
    };
    let policy = as_map(&*state.tessera.policy().await?);
    policy_page(&page, &state, &policy, done, None).await
}

pub async fn save(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<Vec<(String, String)>>, ApiError>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let pairs = posted(form)?;
    let current = as_map(&*state.tessera.policy().await?);
    let refused = |key: &str, why: String| {
        let message = page.tr.args(
            "error-bad_request",
            &[("field", label(&page.tr, key)), ("problem", why)],
        );
        (StatusCode::BAD_REQUEST, message)
    };
    let next = match from_form(&current, &pairs) {
        Ok(next) => next,
        Err(key) => {
            let error = refused(&key, page.t("policy-problem-number"));
            return policy_page(&page, &state, &current, None, Some(error)).await;
        }
    };
    let policy: Policy = match serde_json::from_value(Value::Object(next.clone())) {
        Ok(p) => p,
        Err(_) => {
            let key = culprit(&Value::Object(next.clone()));
            let error = refused(&key, page.t("policy-problem-unknown-or-wrong-type"));
            return policy_page(&page, &state, &next, None, Some(error)).await;
        }
    };
    let error = match handle(&state, &auth, &ctx)?.replace_policy(policy).await? {
        Ok(_) => return Ok(Redirect::to("/admin/policy?done=saved").into_response()),
        Err(PolicyError::UnknownKey(key)) => {
            refused(&key, page.t("policy-problem-unknown-or-wrong-type"))
        }
        Err(PolicyError::Invalid { key, reason }) => {
            refused(&key, problem(&key, &reason, &page.tr))
        }
    };
    policy_page(&page, &state, &next, None, Some(error)).await
}

#[derive(Deserialize)]
pub struct QuestionForm {
    #[serde(default)]
    en: String,
    #[serde(default)]
    nl: String,
}

pub async fn add_question(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<QuestionForm>, ApiError>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let form = posted(form)?;
    let texts = BTreeMap::from([("en".to_string(), form.en), ("nl".to_string(), form.nl)]);
    match handle(&state, &auth, &ctx)?
        .add_security_question(texts)
        .await
    {
        Ok(_) => Ok(Redirect::to("/admin/policy?done=question-added#questions").into_response()),
        Err(e) => {
            let error = page.form_error(e)?;
            let current = as_map(&*state.tessera.policy().await?);
            policy_page(&page, &state, &current, None, Some(error)).await
        }
    }
}

#[derive(Deserialize)]
pub struct EmptyForm {}

pub async fn retire_question(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    form: Result<CsrfForm<EmptyForm>, ApiError>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    posted(form)?;
    handle(&state, &auth, &ctx)?
        .retire_security_question(&id)
        .await?;
    Ok(Redirect::to("/admin/policy?done=question-retired#questions").into_response())
}
