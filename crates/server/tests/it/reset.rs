//! Self-service password reset through the API: one gate and two, each kind of gate, the
//! unknown username that cannot be told apart, the limits, and what a reset ends.

use crate::common::{Harness, PASSWORD, each_backend, method_kinds};
use serde_json::{Value, json};

pub const NEW_PASSWORD: &str = "a brand new passphrase";

/// Starts a reset; answers (status, body).
pub async fn begin(h: &Harness, c: &reqwest::Client, username: &str) -> (u16, Value) {
    h.post(c, "/api/v1/reset", None, json!({"username": username}))
        .await
}

/// The id of the flow's method of `kind`.
pub fn method_of(body: &Value, kind: &str) -> String {
    body["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {body}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

pub async fn challenge(h: &Harness, c: &reqwest::Client, flow: &str, method: &str) -> (u16, Value) {
    h.post(
        c,
        &format!("/api/v1/reset/{flow}/challenge"),
        None,
        json!({"method_id": method}),
    )
    .await
}

pub async fn verify(h: &Harness, c: &reqwest::Client, flow: &str, body: Value) -> (u16, Value) {
    h.post(c, &format!("/api/v1/reset/{flow}/verify"), None, body)
        .await
}

pub async fn new_password(
    h: &Harness,
    c: &reqwest::Client,
    flow: &str,
    password: &str,
) -> (u16, Value) {
    h.post(
        c,
        &format!("/api/v1/reset/{flow}/password"),
        None,
        json!({"new_password": password}),
    )
    .await
}

/// Signs in with `password`; answers the status code and body.
pub async fn sign_in_with(
    h: &Harness,
    c: &reqwest::Client,
    username: &str,
    password: &str,
) -> (u16, Value) {
    h.post(
        c,
        "/api/v1/sign-in",
        None,
        json!({"username": username, "password": password}),
    )
    .await
}

#[tokio::test]
async fn one_authenticator_gate_resets_the_password_and_ends_every_session() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, method, secret) = h.enrolled_user(&c, "alice@example.org").await;
        let other_session = h.sign_in_with_code(&c, "alice@example.org", &secret).await;

        let (status, body) = begin(&h, &c, " Alice@Example.org ").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["gates_required"], 1);
        assert_eq!(method_of(&body, "authenticator_code"), method);
        let flow = body["flow"].as_str().unwrap().to_string();

        let (status, body) = new_password(&h, &c, &flow, NEW_PASSWORD).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("not_allowed")),
            "no gate passed yet"
        );
        let (status, body) = challenge(&h, &c, &flow, &method).await;
        assert_eq!(
            (status, body["kind"].as_str()),
            (200, Some("authenticator_code")),
            "{body}"
        );
        let (status, body) = verify(
            &h,
            &c,
            &flow,
            json!({"method_id": method, "code": h.wrong_code(&secret)}),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_code"))
        );
        let (status, body) = verify(
            &h,
            &c,
            &flow,
            json!({"method_id": method, "code": h.code(&secret, 0)}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            (
                body["gates_passed"].as_u64(),
                body["gates_required"].as_u64()
            ),
            (Some(1), Some(1))
        );

        // The new password follows the rules, and must differ from the current one.
        for (bad, problem) in [
            ("short", "8"),
            ("password123", "common"),
            (PASSWORD, "different"),
        ] {
            let (status, body) = new_password(&h, &c, &flow, bad).await;
            assert_eq!(
                (status, body["field"].as_str()),
                (400, Some("new_password")),
                "{bad}: {body}"
            );
            assert!(
                body["message"].as_str().unwrap().contains(problem),
                "{body}"
            );
        }
        let (status, body) = new_password(&h, &c, &flow, NEW_PASSWORD).await;
        assert_eq!(status, 204, "{body}");

        for old in [&token, &other_session] {
            let (status, _) = h.get(&c, "/api/v1/me/security-info", Some(old)).await;
            assert_eq!(status, 401, "every session of the account ended");
        }
        let (status, _) = sign_in_with(&h, &c, "alice@example.org", PASSWORD).await;
        assert_eq!(status, 401, "the old password no longer works");
        let (status, body) = sign_in_with(&h, &c, "alice@example.org", NEW_PASSWORD).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("mfa_required")),
            "{body}"
        );
        let (status, body) = new_password(&h, &c, &flow, "yet another passphrase").await;
        assert_eq!(
            (status, body["error"].as_str()),
            (410, Some("expired")),
            "a flow completes once"
        );

        let account = h
            .store()
            .account_by_username("alice@example.org")
            .await
            .unwrap()
            .unwrap();
        let actions: Vec<String> = h
            .store()
            .audit_of(account.id, 100)
            .await
            .unwrap()
            .iter()
            .map(|e| e.action.as_str().to_string())
            .collect();
        for action in [
            "reset_started",
            "reset_gate_passed",
            "password_reset",
            "sessions_ended",
        ] {
            assert!(
                actions.iter().any(|a| a == action),
                "{action} in {actions:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn two_gates_need_two_different_methods() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, method, secret) = h.enrolled_user(&c, "bob@example.org").await;
        let (status, body) = h
            .post(&c, "/api/v1/me/recovery-codes", Some(&token), json!({}))
            .await;
        assert_eq!(status, 201, "{body}");
        let code = body["codes"][0].as_str().unwrap().to_string();
        h.set_policy("reset_methods_required", "2").await;

        let (_, body) = begin(&h, &c, "bob@example.org").await;
        assert_eq!(body["gates_required"], 2, "{body}");
        let flow = body["flow"].as_str().unwrap().to_string();
        let recovery = method_of(&body, "recovery_codes");
        let (status, body) = verify(
            &h,
            &c,
            &flow,
            json!({"method_id": method, "code": h.code(&secret, 0)}),
        )
        .await;
        assert_eq!(
            (status, body["gates_passed"].as_u64()),
            (200, Some(1)),
            "{body}"
        );
        h.advance(30);
        let (status, body) = verify(
            &h,
            &c,
            &flow,
            json!({"method_id": method, "code": h.code(&secret, 0)}),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("bad_request")),
            "the same method twice: {body}"
        );
        let (status, _) = new_password(&h, &c, &flow, NEW_PASSWORD).await;
        assert_eq!(status, 403, "one gate of two");
        let (_, body) = h.get(&c, &format!("/api/v1/reset/{flow}"), None).await;
        assert_eq!(body["gates_passed"], 1);
        assert_eq!(
            body["methods"].as_array().unwrap().len(),
            1,
            "what is left: {body}"
        );

        let (status, body) =
            verify(&h, &c, &flow, json!({"method_id": recovery, "code": code})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            (
                body["gates_passed"].as_u64(),
                body["recovery_codes_left"].as_u64()
            ),
            (Some(2), Some(9))
        );
        let (status, _) = new_password(&h, &c, &flow, NEW_PASSWORD).await;
        assert_eq!(status, 204);
        let (status, _) = sign_in_with(&h, &c, "bob@example.org", NEW_PASSWORD).await;
        assert_eq!(status, 200);
    })
    .await;
}

/// The keys of a JSON object, sorted, with the kinds of its values.
fn shape(v: &Value) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = v
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let t = match v {
                Value::Null => "null",
                Value::Bool(_) => "bool",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                Value::Array(_) => "array",
                Value::Object(_) => "object",
            };
            (k.clone(), t)
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn an_unknown_username_cannot_be_told_from_a_known_one_and_nothing_is_sent() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, _, _) = h.enrolled_user(&c, "carol@example.org").await;
        // A reset flow locks at half the threshold (the account's resets at all of it).
        h.set_policy("lockout_threshold", "6").await;
        let sent_before = h.store().recent_messages(1000).await.unwrap().len();

        let (status, known) = begin(&h, &c, "carol@example.org").await;
        assert_eq!(status, 200);
        let (status, unknown) = begin(&h, &c, "nobody@example.org").await;
        assert_eq!(status, 200, "{unknown}");
        assert_eq!(shape(&known), shape(&unknown));
        assert_eq!(unknown["gates_required"], known["gates_required"]);
        let decoy = &unknown["methods"][0];
        assert_eq!(shape(decoy), shape(&known["methods"][0]));
        // The same unknown name shows the same methods every time.
        let (_, again) = begin(&h, &c, "NOBODY@example.org").await;
        assert_eq!(again["methods"], unknown["methods"]);
        assert_ne!(again["flow"], unknown["flow"]);

        let flow = unknown["flow"].as_str().unwrap();
        let decoy_id = decoy["id"].as_str().unwrap();
        let (status, body) = challenge(&h, &c, flow, decoy_id).await;
        assert_eq!(
            (status, body["method_id"].as_str()),
            (200, Some(decoy_id)),
            "{body}"
        );
        let (status, body) = challenge(&h, &c, flow, "00000000-0000-4000-8000-000000000000").await;
        assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
        for attempt in 1..=3 {
            let (status, body) = verify(
                &h,
                &c,
                flow,
                json!({"method_id": decoy_id, "code": "123456"}),
            )
            .await;
            if attempt < 3 {
                assert_eq!(
                    (status, body["error"].as_str()),
                    (400, Some("invalid_code")),
                    "{body}"
                );
            } else {
                assert_eq!(
                    (status, body["error"].as_str()),
                    (429, Some("locked")),
                    "locks like a real one: {body}"
                );
                assert!(body["retry_after"].as_u64().unwrap() > 0);
            }
        }
        let (status, body) = new_password(&h, &c, flow, NEW_PASSWORD).await;
        assert_eq!((status, body["error"].as_str()), (403, Some("not_allowed")));

        // The real account answers a wrong code the same way.
        let flow = known["flow"].as_str().unwrap();
        let real_id = known["methods"][0]["id"].as_str().unwrap();
        let (status, body) = verify(
            &h,
            &c,
            flow,
            json!({"method_id": real_id, "code": "123456"}),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_code")),
            "{body}"
        );

        assert_eq!(
            h.store().recent_messages(1000).await.unwrap().len(),
            sent_before,
            "nothing was sent"
        );
    })
    .await;
}

#[tokio::test]
async fn resets_are_limited_per_account_and_per_address() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        h.add_user("dave@example.org").await;
        h.set_policy("reset_attempts_per_account", "2").await;
        h.set_policy("reset_attempts_per_ip", "4").await;
        for _ in 0..2 {
            assert_eq!(begin(&h, &c, "dave@example.org").await.0, 200);
        }
        let (status, body) = begin(&h, &c, "dave@example.org").await;
        assert_eq!(
            (status, body["error"].as_str()),
            (429, Some("rate_limited")),
            "{body}"
        );
        let wait = body["retry_after"].as_u64().unwrap();
        assert!(wait > 0 && wait <= 3600, "{body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains(&wait.to_string()),
            "{body}"
        );
        // An unknown name is limited the same way.
        for _ in 0..1 {
            assert_eq!(begin(&h, &c, "ghost@example.org").await.0, 200);
        }
        // The address has now tried four times: everything from it waits.
        let (status, body) = begin(&h, &c, "someone-else@example.org").await;
        assert_eq!(
            (status, body["error"].as_str()),
            (429, Some("rate_limited")),
            "{body}"
        );

        h.advance(3601);
        assert_eq!(
            begin(&h, &c, "dave@example.org").await.0,
            200,
            "a new window"
        );
    })
    .await;
}

#[tokio::test]
async fn the_policy_decides_whether_and_with_what_a_password_is_reset() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, method, _) = h.enrolled_user(&c, "erin@example.org").await;
        h.set_policy("reset_enabled", "false").await;
        let (status, body) = begin(&h, &c, "erin@example.org").await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("not_allowed")),
            "{body}"
        );
        let (status, _) = begin(&h, &c, "nobody@example.org").await;
        assert_eq!(status, 403, "the same for everyone");
        h.set_policy("reset_enabled", "true").await;

        // Only the kinds the policy allows for reset are gates.
        h.post(&c, "/api/v1/me/recovery-codes", Some(&token), json!({}))
            .await;
        h.set_policy("reset_kinds", "recovery_codes").await;
        let (_, body) = begin(&h, &c, "erin@example.org").await;
        let kinds = method_kinds(&body);
        assert_eq!(kinds, vec!["recovery_codes"], "{body}");
        let flow = body["flow"].as_str().unwrap();
        let (status, _) = challenge(&h, &c, flow, &method).await;
        assert_eq!(status, 404, "the authenticator is no gate now");
    })
    .await;
}

#[tokio::test]
async fn a_flow_expires() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, method, secret) = h.enrolled_user(&c, "fay@example.org").await;
        let (_, body) = begin(&h, &c, "fay@example.org").await;
        let flow = body["flow"].as_str().unwrap();
        h.advance(601);
        let (status, body) = verify(
            &h,
            &c,
            flow,
            json!({"method_id": method, "code": h.code(&secret, 0)}),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (410, Some("expired")),
            "{body}"
        );
        let (status, _) = h.get(&c, "/api/v1/reset/not-a-flow", None).await;
        assert_eq!(status, 404);
    })
    .await;
}
