//! The Tessera authenticator as a web app (issue #17), in two browsers: a computer where the
//! person signs in, and a phone-sized one where the QR code's link opens the app. Activation,
//! approving with the number, a code, a wrong number, deny, deny and report, a notification
//! delivered to the service worker and tapped, and removal from either side.
//!
//! Headless Chromium reaches no push service: the app says notifications are off and gets
//! its requests by the long poll; the notification is a push event dispatched in the service
//! worker itself.

mod steps;

use super::cdp::Browser;
use super::server::Server;
use super::{DESKTOP, Person, chromium};
use serde_json::{Value, json};
use tessera_server::i18n::Tr;

use steps::{
    PHONE, activate_the_app, answer_on_phone, narrow, number_on, run_two, service_worker, shown,
    sign_in_to_the_number, text, wait_long,
};

/// Signs in, activates the web app from the wizard, then signs in with it: approved with
/// the number, then with the code the app shows; a wrong number is refused, a deny and a
/// report end the sign-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_app_activates_by_its_link_and_answers_sign_ins() {
    run_two(
        "webapp",
        "en",
        async |desk: &Person<'_>, phone: &Person<'_>| {
            let en = Tr::english();
            let user = "ada@example.org";
            // Six notifications in a few minutes: more than the default limit against floods.
            desk.server.set_policy("push_requests_max", "10").await;
            desk.server.add_user(user).await;
            desk.sign_in_with_password(user).await;
            desk.arrive("/sign-in/register").await;
            let page = desk.tab.text().await;
            assert!(page.contains(&en.get("webapp-wizard-get")), "{page}");
            desk.activate("form.actions button[type=submit]").await;
            activate_the_app(desk, phone, &en, true).await;
            desk.finish_wizard().await;
            desk.shot("03-security-info").await;

            // The phone's list: the account, its code and the seconds it has left.
            phone.activate("[data-back]:not([hidden])").await;
            phone.tab.wait_until(&shown("#accounts")).await;
            phone.check_page().await;
            let listed = text(&phone.tab, "#accounts").await;
            assert!(
                listed.contains("Example Org") && listed.contains(user),
                "{listed}"
            );
            phone
                .tab
                .wait_until("/^\\d{6}$/.test(document.querySelector('.webapp-code').dataset.code)")
                .await;
            phone.shot("03-accounts").await;
            // Chromium finds nothing that keeps it from installing the app.
            let errors = phone
                .tab
                .call("Page.getInstallabilityErrors", json!({}))
                .await;
            assert_eq!(errors["installabilityErrors"], json!([]), "{errors}");
            desk.sign_out().await;

            // Approved with the number: the computer lands signed in.
            let number = sign_in_to_the_number(desk, user).await;
            desk.shot("04-sign-in-notification").await;
            phone.tab.wait_until(&shown("#number")).await;
            let from = text(&phone.tab, "#request-from").await;
            assert!(from.contains("Chrome on Linux"), "{from}");
            // A screen reader hears of it politely, and starts at the screen's title.
            phone
                .tab
                .wait_until(&format!(
                    "document.querySelector('[aria-live=polite]#announcer').textContent === {}",
                    json!(en.args("webapp-js-request-arrived", &[("account", user.to_string())]))
                ))
                .await;
            assert_eq!(
                phone.tab.eval("document.activeElement.id").await,
                json!("screen-title")
            );
            assert_eq!(
                text(&phone.tab, "#screen-title").await,
                en.get("webapp-request-title")
            );
            phone.shot("04-approve-sign-in").await;
            answer_on_phone(phone, Some(&number), "#approve").await;
            desk.arrive("/security-info").await;
            assert!(desk.tab.text().await.contains(user));
            desk.sign_out().await;

            // The code the app shows, typed instead of answering the notification.
            sign_in_to_the_number(desk, user).await;
            let code = phone
                .tab
                .eval("document.querySelector('.webapp-code').dataset.code")
                .await;
            desk.activate("details.manual > summary").await;
            desk.fill("#code", code.as_str().unwrap()).await;
            desk.tab.enter().await;
            desk.arrive("/security-info").await;
            desk.sign_out().await;
            // The notification the code made unneeded lapses (90 s on the server's clock);
            // the phone drops it at its next poll.
            desk.server.clock.advance(time::Duration::seconds(91));
            wait_long(&phone.tab, &format!("!{}", shown("#number")), 30).await;

            // A wrong number is refused, on both screens.
            let number = sign_in_to_the_number(desk, user).await;
            let wrong = ((number.parse::<u32>().unwrap() - 10 + 1) % 90 + 10).to_string();
            answer_on_phone(phone, Some(&wrong), "#approve").await;
            assert_eq!(
                text(&phone.tab, "#request-done").await,
                en.get("webapp-js-error-invalid_code")
            );
            phone.shot("05-wrong-number").await;
            desk.tab
                .wait_until(&format!(
                    "document.body.innerText.includes({})",
                    json!(en.get("push-ended-failed"))
                ))
                .await;
            desk.shot("05-wrong-number").await;

            // Another notification, denied.
            desk.activate("form[action='/sign-in/notification'] button[type=submit]")
                .await;
            number_on(desk).await;
            answer_on_phone(phone, None, "#deny").await;
            assert_eq!(
                text(&phone.tab, "#request-done").await,
                en.get("webapp-js-denied")
            );
            desk.tab
                .wait_until(&format!(
                    "document.body.innerText.includes({})",
                    json!(en.get("push-ended-denied"))
                ))
                .await;

            // Denied and reported: it wasn't her.
            sign_in_to_the_number(desk, user).await;
            answer_on_phone(phone, None, "#report").await;
            assert_eq!(
                text(&phone.tab, "#request-done").await,
                en.get("webapp-js-reported")
            );
            phone.shot("06-reported").await;
            desk.tab
                .wait_until(&format!(
                    "document.body.innerText.includes({})",
                    json!(en.get("push-ended-reported"))
                ))
                .await;

            // Offline: the app and its codes come from the service worker's cache.
            let worker = service_worker(phone).await;
            let offline = json!({"offline": true, "latency": 0,
                                 "downloadThroughput": -1, "uploadThroughput": -1});
            for tab in [&phone.tab, &worker] {
                tab.call("Network.enable", json!({})).await;
                tab.call("Network.emulateNetworkConditions", offline.clone())
                    .await;
            }
            phone.tab.eval("window.beforeReload = true").await;
            phone.tab.call("Page.reload", json!({})).await;
            phone
                .tab
                .wait_until(
                    "!window.beforeReload && document.body.dataset.ready === 'true' \
                     && /^\\d{6}$/.test(document.querySelector('.webapp-code').dataset.code)",
                )
                .await;
            assert_eq!(
                phone
                    .tab
                    .eval("fetch('/healthz', {cache: 'no-store'}).then(() => 'online', () => 'offline')")
                    .await,
                json!("offline")
            );
            // The service worker is offline too: the page came from its cache.
            assert_eq!(
                worker
                    .eval("fetch('/healthz', {cache: 'no-store'}).then(() => 'online', () => 'offline')")
                    .await,
                json!("offline")
            );
            phone.check_page().await;
            phone.shot("07-offline").await;
        },
    )
    .await;
}

/// In Dutch: a notification delivered to the service worker and tapped opens the number
/// screen; removing the account in the app deletes the method; deleting the method on the
/// security info page shows the account as removed in the app.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_opens_the_number_and_removal_works_from_either_side() {
    run_two("webapp-nl", "nl", async |desk: &Person<'_>, phone: &Person<'_>| {
        let nl = Tr::for_tag("nl");
        let user = "bo@example.org";
        desk.server.add_user(user).await;
        desk.sign_in_with_password(user).await;
        desk.arrive("/sign-in/register").await;
        desk.activate("form.actions button[type=submit]").await;
        activate_the_app(desk, phone, &nl, true).await;
        desk.finish_wizard().await;
        phone.shot("03-test-approved").await;
        desk.sign_out().await;

        // A sign-in; on the phone, set aside with "Back to your accounts".
        let number = sign_in_to_the_number(desk, user).await;
        phone.tab.wait_until(&shown("#number")).await;
        let request = phone
            .tab
            .eval("document.getElementById('request-screen').dataset.request")
            .await;
        phone.activate("#request-screen [data-back]").await;
        phone.tab.wait_until(&shown("#answer-waiting")).await;
        phone.check_page().await;
        phone.shot("04-request-waiting").await;
        // The smallest phones are 360 px wide: nothing is wider than that either.
        narrow(phone, 360).await;
        phone.check_page().await;
        narrow(phone, PHONE.0).await;

        // The push arrives at the service worker: "Approve sign-in?", from this browser.
        let worker = service_worker(phone).await;
        let device = phone
            .tab
            .eval("document.querySelector('[data-device]').dataset.device")
            .await;
        let payload = json!({
            "v": 1, "type": "request", "server": desk.server.base, "device_id": device,
            "request": {"id": request, "purpose": "sign_in", "status": "pending",
                "account": {"username": user, "display_name": user}, "app": "Tessera",
                "created_at": "2026-01-01T00:00:00Z", "expires_at": "2026-01-01T00:01:30Z",
                "ip": "127.0.0.1",
                "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36"},
        });
        let shown_notifications = worker
            .eval(&format!(
                "(async () => {{
                   self.dispatchEvent(new PushEvent('push', {{data: {data}}}));
                   for (let i = 0; i < 100; i++) {{
                     const found = await self.registration.getNotifications();
                     if (found.length) return found.map(n => ({{title: n.title, body: n.body, tag: n.tag}}));
                     await new Promise(r => setTimeout(r, 100));
                   }}
                   return [];
                 }})()",
                data = json!(payload.to_string())
            ))
            .await;
        assert_eq!(
            shown_notifications,
            json!([{
                "title": nl.get("webapp-js-notification-title"),
                "body": "Tessera, vanaf Chrome op Windows",
                "tag": request,
            }])
        );
        // Tapped: the open app shows the number screen of that request.
        worker
            .eval(&format!(
                "self.registration.getNotifications({{tag: {request}}}).then(([n]) => {{
                   self.dispatchEvent(new NotificationEvent('notificationclick', {{notification: n}}));
                   return true;
                 }})"
            ))
            .await;
        phone.tab.wait_until(&shown("#number")).await;
        assert_eq!(
            phone
                .tab
                .eval("document.getElementById('request-screen').dataset.request")
                .await,
            request
        );
        let left: Value = worker
            .eval("self.registration.getNotifications().then(n => n.length)")
            .await;
        assert_eq!(left, json!(0), "the tapped notification is closed");
        phone.shot("05-opened-from-the-notification").await;
        answer_on_phone(phone, Some(&number), "#approve").await;
        desk.arrive("/security-info").await;
        let app = nl.get("kind-authenticator_app");
        assert!(desk.tab.text().await.contains(&app));

        // Removed in the app: the method leaves the security info page.
        phone.activate("#request-screen [data-back]").await;
        phone.activate(".webapp-remove").await;
        phone.tab.wait_until(&shown("#remove-confirm")).await;
        phone.check_page().await;
        phone.shot("06-remove").await;
        phone.activate("#remove-confirm").await;
        phone.tab.wait_until(&shown("#accounts-empty")).await;
        phone.shot("07-removed").await;
        desk.open("/security-info").await;
        let page = desk.tab.text().await;
        assert!(!page.contains(&app), "{page}");
        desk.shot("06-method-gone").await;

        // Added again, then deleted on the security info page: the app shows it removed.
        desk.open("/security-info/add/authenticator-app").await;
        let page = desk.tab.text().await;
        assert!(page.contains(&nl.get("webapp-setup-get-title")), "{page}");
        desk.shot("07-get-the-app").await;
        desk.fill("#name", "Telefoon").await;
        desk.tab.enter().await;
        activate_the_app(desk, phone, &nl, false).await;
        desk.arrive("/security-info").await;
        desk.focus(&format!(
            "el.matches('a.danger-link') && el.closest('li').textContent.includes({})",
            json!("Telefoon")
        ))
        .await;
        desk.tab.enter().await;
        desk.arrive_matching("^/security-info/methods/[^/]+/delete$")
            .await;
        desk.activate("button.button-danger").await;
        desk.arrive("/security-info").await;
        phone.activate("#request-screen [data-back]").await;
        wait_long(&phone.tab, &shown(".webapp-removed"), 60).await;
        let removed = text(&phone.tab, ".webapp-removed").await;
        assert_eq!(removed, nl.get("webapp-js-removed-on-server"));
        assert_eq!(
            phone.tab.eval("document.querySelectorAll('.webapp-code').length").await,
            json!(0),
            "no code for a removed account"
        );
        phone.check_page().await;
        phone.shot("08-removed-on-the-server").await;
    })
    .await;
}

/// One app, two organizations: the app served by one Tessera adds an account of another by
/// the link its setup page shows, and answers that server's sign-ins too (its device API
/// answers any origin; the app's CSP reaches it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_app_holds_accounts_of_two_servers() {
    run_two(
        "webapp-two",
        "en",
        async |desk: &Person<'_>, phone: &Person<'_>| {
            let en = Tr::english();
            desk.server.add_user("cy@example.org").await;
            desk.sign_in_with_password("cy@example.org").await;
            desk.arrive("/sign-in/register").await;
            desk.activate("form.actions button[type=submit]").await;
            activate_the_app(desk, phone, &en, false).await;
            desk.finish_wizard().await;

            // The other organization's Tessera, and a computer signed in to it.
            let other = Server::start(false).await;
            other.add_user("cy@other.example").await;
            let browser = Browser::launch(&chromium().unwrap()).await;
            let there = Person {
                tab: browser.tab(DESKTOP.0, DESKTOP.1, false).await,
                server: &other,
                journey: "webapp-two-other-computer",
            };
            there.sign_in_with_password("cy@other.example").await;
            there.arrive("/sign-in/register").await;
            there.activate("form.actions button[type=submit]").await;
            there
                .arrive_matching("^/security-info/authenticator-apps/[^/]+$")
                .await;
            let link = there
                .tab
                .eval("document.getElementById('activation-link').getAttribute('href')")
                .await;
            let link = link.as_str().unwrap().to_string();
            assert!(link.starts_with(&format!("{}/authenticator/#activate=", other.base)));

            // In the app of the first server: "Add account", the link pasted.
            phone.activate("#request-screen [data-back]").await;
            phone.activate("#add-button").await;
            phone.tab.wait_until(&shown("#link")).await;
            phone.check_page().await;
            phone.fill("#link", &link).await;
            phone.activate("#add-submit").await;
            let number = number_on(&there).await;
            answer_on_phone(phone, Some(&number), "#approve").await;
            assert_eq!(
                text(&phone.tab, "#request-done").await,
                en.get("webapp-js-approved")
            );
            there.finish_wizard().await;

            // Both accounts, each with its code; a sign-in at the other server approved here.
            phone.activate("#request-screen [data-back]").await;
            phone
                .tab
                .wait_until("document.querySelectorAll('.webapp-code[data-code]').length === 2")
                .await;
            let listed = text(&phone.tab, "#accounts").await;
            assert!(
                listed.contains("cy@example.org") && listed.contains("cy@other.example"),
                "{listed}"
            );
            phone.check_page().await;
            phone.shot("01-two-accounts").await;
            there.sign_out().await;
            let number = sign_in_to_the_number(&there, "cy@other.example").await;
            answer_on_phone(phone, Some(&number), "#approve").await;
            there.arrive("/security-info").await;
            assert!(there.tab.text().await.contains("cy@other.example"));

            drop(there);
            browser.close().await;
            other.finish().await;
        },
    )
    .await;
}
