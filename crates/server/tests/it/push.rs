//! Notifications with number matching over the device API, with a device in the test: the
//! wake-up POST, step-up and password reset by notification, the limit on requests, and the
//! pages that show the number and wait.

use crate::common::{Harness, each_backend};
use crate::web::browser::Browser;
use data_encoding::BASE64URL_NOPAD;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};
use std::time::Duration;
use tessera_core::Clock;
use tessera_core::method::authenticator_app::{Decision, activation_message, answer_message};
use tokio::sync::mpsc;

/// An authenticator app, as the protocol sees it.
pub(crate) struct Device {
    pub(crate) key: SigningKey,
    pub(crate) credential: String,
}

impl Device {
    /// Activates with `code`; the device and the activation's answer.
    pub(crate) async fn activate(
        h: &Harness,
        code: &str,
        wakeup_url: Option<&str>,
    ) -> (Device, Value) {
        let key =
            SigningKey::from_bytes(&tessera_core::random::bytes::<32>(&tessera_core::OsRandom));
        let body = json!({
            "code": code,
            "algorithm": "ed25519",
            "public_key": BASE64URL_NOPAD.encode(&key.verifying_key().to_bytes()),
            "proof": BASE64URL_NOPAD.encode(&key.sign(&activation_message(code)).to_bytes()),
            "device_name": "Test device",
            "wakeup_url": wakeup_url,
        });
        let (status, done) = h
            .post(&h.client(), "/api/v1/device/activate", None, body)
            .await;
        assert_eq!(status, 201, "{done}");
        let device = Device {
            key,
            credential: done["credential"].as_str().unwrap().to_string(),
        };
        (device, done)
    }

    pub(crate) async fn pending(&self, h: &Harness) -> Vec<Value> {
        let (status, body) = h
            .get(
                &h.client(),
                "/api/v1/device/requests",
                Some(&self.credential),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["requests"].as_array().unwrap().clone()
    }

    pub(crate) async fn only(&self, h: &Harness) -> String {
        let pending = self.pending(h).await;
        assert_eq!(pending.len(), 1, "{pending:?}");
        pending[0]["id"].as_str().unwrap().to_string()
    }

    async fn answer(
        &self,
        h: &Harness,
        id: &str,
        decision: Decision,
        number: Option<u64>,
    ) -> (u16, Value) {
        let at = h.clock().now().unix_timestamp();
        let number = number.map(|n| n as u8);
        let message = answer_message(id.parse().unwrap(), decision, number, at);
        let body = json!({
            "decision": decision.as_str(),
            "number": number,
            "signed_at": at,
            "signature": BASE64URL_NOPAD.encode(&self.key.sign(&message).to_bytes()),
        });
        let path = format!("/api/v1/device/requests/{id}/answer");
        h.post(&h.client(), &path, Some(&self.credential), body)
            .await
    }

    pub(crate) async fn approve(&self, h: &Harness, id: &str, number: u64) {
        let (status, body) = self.answer(h, id, Decision::Approve, Some(number)).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("approved")),
            "{body}"
        );
    }
}

/// A person with the app activated (and the test approved); their full session, the method
/// and the device.
pub(crate) async fn enrolled(
    h: &Harness,
    username: &str,
    wakeup_url: Option<&str>,
) -> (String, String, Device) {
    let c = h.client();
    h.add_user(username).await;
    let body = h.api_sign_in(&c, username).await;
    let token = body["session"].as_str().unwrap().to_string();
    let flow = body["flow"].as_str().unwrap().to_string();
    let (status, added) = h
        .post(
            &c,
            "/api/v1/me/security-info/methods",
            Some(&token),
            json!({"kind": "authenticator_app"}),
        )
        .await;
    assert_eq!(status, 201, "{added}");
    let method = added["id"].as_str().unwrap().to_string();
    let code = added["activation"]["code"].as_str().unwrap();
    let (device, _) = Device::activate(h, code, wakeup_url).await;
    let activation = format!("/api/v1/me/security-info/methods/{method}/activation");
    let (_, state) = h.get(&c, &activation, Some(&token)).await;
    let number = state["test_notification"]["number"].as_u64().unwrap();
    device.approve(h, &device.only(h).await, number).await;
    let (_, done) = h
        .get(&c, &format!("/api/v1/sign-in/{flow}"), Some(&token))
        .await;
    assert_eq!(done["status"], "signed_in", "{done}");
    (
        done["session"].as_str().unwrap().to_string(),
        method,
        device,
    )
}

/// A push endpoint in the test: what was POSTed to it.
async fn push_endpoint() -> (String, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/up/device",
        axum::routing::post(move |body: String| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(body);
                axum::http::StatusCode::CREATED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/up/device"), rx)
}

async fn next(posted: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(60), posted.recv())
        .await
        .expect("a wake-up within a minute")
        .expect("the endpoint runs")
}

#[tokio::test]
async fn a_device_that_asked_is_woken_by_a_post_that_tells_nothing() {
    each_backend(|h: Harness| async move {
        let (url, mut posted) = push_endpoint().await;
        // The test notification sent at activation is the first wake-up.
        let (_, _, device) = enrolled(&h, "wanda@example.org", Some(&url)).await;
        assert_eq!(next(&mut posted).await, r#"{"tessera":"wake"}"#);
        let c = h.client();
        let body = h.api_sign_in(&c, "wanda@example.org").await;
        let flow = body["flow"].as_str().unwrap();
        let (_, challenge) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/challenge"),
                None,
                json!({"method_id": body["default_method"]}),
            )
            .await;
        let woken = next(&mut posted).await;
        assert_eq!(
            woken, r#"{"tessera":"wake"}"#,
            "nothing of the request: {challenge}"
        );
        assert_eq!(device.pending(&h).await.len(), 1);
        // Forgetting the URL stops the wake-ups; the request still waits for the device.
        let (status, _) = h
            .put(
                &c,
                "/api/v1/device/wakeup",
                &device.credential,
                json!({"url": null}),
            )
            .await;
        assert_eq!(status, 204);
        let (status, refused) = h
            .put(
                &c,
                "/api/v1/device/wakeup",
                &device.credential,
                json!({"url": "http://push.example.org/up"}),
            )
            .await;
        assert_eq!(
            (status, refused["field"].as_str()),
            (400, Some("wakeup_url")),
            "{refused}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_notification_steps_up_a_session_for_a_change() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (session, method, device) = enrolled(&h, "xavier@example.org", None).await;
        h.advance(601);
        let path = format!("/api/v1/me/security-info/methods/{method}");
        let (status, body) = h.delete(&c, &path, &session).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("step_up_required")),
            "{body}"
        );
        let (status, challenge) = h
            .post(
                &c,
                "/api/v1/me/step-up",
                Some(&session),
                json!({"method_id": method}),
            )
            .await;
        assert_eq!(status, 200, "{challenge}");
        let number = challenge["number"].as_u64().unwrap();
        let (_, state) = h.get(&c, "/api/v1/me/step-up/push", Some(&session)).await;
        assert_eq!(
            (state["status"].as_str(), state["number"].as_u64()),
            (Some("pending"), Some(number))
        );
        let pending = device.pending(&h).await;
        assert_eq!(pending[0]["purpose"], "step_up");
        device
            .approve(&h, pending[0]["id"].as_str().unwrap(), number)
            .await;
        let (_, state) = h
            .get(&c, "/api/v1/me/step-up/push?wait=5", Some(&session))
            .await;
        assert_eq!(state["status"], "approved");
        let (status, body) = h.delete(&c, &path, &session).await;
        assert_eq!(status, 204, "{body}");
    })
    .await;
}

#[tokio::test]
async fn too_many_notifications_in_a_few_minutes_are_refused() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        enrolled(&h, "yvonne@example.org", None).await;
        h.set_policy("push_requests_max", "3").await;
        h.advance(301);
        let body = h.api_sign_in(&c, "yvonne@example.org").await;
        let flow = body["flow"].as_str().unwrap();
        let challenge = format!("/api/v1/sign-in/{flow}/challenge");
        let method = json!({"method_id": body["default_method"]});
        for _ in 0..3 {
            let (status, sent) = h.post(&c, &challenge, None, method.clone()).await;
            assert_eq!(status, 200, "{sent}");
        }
        let (status, refused) = h.post(&c, &challenge, None, method.clone()).await;
        assert_eq!(
            (status, refused["error"].as_str()),
            (429, Some("rate_limited")),
            "{refused}"
        );
        assert!(refused["retry_after"].as_u64().unwrap() <= 300);
        h.advance(301);
        let (status, _) = h.post(&c, &challenge, None, method).await;
        assert_eq!(status, 200, "the window moves on");
    })
    .await;
}

#[tokio::test]
async fn an_approved_notification_passes_a_password_reset_gate() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, method, device) = enrolled(&h, "zoe@example.org", None).await;
        let (status, reset) = h
            .post(
                &c,
                "/api/v1/reset",
                None,
                json!({"username": "zoe@example.org"}),
            )
            .await;
        assert_eq!(status, 200, "{reset}");
        let flow = reset["flow"].as_str().unwrap();
        let (status, challenge) = h
            .post(
                &c,
                &format!("/api/v1/reset/{flow}/challenge"),
                None,
                json!({"method_id": method}),
            )
            .await;
        assert_eq!(status, 200, "{challenge}");
        let pending = device.pending(&h).await;
        assert_eq!(pending[0]["purpose"], "reset");
        device
            .approve(
                &h,
                pending[0]["id"].as_str().unwrap(),
                challenge["number"].as_u64().unwrap(),
            )
            .await;
        let (_, view) = h.get(&c, &format!("/api/v1/reset/{flow}"), None).await;
        assert_eq!(view["gates_passed"], 1, "{view}");
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/reset/{flow}/password"),
                None,
                json!({"new_password": "a brand new passphrase 7"}),
            )
            .await;
        assert_eq!(status, 204, "{body}");
    })
    .await;
}

#[tokio::test]
async fn a_strangers_resets_do_not_use_up_the_sign_in_notifications() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, method, _device) = enrolled(&h, "quinn@example.org", None).await;
        h.set_policy("push_requests_max", "3").await;
        h.advance(301);
        // Resets notify the app up to their own budget, then are refused.
        for attempt in 1..=4 {
            let (status, reset) = h
                .post(
                    &c,
                    "/api/v1/reset",
                    None,
                    json!({"username": "quinn@example.org"}),
                )
                .await;
            assert_eq!(status, 200, "{reset}");
            let flow = reset["flow"].as_str().unwrap();
            let (status, body) = h
                .post(
                    &c,
                    &format!("/api/v1/reset/{flow}/challenge"),
                    None,
                    json!({"method_id": method}),
                )
                .await;
            match attempt {
                1..=3 => assert_eq!(status, 200, "{body}"),
                _ => assert_eq!(
                    (status, body["error"].as_str()),
                    (429, Some("rate_limited")),
                    "{body}"
                ),
            }
        }
        // The person's own sign-in notification still goes out.
        let body = h.api_sign_in(&c, "quinn@example.org").await;
        let flow = body["flow"].as_str().unwrap();
        let (status, sent) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/challenge"),
                None,
                json!({"method_id": body["default_method"]}),
            )
            .await;
        assert_eq!(status, 200, "{sent}");
    })
    .await;
}

/// The number a notification page shows.
pub(crate) fn shown_number(html: &str) -> u64 {
    let marker = "class=\"push-number\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no number on:\n{html}"));
    let rest = &html[start..];
    let rest = &rest[rest.find('>').unwrap() + 1..];
    rest[..rest.find('<').unwrap()].trim().parse().unwrap()
}

#[tokio::test]
async fn the_sign_in_page_shows_the_number_and_signs_in_once_approved() {
    each_backend(|h: Harness| async move {
        let (_, _, device) = enrolled(&h, "amir@example.org", None).await;
        let b = Browser::new(&h);
        b.password("amir@example.org")
            .await
            .redirects_to("/sign-in/verify");
        let verify = b.get("/sign-in/verify").await;
        assert_eq!(verify.status, 303);
        let page_path = verify.location.clone().unwrap();
        assert!(
            page_path.starts_with("/sign-in/notification?method="),
            "{page_path}"
        );
        let page = b.get(&page_path).await;
        page.shows(200, "data-push-status=\"/sign-in/notification/status\"")
            .shows(200, "/static/push.js?v=");
        let number = shown_number(&page.html);
        // A reload shows the same request: nothing new is sent.
        assert_eq!(shown_number(&b.get(&page_path).await.html), number);
        assert_eq!(device.pending(&h).await.len(), 1);
        let status = b.get("/sign-in/notification/status").await;
        assert_eq!(status.html, r#"{"state":"pending"}"#);

        device.approve(&h, &device.only(&h).await, number).await;
        let status = b.get("/sign-in/notification/status?wait=5").await;
        assert_eq!(status.html, r#"{"state":"approved"}"#);
        let done = b.get(&page_path).await;
        done.redirects_to("/security-info");
        done.cookie("tessera_session");
        b.get("/security-info").await.shows(200, "amir@example.org");
        let script = b.get("/static/push.js").await;
        assert_eq!(script.status, 200);
    })
    .await;
}

#[tokio::test]
async fn a_denied_sign_in_says_so_and_the_code_can_be_typed_instead() {
    each_backend(|h: Harness| async move {
        let (_, _, device) = enrolled(&h, "bea@example.org", None).await;
        let b = Browser::new(&h);
        b.password("bea@example.org").await;
        let page_path = b.get("/sign-in/verify").await.location.unwrap();
        b.get(&page_path).await;
        let (status, _) = device
            .answer(&h, &device.only(&h).await, Decision::Deny, None)
            .await;
        assert_eq!(status, 200);
        let page = b.get(&page_path).await;
        page.shows(200, "The request was denied in the app.")
            .shows(200, "<h1>Sign-in denied</h1>");
        assert!(
            !page.html.contains("Approve sign-in request"),
            "{}",
            page.html
        );

        // Next time, a wrong number ends the request; the page offers another, or the code.
        b.password("bea@example.org").await;
        let page = b.get(&page_path).await;
        let number = shown_number(&page.html);
        let wrong = number % 89 + 11;
        let (status, body) = device
            .answer(&h, &device.only(&h).await, Decision::Approve, Some(wrong))
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_code")),
            "{body}"
        );
        let page = b.get(&page_path).await;
        page.shows(200, "didn&#39;t match")
            .shows(200, "Send another request")
            .shows(200, "Use a verification code instead");
        let method = page.field("method_id");
        let csrf = page.csrf();
        b.post(
            "/sign-in/notification",
            &[
                ("csrf", &csrf),
                ("method_id", &method),
                ("action", "resend"),
            ],
        )
        .await
        .redirects_to(&page_path);
        let number = shown_number(&b.get(&page_path).await.html);
        assert!((10..=99).contains(&number));
        let wrong_code = b
            .post(
                "/sign-in/notification",
                &[
                    ("csrf", &csrf),
                    ("method_id", &method),
                    ("action", "code"),
                    ("code", "000000"),
                ],
            )
            .await;
        wrong_code.shows(400, "That code isn&#39;t right");
    })
    .await;
}

#[tokio::test]
async fn the_app_is_added_on_the_pages_with_its_qr_code_and_test_notification() {
    each_backend(|h: Harness| async move {
        h.add_user("cleo@example.org").await;
        let b = Browser::new(&h);
        b.password("cleo@example.org")
            .await
            .redirects_to("/sign-in/register");
        b.get("/security-info/add")
            .await
            .shows(200, "/security-info/add/authenticator-app");
        const ADD: &str = "/security-info/add/authenticator-app";
        b.get(ADD)
            .await
            .shows(200, "I want to use a different authenticator app");
        let r = b.submit(ADD, ADD, &[("name", "")]).await;
        let page_path = r.location.clone().unwrap();
        assert!(
            page_path.starts_with("/security-info/authenticator-apps/"),
            "{page_path}"
        );
        let page = b.get(&page_path).await;
        page.shows(200, "Set up your account")
            .shows(200, "<svg")
            .shows(200, "Can&#39;t scan the QR code?");
        let code = page.text_of("activation-code");
        assert_eq!(page.text_of("activation-url"), h.origin());
        let status_path = format!("{page_path}/status");
        assert_eq!(
            b.get(&status_path).await.html,
            r#"{"state":"waiting_for_device"}"#
        );

        let (device, _) = Device::activate(&h, &code, None).await;
        let page = b.get(&page_path).await;
        page.shows(200, "Test device");
        let number = shown_number(&page.html);
        device.approve(&h, &device.only(&h).await, number).await;
        assert_eq!(b.get(&status_path).await.html, r#"{"state":"active"}"#);
        // Back to the registration wizard, which offers a backup next; Done signs in.
        b.get(&page_path).await.redirects_to("/sign-in/register");
        b.get("/sign-in/register")
            .await
            .shows(200, "Step 2 of 2")
            .shows(200, "Add a backup method");
        b.finish_registration().await;
        b.get("/security-info")
            .await
            .shows(200, "My security info")
            .shows(200, "Test device");
        // Dutch pages say the same.
        let nl =
            b.c.get(h.url(ADD))
                .header("accept-language", "nl")
                .send()
                .await
                .unwrap();
        assert!(
            nl.text()
                .await
                .unwrap()
                .contains("Ik wil een andere authenticator-app gebruiken")
        );
    })
    .await;
}
