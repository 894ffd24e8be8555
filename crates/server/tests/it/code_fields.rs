//! Issue #13: each kind of code gets a field it fits in. A recovery code
//! (`6e1r-51nx-e6md-rhye`, 19 characters with its dashes) was cut off at twelve characters
//! behind a number pad, and the page asked for "the 6-digit code from Recovery codes".

use crate::common::{Harness, each_backend};
use crate::recovery_codes::new_set;
use crate::web::browser::{Browser, Resp};

/// The `<input>` tag of the code field.
fn code_input(page: &Resp) -> String {
    let start = page.html.find("<input id=\"code\"").expect("a code field");
    let rest = &page.html[start..];
    rest[..rest.find('>').unwrap()].to_string()
}

#[tokio::test]
async fn a_recovery_code_is_typed_whole_at_sign_in_and_step_up() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _, _) = h.enrolled_user(&c, "alice@example.org").await;
        let (method, codes) = new_set(&h, &c, &token).await;
        assert!(codes[0].len() >= 19, "{}", codes[0]);

        let b = Browser::new(&h);
        b.password("alice@example.org")
            .await
            .redirects_to("/sign-in/verify");
        let path = format!("/sign-in/verify?method={method}");
        let page = b.get(&path).await;
        page.shows(200, "Enter one of your recovery codes.")
            .shows(200, ">Recovery code</label>");
        assert!(!page.html.contains("6-digit"), "{}", page.html);
        let input = code_input(&page);
        assert!(input.contains("inputmode=\"text\""), "{input}");
        assert!(input.contains("maxlength=\"32\""), "{input}");
        b.submit(
            &path,
            "/sign-in/verify",
            &[("method_id", &method), ("code", &codes[0])],
        )
        .await
        .redirects_to("/security-info");

        // Step-up with the next code, on the page that asks for one, once the second factor
        // of the sign-in is no longer recent.
        h.advance(11 * 60);
        let step_up = format!("/step-up?next=/security-info&method={method}");
        let page = b.get(&step_up).await;
        page.shows(200, "enter one of your recovery codes")
            .shows(200, ">Recovery code</label>");
        assert!(code_input(&page).contains("inputmode=\"text\""));
        b.submit(
            &step_up,
            "/step-up",
            &[
                ("next", "/security-info"),
                ("method_id", &method),
                ("code", &codes[1]),
            ],
        )
        .await
        .redirects_to("/security-info");
    })
    .await;
}

#[tokio::test]
async fn a_six_digit_code_keeps_its_number_pad() {
    each_backend(|h: Harness| async move {
        h.enrolled_user(&h.client(), "bob@example.org").await;
        let b = Browser::new(&h);
        b.password("bob@example.org").await;
        let page = b.get("/sign-in/verify").await;
        page.shows(200, "Enter the 6-digit code from");
        let input = code_input(&page);
        assert!(
            input.contains("inputmode=\"numeric\"") && input.contains("one-time-code"),
            "{input}"
        );
    })
    .await;
}
