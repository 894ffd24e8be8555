//! What a person reads, in their language (issue #13): a field named in words rather than by
//! its API name, and texts, calls and emails in the language they use, without having had to
//! pick one; a language they did pick outlasts what any browser asks for.

use crate::common::{Harness, PASSWORD, each_backend, each_backend_with};
use crate::gateway::{gateway, with_webhook};
use crate::phone::{add, address, mobile, verify};
use crate::reset_web::{choose, choose_password};
use crate::web::browser::{Browser, Resp, signed_in};
use reqwest::header::ACCEPT_LANGUAGE;
use serde_json::json;
use tessera_core::Account;

const DUTCH: &str = "nl-NL,nl;q=0.9,en;q=0.5";
const ADD_PHONE: &str = "/security-info/add/phone-mobile";

/// Types a common password as the new one on the change-password page.
async fn change_to_a_weak_password(b: &Browser) -> Resp {
    b.submit(
        "/password/change",
        "/password/change",
        &[
            ("current_password", PASSWORD),
            ("new_password", "password"),
            ("confirm_password", "password"),
        ],
    )
    .await
}

async fn account(h: &Harness, username: &str) -> Account {
    h.store()
        .account_by_username(username)
        .await
        .unwrap()
        .unwrap()
}

/// Adds a mobile phone on the pages; answers the text that the phone received.
async fn add_phone(b: &Browser) -> String {
    let (typed, e164) = mobile();
    let r = b
        .submit(
            ADD_PHONE,
            ADD_PHONE,
            &[("country", "NL"), ("number", &typed), ("delivery", "sms")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    gateway().nth(&e164, 1).await.text
}

#[tokio::test]
async fn a_weak_password_is_named_in_words_on_the_pages_and_in_the_api() {
    each_backend(|h: Harness| async move {
        let (b, _, _) = signed_in(&h, "wendy@example.org").await;
        let r = change_to_a_weak_password(&b).await;
        r.shows(400, "Check the new password: this password is too common");
        assert!(!r.html.contains("Check new_password"), "{}", r.html);
        b.submit(
            "/security-info",
            "/language",
            &[("lang", "nl"), ("next", "/security-info")],
        )
        .await
        .redirects_to("/security-info");
        change_to_a_weak_password(&b).await.shows(
            400,
            "Controleer het nieuwe wachtwoord: dit wachtwoord komt te vaak voor",
        );

        // Programs keep the API's name of the field; only the sentence is in words.
        let c = h.client();
        let (token, _, _) = h.enrolled_user(&c, "walt@example.org").await;
        let r = c
            .post(h.url("/api/v1/me/password"))
            .bearer_auth(&token)
            .header(ACCEPT_LANGUAGE, DUTCH)
            .json(&json!({"current_password": PASSWORD, "new_password": "password"}))
            .send()
            .await
            .unwrap();
        let (status, body) = crate::common::response(r).await;
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some("new_password")),
            "{body}"
        );
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with("Controleer het nieuwe wachtwoord: "),
            "{body}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_dutch_browser_gets_dutch_texts_without_choosing_a_language() {
    each_backend_with(with_webhook, |h: Harness| async move {
        let username = "daan@example.org";
        let (_, _, secret) = h.enrolled_user(&h.client(), username).await;
        let b = Browser::speaking(&h, DUTCH);
        b.sign_in(username, &secret).await;
        let kept = account(&h, username).await;
        assert_eq!(
            (kept.locale.as_deref(), kept.browser_locale.as_deref()),
            (None, Some("nl")),
            "remembered, but not as a choice"
        );

        let text = add_phone(&b).await;
        assert!(text.contains("is je code van Example Org"), "{text}");
    })
    .await;
}

#[tokio::test]
async fn english_picked_on_the_page_outlasts_a_dutch_browser() {
    each_backend_with(with_webhook, |h: Harness| async move {
        let username = "emma@example.org";
        let (_, _, secret) = h.enrolled_user(&h.client(), username).await;
        // English, picked on the sign-in page of a browser that asks for Dutch.
        let b = Browser::speaking(&h, DUTCH);
        b.submit(
            "/sign-in",
            "/language",
            &[("lang", "en"), ("next", "/sign-in")],
        )
        .await
        .redirects_to("/sign-in");
        b.sign_in(username, &secret).await;
        assert_eq!(account(&h, username).await.locale.as_deref(), Some("en"));
        let text = add_phone(&b).await;
        assert!(text.contains("is your Example Org code"), "{text}");

        // Another browser asking for Dutch does not undo the choice.
        let other = Browser::speaking(&h, DUTCH);
        other.sign_in(username, &secret).await;
        let kept = account(&h, username).await;
        assert_eq!(
            (kept.locale.as_deref(), kept.browser_locale.as_deref()),
            (Some("en"), Some("nl"))
        );
        let text = add_phone(&other).await;
        assert!(text.contains("is your Example Org code"), "{text}");
    })
    .await;
}

#[tokio::test]
async fn a_reset_email_follows_the_browser_that_asked_for_it() {
    each_backend_with(with_webhook, |h: Harness| async move {
        let username = "noor@example.org";
        let c = h.client();
        let (token, _, _) = h.enrolled_user(&c, username).await;
        let email = address();
        let (status, body) = add(&h, &c, &token, json!({"kind": "email", "address": email})).await;
        assert_eq!(status, 201, "{body}");
        let id = body["id"].as_str().unwrap().to_string();
        let mail = gateway().nth(&email, 1).await;
        assert!(
            mail.text.starts_with("Your Example Org code"),
            "{}",
            mail.text
        );
        assert_eq!(
            verify(&h, &c, &token, &id, &mail.code.unwrap()).await.0,
            200
        );
        assert_eq!(account(&h, username).await.browser_locale, None);

        let b = Browser::speaking(&h, DUTCH);
        b.submit("/reset", "/reset", &[("username", username)])
            .await
            .redirects_to("/reset/verify");
        choose(&b, &id).await;
        let mail = gateway().nth(&email, 2).await;
        assert!(
            mail.text
                .starts_with("Je code van Example Org om je wachtwoord opnieuw in te stellen"),
            "{}",
            mail.text
        );
        let action = format!("/reset/verify?method={id}");
        b.submit(
            &action,
            "/reset/verify",
            &[("method_id", &id), ("code", &mail.code.unwrap())],
        )
        .await
        .redirects_to("/reset/password");
        // The reset page names the field in Dutch, too.
        choose_password(&b, "password", "password").await.shows(
            400,
            "Controleer het nieuwe wachtwoord: dit wachtwoord komt te vaak voor",
        );
        assert_eq!(
            account(&h, username).await.browser_locale,
            None,
            "not before the reset is done: a stranger may type any username"
        );
        choose_password(&b, crate::reset::NEW_PASSWORD, crate::reset::NEW_PASSWORD)
            .await
            .redirects_to("/reset/done");
        assert_eq!(
            account(&h, username).await.browser_locale.as_deref(),
            Some("nl")
        );
    })
    .await;
}
