//! The answers every operation can give, whether or not its own annotation lists them:
//! `401` where a token is required (a missing, expired or revoked one), `400` where it takes
//! a body or parameters (`ApiJson` and path parsing refuse malformed ones), `404` where a
//! path names something (it may not exist), `403 csrf` where it changes something (a
//! browser's request from another origin, refused by `csrf::check_origin`) and `429` on the
//! credential endpoints that `limits` counts. A path that names no operation is
//! `404 not_found`, and a known path with another method `405 method_not_allowed`, both in
//! the same error format (said in the document's description). schemathesis
//! (scripts/schemathesis.sh) holds the document to what the server answers; this keeps each
//! handler's annotation to what is particular to it.

use utoipa::openapi::path::Operation;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

pub fn add_common_errors(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let has_path_params = path.contains('{');
        let post_counted = crate::limits::counts(&axum::http::Method::POST, path);
        let ops = [
            (&mut item.get, false, false),
            (&mut item.put, false, true),
            (&mut item.post, post_counted, true),
            (&mut item.delete, false, true),
            (&mut item.patch, false, true),
        ];
        for (op, limited, changes) in ops {
            if let Some(op) = op.as_mut() {
                add(op, has_path_params, limited, changes);
            }
        }
    }
}

fn add(op: &mut Operation, has_path_params: bool, limited: bool, changes: bool) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let takes_input = op.request_body.is_some()
        || op.parameters.as_ref().is_some_and(|p| !p.is_empty())
        || has_path_params;
    let wanted = [
        ("401", secured, "No session, or an expired or revoked one"),
        (
            "400",
            takes_input,
            "The request is malformed (`bad_request`)",
        ),
        ("404", has_path_params, "Nothing of that id (`not_found`)"),
        (
            "403",
            changes,
            "A browser's request from another origin than the public URL's (`csrf`)",
        ),
        (
            "429",
            limited,
            "Too many requests from this address (`rate_limited`)",
        ),
    ];
    for (code, applies, description) in wanted {
        if applies && !op.responses.responses.contains_key(code) {
            op.responses
                .responses
                .insert(code.to_string(), RefOr::T(error_response(description)));
        }
    }
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}
