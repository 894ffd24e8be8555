//! The JSON API under `/api/v1` (API.md), described by the OpenAPI document it serves at
//! `/api/v1/openapi.json`.

pub mod admin;
pub mod admin_audit;
pub mod admin_forward_auth;
pub mod admin_oidc;
pub mod admin_radius;
pub mod app_passwords;
pub mod device;
pub mod device_webpush;
pub mod directory_offers;
pub mod documented;
pub mod import;
pub mod me;
pub mod me_apps;
pub mod phone;
pub mod policy;
pub mod push;
pub mod recovery_codes;
pub mod reset;
pub mod security_questions;
pub mod sign_in;
pub mod types;
pub mod verify_api;
pub mod webauthn;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use axum::Json;
use std::str::FromStr;
use tessera_core::{Error, Problem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Tessera API", description = "Two-step verification and security info (API.md). \
Every error is `{\"error\": \"<code>\", \"message\": \"<text>\"}`: besides each operation's own, \
a path that names no operation answers `404 not_found`, and a known path with a method it does \
not take `405 method_not_allowed` (with `Allow`)."),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // A service's API key, from `/admin/service-credentials`, for `/verify`.
        components.add_security_scheme(
            "service_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // An authenticator app's device credential, from `/device/activate`.
        components.add_security_scheme(
            "device",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API's routes (relative to `/api/v1`) and the OpenAPI document describing them.
pub fn router() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(sign_in::sign_in))
        .routes(routes!(sign_in::status))
        .routes(routes!(sign_in::challenge))
        .routes(routes!(sign_in::verify))
        .routes(routes!(sign_in::sign_out))
        .routes(routes!(webauthn::passkey_begin))
        .routes(routes!(webauthn::passkey_finish))
        .routes(routes!(me::me))
        .routes(routes!(me::security_info))
        .routes(routes!(me::add_method))
        .routes(routes!(directory_offers::accept))
        .routes(routes!(me::verify_method))
        .routes(routes!(me::delete_method))
        .routes(routes!(me::set_default))
        .routes(routes!(me::step_up))
        .routes(routes!(me::step_up_verify))
        .routes(routes!(me::activity))
        .routes(routes!(crate::delivery::callback::voice_callback))
        .routes(routes!(phone::resend))
        .routes(routes!(phone::regions))
        .routes(routes!(phone::outbox))
        .routes(routes!(phone::press))
        .routes(routes!(app_passwords::list, app_passwords::create))
        .routes(routes!(app_passwords::delete))
        .routes(routes!(app_passwords::change_password))
        .routes(routes!(admin::list, admin::create))
        .routes(routes!(admin::show))
        .routes(routes!(admin::disable))
        .routes(routes!(admin::enable))
        .routes(routes!(admin::require_registration))
        .routes(routes!(admin::temporary_password))
        .routes(routes!(admin::issue_pass, admin::revoke_pass))
        .routes(routes!(admin::end_sessions))
        .routes(routes!(admin_audit::list))
        .routes(routes!(admin_audit::export))
        .routes(routes!(verify_api::list, verify_api::create))
        .routes(routes!(verify_api::revoke))
        .routes(routes!(verify_api::verify))
        .merge(import::router())
        .merge(reset::router())
        .merge(security_questions::router())
        .merge(recovery_codes::router())
        .merge(policy::router())
        .merge(me_apps::router())
        .merge(admin_oidc::router())
        .merge(admin_forward_auth::router())
        .merge(admin_radius::router())
        .merge(crate::forward_auth::api_router())
        .routes(routes!(push::sign_in_push))
        .routes(routes!(push::step_up_push))
        .routes(routes!(push::activation))
        .routes(routes!(push::test_notification))
        .routes(routes!(device::activate))
        .routes(routes!(device::requests))
        .routes(routes!(device::request))
        .routes(routes!(device::answer))
        .routes(routes!(device::wakeup))
        .routes(routes!(device::remove))
        .routes(routes!(
            device_webpush::webpush_info,
            device_webpush::webpush_subscribe,
            device_webpush::webpush_unsubscribe
        ))
        .split_for_parts();
    documented::add_common_errors(&mut doc);
    doc.servers = Some(vec![utoipa::openapi::Server::new("/api/v1")]);
    let served = doc.clone();
    let router = router
        .route(
            "/openapi.json",
            axum::routing::get(move || async move { Json(served) }),
        )
        .fallback(not_found);
    (router, doc)
}

/// A path under `/api/v1` that names no operation: `404 not_found` in the API's format (a
/// known path with another method is `405 method_not_allowed`, see `error.rs`).
async fn not_found() -> ApiError {
    Error::NotFound.into()
}

/// An id from a request body; a malformed one is a `bad_request` on that field.
pub(crate) fn parse_id<T: FromStr>(raw: &str, field: &'static str) -> Result<T, ApiError> {
    raw.trim()
        .parse()
        .map_err(|_| Error::bad(field, Problem::Invalid).into())
}
