//! Email: a code by email that verifies the address, for password reset only, and the
//! notifications of every change to security info through the SMTP server.

use crate::common::{Harness, each_backend_with, method_kinds};
use crate::gateway::{gateway, with_webhook};
use crate::phone::{add, add_mobile, address, verify};
use serde_json::json;

#[tokio::test]
async fn email_serves_reset_only_and_hears_of_every_change() {
    each_backend_with(with_webhook, |h: Harness| async move {
        let c = h.client();
        let (token, totp_id, _) = h.enrolled_user(&c, "erin@example.org").await;
        let email = address();
        let (status, body) = add(&h, &c, &token, json!({"kind": "email", "address": email})).await;
        assert_eq!(
            (status, body["delivery"].as_str()),
            (201, Some("email")),
            "{body}"
        );
        let id = body["id"].as_str().unwrap().to_string();
        let mail = gateway().nth(&email, 1).await;
        let (status, body) = verify(&h, &c, &token, &id, &mail.code.unwrap()).await;
        assert_eq!(status, 200, "{body}");

        let (_, info) = h.get(&c, "/api/v1/me/security-info", Some(&token)).await;
        assert_eq!(
            info["default_method"],
            totp_id.as_str(),
            "email never becomes the default"
        );
        let (status, body) = h
            .put(
                &c,
                "/api/v1/me/security-info/default",
                &token,
                json!({"method_id": id}),
            )
            .await;
        assert_eq!((status, body["error"].as_str()), (403, Some("not_allowed")));
        let body = h.api_sign_in(&c, "erin@example.org").await;
        let kinds = method_kinds(&body);
        assert!(
            !kinds.contains(&"email"),
            "email is no sign-in factor: {kinds:?}"
        );

        // Adding a phone is announced by email: what, when, from where, and what to do.
        let (phone, e164) = add_mobile(&h, &c, &token).await;
        let code = gateway().nth(&e164, 1).await.code.unwrap();
        assert_eq!(verify(&h, &c, &token, &phone, &code).await.0, 200);
        let note = gateway().nth(&email, 2).await;
        assert!(note.text.contains("was added"), "{}", note.text);
        assert!(note.text.contains("127.0.0.1"), "{}", note.text);
        assert!(note.text.contains("If this was not you"), "{}", note.text);
        // So is removing it.
        let (status, _) = h
            .delete(
                &c,
                &format!("/api/v1/me/security-info/methods/{phone}"),
                &token,
            )
            .await;
        assert_eq!(status, 204);
        assert!(gateway().nth(&email, 3).await.text.contains("was removed"));
    })
    .await;
}
