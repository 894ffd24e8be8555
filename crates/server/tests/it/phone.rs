//! Phones and email over real gateways: texts and calls through the fake gateway (webhook and
//! Twilio shapes, keypress callbacks included), email through the SMTP server; the code that
//! arrives is the one that verifies.

use crate::common::{Harness, each_backend_with};
use crate::gateway::{Plan, gateway, with_twilio, with_webhook};
use serde_json::{Value, json};
use tessera_core::message::MessageStatus;

/// A Dutch mobile number no other test uses: (as typed, E.164).
pub(crate) fn mobile() -> (String, String) {
    let n = uuid::Uuid::new_v4().as_u128() % 10_000_000;
    (format!("06 1{n:07}"), format!("+3161{n:07}"))
}

pub(crate) fn address() -> String {
    format!("u{}@example.org", uuid::Uuid::new_v4().simple())
}

/// A new person at the registration interrupt: (registration token, flow).
pub(crate) async fn interrupted(
    h: &Harness,
    c: &reqwest::Client,
    username: &str,
) -> (String, String) {
    h.add_user(username).await;
    let body = h.api_sign_in(c, username).await;
    assert_eq!(body["status"], "registration_required", "{body}");
    (
        body["session"].as_str().unwrap().into(),
        body["flow"].as_str().unwrap().into(),
    )
}

pub(crate) async fn add(
    h: &Harness,
    c: &reqwest::Client,
    token: &str,
    body: Value,
) -> (u16, Value) {
    h.post(c, "/api/v1/me/security-info/methods", Some(token), body)
        .await
}

/// Adds a Dutch mobile, which texts its code; answers (method id, E.164 number).
pub(crate) async fn add_mobile(h: &Harness, c: &reqwest::Client, token: &str) -> (String, String) {
    let (typed, e164) = mobile();
    let (status, body) = add(
        h,
        c,
        token,
        json!({"kind": "phone_mobile", "country": "NL", "number": typed}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    (body["id"].as_str().unwrap().to_string(), e164)
}

pub(crate) async fn verify(
    h: &Harness,
    c: &reqwest::Client,
    token: &str,
    id: &str,
    code: &str,
) -> (u16, Value) {
    h.post(
        c,
        &format!("/api/v1/me/security-info/methods/{id}/verify"),
        Some(token),
        json!({"code": code}),
    )
    .await
}

pub(crate) async fn resend(
    h: &Harness,
    c: &reqwest::Client,
    token: &str,
    id: &str,
) -> (u16, Value) {
    h.post(
        c,
        &format!("/api/v1/me/security-info/methods/{id}/resend"),
        Some(token),
        json!({}),
    )
    .await
}

/// A person with an active mobile phone (registered at the interrupt): (token, method id,
/// E.164 number).
pub(crate) async fn with_phone(
    h: &Harness,
    c: &reqwest::Client,
    username: &str,
) -> (String, String, String) {
    let (token, flow) = interrupted(h, c, username).await;
    let (typed, e164) = mobile();
    let (status, body) = add(
        h,
        c,
        &token,
        json!({"kind": "phone_mobile", "country": "NL", "number": typed}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let code = gateway().nth(&e164, 1).await.code.unwrap();
    let (status, body) = verify(h, c, &token, &id, &code).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("active")),
        "{body}"
    );
    let (_, body) = h
        .get(c, &format!("/api/v1/sign-in/{flow}"), Some(&token))
        .await;
    assert_eq!(body["status"], "signed_in", "{body}");
    (body["session"].as_str().unwrap().to_string(), id, e164)
}

/// Waits until the message to `to` has been tried `attempts` times (or reached `status`).
pub(crate) async fn tried(h: &Harness, to: &str, attempts: u32, status: MessageStatus) {
    for _ in 0..500 {
        let messages = h.store().recent_messages(1000).await.unwrap();
        if messages
            .iter()
            .any(|m| m.to == to && m.attempts >= attempts && m.status == status)
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the message to {to} was never tried {attempts} times");
}

#[tokio::test]
async fn registration_and_sign_in_by_text() {
    each_backend_with(with_webhook, |h: Harness| async move {
        let c = h.client();
        let (token, flow) = interrupted(&h, &c, "tara@example.org").await;
        let (typed, e164) = mobile();
        let (status, body) = add(
            &h,
            &c,
            &token,
            json!({"kind": "phone_mobile", "country": "NL", "number": typed}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["delivery"], "sms");
        let masked = format!("+31 6•••••{}", &e164[e164.len() - 2..]);
        assert_eq!(body["sent_to"], masked.as_str());
        let id = body["id"].as_str().unwrap();
        let text = gateway().nth(&e164, 1).await;
        assert_eq!(text.channel, "sms");
        assert!(text.text.contains("Example Org"), "{}", text.text);
        let code = text.code.unwrap();
        let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
        let (status, body) = verify(&h, &c, &token, id, &wrong).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_code"))
        );
        let (status, body) = verify(&h, &c, &token, id, &code).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("active")),
            "{body}"
        );
        let (_, body) = h
            .get(&c, &format!("/api/v1/sign-in/{flow}"), Some(&token))
            .await;
        assert_eq!(body["status"], "signed_in", "{body}");

        let body = h.api_sign_in(&c, "tara@example.org").await;
        assert_eq!(body["status"], "mfa_required", "{body}");
        assert_eq!(body["default_method"], id);
        assert_eq!(
            body["methods"][0]["label"],
            masked.as_str(),
            "labels mask the number"
        );
        let flow = body["flow"].as_str().unwrap();
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/challenge"),
                None,
                json!({"method_id": id}),
            )
            .await;
        assert_eq!(
            (status, body["sent_to"].as_str()),
            (200, Some(masked.as_str())),
            "{body}"
        );
        let code = gateway().nth(&e164, 2).await.code.unwrap();
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/verify"),
                None,
                json!({"method_id": id, "code": code}),
            )
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("signed_in")),
            "{body}"
        );
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/verify"),
                None,
                json!({"method_id": id, "code": code}),
            )
            .await;
        assert_eq!(
            status, 410,
            "a used code and a completed flow are over: {body}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_call_answered_with_pound_signs_in_and_registers() {
    each_backend_with(with_twilio, |h: Harness| async move {
        let c = h.client();
        let (token, mobile_id, mobile_e164) = with_phone(&h, &c, "carl@example.org").await;
        assert_eq!(gateway().received(&mobile_e164)[0].channel, "sms");

        // An alternate phone is proven by a call answered with #: it activates by itself.
        let (typed, alternate) = mobile();
        let (status, body) = add(
            &h,
            &c,
            &token,
            json!({"kind": "phone_alternate", "country": "NL", "number": typed}),
        )
        .await;
        assert_eq!(
            (status, body["delivery"].as_str()),
            (201, Some("voice")),
            "{body}"
        );
        let id = body["id"].as_str().unwrap().to_string();
        let call = gateway().nth(&alternate, 1).await;
        assert_eq!(call.channel, "voice");
        assert!(call.text.contains("pound"), "{}", call.text);
        let mut active = false;
        for _ in 0..250 {
            let (_, info) = h.get(&c, "/api/v1/me/security-info", Some(&token)).await;
            let methods = info["methods"].as_array().unwrap();
            if methods
                .iter()
                .any(|m| m["id"] == id.as_str() && m["status"] == "active")
            {
                active = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(active, "the call's # activated the alternate phone");
        // A phone-only account hears of it by text, on the other phone.
        let note = gateway().nth(&mobile_e164, 2).await;
        assert!(note.text.contains("added"), "{}", note.text);

        // Signing in with "Call me" on the mobile: the # completes the flow out of band.
        let body = h.api_sign_in(&c, "carl@example.org").await;
        let flow = body["flow"].as_str().unwrap();
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/challenge"),
                None,
                json!({"method_id": mobile_id, "delivery": "call"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(gateway().nth(&mobile_e164, 3).await.channel, "voice");
        let mut session = None;
        for _ in 0..250 {
            let (_, body) = h.get(&c, &format!("/api/v1/sign-in/{flow}"), None).await;
            if body["status"] == "signed_in" {
                session = body["session"].as_str().map(str::to_string);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let session = session.expect("the flow was approved by the call");
        let (status, _) = h.get(&c, "/api/v1/me/security-info", Some(&session)).await;
        assert_eq!(status, 200);

        // A forged callback (wrong signature) changes nothing.
        let body = h.api_sign_in(&c, "carl@example.org").await;
        let flow = body["flow"].as_str().unwrap();
        let response = c
            .post(h.url(
                "/api/v1/delivery/voice/callback?challenge=00000000-0000-0000-0000-000000000000",
            ))
            .header("x-twilio-signature", "forged")
            .form(&[("Digits", "#")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401);
        let (_, body) = h.get(&c, &format!("/api/v1/sign-in/{flow}"), None).await;
        assert_eq!(body["status"], "mfa_required");
    })
    .await;
}

#[tokio::test]
async fn codes_expire_wait_for_the_cool_down_and_die_after_five_wrong_tries() {
    each_backend_with(with_webhook, |h: Harness| async move {
        let c = h.client();
        // Codes live two minutes here (ten by default), well within the pending method's ten.
        h.set_policy("code_secs", "120").await;
        let (token, _) = interrupted(&h, &c, "vera@example.org").await;
        let (id, e164) = add_mobile(&h, &c, &token).await;
        let text = gateway().nth(&e164, 1).await;
        assert!(text.text.contains("valid for 2 minutes"), "{}", text.text);
        let first = text.code.unwrap();

        let (status, body) = resend(&h, &c, &token, &id).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (429, Some("rate_limited")),
            "{body}"
        );
        assert!(body["retry_after"].as_u64().unwrap() <= 60);
        h.advance(61);
        let (status, body) = resend(&h, &c, &token, &id).await;
        assert_eq!(status, 200, "{body}");
        let second = gateway().nth(&e164, 2).await.code.unwrap();
        let (status, body) = verify(&h, &c, &token, &id, &first).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_code")),
            "only the newest code counts; an older one is a wrong try"
        );

        let wrong = format!("{:06}", (second.parse::<u32>().unwrap() + 7) % 1_000_000);
        for _ in 0..4 {
            assert_eq!(verify(&h, &c, &token, &id, &wrong).await.0, 400);
        }
        let (status, body) = verify(&h, &c, &token, &id, &second).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (410, Some("expired")),
            "five wrong tries end a code"
        );

        h.advance(61);
        assert_eq!(resend(&h, &c, &token, &id).await.0, 200);
        let third = gateway().nth(&e164, 3).await.code.unwrap();
        let method = h
            .store()
            .method(id.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            method.failures, 5,
            "a new code does not reset the count of failures"
        );
        h.advance(121);
        let (status, _) = verify(&h, &c, &token, &id, &third).await;
        assert_eq!(status, 410, "a code lives `code_secs`");
        assert_eq!(resend(&h, &c, &token, &id).await.0, 200);
        let fourth = gateway().nth(&e164, 4).await.code.unwrap();
        assert_eq!(verify(&h, &c, &token, &id, &fourth).await.0, 200);
    })
    .await;
}

#[tokio::test]
async fn gateway_errors_and_timeouts_are_retried_and_nothing_is_lost() {
    each_backend_with(with_webhook, |h: Harness| async move {
        let c = h.client();
        for (user, plan) in [
            (
                "five@example.org",
                Plan {
                    fail: 1,
                    ..Plan::default()
                },
            ),
            (
                "slow@example.org",
                Plan {
                    hang: 1,
                    ..Plan::default()
                },
            ),
        ] {
            let (token, _) = interrupted(&h, &c, user).await;
            let (typed, e164) = mobile();
            gateway().plan(&e164, plan);
            let (status, body) = add(
                &h,
                &c,
                &token,
                json!({"kind": "phone_mobile", "country": "NL", "number": typed}),
            )
            .await;
            assert_eq!(
                status, 201,
                "the request never waits for the gateway: {body}"
            );
            let id = body["id"].as_str().unwrap().to_string();
            tried(&h, &e164, 1, MessageStatus::Queued).await;
            assert!(gateway().received(&e164).is_empty());
            h.advance(30);
            let code = gateway().nth(&e164, 1).await.code.unwrap();
            assert_eq!(verify(&h, &c, &token, &id, &code).await.0, 200, "{user}");
        }

        // Failing on every attempt: the person is told to try another way.
        let (token, _) = interrupted(&h, &c, "down@example.org").await;
        let (typed, e164) = mobile();
        gateway().plan(
            &e164,
            Plan {
                fail: 3,
                ..Plan::default()
            },
        );
        let (_, body) = add(
            &h,
            &c,
            &token,
            json!({"kind": "phone_mobile", "country": "NL", "number": typed}),
        )
        .await;
        let id = body["id"].as_str().unwrap().to_string();
        tried(&h, &e164, 1, MessageStatus::Queued).await;
        h.advance(30);
        tried(&h, &e164, 2, MessageStatus::Queued).await;
        h.advance(60);
        tried(&h, &e164, 3, MessageStatus::Failed).await;
        let (status, body) = verify(&h, &c, &token, &id, "123456").await;
        assert_eq!(
            (status, body["error"].as_str()),
            (502, Some("delivery_failed")),
            "{body}"
        );
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("Try another method")
        );
    })
    .await;
}

#[tokio::test]
async fn limits_countries_and_malformed_numbers_are_clear_errors() {
    each_backend_with(with_webhook, |h: Harness| async move {
        let c = h.client();
        let (token, _) = interrupted(&h, &c, "lim@example.org").await;
        for (country, number, field) in [
            ("NL", "12", "number"),
            ("NL", "06 1234", "number"),
            ("ZZ", "0612345678", "country"),
            ("NL", "call me maybe", "number"),
        ] {
            let (status, body) = add(&h, &c, &token, json!({"kind": "phone_mobile", "country": country, "number": number})).await;
            assert_eq!((status, body["field"].as_str()), (400, Some(field)), "{number}: {body}");
        }
        let (status, body) = add(&h, &c, &token, json!({"kind": "email", "address": "not an address"})).await;
        assert_eq!((status, body["field"].as_str()), (400, Some("address")), "{body}");

        // A foreign number in international form is fine, until the allow-list leaves it out.
        let (status, body) = add(&h, &c, &token, json!({"kind": "phone_office", "country": "NL", "number": "+32 2 555 12 12", "extension": "42"})).await;
        assert_eq!(status, 201, "{body}");
        h.set_policy("phone_countries", "NL").await;
        h.advance(6);
        let (status, body) = add(&h, &c, &token, json!({"kind": "phone_mobile", "country": "BE", "number": "0470 12 34 56"})).await;
        assert_eq!((status, body["error"].as_str()), (403, Some("not_allowed")), "{body}");
        assert!(body["message"].as_str().unwrap().contains("country"), "{body}");

        // Per account: the third code in an hour is refused.
        h.set_policy("sends_per_account_hour", "1").await;
        h.advance(6);
        let (typed, e164) = mobile();
        let (status, body) = add(&h, &c, &token, json!({"kind": "phone_mobile", "country": "NL", "number": typed})).await;
        assert_eq!((status, body["error"].as_str()), (429, Some("rate_limited")), "the office phone's call was the first, then {body}");
        assert!(gateway().received(&e164).is_empty());
        let (_, info) = h.get(&c, "/api/v1/me/security-info", Some(&token)).await;
        assert_eq!(info["methods"].as_array().unwrap().len(), 1, "a refused registration leaves nothing behind");
    })
    .await;
}
