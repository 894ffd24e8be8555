//! `/api/v1/admin/forward-auth/rules…`: the access rules of forward authentication
//! (docs/design/forward-auth.md), for admins only (a normal person gets `403 not_allowed`).
//! Rules are tried in order and the first that matches a request decides; a request that
//! matches none is denied. Every change is an audit event naming the admin.

use super::admin::AdminAccess;
use crate::AppState;
use crate::error::{ApiError, ApiJson, ErrorBody};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tessera_core::admin::Admin;
use tessera_core::forward_auth::service::{GROUP_MAX, LIST_MAX, MAX_AGE_SECS};
use tessera_core::forward_auth::{Level, NewRule};
use tessera_core::store::forward_auth::StoredRule;
use tessera_core::{Error, ForwardAuthRuleId, Problem};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, SchemaType, Type};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, change, delete))
        .routes(routes!(move_rule))
}

/// What a rule asks of the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleLevel {
    /// No sign-in at all (a public page, a health check).
    Bypass,
    /// A password alone; refused unless the policy allows it.
    OneFactor,
    /// A password and a second factor.
    #[default]
    TwoFactor,
    /// A security key or passkey.
    PhishingResistant,
}

impl From<Level> for RuleLevel {
    fn from(l: Level) -> Self {
        match l {
            Level::Bypass => RuleLevel::Bypass,
            Level::OneFactor => RuleLevel::OneFactor,
            Level::TwoFactor => RuleLevel::TwoFactor,
            Level::PhishingResistant => RuleLevel::PhishingResistant,
        }
    }
}

impl From<RuleLevel> for Level {
    fn from(l: RuleLevel) -> Self {
        match l {
            RuleLevel::Bypass => Level::Bypass,
            RuleLevel::OneFactor => Level::OneFactor,
            RuleLevel::TwoFactor => Level::TwoFactor,
            RuleLevel::PhishingResistant => Level::PhishingResistant,
        }
    }
}

/// A rule as answers show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleView {
    #[schema(format = Uuid)]
    pub id: String,
    /// Its place in the order, from 0: the first rule that matches decides.
    pub position: u32,
    /// Host names, or `*.` and a domain for every host under it (not the domain itself);
    /// Unicode names in their IDNA (`xn--`) form.
    pub domains: Vec<String>,
    /// Paths, or prefixes ending in `*`; empty: every path.
    pub paths: Vec<String>,
    pub level: RuleLevel,
    /// Empty: every account; otherwise accounts in one of these groups (`tessera-admins`
    /// for admins).
    pub groups: Vec<String>,
    /// How old the second factor may be, in seconds; `null`: as old as the session.
    pub max_age_secs: Option<u64>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

impl RuleView {
    fn new(r: &StoredRule, position: usize) -> Self {
        Self {
            id: r.id.to_string(),
            position: u32::try_from(position).unwrap_or(u32::MAX),
            domains: r.rule.domains.iter().map(ToString::to_string).collect(),
            paths: r.rule.paths.iter().cloned().map(String::from).collect(),
            level: r.rule.level.into(),
            groups: r.rule.groups.clone(),
            max_age_secs: r
                .rule
                .max_age
                .and_then(|d| u64::try_from(d.whole_seconds()).ok()),
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleList {
    /// In order: the first that matches a request decides; a request that matches none is
    /// denied.
    pub rules: Vec<RuleView>,
}

impl From<&[StoredRule]> for RuleList {
    fn from(rules: &[StoredRule]) -> Self {
        Self {
            rules: rules
                .iter()
                .enumerate()
                .map(|(i, r)| RuleView::new(r, i))
                .collect(),
        }
    }
}

/// What a rule says, as an admin writes it. Blank entries are left out, and duplicates.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RuleSettings {
    #[schema(schema_with = domains_schema)]
    pub domains: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = paths_schema)]
    pub paths: Vec<String>,
    /// `two_factor` when absent.
    #[serde(default)]
    pub level: RuleLevel,
    #[serde(default)]
    #[schema(schema_with = groups_schema)]
    pub groups: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = max_age_schema)]
    pub max_age_secs: Option<u64>,
}

fn list_schema(item: Object, min: usize, description: &str) -> Array {
    ArrayBuilder::new()
        .items(item)
        .min_items(Some(min))
        .max_items(Some(LIST_MAX))
        .description(Some(description))
        .build()
}

fn string(max: Option<usize>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(max)
        .build()
}

fn domains_schema() -> Array {
    list_schema(
        string(Some(255)),
        1,
        "Host names (`wiki.example.org`), or `*.` and a domain for every host under it \
         (`*.example.org`, not `example.org` itself): at least one.",
    )
}

fn paths_schema() -> Array {
    list_schema(
        string(None),
        0,
        "Paths (`/healthz`), or prefixes ending in `*` (`/admin/*`: `/admin` and everything \
         under it), written normalized; none: every path.",
    )
}

fn groups_schema() -> Array {
    list_schema(
        string(Some(GROUP_MAX)),
        0,
        "Only accounts in one of these groups (`tessera-admins` for admins); none: every \
         account. Not for a `bypass` rule.",
    )
}

fn max_age_schema() -> Object {
    let kind: SchemaType = [Type::Integer, Type::Null].into_iter().collect();
    ObjectBuilder::new()
        .schema_type(kind)
        .minimum(Some(MAX_AGE_SECS.0 as f64))
        .maximum(Some(MAX_AGE_SECS.1 as f64))
        .description(Some(
            "How old the second factor may be, in seconds (a fresh step for sensitive \
             paths); absent or `null`: as old as the session. Not for a `bypass` rule.",
        ))
        .build()
}

/// A new rule.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateRuleRequest {
    /// Its place, from 0: before the rule now there. Absent, or past the end: last.
    #[serde(default)]
    pub position: Option<u32>,
    #[serde(flatten)]
    pub settings: RuleSettings,
}

/// Where a rule goes.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MoveRequest {
    /// Its new place, from 0; the other rules keep their order. Past the end: last.
    pub position: u32,
}

impl RuleSettings {
    fn into_new(self) -> Result<NewRule, ApiError> {
        // PostgreSQL cannot store NUL, and no domain, path or group needs a control
        // character.
        let clean = |field: &'static str, list: &[String]| {
            if list.iter().any(|s| s.chars().any(char::is_control)) {
                Err(ApiError::from(Error::bad(field, Problem::Invalid)))
            } else {
                Ok(())
            }
        };
        clean("domains", &self.domains)?;
        clean("paths", &self.paths)?;
        clean("groups", &self.groups)?;
        Ok(NewRule {
            domains: self.domains,
            paths: self.paths,
            level: Level::from(self.level).as_str().to_string(),
            groups: self.groups,
            max_age_secs: self.max_age_secs,
        })
    }
}

/// Rule ids are UUIDs; anything else names no rule.
fn rule_id(raw: &str) -> Result<ForwardAuthRuleId, ApiError> {
    raw.parse().map_err(|_| Error::NotFound.into())
}

/// The rule with its place, or `404`.
async fn placed(admin: &Admin<'_>, id: ForwardAuthRuleId) -> Result<RuleView, ApiError> {
    let rules = admin.forward_auth_rules().await?;
    rules
        .iter()
        .position(|r| r.id == id)
        .map(|i| RuleView::new(&rules[i], i))
        .ok_or_else(|| Error::NotFound.into())
}

/// Every rule, in order.
#[utoipa::path(get, path = "/admin/forward-auth/rules", tag = "admin",
    responses((status = 200, body = RuleList), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    access: AdminAccess,
) -> Result<ApiJson<RuleList>, ApiError> {
    let rules = access.admin(&state)?.forward_auth_rules().await?;
    Ok(ApiJson(RuleList::from(rules.as_slice())))
}

/// Adds a rule, at `position` or last.
#[utoipa::path(post, path = "/admin/forward-auth/rules", tag = "admin",
    request_body = CreateRuleRequest,
    responses((status = 201, body = RuleView),
        (status = 400, description = "A field is missing or not valid (`field` names it)", body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    access: AdminAccess,
    ApiJson(req): ApiJson<CreateRuleRequest>,
) -> Result<(StatusCode, ApiJson<RuleView>), ApiError> {
    let admin = access.admin(&state)?;
    let new = req.settings.into_new()?;
    let created = admin.create_forward_auth_rule(&new, req.position).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(placed(&admin, created.id).await?),
    ))
}

/// A rule, with its place.
#[utoipa::path(get, path = "/admin/forward-auth/rules/{id}", tag = "admin",
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = RuleView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    access: AdminAccess,
    Path(id): Path<String>,
) -> Result<ApiJson<RuleView>, ApiError> {
    let admin = access.admin(&state)?;
    Ok(ApiJson(placed(&admin, rule_id(&id)?).await?))
}

/// Replaces what a rule says (fields left out take their defaults); it keeps its place.
#[utoipa::path(put, path = "/admin/forward-auth/rules/{id}", tag = "admin",
    params(("id" = String, Path, format = Uuid)), request_body = RuleSettings,
    responses((status = 200, body = RuleView),
        (status = 400, description = "A field is missing or not valid (`field` names it)", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn change(
    State(state): State<AppState>,
    access: AdminAccess,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RuleSettings>,
) -> Result<ApiJson<RuleView>, ApiError> {
    let admin = access.admin(&state)?;
    let id = rule_id(&id)?;
    // A rule that does not exist is a 404 whatever the body.
    placed(&admin, id).await?;
    admin.update_forward_auth_rule(id, &req.into_new()?).await?;
    Ok(ApiJson(placed(&admin, id).await?))
}

/// Removes a rule; requests it let through fall to the rules after it, or are denied.
#[utoipa::path(delete, path = "/admin/forward-auth/rules/{id}", tag = "admin",
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    access: AdminAccess,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let admin = access.admin(&state)?;
    admin.delete_forward_auth_rule(rule_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Moves a rule to another place; answers every rule in the new order.
#[utoipa::path(post, path = "/admin/forward-auth/rules/{id}/move", tag = "admin",
    params(("id" = String, Path, format = Uuid)), request_body = MoveRequest,
    responses((status = 200, body = RuleList), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn move_rule(
    State(state): State<AppState>,
    access: AdminAccess,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<MoveRequest>,
) -> Result<ApiJson<RuleList>, ApiError> {
    let admin = access.admin(&state)?;
    admin
        .move_forward_auth_rule(rule_id(&id)?, req.position)
        .await?;
    let rules = admin.forward_auth_rules().await?;
    Ok(ApiJson(RuleList::from(rules.as_slice())))
}
