//! CORS for the device API (`/api/v1/device/…`) and nothing else.
//!
//! One installed authenticator app holds accounts of several Tessera servers, so it calls
//! each from its own origin. The device API authenticates by the device credential (a bearer
//! header) and signatures, never by cookies, so any origin may call it: `*`, and never
//! `Access-Control-Allow-Credentials`, so a browser never attaches a cookie to such a call.
//! Every other route keeps the same-origin policy.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// The paths that allow any origin.
pub const DEVICE_API: &str = "/api/v1/device/";

/// Whether `path` is in the device API.
pub fn is_device_api(path: &str) -> bool {
    path.starts_with(DEVICE_API)
}

/// Answers preflights for the device API, and marks its responses readable by any origin.
pub async fn device_api(request: Request, next: Next) -> Response {
    if !is_device_api(request.uri().path()) {
        return next.run(request).await;
    }
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NO_CONTENT;
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT, DELETE"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        r
    } else {
        next.run(request).await
    };
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}
