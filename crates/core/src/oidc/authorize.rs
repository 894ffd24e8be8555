//! The authorization endpoint's rules: a request checked against its client, kept in the
//! store while the person signs in (so a flow begun on one node ends on another), what to do
//! once they have ([`Decision`]), and the single-use code it ends in.
//!
//! Errors come in two kinds (RFC 6749 §4.1.2.1): an unknown client or an unregistered
//! redirect URI is shown on an error page ([`PageError`]), never sent anywhere; every other
//! error goes back to the client's redirect URI as an OAuth error ([`RedirectError`]).

use super::client::Client;
use super::consent::Consent;
use super::token::ErrorCode;
use super::{Acr, CODE_TTL, REQUEST_TTL, RequestId, SCOPE_OFFLINE_ACCESS, SCOPE_OPENID, Scopes};
use crate::audit::{AuditAction, RequestContext};
use crate::error::{Error, Result};
use crate::ids::{AccountId, SessionId};
use crate::secret;
use crate::service::Tessera;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// The longest `state`, `nonce` or `login_hint` kept.
const PARAM_MAX: usize = 1024;

/// The parameters as they arrive (query string or form), unchecked.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    pub acr_values: Option<String>,
    pub response_mode: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// Parameters in the redirect URI's query.
    #[default]
    Query,
    /// An auto-submitting HTML form that POSTs them to the redirect URI.
    FormPost,
}

/// `prompt`'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    pub select_account: bool,
}

/// A checked authorization request, waiting for the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub id: RequestId,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Scopes,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// The S256 PKCE challenge, when the client sent one.
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    /// Seconds: a sign-in older than this must be repeated.
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    /// The strongest known `acr` in `acr_values`.
    pub acr: Option<Acr>,
    pub response_mode: ResponseMode,
    #[serde(with = "time::serde::timestamp")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::timestamp")]
    pub expires_at: OffsetDateTime,
}

/// An error shown on Tessera's own page: there is no redirect URI to trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("the request names no client")]
    MissingClientId,
    #[error("no such client")]
    UnknownClient,
    #[error("the request has no redirect URI")]
    MissingRedirectUri,
    #[error("the redirect URI is not registered for this client")]
    UnregisteredRedirectUri,
}

/// An OAuth error sent back to the client's (registered) redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectError {
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub state: Option<String>,
    pub error: ErrorCode,
    pub description: &'static str,
}

impl RedirectError {
    /// `error`, `error_description`, `state` and `iss` (RFC 9207), to put in the query or the
    /// form.
    pub fn params(&self, issuer: &str) -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("error", self.error.as_str().to_string()),
            ("error_description", self.description.to_string()),
        ];
        out.extend(self.state.clone().map(|s| ("state", s)));
        out.push(("iss", issuer.to_string()));
        out
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    #[error("{0}")]
    Page(PageError),
    #[error("{}: {}", .0.error.as_str(), .0.description)]
    Redirect(RedirectError),
    #[error(transparent)]
    Internal(#[from] Error),
}

/// What the authorization endpoint does for a request once it knows who (if anyone) is
/// signed in: see [`AuthorizationRequest::decide`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Send the person through the sign-in pages (again, for `prompt=login` or `max_age`).
    SignIn,
    /// Signed in, but the client wants a security key: sign in again with one.
    StepUp,
    /// A third-party client without (enough) remembered consent: show the consent page.
    /// Its POST grants ([`Tessera::oidc_grant_consent`]) and issues the code directly.
    Consent,
    /// Issue the code ([`Tessera::oidc_issue_code`]).
    Issue,
    /// Send this error back to the client (`prompt=none` that needs the person).
    Error(RedirectError),
}

/// Who signed in and how, as the ID token will say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authentication {
    pub account: AccountId,
    pub session: SessionId,
    /// When the person last proved a factor (the session's second factor, or its start).
    pub auth_time: OffsetDateTime,
    /// RFC 8176 values ([`super::amr_for`]).
    pub amr: Vec<String>,
    pub acr: Option<Acr>,
}

/// A code as the store keeps it (its SHA-256, never the code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    pub hash: Vec<u8>,
    pub client_id: String,
    pub account: AccountId,
    pub session: SessionId,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub scope: Scopes,
    pub auth_time: OffsetDateTime,
    pub amr: Vec<String>,
    pub acr: Option<Acr>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A successful authorization: `code`, `state` and `iss` go back to `redirect_uri`.
pub struct AuthorizationResponse {
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub code: Zeroizing<String>,
    pub state: Option<String>,
}

impl std::fmt::Debug for AuthorizationResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationResponse")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

impl AuthorizationResponse {
    pub fn params(&self, issuer: &str) -> Vec<(&'static str, String)> {
        let mut out = vec![("code", self.code.to_string())];
        out.extend(self.state.clone().map(|s| ("state", s)));
        out.push(("iss", issuer.to_string()));
        out
    }
}

/// `redirect_uri` with `params` added to its query (for `response_mode=query`).
pub fn redirect_url(redirect_uri: &str, params: &[(&str, String)]) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            url.query_pairs_mut()
                .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
            url.to_string()
        }
        Err(_) => redirect_uri.to_string(),
    }
}

/// Checks `params` against `client` (`None`: no client has that id).
pub fn check(
    params: &AuthorizeParams,
    client: Option<&Client>,
    id: RequestId,
    now: OffsetDateTime,
) -> std::result::Result<AuthorizationRequest, AuthorizeError> {
    let page = |e| Err(AuthorizeError::Page(e));
    if params.client_id.as_deref().is_none_or(str::is_empty) {
        return page(PageError::MissingClientId);
    }
    let Some(client) = client else {
        return page(PageError::UnknownClient);
    };
    let Some(redirect_uri) = params.redirect_uri.clone() else {
        return page(PageError::MissingRedirectUri);
    };
    if !client.has_redirect_uri(&redirect_uri) {
        return page(PageError::UnregisteredRedirectUri);
    }
    // From here on errors go back to the client, in the mode it asked for when that parses.
    let response_mode = match params.response_mode.as_deref() {
        None | Some("query") => Some(ResponseMode::Query),
        Some("form_post") => Some(ResponseMode::FormPost),
        Some(_) => None,
    };
    let back = |error, description| {
        Err(AuthorizeError::Redirect(RedirectError {
            redirect_uri: redirect_uri.clone(),
            response_mode: response_mode.unwrap_or_default(),
            state: params.state.clone(),
            error,
            description,
        }))
    };
    let Some(response_mode) = response_mode else {
        return back(ErrorCode::InvalidRequest, "unsupported response_mode");
    };
    if params.request.is_some() {
        return back(
            ErrorCode::RequestNotSupported,
            "request objects are not supported",
        );
    }
    if params.request_uri.is_some() {
        return back(
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported",
        );
    }
    match params.response_type.as_deref() {
        Some("code") => {}
        None => return back(ErrorCode::InvalidRequest, "response_type is required"),
        Some(_) => return back(ErrorCode::UnsupportedResponseType, "only code is supported"),
    }
    let Some(mut scope) = params.scope.as_deref().and_then(Scopes::parse) else {
        return back(ErrorCode::InvalidScope, "scope is missing or malformed");
    };
    if !scope.contains(SCOPE_OPENID) {
        return back(ErrorCode::InvalidScope, "scope must include openid");
    }
    if scope.contains(SCOPE_OFFLINE_ACCESS) && !client.offline_access {
        // OpenID Connect Core §11: a scope the client may not have is ignored.
        scope = scope.without(SCOPE_OFFLINE_ACCESS);
    }
    let code_challenge = match (
        params.code_challenge.as_deref(),
        params.code_challenge_method.as_deref(),
    ) {
        (Some(c), Some("S256")) if is_s256_challenge(c) => Some(c.to_string()),
        (Some(_), Some("S256")) => {
            return back(ErrorCode::InvalidRequest, "malformed code_challenge");
        }
        (Some(_), None | Some("plain")) => {
            return back(
                ErrorCode::InvalidRequest,
                "code_challenge_method must be S256",
            );
        }
        (_, Some(_)) => {
            return back(
                ErrorCode::InvalidRequest,
                "unsupported code_challenge_method",
            );
        }
        (None, None) if client.is_public() => {
            return back(ErrorCode::InvalidRequest, "PKCE (S256) is required");
        }
        (None, None) => None,
    };
    let Some(prompt) = parse_prompt(params.prompt.as_deref()) else {
        return back(ErrorCode::InvalidRequest, "malformed prompt");
    };
    let max_age = match params.max_age.as_deref() {
        None => None,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => return back(ErrorCode::InvalidRequest, "malformed max_age"),
        },
    };
    let too_long = |v: &Option<String>| v.as_ref().is_some_and(|s| s.len() > PARAM_MAX);
    if too_long(&params.state) || too_long(&params.nonce) || too_long(&params.login_hint) {
        return back(ErrorCode::InvalidRequest, "a parameter is too long");
    }
    let acr = params.acr_values.as_deref().and_then(|values| {
        let known: Vec<Acr> = values.split(' ').filter_map(Acr::parse).collect();
        known
            .iter()
            .copied()
            .find(|a| *a == Acr::PhishingResistant)
            .or(known.first().copied())
    });
    Ok(AuthorizationRequest {
        id,
        client_id: client.client_id.clone(),
        redirect_uri,
        scope,
        state: params.state.clone(),
        nonce: params.nonce.clone(),
        code_challenge,
        prompt,
        max_age,
        login_hint: params
            .login_hint
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from),
        acr,
        response_mode,
        created_at: now,
        expires_at: now + REQUEST_TTL,
    })
}

/// An S256 challenge is the base64url (unpadded) SHA-256 of the verifier: 43 characters.
fn is_s256_challenge(c: &str) -> bool {
    c.len() == 43 && data_encoding::BASE64URL_NOPAD.decode(c.as_bytes()).is_ok()
}

fn parse_prompt(text: Option<&str>) -> Option<Prompt> {
    let mut p = Prompt::default();
    for v in text.unwrap_or("").split(' ').filter(|s| !s.is_empty()) {
        match v {
            "none" => p.none = true,
            "login" => p.login = true,
            "consent" => p.consent = true,
            "select_account" => p.select_account = true,
            _ => return None,
        }
    }
    // `none` with anything else is an error (OpenID Connect Core §3.1.2.1).
    (!(p.none && (p.login || p.consent || p.select_account))).then_some(p)
}

impl AuthorizationRequest {
    /// This request's answer `error` back at the client.
    pub fn error(&self, error: ErrorCode, description: &'static str) -> RedirectError {
        RedirectError {
            redirect_uri: self.redirect_uri.clone(),
            response_mode: self.response_mode,
            state: self.state.clone(),
            error,
            description,
        }
    }

    /// What to do with the request, given who is signed in (`None`: nobody), the client,
    /// and the person's remembered consent for it.
    pub fn decide(
        &self,
        client: &Client,
        signed_in: Option<&Authentication>,
        consent: Option<&Consent>,
        now: OffsetDateTime,
    ) -> Decision {
        let interact = |decision, error, description| match self.prompt.none {
            true => Decision::Error(self.error(error, description)),
            false => decision,
        };
        let Some(auth) = signed_in else {
            return interact(Decision::SignIn, ErrorCode::LoginRequired, "not signed in");
        };
        // `prompt=login` asks for a sign-in after the request began; one that happened since
        // answers it (otherwise the person would loop).
        let fresh_login = auth.auth_time >= self.created_at;
        if self.prompt.login && !fresh_login {
            return Decision::SignIn;
        }
        if let Some(max_age) = self.max_age
            && (now - auth.auth_time).whole_seconds() > max_age
        {
            return interact(
                Decision::SignIn,
                ErrorCode::LoginRequired,
                "sign-in too old",
            );
        }
        let needed = match self.acr {
            Some(Acr::PhishingResistant) => Acr::PhishingResistant,
            _ => client.requirement.acr(),
        };
        if !auth.acr.is_some_and(|acr| acr.satisfies(needed)) {
            return interact(
                Decision::StepUp,
                ErrorCode::InteractionRequired,
                "a stronger sign-in is required",
            );
        }
        if !client.first_party {
            let covered = consent.is_some_and(|c| self.scope.is_subset_of(&c.scopes));
            if self.prompt.consent || !covered {
                return interact(
                    Decision::Consent,
                    ErrorCode::ConsentRequired,
                    "consent required",
                );
            }
        }
        Decision::Issue
    }
}

impl Tessera {
    /// The authorization endpoint's first step: checks the request and keeps it while the
    /// person signs in. Its id travels through the sign-in pages.
    pub async fn oidc_authorize(
        &self,
        params: &AuthorizeParams,
    ) -> std::result::Result<AuthorizationRequest, AuthorizeError> {
        let client = match params.client_id.as_deref() {
            Some(id) if !id.is_empty() => self.store.oidc_client(id).await.map_err(Error::from)?,
            _ => None,
        };
        let id = RequestId::new(self.rng.as_ref());
        let request = check(params, client.as_ref(), id, self.now())?;
        self.store
            .insert_oidc_request(&request)
            .await
            .map_err(Error::from)?;
        Ok(request)
    }

    /// A pending request, while it lasts (`Expired` after, or once it was answered).
    pub async fn oidc_request(&self, id: RequestId) -> Result<AuthorizationRequest> {
        match self.store.oidc_request(id).await? {
            Some(r) if r.expires_at > self.now() => Ok(r),
            _ => Err(Error::Expired),
        }
    }

    /// [`AuthorizationRequest::decide`] with the client and consent from the store.
    pub async fn oidc_decide(
        &self,
        request: &AuthorizationRequest,
        signed_in: Option<&Authentication>,
    ) -> Result<Decision> {
        let client = self
            .store
            .oidc_client(&request.client_id)
            .await?
            .ok_or(Error::NotFound)?;
        let consent = match signed_in {
            Some(a) => {
                self.store
                    .oidc_consent(a.account, &client.client_id)
                    .await?
            }
            None => None,
        };
        Ok(request.decide(&client, signed_in, consent.as_ref(), self.now()))
    }

    /// Ends a request with a code for the client. The request is used up in the same
    /// commit, so it yields one code even when two nodes answer it at once (the other gets
    /// `Expired`).
    pub async fn oidc_issue_code(
        &self,
        request: &AuthorizationRequest,
        auth: &Authentication,
        ctx: &RequestContext,
    ) -> Result<AuthorizationResponse> {
        let now = self.now();
        if request.expires_at <= now {
            return Err(Error::Expired);
        }
        let code = secret::new_token(self.rng.as_ref());
        let row = AuthorizationCode {
            hash: secret::token_hash(&code),
            client_id: request.client_id.clone(),
            account: auth.account,
            session: auth.session,
            redirect_uri: request.redirect_uri.clone(),
            code_challenge: request.code_challenge.clone(),
            nonce: request.nonce.clone(),
            scope: request.scope.clone(),
            auth_time: auth.auth_time,
            amr: auth.amr.clone(),
            acr: auth.acr,
            created_at: now,
            expires_at: now + CODE_TTL,
        };
        let audit = self
            .audit(ctx, Some(auth.account), AuditAction::OidcAuthorized)
            .detail(json!({ "client_id": request.client_id, "scope": request.scope.to_string() }));
        if !self
            .store
            .insert_oidc_code(&row, request.id, &audit)
            .await?
        {
            return Err(Error::Expired);
        }
        Ok(AuthorizationResponse {
            redirect_uri: request.redirect_uri.clone(),
            response_mode: request.response_mode,
            code,
            state: request.state.clone(),
        })
    }

    /// The person declined (or cannot use this client): `access_denied` back to the client,
    /// and the request is forgotten.
    pub async fn oidc_deny(&self, request: &AuthorizationRequest) -> Result<RedirectError> {
        self.store.delete_oidc_request(request.id).await?;
        Ok(request.error(ErrorCode::AccessDenied, "the person declined"))
    }
}

#[cfg(test)]
#[path = "authorize_tests.rs"]
mod tests;
