//! [`Page`]: what every page needs (language, CSRF token, organization, who is signed in),
//! taken from the request once per handler.

use super::WebError;
use super::assets;
use crate::AppState;
use crate::csrf::CsrfToken;
use crate::error::ApiError;
use crate::i18n::{LANG_COOKIE, LANGUAGES, Tr, cookie_value};
use crate::session::token_from_parts;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use tessera_core::service::Auth;
use tessera_core::{Error, SessionKind};

/// What every page shows and needs: the language, the CSRF token for its forms, the
/// organization, and who (if anyone) is signed in.
#[derive(Clone)]
pub struct Page {
    pub tr: Tr,
    pub csrf: String,
    pub org: String,
    pub signed_in: bool,
    pub username: Option<String>,
    /// The signed-in person is an admin: the header links to the admin pages.
    pub is_admin: bool,
    /// This page's path and query: where the language menu comes back to.
    pub here: String,
    /// During the registration interrupt: "Step 1 of 2" above the page.
    pub wizard: Option<super::registration::WizardBar>,
    token: Option<String>,
    /// A language chosen in this browser beats the one saved with the account.
    lang_chosen: bool,
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let page = Page {
            tr: Tr::from_parts(parts),
            csrf: parts
                .extensions
                .get::<CsrfToken>()
                .map(|t| t.0.clone())
                .unwrap_or_default(),
            org: state.config.organization.clone(),
            signed_in: false,
            username: None,
            is_admin: false,
            here: here(&parts.uri),
            wizard: None,
            token: token_from_parts(parts, state),
            lang_chosen: cookie_value(parts, LANG_COOKIE).is_some(),
        };
        if let Some(slot) = parts.extensions.get::<PageSlot>() {
            let _ = slot.0.set(page.clone());
        }
        Ok(page)
    }
}

/// Where the language menu returns to: this page, without its one-time message (`done`,
/// `notice`), and the start page instead of the form-only paths.
fn here(uri: &Uri) -> String {
    let path = uri.path();
    if POST_ONLY.contains(&path) {
        return "/".into();
    }
    let Some(query) = uri.query() else {
        return path.into();
    };
    let kept: Vec<(String, String)> = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap_or_default()
        .into_iter()
        .filter(|(key, _)| key != "done" && key != "notice")
        .collect();
    match serde_urlencoded::to_string(&kept) {
        Ok(query) if !query.is_empty() => format!("{path}?{query}"),
        _ => path.into(),
    }
}

/// Paths with no page of their own to come back to.
const POST_ONLY: [&str; 2] = ["/sign-out", "/language"];

impl Page {
    /// A message from the catalog, for templates.
    pub fn t(&self, key: &str) -> String {
        self.tr.get(key)
    }

    /// The field for a one-time code of digits, for pages that ask for nothing else.
    pub fn digits_field(&self) -> super::code_field::CodeField {
        super::code_field::CodeField::digits(&self.tr)
    }

    pub fn languages(&self) -> &'static [(&'static str, &'static str)] {
        &LANGUAGES
    }

    pub fn is_lang(&self, code: &str) -> bool {
        self.tr.code() == code
    }

    pub fn css_href(&self) -> String {
        format!("/static/tessera.css?v={:016x}", assets::CSS_HASH)
    }

    pub fn icon_href(&self) -> String {
        format!("/static/favicon.svg?v={:016x}", assets::ICON_HASH)
    }

    /// The signed-in person, if any. Also switches the page to the account's language when
    /// this browser has not chosen one.
    pub async fn auth(&mut self, state: &AppState) -> Result<Option<Auth>, WebError> {
        let Some(token) = self.token.as_deref() else {
            return Ok(None);
        };
        match state.tessera.authenticate(token).await {
            Ok(auth) => {
                self.signed_in = true;
                self.username = Some(auth.account.username.clone());
                self.is_admin = auth.is_admin();
                if !self.lang_chosen
                    && let Some(locale) = &auth.account.locale
                {
                    self.tr = Tr::for_tag(locale);
                }
                Ok(Some(auth))
            }
            Err(Error::Unauthorized) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// A full or registration session; otherwise on to the sign-in page. After an admin set
    /// a temporary password, on to choosing a new one first.
    pub async fn signed_in(&mut self, state: &AppState) -> Result<Auth, WebError> {
        let auth = self
            .auth(state)
            .await?
            .ok_or(WebError::Api(ApiError::Domain(Error::Unauthorized)))?;
        if auth.password_change_required {
            return Err(WebError::Redirect(super::password::CHANGE_PATH.into()));
        }
        if auth.session.kind == SessionKind::Registration {
            self.wizard = super::registration::progress(state, &auth, &self.tr).await?;
        }
        Ok(auth)
    }

    /// A full session. A registration session is sent to its "more information required"
    /// page, the only place it may go.
    pub async fn full(&mut self, state: &AppState) -> Result<Auth, WebError> {
        let auth = self.signed_in(state).await?;
        match auth.session.kind {
            SessionKind::Full => Ok(auth),
            SessionKind::Registration => Err(WebError::Redirect("/security-info".into())),
        }
    }

    /// The text and status for an error a form shows next to its fields; internal errors
    /// (and a lost session) go on to the error page instead.
    pub fn form_error(&self, e: Error) -> Result<(StatusCode, String), WebError> {
        if matches!(
            e,
            Error::Store(_) | Error::Internal(_) | Error::Unauthorized
        ) {
            return Err(e.into());
        }
        let e = ApiError::Domain(e);
        crate::error::log_directory_outage(&e);
        Ok((e.status(), e.body(&self.tr).message))
    }
}

/// Where the handler's [`Page`] is left for `render_errors`, which runs outside the
/// handler and so cannot reach the application state (the organization's name) itself.
#[derive(Clone, Default)]
pub(super) struct PageSlot(pub(super) Arc<OnceLock<Page>>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_menu_returns_without_one_time_messages() {
        let uri = |s: &str| s.parse::<Uri>().unwrap();
        assert_eq!(here(&uri("/security-info?done=added")), "/security-info");
        assert_eq!(
            here(&uri("/step-up?next=%2Fsecurity-info&notice=x")),
            "/step-up?next=%2Fsecurity-info"
        );
        assert_eq!(here(&uri("/sign-out")), "/");
    }
}
