//! Admin pages for accounts: search and list, create, and one account's page with its
//! methods (masked), app passwords and recent activity, and the actions an admin takes on it.
//! Secrets an action produces (a temporary password, a temporary access pass) are shown once
//! on the answer to the POST, never put in a URL.

use super::{AdminNav, admin_auth, handle};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use crate::web::view::{Stamp, browser, kind_name};
use crate::web::{Page, WebError, html, ok, posted};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tessera_core::admin::NewTemporaryAccount;
use tessera_core::method::temporary_access_pass;
use tessera_core::{Account, AccountId, AccountStatus, AuditAction, Error};
use zeroize::Zeroizing;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/accounts", get(list))
        .route("/admin/accounts/new", get(new_form).post(create))
        .route("/admin/accounts/{id}", get(show))
        .route("/admin/accounts/{id}/{action}", post(act))
}

/// The action in words; one added to the audit log before its translation still shows.
pub fn action_name(action: AuditAction, page: &Page) -> String {
    let key = format!("action-{}", action.as_str());
    if page.tr.has(&key) {
        page.t(&key)
    } else {
        action.as_str().replace('_', " ")
    }
}

fn account_id(raw: &str) -> Result<AccountId, WebError> {
    raw.trim().parse().map_err(|_| Error::NotFound.into())
}

struct AccountRow {
    id: String,
    username: String,
    display_name: String,
    status: String,
    active: bool,
    is_admin: bool,
}

impl AccountRow {
    fn new(a: &Account, page: &Page) -> Self {
        Self {
            id: a.id.to_string(),
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            status: page.t(&format!("admin-status-{}", a.status.as_str())),
            active: a.status == AccountStatus::Active,
            is_admin: a.is_admin,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/accounts.html")]
struct ListTemplate<'a> {
    page: &'a Page,
    nav: AdminNav,
    search: String,
    accounts: Vec<AccountRow>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
}

/// How many accounts one page lists; searching narrows.
const LISTED: u32 = 200;

async fn list(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let admin = handle(&state, &auth, &ctx)?;
    let search = q.q.trim().to_string();
    // A search too long to run is said above the form, which keeps what was typed.
    let (accounts, error) = match admin
        .list_accounts(Some(search.as_str()).filter(|s| !s.is_empty()), LISTED)
        .await
    {
        Ok(accounts) => (accounts, None),
        Err(e) => (Vec::new(), Some(page.form_error(e)?)),
    };
    let accounts = accounts.iter().map(|a| AccountRow::new(a, &page)).collect();
    let template = ListTemplate {
        page: &page,
        nav: AdminNav {
            current: "accounts",
        },
        search,
        accounts,
        error: error.as_ref().map(|(_, message)| message.clone()),
    };
    Ok(match error {
        Some((status, _)) => html(status, &template),
        None => ok(&template),
    })
}

#[derive(Template)]
#[template(path = "admin/account_new.html")]
struct NewTemplate<'a> {
    page: &'a Page,
    nav: AdminNav,
    username: &'a str,
    display_name: &'a str,
    email: &'a str,
    is_admin: bool,
    error: Option<String>,
}

async fn new_form(mut page: Page, State(state): State<AppState>) -> Result<Response, WebError> {
    admin_auth(&mut page, &state).await?;
    Ok(ok(&NewTemplate {
        page: &page,
        nav: AdminNav {
            current: "accounts",
        },
        username: "",
        display_name: "",
        email: "",
        is_admin: false,
        error: None,
    }))
}

#[derive(Deserialize)]
pub struct NewForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    is_admin: Option<String>,
}

/// A secret an admin hands over, shown once.
#[derive(Template)]
#[template(path = "admin/secret.html")]
pub(super) struct SecretTemplate<'a> {
    pub page: &'a Page,
    pub nav: AdminNav,
    pub title: String,
    pub intro: String,
    pub secret: String,
    pub note: String,
    pub back: String,
    pub back_text: String,
}

async fn create(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<NewForm>, ApiError>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let form = posted(form)?;
    let admin = handle(&state, &auth, &ctx)?;
    let created = admin
        .create_account_with_temporary_password(NewTemporaryAccount {
            username: form.username.clone(),
            display_name: Some(form.display_name.clone()),
            email: Some(form.email.clone()),
            is_admin: form.is_admin.is_some(),
            password: None,
        })
        .await;
    match created {
        Ok((account, password)) => Ok(ok(&SecretTemplate {
            nav: AdminNav {
                current: "accounts",
            },
            title: page.t("admin-created-title"),
            intro: page
                .tr
                .with("admin-created-intro", "username", &account.username),
            secret: password.to_string(),
            note: page.t("admin-temporary-password-note"),
            back: format!("/admin/accounts/{}", account.id),
            back_text: page.t("admin-back-to-account"),
            page: &page,
        })),
        Err(e) => {
            let (status, message) = page.form_error(e)?;
            Ok(html(
                status,
                &NewTemplate {
                    page: &page,
                    nav: AdminNav {
                        current: "accounts",
                    },
                    username: &form.username,
                    display_name: &form.display_name,
                    email: &form.email,
                    is_admin: form.is_admin.is_some(),
                    error: Some(message),
                },
            ))
        }
    }
}

struct MethodRow {
    kind: String,
    label: String,
    active: bool,
    is_default: bool,
    created: Stamp,
    last_used: Option<Stamp>,
    until: Option<Stamp>,
}

struct AppPasswordRow {
    name: String,
    created: Stamp,
    last_used: Option<Stamp>,
}

struct EventRow {
    at: Stamp,
    what: String,
    ip: String,
    browser: String,
}

#[derive(Template)]
#[template(path = "admin/account.html")]
struct AccountTemplate<'a> {
    page: &'a Page,
    nav: AdminNav,
    account: AccountRow,
    email: String,
    created: Stamp,
    change_required: bool,
    methods: Vec<MethodRow>,
    app_passwords: Vec<AppPasswordRow>,
    /// Third-party apps the person allowed to use the account.
    apps: Vec<crate::web::apps_access::AppRow>,
    events: Vec<EventRow>,
    done: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// Messages after an action, by the `done` a redirect carries.
const DONE: [&str; 7] = [
    "disabled",
    "enabled",
    "registration",
    "sessions",
    "pass-revoked",
    "no-pass",
    "app-removed",
];

async fn show(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let admin = handle(&state, &auth, &ctx)?;
    let o = admin.overview(account_id(&id)?).await?;
    let apps = super::oidc_clients::account_apps(&state, &admin, o.account.id, &page.tr).await?;
    let default = o.account.default_method;
    let methods = o
        .methods
        .iter()
        .map(|m| MethodRow {
            kind: kind_name(m.kind, &page.tr),
            label: m.label(),
            active: m.is_active(),
            is_default: default == Some(m.id),
            created: Stamp::new(m.created_at),
            last_used: m.last_used_at.map(Stamp::new),
            until: m
                .expires_at
                .filter(|_| m.kind == tessera_core::Kind::TemporaryAccessPass)
                .map(Stamp::new),
        })
        .collect();
    let app_passwords = o
        .app_passwords
        .iter()
        .map(|p| AppPasswordRow {
            name: p.name.clone(),
            created: Stamp::new(p.created_at),
            last_used: p.last_used_at.map(Stamp::new),
        })
        .collect();
    let names = if crate::web::apps_access::names_an_app(&o.activity) {
        crate::api::me_apps::client_names(&state).await?
    } else {
        Default::default()
    };
    let events = o
        .activity
        .iter()
        .map(|e| EventRow {
            at: Stamp::new(e.at),
            what: crate::web::apps_access::app_event(e, &names, &page.tr)
                .unwrap_or_else(|| action_name(e.action, &page)),
            ip: e.ip.clone().unwrap_or_else(|| page.t("activity-unknown")),
            browser: browser(e.user_agent.as_deref(), &page.tr),
        })
        .collect();
    let done = q
        .done
        .as_deref()
        .filter(|d| DONE.contains(d))
        .map(|d| page.t(&format!("admin-done-{d}")));
    let template = AccountTemplate {
        account: AccountRow::new(&o.account, &page),
        email: o.account.email.clone().unwrap_or_default(),
        created: Stamp::new(o.account.created_at),
        change_required: o.password_change_required,
        methods,
        app_passwords,
        apps,
        events,
        done,
        nav: AdminNav {
            current: "accounts",
        },
        page: &page,
    };
    Ok(ok(&template))
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    minutes: Option<String>,
}

/// The actions on one account. Each is audited by the core; the page comes back with what
/// happened, or shows the secret the action made.
async fn act(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path((id, action)): Path<(String, String)>,
    form: Result<CsrfForm<ActionForm>, ApiError>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let form = posted(form)?;
    let admin = handle(&state, &auth, &ctx)?;
    let id = account_id(&id)?;
    let back = format!("/admin/accounts/{id}");
    let done = match action.as_str() {
        "disable" => {
            admin
                .set_account_status(id, AccountStatus::Disabled)
                .await?;
            "disabled"
        }
        "enable" => {
            admin.set_account_status(id, AccountStatus::Active).await?;
            "enabled"
        }
        "require-registration" => {
            admin.require_registration(id).await?;
            "registration"
        }
        "end-sessions" => {
            admin.end_sessions(id).await?;
            "sessions"
        }
        "revoke-pass" => {
            if admin.revoke_temporary_access_pass(id).await? {
                "pass-revoked"
            } else {
                "no-pass"
            }
        }
        "temporary-password" => {
            let account = admin.account_by_id(id).await?;
            let password = admin.set_temporary_password(id, None).await?;
            return Ok(secret_page(
                &page,
                &account,
                &password,
                Secret::Password,
                back,
            ));
        }
        "temporary-access-pass" => {
            let minutes = match form.minutes.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(m) => Some(m.parse::<u32>().map_err(|_| {
                    Error::bad("valid_for_minutes", tessera_core::Problem::Invalid)
                })?),
            };
            let account = admin.account_by_id(id).await?;
            let issued = admin.issue_temporary_access_pass(id, minutes).await?;
            let until = Stamp::new(issued.expires_at).text;
            let pass = Zeroizing::new(temporary_access_pass::display(&issued.pass));
            return Ok(secret_page(
                &page,
                &account,
                &pass,
                Secret::Pass { until },
                back,
            ));
        }
        _ => return Err(Error::NotFound.into()),
    };
    Ok(Redirect::to(&format!("{back}?done={done}")).into_response())
}

enum Secret {
    Password,
    Pass { until: String },
}

fn secret_page(
    page: &Page,
    account: &Account,
    secret: &str,
    what: Secret,
    back: String,
) -> Response {
    let (title, intro, note) = match what {
        Secret::Password => (
            page.t("admin-temporary-password-title"),
            page.tr.with(
                "admin-temporary-password-intro",
                "username",
                &account.username,
            ),
            page.t("admin-temporary-password-note"),
        ),
        Secret::Pass { until } => (
            page.t("admin-pass-title"),
            page.tr.args(
                "admin-pass-intro",
                &[("username", account.username.clone()), ("until", until)],
            ),
            page.t("admin-pass-note"),
        ),
    };
    html(
        StatusCode::OK,
        &SecretTemplate {
            page,
            nav: AdminNav {
                current: "accounts",
            },
            title,
            intro,
            secret: secret.to_string(),
            note,
            back,
            back_text: page.t("admin-back-to-account"),
        },
    )
}
