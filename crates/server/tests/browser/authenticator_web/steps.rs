//! The steps the web-app journeys share: two browsers, the phone's service worker, reading
//! and answering requests, and activating the app from the setup wizard.

use crate::cdp::{Browser, Tab};
use crate::server::{self, Server};
use crate::{DESKTOP, Person, chromium};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tessera_server::i18n::Tr;

pub(super) const PHONE: (u32, u32) = (390, 844);

/// A computer (`desk`) and a phone, each its own browser: nothing shared but the server.
pub(super) async fn run_two<F>(journey: &'static str, lang: &str, test: F)
where
    F: for<'a> AsyncFn(&'a Person<'a>, &'a Person<'a>),
{
    let Some(chromium) = chromium() else {
        return;
    };
    for postgres in server::backends() {
        let server = Server::start(postgres).await;
        eprintln!("{journey} on {}", server.backend);
        let (desk_browser, phone_browser) = (
            Browser::launch(&chromium).await,
            Browser::launch(&chromium).await,
        );
        let desk_tab = desk_browser.tab(DESKTOP.0, DESKTOP.1, false).await;
        let phone_tab = phone_browser.tab(PHONE.0, PHONE.1, true).await;
        for tab in [&desk_tab, &phone_tab] {
            choose_language(tab, &server, lang).await;
        }
        // The phone allows notifications; subscribing still fails without a push service.
        phone_tab
            .call(
                "Browser.grantPermissions",
                json!({"permissions": ["notifications"], "origin": server.base}),
            )
            .await;
        let desk = Person {
            tab: desk_tab,
            server: &server,
            journey: leak(format!("{journey}-computer")),
        };
        let phone = Person {
            tab: phone_tab,
            server: &server,
            journey: leak(format!("{journey}-phone")),
        };
        test(&desk, &phone).await;
        drop((desk, phone));
        close(desk_browser).await;
        close(phone_browser).await;
        server.finish().await;
    }
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

async fn close(browser: Arc<Browser>) {
    browser.close().await;
}

/// The language menu's cookie, as if chosen before.
async fn choose_language(tab: &Tab, server: &Server, lang: &str) {
    tab.call(
        "Network.setCookie",
        json!({"name": "tessera_lang", "value": lang, "url": server.base}),
    )
    .await;
}

/// A selector's element is shown (not inside a hidden screen).
pub(super) fn shown(selector: &str) -> String {
    format!(
        "(el => !!el && !el.closest('[hidden]'))(document.querySelector({}))",
        json!(selector)
    )
}

fn text_of(selector: &str) -> String {
    format!(
        "(document.querySelector({}) || {{}}).textContent || ''",
        json!(selector)
    )
}

pub(super) async fn text(tab: &Tab, selector: &str) -> String {
    tab.eval(&text_of(selector))
        .await
        .as_str()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Waits for `predicate` for up to `secs` (a long poll may take its 25 s to come back).
pub(super) async fn wait_long(tab: &Tab, predicate: &str, secs: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if tab.try_eval(&format!("!!({predicate})")).await == Some(json!(true)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body = tab
        .try_eval("document.body && document.body.innerText")
        .await;
    panic!("timed out waiting for `{predicate}`:\n{body:?}");
}

pub(super) async fn narrow(phone: &Person<'_>, width: u32) {
    phone
        .tab
        .call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": PHONE.1, "deviceScaleFactor": 1, "mobile": true}),
        )
        .await;
}

/// The app's service worker, attached: `eval` runs in it.
pub(super) async fn service_worker(phone: &Person<'_>) -> Tab {
    phone
        .tab
        .eval("navigator.serviceWorker.ready.then(() => true)")
        .await;
    let worker = phone
        .tab
        .targets("service_worker")
        .await
        .into_iter()
        .find(|t| {
            t["url"]
                .as_str()
                .is_some_and(|u| u.contains("/authenticator/sw.js"))
        })
        .expect("the app's service worker runs");
    phone.tab.attach(worker["targetId"].as_str().unwrap()).await
}

/// The number the computer's notification page shows.
pub(super) async fn number_on(desk: &Person<'_>) -> String {
    desk.tab
        .wait_until("document.querySelector('.push-number') !== null")
        .await;
    text(&desk.tab, ".push-number").await
}

/// On the phone: the number screen of a request, the number typed, then `button`.
pub(super) async fn answer_on_phone(phone: &Person<'_>, number: Option<&str>, button: &str) {
    phone.tab.wait_until(&shown("#number")).await;
    phone.check_page().await;
    if let Some(number) = number {
        phone.fill("#number", number).await;
    }
    phone.activate(button).await;
    phone.tab.wait_until(&shown("#request-done")).await;
}

/// The computer signs in with the password: the app is the default, so the number shows.
pub(super) async fn sign_in_to_the_number(desk: &Person<'_>, username: &str) -> String {
    desk.sign_in_with_password(username).await;
    desk.arrive("/sign-in/notification").await;
    number_on(desk).await
}

/// From the registration wizard (or security info): the authenticator app, activated by
/// opening the setup page's link on the phone, and its test notification approved.
pub(super) async fn activate_the_app(desk: &Person<'_>, phone: &Person<'_>, tr: &Tr, shots: bool) {
    desk.arrive_matching("^/security-info/authenticator-apps/[^/]+$")
        .await;
    let page = desk.tab.text().await;
    assert!(page.contains(&tr.get("webapp-setup-scan")), "{page}");
    if shots {
        desk.shot("01-scan-the-qr-code").await;
        desk.activate("details.manual > summary").await;
        desk.shot("01b-cant-scan").await;
    }
    let link = desk
        .tab
        .eval("document.getElementById('activation-link').getAttribute('href')")
        .await;
    let link = link.as_str().unwrap().to_string();
    let prefix = format!("{}/authenticator/#activate=", desk.server.base);
    assert!(link.starts_with(&prefix), "{link}");

    // The phone's camera opens the link: the app, ready to add the account.
    phone.tab.call("Page.navigate", json!({"url": link})).await;
    phone
        .tab
        .wait_until("document.body.dataset.ready === 'true'")
        .await;
    phone.tab.wait_until(&shown("#add-submit")).await;
    phone.check_page().await;
    assert_eq!(
        phone.tab.eval("location.href").await,
        json!(format!("{}/authenticator/", desk.server.base)),
        "the code leaves the address bar"
    );
    let code = &link[prefix.len()..];
    assert_eq!(
        phone
            .tab
            .eval("document.getElementById('link').value")
            .await,
        json!(code)
    );
    if shots {
        phone.shot("01-add-the-account").await;
    }
    phone.activate("#add-submit").await;

    // The test notification: the computer's number, typed on the phone.
    let number = number_on(desk).await;
    if shots {
        desk.shot("02-type-the-number").await;
    }
    phone.tab.wait_until(&shown("#number")).await;
    if shots {
        phone.shot("02-approve-the-test").await;
    }
    answer_on_phone(phone, Some(&number), "#approve").await;
    assert_eq!(
        text(&phone.tab, "#request-done").await,
        tr.get("webapp-js-approved")
    );
    // No push service here: the app says how it gets requests instead.
    wait_long(
        &phone.tab,
        &format!(
            "{} === {}",
            text_of("#push-status"),
            json!(tr.get("webapp-js-push-off"))
        ),
        30,
    )
    .await;
}
