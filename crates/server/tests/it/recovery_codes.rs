//! Recovery codes: ten shown once, each a second factor once, a new set revoking the old, and
//! the person told whenever one is used.

use crate::common::{Harness, each_backend, each_backend_with, method_kinds};
use crate::gateway::{gateway, with_webhook};
use serde_json::{Value, json};

/// A new set for the signed-in person: (method id, codes).
pub async fn new_set(h: &Harness, c: &reqwest::Client, token: &str) -> (String, Vec<String>) {
    let (status, body) = h
        .post(c, "/api/v1/me/recovery-codes", Some(token), json!({}))
        .await;
    assert_eq!(status, 201, "{body}");
    let codes: Vec<String> = body["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    (body["id"].as_str().unwrap().to_string(), codes)
}

/// Signs in with the password and a recovery code: (status, body).
async fn sign_in_with_code(
    h: &Harness,
    c: &reqwest::Client,
    username: &str,
    code: &str,
) -> (u16, Value) {
    let body = h.api_sign_in(c, username).await;
    assert_eq!(body["status"], "mfa_required", "{body}");
    let flow = body["flow"].as_str().unwrap();
    let method = body["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "recovery_codes")
        .unwrap_or_else(|| panic!("no recovery codes offered: {body}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    h.post(
        c,
        &format!("/api/v1/sign-in/{flow}/verify"),
        None,
        json!({"method_id": method, "code": code}),
    )
    .await
}

#[tokio::test]
async fn each_code_signs_in_once_and_a_new_set_revokes_the_old() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _, _) = h.enrolled_user(&c, "alice@example.org").await;
        let (status, body) = h.get(&c, "/api/v1/me/recovery-codes", Some(&token)).await;
        assert_eq!(status, 404, "no set yet: {body}");
        let (_, codes) = new_set(&h, &c, &token).await;
        assert_eq!(codes.len(), 10);
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 19 && c.matches('-').count() == 3),
            "{codes:?}"
        );

        // Typed in capitals and with spaces, it still works.
        let typed = codes[0].to_uppercase().replace('-', " ");
        let (status, body) = sign_in_with_code(&h, &c, "alice@example.org", &typed).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("signed_in")),
            "{body}"
        );
        let session = body["session"].as_str().unwrap().to_string();
        let (status, body) = sign_in_with_code(&h, &c, "alice@example.org", &codes[0]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_code")),
            "used once: {body}"
        );
        let (_, body) = h.get(&c, "/api/v1/me/recovery-codes", Some(&session)).await;
        assert_eq!(
            (body["remaining"].as_u64(), body["total"].as_u64()),
            (Some(9), Some(10)),
            "{body}"
        );
        assert_eq!(body["few_left"], false);

        // The sign-in's second factor is recent: a new set needs no more step-up.
        // The generic way to add a method makes a set too, active at once.
        let (status, body) = h
            .post(
                &c,
                "/api/v1/me/security-info/methods",
                Some(&session),
                json!({"kind": "recovery_codes"}),
            )
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (201, Some("active")),
            "{body}"
        );
        let fresh: Vec<String> = serde_json::from_value(body["codes"].clone()).unwrap();
        assert_eq!(fresh.len(), 10);
        let (status, _) = sign_in_with_code(&h, &c, "alice@example.org", &codes[1]).await;
        assert_eq!(status, 400, "the old set no longer works");
        let (status, body) = sign_in_with_code(&h, &c, "alice@example.org", &fresh[9]).await;
        assert_eq!(status, 200, "{body}");

        let (_, info) = h.get(&c, "/api/v1/me/security-info", Some(&session)).await;
        let sets = info["methods"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "recovery_codes")
            .count();
        assert_eq!(sets, 1, "one set at a time: {info}");
        let (status, body) = h.get(&c, "/api/v1/me/activity", Some(&session)).await;
        assert_eq!(status, 200);
        let actions: Vec<&str> = body["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert!(actions.contains(&"recovery_code_used"), "{actions:?}");
        assert!(actions.contains(&"recovery_codes_generated"), "{actions:?}");
    })
    .await;
}

#[tokio::test]
async fn a_new_set_needs_a_recent_second_factor() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _, _) = h.enrolled_user(&c, "bob@example.org").await;
        let (_, codes) = new_set(&h, &c, &token).await;
        h.advance(601);
        let (status, body) = h
            .post(&c, "/api/v1/me/recovery-codes", Some(&token), json!({}))
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("step_up_required")),
            "{body}"
        );

        // Taken off the sign-in kinds, the codes are not offered, nor accepted.
        let body = h.api_sign_in(&c, "bob@example.org").await;
        let recovery = body["methods"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["kind"] == "recovery_codes")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        h.set_policy("mfa_kinds", "authenticator_code").await;
        let flow = body["flow"].as_str().unwrap();
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/verify"),
                None,
                json!({"method_id": recovery, "code": codes[0]}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("not_allowed")),
            "{body}"
        );
        let body = h.api_sign_in(&c, "bob@example.org").await;
        let kinds = method_kinds(&body);
        assert_eq!(kinds, vec!["authenticator_code"]);
    })
    .await;
}

#[tokio::test]
async fn using_a_code_is_announced_with_what_is_left() {
    each_backend_with(with_webhook, |h: Harness| async move {
        let c = h.client();
        let address = format!("u{}@example.org", uuid::Uuid::new_v4().simple());
        let (token, _, _) = h.enrolled_user(&c, "carol@example.org").await;
        let (status, body) = h
            .post(
                &c,
                "/api/v1/me/security-info/methods",
                Some(&token),
                json!({"kind": "email", "address": address}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let id = body["id"].as_str().unwrap().to_string();
        let code = gateway().nth(&address, 1).await.code.unwrap();
        let (status, _) = h
            .post(
                &c,
                &format!("/api/v1/me/security-info/methods/{id}/verify"),
                Some(&token),
                json!({"code": code}),
            )
            .await;
        assert_eq!(status, 200);
        let (_, codes) = new_set(&h, &c, &token).await;
        // Told of the new set: first the address's own code, then that note.
        assert!(gateway().nth(&address, 2).await.text.contains("was added"));
        let mut seen = 2;

        for code in codes.iter().take(8) {
            let (status, body) = sign_in_with_code(&h, &c, "carol@example.org", code).await;
            assert_eq!(status, 200, "{body}");
            seen += 1;
            let note = gateway().nth(&address, seen).await;
            assert!(
                note.text.contains("recovery code was used"),
                "{}",
                note.text
            );
        }
        let session = sign_in_with_code(&h, &c, "carol@example.org", &codes[8])
            .await
            .1["session"]
            .as_str()
            .unwrap()
            .to_string();
        let (_, body) = h.get(&c, "/api/v1/me/recovery-codes", Some(&session)).await;
        assert_eq!(
            (body["remaining"].as_u64(), body["few_left"].as_bool()),
            (Some(1), Some(true)),
            "{body}"
        );
    })
    .await;
}
