//! Security keys over the API, with a software FIDO2 authenticator standing in for the key:
//! registration and sign-in with user verification, and the answers that must be refused
//! (another origin, a replay, no user verification, a counter that went back).

use crate::common::{Harness, each_backend};
use data_encoding::BASE64URL_NOPAD;
use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RequestChallengeResponse, Url,
};
use webauthn_rs_proto::{AllowCredentials, UserVerificationPolicy};

/// A FIDO2 key whose PIN was entered (it reports user verification).
pub(crate) fn key_with_pin() -> SoftPasskey {
    SoftPasskey::new(true)
}

fn origin(h: &Harness) -> Url {
    Url::parse(&h.origin()).unwrap()
}

/// Starts registering a security key; returns (method id, creation options).
async fn add_key(
    h: &Harness,
    client: &reqwest::Client,
    token: &str,
    name: &str,
) -> (String, CreationChallengeResponse) {
    let (status, body) = h
        .post(
            client,
            "/api/v1/me/security-info/methods",
            Some(token),
            json!({"kind": "security_key", "name": name}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "pending");
    assert!(body.get("secret").is_none(), "{body}");
    let options = serde_json::from_value(body["webauthn"].clone()).unwrap();
    (body["id"].as_str().unwrap().to_string(), options)
}

/// Registers `key` as a security key; returns the method id and the credential id.
pub(crate) async fn register(
    h: &Harness,
    client: &reqwest::Client,
    token: &str,
    key: &mut SoftPasskey,
) -> (String, Vec<u8>) {
    let (id, options) = add_key(h, client, token, "Blue key").await;
    let attestation = key.do_registration(origin(h), options).unwrap();
    let credential = attestation.raw_id.clone();
    let (status, body) = h
        .post(
            client,
            &format!("/api/v1/me/security-info/methods/{id}/verify"),
            Some(token),
            json!({"webauthn": attestation}),
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("active")),
        "{body}"
    );
    (id, credential)
}

/// Signs in with the password and starts a challenge on the key; returns (flow, options).
async fn key_challenge(
    h: &Harness,
    client: &reqwest::Client,
    username: &str,
    method: &str,
) -> (String, RequestChallengeResponse) {
    let body = h.api_sign_in(client, username).await;
    assert_eq!(body["status"], "mfa_required", "{body}");
    let flow = body["flow"].as_str().unwrap().to_string();
    let (status, body) = h
        .post(
            client,
            &format!("/api/v1/sign-in/{flow}/challenge"),
            None,
            json!({"method_id": method}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["kind"], "security_key");
    (
        flow,
        serde_json::from_value(body["webauthn"].clone()).unwrap(),
    )
}

async fn answer(
    h: &Harness,
    client: &reqwest::Client,
    flow: &str,
    method: &str,
    assertion: &PublicKeyCredential,
) -> (u16, Value) {
    h.post(
        client,
        &format!("/api/v1/sign-in/{flow}/verify"),
        None,
        json!({"method_id": method, "webauthn": assertion}),
    )
    .await
}

#[tokio::test]
async fn a_security_key_registers_and_signs_in_with_its_pin() {
    each_backend(|h| async move {
        let client = h.client();
        let (token, _, _) = h.enrolled_user(&client, "kim@example.org").await;
        let mut key = key_with_pin();
        let (method, _) = register(&h, &client, &token, &mut key).await;

        let (_, info) = h
            .get(&client, "/api/v1/me/security-info", Some(&token))
            .await;
        let listed = info["methods"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == method.as_str())
            .cloned()
            .unwrap();
        assert_eq!(listed["kind"], "security_key");
        assert_eq!(listed["label"], "Blue key");
        assert_eq!(listed["status"], "active");

        let (flow, options) = key_challenge(&h, &client, "kim@example.org", &method).await;
        assert_eq!(
            options.public_key.user_verification,
            UserVerificationPolicy::Required
        );
        let assertion = key.do_authentication(origin(&h), options).unwrap();
        let (status, body) = answer(&h, &client, &flow, &method, &assertion).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("signed_in")),
            "{body}"
        );
        let session = body["session"].as_str().unwrap();
        let (status, me) = h.get(&client, "/api/v1/me", Some(session)).await;
        assert_eq!(
            (status, me["username"].as_str()),
            (200, Some("kim@example.org"))
        );

        // A second key for the same person, and the first one keeps working.
        let mut spare = key_with_pin();
        let (spare_id, _) = register(&h, &client, session, &mut spare).await;
        assert_ne!(spare_id, method);
        let (flow, options) = key_challenge(&h, &client, "kim@example.org", &method).await;
        let assertion = key.do_authentication(origin(&h), options).unwrap();
        let (status, _) = answer(&h, &client, &flow, &method, &assertion).await;
        assert_eq!(status, 200);
    })
    .await;
}

#[tokio::test]
async fn an_assertion_made_for_another_origin_is_rejected() {
    each_backend(|h| async move {
        let client = h.client();
        let (token, _, _) = h.enrolled_user(&client, "lee@example.org").await;
        let mut key = key_with_pin();
        let (method, _) = register(&h, &client, &token, &mut key).await;

        let (flow, options) = key_challenge(&h, &client, "lee@example.org", &method).await;
        // Another origin (here another port on the same host: a different site to the
        // browser) whose page got the key to answer: the client data names that origin.
        let port = origin(&h).port().unwrap();
        let phishing = Url::parse(&format!("http://localhost:{}", port ^ 1)).unwrap();
        let assertion = key.do_authentication(phishing, options).unwrap();
        let (status, body) = answer(&h, &client, &flow, &method, &assertion).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_code")),
            "{body}"
        );

        // Nothing was spent but the refused ceremony: a fresh one from the right origin works.
        let (status, body) = h
            .post(
                &client,
                &format!("/api/v1/sign-in/{flow}/challenge"),
                None,
                json!({"method_id": method}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let options = serde_json::from_value(body["webauthn"].clone()).unwrap();
        let assertion = key.do_authentication(origin(&h), options).unwrap();
        let (status, _) = answer(&h, &client, &flow, &method, &assertion).await;
        assert_eq!(status, 200);
    })
    .await;
}

#[tokio::test]
async fn a_replayed_assertion_is_rejected() {
    each_backend(|h| async move {
        let client = h.client();
        let (token, _, _) = h.enrolled_user(&client, "ana@example.org").await;
        let mut key = key_with_pin();
        let (method, _) = register(&h, &client, &token, &mut key).await;

        let (flow, options) = key_challenge(&h, &client, "ana@example.org", &method).await;
        let captured = key.do_authentication(origin(&h), options).unwrap();
        let (status, _) = answer(&h, &client, &flow, &method, &captured).await;
        assert_eq!(status, 200);

        // Against a new sign-in whose challenge the key never saw …
        let (flow, _) = key_challenge(&h, &client, "ana@example.org", &method).await;
        let (status, body) = answer(&h, &client, &flow, &method, &captured).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_code")),
            "{body}"
        );
        // … and again, now that this flow's ceremony is spent.
        let (status, body) = answer(&h, &client, &flow, &method, &captured).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_code")),
            "{body}"
        );

        let (_, activity) = h.get(&client, "/api/v1/me/activity", Some(&token)).await;
        let actions: Vec<&str> = activity["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        assert!(actions.contains(&"code_replayed"), "{actions:?}");
        assert!(actions.contains(&"code_rejected"), "{actions:?}");
    })
    .await;
}

#[tokio::test]
async fn user_verification_is_enforced() {
    each_backend(|h| async move {
        let client = h.client();
        let (token, _, _) = h.enrolled_user(&client, "max@example.org").await;

        // A browser that skipped the PIN while registering: the key is not added.
        let (id, mut options) = add_key(&h, &client, &token, "No PIN").await;
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.user_verification = UserVerificationPolicy::Discouraged_DO_NOT_USE;
        }
        let mut key = key_with_pin();
        let attestation = key.do_registration(origin(&h), options).unwrap();
        let (status, body) = h
            .post(
                &client,
                &format!("/api/v1/me/security-info/methods/{id}/verify"),
                Some(&token),
                json!({"webauthn": attestation}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_code")),
            "{body}"
        );
        let (_, info) = h
            .get(&client, "/api/v1/me/security-info", Some(&token))
            .await;
        assert!(
            info["methods"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["id"] == id.as_str() && m["status"] == "pending"),
            "{info}"
        );

        // A registered key whose assertion comes without user verification is refused.
        let mut key = key_with_pin();
        let (method, _) = register(&h, &client, &token, &mut key).await;
        let (flow, mut options) = key_challenge(&h, &client, "max@example.org", &method).await;
        options.public_key.user_verification = UserVerificationPolicy::Discouraged_DO_NOT_USE;
        let assertion = key.do_authentication(origin(&h), options).unwrap();
        let (status, body) = answer(&h, &client, &flow, &method, &assertion).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_code")),
            "{body}"
        );

        // A key that cannot verify its user at all never gets as far as the server.
        let (_, options) = add_key(&h, &client, &token, "Old key").await;
        assert!(
            SoftPasskey::new(false)
                .do_registration(origin(&h), options)
                .is_err()
        );
    })
    .await;
}

#[tokio::test]
async fn a_counter_that_went_back_is_refused_as_a_possible_clone() {
    each_backend(|h| async move {
        let client = h.client();
        let (token, _, _) = h.enrolled_user(&client, "sam@example.org").await;
        let mut key = key_with_pin();
        let (method, _) = register(&h, &client, &token, &mut key).await;

        // A copy of the key signed in elsewhere and moved the counter far ahead.
        let method_id = method.parse().unwrap();
        let stored = h.store().security_key(method_id).await.unwrap().unwrap();
        let mut passkey: Value = serde_json::from_str(&stored.passkey).unwrap();
        passkey["cred"]["counter"] = json!(1000);
        assert!(
            h.store()
                .record_security_key_use(method_id, &passkey.to_string(), 1000)
                .await
                .unwrap()
        );

        let (flow, options) = key_challenge(&h, &client, "sam@example.org", &method).await;
        let assertion = key.do_authentication(origin(&h), options).unwrap();
        let (status, body) = answer(&h, &client, &flow, &method, &assertion).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_code")),
            "{body}"
        );

        let (_, activity) = h.get(&client, "/api/v1/me/activity", Some(&token)).await;
        let warning = activity["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "security_key_clone_warning")
            .cloned();
        assert_eq!(
            warning.map(|w| w["method_id"].clone()),
            Some(json!(method)),
            "{activity}"
        );
    })
    .await;
}

/// What a browser does for a passkey: the key finds its own credential for the site and
/// answers with the user handle it keeps. (The software key keeps no discoverable
/// credentials, so the test names the credential and adds the handle, as a real key would.)
fn passkey_assertion(
    h: &Harness,
    key: &mut SoftPasskey,
    mut options: RequestChallengeResponse,
    credential: &[u8],
    user_handle: &str,
) -> Value {
    options.public_key.allow_credentials = vec![AllowCredentials {
        type_: "public-key".into(),
        id: credential.to_vec(),
        transports: None,
    }];
    let assertion = key.do_authentication(origin(h), options).unwrap();
    let mut json = serde_json::to_value(&assertion).unwrap();
    json["response"]["userHandle"] = json!(user_handle);
    json
}

#[tokio::test]
async fn a_passkey_signs_in_alone_when_the_policy_allows_it() {
    each_backend(|h| async move {
        let client = h.client();
        let (token, _, _) = h.enrolled_user(&client, "eva@example.org").await;
        let mut key = key_with_pin();
        let (_, credential) = register(&h, &client, &token, &mut key).await;
        let (_, me) = h.get(&client, "/api/v1/me", Some(&token)).await;
        let handle = BASE64URL_NOPAD.encode(
            uuid::Uuid::parse_str(me["id"].as_str().unwrap())
                .unwrap()
                .as_bytes(),
        );

        let (status, body) = h
            .post(&client, "/api/v1/sign-in/passkey", None, json!({}))
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("not_allowed")),
            "{body}"
        );

        h.set_policy("passkey_sign_in", "true").await;
        let (status, body) = h
            .post(&client, "/api/v1/sign-in/passkey", None, json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
        let ceremony = body["ceremony"].as_str().unwrap().to_string();
        let options: RequestChallengeResponse =
            serde_json::from_value(body["webauthn"].clone()).unwrap();
        assert!(
            options.public_key.allow_credentials.is_empty(),
            "no username, no list"
        );
        let assertion = passkey_assertion(&h, &mut key, options, &credential, &handle);
        let (status, body) = h
            .post(
                &client,
                &format!("/api/v1/sign-in/passkey/{ceremony}"),
                None,
                json!({"webauthn": assertion}),
            )
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("signed_in")),
            "{body}"
        );
        let session = body["session"].as_str().unwrap();
        let (_, me) = h.get(&client, "/api/v1/me", Some(session)).await;
        assert_eq!(
            (me["username"].as_str(), me["session"].as_str()),
            (Some("eva@example.org"), Some("full"))
        );

        // The ceremony was spent.
        let (status, body) = h
            .post(
                &client,
                &format!("/api/v1/sign-in/passkey/{ceremony}"),
                None,
                json!({"webauthn": assertion}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (410, Some("expired")),
            "{body}"
        );

        // A credential that claims another person's handle signs nobody in.
        h.add_user("mallory@example.org").await;
        let other = BASE64URL_NOPAD.encode(uuid::Uuid::new_v4().as_bytes());
        let (_, body) = h
            .post(&client, "/api/v1/sign-in/passkey", None, json!({}))
            .await;
        let ceremony = body["ceremony"].as_str().unwrap().to_string();
        let options = serde_json::from_value(body["webauthn"].clone()).unwrap();
        let assertion = passkey_assertion(&h, &mut key, options, &credential, &other);
        let (status, body) = h
            .post(
                &client,
                &format!("/api/v1/sign-in/passkey/{ceremony}"),
                None,
                json!({"webauthn": assertion}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_code")),
            "{body}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_deleted_key_no_longer_signs_in() {
    each_backend(|h| async move {
        let client = h.client();
        let (token, _, _) = h.enrolled_user(&client, "ola@example.org").await;
        let mut key = key_with_pin();
        let (method, _) = register(&h, &client, &token, &mut key).await;
        let (status, _) = h
            .delete(
                &client,
                &format!("/api/v1/me/security-info/methods/{method}"),
                &token,
            )
            .await;
        assert_eq!(status, 204);
        let body = h.api_sign_in(&client, "ola@example.org").await;
        let flow = body["flow"].as_str().unwrap();
        let (status, body) = h
            .post(
                &client,
                &format!("/api/v1/sign-in/{flow}/challenge"),
                None,
                json!({"method_id": method}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (404, Some("not_found")),
            "{body}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_security_key_verifies_a_change_to_security_info() {
    each_backend(|h| async move {
        let client = h.client();
        let (token, code_method, _) = h.enrolled_user(&client, "ida@example.org").await;
        let mut key = key_with_pin();
        let (method, _) = register(&h, &client, &token, &mut key).await;

        // Past the step-up window, a change needs a fresh second factor: the key gives it.
        h.advance(11 * 60);
        let path = format!("/api/v1/me/security-info/methods/{code_method}");
        let (status, _) = h.delete(&client, &path, &token).await;
        assert_eq!(status, 403);
        let (status, body) = h
            .post(
                &client,
                "/api/v1/me/step-up",
                Some(&token),
                json!({"method_id": method}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let options: RequestChallengeResponse =
            serde_json::from_value(body["webauthn"].clone()).unwrap();
        let assertion = key.do_authentication(origin(&h), options).unwrap();
        let (status, body) = h
            .post(
                &client,
                "/api/v1/me/step-up/verify",
                Some(&token),
                json!({"method_id": method, "webauthn": assertion}),
            )
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("verified")),
            "{body}"
        );
        let (status, _) = h.delete(&client, &path, &token).await;
        assert_eq!(status, 204);
    })
    .await;
}

#[tokio::test]
async fn the_policy_can_limit_security_keys_to_approved_models() {
    each_backend(|h| async move {
        let client = h.client();
        let (token, _, _) = h.enrolled_user(&client, "liv@example.org").await;
        let mut key = key_with_pin();
        let (method, _) = register(&h, &client, &token, &mut key).await;
        let model = h
            .store()
            .security_key(method.parse().unwrap())
            .await
            .unwrap()
            .unwrap()
            .aaguid
            .expect("the key reported its model");

        h.set_policy(
            "security_key_aaguids",
            "cb69481e-8ff7-4039-93ec-0a2729a154a8",
        )
        .await;
        let (id, options) = add_key(&h, &client, &token, "Unapproved").await;
        let attestation = key_with_pin().do_registration(origin(&h), options).unwrap();
        let (status, body) = h
            .post(
                &client,
                &format!("/api/v1/me/security-info/methods/{id}/verify"),
                Some(&token),
                json!({"webauthn": attestation}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("not_allowed")),
            "{body}"
        );

        h.set_policy(
            "security_key_aaguids",
            &format!("cb69481e-8ff7-4039-93ec-0a2729a154a8,{model}"),
        )
        .await;
        register(&h, &client, &token, &mut key_with_pin()).await;
    })
    .await;
}
