//! The development outbox, with no gateway configured (the default): admins find it in the
//! admin navigation, read its times as every page shows them and an office phone's
//! extension, and press # on a call that asks for it, since no phone rang. The pages that wait
//! for a call say which kind of call it is, and that the # has not been heard yet.

use crate::admin::admin;
use crate::admin_pages::{page_get, page_post};
use crate::common::{Harness, each_backend};
use crate::web::browser::{Browser, Resp, signed_in};
use serde_json::Value;
use std::time::Duration;
use tessera_core::Clock;
use time::macros::format_description;

const OFFICE: &str = "/security-info/add/phone-office";
/// An office phone in Amsterdam, with an extension.
const NUMBER: &str = "020 123 4567";
const MASKED: &str = "+31 2•••••67";
const CHROME_ON_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like \
     Gecko) Chrome/130.0.0.0 Safari/537.36";

/// The admin's outbox page, once the newest message has been handled by the delivery worker
/// (it is `queued` for a moment first).
async fn outbox_page(h: &Harness, c: &reqwest::Client, admin: &str) -> Resp {
    for _ in 0..250 {
        let page = Resp::from(page_get(h, c, admin, "/admin/outbox").await).await;
        assert_eq!(page.status, 200, "{}", page.html);
        if !page.html.contains("queued (") && !page.html.contains("sending (") {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the outbox worker never handled the messages");
}

/// The "Press #" form's action on the outbox page.
fn press_action(page: &Resp) -> String {
    let start = page
        .html
        .find("action=\"/admin/outbox/")
        .unwrap_or_else(|| panic!("no Press # in:\n{}", page.html))
        + "action=\"".len();
    let rest = &page.html[start..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// How every page shows a time.
fn shown(h: &Harness) -> String {
    h.clock()
        .now()
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute] UTC"
        ))
        .unwrap()
}

/// Adds the office phone on the pages; answers its method id.
async fn add_office_phone(b: &Browser) -> String {
    let r = b
        .submit(
            OFFICE,
            OFFICE,
            &[("country", "NL"), ("number", NUMBER), ("extension", "4711")],
        )
        .await;
    let sent = r.location.clone().unwrap_or_else(|| panic!("{}", r.html));
    sent.trim_start_matches("/security-info/sent-code/")
        .to_string()
}

#[tokio::test]
async fn an_admin_presses_pound_on_a_call_the_outbox_kept() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (ada, _) = admin(&h, &c, "ada@example.org").await;
        let (b, _, _) = signed_in(&h, "paula@example.org").await;

        // Adding an office phone: the call asks for #, so the page asks for nothing to type.
        let id = add_office_phone(&b).await;
        let sent = format!("/security-info/sent-code/{id}");
        let page = b.get(&sent).await;
        page.shows(200, "<title>Answer the call and press #")
            .shows(200, "<h1>Answer the call and press #</h1>")
            .shows(200, "Answer, and press # (the pound key) when asked")
            .shows(200, "I pressed #, continue")
            .shows(200, "Call me again");
        assert!(!page.html.contains("name=\"code\""), "no code to type");
        let cont = format!("{sent}/continue");
        b.submit(&sent, &cont, &[])
            .await
            .shows(200, "We have not heard the # yet")
            .shows(200, "<h1>Answer the call and press #</h1>");

        // The outbox is in the admin navigation; the call shows its time, its extension, and
        // "Press #", which nobody else could press.
        let page = outbox_page(&h, &c, &ada).await;
        page.shows(
            200,
            "<a href=\"/admin/outbox\" aria-current=\"page\">Outbox</a>",
        )
        .shows(200, &format!(">{}</time>", shown(&h)))
        .shows(200, "Extension 4711")
        .shows(200, "Press #");
        let (_, listed) = h.get(&c, "/api/v1/admin/outbox", Some(&ada)).await;
        let call = &listed[0];
        assert_eq!(
            (call["channel"].as_str(), call["extension"].as_str()),
            (Some("voice"), Some("4711")),
            "{listed}"
        );
        assert_eq!(call["awaiting_pound"], true, "{listed}");
        let press = press_action(&page);
        assert_eq!(
            press,
            format!("/admin/outbox/{}/press", call["id"].as_str().unwrap())
        );
        // Admins only, and with the form's CSRF token.
        let csrf = b.get("/security-info").await.csrf();
        assert_eq!(b.post(&press, &[("csrf", &csrf)]).await.status, 403);
        let forged = c
            .post(h.url(&press))
            .header("cookie", format!("tessera_session={ada}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("")
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403, "no CSRF token");

        let r = page_post(&h, &c, &ada, &press, &[]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/admin/outbox?done=pressed");
        let page = Resp::from(page_get(&h, &c, &ada, "/admin/outbox?done=pressed").await).await;
        page.shows(200, "You pressed # on the call");
        assert!(!page.html.contains("Press #"), "answered once");
        let r = page_post(&h, &c, &ada, &press, &[]).await;
        assert_eq!(r.headers()["location"], "/admin/outbox?done=over");

        // The person's "I pressed #, continue", on the page still open, now finds the phone
        // added.
        b.post(&cont, &[("csrf", &csrf)])
            .await
            .redirects_to("/security-info?done=added");
        b.get("/security-info").await.shows(200, MASKED);
        let paula = crate::admin::id_of(&h, "paula@example.org").await;
        let events = crate::admin::audit_of(&h, &c, &ada, &paula).await;
        let pressed = events
            .iter()
            .find(|e| e["action"] == "call_confirmed")
            .unwrap_or_else(|| panic!("{events:?}"));
        let ada_id = crate::admin::id_of(&h, "ada@example.org").await;
        assert_eq!(pressed["detail"]["by"], ada_id.as_str(), "{pressed}");
        assert_eq!(pressed["detail"]["outbox"], true, "{pressed}");

        // Signing in with a call: the same words, and "Call me again" in place of "Call …".
        b.submit("/security-info", "/sign-out", &[]).await;
        b.password("paula@example.org")
            .await
            .redirects_to("/sign-in/verify");
        let chooser = format!("/sign-in/phone?method={id}");
        b.get(&chooser).await.shows(200, &format!("Call {MASKED}"));
        b.submit(
            &chooser,
            "/sign-in/phone",
            &[("method_id", &id), ("delivery", "voice")],
        )
        .await
        .redirects_to(&chooser);
        let page = b.get(&chooser).await;
        page.shows(200, "<h1>Answer the call and press #</h1>")
            .shows(200, "Call me again");
        assert!(!page.html.contains("name=\"code\""), "no code to type");
        b.post(
            "/sign-in/phone/continue",
            &[("csrf", &page.csrf()), ("method_id", &id)],
        )
        .await
        .shows(200, "We have not heard the # yet");
        // Pressed through the API this time.
        let call = waiting_call(&h, &c, &ada).await;
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/admin/outbox/{call}/press"),
                Some(&ada),
                serde_json::json!({}),
            )
            .await;
        assert_eq!((status, body["status"].as_str()), (200, Some("confirmed")));
        b.post(
            "/sign-in/phone/continue",
            &[("csrf", &page.csrf()), ("method_id", &id)],
        )
        .await
        .redirects_to("/security-info");

        // A step-up by call: "I pressed #, continue" goes on only once the # is heard.
        h.advance(601);
        let next = "/security-info/add/email";
        let step_up = format!("/step-up/phone?next=%2Fsecurity-info%2Fadd%2Femail&method={id}");
        b.submit(
            &step_up,
            "/step-up/phone",
            &[("next", next), ("method_id", &id), ("delivery", "voice")],
        )
        .await
        .redirects_to(&step_up);
        let page = b.get(&step_up).await;
        page.shows(200, "<h1>Answer the call and press #</h1>")
            .shows(200, "Call me again");
        let fields = [
            ("csrf", page.csrf()),
            ("next", next.into()),
            ("method_id", id.clone()),
        ];
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        b.post("/step-up/phone/continue", &fields)
            .await
            .shows(200, "We have not heard the # yet");
        let page = outbox_page(&h, &c, &ada).await;
        assert_eq!(
            page_post(&h, &c, &ada, &press_action(&page), &[])
                .await
                .headers()["location"],
            "/admin/outbox?done=pressed"
        );
        b.post("/step-up/phone/continue", &fields)
            .await
            .redirects_to(next);
    })
    .await;
}

/// The id of the call in the outbox that waits for #, once the worker has kept it.
async fn waiting_call(h: &Harness, c: &reqwest::Client, admin: &str) -> String {
    for _ in 0..250 {
        let (_, listed) = h.get(c, "/api/v1/admin/outbox", Some(admin)).await;
        if let Some(call) = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["awaiting_pound"] == Value::Bool(true))
        {
            return call["id"].as_str().unwrap().to_string();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no call waits for # in the outbox");
}

#[tokio::test]
async fn a_call_that_reads_a_code_asks_for_that_code_and_notes_name_the_browser() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (ada, _) = admin(&h, &c, "ada@example.org").await;
        h.set_policy("voice_mode", "code").await;
        // Paula, in Chrome on Linux, with an address for notifications.
        let (_, _, secret) = h.enrolled_user(&c, "paula@example.org").await;
        let mut account = h
            .store()
            .account_by_username("paula@example.org")
            .await
            .unwrap()
            .unwrap();
        account.email = Some("paula.notes@example.org".into());
        h.store().update_account(&account, None).await.unwrap();
        let b = Browser {
            h: h.clone(),
            c: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(CHROME_ON_LINUX)
                .build()
                .unwrap(),
        };
        b.sign_in("paula@example.org", &secret).await;

        let id = add_office_phone(&b).await;
        let sent = format!("/security-info/sent-code/{id}");
        let page = b.get(&sent).await;
        page.shows(200, "<title>Enter the code we read to you")
            .shows(200, "<h1>Enter the code we read to you</h1>")
            .shows(200, "The call reads a code aloud")
            .shows(200, "name=\"code\"")
            .shows(200, "Call me again");
        assert!(!page.html.contains("I pressed #"), "nothing to press");

        // The outbox shows what the call says, digit by digit, and no "Press #".
        let page = outbox_page(&h, &c, &ada).await;
        assert!(!page.html.contains("Press #"), "a code to read, not a #");
        let said = &page.html[page.html.find("is: ").unwrap() + 4..];
        let code: String = said[..said.find('.').unwrap()]
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        assert_eq!(code.len(), 6, "{said}");
        b.submit(&sent, &sent, &[("code", &code)])
            .await
            .redirects_to("/security-info?done=added");

        // The notice of the new phone names the browser as the activity page does.
        let (_, listed) = h.get(&c, "/api/v1/admin/outbox", Some(&ada)).await;
        let note = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["to"] == "paula.notes@example.org")
            .unwrap_or_else(|| panic!("{listed}"));
        let text = note["text"].as_str().unwrap();
        assert!(text.contains("Chrome on Linux"), "{text}");
        assert!(!text.contains("Mozilla/5.0"), "{text}");

        // A password reset's call reads its code too: the gate page says so.
        let r = crate::reset_web::to_the_gates(&h, "paula@example.org").await;
        crate::reset_web::choose(&r, &id)
            .await
            .shows(
                200,
                &format!("We are calling {MASKED}. The call reads a code aloud."),
            )
            .shows(200, "Enter the code we read to you.");
    })
    .await;
}
