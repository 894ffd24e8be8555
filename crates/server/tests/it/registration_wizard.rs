//! The registration interrupt as a wizard ("Keep your account secure"): step progress from
//! what the policy needs, the app first, a backup next, a plain word when a method does not
//! count, and "Success!" whose Done completes the sign-in. And deleting an authenticator app
//! reminds the person to remove the account from the app too.

use crate::common::{Harness, each_backend, each_backend_with};
use crate::gateway::{gateway, with_webhook};
use crate::phone::address;
use crate::web::browser::{Browser, Resp, signed_in};

const WIZARD: &str = "/sign-in/register";
const CODE: &str = "/security-info/add/authenticator-code";

/// A new person past the password: at the wizard.
async fn at_the_wizard(h: &Harness, username: &str) -> Browser {
    h.add_user(username).await;
    let b = Browser::new(h);
    b.password(username).await.redirects_to(WIZARD);
    b
}

/// Adds an app that shows codes; answers where the page went after the code.
async fn add_code_app(b: &Browser) -> Resp {
    let r = b.submit(CODE, CODE, &[("name", "Phone")]).await;
    let verify = r.location.clone().unwrap();
    let secret = b.get(&verify).await.text_of("secret");
    let r = b
        .submit(&verify, &verify, &[("code", &b.h.code(&secret, 0))])
        .await;
    b.h.advance(30);
    r
}

/// Makes recovery codes; answers the page that shows them.
async fn make_recovery_codes(b: &Browser) -> Resp {
    const CODES: &str = "/security-info/add/recovery-codes";
    b.submit(CODES, CODES, &[]).await
}

/// A page as a Dutch browser asks for it.
async fn nl(b: &Browser, path: &str) -> Resp {
    let r =
        b.c.get(b.h.url(path))
            .header("accept-language", "nl")
            .send()
            .await
            .unwrap();
    Resp::from(r).await
}

async fn done(b: &Browser) -> Resp {
    let page = b.get(WIZARD).await;
    page.shows(200, "Success!");
    b.post("/sign-in/register/done", &[("csrf", &page.csrf())])
        .await
}

#[tokio::test]
async fn a_new_person_walks_the_app_a_backup_and_success() {
    each_backend(|h: Harness| async move {
        let b = at_the_wizard(&h, "nina@example.org").await;
        let first = b.get(WIZARD).await;
        first
            .shows(200, "Keep your account secure")
            .shows(200, "Step 1 of 2")
            .shows(200, "Start by getting the app.")
            // No app chosen by the admin: Tessera's own web app, opened by the QR code.
            .shows(200, "Get the Tessera authenticator on your phone")
            .shows(200, "action=\"/security-info/add/authenticator-app\"")
            .shows(
                200,
                "<a href=\"/security-info/add/authenticator-code\">I want to use a different authenticator app</a>",
            )
            .shows(200, "I want to set up a different method");
        assert!(!first.html.contains("Get the app"), "no link while unset");

        // The admin says where to get the app: the wizard links to it.
        h.set_policy("authenticator_app_url", "https://apps.example.org/authenticator")
            .await;
        b.get(WIZARD)
            .await
            .shows(200, "href=\"https://apps.example.org/authenticator\"")
            .shows(200, "Get the app");
        b.get("/security-info/add/authenticator-app")
            .await
            .shows(200, "href=\"https://apps.example.org/authenticator\"");

        // "A different method": the other sign-in kinds, with the progress kept.
        b.get("/sign-in/register/other")
            .await
            .shows(200, "Choose a different method")
            .shows(200, "Step 1 of 2")
            .shows(200, "href=\"/security-info/add/security-key\"")
            .shows(200, "href=\"/security-info/add/phone-mobile\"");

        // The add-method pages show the step too, and lead back to the wizard.
        b.get(CODE)
            .await
            .shows(200, "Step 1 of 2")
            .shows(200, "I want to set up a different method");
        add_code_app(&b).await.redirects_to(WIZARD);

        // Step 2: a backup, recommended, so it may be skipped; the session is not full yet.
        let second = b.get(WIZARD).await;
        second
            .shows(200, "Step 2 of 2")
            .shows(200, "Add a backup method")
            .shows(200, "href=\"/security-info/add/phone-mobile\"")
            .shows(200, "href=\"/security-info/add/recovery-codes\"")
            .shows(200, "href=\"/sign-in/register/success\"");
        assert!(!second.html.contains("Start by getting the app"));
        b.get("/activity").await.redirects_to("/security-info");

        let codes = make_recovery_codes(&b).await;
        codes
            .shows(200, "Step 2 of 2")
            .shows(200, "href=\"/sign-in/register\"");
        let success = b.get(WIZARD).await;
        success
            .shows(200, "Success!")
            .shows(200, "You have successfully set up your security info.")
            .shows(200, "Authenticator app or hardware token")
            .shows(200, "Phone")
            .shows(200, "Recovery codes")
            .shows(200, "action=\"/sign-in/register/done\"");
        assert!(!success.html.contains("Step 2 of 2"), "no progress on success");

        let r = done(&b).await;
        r.redirects_to("/security-info");
        r.cookie("tessera_session");
        b.get("/security-info").await.shows(200, "My security info");
        b.get("/activity").await.shows(200, "Recent activity");
    })
    .await;
}

#[tokio::test]
async fn skipping_the_backup_still_ends_on_success() {
    each_backend(|h: Harness| async move {
        let b = at_the_wizard(&h, "otto@example.org").await;
        // Success is not reachable while a sign-in method is missing, nor is Done.
        b.get("/sign-in/register/success")
            .await
            .redirects_to(WIZARD);
        let page = b.get(WIZARD).await;
        b.post("/sign-in/register/done", &[("csrf", &page.csrf())])
            .await
            .redirects_to(WIZARD);

        add_code_app(&b).await.redirects_to(WIZARD);
        b.get("/sign-in/register/success")
            .await
            .shows(200, "Success!")
            .shows(200, "You can add a backup method later");
        b.finish_registration().await;
        b.get("/security-info").await.shows(200, "My security info");
    })
    .await;
}

#[tokio::test]
async fn an_email_first_is_explained_instead_of_the_same_page() {
    each_backend_with(with_webhook, |h: Harness| async move {
        let b = at_the_wizard(&h, "emil@example.org").await;
        const ADD: &str = "/security-info/add/email";
        let email = address();
        let r = b.submit(ADD, ADD, &[("address", &email)]).await;
        let sent = r.location.clone().unwrap();
        let code = gateway().nth(&email, 1).await.code.unwrap();
        b.submit(&sent, &sent, &[("code", &code)])
            .await
            .redirects_to(WIZARD);

        // Email counts for reset, not for sign-in: said plainly, on the sign-in step.
        b.get(WIZARD)
            .await
            .shows(
                200,
                "Email can be used to reset your password, but not to sign in. Add a sign-in method to continue.",
            )
            .shows(200, "Step 2 of 2")
            .shows(200, "Start by getting the app.");

        // The app makes two methods: no backup step, straight to success.
        add_code_app(&b).await.redirects_to(WIZARD);
        let success = b.get(WIZARD).await;
        success.shows(200, "Success!").shows(200, "Email");
        assert!(!success.html.contains("can be used to reset your password"));
        done(&b).await.redirects_to("/security-info");
    })
    .await;
}

#[tokio::test]
async fn a_second_reset_method_is_required_and_cannot_be_skipped() {
    each_backend(|h: Harness| async move {
        h.set_policy("reset_methods_required", "2").await;
        h.set_policy("recommend_backup_method", "false").await;
        let b = at_the_wizard(&h, "remy@example.org").await;
        b.get(WIZARD).await.shows(200, "Step 1 of 2");
        add_code_app(&b).await.redirects_to(WIZARD);
        let second = b.get(WIZARD).await;
        second
            .shows(200, "Step 2 of 2")
            .shows(200, "One more way to reset your password")
            .shows(200, "needs 2 ways");
        assert!(!second.html.contains("Skip this step"), "required");
        b.get("/sign-in/register/success")
            .await
            .redirects_to(WIZARD);
        b.post("/sign-in/register/done", &[("csrf", &second.csrf())])
            .await
            .redirects_to(WIZARD);

        make_recovery_codes(&b)
            .await
            .shows(200, "Your recovery codes");
        done(&b).await.redirects_to("/security-info");
    })
    .await;
}

#[tokio::test]
async fn without_a_recommended_backup_one_method_is_step_1_of_1() {
    each_backend(|h: Harness| async move {
        h.set_policy("recommend_backup_method", "false").await;
        let b = at_the_wizard(&h, "una@example.org").await;
        b.get(WIZARD).await.shows(200, "Step 1 of 1");
        add_code_app(&b).await.redirects_to(WIZARD);
        b.get(WIZARD).await.shows(200, "Success!");
        done(&b).await.redirects_to("/security-info");
    })
    .await;
}

#[tokio::test]
async fn the_wizard_speaks_dutch() {
    each_backend(|h: Harness| async move {
        let b = at_the_wizard(&h, "daan@example.org").await;
        nl(&b, WIZARD)
            .await
            .shows(200, "<html lang=\"nl\">")
            .shows(200, "Houd je account veilig")
            .shows(200, "Stap 1 van 2")
            .shows(200, "Begin met het installeren van de app.")
            .shows(200, "Ik wil een andere authenticator-app gebruiken")
            .shows(200, "Ik wil een andere methode instellen");
        add_code_app(&b).await.redirects_to(WIZARD);
        nl(&b, WIZARD)
            .await
            .shows(200, "Stap 2 van 2")
            .shows(200, "Een reservemethode toevoegen")
            .shows(200, "Deze stap overslaan");
        nl(&b, "/sign-in/register/success")
            .await
            .shows(200, "Gelukt!")
            .shows(200, "Je beveiligingsgegevens zijn ingesteld.")
            .shows(200, "Gereed");
    })
    .await;
}

#[tokio::test]
async fn deleting_an_authenticator_app_reminds_to_remove_it_from_the_app() {
    each_backend(|h: Harness| async move {
        let (b, method, _) = signed_in(&h, "abel@example.org").await;
        let codes = make_recovery_codes(&b).await;
        codes.shows(200, "href=\"/security-info?done=added\"");
        let delete = format!("/security-info/methods/{method}/delete");
        b.get(&delete)
            .await
            .shows(200, "doesn&#39;t remove it from the app")
            .shows(
                200,
                "remove the Example Org account (abel@example.org) there too",
            );
        b.submit(&delete, &delete, &[])
            .await
            .redirects_to("/security-info?done=deleted-app");
        b.get("/security-info?done=deleted-app")
            .await
            .shows(200, "The authenticator app was deleted.")
            .shows(
                200,
                "Remember to also remove the account from the app on your phone.",
            );

        // Recovery codes live in no app: no such reminder.
        let info = b.get("/security-info").await;
        let start = info.html.find("/security-info/methods/").unwrap();
        let id: String = info.html[start + "/security-info/methods/".len()..]
            .chars()
            .take_while(|c| *c != '/')
            .collect();
        let delete = format!("/security-info/methods/{id}/delete");
        let page = b.get(&delete).await;
        page.shows(200, "Recovery codes");
        assert!(
            !page.html.contains("remove it from the app"),
            "{}",
            page.html
        );
        b.submit(&delete, &delete, &[])
            .await
            .redirects_to("/security-info?done=deleted");
    })
    .await;
}
