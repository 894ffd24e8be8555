//! The registration interrupt as a guided wizard ("Keep your account secure"): one step per
//! method the policy needs (core's `Wizard` counts them), the authenticator app first, a
//! recommended backup last, then "Success!" with a Done button that completes the sign-in.
//!
//! ```text
//!   /sign-in/register ──Next──► an add-method page ──method verified──► /sign-in/register
//!        │  (the next step, or the success page once nothing is left)
//!        ├─ "I want to use a different authenticator app" ──► the authenticator-code pages
//!        ├─ "I want to set up a different method" ──► /sign-in/register/other
//!        ├─ backup step: "Skip this step" ──► /sign-in/register/success
//!        └─ skip (policy allows N) ──► signed in
//!   success ──Done (POST /sign-in/register/done)──► complete_registration ──► signed in
//! ```
//!
//! The add-method pages send a registration session back here (`after_adding`) rather than
//! completing it themselves, so the person always sees what comes next.

use super::view::{MethodView, kind_name, kind_slug};
use super::{Page, WebError, ok, posted, session_cookies};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::i18n::Tr;
use crate::session::{COOKIE_FLOW, COOKIE_SESSION, Context};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use tessera_core::flow::needs::Registration;
use tessera_core::flow::wizard::{Offers, Step, Wizard};
use tessera_core::policy::Policy;
use tessera_core::service::Auth;
use tessera_core::{Error, Kind, SessionKind};

pub const PATH: &str = "/sign-in/register";
const OTHER_PATH: &str = "/sign-in/register/other";
const SUCCESS_PATH: &str = "/sign-in/register/success";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sign-in/register/skip", post(skip))
        .route(OTHER_PATH, get(other))
        .route(SUCCESS_PATH, get(success))
        .route("/sign-in/register/done", post(done))
}

/// Where an add-method page goes once its method of `kind` is verified: back to the wizard
/// during the interrupt, else to "My security info", which says a method for password
/// reset alone (email, questions) was added as such, not as a sign-in method.
pub fn after_adding(auth: &Auth, kind: Kind) -> Response {
    if auth.session.kind == SessionKind::Registration {
        Redirect::to(PATH).into_response()
    } else if kind.is_sign_in_factor() {
        Redirect::to("/security-info?done=added").into_response()
    } else {
        Redirect::to("/security-info?done=added-reset").into_response()
    }
}

/// "Step 1 of 2" and its bar, above every page of the interrupt (see `base.html`).
#[derive(Debug, Clone)]
pub struct WizardBar {
    pub text: String,
    /// Per step: "done", "current" or "".
    pub segments: Vec<&'static str>,
    /// Add-method pages link to the other kinds under their content; the wizard's own
    /// pages place that link themselves.
    pub other_link: bool,
}

fn bar(wizard: Wizard, tr: &Tr, other_link: bool) -> Option<WizardBar> {
    (wizard.step != Step::Done).then(|| WizardBar {
        text: tr.args(
            "wizard-step",
            &[
                ("current", wizard.current.to_string()),
                ("total", wizard.total.to_string()),
            ],
        ),
        segments: (1..=wizard.total)
            .map(|i| match i.cmp(&wizard.current) {
                std::cmp::Ordering::Less => "done",
                std::cmp::Ordering::Equal => "current",
                std::cmp::Ordering::Greater => "",
            })
            .collect(),
        other_link,
    })
}

/// The bar for a registration session's add-method pages (`Page::signed_in`).
pub async fn progress(state: &AppState, auth: &Auth, tr: &Tr) -> Result<Option<WizardBar>, Error> {
    let registration = state.tessera.registration(auth).await?;
    Ok(bar(registration.wizard, tr, true))
}

/// One kind a step offers.
pub struct Offer {
    pub name: String,
    pub description: String,
    pub href: String,
}

fn offer(kind: Kind, tr: &Tr) -> Offer {
    Offer {
        name: kind_name(kind, tr),
        description: tr.get(&format!("add-kind-{}", kind.as_str())),
        href: format!("/security-info/add/{}", kind_slug(kind)),
    }
}

/// The step's main action: "Next" posts to start the app's registration, or opens a kind's
/// page.
pub enum Next {
    Post(&'static str),
    Link(String),
}

#[derive(Template)]
#[template(path = "register.html")]
struct StepTemplate<'a> {
    page: &'a Page,
    /// Only the first step says why the interrupt is here.
    intro: bool,
    /// A method was added that meets no outstanding need: why the step is still here.
    not_counted: Option<String>,
    heading: String,
    paragraphs: Vec<String>,
    /// "Get the app", where the admin set where to get it.
    app_link: Option<String>,
    next: Option<Next>,
    offers: Vec<Offer>,
    other_app: bool,
    other_method: bool,
    /// The recommended backup may be left for later.
    skip_step: bool,
    /// "Skips left: 2", when the policy lets the whole interrupt be skipped.
    skips: Option<String>,
}

#[derive(Template)]
#[template(path = "register_success.html")]
struct SuccessTemplate<'a> {
    page: &'a Page,
    added: Vec<MethodView>,
    backup_later: bool,
}

#[derive(Template)]
#[template(path = "register_other.html")]
struct OtherTemplate<'a> {
    page: &'a Page,
    offers: Vec<Offer>,
}

/// The step's offers, as core decides them on this server.
fn offers(state: &AppState, policy: &Policy, step: Step) -> Offers {
    step.offers(policy, &|k| state.tessera.can_register(k))
}

/// Why the last method added did not move the wizard on, if it did not.
fn not_counted(registration: &Registration, policy: &Policy, tr: &Tr) -> Option<String> {
    let last = registration.added.last()?;
    let key = match registration.wizard.step.not_served_by(policy, last.kind)? {
        Step::Reset => "wizard-not-for-reset",
        _ => "wizard-not-for-sign-in",
    };
    Some(tr.with(key, "method", kind_name(last.kind, tr)))
}

/// The wizard's page for a registration session: its next step, or the success page.
pub async fn page(mut page: Page, state: &AppState, auth: &Auth) -> Result<Response, WebError> {
    let registration = state.tessera.registration(auth).await?;
    let policy = state.tessera.policy().await?;
    let wizard = registration.wizard;
    if wizard.step == Step::Done {
        return Ok(success_page(page, &registration));
    }
    page.wizard = bar(wizard, &page.tr, false);
    let tr = &page.tr;
    let offers = offers(state, &policy, wizard.step);
    let first = &offers.featured;
    let mut template = StepTemplate {
        page: &page,
        intro: wizard.current == 1 && registration.added.is_empty(),
        not_counted: not_counted(&registration, &policy, tr),
        heading: String::new(),
        paragraphs: Vec::new(),
        app_link: None,
        next: None,
        offers: Vec::new(),
        other_app: false,
        other_method: !offers.others.is_empty(),
        skip_step: wizard.step == Step::Backup,
        skips: (registration.skips_left > 0 && wizard.step != Step::Backup)
            .then(|| tr.with("register-skips-left", "count", registration.skips_left)),
    };
    let code_fits = offers.includes(Kind::AuthenticatorCode);
    match (wizard.step, first.first()) {
        (Step::SignIn, Some(Kind::AuthenticatorApp)) => {
            let url = policy.authenticator_app_url.trim();
            template.heading = tr.get("kind-authenticator_app");
            // Without an app of the admin's choice, Tessera's own web app: the QR code opens it.
            template.paragraphs = if url.is_empty() {
                vec![tr.get("wizard-app-start"), tr.get("webapp-wizard-get")]
            } else {
                vec![
                    tr.get("wizard-app-start"),
                    tr.get("wizard-app-get"),
                    tr.get("wizard-app-next"),
                ]
            };
            template.app_link = Some(url.to_string()).filter(|u| !u.is_empty());
            template.next = Some(Next::Post(super::authenticator_app::ADD_PATH));
            template.other_app = code_fits;
        }
        (Step::SignIn, Some(Kind::AuthenticatorCode)) => {
            template.heading = tr.get("add-code-title");
            template.paragraphs = vec![tr.get("add-code-intro"), tr.get("add-code-next")];
            template.next = Some(Next::Post(super::authenticator_code::BEGIN_PATH));
        }
        (Step::SignIn, Some(kind)) => {
            let o = offer(*kind, tr);
            template.heading = o.name;
            template.paragraphs = vec![o.description];
            template.next = Some(Next::Link(o.href));
        }
        (Step::Reset, _) => {
            template.heading = tr.get("wizard-reset-title");
            template.paragraphs =
                vec![tr.with("wizard-reset-text", "count", policy.reset_methods_required)];
            template.offers = first.iter().map(|k| offer(*k, tr)).collect();
            template.other_app = code_fits && !first.contains(&Kind::AuthenticatorCode);
        }
        (Step::Backup, _) => {
            template.heading = tr.get("wizard-backup-title");
            template.paragraphs = vec![tr.get("wizard-backup-text")];
            template.offers = first.iter().map(|k| offer(*k, tr)).collect();
            template.other_app = code_fits && !first.contains(&Kind::AuthenticatorCode);
        }
        // Nothing on this server can meet the step (`Needs` does not demand the impossible,
        // so this is a policy changed mid-way): the other kinds, if any, and the skip.
        _ => template.heading = tr.get("wizard-nothing"),
    }
    Ok(ok(&template))
}

fn success_page(mut page: Page, registration: &Registration) -> Response {
    page.wizard = None;
    let added = registration
        .added
        .iter()
        .map(|m| MethodView::new(m, None, &page.tr))
        .collect();
    ok(&SuccessTemplate {
        page: &page,
        added,
        backup_later: registration.wizard.step == Step::Backup,
    })
}

/// The session of the interrupt, or where a full one goes instead.
async fn registration_session(page: &mut Page, state: &AppState) -> Result<Auth, WebError> {
    let auth = page.signed_in(state).await?;
    if auth.session.kind != SessionKind::Registration {
        return Err(WebError::Redirect("/security-info".into()));
    }
    Ok(auth)
}

/// "I want to set up a different method": the step's other kinds.
pub async fn other(mut page: Page, State(state): State<AppState>) -> Result<Response, WebError> {
    let auth = registration_session(&mut page, &state).await?;
    let registration = state.tessera.registration(&auth).await?;
    if registration.wizard.step == Step::Done {
        return Ok(Redirect::to(PATH).into_response());
    }
    let policy = state.tessera.policy().await?;
    page.wizard = bar(registration.wizard, &page.tr, false);
    let offers = offers(&state, &policy, registration.wizard.step)
        .others
        .into_iter()
        .map(|k| offer(k, &page.tr))
        .collect();
    Ok(ok(&OtherTemplate {
        page: &page,
        offers,
    }))
}

/// "Success!": once nothing required is left (a recommended backup skipped).
pub async fn success(mut page: Page, State(state): State<AppState>) -> Result<Response, WebError> {
    let auth = registration_session(&mut page, &state).await?;
    let registration = state.tessera.registration(&auth).await?;
    if !matches!(registration.wizard.step, Step::Done | Step::Backup) {
        return Ok(Redirect::to(PATH).into_response());
    }
    Ok(success_page(page, &registration))
}

#[derive(serde::Deserialize)]
pub struct EmptyForm {}

/// Done: the registration session becomes a full one (token rotation), when what it
/// registered meets the policy and its flow still lives.
pub async fn done(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<EmptyForm>, ApiError>,
) -> Result<Response, WebError> {
    posted(form)?;
    let auth = registration_session(&mut page, &state).await?;
    match state.tessera.complete_registration(&auth, &ctx).await {
        Ok(Some(session)) => Ok((
            session_cookies(&state, &session),
            Redirect::to("/security-info"),
        )
            .into_response()),
        Ok(None) => Ok(Redirect::to(PATH).into_response()),
        // The methods are kept; the next sign-in asks for one of them.
        Err(Error::Expired) => {
            let jar = CookieJar::new()
                .add(state.removal_cookie(COOKIE_SESSION))
                .add(state.removal_cookie(COOKIE_FLOW));
            Ok((jar, Redirect::to("/sign-in?notice=expired")).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Skips the interrupt (when the policy allows one more skip): a full session.
pub async fn skip(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<EmptyForm>, ApiError>,
) -> Result<Response, WebError> {
    posted(form)?;
    let auth = page.signed_in(&state).await?;
    if auth.session.kind != SessionKind::Registration {
        return Ok(Redirect::to("/security-info").into_response());
    }
    let session = state.tessera.skip_registration(&auth, &ctx).await?;
    Ok((
        session_cookies(&state, &session),
        Redirect::to("/security-info"),
    )
        .into_response())
}
