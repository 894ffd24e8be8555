//! Fields and buttons as people see them: every kind of field looks like the plain text
//! field, in light and in dark, with its focus visible; and the app password's "Copy" button
//! puts it on the clipboard.

use super::{DESKTOP, PHONE, Person, run};
use serde_json::{Value, json};
use tessera_server::i18n::Tr;

/// What makes two fields look alike.
const LOOKS: [&str; 12] = [
    "fontFamily",
    "fontSize",
    "lineHeight",
    "color",
    "backgroundColor",
    "borderTopWidth",
    "borderTopStyle",
    "borderTopColor",
    "borderRadius",
    "paddingLeft",
    "minHeight",
    "width",
];

/// Adds one field of every type next to the sign-in page's username (a real text field
/// styled by the real stylesheet), and answers how each differs from it.
async fn differences(p: &Person<'_>) -> Value {
    p.tab
        .eval(&format!(
            "(() => {{
               const text = document.getElementById('username');
               const box = text.parentElement;
               if (!document.getElementById('probe-tel')) {{
                 for (const type of ['tel', 'email', 'number', 'search', 'url', 'password']) {{
                   const el = document.createElement('input');
                   el.type = type; el.id = 'probe-' + type; el.setAttribute('aria-label', type);
                   box.append(el);
                 }}
                 const area = document.createElement('textarea');
                 area.id = 'probe-textarea'; area.setAttribute('aria-label', 'textarea');
                 box.append(area);
                 const menu = document.createElement('select');
                 menu.id = 'probe-select'; menu.setAttribute('aria-label', 'select');
                 menu.append(new Option('One'));
                 box.append(menu);
               }}
               // Compared at rest: the page puts the focus on the username.
               document.activeElement.blur();
               const looks = {looks};
               const want = getComputedStyle(text);
               const out = {{}};
               for (const el of box.querySelectorAll('[id^=probe-]')) {{
                 const got = getComputedStyle(el);
                 const diff = looks
                   .filter(k => !(el.tagName === 'TEXTAREA' && k === 'minHeight'))
                   // Chromium fixes a menu's line height; its min-height evens it out.
                   .filter(k => !(el.tagName === 'SELECT' && k === 'lineHeight'))
                   .filter(k => got[k] !== want[k])
                   .map(k => k + ': ' + got[k] + ' vs ' + want[k]);
                 if (diff.length) out[el.id] = diff;
               }}
               return out;
             }})()",
            looks = json!(LOOKS)
        ))
        .await
}

async fn set_dark(p: &Person<'_>, dark: bool) {
    p.tab
        .call(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme",
                                 "value": if dark { "dark" } else { "light" }}]}),
        )
        .await;
}

/// A phone number, an address, a number: each field looks like the text field beside it, on
/// the light theme and on the dark one, and shows where the focus is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_field_looks_like_a_text_field_in_light_and_dark() {
    run("fields", PHONE, async |p: &Person<'_>| {
        for dark in [false, true] {
            set_dark(p, dark).await;
            p.open("/sign-in").await;
            assert_eq!(
                differences(p).await,
                json!({}),
                "fields that differ from a text field (dark: {dark})"
            );
            let background = p
                .tab
                .eval("getComputedStyle(document.getElementById('probe-tel')).backgroundColor")
                .await;
            let white = json!("rgb(255, 255, 255)");
            assert_eq!(
                background == white,
                !dark,
                "the tel field's background: {background}"
            );
            // Tab through the sign-in form to the added fields: each stop shows its focus.
            p.focus("el.id === 'probe-select'").await;
            let ring = p
                .tab
                .eval("getComputedStyle(document.getElementById('probe-select')).outlineStyle")
                .await;
            assert_eq!(ring, json!("solid"));
            // Checkboxes and radios: the same size and colour, with room beside their label.
            let boxes = p
                .tab
                .eval(
                    "(() => { const out = []; for (const type of ['checkbox', 'radio']) { \
                       const el = document.createElement('input'); el.type = type; \
                       document.querySelector('form').append(el); \
                       const s = getComputedStyle(el); \
                       out.push([s.width, s.height, s.marginRight]); el.remove(); } \
                       return out; })()",
                )
                .await;
            assert_eq!(
                boxes,
                json!([["20px", "20px", "8px"], ["20px", "20px", "8px"]]),
                "dark: {dark}"
            );
            p.shot(if dark {
                "sign-in-dark"
            } else {
                "sign-in-light"
            })
            .await;
        }
    })
    .await;
}

/// The app password is shown once, with a "Copy" button that puts it on the clipboard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_copy_button_puts_a_new_app_password_on_the_clipboard() {
    run("app-password", DESKTOP, async |p: &Person<'_>| {
        let en = Tr::english();
        p.server.set_policy("app_passwords_allowed", "true").await;
        p.server.add_user("cy@example.org").await;
        p.sign_in_with_password("cy@example.org").await;
        p.arrive("/sign-in/register").await;
        p.activate("a[href='/security-info/add/authenticator-code']")
            .await;
        p.arrive("/security-info/add/authenticator-code").await;
        p.fill("#name", "Phone").await;
        p.tab.enter().await;
        p.arrive_matching("^/security-info/methods/[^/]+/verify$")
            .await;
        let secret = p
            .tab
            .eval("document.getElementById('secret').textContent")
            .await;
        p.fill("#code", &p.server.code(secret.as_str().unwrap()))
            .await;
        p.tab.enter().await;
        p.finish_wizard().await;

        p.open("/security-info/app-passwords").await;
        p.fill("#name", "Old mail app").await;
        p.tab.enter().await;
        p.tab
            .wait_until("document.getElementById('app-password') !== null")
            .await;
        p.check_page().await;
        let password = p
            .tab
            .eval("document.getElementById('app-password').textContent")
            .await;
        p.tab
            .call(
                "Browser.grantPermissions",
                json!({"permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]}),
            )
            .await;
        p.activate_text("button[data-copy]", &en.get("app-passwords-copy"))
            .await;
        p.tab
            .wait_until(&format!(
                "document.getElementById('copy-status').textContent === {}",
                json!(en.get("app-passwords-copied"))
            ))
            .await;
        let copied = p.tab.eval("navigator.clipboard.readText()").await;
        assert_eq!(copied, password);
        p.shot("01-created").await;
    })
    .await;
}
