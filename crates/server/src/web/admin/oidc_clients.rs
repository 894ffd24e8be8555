//! `/admin/oidc-clients`: the apps that sign people in with Tessera (OpenID Connect clients).
//! The list; adding one, whose client ID and secret the answer to the POST shows once; a
//! client's page to change it, give it a new secret (shown once too) or delete it after a
//! confirmation. A refused field is said next to that field, with the address at fault.
//!
//! Also the apps an account gave access to, on the admin account page, with a button that
//! takes the access back.

use super::{AdminNav, admin_auth, handle};
use crate::AppState;
use crate::api::me_apps::named;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::i18n::Tr;
use crate::session::Context;
use crate::web::apps_access::AppRow;
use crate::web::view::Stamp;
use crate::web::{Page, WebError, html, ok, posted};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tessera_core::admin::Admin;
use tessera_core::oidc::{Client, ClientError, NewClient, Requirement, SigningAlg, UriProblem};
use tessera_core::{AccountId, Error};

const PATH: &str = "/admin/oidc-clients";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(list))
        .route("/admin/oidc-clients/new", get(new_form).post(create))
        .route("/admin/oidc-clients/{id}", get(show).post(update))
        .route("/admin/oidc-clients/{id}/secret", post(new_secret))
        .route(
            "/admin/oidc-clients/{id}/delete",
            get(delete_form).post(delete),
        )
        .route(
            "/admin/accounts/{id}/apps/{client_id}/remove",
            post(remove_account_app),
        )
}

fn nav() -> AdminNav {
    AdminNav {
        current: "oidc-clients",
    }
}

fn client_page(id: &str) -> String {
    format!("{PATH}/{id}")
}

struct Row {
    client_id: String,
    name: String,
    kind: String,
    party: String,
    requirement: String,
}

#[derive(Template)]
#[template(path = "admin/oidc_clients.html")]
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

fn kind_text(client: &Client, tr: &Tr) -> String {
    tr.get(if client.is_public() {
        "oidc-clients-public"
    } else {
        "oidc-clients-confidential"
    })
}

fn party_text(first_party: bool, tr: &Tr) -> String {
    tr.get(if first_party {
        "oidc-clients-first-party"
    } else {
        "oidc-clients-third-party"
    })
}

fn requirement_text(requirement: Requirement, tr: &Tr) -> String {
    tr.get(&format!(
        "oidc-clients-requirement-{}",
        requirement.as_str()
    ))
}

async fn list(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Query(q): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let mut clients = handle(&state, &auth, &ctx)?.oidc_clients().await?;
    clients.sort_by_key(|c| c.name.to_lowercase());
    let rows = clients
        .iter()
        .map(|c| Row {
            client_id: c.client_id.clone(),
            name: c.name.clone(),
            kind: kind_text(c, &page.tr),
            party: party_text(c.first_party, &page.tr),
            requirement: requirement_text(c.requirement, &page.tr),
        })
        .collect();
    let done = (q.done.as_deref() == Some("deleted")).then(|| page.t("oidc-clients-deleted"));
    Ok(ok(&ListTemplate {
        page: &page,
        nav: nav(),
        rows,
        done,
    }))
}

/// The form as posted (and as shown again with what was typed).
#[derive(Debug, Default, Deserialize)]
pub struct ClientForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    post_logout_redirect_uris: String,
    #[serde(default)]
    backchannel_logout_uri: String,
    /// `confidential` or `public`; only when adding (a client keeps its type).
    #[serde(default)]
    client_type: String,
    #[serde(default)]
    first_party: Option<String>,
    #[serde(default)]
    requirement: String,
    #[serde(default)]
    offline_access: Option<String>,
    #[serde(default)]
    id_token_alg: String,
}

impl ClientForm {
    fn of(c: &Client) -> Self {
        let on = |b: bool| b.then(|| "yes".to_string());
        ClientForm {
            name: c.name.clone(),
            redirect_uris: c.redirect_uris.join("\n"),
            post_logout_redirect_uris: c.post_logout_redirect_uris.join("\n"),
            backchannel_logout_uri: c.backchannel_logout_uri.clone().unwrap_or_default(),
            client_type: if c.is_public() {
                "public"
            } else {
                "confidential"
            }
            .into(),
            first_party: on(c.first_party),
            requirement: c.requirement.as_str().into(),
            offline_access: on(c.offline_access),
            id_token_alg: c.id_token_alg.as_str().into(),
        }
    }

    fn is_public(&self) -> bool {
        self.client_type == "public"
    }

    /// The client described, or the fields to correct with what is wrong with each.
    fn to_new(&self, tr: &Tr) -> Result<NewClient, FieldErrors> {
        let mut errors = FieldErrors::default();
        let requirement = Requirement::parse(self.requirement.trim());
        if requirement.is_none() {
            errors.add("requirement", tr.get("oidc-clients-error-choose"));
        }
        let alg = SigningAlg::parse(self.id_token_alg.trim());
        if alg.is_none() {
            errors.add("id_token_alg", tr.get("oidc-clients-error-choose"));
        }
        let lines = |text: &str| -> Vec<String> {
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        };
        let backchannel = self.backchannel_logout_uri.trim();
        let new = NewClient {
            name: self.name.clone(),
            confidential: !self.is_public(),
            redirect_uris: lines(&self.redirect_uris),
            post_logout_redirect_uris: lines(&self.post_logout_redirect_uris),
            backchannel_logout_uri: (!backchannel.is_empty()).then(|| backchannel.to_string()),
            first_party: self.first_party.is_some(),
            requirement: requirement.unwrap_or_default(),
            offline_access: self.offline_access.is_some(),
            id_token_alg: alg.unwrap_or_default(),
        };
        match new.validate() {
            Ok(new) if errors.0.is_empty() => Ok(new),
            Ok(_) => Err(errors),
            Err(e) => {
                let (field, message) = client_error(e, tr);
                errors.add(field, message);
                Err(errors)
            }
        }
    }
}

/// What is wrong, by field, for the form to show next to each.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: String) {
        self.0.push((field, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

fn client_error(e: ClientError, tr: &Tr) -> (&'static str, String) {
    let uri = |uri: String, problem: UriProblem| {
        let problem = match problem {
            UriProblem::NotAbsolute => "not-absolute",
            UriProblem::NotHttps => "not-https",
            UriProblem::Fragment => "fragment",
            UriProblem::UserInfo => "user-info",
        };
        let why = tr.get(&format!("oidc-clients-uri-{problem}"));
        tr.args("oidc-clients-error-uri", &[("uri", uri), ("problem", why)])
    };
    match e {
        ClientError::NameRequired => ("name", tr.get("oidc-clients-error-name-required")),
        ClientError::NameTooLong { max } => (
            "name",
            tr.with("oidc-clients-error-name-too-long", "max", max),
        ),
        ClientError::NoRedirectUri => (
            "redirect_uris",
            tr.get("oidc-clients-error-redirect-required"),
        ),
        ClientError::RedirectUri { uri: u, problem } => ("redirect_uris", uri(u, problem)),
        ClientError::PostLogoutRedirectUri { uri: u, problem } => {
            ("post_logout_redirect_uris", uri(u, problem))
        }
        ClientError::BackchannelLogoutUri { uri: u, problem } => {
            ("backchannel_logout_uri", uri(u, problem))
        }
    }
}

/// The client being changed, for its page.
struct Editing {
    client_id: String,
    kind: String,
    public: bool,
    created: Stamp,
}

#[derive(Template)]
#[template(path = "admin/oidc_clients_form.html")]
struct FormTemplate<'a> {
    page: &'a Page,
    nav: AdminNav,
    title: String,
    action: String,
    form: ClientForm,
    errors: FieldErrors,
    /// "Check the fields marked below", above the form.
    error: Option<String>,
    editing: Option<Editing>,
    done: Option<String>,
}

impl FormTemplate<'_> {
    fn requirements(&self) -> Vec<(&'static str, String, bool)> {
        [Requirement::TwoStep, Requirement::PhishingResistant]
            .into_iter()
            .map(|r| {
                let chosen = self.form.requirement == r.as_str();
                (r.as_str(), requirement_text(r, &self.page.tr), chosen)
            })
            .collect()
    }

    fn algorithms(&self) -> Vec<(&'static str, bool)> {
        SigningAlg::ALL
            .into_iter()
            .map(|a| (a.as_str(), self.form.id_token_alg == a.as_str()))
            .collect()
    }
}

fn form_page(
    page: &Page,
    form: ClientForm,
    errors: FieldErrors,
    editing: Option<(&Client, Option<String>)>,
) -> Response {
    let status = if errors.0.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let error = (!errors.0.is_empty()).then(|| page.t("oidc-clients-check-fields"));
    let (title, action, editing, done) = match editing {
        Some((c, done)) => (
            c.name.clone(),
            client_page(&c.client_id),
            Some(Editing {
                client_id: c.client_id.clone(),
                kind: kind_text(c, &page.tr),
                public: c.is_public(),
                created: Stamp::new(c.created_at),
            }),
            done,
        ),
        None => (
            page.t("oidc-clients-add"),
            format!("{PATH}/new"),
            None,
            None,
        ),
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
            editing,
            done,
        },
    )
}

async fn new_form(mut page: Page, State(state): State<AppState>) -> Result<Response, WebError> {
    admin_auth(&mut page, &state).await?;
    let form = ClientForm {
        client_type: "confidential".into(),
        requirement: Requirement::TwoStep.as_str().into(),
        id_token_alg: SigningAlg::Es256.as_str().into(),
        ..ClientForm::default()
    };
    Ok(form_page(&page, form, FieldErrors::default(), None))
}

/// A client's ID and its secret, shown once.
#[derive(Template)]
#[template(path = "admin/oidc_clients_created.html")]
struct CreatedTemplate<'a> {
    page: &'a Page,
    nav: AdminNav,
    title: String,
    name: String,
    client_id: String,
    secret: Option<String>,
}

async fn create(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<ClientForm>, ApiError>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let form = posted(form)?;
    let new = match form.to_new(&page.tr) {
        Ok(new) => new,
        Err(errors) => return Ok(form_page(&page, form, errors, None)),
    };
    let created = handle(&state, &auth, &ctx)?.create_oidc_client(new).await?;
    Ok(ok(&CreatedTemplate {
        nav: nav(),
        title: page.t("oidc-clients-created-title"),
        name: created.client.name.clone(),
        client_id: created.client.client_id.clone(),
        secret: created.secret.as_ref().map(|s| s.to_string()),
        page: &page,
    }))
}

async fn show(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let client = handle(&state, &auth, &ctx)?.oidc_client(id.trim()).await?;
    let done = (q.done.as_deref() == Some("saved")).then(|| page.t("oidc-clients-saved"));
    Ok(form_page(
        &page,
        ClientForm::of(&client),
        FieldErrors::default(),
        Some((&client, done)),
    ))
}

async fn update(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    form: Result<CsrfForm<ClientForm>, ApiError>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    let mut form = posted(form)?;
    let admin = handle(&state, &auth, &ctx)?;
    let client = admin.oidc_client(id.trim()).await?;
    // The type is not a field here: a client keeps whether it has a secret.
    form.client_type = ClientForm::of(&client).client_type;
    match form.to_new(&page.tr) {
        Ok(new) => {
            admin.update_oidc_client(&client.client_id, new).await?;
            let to = format!("{}?done=saved", client_page(&client.client_id));
            Ok(Redirect::to(&to).into_response())
        }
        Err(errors) => Ok(form_page(&page, form, errors, Some((&client, None)))),
    }
}

#[derive(Deserialize)]
pub struct EmptyForm {}

async fn new_secret(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    form: Result<CsrfForm<EmptyForm>, ApiError>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    posted(form)?;
    let admin = handle(&state, &auth, &ctx)?;
    let client = admin.oidc_client(id.trim()).await?;
    if client.is_public() {
        return Err(Error::NotFound.into());
    }
    let created = admin.new_oidc_client_secret(&client.client_id).await?;
    Ok(ok(&CreatedTemplate {
        nav: nav(),
        title: page.t("oidc-clients-new-secret-title"),
        name: created.client.name.clone(),
        client_id: created.client.client_id.clone(),
        secret: created.secret.as_ref().map(|s| s.to_string()),
        page: &page,
    }))
}

#[derive(Template)]
#[template(path = "admin/oidc_clients_delete.html")]
struct DeleteTemplate<'a> {
    page: &'a Page,
    nav: AdminNav,
    client_id: String,
    name: String,
}

async fn confirm_page(page: &Page, admin: &Admin<'_>, id: &str) -> Result<Response, WebError> {
    let client = admin.oidc_client(id.trim()).await?;
    Ok(ok(&DeleteTemplate {
        page,
        nav: nav(),
        client_id: client.client_id,
        name: client.name,
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
    admin.delete_oidc_client(id.trim()).await?;
    Ok(Redirect::to(&format!("{PATH}?done=deleted")).into_response())
}

/// The apps `account` gave access to, for its admin page.
pub(super) async fn account_apps(
    state: &AppState,
    admin: &Admin<'_>,
    account: AccountId,
    tr: &Tr,
) -> Result<Vec<AppRow>, WebError> {
    let consents = admin.oidc_consents_of(account).await?;
    Ok(named(state, consents)
        .await?
        .iter()
        .map(|a| AppRow::new(a, tr, &format!("/admin/accounts/{account}/apps")))
        .collect())
}

async fn remove_account_app(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path((id, client_id)): Path<(String, String)>,
    form: Result<CsrfForm<EmptyForm>, ApiError>,
) -> Result<Response, WebError> {
    let auth = admin_auth(&mut page, &state).await?;
    posted(form)?;
    let account: AccountId = id.trim().parse().map_err(|_| Error::NotFound)?;
    handle(&state, &auth, &ctx)?
        .revoke_oidc_consent(account, client_id.trim())
        .await?;
    Ok(Redirect::to(&format!("/admin/accounts/{account}?done=app-removed")).into_response())
}
