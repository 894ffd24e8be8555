//! The flow a browser is in, read from its cookie: a sign-in ([`SignInFlow`]) or a password
//! reset ([`ResetFlow`]). The browser holds only the flow's id; the flow lives in the store.
//!
//! Without the cookie (or with one that is no flow id) the page cannot go on: the extractor
//! refuses with [`StartAgain`], which clears the cookie and goes back to the flow's first page.
//! A handler that finds the flow over (expired, gone) answers with the same [`StartAgain`].
//!
//! A form handler takes `Result<SignInFlow, StartAgain>` and checks the CSRF token first, so
//! a forged form is refused as forged whether or not the browser is in a flow.

use super::WebError;
use crate::AppState;
use crate::session::{COOKIE_FLOW, COOKIE_RESET};
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use std::convert::Infallible;
use tessera_core::FlowId;

/// The sign-in this browser is in (the flow cookie).
pub struct SignInFlow(pub FlowId);

/// The password reset this browser is in (the reset cookie).
pub struct ResetFlow(pub FlowId);

/// Back to the start: the flow is missing, gone or past its lifetime. Clears the cookie.
#[derive(Debug)]
pub struct StartAgain {
    // Boxed: a cookie is large, and this travels in every page's error type.
    removal: Box<Cookie<'static>>,
    to: &'static str,
}

impl StartAgain {
    pub fn sign_in(state: &AppState) -> Self {
        StartAgain {
            removal: Box::new(state.removal_cookie(COOKIE_FLOW)),
            to: "/sign-in?notice=expired",
        }
    }

    pub fn reset(state: &AppState) -> Self {
        StartAgain {
            removal: Box::new(state.removal_cookie(COOKIE_RESET)),
            to: "/reset?notice=expired",
        }
    }
}

impl IntoResponse for StartAgain {
    fn into_response(self) -> Response {
        let jar = CookieJar::new().add(*self.removal);
        (jar, Redirect::to(self.to)).into_response()
    }
}

impl From<StartAgain> for WebError {
    fn from(s: StartAgain) -> Self {
        WebError::StartAgain(s)
    }
}

fn flow_id(parts: &Parts, state: &AppState, base: &'static str) -> Option<FlowId> {
    CookieJar::from_headers(&parts.headers)
        .get(state.cookie_name(base))
        .and_then(|c| c.value().parse().ok())
}

impl FromRequestParts<AppState> for SignInFlow {
    type Rejection = StartAgain;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        flow_id(parts, state, COOKIE_FLOW)
            .map(SignInFlow)
            .ok_or_else(|| StartAgain::sign_in(state))
    }
}

/// For a script's status call, where a missing flow is an answer rather than a redirect.
impl OptionalFromRequestParts<AppState> for SignInFlow {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(flow_id(parts, state, COOKIE_FLOW).map(SignInFlow))
    }
}

impl FromRequestParts<AppState> for ResetFlow {
    type Rejection = StartAgain;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        flow_id(parts, state, COOKIE_RESET)
            .map(ResetFlow)
            .ok_or_else(|| StartAgain::reset(state))
    }
}
