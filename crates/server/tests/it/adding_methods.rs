//! What the pages offer to add is what core accepts, and the API agrees: the policy allows a
//! kind for two-step sign-in, for password reset, or for both, and any of them will do.

use crate::common::{Harness, each_backend};
use crate::web::browser::signed_in;
use serde_json::json;

const METHODS: &str = "/api/v1/me/security-info/methods";

#[tokio::test]
async fn a_kind_allowed_for_reset_only_is_listed_offered_and_added_on_pages_and_api() {
    each_backend(|h: Harness| async move {
        let (b, _, _) = signed_in(&h, "rita@example.org").await;
        let c = h.client();
        let (token, _, _) = h.enrolled_user(&c, "ruben@example.org").await;
        h.set_policy("mfa_kinds", "security_key").await;
        h.set_policy(
            "reset_kinds",
            "authenticator_code,authenticator_app,security_key",
        )
        .await;

        b.get("/security-info/add")
            .await
            .shows(200, "href=\"/security-info/add/authenticator-code\"")
            .shows(200, "href=\"/security-info/add/authenticator-app\"");
        // The pages that the list links to take the person in, rather than refuse them.
        b.get("/security-info/add/authenticator-code")
            .await
            .shows(200, "action=\"/security-info/add/authenticator-code\"");
        b.get("/security-info/add/authenticator-app")
            .await
            .shows(200, "action=\"/security-info/add/authenticator-app\"");
        b.add_authenticator("Tablet").await;
        b.get("/security-info").await.shows(200, "Tablet");

        let (status, body) = h
            .post(
                &c,
                METHODS,
                Some(&token),
                json!({"kind": "authenticator_code"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    })
    .await;
}

#[tokio::test]
async fn a_kind_allowed_for_neither_is_not_listed_and_refused_on_pages_and_api() {
    each_backend(|h: Harness| async move {
        let (b, _, _) = signed_in(&h, "sam@example.org").await;
        let c = h.client();
        let (token, _, _) = h.enrolled_user(&c, "sara@example.org").await;
        h.set_policy("mfa_kinds", "security_key").await;
        h.set_policy("reset_kinds", "security_key").await;

        let list = b.get("/security-info/add").await;
        assert!(
            !list.html.contains("/security-info/add/authenticator-code"),
            "{}",
            list.html
        );
        b.get("/security-info/add/authenticator-code")
            .await
            .shows(403, "allow this kind of method");
        b.get("/security-info/add/authenticator-app")
            .await
            .shows(403, "allow this kind of method");

        let (status, body) = h
            .post(
                &c,
                METHODS,
                Some(&token),
                json!({"kind": "authenticator_code"}),
            )
            .await;
        assert_eq!((status, body["error"].as_str()), (403, Some("not_allowed")));
    })
    .await;
}
