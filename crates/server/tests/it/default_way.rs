//! Issue #13: the default names the method by kind and nickname, and says how it asks
//! first: "notification" or "code" for an authenticator app, "text" or "call" for a phone.

use crate::common::{Harness, each_backend_with};
use crate::gateway::{gateway, with_webhook};
use crate::phone::with_phone;
use crate::web::browser::Browser;
use serde_json::json;

#[tokio::test]
async fn a_phone_whose_default_way_is_a_call_is_called_first() {
    each_backend_with(with_webhook, |h: Harness| async move {
        let c = h.client();
        let (token, id, e164) = with_phone(&h, &c, "pia@example.org").await;
        let (_, info) = h.get(&c, "/api/v1/me/security-info", Some(&token)).await;
        assert_eq!(info["default_way"], "text", "as it was registered: {info}");

        let (status, body) = h
            .put(
                &c,
                "/api/v1/me/security-info/default",
                &token,
                json!({"method_id": id, "way": "fax"}),
            )
            .await;
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some("way")),
            "{body}"
        );
        let (status, body) = h
            .put(
                &c,
                "/api/v1/me/security-info/default",
                &token,
                json!({"method_id": id, "way": "call"}),
            )
            .await;
        assert_eq!(
            (status, body["default_way"].as_str()),
            (200, Some("call")),
            "{body}"
        );

        // The next sign-in says so, and a challenge without a channel calls.
        let body = h.api_sign_in(&c, "pia@example.org").await;
        assert_eq!(body["default_way"], "call", "{body}");
        let flow = body["flow"].as_str().unwrap();
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/challenge"),
                None,
                json!({"method_id": id}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let sent = gateway().nth(&e164, 2).await;
        assert_eq!(sent.channel, "voice", "called, not texted");

        // On the pages: the default line names the way, the call button comes first, and the
        // default page offers both ways of the phone.
        let b = Browser::new(&h);
        b.password("pia@example.org")
            .await
            .redirects_to("/sign-in/verify");
        let page = b.get(&format!("/sign-in/phone?method={id}")).await;
        let call = page.html.find("value=\"voice\"").unwrap();
        let text = page.html.find("value=\"sms\"").unwrap();
        assert!(call < text, "the call comes first: {}", page.html);
    })
    .await;
}

#[tokio::test]
async fn the_default_page_offers_each_way_and_names_the_kind() {
    each_backend_with(with_webhook, |h: Harness| async move {
        let (_, id, e164) = with_phone(&h, &h.client(), "rob@example.org").await;
        let b = Browser::new(&h);
        b.password("rob@example.org")
            .await
            .redirects_to("/sign-in/verify");
        let phone = format!("/sign-in/phone?method={id}");
        b.submit(
            &phone,
            "/sign-in/phone",
            &[("method_id", &id), ("delivery", "sms")],
        )
        .await
        .redirects_to(&phone);
        let code = gateway().nth(&e164, 2).await.code.unwrap();
        b.submit(
            &phone,
            "/sign-in/verify",
            &[("method_id", &id), ("code", &code)],
        )
        .await
        .redirects_to("/security-info");
        b.get("/security-info")
            .await
            .shows(200, "Default sign-in method: Phone (+31 6•••••")
            .shows(200, "– text");
        let page = b.get("/security-info/default").await;
        page.shows(200, &format!("value=\"{id}:text\""))
            .shows(200, &format!("value=\"{id}:call\""))
            .shows(200, "– call");
        b.submit(
            "/security-info/default",
            "/security-info/default",
            &[("method_id", &format!("{id}:call"))],
        )
        .await
        .redirects_to("/security-info?done=default");
        b.get("/security-info").await.shows(200, "– call");
    })
    .await;
}

/// Issue #13: a password reset offers a mobile phone's call as well as its text.
#[tokio::test]
async fn a_reset_can_call_the_phone_instead_of_texting() {
    each_backend_with(with_webhook, |h: Harness| async move {
        let (_, id, e164) = with_phone(&h, &h.client(), "sam@example.org").await;
        let b = crate::reset_web::to_the_gates(&h, "sam@example.org").await;
        let gates = b.get("/reset/verify").await;
        gates.shows(200, "Text me a code").shows(200, "Call me");
        let r = b
            .submit(
                "/reset/verify",
                "/reset/challenge",
                &[("method_id", &id), ("delivery", "voice")],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.html);
        let call = gateway().nth(&e164, 2).await;
        assert_eq!(call.channel, "voice", "a call, not a text");
    })
    .await;
}
