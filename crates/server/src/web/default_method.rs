//! "Change default sign-in method": one choice per method, and per way for a method that has
//! more than one, as Microsoft's page offers them ("Authenticator app (Phone) –
//! notification", "… – code", "Phone (+31 6•••••78) – text", "… – call").

use super::view::MethodView;
use super::{Page, WebError, posted, step_up_proof};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::i18n::Tr;
use crate::session::Context;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tessera_core::method::way::{self, Way};
use tessera_core::service::Auth;
use tessera_core::{Method, MethodId, Policy};

pub const PATH: &str = "/security-info/default";

/// One radio button: the form's value is the method's id, with `:way` when it has several.
struct Choice {
    value: String,
    label: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "default_method.html")]
struct DefaultTemplate<'a> {
    page: &'a Page,
    choices: Vec<Choice>,
    error: Option<String>,
}

/// How a sentence names the default: the method, and its way when it has a choice.
pub fn label(method: &Method, policy: &Policy, tr: &Tr) -> String {
    let view = MethodView::new(method, None, tr);
    match way::first_way(method, policy) {
        Some(way) => with_way(&view.label, way, tr),
        None => view.label,
    }
}

fn with_way(label: &str, way: Way, tr: &Tr) -> String {
    format!("{label} – {}", tr.get(&format!("way-{}", way.as_str())))
}

fn choices(methods: &[Method], default: Option<MethodId>, policy: &Policy, tr: &Tr) -> Vec<Choice> {
    let mut out = Vec::new();
    for m in methods {
        let view = MethodView::new(m, None, tr);
        let is_default = default == Some(m.id);
        let ways = way::ways(m.kind, policy);
        if ways.is_empty() {
            out.push(Choice {
                value: m.id.to_string(),
                label: view.label,
                checked: is_default,
            });
            continue;
        }
        let first = way::first_way(m, policy);
        for w in ways {
            out.push(Choice {
                value: format!("{}:{}", m.id, w.as_str()),
                label: with_way(&view.label, w, tr),
                checked: is_default && first == Some(w),
            });
        }
    }
    out
}

async fn default_page(
    page: &Page,
    state: &AppState,
    auth: &Auth,
    error: Option<String>,
) -> Result<Response, WebError> {
    // The methods that can ask for the second step, the same ones step-up offers.
    let (usable, default) = state.tessera.step_up_methods(auth).await?;
    let policy = state.tessera.policy().await?;
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(super::html(
        status,
        &DefaultTemplate {
            page,
            choices: choices(&usable, default, &policy, &page.tr),
            error,
        },
    ))
}

pub async fn default_form(
    mut page: Page,
    State(state): State<AppState>,
) -> Result<Response, WebError> {
    let auth = page.full(&state).await?;
    step_up_proof(&state, &auth, PATH).await?;
    default_page(&page, &state, &auth, None).await
}

#[derive(Deserialize)]
pub struct DefaultForm {
    #[serde(default)]
    method_id: String,
}

/// `id` or `id:way`.
fn parse_choice(value: &str) -> Option<(MethodId, Option<Way>)> {
    let (id, way) = match value.trim().split_once(':') {
        Some((id, way)) => (id, Some(Way::parse(way)?)),
        None => (value.trim(), None),
    };
    Some((id.parse().ok()?, way))
}

pub async fn set_default(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<DefaultForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = page.full(&state).await?;
    let proof = step_up_proof(&state, &auth, PATH).await?;
    let Some((method_id, way)) = parse_choice(&form.method_id) else {
        let message = page.t("default-choose");
        return default_page(&page, &state, &auth, Some(message)).await;
    };
    match state
        .tessera
        .set_default_method(&auth, method_id, way, proof, &ctx)
        .await
    {
        Ok(()) => Ok(Redirect::to("/security-info?done=default").into_response()),
        Err(e) => {
            let (_, message) = page.form_error(e)?;
            default_page(&page, &state, &auth, Some(message)).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_choice_is_an_id_with_an_optional_way() {
        let id = MethodId::new(&tessera_core::OsRandom);
        assert_eq!(parse_choice(&id.to_string()), Some((id, None)));
        assert_eq!(
            parse_choice(&format!("{id}:call")),
            Some((id, Some(Way::Call)))
        );
        assert_eq!(parse_choice(&format!("{id}:fax")), None);
        assert_eq!(parse_choice("nonsense"), None);
    }
}
