//! Phones on the web pages: adding one with its country list and the restricted-authenticator
//! warning, then signing in with a text and with a call.

use crate::common::{Harness, each_backend_with};
use crate::gateway::{Plan, gateway, with_webhook};
use crate::phone::mobile;

#[tokio::test]
async fn pages_add_a_phone_then_sign_in_with_a_text_and_with_a_call() {
    use crate::web::browser::signed_in;
    const ADD: &str = "/security-info/add/phone-mobile";
    each_backend_with(with_webhook, |h: Harness| async move {
        let (b, _, _) = signed_in(&h, "paula@example.org").await;
        b.get(ADD)
            .await
            .shows(200, "Netherlands (+31)")
            .shows(200, "Text me a code")
            .shows(200, "Call me")
            .shows(200, "SIM swap");
        b.submit(
            ADD,
            ADD,
            &[("country", "NL"), ("number", "12"), ("delivery", "sms")],
        )
        .await
        .shows(400, "number");
        let (typed, e164) = mobile();
        let r = b
            .submit(
                ADD,
                ADD,
                &[("country", "NL"), ("number", &typed), ("delivery", "sms")],
            )
            .await;
        let sent = r.location.clone().unwrap();
        let id = sent
            .trim_start_matches("/security-info/sent-code/")
            .to_string();
        b.get(&sent)
            .await
            .shows(200, "We sent a code by text message to +31 6•••••");
        let code = gateway().nth(&e164, 1).await.code.unwrap();
        b.submit(&sent, &sent, &[("code", &code)])
            .await
            .redirects_to("/security-info?done=added");

        b.submit("/security-info", "/sign-out", &[]).await;
        b.password("paula@example.org")
            .await
            .redirects_to("/sign-in/verify");
        let chooser = format!("/sign-in/phone?method={id}");
        b.get(&format!("/sign-in/verify?method={id}"))
            .await
            .redirects_to(&chooser);
        b.get(&chooser).await.shows(200, "Text +31 6•••••");
        b.submit(
            &chooser,
            "/sign-in/phone",
            &[("method_id", &id), ("delivery", "sms")],
        )
        .await
        .redirects_to(&chooser);
        b.get(&chooser)
            .await
            .shows(200, "We sent a code by text message");
        let code = gateway().nth(&e164, 2).await.code.unwrap();
        b.submit(
            &chooser,
            "/sign-in/verify",
            &[("method_id", &id), ("code", &code)],
        )
        .await
        .redirects_to("/security-info");

        // "Call me": the gateway's # approves the sign-in; "I pressed #, continue" picks it up.
        b.submit("/security-info", "/sign-out", &[]).await;
        b.password("paula@example.org")
            .await
            .redirects_to("/sign-in/verify");
        h.advance(61);
        // Held until the page has been seen; a quick gateway would otherwise race it.
        gateway().plan(
            &e164,
            Plan {
                hold: true,
                ..Plan::default()
            },
        );
        b.submit(
            &chooser,
            "/sign-in/phone",
            &[("method_id", &id), ("delivery", "voice")],
        )
        .await
        .redirects_to(&chooser);
        b.get(&chooser)
            .await
            .shows(200, "press # (the pound key)")
            .shows(200, "I pressed #, continue");
        assert_eq!(gateway().nth(&e164, 3).await.channel, "voice");
        let csrf = b.get(&chooser).await.csrf();
        b.post(
            "/sign-in/phone/continue",
            &[("csrf", &csrf), ("method_id", &id)],
        )
        .await
        .shows(200, "We have not heard the # yet");
        gateway().press(&e164).await;
        gateway().plan(&e164, Plan::default());
        let mut signed_in = false;
        for _ in 0..250 {
            let r = b
                .post(
                    "/sign-in/phone/continue",
                    &[("csrf", &csrf), ("method_id", &id)],
                )
                .await;
            if r.status == 303 {
                r.redirects_to("/security-info");
                signed_in = true;
                break;
            }
            r.shows(200, "We have not heard the # yet");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(signed_in, "the call's # signed the browser in");
        b.get("/security-info").await.shows(200, "+31 6•••••");

        // Step-up by text, once the second factor is no longer recent.
        h.advance(601);
        let step_up = format!("/step-up?next=%2Fsecurity-info%2Fadd%2Femail&method={id}");
        let phone_step_up =
            format!("/step-up/phone?next=%2Fsecurity-info%2Fadd%2Femail&method={id}");
        b.get(&step_up).await.redirects_to(&phone_step_up);
        b.submit(
            &phone_step_up,
            "/step-up/phone",
            &[
                ("next", "/security-info/add/email"),
                ("method_id", &id),
                ("delivery", "sms"),
            ],
        )
        .await
        .redirects_to(&phone_step_up);
        let code = gateway().nth(&e164, 4).await.code.unwrap();
        b.submit(
            &phone_step_up,
            "/step-up",
            &[
                ("next", "/security-info/add/email"),
                ("method_id", &id),
                ("code", &code),
            ],
        )
        .await
        .redirects_to("/security-info/add/email");
        b.get("/security-info/add/email")
            .await
            .shows(200, "never sign-in");
    })
    .await;
}

/// The country menu starts where the browser's language says the person is (en-US: the
/// United States, nl-NL: the Netherlands, fr-BE: Belgium); a language alone, or a region the
/// policy doesn't allow, starts on the organization's own region.
#[tokio::test]
async fn the_country_menu_starts_on_the_browser_language_region() {
    use crate::common::each_backend;
    use crate::web::browser::{Resp, signed_in};
    const ADD: &str = "/security-info/add/phone-mobile";
    each_backend(|h: Harness| async move {
        let (b, _, _) = signed_in(&h, "gus@example.org").await;
        let chosen = async |accept: &str| {
            let r =
                b.c.get(h.url(ADD))
                    .header("accept-language", accept)
                    .send()
                    .await
                    .unwrap();
            let page = Resp::from(r).await;
            assert_eq!(page.status, 200, "{}", page.html);
            let menu = &page.html[page.html.find("<select id=\"country\"").unwrap()..];
            let chosen = menu
                .split("<option")
                .find(|o| o.contains(" selected>"))
                .unwrap();
            chosen[chosen.find("value=\"").unwrap() + 7..][..2].to_string()
        };
        assert_eq!(chosen("en-US,en;q=0.9").await, "US");
        assert_eq!(chosen("nl-NL,nl;q=0.9,en;q=0.8").await, "NL");
        assert_eq!(chosen("fr-BE,fr;q=0.9").await, "BE");
        assert_eq!(chosen("de-AT").await, "AT");
        assert_eq!(chosen("en").await, "NL", "the built-in default");
        h.set_policy("phone_countries", "BE,NL").await;
        assert_eq!(chosen("en").await, "BE", "the policy's first region");
        assert_eq!(
            chosen("en-US").await,
            "BE",
            "phones from the US aren't allowed"
        );
        assert_eq!(chosen("nl-NL").await, "NL");
    })
    .await;
}
