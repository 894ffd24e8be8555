//! Security questions: off by default, a reset gate only, the rules for answers, and the
//! organization's own questions.

use crate::common::{Harness, each_backend, method_kinds};
use crate::reset::{NEW_PASSWORD, begin, challenge, method_of, new_password, verify};
use serde_json::{Value, json};

const ANSWERS: [(&str, &str); 5] = [
    ("first-pet", "Rex the Dog"),
    ("first-school", "De Regenboog"),
    ("first-book", "Nijntje"),
    ("childhood-street", "Kerkstraat"),
    ("first-concert", "Doe Maar"),
];

fn answers(pairs: &[(&str, &str)]) -> Value {
    json!({"answers": pairs.iter().map(|(id, a)| json!({"id": id, "answer": a})).collect::<Vec<_>>()})
}

async fn register(h: &Harness, c: &reqwest::Client, token: &str, body: Value) -> (u16, Value) {
    let response = c
        .put(h.url("/api/v1/me/security-questions"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    crate::common::response(response).await
}

/// An enrolled person whose organization turned security questions on.
async fn with_questions_on(h: &Harness, c: &reqwest::Client, username: &str) -> String {
    let (token, _, _) = h.enrolled_user(c, username).await;
    h.set_policy(
        "reset_kinds",
        "authenticator_code,recovery_codes,security_questions",
    )
    .await;
    token
}

#[tokio::test]
async fn questions_are_off_until_an_admin_turns_them_on() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _, _) = h.enrolled_user(&c, "alice@example.org").await;
        let (status, body) = register(&h, &c, &token, answers(&ANSWERS)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("not_allowed")),
            "{body}"
        );
        h.set_policy("reset_kinds", "authenticator_code,security_questions")
            .await;
        let (status, body) = register(&h, &c, &token, answers(&ANSWERS)).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("active")),
            "{body}"
        );

        // Never a sign-in factor, nor a default, nor a step-up.
        let body = h.api_sign_in(&c, "alice@example.org").await;
        let kinds = method_kinds(&body);
        assert_eq!(kinds, vec!["authenticator_code"], "{body}");
        let refused = h
            .tessera()
            .local_admin()
            .set_policy(&[("mfa_kinds".into(), "security_questions".into())])
            .await
            .unwrap();
        assert!(
            refused.is_err(),
            "the policy refuses questions as a sign-in factor"
        );
    })
    .await;
}

#[tokio::test]
async fn the_rules_for_answers() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let token = with_questions_on(&h, &c, "bob@example.org").await;
        let (_, mine) = h
            .get(&c, "/api/v1/me/security-questions", Some(&token))
            .await;
        assert_eq!(mine["to_register"], 5);
        assert!(mine["available"].as_array().unwrap().len() >= 20, "{mine}");
        assert_eq!(mine["registered"], Value::Null);

        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (ANSWERS[..4].to_vec(), "answers"),
            (
                vec![
                    ANSWERS[0],
                    ANSWERS[1],
                    ANSWERS[2],
                    ANSWERS[3],
                    ("first-pet", "Bello"),
                ],
                "question",
            ),
            (
                vec![
                    ANSWERS[0],
                    ANSWERS[1],
                    ANSWERS[2],
                    ANSWERS[3],
                    ("first-album", "  rex THE   dog "),
                ],
                "answer",
            ),
            (
                vec![
                    ANSWERS[0],
                    ANSWERS[1],
                    ANSWERS[2],
                    ANSWERS[3],
                    ("first-album", " ab "),
                ],
                "answer",
            ),
            (
                vec![
                    ANSWERS[0],
                    ANSWERS[1],
                    ANSWERS[2],
                    ANSWERS[3],
                    ("made-up", "Something"),
                ],
                "question",
            ),
        ];
        for (pairs, field) in cases {
            let (status, body) = register(&h, &c, &token, answers(&pairs)).await;
            assert_eq!(
                (status, body["field"].as_str()),
                (400, Some(field)),
                "{pairs:?}: {body}"
            );
        }
        let (_, mine) = h
            .get(&c, "/api/v1/me/security-questions", Some(&token))
            .await;
        assert_eq!(
            mine["registered"],
            Value::Null,
            "a refused registration changes nothing"
        );

        let (status, body) = register(&h, &c, &token, answers(&ANSWERS)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["questions"].as_array().unwrap().len(), 5);
        let (_, info) = h.get(&c, "/api/v1/me/security-info", Some(&token)).await;
        let sq = info["methods"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "security_questions")
            .count();
        assert_eq!(sq, 1);
        // Answering again (here through the generic way to add a method) replaces the
        // earlier answers.
        let mut body = answers(&ANSWERS);
        body["kind"] = json!("security_questions");
        let (status, body) = h
            .post(&c, "/api/v1/me/security-info/methods", Some(&token), body)
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (201, Some("active")),
            "{body}"
        );
        assert_eq!(body["questions"].as_array().unwrap().len(), 5);
        let (_, info) = h.get(&c, "/api/v1/me/security-info", Some(&token)).await;
        let sq = info["methods"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "security_questions")
            .count();
        assert_eq!(sq, 1, "still one: {info}");
    })
    .await;
}

/// The answer to `id`, as registered.
fn answer_to(id: &str) -> &'static str {
    ANSWERS.iter().find(|(q, _)| *q == id).unwrap().1
}

#[tokio::test]
async fn a_reset_asks_some_questions_and_all_must_match_however_typed() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let token = with_questions_on(&h, &c, "carol@example.org").await;
        assert_eq!(register(&h, &c, &token, answers(&ANSWERS)).await.0, 200);

        let (_, body) = begin(&h, &c, "carol@example.org").await;
        let flow = body["flow"].as_str().unwrap().to_string();
        let method = method_of(&body, "security_questions");
        let (status, asked) = challenge(&h, &c, &flow, &method).await;
        assert_eq!(status, 200, "{asked}");
        let questions = asked["questions"].as_array().unwrap().clone();
        assert_eq!(questions.len(), 3, "the policy's three of five: {asked}");
        for q in &questions {
            let id = q["id"].as_str().unwrap();
            assert!(ANSWERS.iter().any(|(a, _)| *a == id), "{id}");
            assert!(q["text"].as_str().unwrap().ends_with('?'), "{q}");
        }
        // Asked again in this reset: the same questions, not new ones to pick from.
        let (_, again) = challenge(&h, &c, &flow, &method).await;
        assert_eq!(again["questions"], asked["questions"]);
        // In Dutch, in Dutch.
        let dutch = c
            .post(h.url(&format!("/api/v1/reset/{flow}/challenge")))
            .header("accept-language", "nl")
            .json(&json!({"method_id": method}))
            .send()
            .await
            .unwrap();
        let (_, dutch) = crate::common::response(dutch).await;
        assert_ne!(dutch["questions"][0]["text"], asked["questions"][0]["text"]);

        let ids: Vec<&str> = questions
            .iter()
            .map(|q| q["id"].as_str().unwrap())
            .collect();
        let mut wrong: Vec<(&str, &str)> = ids.iter().map(|id| (*id, answer_to(id))).collect();
        wrong[2].1 = "not it at all";
        let mut body = answers(&wrong);
        body["method_id"] = json!(method);
        let (status, body) = verify(&h, &c, &flow, body).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_code")),
            "{body}"
        );
        let (status, _) = new_password(&h, &c, &flow, NEW_PASSWORD).await;
        assert_eq!(status, 403);

        // Case, spacing and compatibility forms do not matter.
        let typed: Vec<(String, String)> = ids
            .iter()
            .map(|id| {
                let a = answer_to(id).to_uppercase().replace(' ', "   ");
                let a = a.replace('E', "\u{FF25}"); // a full-width E
                (id.to_string(), format!("  {a} "))
            })
            .collect();
        let typed: Vec<(&str, &str)> = typed
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let mut body = answers(&typed);
        body["method_id"] = json!(method);
        let (status, body) = verify(&h, &c, &flow, body).await;
        assert_eq!(
            (status, body["gates_passed"].as_u64()),
            (200, Some(1)),
            "{body}"
        );
        assert_eq!(new_password(&h, &c, &flow, NEW_PASSWORD).await.0, 204);
    })
    .await;
}

#[tokio::test]
async fn a_decoy_asks_and_checks_questions_at_the_same_cost() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let token = with_questions_on(&h, &c, "dave@example.org").await;
        assert_eq!(register(&h, &c, &token, answers(&ANSWERS)).await.0, 200);
        h.set_policy("reset_kinds", "security_questions").await;

        let mut costs = Vec::new();
        for username in ["dave@example.org", "nobody@example.org"] {
            let (_, body) = begin(&h, &c, username).await;
            let flow = body["flow"].as_str().unwrap().to_string();
            let method = method_of(&body, "security_questions");
            let (status, asked) = challenge(&h, &c, &flow, &method).await;
            assert_eq!(status, 200, "{asked}");
            let given: Vec<Value> = asked["questions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|q| json!({"id": q["id"], "answer": "wrong answer"}))
                .collect();
            assert_eq!(given.len(), 3, "{username}: {asked}");
            let before = h.password_checks();
            let (status, body) = verify(
                &h,
                &c,
                &flow,
                json!({"method_id": method, "answers": given}),
            )
            .await;
            assert_eq!(
                (status, body["error"].as_str()),
                (400, Some("invalid_code")),
                "{username}: {body}"
            );
            costs.push(h.password_checks() - before);
        }
        assert_eq!(costs[0], costs[1], "as many Argon2id checks for a decoy");
        assert!(costs[0] >= 3);
    })
    .await;
}

#[tokio::test]
async fn the_organizations_own_questions() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let token = with_questions_on(&h, &c, "erin@example.org").await;
        let admin = crate::policy::admin_session(&h, &c, "root@example.org").await;
        let (status, body) = h
            .post(&c, "/api/v1/admin/security-questions", Some(&token), json!({"texts": {"en": "Nope?"}}))
            .await;
        assert_eq!(status, 403, "admins only: {body}");
        let (status, body) = h
            .post(&c, "/api/v1/admin/security-questions", Some(&admin), json!({"texts": {"nl": "Alleen Nederlands?"}}))
            .await;
        assert_eq!((status, body["field"].as_str()), (400, Some("en")), "English is required: {body}");
        let (status, body) = h
            .post(
                &c,
                "/api/v1/admin/security-questions",
                Some(&admin),
                json!({"texts": {"en": "What was your first team's mascot?", "nl": "Wat was de mascotte van je eerste team?"}}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let id = body["id"].as_str().unwrap().to_string();

        let dutch = c
            .get(h.url("/api/v1/me/security-questions"))
            .bearer_auth(&token)
            .header("accept-language", "nl")
            .send()
            .await
            .unwrap();
        let (_, mine) = crate::common::response(dutch).await;
        let ours = mine["available"].as_array().unwrap().iter().find(|q| q["id"] == id.as_str()).unwrap().clone();
        assert_eq!(ours["text"], "Wat was de mascotte van je eerste team?");

        let mut pairs: Vec<(&str, &str)> = ANSWERS[..4].to_vec();
        pairs.push((id.as_str(), "Bertie"));
        assert_eq!(register(&h, &c, &token, answers(&pairs)).await.0, 200);

        // Retired, it is no longer offered, but the answer given to it still counts.
        let (status, _) = h.delete(&c, &format!("/api/v1/admin/security-questions/{id}"), &admin).await;
        assert_eq!(status, 204);
        let (_, mine) = h.get(&c, "/api/v1/me/security-questions", Some(&token)).await;
        assert!(!mine["available"].as_array().unwrap().iter().any(|q| q["id"] == id.as_str()));
        let (status, _) = register(&h, &c, &token, answers(&pairs)).await;
        assert_eq!(status, 400, "nobody can choose it now");
        let (_, list) = h.get(&c, "/api/v1/admin/security-questions", Some(&admin)).await;
        assert_eq!(list["custom"][0]["retired"], true, "{list}");
        assert!(list["builtin"].as_array().unwrap().len() >= 20);

    })
    .await;
}
