//! `/admin/forward-auth`: the access rules of forward authentication, in order (the first
//! that matches decides; a request matching none is denied). Adding a rule at a chosen place,
//! changing one, moving it up or down, deleting it after a confirmation. A refused field is
//! said next to that field.

use super::oidc_clients::FieldErrors;
use super::{AdminNav, admin_auth, handle};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::i18n::Tr;
use crate::session::Context;
use crate::web::{Page, WebError, html, ok, posted};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tessera_core::admin::Admin;
use tessera_core::forward_auth::service::{GROUP_MAX, LIST_MAX, MAX_AGE_SECS};
use tessera_core::forward_auth::{Level, NewRule, RuleError};
use tessera_core::store::forward_auth::StoredRule;
use tessera_core::{Error, ForwardAuthRuleId};

const PATH: &str = "/admin/forward-auth";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(list))
        .route("/admin/forward-auth/new", get(new_form).post(create))
        .route("/admin/forward-auth/{id}", get(show).post(update))
        .route("/admin/forward-auth/{id}/move", post(move_rule))
        .route(
            "/admin/forward-auth/{id}/delete",
            get(delete_form).post(delete),
        )
}

fn nav() -> AdminNav {
    AdminNav {
        current: "forward-auth",
    }
}

fn level_text(level: Level, tr: &Tr) -> String {
    tr.get(&format!("forward-auth-admin-level-{}", level.as_str()))
}

fn minutes(secs: i64) -> i64 {
    (secs + 59) / 60
}

fn domains_of(r: &StoredRule) -> String {
    let domains: Vec<String> = r.rule.domains.iter().map(ToString::to_string).collect();
    domains.join(", ")
}

/// A rule as the list shows it.
struct Row {
    id: String,
    number: usize,
    domains: String,
    paths: String,
    level: String,
    groups: String,
    max_age: String,
    first: bool,
    last: bool,
}

impl Row {
    fn new(r: &StoredRule, i: usize, count: usize, tr: &Tr) -> Self {
        let joined = |items: Vec<String>, none: &str| {
            if items.is_empty() {
                tr.get(none)
            } else {
                items.join(", ")
            }
        };
        Row {
            id: r.id.to_string(),
            number: i + 1,
            domains: domains_of(r),
            paths: joined(
                r.rule.paths.iter().cloned().map(String::from).collect(),
                "forward-auth-admin-every-path",
            ),
            level: level_text(r.rule.level, tr),
            groups: joined(r.rule.groups.clone(), "forward-auth-admin-everyone"),
            max_age: match r.rule.max_age {
                Some(d) => tr.with(
                    "forward-auth-admin-minutes",
                    "minutes",
                    minutes(d.whole_seconds()),
                ),
                None => tr.get("forward-auth-admin-no-max-age"),
            },
            first: i == 0,
            last: i + 1 == count,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/forward_auth.html")]
struct ListTemplate<'a> {
    page: &'a Page,
    nav: AdminNav,
    rows: Vec<Row>,
    done: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn list(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Query(q): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let rules = handle(&state, &auth, &ctx)?.forward_auth_rules().await?;
    let rows = rules
        .iter()
        .enumerate()
        .map(|(i, r)| Row::new(r, i, rules.len(), &page.tr))
        .collect();
    let done = match q.done.as_deref() {
        Some(d @ ("added" | "saved" | "moved" | "deleted")) => {
            Some(page.t(&format!("forward-auth-admin-done-{d}")))
        }
        _ => None,
    };
    Ok(ok(&ListTemplate {
        page: &page,
        nav: nav(),
        rows,
        done,
    }))
}

/// The form as posted (and as shown again with what was typed).
#[derive(Debug, Default, Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    domains: String,
    #[serde(default)]
    paths: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    groups: String,
    /// In minutes; blank for none.
    #[serde(default)]
    max_age: String,
    /// Only when adding: `end`, or the place (from 0) of the rule to go before.
    #[serde(default)]
    position: String,
}

/// One entry per line (or comma, for domains and groups, which cannot hold one).
fn entries(text: &str, commas: bool) -> Vec<String> {
    text.split(|c| c == '\n' || (commas && c == ','))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

impl RuleForm {
    fn of(r: &StoredRule) -> Self {
        let lines = |items: Vec<String>| items.join("\n");
        RuleForm {
            domains: lines(r.rule.domains.iter().map(ToString::to_string).collect()),
            paths: lines(r.rule.paths.iter().cloned().map(String::from).collect()),
            level: r.rule.level.as_str().into(),
            groups: lines(r.rule.groups.clone()),
            max_age: r
                .rule
                .max_age
                .map(|d| minutes(d.whole_seconds()).to_string())
                .unwrap_or_default(),
            position: String::new(),
        }
    }

    /// The rule described, or the fields to correct with what is wrong with each.
    fn to_new(&self, tr: &Tr) -> Result<NewRule, FieldErrors> {
        let mut errors = FieldErrors::default();
        if Level::parse(self.level.trim()).is_none() {
            errors.add("level", tr.get("forward-auth-admin-error-choose"));
        }
        for (field, text) in [
            ("domains", &self.domains),
            ("paths", &self.paths),
            ("groups", &self.groups),
        ] {
            if text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\r')
            {
                errors.add(field, tr.get("forward-auth-admin-error-control"));
            }
        }
        let max_age = self.max_age.trim();
        let max_age_secs = if max_age.is_empty() {
            None
        } else {
            match max_age.parse::<u64>() {
                Ok(m) => Some(m.saturating_mul(60)),
                Err(_) => {
                    errors.add("max_age", max_age_error(tr));
                    None
                }
            }
        };
        let new = NewRule {
            domains: entries(&self.domains, true),
            paths: entries(&self.paths, false),
            level: self.level.trim().to_string(),
            groups: entries(&self.groups, true),
            max_age_secs,
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        match new.validate() {
            Ok(_) => Ok(new),
            Err(e) => {
                let (field, message) = rule_error(e, tr);
                errors.add(field, message);
                Err(errors)
            }
        }
    }

    /// Where a new rule goes: `None` for the end.
    fn place(&self) -> Option<u32> {
        self.position.trim().parse().ok()
    }
}

fn max_age_error(tr: &Tr) -> String {
    tr.args(
        "forward-auth-admin-error-max-age",
        &[
            ("min", (MAX_AGE_SECS.0 / 60).to_string()),
            ("max", (MAX_AGE_SECS.1 / 60).to_string()),
        ],
    )
}

fn rule_error(e: RuleError, tr: &Tr) -> (&'static str, String) {
    let list_max = || tr.with("forward-auth-admin-error-too-many", "max", LIST_MAX);
    match e {
        RuleError::NoDomain => ("domains", tr.get("forward-auth-admin-error-no-domain")),
        RuleError::Domain(d) => (
            "domains",
            tr.with("forward-auth-admin-error-domain", "domain", d),
        ),
        RuleError::Path(p) => ("paths", tr.with("forward-auth-admin-error-path", "path", p)),
        RuleError::Level(_) => ("level", tr.get("forward-auth-admin-error-choose")),
        RuleError::Group(g) => (
            "groups",
            tr.args(
                "forward-auth-admin-error-group",
                &[("group", g), ("max", GROUP_MAX.to_string())],
            ),
        ),
        RuleError::TooMany { field } => (
            match field {
                "paths" => "paths",
                "groups" => "groups",
                _ => "domains",
            },
            list_max(),
        ),
        RuleError::MaxAge => ("max_age", max_age_error(tr)),
        RuleError::BypassWithConditions => ("level", tr.get("forward-auth-admin-error-bypass")),
    }
}

#[derive(Template)]
#[template(path = "admin/forward_auth_form.html")]
struct FormTemplate<'a> {
    page: &'a Page,
    nav: AdminNav,
    title: String,
    action: String,
    form: RuleForm,
    errors: FieldErrors,
    /// "Check the fields marked below", above the form.
    error: Option<String>,
    /// When adding: where it can go (value, text), the end last.
    places: Option<Vec<(String, String)>>,
    /// When changing: the rule's id, for the delete link.
    editing: Option<String>,
}

impl FormTemplate<'_> {
    fn levels(&self) -> Vec<(&'static str, String, bool)> {
        Level::ALL
            .into_iter()
            .map(|l| {
                let chosen = self.form.level == l.as_str();
                (l.as_str(), level_text(l, &self.page.tr), chosen)
            })
            .collect()
    }

    fn is_place(&self, value: &str) -> bool {
        let chosen = self.form.position.trim();
        chosen == value || (chosen.is_empty() && value == "end")
    }
}

fn places(rules: &[StoredRule], tr: &Tr) -> Vec<(String, String)> {
    let mut places: Vec<(String, String)> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let text = tr.args(
                "forward-auth-admin-place-before",
                &[("number", (i + 1).to_string()), ("domains", domains_of(r))],
            );
            (i.to_string(), text)
        })
        .collect();
    places.push(("end".into(), tr.get("forward-auth-admin-place-end")));
    places
}

fn form_page(
    page: &Page,
    form: RuleForm,
    errors: FieldErrors,
    adding: Option<&[StoredRule]>,
    editing: Option<&StoredRule>,
) -> Response {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let error = (!errors.is_empty()).then(|| page.t("forward-auth-admin-check-fields"));
    let (title, action) = match editing {
        Some(r) => (
            page.t("forward-auth-admin-change-title"),
            format!("{PATH}/{}", r.id),
        ),
        None => (page.t("forward-auth-admin-add"), format!("{PATH}/new")),
    };
    html(
        status,
        &FormTemplate {
            page,
            nav: nav(),
            title,
            action,
            form,
            errors,
            error,
            places: adding.map(|rules| places(rules, &page.tr)),
            editing: editing.map(|r| r.id.to_string()),
        },
    )
}

async fn new_form(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let rules = handle(&state, &auth, &ctx)?.forward_auth_rules().await?;
    let form = RuleForm {
        level: Level::TwoFactor.as_str().into(),
        ..RuleForm::default()
    };
    Ok(form_page(
        &page,
        form,
        FieldErrors::default(),
        Some(&rules),
        None,
    ))
}

async fn create(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<RuleForm>, ApiError>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let form = posted(form)?;
    let admin = handle(&state, &auth, &ctx)?;
    match form.to_new(&page.tr) {
        Ok(new) => {
            admin.create_forward_auth_rule(&new, form.place()).await?;
            Ok(Redirect::to(&format!("{PATH}?done=added")).into_response())
        }
        Err(errors) => {
            let rules = admin.forward_auth_rules().await?;
            Ok(form_page(&page, form, errors, Some(&rules), None))
        }
    }
}

/// The rule `raw` names, and its place; a 404 for anything else.
async fn find(admin: &Admin<'_>, raw: &str) -> Result<(usize, StoredRule), WebError> {
    let id: ForwardAuthRuleId = raw.trim().parse().map_err(|_| Error::NotFound)?;
    let rules = admin.forward_auth_rules().await?;
    rules
        .into_iter()
        .enumerate()
        .find(|(_, r)| r.id == id)
        .ok_or_else(|| Error::NotFound.into())
}

async fn show(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let (_, rule) = find(&handle(&state, &auth, &ctx)?, &id).await?;
    Ok(form_page(
        &page,
        RuleForm::of(&rule),
        FieldErrors::default(),
        None,
        Some(&rule),
    ))
}

async fn update(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    form: Result<CsrfForm<RuleForm>, ApiError>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let form = posted(form)?;
    let admin = handle(&state, &auth, &ctx)?;
    let (_, rule) = find(&admin, &id).await?;
    match form.to_new(&page.tr) {
        Ok(new) => {
            admin.update_forward_auth_rule(rule.id, &new).await?;
            Ok(Redirect::to(&format!("{PATH}?done=saved")).into_response())
        }
        Err(errors) => Ok(form_page(&page, form, errors, None, Some(&rule))),
    }
}

#[derive(Deserialize)]
pub struct MoveForm {
    /// `up` (towards the first) or `down`.
    #[serde(default)]
    direction: String,
}

async fn move_rule(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    form: Result<CsrfForm<MoveForm>, ApiError>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let form = posted(form)?;
    let admin = handle(&state, &auth, &ctx)?;
    let (at, rule) = find(&admin, &id).await?;
    let to = match form.direction.as_str() {
        "up" => at.saturating_sub(1),
        "down" => at + 1,
        // Only a crafted form says anything else: nothing moves.
        _ => return Ok(Redirect::to(PATH).into_response()),
    };
    admin
        .move_forward_auth_rule(rule.id, u32::try_from(to).unwrap_or(u32::MAX))
        .await?;
    Ok(Redirect::to(&format!("{PATH}?done=moved#rule-{}", rule.id)).into_response())
}

#[derive(Template)]
#[template(path = "admin/forward_auth_delete.html")]
struct DeleteTemplate<'a> {
    page: &'a Page,
    nav: AdminNav,
    row: Row,
    confirm: String,
}

async fn confirm_page(page: &Page, admin: &Admin<'_>, id: &str) -> Result<Response, WebError> {
    let (at, rule) = find(admin, id).await?;
    let row = Row::new(&rule, at, at + 1, &page.tr);
    let confirm = page.tr.args(
        "forward-auth-admin-delete-confirm",
        &[
            ("number", row.number.to_string()),
            ("domains", row.domains.clone()),
        ],
    );
    Ok(ok(&DeleteTemplate {
        page,
        nav: nav(),
        row,
        confirm,
    }))
}

async fn delete_form(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    confirm_page(&page, &handle(&state, &auth, &ctx)?, &id).await
}

/// Deletes only with `confirm=yes`, which the confirmation page's button sends; any other
/// POST shows that page.
async fn delete(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    form: Result<CsrfForm<crate::web::DeleteForm>, ApiError>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let form = posted(form)?;
    let admin = handle(&state, &auth, &ctx)?;
    if !form.confirmed() {
        return confirm_page(&page, &admin, &id).await;
    }
    let (_, rule) = find(&admin, &id).await?;
    admin.delete_forward_auth_rule(rule.id).await?;
    Ok(Redirect::to(&format!("{PATH}?done=deleted")).into_response())
}
