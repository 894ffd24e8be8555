//! What a stranger can do with a username and the reset API (issue #12): guess, and have texts
//! sent. Neither may spend what the person needs to sign in, and guessing still stops, per
//! flow (5 wrong answers by default) and per account (10, across flows). A decoy (an unknown
//! name) locks and answers as a real one does.

use crate::common::{Harness, PASSWORD, each_backend, each_backend_with, method_kinds};
use crate::gateway::{gateway, with_webhook};
use crate::phone::{address, with_phone};
use crate::reset::{NEW_PASSWORD, begin, challenge, method_of, new_password, verify};
use serde_json::{Value, json};

/// (status, error, retry_after) of an answer, for comparing two.
type Outcome = (u16, Option<String>, Option<u64>);

fn outcome(status: u16, body: &Value) -> Outcome {
    (
        status,
        body["error"].as_str().map(str::to_string),
        body["retry_after"].as_u64(),
    )
}

/// Signs in with the password and the code of `secret`; answers the final (status, body).
async fn sign_in(h: &Harness, c: &reqwest::Client, username: &str, secret: &str) -> (u16, Value) {
    let (status, body) = h
        .post(
            c,
            "/api/v1/sign-in",
            None,
            json!({"username": username, "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("mfa_required")),
        "{body}"
    );
    let flow = body["flow"].as_str().unwrap();
    let method = body["default_method"].as_str().unwrap();
    h.post(
        c,
        &format!("/api/v1/sign-in/{flow}/verify"),
        None,
        json!({"method_id": method, "code": h.code(secret, 0)}),
    )
    .await
}

/// A new reset flow of `username`: (flow, the id of its `kind` gate).
async fn flow_of(h: &Harness, c: &reqwest::Client, username: &str, kind: &str) -> (String, String) {
    let (status, body) = begin(h, c, username).await;
    assert_eq!(status, 200, "{body}");
    (
        body["flow"].as_str().unwrap().to_string(),
        method_of(&body, kind),
    )
}

async fn wrong(h: &Harness, c: &reqwest::Client, flow: &str, method: &str) -> (u16, Value) {
    verify(h, c, flow, json!({"method_id": method, "code": "000000"})).await
}

#[tokio::test]
async fn wrong_reset_codes_never_lock_the_persons_sign_in() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, method, secret) = h.enrolled_user(&c, "alice@example.org").await;

        // A stranger with the username and the method's id: twelve wrong codes.
        let (flow, gate) = flow_of(&h, &c, "alice@example.org", "authenticator_code").await;
        assert_eq!(gate, method, "the real method");
        for attempt in 1..=12 {
            let (status, body) = wrong(&h, &c, &flow, &method).await;
            let expected = if attempt < 5 {
                (400, "invalid_code")
            } else {
                (429, "locked")
            };
            assert_eq!(
                (status, body["error"].as_str().unwrap()),
                expected,
                "attempt {attempt}: {body}"
            );
        }

        // The person signs in with their password and code, as if nothing happened.
        let (status, body) = sign_in(&h, &c, "alice@example.org", &secret).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("signed_in")),
            "{body}"
        );
        let account = h
            .store()
            .account_by_username("alice@example.org")
            .await
            .unwrap()
            .unwrap();
        let methods = h.store().methods_of(account.id).await.unwrap();
        assert_eq!(
            (methods[0].failures, methods[0].locked_until),
            (0, None),
            "the method's own lock-out never saw the reset's guesses"
        );
    })
    .await;
}

#[tokio::test]
async fn reset_guessing_stops_per_flow_and_per_account_but_sign_in_goes_on() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, method, secret) = h.enrolled_user(&c, "bert@example.org").await;

        // A flow locks at its fifth wrong answer, and stays locked.
        let (first, _) = flow_of(&h, &c, "bert@example.org", "authenticator_code").await;
        for _ in 0..4 {
            assert_eq!(wrong(&h, &c, &first, &method).await.0, 400);
        }
        let (status, body) = wrong(&h, &c, &first, &method).await;
        assert_eq!(
            outcome(status, &body),
            (429, Some("locked".into()), Some(900))
        );
        h.advance(10);
        let right = json!({"method_id": method, "code": h.code(&secret, 0)});
        let (status, body) = verify(&h, &c, &first, right.clone()).await;
        assert_eq!(
            outcome(status, &body),
            (429, Some("locked".into()), Some(890)),
            "even the right code waits: the lock is not an oracle"
        );

        // A new flow gets its own five, but the account's resets together get ten.
        let (second, _) = flow_of(&h, &c, "bert@example.org", "authenticator_code").await;
        for _ in 0..4 {
            assert_eq!(wrong(&h, &c, &second, &method).await.0, 400);
        }
        let (status, body) = wrong(&h, &c, &second, &method).await;
        assert_eq!(
            outcome(status, &body),
            (429, Some("locked".into()), Some(900))
        );
        let (third, _) = flow_of(&h, &c, "bert@example.org", "authenticator_code").await;
        let (status, body) = verify(&h, &c, &third, right.clone()).await;
        assert_eq!(
            outcome(status, &body),
            (429, Some("locked".into()), Some(900)),
            "a fresh flow starts locked: {body}"
        );

        // The lock stops resets only: the person signs in.
        let (status, body) = sign_in(&h, &c, "bert@example.org", &secret).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("signed_in")),
            "{body}"
        );
        let account = h
            .store()
            .account_by_username("bert@example.org")
            .await
            .unwrap()
            .unwrap();
        let actions: Vec<String> = h
            .store()
            .audit_of(account.id, 200)
            .await
            .unwrap()
            .iter()
            .map(|e| e.action.as_str().to_string())
            .collect();
        assert_eq!(
            actions.iter().filter(|a| *a == "reset_locked").count(),
            2,
            "the flow's lock and the account's: {actions:?}"
        );
        assert!(!actions.iter().any(|a| a == "method_locked"), "{actions:?}");

        // Once the lock lapses, a reset with the right code goes through.
        h.advance(901);
        let (fourth, _) = flow_of(&h, &c, "bert@example.org", "authenticator_code").await;
        let right = json!({"method_id": method, "code": h.code(&secret, 0)});
        let (status, body) = verify(&h, &c, &fourth, right).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(new_password(&h, &c, &fourth, NEW_PASSWORD).await.0, 204);
    })
    .await;
}

#[tokio::test]
async fn a_totp_step_counts_once_across_sign_in_and_reset() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, method, secret) = h.enrolled_user(&c, "cleo@example.org").await;

        // Used at sign-in: refused at a reset in the same step.
        let (status, _) = sign_in(&h, &c, "cleo@example.org", &secret).await;
        assert_eq!(status, 200);
        let (flow, _) = flow_of(&h, &c, "cleo@example.org", "authenticator_code").await;
        let code = json!({"method_id": method, "code": h.code(&secret, 0)});
        let (status, body) = verify(&h, &c, &flow, code).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_code")),
            "a replay: {body}"
        );

        // Used at a reset: refused at sign-in in the same step.
        h.advance(30);
        let code = json!({"method_id": method, "code": h.code(&secret, 0)});
        let (status, body) = verify(&h, &c, &flow, code).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = sign_in(&h, &c, "cleo@example.org", &secret).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_code")),
            "a replay: {body}"
        );
    })
    .await;
}

#[tokio::test]
async fn reset_texts_have_their_own_budget_and_the_sign_in_text_still_goes() {
    each_backend_with(with_webhook, |h: Harness| async move {
        let c = h.client();
        let (_, phone, e164) = with_phone(&h, &c, "dirk@example.org").await;

        // A stranger starts resets and has the phone texted, until the reset's own budget
        // for the number (five an hour) is spent.
        for attempt in 1..=8 {
            let (flow, gate) = flow_of(&h, &c, "dirk@example.org", "phone_mobile").await;
            assert_eq!(gate, phone);
            let (status, body) = challenge(&h, &c, &flow, &phone).await;
            if attempt <= 5 {
                assert_eq!(status, 200, "attempt {attempt}: {body}");
            } else {
                assert_eq!(
                    (status, body["error"].as_str()),
                    (429, Some("rate_limited")),
                    "attempt {attempt}: {body}"
                );
            }
        }
        let texts = gateway().received(&e164).len();

        // The person's sign-in text goes out, and signs them in.
        let body = h.api_sign_in(&c, "dirk@example.org").await;
        assert_eq!(body["status"], "mfa_required", "{body}");
        let flow = body["flow"].as_str().unwrap();
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/challenge"),
                None,
                json!({"method_id": phone}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let code = gateway().nth(&e164, texts + 1).await.code.unwrap();
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/verify"),
                None,
                json!({"method_id": phone, "code": code}),
            )
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("signed_in")),
            "{body}"
        );

        // A reset locked by wrong answers sends nothing more.
        h.set_policy("reset_attempts_per_account", "20").await;
        for _ in 0..2 {
            let (flow, _) = flow_of(&h, &c, "dirk@example.org", "phone_mobile").await;
            for _ in 0..5 {
                wrong(&h, &c, &flow, &phone).await;
            }
        }
        let (flow, _) = flow_of(&h, &c, "dirk@example.org", "phone_mobile").await;
        let (status, body) = challenge(&h, &c, &flow, &phone).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (429, Some("locked")),
            "{body}"
        );
    })
    .await;
}

#[tokio::test]
async fn an_unknown_name_locks_at_the_same_second_as_a_known_one() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        h.enrolled_user(&c, "erik@example.org").await;
        let (real, real_gate) = flow_of(&h, &c, "erik@example.org", "authenticator_code").await;
        let (decoy, decoy_gate) = flow_of(&h, &c, "nobody@example.org", "authenticator_code").await;
        // Eleven guesses ten seconds apart on each, and a new flow of each name after.
        let (mut seen_real, mut seen_decoy) = (Vec::new(), Vec::new());
        for _ in 0..11 {
            let (status, body) = wrong(&h, &c, &real, &real_gate).await;
            seen_real.push(outcome(status, &body));
            let (status, body) = wrong(&h, &c, &decoy, &decoy_gate).await;
            seen_decoy.push(outcome(status, &body));
            h.advance(10);
        }
        assert_eq!(seen_real, seen_decoy);
        assert_eq!(seen_real[4], (429, Some("locked".into()), Some(900)));
        assert_eq!(seen_real[10], (429, Some("locked".into()), Some(840)));
        for (name, seen) in [
            ("erik@example.org", &mut seen_real),
            ("nobody@example.org", &mut seen_decoy),
        ] {
            let (flow, gate) = flow_of(&h, &c, name, "authenticator_code").await;
            for _ in 0..11 {
                let (status, body) = wrong(&h, &c, &flow, &gate).await;
                seen.push(outcome(status, &body));
            }
        }
        assert_eq!(seen_real, seen_decoy, "the account's lock too");
    })
    .await;
}

/// Adds an email address to the signed-in `token`'s security info, proven with the code sent.
async fn add_email(h: &Harness, c: &reqwest::Client, token: &str) -> String {
    let to = address();
    let (status, added) = h
        .post(
            c,
            "/api/v1/me/security-info/methods",
            Some(token),
            json!({"kind": "email", "address": to}),
        )
        .await;
    assert_eq!(status, 201, "{added}");
    let id = added["id"].as_str().unwrap().to_string();
    let code = gateway().nth(&to, 1).await.code.unwrap();
    let (status, body) = h
        .post(
            c,
            &format!("/api/v1/me/security-info/methods/{id}/verify"),
            Some(token),
            json!({"code": code}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    to
}

fn is_masked_phone(label: &str) -> bool {
    label
        .strip_prefix("+31 6•••••")
        .is_some_and(|end| end.len() == 2 && end.chars().all(|c| c.is_ascii_digit()))
}

fn is_masked_address(label: &str) -> bool {
    label
        .split_once("•••@")
        .is_some_and(|(first, domain)| first.chars().count() == 1 && domain.contains('.'))
}

#[tokio::test]
async fn decoy_gates_look_like_the_people_here_and_answer_alike() {
    each_backend_with(with_webhook, |h: Harness| async move {
        let c = h.client();
        for name in ["fenna@example.org", "gijs@example.org", "hanna@example.org"] {
            let (token, _, _) = with_phone(&h, &c, name).await;
            add_email(&h, &c, &token).await;
        }
        let sent_before = h.store().recent_messages(1000).await.unwrap().len();

        // Everyone here has a phone and an address: so does every decoy, masked alike.
        let kinds = |body: &Value| {
            let mut kinds = method_kinds(body);
            kinds.sort();
            kinds.into_iter().map(str::to_string).collect::<Vec<_>>()
        };
        let label = |body: &Value, kind: &str| {
            let id = method_of(body, kind);
            body["methods"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["id"] == id.as_str())
                .unwrap()["label"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let (_, real) = begin(&h, &c, "fenna@example.org").await;
        assert_eq!(kinds(&real), ["email", "phone_mobile"], "{real}");
        for name in ["ghost@example.org", "nobody@example.org", "x@example.org"] {
            let (status, decoy) = begin(&h, &c, name).await;
            assert_eq!(status, 200, "{decoy}");
            assert_eq!(kinds(&decoy), kinds(&real), "{decoy}");
            for body in [&real, &decoy] {
                assert!(is_masked_phone(&label(body, "phone_mobile")), "{body}");
                assert!(is_masked_address(&label(body, "email")), "{body}");
            }
            let (_, again) = begin(&h, &c, name).await;
            assert_eq!(again["methods"], decoy["methods"], "the same every time");
        }

        // A code "sent" to the decoy's phone: the same answers as a real one's, in order (with
        // room for a code to die before the flow locks).
        h.set_policy("lockout_threshold", "20").await;
        let (real_flow, real_phone) = flow_of(&h, &c, "gijs@example.org", "phone_mobile").await;
        let (decoy_flow, decoy_phone) = flow_of(&h, &c, "ghost@example.org", "phone_mobile").await;
        let mut answers: Vec<Vec<Outcome>> = Vec::new();
        for (flow, phone) in [(&real_flow, &real_phone), (&decoy_flow, &decoy_phone)] {
            let mut seen = Vec::new();
            let (status, body) = wrong(&h, &c, flow, phone).await;
            seen.push(outcome(status, &body));
            let (status, body) = challenge(&h, &c, flow, phone).await;
            assert!(is_masked_phone(body["sent_to"].as_str().unwrap()), "{body}");
            seen.push(outcome(status, &body));
            let (status, body) = challenge(&h, &c, flow, phone).await;
            seen.push(outcome(status, &body));
            for _ in 0..6 {
                let (status, body) = wrong(&h, &c, flow, phone).await;
                seen.push(outcome(status, &body));
            }
            answers.push(seen);
        }
        assert_eq!(answers[0], answers[1]);
        assert_eq!(
            answers[0][2],
            (429, Some("rate_limited".into()), Some(60)),
            "the cool-down"
        );
        assert_eq!(
            answers[0][8],
            (410, Some("expired".into()), None),
            "the code died at its fifth wrong try"
        );
        let sent = h.store().recent_messages(1000).await.unwrap().len();
        assert_eq!(sent, sent_before + 1, "only the real phone was texted");
    })
    .await;
}
