//! Errors as the API answers them: a status and `{"error", "message"}` (API.md). The message
//! is translated into the request's language by [`translate_api_errors`], so handlers can
//! simply return `Result<_, ApiError>` with `?`.

use crate::i18n::Tr;
use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tessera_core::Error;

/// An error answered by the API.
#[derive(Debug)]
pub enum ApiError {
    Domain(Error),
    /// The body is not the JSON the endpoint takes.
    Malformed,
    /// A query string that does not parse.
    MalformedQuery,
    BodyTooLarge,
    /// A form without its CSRF token, or with another one; or a state-changing request from
    /// another origin than the public URL's (`csrf::check_origin`).
    Csrf,
    /// The path exists, but not with this method (`405`, with `Allow`).
    MethodNotAllowed,
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::Domain(e)
    }
}

impl From<tessera_core::StoreError> for ApiError {
    fn from(e: tessera_core::StoreError) -> Self {
        ApiError::Domain(e.into())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::BodyTooLarge
        } else {
            ApiError::Malformed
        }
    }
}

impl From<FormRejection> for ApiError {
    fn from(r: FormRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::BodyTooLarge
        } else {
            ApiError::Malformed
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(_: QueryRejection) -> Self {
        ApiError::MalformedQuery
    }
}

/// The response body of an error (and the OpenAPI schema of it).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// API.md's snake_case code.
    pub error: &'static str,
    /// Human text in the request's language.
    pub message: String,
    /// Seconds to wait, with `locked` and `rate_limited`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// The field at fault, with `bad_request`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Domain(e) => match e {
                Error::InvalidCredentials | Error::Unauthorized => StatusCode::UNAUTHORIZED,
                Error::InvalidCode | Error::BadRequest { .. } => StatusCode::BAD_REQUEST,
                Error::Expired => StatusCode::GONE,
                Error::Locked { .. } | Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                Error::StepUpRequired | Error::NotAllowed(_) => StatusCode::FORBIDDEN,
                Error::NotFound => StatusCode::NOT_FOUND,
                // The gateway failed us, after every retry (RFC 9110 §15.6.3).
                Error::DeliveryFailed => StatusCode::BAD_GATEWAY,
                // The directory is down: try again later (docs/design/directory.md).
                Error::DirectoryUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
                Error::DirectoryRefused { .. } => StatusCode::FORBIDDEN,
                Error::Store(_) | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ApiError::Malformed | ApiError::MalformedQuery => StatusCode::BAD_REQUEST,
            ApiError::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Csrf => StatusCode::FORBIDDEN,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    pub fn body(&self, tr: &Tr) -> ErrorBody {
        match self {
            ApiError::Domain(e) => ErrorBody {
                error: e.code(),
                message: message(e, tr),
                retry_after: match e {
                    Error::Locked { retry_after } | Error::RateLimited { retry_after } => {
                        Some(*retry_after)
                    }
                    _ => None,
                },
                field: match e {
                    Error::BadRequest { field, .. } => Some(field),
                    _ => None,
                },
            },
            ApiError::Malformed | ApiError::MalformedQuery => {
                let field = if matches!(self, ApiError::MalformedQuery) {
                    "query"
                } else {
                    "body"
                };
                ErrorBody {
                    error: "bad_request",
                    message: tr.args(
                        "error-bad_request",
                        &[
                            ("field", crate::fields::field_name(tr, field)),
                            ("problem", tr.get("problem-invalid")),
                        ],
                    ),
                    retry_after: None,
                    field: Some(field),
                }
            }
            ApiError::BodyTooLarge => ErrorBody {
                error: "body_too_large",
                message: tr.get("error-body_too_large"),
                retry_after: None,
                field: None,
            },
            ApiError::Csrf => ErrorBody {
                error: "csrf",
                message: tr.get("error-csrf"),
                retry_after: None,
                field: None,
            },
            ApiError::MethodNotAllowed => ErrorBody {
                error: "method_not_allowed",
                message: tr.get("error-method_not_allowed"),
                retry_after: None,
                field: None,
            },
        }
    }

    /// The whole answer, body included, in `tr`'s language: for refusals made outside the
    /// API router, where [`translate_api_errors`] does not run.
    pub fn render(&self, tr: &Tr) -> Response {
        let mut response = axum::Json(self.body(tr)).into_response();
        *response.status_mut() = self.status();
        if let Some(secs) = self.retry_after()
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::Domain(
                Error::Locked { retry_after } | Error::RateLimited { retry_after },
            ) => Some(*retry_after),
            _ => None,
        }
    }
}

/// The translated text of a domain error.
pub fn message(e: &Error, tr: &Tr) -> String {
    match e {
        Error::Locked { retry_after } => tr.with("error-locked", "seconds", retry_after),
        Error::RateLimited { retry_after } => tr.with("error-rate_limited", "seconds", retry_after),
        Error::NotAllowed(reason) => tr.get(&format!("not-allowed-{}", reason.key())),
        Error::DirectoryUnavailable { .. } => tr.get("directory-unavailable"),
        Error::DirectoryRefused { reason } => {
            tr.get(crate::directory::Refusal::of(reason).message_id())
        }
        Error::BadRequest { field, problem } => {
            let problem_text = match problem {
                tessera_core::Problem::TooShort { min } => tr.with("problem-too-short", "min", min),
                tessera_core::Problem::TooLong { max } => tr.with("problem-too-long", "max", max),
                tessera_core::Problem::WrongCount { expected } => {
                    tr.with("problem-wrong-count", "expected", expected)
                }
                p => tr.get(&format!("problem-{}", p.key())),
            };
            tr.args(
                "error-bad_request",
                &[
                    ("field", crate::fields::field_name(tr, field)),
                    ("problem", problem_text),
                ],
            )
        }
        other => tr.get(&format!("error-{}", other.code())),
    }
}

/// The directory's outage is the operator's to see: the person only reads "try again later".
pub fn log_directory_outage(e: &ApiError) {
    if let ApiError::Domain(Error::DirectoryUnavailable { detail }) = e {
        tracing::warn!(%detail, "the directory is unavailable");
    }
}

/// Marks an error response whose body [`translate_api_errors`] writes.
#[derive(Debug, Clone)]
struct PendingError(ErrorBodyParts);

#[derive(Debug, Clone)]
struct ErrorBodyParts(std::sync::Arc<ApiError>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Domain(e @ (Error::Store(_) | Error::Internal(_))) = &self {
            tracing::error!(error = ?e, source = ?std::error::Error::source(e), "request failed");
        }
        log_directory_outage(&self);
        let status = self.status();
        let mut response = status.into_response();
        if let Some(secs) = self.retry_after()
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
            .extensions_mut()
            .insert(PendingError(ErrorBodyParts(std::sync::Arc::new(self))));
        response
    }
}

/// Writes the JSON body of API errors in the language of the request. The router's own
/// `405` (a path that exists, another method), which comes without a body, gets the API's
/// format too (`method_not_allowed`), keeping its `Allow` header.
pub async fn translate_api_errors(request: Request, next: Next) -> Response {
    // Only what picks the language is kept, and the language is only picked for an error:
    // most API answers are not one (the forward-auth check answers every request of a
    // protected site).
    let cookies: Vec<HeaderValue> = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .cloned()
        .collect();
    let accept = request.headers().get(header::ACCEPT_LANGUAGE).cloned();
    let mut response = next.run(request).await;
    let pending = response
        .extensions_mut()
        .remove::<PendingError>()
        .map(|PendingError(ErrorBodyParts(err))| err)
        .or_else(|| {
            (response.status() == StatusCode::METHOD_NOT_ALLOWED)
                .then(|| std::sync::Arc::new(ApiError::MethodNotAllowed))
        });
    if let Some(err) = pending {
        let mut asked = axum::http::Request::new(());
        for value in cookies {
            asked.headers_mut().append(header::COOKIE, value);
        }
        if let Some(value) = accept {
            asked.headers_mut().insert(header::ACCEPT_LANGUAGE, value);
        }
        let tr = Tr::from_parts(&asked.into_parts().0);
        let status = response.status();
        let headers = response.headers().clone();
        let mut json = axum::Json(err.body(&tr)).into_response();
        *json.status_mut() = status;
        for (k, v) in headers.iter() {
            json.headers_mut().insert(k, v.clone());
        }
        json.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return json;
    }
    response
}

/// `axum::Json` whose rejections answer in the API's error format.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Query` whose rejections answer in the API's error format.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}
