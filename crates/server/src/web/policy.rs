//! `/admin/policy`: the organization's policy as a form, and its own security questions.
//!
//! The form is drawn from the policy's JSON, so a key another area adds appears here without
//! a change: a flag is a checkbox, a number a number field, a list of kinds a set of
//! checkboxes, a list of words a comma-separated field. Keys are labelled from the catalog
//! (`policy-key-<key>`), else by their name. Saving replaces the whole policy, validated and
//! audited; a refused value changes nothing and is shown next to the form.

use super::admin::{AdminNav, admin_auth, handle};
use super::{Page, WebError, html, posted};
use crate::AppState;
use crate::api::policy::{culprit, policy_problem, warnings};
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
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use tessera_core::Kind;
use tessera_core::policy::{Policy, PolicyError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/policy", get(show).post(save))
        .route("/admin/policy/questions", post(add_question))
        .route("/admin/policy/questions/{id}/retire", post(retire_question))
}

/// The sections of the form, by key; keys not listed here go under "other".
const SECTIONS: [(&str, &[&str]); 4] = [
    (
        "sign-in",
        &[
            "two_step_required",
            "mfa_kinds",
            "registration_required",
            "registration_skips",
            "code_instead_of_notification",
            "report_blocks_account",
            "app_passwords_allowed",
        ],
    ),
    (
        "reset",
        &[
            "reset_enabled",
            "reset_kinds",
            "reset_methods_required",
            "security_questions_to_register",
            "security_questions_to_answer",
            "reset_attempts_per_account",
            "reset_attempts_per_ip",
            "reset_window_secs",
        ],
    ),
    (
        "codes",
        &[
            "code_secs",
            "code_length",
            "lockout_threshold",
            "lockout_secs",
            "phone_countries",
        ],
    ),
    (
        "sessions",
        &[
            "flow_secs",
            "step_up_window_secs",
            "session_idle_secs",
            "session_max_secs",
            "max_methods",
        ],
    ),
];

/// How a key is edited.
enum Input {
    Flag(bool),
    Number(String),
    /// Every kind it may hold: (kind, label, checked).
    Kinds(Vec<(String, String, bool)>),
    Words(String),
}

struct Field {
    key: String,
    label: String,
    hint: Option<String>,
    input: Input,
}

struct Section {
    title: String,
    fields: Vec<Field>,
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

fn label(page: &Page, key: &str) -> String {
    let id = format!("policy-key-{key}");
    if page.tr.has(&id) {
        page.t(&id)
    } else {
        key.to_string()
    }
}

fn hint(page: &Page, key: &str) -> Option<String> {
    let id = format!("policy-hint-{key}");
    page.tr.has(&id).then(|| page.t(&id))
}

fn field(page: &Page, key: &str, value: &Value) -> Field {
    let input = match value {
        Value::Bool(b) => Input::Flag(*b),
        Value::Number(n) => Input::Number(n.to_string()),
        Value::Array(items) if key.ends_with("_kinds") => {
            let held: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            let kinds = Kind::ALL
                .into_iter()
                .filter(|k| key != "mfa_kinds" || k.is_sign_in_factor())
                .map(|k| {
                    (
                        k.as_str().to_string(),
                        page.t(&format!("kind-{}", k.as_str())),
                        held.contains(&k.as_str()),
                    )
                })
                .collect();
            Input::Kinds(kinds)
        }
        Value::Array(items) => Input::Words(
            items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Value::String(s) => Input::Words(s.clone()),
        other => Input::Words(other.to_string()),
    };
    Field {
        key: key.to_string(),
        label: label(page, key),
        hint: hint(page, key),
        input,
    }
}

fn sections(page: &Page, policy: &Map<String, Value>) -> Vec<Section> {
    let mut out: Vec<Section> = SECTIONS
        .iter()
        .map(|(name, keys)| Section {
            title: page.t(&format!("policy-section-{name}")),
            fields: keys
                .iter()
                .filter_map(|k| policy.get(*k).map(|v| field(page, k, v)))
                .collect(),
        })
        .collect();
    let other: Vec<Field> = policy
        .iter()
        .filter(|(k, _)| !SECTIONS.iter().any(|(_, keys)| keys.contains(&k.as_str())))
        .map(|(k, v)| field(page, k, v))
        .collect();
    if !other.is_empty() {
        out.push(Section {
            title: page.t("policy-section-other"),
            fields: other,
        });
    }
    out
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
            sections: sections(page, shown),
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
    let policy = as_map(&state.tessera.policy().await?);
    policy_page(&page, &state, &policy, done, None).await
}

/// The policy as the form describes it: every key of `current`, from the posted pairs (a
/// missing checkbox is off, a list without ticks is empty, a missing field keeps its value).
/// `Err` names a key whose value is not a number.
fn from_form(
    current: &Map<String, Value>,
    pairs: &[(String, String)],
) -> Result<Map<String, Value>, String> {
    fn values<'a>(pairs: &'a [(String, String)], key: &'a str) -> impl Iterator<Item = &'a str> {
        pairs
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.trim())
    }
    let mut next = Map::new();
    for (key, old) in current {
        let value = match old {
            Value::Bool(_) => Value::Bool(values(pairs, key).any(|v| v == "true")),
            Value::Number(_) => match values(pairs, key).next() {
                Some(text) => Value::from(text.parse::<u64>().map_err(|_| key.clone())?),
                None => old.clone(),
            },
            Value::Array(_) if key.ends_with("_kinds") => Value::Array(
                values(pairs, key)
                    .map(|v| Value::String(v.to_string()))
                    .collect(),
            ),
            Value::Array(_) => Value::Array(
                values(pairs, key)
                    .flat_map(|v| v.split(','))
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(|v| Value::String(v.to_string()))
                    .collect(),
            ),
            Value::String(_) => values(pairs, key)
                .next()
                .map_or_else(|| old.clone(), |v| Value::String(v.to_string())),
            other => other.clone(),
        };
        next.insert(key.clone(), value);
    }
    Ok(next)
}

pub async fn save(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<Vec<(String, String)>>, ApiError>,
) -> Result<Response, WebError> {
    let pairs = posted(form)?;
    let auth = admin_auth(&mut page, &state).await?;
    let current = as_map(&state.tessera.policy().await?);
    let refused = |key: &str, problem: String| {
        let message = page.tr.args(
            "error-bad_request",
            &[("field", label(&page, key)), ("problem", problem)],
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
            refused(&key, policy_problem(&reason, &page.tr))
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
    let form = posted(form)?;
    let auth = admin_auth(&mut page, &state).await?;
    let texts = BTreeMap::from([("en".to_string(), form.en), ("nl".to_string(), form.nl)]);
    match handle(&state, &auth, &ctx)?
        .add_security_question(texts)
        .await
    {
        Ok(_) => Ok(Redirect::to("/admin/policy?done=question-added#questions").into_response()),
        Err(e) => {
            let error = page.form_error(e)?;
            let current = as_map(&state.tessera.policy().await?);
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
    posted(form)?;
    let auth = admin_auth(&mut page, &state).await?;
    handle(&state, &auth, &ctx)?
        .retire_security_question(&id)
        .await?;
    Ok(Redirect::to("/admin/policy?done=question-retired#questions").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_maps_back_onto_every_key() {
        let current = as_map(&Policy::default());
        let pairs: Vec<(String, String)> = [
            ("reset_kinds", "email"),
            ("reset_kinds", "security_questions"),
            ("reset_methods_required", "2"),
            ("phone_countries", "NL, BE"),
            ("reset_enabled", "true"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut pairs = pairs;
        for (k, v) in &current {
            if let Value::Number(n) = v
                && k != "reset_methods_required"
            {
                pairs.push((k.clone(), n.to_string()));
            }
        }
        let next = from_form(&current, &pairs).unwrap_or_default();
        let policy: Result<Policy, _> = serde_json::from_value(Value::Object(next));
        assert!(policy.is_ok(), "{policy:?}");
        let policy = policy.unwrap_or_default();
        assert_eq!(
            policy.reset_kinds,
            vec![Kind::Email, Kind::SecurityQuestions]
        );
        assert_eq!(policy.reset_methods_required, 2);
        assert_eq!(
            policy.phone_countries,
            vec!["NL".to_string(), "BE".to_string()]
        );
        assert!(!policy.registration_required, "an unchecked box is off");
        assert!(policy.mfa_kinds.is_empty(), "no kind ticked");
    }

    #[test]
    fn a_number_that_is_not_one_is_named() {
        let current = as_map(&Policy::default());
        let pairs = vec![("lockout_threshold".to_string(), "ten".to_string())];
        assert!(from_form(&current, &pairs).is_err());
    }
}
