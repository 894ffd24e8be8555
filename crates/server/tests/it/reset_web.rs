//! The pages of issue #6, driven like a browser: "Forgot my password", security questions,
//! recovery codes, the registration interrupt's skip, and the admin's policy page.

use crate::common::{Harness, PASSWORD, each_backend};
use crate::reset::NEW_PASSWORD;
use crate::web::browser::{Browser, Resp, signed_in};
use serde_json::{Value, json};
use tessera_core::admin::NewAccount;
use zeroize::Zeroizing;

/// Walks `/reset` up to the gate page; answers the browser.
pub(crate) async fn to_the_gates(h: &Harness, username: &str) -> Browser {
    let b = Browser::new(h);
    b.get("/sign-in")
        .await
        .shows(200, "<a href=\"/reset\">Forgot my password</a>");
    b.submit("/reset", "/reset", &[("username", username)])
        .await
        .redirects_to("/reset/verify");
    b
}

/// Chooses the gate `method` on the gate page; answers the page that asks for it.
pub(crate) async fn choose(b: &Browser, method: &str) -> Resp {
    let r = b
        .submit(
            "/reset/verify",
            "/reset/challenge",
            &[("method_id", method)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    let to = r.location.clone().unwrap();
    assert!(
        to.starts_with(&format!("/reset/verify?method={method}")),
        "{to}"
    );
    b.get(&to).await
}

/// Types the new password and its confirmation on `/reset/password`; answers the page.
pub(crate) async fn choose_password(b: &Browser, new: &str, confirm: &str) -> Resp {
    b.submit(
        "/reset/password",
        "/reset/password",
        &[("new_password", new), ("confirm_password", confirm)],
    )
    .await
}

#[tokio::test]
async fn a_password_is_reset_through_the_pages() {
    each_backend(|h: Harness| async move {
        let (_, method, secret) = h.enrolled_user(&h.client(), "alice@example.org").await;
        let b = to_the_gates(&h, "alice@example.org").await;
        b.get("/reset/verify")
            .await
            .shows(200, "Verification step 1 of 1")
            .shows(200, "Authenticator app or hardware token");
        b.get("/reset/password").await.redirects_to("/reset/verify");

        let page = choose(&b, &method).await;
        page.shows(200, "Enter the code from");
        let action = format!("/reset/verify?method={method}");
        b.submit(
            &action,
            "/reset/verify",
            &[("method_id", &method), ("code", &h.wrong_code(&secret))],
        )
        .await
        .shows(400, "That code isn&#39;t right");
        b.submit(
            &action,
            "/reset/verify",
            &[("method_id", &method), ("code", &h.code(&secret, 0))],
        )
        .await
        .redirects_to("/reset/password");

        choose_password(&b, NEW_PASSWORD, "something else")
            .await
            .shows(400, "The two passwords don&#39;t match.");
        choose_password(&b, "password", "password")
            .await
            .shows(400, "too common");
        let r = choose_password(&b, NEW_PASSWORD, NEW_PASSWORD).await;
        r.redirects_to("/reset/done");
        assert!(
            r.cookie("tessera_reset").contains("Max-Age=0"),
            "the browser forgets the reset"
        );
        b.get("/reset/done")
            .await
            .shows(200, "Your password was reset")
            .shows(200, "signed out everywhere");
        b.get("/reset/verify")
            .await
            .redirects_to("/reset?notice=expired");

        let signed = b
            .submit(
                "/sign-in",
                "/sign-in",
                &[
                    ("username", "alice@example.org"),
                    ("password", NEW_PASSWORD),
                ],
            )
            .await;
        signed.redirects_to("/sign-in/verify");
    })
    .await;
}

#[tokio::test]
async fn an_unknown_name_walks_the_same_pages() {
    each_backend(|h: Harness| async move {
        h.enrolled_user(&h.client(), "bob@example.org").await;
        let mut pages = Vec::new();
        for username in ["bob@example.org", "nobody@example.org"] {
            let b = to_the_gates(&h, username).await;
            let gates = b.get("/reset/verify").await;
            gates.shows(200, "Verification step 1 of 1");
            let method = gates.field("method_id");
            let page = choose(&b, &method).await;
            assert_eq!(page.status, 200);
            let action = format!("/reset/verify?method={method}");
            let wrong = b
                .submit(
                    &action,
                    "/reset/verify",
                    &[("method_id", &method), ("code", "000000")],
                )
                .await;
            wrong.shows(400, "isn&#39;t right");
            b.get("/reset/password").await.redirects_to("/reset/verify");
            pages.push((gates.html.contains("<form"), wrong.status));
        }
        assert_eq!(pages[0], pages[1]);
    })
    .await;
}

#[tokio::test]
async fn questions_and_recovery_codes_are_set_up_on_the_pages_and_serve_a_reset() {
    each_backend(|h: Harness| async move {
        h.set_policy(
            "reset_kinds",
            "authenticator_code,recovery_codes,security_questions",
        )
        .await;
        h.set_policy("security_questions_to_register", "3").await;
        let (b, _, _) = signed_in(&h, "carol@example.org").await;
        b.get("/security-info/add")
            .await
            .shows(200, "Security questions")
            .shows(200, "Recovery codes");

        const ADD: &str = "/security-info/add/security-questions";
        let form = b.get(ADD).await;
        form.shows(200, "Choose 3 questions")
            .shows(200, "What was the name of your first pet?");
        let fields = [
            ("question-0", "first-pet"),
            ("answer-0", "Rex"),
            ("question-1", "first-school"),
            ("answer-1", "De Regenboog"),
            ("question-2", "first-pet"),
            ("answer-2", "Nijntje"),
        ];
        b.submit(ADD, ADD, &fields)
            .await
            .shows(400, "each one must be different");
        let mut fields = fields;
        fields[4] = ("question-2", "first-book");
        b.submit(ADD, ADD, &fields)
            .await
            .redirects_to("/security-info?done=added-reset");
        // Questions are for password reset alone, and the page says so (issue #13).
        let info = b.get("/security-info?done=added-reset").await;
        info.shows(200, "Your password reset method was added.")
            .shows(200, "Password reset only");
        assert!(!info.html.contains("Your sign-in method was added"));

        const CODES: &str = "/security-info/add/recovery-codes";
        b.get(CODES).await.shows(200, "Make recovery codes");
        let r = b.submit(CODES, CODES, &[]).await;
        r.shows(200, "shown only this once");
        assert_eq!(r.headers["cache-control"], "no-store");
        let codes: Vec<String> = r
            .html
            .split("<code>")
            .skip(1)
            .map(|s| s[..s.find('<').unwrap()].to_string())
            .collect();
        assert_eq!(codes.len(), 10);
        let mut fields: Vec<(&str, &str)> = codes.iter().map(|c| ("code", c.as_str())).collect();
        fields.push(("code", "<b>not a code</b>"));
        let file = b
            .submit(CODES, "/security-info/recovery-codes/download", &fields)
            .await;
        assert_eq!(file.status, 200);
        assert!(
            file.headers["content-disposition"]
                .to_str()
                .unwrap()
                .contains("recovery-codes.txt")
        );
        assert!(file.html.contains(&codes[9]) && file.html.contains("carol@example.org"));
        assert!(!file.html.contains("not a code"));
        b.get(CODES).await.shows(200, "10 of 10 codes left");

        // A reset with the questions, answered however typed.
        let r = to_the_gates(&h, "carol@example.org").await;
        let gates = r.get("/reset/verify").await;
        let questions = gates
            .html
            .split("name=\"method_id\" value=\"")
            .skip(1)
            .map(|s| s[..s.find('"').unwrap()].to_string())
            .collect::<Vec<_>>();
        assert_eq!(questions.len(), 3, "three gates to choose from");
        let mut sq = String::new();
        for m in &questions {
            if kind_of(&h, m).await == "security_questions" {
                sq = m.clone();
            }
        }
        let page = choose(&r, &sq).await;
        page.shows(200, "Answer these questions");
        let action = format!("/reset/verify?method={sq}");
        let answers = [
            ("answer-first-pet", " REX "),
            ("answer-first-school", "de   regenboog"),
            ("answer-first-book", "nijntje"),
        ];
        let mut fields = vec![("method_id", sq.as_str())];
        fields.extend(answers);
        r.submit(&action, "/reset/verify", &fields)
            .await
            .redirects_to("/reset/password");

        // Using codes: the security info page urges a new set when few are left.
        for code in codes.iter().take(7) {
            let body = h.api_sign_in(&h.client(), "carol@example.org").await;
            let flow = body["flow"].as_str().unwrap();
            let method = body["methods"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["kind"] == "recovery_codes")
                .unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string();
            let (status, _) = h
                .post(
                    &h.client(),
                    &format!("/api/v1/sign-in/{flow}/verify"),
                    None,
                    json!({"method_id": method, "code": code}),
                )
                .await;
            assert_eq!(status, 200);
        }
        b.get("/security-info")
            .await
            .shows(200, "Recovery codes left: 3.")
            .shows(200, "href=\"/security-info/add/recovery-codes\"");
    })
    .await;
}

/// The kind of a method, read from the store.
async fn kind_of(h: &Harness, method: &str) -> String {
    let method = h
        .store()
        .method(method.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    method.kind.as_str().to_string()
}

#[tokio::test]
async fn the_interrupt_can_be_skipped_as_often_as_allowed() {
    each_backend(|h: Harness| async move {
        h.set_policy("registration_skips", "1").await;
        h.add_user("dave@example.org").await;
        let b = Browser::new(&h);
        b.password("dave@example.org")
            .await
            .redirects_to("/sign-in/register");
        b.get("/sign-in/register")
            .await
            .shows(200, "Skips left: 1.")
            .shows(200, "Skip for now");
        b.submit("/sign-in/register", "/sign-in/register/skip", &[])
            .await
            .redirects_to("/security-info");
        b.get("/security-info").await.shows(200, "My security info");

        let b = Browser::new(&h);
        b.password("dave@example.org")
            .await
            .redirects_to("/sign-in/register");
        let page = b.get("/sign-in/register").await;
        assert!(!page.html.contains("Skip for now"), "no skips left");
    })
    .await;
}

/// An admin signed in on the pages.
pub async fn admin_browser(h: &Harness, username: &str) -> Browser {
    h.tessera()
        .local_admin()
        .create_account(NewAccount {
            username: username.into(),
            display_name: None,
            password: Zeroizing::new(PASSWORD.into()),
            is_admin: true,
            email: None,
        })
        .await
        .unwrap();
    let c = h.client();
    let body = h.api_sign_in(&c, username).await;
    let (token, flow) = (
        body["session"].as_str().unwrap(),
        body["flow"].as_str().unwrap(),
    );
    let (id, secret) = h.add_code_method(&c, token).await;
    h.post(
        &c,
        &format!("/api/v1/me/security-info/methods/{id}/verify"),
        Some(token),
        json!({"code": h.code(&secret, 0)}),
    )
    .await;
    h.get(&c, &format!("/api/v1/sign-in/{flow}"), Some(token))
        .await;
    h.advance(30);
    let b = Browser::new(h);
    b.sign_in(username, &secret).await;
    b
}

/// The form fields a browser would post for `policy`, as shown.
fn policy_fields(policy: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (key, value) in policy.as_object().unwrap() {
        match value {
            Value::Bool(true) => out.push((key.clone(), "true".into())),
            Value::Bool(false) => {}
            Value::Number(n) => out.push((key.clone(), n.to_string())),
            Value::Array(items) if key.ends_with("_kinds") => out.extend(
                items
                    .iter()
                    .map(|i| (key.clone(), i.as_str().unwrap().to_string())),
            ),
            Value::Array(items) => out.push((
                key.clone(),
                items
                    .iter()
                    .map(|i| i.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(","),
            )),
            other => out.push((key.clone(), other.as_str().unwrap_or_default().to_string())),
        }
    }
    out
}

#[tokio::test]
async fn the_admin_policy_page() {
    each_backend(|h: Harness| async move {
        let (person, _, _) = signed_in(&h, "erin@example.org").await;
        person.get("/admin/policy").await.shows(403, "administrators");
        let b = admin_browser(&h, "root@example.org").await;
        let page = b.get("/admin/policy").await;
        page.shows(200, "Password reset")
            .shows(200, "Methods needed to reset a password")
            .shows(200, "NIST and OWASP advise against security questions");
        assert!(!page.html.contains("Security questions are on."));

        let current = serde_json::to_value(h.tessera().policy().await.unwrap()).unwrap();
        let mut fields = policy_fields(&current);
        fields.push(("reset_kinds".into(), "security_questions".into()));
        fields.retain(|(k, _)| k != "lockout_threshold");
        fields.push(("lockout_threshold".into(), "1000".into()));
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        b.submit("/admin/policy", "/admin/policy", &refs)
            .await
            .shows(400, "choose from 1 to 100");
        assert!(!h.tessera().policy().await.unwrap().allows_reset(tessera_core::Kind::SecurityQuestions));

        fields.retain(|(k, _)| k != "lockout_threshold");
        fields.push(("lockout_threshold".into(), "5".into()));
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        b.submit("/admin/policy", "/admin/policy", &refs)
            .await
            .redirects_to("/admin/policy?done=saved");
        b.get("/admin/policy?done=saved")
            .await
            .shows(200, "The policy was saved.")
            .shows(200, "Security questions are on. NIST SP 800-63B and OWASP ASVS 5.0 (6.4.2) advise against them");
        let saved = h.tessera().policy().await.unwrap();
        assert_eq!(saved.lockout_threshold, 5);
        assert!(saved.allows_reset(tessera_core::Kind::SecurityQuestions));
        assert_eq!(serde_json::to_value(&saved.mfa_kinds).unwrap(), current["mfa_kinds"], "the rest kept");

        b.submit(
            "/admin/policy",
            "/admin/policy/questions",
            &[("en", "What was your first team's mascot?"), ("nl", "")],
        )
        .await
        .redirects_to("/admin/policy?done=question-added#questions");
        let page = b.get("/admin/policy").await;
        page.shows(200, "What was your first team&#39;s mascot?");
        let id = h.tessera().custom_questions().await.unwrap()[0].id.clone();
        b.submit("/admin/policy", &format!("/admin/policy/questions/{id}/retire"), &[])
            .await
            .redirects_to("/admin/policy?done=question-retired#questions");
        b.get("/admin/policy").await.shows(200, "Retired");
    })
    .await;
}
