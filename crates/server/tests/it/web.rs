//! The pages, driven like a browser: every form is read from the page that shows it, with
//! its CSRF token, and every redirect is checked before it is followed.

pub mod browser;

use crate::common::{Harness, PASSWORD, each_backend};
use browser::{Browser, Resp, signed_in};
use reqwest::header::{
    ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_FRAME_OPTIONS,
};

#[tokio::test]
async fn registration_interrupt_then_sign_out_then_sign_in_with_a_code() {
    each_backend(|h: Harness| async move {
        h.add_user("alice@example.org").await;
        let b = Browser::new(&h);
        b.get("/").await.redirects_to("/sign-in");
        let page = b.get("/sign-in").await;
        page.shows(200, "<html lang=\"en\">")
            .shows(200, "Example Org")
            .shows(200, "autocomplete=\"current-password\"");

        let r = b.password("alice@example.org").await;
        r.redirects_to("/sign-in/register");
        let session = r.cookie("tessera_session");
        assert!(
            session.contains("HttpOnly")
                && session.contains("SameSite=Lax")
                && session.contains("Path=/")
        );
        assert!(
            r.cookie("tessera_csrf").contains("HttpOnly"),
            "the CSRF token is renewed at sign-in"
        );
        b.get("/sign-in/register")
            .await
            .shows(200, "Keep your account secure")
            .shows(
                200,
                "Your organization needs more information to keep your account secure",
            )
            .shows(200, "Step 1 of 2");
        b.get("/security-info")
            .await
            .redirects_to("/sign-in/register");
        b.get("/activity").await.redirects_to("/security-info");

        let (_, secret) = b.add_authenticator("Phone").await;
        b.get("/security-info?done=added")
            .await
            .shows(200, "My security info")
            .shows(200, "Your sign-in method was added.")
            .shows(
                200,
                "Default sign-in method: Authenticator app or hardware token (Phone)",
            )
            .shows(200, "Authenticator app or hardware token");

        let r = b.submit("/security-info", "/sign-out", &[]).await;
        r.redirects_to("/sign-in?notice=signed-out");
        assert!(r.cookie("tessera_session").contains("Max-Age=0"));
        b.get("/security-info").await.redirects_to("/sign-in");
        b.get("/sign-in?notice=signed-out")
            .await
            .shows(200, "You&#39;ve signed out.");

        b.sign_in("alice@example.org", &secret).await;
        b.get("/").await.redirects_to("/security-info");
        b.get("/security-info").await.shows(200, "My security info");
        b.get("/activity")
            .await
            .shows(200, "Recent activity")
            .shows(200, "Signed in")
            .shows(200, "127.0.0.1");
    })
    .await;
}

#[tokio::test]
async fn wrong_password_wrong_code_lock_out_and_expiry_are_explained() {
    each_backend(|h: Harness| async move {
        let (_, _, secret) = h.enrolled_user(&h.client(), "bob@example.org").await;
        let b = Browser::new(&h);
        let r = b
            .submit(
                "/sign-in",
                "/sign-in",
                &[("username", "bob@example.org"), ("password", "nope")],
            )
            .await;
        r.shows(401, "The username or password is incorrect.")
            .shows(401, "value=\"bob@example.org\"");
        assert!(!r.html.contains("nope"), "the password is not sent back");

        b.password("bob@example.org")
            .await
            .redirects_to("/sign-in/verify");
        let page = b.get("/sign-in/verify").await;
        page.shows(200, "Enter code")
            .shows(200, "inputmode=\"numeric\"")
            .shows(200, "autocomplete=\"one-time-code\"");
        let method = page.field("method_id");
        let wrong = h.wrong_code(&secret);
        let r = b
            .submit(
                "/sign-in/verify",
                "/sign-in/verify",
                &[("method_id", &method), ("code", &wrong)],
            )
            .await;
        r.shows(400, "That code isn&#39;t right. Try again.")
            .shows(400, "aria-invalid=\"true\"");
        let mut last = r;
        for _ in 0..10 {
            last = b
                .submit(
                    "/sign-in/verify",
                    "/sign-in/verify",
                    &[("method_id", &method), ("code", &wrong)],
                )
                .await;
        }
        last.shows(429, "Too many wrong codes. Try again in");

        h.advance(601);
        b.get("/sign-in/verify")
            .await
            .redirects_to("/sign-in?notice=expired");
        b.get("/sign-in?notice=expired")
            .await
            .shows(200, "has expired. Start again.");
        let right = h.code(&secret, 0);
        b.post(
            "/sign-in/verify",
            &[
                ("csrf", &b.get("/sign-in").await.csrf()),
                ("method_id", &method),
                ("code", &right),
            ],
        )
        .await
        .redirects_to("/sign-in?notice=expired");
    })
    .await;
}

#[tokio::test]
async fn a_form_without_its_csrf_token_changes_nothing() {
    each_backend(|h: Harness| async move {
        let (b, method, _) = signed_in(&h, "carol@example.org").await;
        let delete = format!("/security-info/methods/{method}/delete");
        b.get(&delete).await.shows(200, "This can&#39;t be undone.");
        for fields in [vec![], vec![("csrf", "x".repeat(43))]] {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = b.post(&delete, &fields).await;
            r.shows(403, "This form has expired or came from another site.");
            b.post("/sign-out", &fields)
                .await
                .shows(403, "Reload the page");
        }
        b.get("/security-info").await.shows(200, &delete);
        let r = Browser::new(&h)
            .post(
                "/sign-in",
                &[("username", "carol@example.org"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(r.status, 403, "{}", r.html);
    })
    .await;
}

#[tokio::test]
async fn a_second_method_needs_step_up_then_default_and_delete() {
    each_backend(|h: Harness| async move {
        let (b, first, secret) = signed_in(&h, "dave@example.org").await;
        const ADD: &str = "/security-info/add/authenticator-code";
        b.get("/security-info/add")
            .await
            .shows(200, "href=\"/security-info/add/authenticator-code\"");

        // The sign-in's code is past the step-up window.
        h.advance(601);
        let to_step_up = "/step-up?next=%2Fsecurity-info%2Fadd%2Fauthenticator-code";
        b.get(ADD).await.redirects_to(to_step_up);
        let csrf = b.get("/security-info").await.csrf();
        b.post(ADD, &[("csrf", &csrf), ("name", "Tablet")])
            .await
            .redirects_to(to_step_up);
        let page = b.get(to_step_up).await;
        page.shows(200, "Verify your identity");
        let code = h.code(&secret, 0);
        let fields = [
            ("next", page.field("next")),
            ("method_id", page.field("method_id")),
            ("code", code),
        ];
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        b.submit(to_step_up, "/step-up", &fields)
            .await
            .redirects_to(ADD);
        h.advance(30);

        let (second, _) = b.add_authenticator("Tablet").await;
        let info = b.get("/security-info").await;
        info.shows(
            200,
            "Default sign-in method: Authenticator app or hardware token",
        )
        .shows(200, "Tablet");

        // Sign in another way lists both methods.
        let other = Browser::new(&h);
        other
            .password("dave@example.org")
            .await
            .redirects_to("/sign-in/verify");
        other
            .get("/sign-in/other")
            .await
            .shows(200, &format!("/sign-in/verify?method={second}"));
        assert_eq!(
            other
                .get(&format!("/sign-in/verify?method={second}"))
                .await
                .field("method_id"),
            second
        );

        let page = b.get("/security-info/default").await;
        page.shows(200, "type=\"radio\"");
        b.submit(
            "/security-info/default",
            "/security-info/default",
            &[("method_id", &second)],
        )
        .await
        .redirects_to("/security-info?done=default");
        b.get("/security-info?done=default").await.shows(
            200,
            "Default sign-in method: Authenticator app or hardware token (Tablet)",
        );

        let delete = format!("/security-info/methods/{second}/delete");
        b.get(&delete).await.shows(
            200,
            "Delete Authenticator app or hardware token (Tablet)? This can&#39;t be undone.",
        );
        b.submit(&delete, &delete, &[])
            .await
            .redirects_to("/security-info?done=deleted-app");
        let info = b.get("/security-info?done=deleted-app").await;
        info.shows(200, "The authenticator app was deleted.")
            .shows(
                200,
                "Default sign-in method: Authenticator app or hardware token",
            )
            .shows(200, &format!("/security-info/methods/{first}/delete"));
        assert!(!info.html.contains("Tablet"));
    })
    .await;
}

#[tokio::test]
async fn language_menu_and_accept_language_switch_to_dutch() {
    each_backend(|h: Harness| async move {
        let r = h
            .client()
            .get(h.url("/sign-in"))
            .header(ACCEPT_LANGUAGE, "nl-NL,nl;q=0.9,en;q=0.5")
            .send()
            .await;
        Resp::from(r.unwrap())
            .await
            .shows(200, "<html lang=\"nl\">")
            .shows(200, "Gebruikersnaam");

        let (b, _, _) = signed_in(&h, "erin@example.org").await;
        b.get("/security-info").await.shows(200, "My security info");
        let r = b
            .submit(
                "/security-info",
                "/language",
                &[("lang", "nl"), ("next", "/security-info")],
            )
            .await;
        r.redirects_to("/security-info");
        assert!(r.cookie("tessera_lang").starts_with("tessera_lang=nl"));
        b.get("/security-info")
            .await
            .shows(200, "<html lang=\"nl\">")
            .shows(200, "Mijn beveiligingsgegevens");
        let account = h
            .store()
            .account_by_username("erin@example.org")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            account.locale.as_deref(),
            Some("nl"),
            "kept with the account"
        );

        let r = b
            .submit(
                "/security-info",
                "/language",
                &[("lang", "en"), ("next", "//evil.example/")],
            )
            .await;
        r.redirects_to("/security-info");
        b.get("/security-info")
            .await
            .shows(200, "<html lang=\"en\">");
    })
    .await;
}

#[tokio::test]
async fn pages_carry_security_headers_and_their_stylesheet() {
    each_backend(|h: Harness| async move {
        let b = Browser::new(&h);
        let page = b.get("/sign-in").await;
        let header = |name| {
            page.headers
                .get(name)
                .unwrap()
                .to_str()
                .unwrap()
                .to_string()
        };
        let csp = header(CONTENT_SECURITY_POLICY);
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert_eq!(header(X_FRAME_OPTIONS), "DENY");
        assert!(
            !page.html.contains("style=") && !page.html.contains("<script"),
            "nothing inline"
        );

        let start = page.html.find("/static/tessera.css").unwrap();
        let href = &page.html[start..start + page.html[start..].find('"').unwrap()];
        let css = b.c.get(h.url(href)).send().await.unwrap();
        assert_eq!(css.status(), 200);
        assert!(
            css.headers()[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/css")
        );
        assert!(
            css.headers()[CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("max-age=")
        );
        assert!(css.text().await.unwrap().contains(":focus-visible"));

        b.get("/no-such-page").await.shows(404, "Page not found");
        assert_eq!(b.get("/static/nope.js").await.status, 404);
    })
    .await;
}
