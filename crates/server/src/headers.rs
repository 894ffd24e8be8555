//! Security headers on every response: a CSP without inline script, no framing, no sniffing,
//! no referrer, no caching of anything personal, and, when the public URL is `https://`,
//! HTTPS only (HSTS).

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'";

/// HSTS for a year: browsers that have seen Tessera once over HTTPS never try plain HTTP
/// again (a downgrade or a cookie theft on hostile Wi-Fi). Without `includeSubDomains`: it
/// would bind every name under the public host to HTTPS, which is the organization's choice
/// and not Tessera's; the cookies are `__Host-` prefixed, so a subdomain cannot plant them
/// anyway. Without `preload`, which cannot be undone quickly.
const HSTS: &str = "max-age=31536000";

/// The CSP with `origin` added to `form-action`: for the pages and redirects that hand an
/// OpenID Connect answer to its client (browsers apply `form-action` to a form's redirects).
pub fn csp_with_form_action(origin: &str) -> String {
    CSP.replace(
        "form-action 'self'",
        &format!("form-action 'self' {origin}"),
    )
}

pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let is_static = request.uri().path().starts_with("/static/");
    // The web authenticator's responses say themselves how long they may be kept.
    let is_web_app = request.uri().path().starts_with("/authenticator/");
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    // A page that answers an OpenID Connect client sets its own, naming the client's origin.
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    if state.config.is_https() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    if is_web_app {
        h.entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    } else if !is_static {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
