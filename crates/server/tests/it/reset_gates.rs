//! Password reset with the gates that travel: a code by email and by text through the real
//! gateways, and a security key answering a WebAuthn challenge. The reset is announced on
//! the person's other channels.

use crate::common::{Harness, each_backend, each_backend_with};
use crate::gateway::{gateway, with_webhook};
use crate::reset::{NEW_PASSWORD, begin, challenge, method_of, new_password, sign_in_with, verify};
use serde_json::json;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};

/// Registers a method that is proven with a code sent to `to`; returns its id.
async fn add_sent(
    h: &Harness,
    c: &reqwest::Client,
    token: &str,
    body: serde_json::Value,
    to: &str,
) -> String {
    let (status, added) = h
        .post(c, "/api/v1/me/security-info/methods", Some(token), body)
        .await;
    assert_eq!(status, 201, "{added}");
    let id = added["id"].as_str().unwrap().to_string();
    let n = gateway().received(to).len().max(1);
    let code = gateway().nth(to, n).await.code.unwrap();
    let (status, body) = h
        .post(
            c,
            &format!("/api/v1/me/security-info/methods/{id}/verify"),
            Some(token),
            json!({"code": code}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    id
}

#[tokio::test]
async fn codes_by_email_and_by_text_are_gates_and_the_reset_is_announced() {
    each_backend_with(with_webhook, |h: Harness| async move {
        let c = h.client();
        let (token, _, _) = h.enrolled_user(&c, "alice@example.org").await;
        let address = format!("u{}@example.org", uuid::Uuid::new_v4().simple());
        let n = uuid::Uuid::new_v4().as_u128() % 10_000_000;
        let (typed, e164) = (format!("06 2{n:07}"), format!("+3162{n:07}"));
        add_sent(
            &h,
            &c,
            &token,
            json!({"kind": "email", "address": address}),
            &address,
        )
        .await;
        add_sent(
            &h,
            &c,
            &token,
            json!({"kind": "phone_mobile", "country": "NL", "number": typed}),
            &e164,
        )
        .await;
        // The address was told of the phone: its code, then that note.
        assert!(gateway().nth(&address, 2).await.text.contains("was added"));
        h.set_policy("reset_methods_required", "2").await;

        let (_, body) = begin(&h, &c, "alice@example.org").await;
        let flow = body["flow"].as_str().unwrap().to_string();
        let email = method_of(&body, "email");
        let phone = method_of(&body, "phone_mobile");

        let mails = gateway().received(&address).len();
        let (status, sent) = challenge(&h, &c, &flow, &email).await;
        assert_eq!(status, 200, "{sent}");
        assert!(
            sent["sent_to"]
                .as_str()
                .unwrap()
                .contains("•••@example.org"),
            "{sent}"
        );
        let mail = gateway().nth(&address, mails + 1).await;
        assert!(mail.text.contains("reset your password"), "{}", mail.text);
        let (status, body) = verify(
            &h,
            &c,
            &flow,
            json!({"method_id": email, "code": mail.code.unwrap()}),
        )
        .await;
        assert_eq!(
            (status, body["gates_passed"].as_u64()),
            (200, Some(1)),
            "{body}"
        );

        let texts = gateway().received(&e164).len();
        let (status, sent) = challenge(&h, &c, &flow, &phone).await;
        assert_eq!(status, 200, "{sent}");
        let text = gateway().nth(&e164, texts + 1).await;
        let (status, body) = verify(
            &h,
            &c,
            &flow,
            json!({"method_id": phone, "code": text.code.unwrap()}),
        )
        .await;
        assert_eq!(
            (status, body["gates_passed"].as_u64()),
            (200, Some(2)),
            "{body}"
        );
        assert_eq!(new_password(&h, &c, &flow, NEW_PASSWORD).await.0, 204);

        // The address hears of it (the phone proved the last gate, so the news goes elsewhere).
        let note = gateway().nth(&address, mails + 2).await;
        assert!(note.text.contains("was reset"), "{}", note.text);
        assert_eq!(
            sign_in_with(&h, &c, "alice@example.org", NEW_PASSWORD)
                .await
                .0,
            200
        );

        // An unknown name sends nothing, to anyone.
        let before = (
            gateway().received(&address).len(),
            gateway().received(&e164).len(),
        );
        let (_, decoy) = begin(&h, &c, "nobody@example.org").await;
        let flow = decoy["flow"].as_str().unwrap();
        for m in decoy["methods"].as_array().unwrap() {
            let (status, _) = challenge(&h, &c, flow, m["id"].as_str().unwrap()).await;
            assert_eq!(status, 200);
        }
        assert_eq!(
            (
                gateway().received(&address).len(),
                gateway().received(&e164).len()
            ),
            before
        );
    })
    .await;
}

fn origin(h: &Harness) -> Url {
    Url::parse(&h.origin()).unwrap()
}

/// Registers a security key for the signed-in `token`; returns the key and its method id.
async fn add_key(h: &Harness, c: &reqwest::Client, token: &str) -> (SoftPasskey, String) {
    let mut key = SoftPasskey::new(true);
    let (status, body) = h
        .post(
            c,
            "/api/v1/me/security-info/methods",
            Some(token),
            json!({"kind": "security_key", "name": "Blue key"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let options: CreationChallengeResponse =
        serde_json::from_value(body["webauthn"].clone()).unwrap();
    let attestation = key.do_registration(origin(h), options).unwrap();
    let (status, body) = h
        .post(
            c,
            &format!("/api/v1/me/security-info/methods/{id}/verify"),
            Some(token),
            json!({"webauthn": attestation}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (key, id)
}

/// The JSON in an element's attribute, as the page's script reads it.
pub(crate) fn attribute_json(html: &str, name: &str) -> serde_json::Value {
    let marker = format!("{name}=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in:\n{html}"))
        + marker.len();
    let raw = &html[start..start + html[start..].find('"').unwrap()];
    let text = raw
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[tokio::test]
async fn a_security_key_is_a_gate_on_the_pages() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _, _) = h.enrolled_user(&c, "lena@example.org").await;
        let (mut key, id) = add_key(&h, &c, &token).await;

        let b = crate::reset_web::to_the_gates(&h, "lena@example.org").await;
        let page = crate::reset_web::choose(&b, &id).await;
        // The kind, not the name the person gave it: a stranger sees this page too.
        page.shows(200, "Prove it&#39;s you with &#34;Security key&#34;")
            .shows(200, "data-webauthn=\"get\"");
        assert!(!page.html.contains("Blue key"), "{}", page.html);
        let csrf = page.csrf();
        // The script never ran: a clear error, and the gate is still open.
        b.post(
            "/reset/verify",
            &[("csrf", &csrf), ("method_id", &id), ("webauthn", "")],
        )
        .await
        .shows(400, "Security keys need JavaScript");
        b.get("/reset/password").await.redirects_to("/reset/verify");

        let page = b.get(&format!("/reset/verify?method={id}")).await;
        let options: RequestChallengeResponse =
            serde_json::from_value(attribute_json(&page.html, "data-options")).unwrap();
        let assertion = key.do_authentication(origin(&h), options).unwrap();
        let answer = serde_json::to_string(&assertion).unwrap();
        let fields = [
            ("csrf", page.csrf()),
            ("method_id", id.clone()),
            ("webauthn", answer.clone()),
        ];
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        b.post("/reset/verify", &fields)
            .await
            .redirects_to("/reset/password");
        crate::reset_web::choose_password(&b, NEW_PASSWORD, NEW_PASSWORD)
            .await
            .redirects_to("/reset/done");
        let (status, body) = sign_in_with(&h, &c, "lena@example.org", NEW_PASSWORD).await;
        assert_eq!(status, 200, "{body}");
    })
    .await;
}

#[tokio::test]
async fn a_security_key_is_a_gate() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _, _) = h.enrolled_user(&c, "kim@example.org").await;
        let (mut key, id) = add_key(&h, &c, &token).await;

        let (_, body) = begin(&h, &c, "kim@example.org").await;
        let flow = body["flow"].as_str().unwrap().to_string();
        assert_eq!(method_of(&body, "security_key"), id);
        let (status, body) = challenge(&h, &c, &flow, &id).await;
        assert_eq!(status, 200, "{body}");
        let options: RequestChallengeResponse =
            serde_json::from_value(body["webauthn"].clone()).unwrap();
        let assertion = key.do_authentication(origin(&h), options).unwrap();
        let (status, body) = verify(
            &h,
            &c,
            &flow,
            json!({"method_id": id, "webauthn": assertion}),
        )
        .await;
        assert_eq!(
            (status, body["gates_passed"].as_u64()),
            (200, Some(1)),
            "{body}"
        );
        assert_eq!(new_password(&h, &c, &flow, NEW_PASSWORD).await.0, 204);
    })
    .await;
}

/// A JSON value with every leaf replaced by its type: what a client can tell of its shape.
fn skeleton(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), skeleton(v))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(skeleton).collect()),
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("bool"),
        Value::Null => Value::Null,
    }
}

#[tokio::test]
async fn a_decoy_security_key_is_asked_as_a_real_one_is() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _, _) = h.enrolled_user(&c, "mira@example.org").await;
        let (_, key) = add_key(&h, &c, &token).await;

        // The only person here has an app and a key: so has the decoy.
        let (_, real) = begin(&h, &c, "mira@example.org").await;
        let (_, decoy) = begin(&h, &c, "nobody@example.org").await;
        let mut kinds = crate::common::method_kinds(&decoy);
        kinds.sort();
        assert_eq!(kinds, ["authenticator_code", "security_key"], "{decoy}");
        let mut answers = Vec::new();
        for (body, id) in [
            (&real, key.clone()),
            (&decoy, method_of(&decoy, "security_key")),
        ] {
            let flow = body["flow"].as_str().unwrap().to_string();
            let (status, asked) = challenge(&h, &c, &flow, &id).await;
            assert_eq!(status, 200, "{asked}");
            assert_eq!(
                asked["webauthn"]["publicKey"]["allowCredentials"]
                    .as_array()
                    .map(Vec::len),
                Some(1),
                "{asked}"
            );
            let (status, wrong) = verify(
                &h,
                &c,
                &flow,
                json!({"method_id": id, "webauthn": {"id": "nope"}}),
            )
            .await;
            answers.push((skeleton(&asked), status, wrong["error"].clone()));
        }
        assert_eq!(answers[0], answers[1]);
        assert_eq!(answers[0].1, 400);
    })
    .await;
}
