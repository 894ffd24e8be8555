//! "My security info": the person's methods and default, choosing what to add, deleting a
//! method and changing the default. Changes need a recent second factor: the pages check for
//! it before they ask anything, so the detour through `/step-up` comes first, and the POSTs
//! check again, since the window may have closed in between.

use super::sign_in::EmptyForm;
use super::view::{MethodView, kind_name, kind_slug};
use super::{Page, WebError, ok, posted, step_up_proof};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tessera_core::service::Auth;
use tessera_core::{Error, Kind, MethodId, SessionKind};

#[derive(Template)]
#[template(path = "security_info.html")]
struct OverviewTemplate<'a> {
    page: &'a Page,
    methods: Vec<MethodView>,
    default_line: String,
    has_default: bool,
    done: Option<String>,
    /// The policy allows app passwords: link to them.
    app_passwords: bool,
    /// Few recovery codes are left: "You have 2 recovery codes left."
    recovery_nag: Option<String>,
    /// Contact info from the organization's directory the person could register.
    directory_offers: Vec<super::directory_offers::OfferView>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn overview(
    mut page: Page,
    State(state): State<AppState>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let auth = page.signed_in(&state).await?;
    if auth.session.kind == SessionKind::Registration {
        // The interrupt's pages all lead back to the wizard, which knows the next step.
        return Ok(Redirect::to(super::registration::PATH).into_response());
    }
    let info = state.tessera.security_info(&auth).await?;
    let methods: Vec<MethodView> = info
        .methods
        .iter()
        .map(|m| MethodView::new(m, info.default_method, &page.tr))
        .collect();
    let policy = state.tessera.policy().await?;
    let default_line = match info
        .methods
        .iter()
        .find(|m| Some(m.id) == info.default_method)
    {
        Some(m) => page.tr.with(
            "security-info-default",
            "method",
            super::default_method::label(m, &policy, &page.tr),
        ),
        None => page.t("security-info-default-none"),
    };
    let done = match q.done.as_deref() {
        Some(
            what @ ("added" | "added-reset" | "deleted" | "deleted-app" | "deleted-reset"
            | "default" | "password"),
        ) => Some(page.t(&format!("done-{what}"))),
        _ => None,
    };
    let directory_offers = super::directory_offers::offers(&state, &auth, &page).await;
    let template = OverviewTemplate {
        directory_offers,
        page: &page,
        has_default: info.default_method.is_some(),
        methods,
        default_line,
        done,
        app_passwords: policy.app_passwords_allowed,
        recovery_nag: state
            .tessera
            .recovery_codes_state(&auth)
            .await?
            .filter(|set| set.few_left())
            .map(|set| {
                page.tr
                    .with("security-info-recovery-few", "left", set.remaining)
            }),
    };
    Ok(ok(&template))
}

/// One kind on the "add a method" page.
struct KindChoice {
    name: String,
    description: String,
    href: String,
}

#[derive(Template)]
#[template(path = "add_method.html")]
struct AddTemplate<'a> {
    page: &'a Page,
    kinds: Vec<KindChoice>,
}

/// The kinds a person can add: those this server can register and the policy allows.
pub async fn add(mut page: Page, State(state): State<AppState>) -> Result<Response, WebError> {
    page.signed_in(&state).await?;
    let kinds = state
        .tessera
        .addable_kinds()
        .await?
        .into_iter()
        .map(|k| KindChoice {
            name: kind_name(k, &page.tr),
            description: page.t(&format!("add-kind-{}", k.as_str())),
            href: format!("/security-info/add/{}", kind_slug(k)),
        })
        .collect();
    Ok(ok(&AddTemplate { page: &page, kinds }))
}

/// One of the person's own methods.
async fn own_method(
    state: &AppState,
    auth: &Auth,
    id: &str,
    page: &Page,
) -> Result<MethodView, WebError> {
    let id: MethodId = id.parse().map_err(|_| Error::NotFound)?;
    let info = state.tessera.security_info(auth).await?;
    let method = info
        .methods
        .iter()
        .find(|m| m.id == id)
        .ok_or(Error::NotFound)?;
    Ok(MethodView::new(method, info.default_method, &page.tr))
}

#[derive(Template)]
#[template(path = "delete_method.html")]
struct DeleteTemplate<'a> {
    page: &'a Page,
    question: String,
    method: MethodView,
    /// Deleting the last usable method means registering again at the next sign-in.
    is_last: bool,
    /// An authenticator app keeps the account until the person removes it there too.
    app_reminder: Option<String>,
    /// A sign-in method, or one for password reset alone.
    title: String,
}

/// Whether deleting `method` leaves an account behind in an app on the person's phone (a
/// hardware token has no account to remove).
fn lives_in_an_app(method: &tessera_core::Method) -> bool {
    matches!(
        method.kind,
        Kind::AuthenticatorApp | Kind::AuthenticatorCode
    ) && !matches!(
        method.data,
        tessera_core::method::MethodData::HardwareToken { .. }
    )
}

async fn delete_page(
    page: &Page,
    state: &AppState,
    auth: &Auth,
    id: &str,
) -> Result<Response, WebError> {
    let method = own_method(state, auth, id, page).await?;
    let info = state.tessera.security_info(auth).await?;
    let is_last = method.active && info.methods.iter().filter(|m| m.is_active()).count() == 1;
    let question = page.tr.with("delete-confirm", "method", &method.label);
    let app_reminder = info
        .methods
        .iter()
        .any(|m| m.id.to_string() == method.id && lives_in_an_app(m))
        .then(|| {
            page.tr.args(
                "delete-app-reminder",
                &[
                    ("issuer", state.tessera.issuer().to_string()),
                    ("username", auth.account.username.clone()),
                ],
            )
        });
    let title = page.t(if method.reset_only {
        "delete-title-reset"
    } else {
        "delete-title"
    });
    Ok(ok(&DeleteTemplate {
        page,
        title,
        question,
        method,
        is_last,
        app_reminder,
    }))
}

pub async fn delete_form(
    mut page: Page,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let auth = page.full(&state).await?;
    step_up_proof(&state, &auth, &page.here).await?;
    delete_page(&page, &state, &auth, &id).await
}

pub async fn delete(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    form: Result<CsrfForm<EmptyForm>, ApiError>,
) -> Result<Response, WebError> {
    posted(form)?;
    let auth = page.full(&state).await?;
    let method_id: MethodId = id.parse().map_err(|_| Error::NotFound)?;
    let proof = step_up_proof(
        &state,
        &auth,
        &format!("/security-info/methods/{method_id}/delete"),
    )
    .await?;
    let info = state.tessera.security_info(&auth).await?;
    let deleted = info.methods.iter().find(|m| m.id == method_id);
    let in_an_app = deleted.is_some_and(lives_in_an_app);
    let reset_only = deleted.is_some_and(|m| !m.kind.is_sign_in_factor());
    state
        .tessera
        .delete_method(&auth, method_id, proof, &ctx)
        .await?;
    Ok(Redirect::to(if in_an_app {
        "/security-info?done=deleted-app"
    } else if reset_only {
        "/security-info?done=deleted-reset"
    } else {
        "/security-info?done=deleted"
    })
    .into_response())
}
