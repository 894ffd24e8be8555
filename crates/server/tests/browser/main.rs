//! Journeys in a real browser: headless Chromium, driven over the DevTools protocol, against a
//! Tessera started here on loopback. Each journey is done with the keyboard alone (Tab, Enter,
//! typing), checks on every page that each field has a label, that focus is visible at every
//! stop and that nothing is wider than the screen, and keeps a screenshot of each main page in
//! `target/screenshots/`.
//!
//! Security keys are Chromium's virtual authenticator (the DevTools WebAuthn domain): a FIDO2
//! key with user verification (its PIN entered) that keeps discoverable credentials.
//!
//! Without a Chromium (`chromium` on `PATH`, or `TESSERA_CHROMIUM`) the journeys say so and
//! pass, except under CI, which installs one and must run them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod authenticator_web;
mod cdp;
mod forms;
mod forward_auth_nginx;
mod front_door;
mod oidc_apache;
mod server;

use cdp::{Browser, Tab};
use serde_json::json;
use server::{PASSWORD, Server};
use std::path::PathBuf;
use std::sync::Arc;
use tessera_server::i18n::Tr;

/// A phone's screen, in CSS pixels.
const PHONE: (u32, u32) = (375, 740);
const DESKTOP: (u32, u32) = (1280, 900);

fn chromium() -> Option<PathBuf> {
    match cdp::find_chromium() {
        Some(path) => Some(path),
        None if std::env::var_os("CI").is_some() => {
            panic!("CI runs the browser journeys: install Debian's chromium (see .ci/run)")
        }
        None => {
            // Straight to stderr: the test harness would swallow `eprintln!` of a passing test.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: no chromium found (install Debian's `chromium`, or set TESSERA_CHROMIUM): \
                 the browser journeys did not run"
            );
            None
        }
    }
}

fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target")));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A person at a browser: one tab, the server, and where the screenshots go.
struct Person<'a> {
    tab: Tab,
    server: &'a Server,
    journey: &'static str,
}

impl Person<'_> {
    async fn open(&self, path: &str) {
        self.tab.goto(&self.server.url(path)).await;
        self.check_page().await;
    }

    /// What every page must be: one heading, a label for each field, nothing wider than the
    /// screen.
    async fn check_page(&self) {
        let tab = &self.tab;
        let where_ = tab.path().await;
        assert_eq!(
            tab.eval("document.querySelectorAll('h1').length").await,
            json!(1),
            "one <h1> on {where_}"
        );
        let unlabelled = tab
            .eval(
                "[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]\
                 .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))\
                 .map(e => e.name || e.id)",
            )
            .await;
        assert_eq!(unlabelled, json!([]), "fields without a label on {where_}");
        let overflow = tab
            .eval("document.documentElement.scrollWidth - window.innerWidth")
            .await;
        assert!(
            overflow.as_i64().unwrap_or(0) <= 0,
            "{where_} is {overflow} px wider than the screen"
        );
    }

    async fn shot(&self, name: &str) {
        let file = screenshots().join(format!(
            "{}-{}-{name}.png",
            self.journey, self.server.backend
        ));
        self.tab.screenshot(&file).await;
    }

    /// Moves the focus with Tab until it is on an element for which `predicate(el)` holds,
    /// checking that every stop on the way shows where the focus is.
    async fn focus(&self, predicate: &str) {
        let on_target = format!("(el => !!el && ({predicate}))(document.activeElement)");
        let visible = "(el => { const s = getComputedStyle(el); \
             return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) \
             || s.boxShadow !== 'none'; })(document.activeElement)";
        for _ in 0..60 {
            if self.tab.eval(&on_target).await == json!(true) {
                return;
            }
            self.tab.tab_key().await;
            let stop = self
                .tab
                .eval("document.activeElement.outerHTML.slice(0, 120)")
                .await;
            if self
                .tab
                .eval("document.activeElement === document.body")
                .await
                == json!(false)
            {
                assert_eq!(
                    self.tab.eval(visible).await,
                    json!(true),
                    "focus is not visible on {stop}"
                );
            }
        }
        panic!(
            "Tab never reached `{predicate}` on {}",
            self.tab.path().await
        );
    }

    /// Tabs to the element matching `selector` and presses Enter.
    async fn activate(&self, selector: &str) {
        self.focus(&format!("el.matches({})", json!(selector)))
            .await;
        self.tab.enter().await;
    }

    /// Tabs to the link or button whose text contains `text` and presses Enter.
    async fn activate_text(&self, selector: &str, text: &str) {
        self.focus(&format!(
            "el.matches({}) && el.textContent.includes({})",
            json!(selector),
            json!(text)
        ))
        .await;
        self.tab.enter().await;
    }

    async fn fill(&self, selector: &str, text: &str) {
        self.focus(&format!("el.matches({})", json!(selector)))
            .await;
        self.tab.type_text(text).await;
    }

    async fn arrive(&self, path: &str) {
        self.tab.wait_for_path(path).await;
        self.check_page().await;
    }

    async fn arrive_matching(&self, pattern: &str) {
        self.tab
            .wait_until(&format!(
                "new RegExp({}).test(location.pathname)",
                json!(pattern)
            ))
            .await;
        self.check_page().await;
    }

    async fn sign_in_with_password(&self, username: &str) {
        self.open("/sign-in").await;
        self.fill("#username", username).await;
        self.fill("#password", PASSWORD).await;
        self.tab.enter().await;
    }

    async fn sign_out(&self) {
        self.activate("form[action='/sign-out'] button").await;
        self.arrive("/sign-in").await;
    }

    /// Back at the registration wizard after setting up a method: past a recommended backup
    /// ("Skip this step"), then Done on the success page, on to "My security info".
    async fn finish_wizard(&self) {
        self.arrive("/sign-in/register").await;
        let skip = "a[href='/sign-in/register/success']";
        let query = format!("document.querySelector({}) !== null", json!(skip));
        if self.tab.eval(&query).await == json!(true) {
            self.activate(skip).await;
            self.arrive("/sign-in/register/success").await;
        }
        self.activate("form[action='/sign-in/register/done'] button")
            .await;
        self.arrive("/security-info").await;
    }

    /// Picks the next (`down`) or previous language in the footer's menu.
    async fn switch_language(&self, down: bool, lang: &str) {
        self.focus("el.id === 'lang'").await;
        if down {
            self.tab.arrow_down().await;
        } else {
            self.tab.arrow_up().await;
        }
        self.activate("form.language button").await;
        self.tab
            .wait_until(&format!(
                "document.documentElement.lang === {}",
                json!(lang)
            ))
            .await;
        self.check_page().await;
    }

    /// On a security key page: press its button; the virtual key answers.
    async fn use_security_key(&self) {
        self.activate("form[data-webauthn] button[type=submit]")
            .await;
    }
}

async fn run<F>(journey: &'static str, size: (u32, u32), test: F)
where
    F: for<'a> AsyncFn(&'a Person<'a>),
{
    let Some(chromium) = chromium() else {
        return;
    };
    for postgres in server::backends() {
        let server = Server::start(postgres).await;
        eprintln!("{journey} on {}", server.backend);
        let browser: Arc<Browser> = Browser::launch(&chromium).await;
        let tab = browser.tab(size.0, size.1, size == PHONE).await;
        let person = Person {
            tab,
            server: &server,
            journey,
        };
        test(&person).await;
        drop(person);
        browser.close().await;
        server.finish().await;
    }
}

/// Signs in, is sent to set up security info, adds an authenticator app by computing the code
/// from the secret on the page, adds a security key, signs out, signs in with the key, reads
/// the pages in Dutch, deletes a method, and resets a forgotten password with the key — on a
/// phone-sized screen, keyboard only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_sets_up_an_app_and_a_key_and_signs_in_with_the_key() {
    run("journey", PHONE, async |p: &Person<'_>| {
        let nl = Tr::for_tag("nl");
        let en = Tr::english();
        p.server.add_user("ada@example.org").await;

        // The password, then the registration wizard: step 1 of 2 is the app.
        let step = |current: u32, total: u32, tr: &Tr| {
            tr.args(
                "wizard-step",
                &[
                    ("current", current.to_string()),
                    ("total", total.to_string()),
                ],
            )
        };
        p.sign_in_with_password("ada@example.org").await;
        p.arrive("/sign-in/register").await;
        let page = p.tab.text().await;
        assert!(
            page.contains(&step(1, 2, &en)) && page.contains(&en.get("wizard-app-start")),
            "{page}"
        );
        p.shot("01-keep-your-account-secure").await;
        // "I want to use a different authenticator app": one that shows codes.
        p.activate("a[href='/security-info/add/authenticator-code']")
            .await;
        p.arrive("/security-info/add/authenticator-code").await;
        assert!(p.tab.text().await.contains(&step(1, 2, &en)));
        p.fill("#name", "Phone").await;
        p.tab.enter().await;
        p.arrive_matching("^/security-info/methods/[^/]+/verify$")
            .await;
        p.shot("02-authenticator-app").await;

        // The secret typed into an app by hand: shown under "can't scan?".
        p.activate("details.manual > summary").await;
        let secret = p
            .tab
            .eval("document.getElementById('secret').textContent")
            .await;
        let code = p.server.code(secret.as_str().unwrap());
        p.fill("#code", &code).await;
        p.tab.enter().await;

        // Step 2 of 2 recommends a backup; read once in Dutch, skipped, then "Success!".
        p.arrive("/sign-in/register").await;
        let page = p.tab.text().await;
        assert!(
            page.contains(&step(2, 2, &en)) && page.contains(&en.get("wizard-backup-title")),
            "{page}"
        );
        p.shot("02b-step-2-backup").await;
        p.switch_language(true, "nl").await;
        let page = p.tab.text().await;
        assert!(
            page.contains(&step(2, 2, &nl)) && page.contains(&nl.get("wizard-backup-title")),
            "{page}"
        );
        p.shot("02c-step-2-backup-nl").await;
        p.activate("a[href='/sign-in/register/success']").await;
        p.arrive("/sign-in/register/success").await;
        let heading = p.tab.eval("document.querySelector('h1').textContent").await;
        assert_eq!(heading, json!(nl.get("wizard-success-title")));
        assert!(p.tab.text().await.contains("Phone"));
        p.shot("02d-success-nl").await;
        p.switch_language(false, "en").await;
        let page = p.tab.text().await;
        assert!(
            page.contains(&en.get("wizard-success-intro")) && !page.contains(&step(2, 2, &en)),
            "{page}"
        );
        p.shot("02e-success").await;
        p.activate("form[action='/sign-in/register/done'] button")
            .await;
        p.arrive("/security-info").await;
        assert!(p.tab.text().await.contains("Phone"));
        p.shot("03-security-info").await;

        // A security key: named, then registered with its PIN.
        let authenticator = p.tab.add_security_key().await;
        p.activate("a[href='/security-info/add']").await;
        p.arrive("/security-info/add").await;
        p.shot("04-add-a-method").await;
        p.activate("a[href='/security-info/add/security-key']")
            .await;
        p.arrive("/security-info/add/security-key").await;
        p.shot("05-add-a-security-key").await;
        p.fill("#name", "Blue key").await;
        p.tab.enter().await;
        p.arrive_matching("^/security-info/security-keys/[^/]+$")
            .await;
        p.shot("06-register-the-key").await;
        p.use_security_key().await;
        p.arrive("/security-info").await;
        let page = p.tab.text().await;
        assert!(
            page.contains("Blue key") && page.contains(&en.get("done-added")),
            "{page}"
        );
        let credentials = p.tab.credentials(&authenticator).await;
        assert_eq!(credentials.len(), 1, "{credentials:?}");
        p.sign_out().await;

        // Signing in again: the app is the default; "sign in another way" offers the key.
        p.server.clock.advance(time::Duration::seconds(30));
        p.sign_in_with_password("ada@example.org").await;
        p.arrive("/sign-in/verify").await;
        p.shot("07-enter-code").await;
        p.activate("a[href='/sign-in/other']").await;
        p.arrive("/sign-in/other").await;
        p.shot("08-sign-in-another-way").await;
        p.activate_text("a.choice", "Blue key").await;
        p.arrive("/sign-in/security-key").await;
        p.shot("09-use-your-security-key").await;
        p.use_security_key().await;
        p.arrive("/security-info").await;
        assert!(p.tab.text().await.contains("ada@example.org"));

        // In Dutch.
        p.focus("el.id === 'lang'").await;
        p.tab.arrow_down().await;
        p.activate("form.language button").await;
        p.tab
            .wait_until("document.documentElement.lang === 'nl'")
            .await;
        p.check_page().await;
        let heading = p.tab.eval("document.querySelector('h1').textContent").await;
        assert_eq!(heading, json!(nl.get("security-info-title")));
        p.shot("10-security-info-nl").await;

        // Deleting the app, after confirming. The last second factor is older than the
        // step-up window by now, so the key first verifies it's still her.
        p.server.clock.advance(time::Duration::minutes(11));
        let app = nl.get("kind-authenticator_code");
        p.focus(&format!(
            "el.matches('a.danger-link') && el.closest('li').textContent.includes({})",
            json!(app)
        ))
        .await;
        p.tab.enter().await;
        p.arrive("/step-up").await;
        p.activate_text("a.choice", "Blue key").await;
        p.arrive("/step-up/security-key").await;
        p.shot("11-verify-with-the-key-nl").await;
        p.use_security_key().await;
        p.arrive_matching("^/security-info/methods/[^/]+/delete$")
            .await;
        // The app keeps the account until she removes it there too: the page says so.
        let page = p.tab.text().await;
        assert!(page.contains("Example Org (ada@example.org)"), "{page}");
        p.shot("12-delete-nl").await;
        p.activate("button.button-danger").await;
        p.arrive("/security-info").await;
        let page = p.tab.text().await;
        assert!(page.contains(&nl.get("done-deleted-app")), "{page}");
        assert!(page.contains("Blue key") && !page.contains(&app), "{page}");
        p.shot("13-deleted-nl").await;

        // A forgotten password: the key is the reset's gate.
        p.sign_out().await;
        p.activate("a[href='/reset']").await;
        p.arrive("/reset").await;
        p.fill("#username", "ada@example.org").await;
        p.tab.enter().await;
        p.arrive("/reset/verify").await;
        // A stranger may not read the names a person gave methods: the gate is its kind.
        p.activate_text("button.choice", &nl.get("kind-security_key"))
            .await;
        p.tab
            .wait_until("document.querySelector('form[data-webauthn]') !== null")
            .await;
        p.check_page().await;
        p.shot("14-reset-with-the-key-nl").await;
        p.use_security_key().await;
        p.arrive("/reset/password").await;
        p.fill("#new_password", "a new passphrase of ada's").await;
        p.fill("#confirm_password", "a new passphrase of ada's")
            .await;
        p.tab.enter().await;
        p.arrive("/reset/done").await;
        p.shot("15-reset-done-nl").await;
    })
    .await;
}

/// With passkeys allowed, a person who registered a security key signs in with it alone: no
/// username, no password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_signs_in_without_a_username_or_password() {
    run("passkey", DESKTOP, async |p: &Person<'_>| {
        let en = Tr::english();
        p.server.set_policy("passkey_sign_in", "true").await;
        p.server.add_user("bo@example.org").await;
        let authenticator = p.tab.add_security_key().await;

        // The registration interrupt, answered with a security key.
        p.sign_in_with_password("bo@example.org").await;
        p.arrive("/sign-in/register").await;
        p.activate("a[href='/sign-in/register/other']").await;
        p.arrive("/sign-in/register/other").await;
        p.activate("a[href='/security-info/add/security-key']")
            .await;
        p.arrive("/security-info/add/security-key").await;
        p.fill("#name", "Laptop key").await;
        p.tab.enter().await;
        p.arrive_matching("^/security-info/security-keys/[^/]+$")
            .await;
        p.use_security_key().await;
        p.finish_wizard().await;
        assert!(p.tab.text().await.contains("Laptop key"));
        let credentials = p.tab.credentials(&authenticator).await;
        assert_eq!(
            credentials
                .first()
                .map(|c| c["isResidentCredential"].clone()),
            Some(json!(true)),
            "a discoverable credential: {credentials:?}"
        );
        p.sign_out().await;

        // No username, no password.
        p.shot("01-sign-in").await;
        p.activate_text("a[href='/sign-in/passkey']", &en.get("passkey-link"))
            .await;
        p.arrive("/sign-in/passkey").await;
        p.shot("02-sign-in-with-a-passkey").await;
        p.use_security_key().await;
        p.arrive("/security-info").await;
        let page = p.tab.text().await;
        assert!(
            page.contains("bo@example.org") && page.contains("Laptop key"),
            "{page}"
        );
        p.shot("03-signed-in").await;
    })
    .await;
}
