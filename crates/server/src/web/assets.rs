//! Static files, compiled into the binary so a deployment is one file. Pages link them with
//! a hash of their content in the query, so browsers may keep them for a year and still see
//! a new version at once.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("../../static/tessera.css");
const ICON: &str = include_str!("../../static/favicon.svg");
const WEBAUTHN_JS: &str = include_str!("../../static/webauthn.js");
const PUSH_JS: &str = include_str!("../../static/push.js");
const COPY_JS: &str = include_str!("../../static/copy.js");

pub const CSS_HASH: u64 = fnv1a(CSS.as_bytes());
pub const ICON_HASH: u64 = fnv1a(ICON.as_bytes());
const WEBAUTHN_JS_HASH: u64 = fnv1a(WEBAUTHN_JS.as_bytes());
const PUSH_JS_HASH: u64 = fnv1a(PUSH_JS.as_bytes());
const COPY_JS_HASH: u64 = fnv1a(COPY_JS.as_bytes());

/// The security key pages' script (the WebAuthn ceremonies), with its version.
pub fn webauthn_script() -> String {
    format!("/static/webauthn.js?v={WEBAUTHN_JS_HASH:016x}")
}

/// The notification pages' script (waiting for an approval), with its version.
pub fn push_script() -> String {
    format!("/static/push.js?v={PUSH_JS_HASH:016x}")
}

/// The "Copy" buttons' script (a secret shown once), with its version.
pub fn copy_script() -> String {
    format!("/static/copy.js?v={COPY_JS_HASH:016x}")
}

/// FNV-1a: enough to tell versions apart, and computable at compile time.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

pub async fn serve(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "tessera.css" => (CSS, "text/css; charset=utf-8"),
        "favicon.svg" => (ICON, "image/svg+xml"),
        "webauthn.js" => (WEBAUTHN_JS, "text/javascript; charset=utf-8"),
        "push.js" => (PUSH_JS, "text/javascript; charset=utf-8"),
        "copy.js" => (COPY_JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    // `private`: the response may carry a first CSRF cookie, which no shared cache may keep.
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (
            header::CACHE_CONTROL,
            "private, max-age=31536000, immutable",
        ),
    ];
    (headers, body).into_response()
}
