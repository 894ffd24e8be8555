//! Issue #12: password guesses per account (a growing wait that every address and every
//! path shares), a disabled account that answers like a wrong password, and an audit that
//! keeps no typed username that names nobody.

use crate::common::{Harness, PASSWORD, each_backend};
use crate::verify_api::{ask, service_key};
use crate::web::browser::Browser;
use serde_json::{Value, json};
use std::net::IpAddr;
use tessera_core::password_guesses::{FREE_FAILURES, MAX_WAIT_SECS};
use tessera_core::{AccountStatus, Clock};

const WRONG: &str = "not the password";

/// A client from its own loopback address: guess number `n` of an attacker with many.
fn from_address(n: usize) -> reqwest::Client {
    let ip = IpAddr::from([127, 0, 1 + (n / 250) as u8, 2 + (n % 250) as u8]);
    reqwest::Client::builder()
        .local_address(ip)
        .build()
        .unwrap()
}

async fn sign_in(h: &Harness, c: &reqwest::Client, username: &str, password: &str) -> (u16, Value) {
    h.post(
        c,
        "/api/v1/sign-in",
        None,
        json!({"username": username, "password": password}),
    )
    .await
}

/// `retry_after` of a `429 rate_limited`, or a panic naming the answer.
fn waited(status: u16, body: &Value) -> i64 {
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("rate_limited")),
        "{body}"
    );
    let secs = body["retry_after"].as_i64().unwrap();
    assert!((1..=MAX_WAIT_SECS).contains(&secs), "{body}");
    secs
}

#[tokio::test]
async fn guesses_from_many_addresses_wait_and_the_right_password_waits_too() {
    each_backend(|h: Harness| async move {
        h.add_user("alice@example.org").await;
        // 400 wrong passwords from 400 addresses at once: ten are checked, the rest wait.
        let checks_before = h.password_checks();
        let mut answers = std::collections::BTreeMap::<u16, usize>::new();
        for n in 0..400 {
            let (status, body) = sign_in(&h, &from_address(n), "alice@example.org", WRONG).await;
            match status {
                401 => assert_eq!(body["error"], "invalid_credentials"),
                _ => {
                    waited(status, &body);
                }
            }
            *answers.entry(status).or_default() += 1;
        }
        let free = FREE_FAILURES as usize;
        assert_eq!(answers.get(&401), Some(&free), "{answers:?}");
        assert_eq!(answers.get(&429), Some(&(400 - free)), "{answers:?}");
        assert_eq!(
            h.password_checks() - checks_before,
            FREE_FAILURES as u64,
            "a waiting guess is not checked"
        );

        // The right password is refused during the wait, without being checked …
        let checks_before = h.password_checks();
        let (status, body) = sign_in(&h, &from_address(400), "alice@example.org", PASSWORD).await;
        let wait = waited(status, &body);
        assert_eq!(h.password_checks(), checks_before, "not checked");
        assert!(wait <= 30, "the tenth failure earns 30 seconds: {body}");
        // … and accepted once it is over; the count starts again.
        h.advance(wait);
        let (status, body) = sign_in(&h, &from_address(401), "alice@example.org", PASSWORD).await;
        assert_eq!(status, 200, "{body}");
        for n in 0..free {
            let (status, body) = sign_in(&h, &from_address(n), "alice@example.org", WRONG).await;
            assert_eq!(status, 401, "failure {n} after the right password: {body}");
        }
    })
    .await;
}

#[tokio::test]
async fn an_attacker_gets_far_fewer_than_a_hundred_guesses_an_hour() {
    each_backend(|h: Harness| async move {
        h.add_user("alice@example.org").await;
        let start = h.clock().now();
        let hour = time::Duration::hours(1);
        let (mut checked, mut refused, mut n) = (0, 0, 0);
        // Every guess taken the moment it is allowed, each from a new address.
        while h.clock().now() - start < hour {
            let (status, body) = sign_in(&h, &from_address(n), "alice@example.org", WRONG).await;
            n += 1;
            if status == 401 {
                checked += 1;
            } else {
                refused += 1;
                h.advance(waited(status, &body));
            }
        }
        eprintln!("in an hour: {checked} guesses checked, {refused} refused unchecked");
        assert!(
            checked < 25,
            "{checked} guesses in an hour; NIST allows 100 failures in a row in all"
        );
        // Later hours: one guess every 15 minutes.
        let (mut later, hour_two) = (0, h.clock().now());
        while h.clock().now() - hour_two < hour {
            let (status, body) = sign_in(&h, &from_address(n), "alice@example.org", WRONG).await;
            n += 1;
            if status == 401 {
                later += 1;
            } else {
                let wait = waited(status, &body);
                assert!(wait <= MAX_WAIT_SECS, "never more than 15 minutes");
                h.advance(wait);
            }
        }
        assert!(later <= 5, "{later} guesses in the second hour");
        // The owner is never more than a wait away.
        let (status, body) = sign_in(&h, &h.client(), "alice@example.org", PASSWORD).await;
        h.advance(if status == 429 {
            waited(status, &body)
        } else {
            0
        });
        let (status, body) = sign_in(&h, &h.client(), "alice@example.org", PASSWORD).await;
        assert_eq!(status, 200, "{body}");
    })
    .await;
}

#[tokio::test]
async fn an_unknown_username_is_counted_and_answered_like_a_known_one() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        h.add_user("alice@example.org").await;
        for i in 0..FREE_FAILURES + 3 {
            let known = sign_in(&h, &c, "alice@example.org", WRONG).await;
            let unknown = sign_in(&h, &c, "nobody@example.org", WRONG).await;
            assert_eq!(known, unknown, "guess {i}: the same status and body");
            let expected = if i < FREE_FAILURES { 401 } else { 429 };
            assert_eq!(known.0, expected, "guess {i}: {}", known.1);
        }
        // Counted under the username as it is normalized.
        let (status, _) = sign_in(&h, &c, "  NOBODY@example.org ", WRONG).await;
        assert_eq!(status, 429);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_cannot_slip_past_the_wait() {
    each_backend(|h: Harness| async move {
        h.add_user("alice@example.org").await;
        let guesses: Vec<_> = (0..40)
            .map(|n| {
                let h = h.clone();
                tokio::spawn(async move {
                    sign_in(&h, &from_address(n), "alice@example.org", WRONG)
                        .await
                        .0
                })
            })
            .collect();
        let mut checked = 0;
        for guess in guesses {
            match guess.await.unwrap() {
                401 => checked += 1,
                429 => {}
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(
            checked, FREE_FAILURES,
            "exactly the free failures were checked"
        );
    })
    .await;
}

#[tokio::test]
async fn the_verification_api_and_password_change_share_the_wait() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, _, key) = service_key(&h, &c).await;
        let (token, _, _) = h.enrolled_user(&c, "gus@example.org").await;
        let user = "gus@example.org";
        // Half the guesses through the sign-in, half through a service.
        for _ in 0..FREE_FAILURES / 2 {
            assert_eq!(sign_in(&h, &c, user, WRONG).await.0, 401);
        }
        for _ in FREE_FAILURES / 2..FREE_FAILURES {
            let (status, a) = ask(&h, &c, &key, json!({"username": user, "password": WRONG})).await;
            assert_eq!((status, a["reason"].as_str()), (200, Some("invalid_credentials")));
        }
        let (status, body) = ask(&h, &c, &key, json!({"username": user, "password": PASSWORD})).await;
        let wait = waited(status, &body);
        let (status, body) = sign_in(&h, &c, user, PASSWORD).await;
        waited(status, &body);
        // Changing one's password checks the current one: the same count.
        let change = json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"});
        let (status, body) = h.post(&c, "/api/v1/me/password", Some(&token), change.clone()).await;
        waited(status, &body);

        h.advance(wait);
        let (status, a) = ask(&h, &c, &key, json!({"username": user, "password": PASSWORD})).await;
        assert_eq!(status, 200, "{a}");
        assert_eq!(a["reason"], "code_required", "the password was right: {a}");
        // The right password cleared the count: ten more wrong ones are checked again.
        for i in 0..FREE_FAILURES {
            let wrong = json!({"current_password": format!("wrong {i}"), "new_password": "a brand new passphrase"});
            let (status, body) = h.post(&c, "/api/v1/me/password", Some(&token), wrong).await;
            assert_eq!((status, body["field"].as_str()), (400, Some("current_password")), "{body}");
        }
        let (status, body) = h.post(&c, "/api/v1/me/password", Some(&token), change.clone()).await;
        let wait = waited(status, &body);
        h.advance(wait);
        let (status, body) = h.post(&c, "/api/v1/me/password", Some(&token), change).await;
        assert_eq!(status, 204, "{body}");
    })
    .await;
}

#[tokio::test]
async fn a_disabled_account_answers_its_right_password_as_a_wrong_one() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let mallory = h.add_user("mallory@example.org").await;
        h.tessera()
            .local_admin()
            .set_status("mallory@example.org", AccountStatus::Disabled)
            .await
            .unwrap();
        let right = sign_in(&h, &c, "mallory@example.org", PASSWORD).await;
        let wrong = sign_in(&h, &c, "mallory@example.org", WRONG).await;
        assert_eq!(right.0, 401, "{}", right.1);
        assert_eq!(right.1["error"], "invalid_credentials");
        assert_eq!(right, wrong, "the same status and body");
        let actions: Vec<_> = h
            .store()
            .audit_of(mallory.id, 10)
            .await
            .unwrap()
            .iter()
            .map(|e| e.action)
            .collect();
        assert!(
            actions.contains(&tessera_core::AuditAction::SignInRefusedDisabled),
            "the audit says why: {actions:?}"
        );

        // The right password is counted as a failure too, so the wait does not tell either.
        for _ in 2..FREE_FAILURES {
            assert_eq!(
                sign_in(&h, &c, "mallory@example.org", PASSWORD).await.0,
                401
            );
        }
        let (status, body) = sign_in(&h, &c, "mallory@example.org", PASSWORD).await;
        waited(status, &body);

        // The page says what it says for a wrong password.
        h.advance(MAX_WAIT_SECS);
        let b = Browser::new(&h);
        let fields = |password| [("username", "mallory@example.org"), ("password", password)];
        let right = b.submit("/sign-in", "/sign-in", &fields(PASSWORD)).await;
        h.advance(MAX_WAIT_SECS);
        let wrong = b.submit("/sign-in", "/sign-in", &fields(WRONG)).await;
        for page in [&right, &wrong] {
            page.shows(401, "The username or password is incorrect.");
            assert!(!page.html.contains("account is disabled"), "{}", page.html);
        }
    })
    .await;
}

#[tokio::test]
async fn the_audit_keeps_a_typed_username_only_when_it_names_an_account() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (admin_token, _, key) = service_key(&h, &c).await;
        h.add_user("dora@example.org").await;
        // Someone types their password into the username field.
        let typed = "Hunter2-Correct-Horse";
        assert_eq!(sign_in(&h, &c, typed, WRONG).await.0, 401);
        assert_eq!(sign_in(&h, &c, "dora@example.org", WRONG).await.0, 401);
        let (status, _) = ask(&h, &c, &key, json!({"username": typed, "password": WRONG})).await;
        assert_eq!(status, 200);
        let (status, body) = h
            .post(&c, "/api/v1/reset", None, json!({"username": typed}))
            .await;
        assert_eq!(status, 200, "{body}");

        let (status, log) = h
            .get(&c, "/api/v1/admin/audit?limit=500", Some(&admin_token))
            .await;
        assert_eq!(status, 200, "{log}");
        let text = log.to_string().to_lowercase();
        assert!(
            !text.contains("hunter2"),
            "the typed text is in the audit: {log}"
        );
        let events = log["events"].as_array().unwrap();
        let tags: Vec<&str> = [
            "sign_in_password_failed",
            "service_verify_rejected",
            "reset_started",
        ]
        .iter()
        .map(|action| {
            let event = events
                .iter()
                .find(|e| e["action"] == *action && e["account_id"].is_null())
                .unwrap_or_else(|| panic!("no {action} without an account: {log}"));
            let tag = event["detail"]["username_hash"]
                .as_str()
                .unwrap_or_default();
            assert!(
                tag.len() == 16 && tag.chars().all(|c| c.is_ascii_hexdigit()),
                "{action}: {event}"
            );
            tag
        })
        .collect();
        assert!(
            tags.iter().all(|t| *t == tags[0]),
            "one name, one tag: {tags:?}"
        );
        // A username that names an account is kept as it is.
        let dora = events
            .iter()
            .find(|e| e["action"] == "sign_in_password_failed" && !e["account_id"].is_null())
            .unwrap();
        assert_eq!(dora["detail"]["username"], "dora@example.org", "{dora}");
    })
    .await;
}

/// A new password set by an admin ends the wait that guesses at the old one earned: the
/// person who was given it signs in at once.
#[tokio::test]
async fn a_new_password_from_an_admin_ends_the_wait() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (admin_token, _) = crate::admin::admin(&h, &c, "ada@example.org").await;
        h.add_user("bo@example.org").await;
        for _ in 0..FREE_FAILURES + 1 {
            sign_in(&h, &c, "bo@example.org", WRONG).await;
        }
        let (status, body) = sign_in(&h, &c, "bo@example.org", PASSWORD).await;
        waited(status, &body);
        let bo = crate::admin::id_of(&h, "bo@example.org").await;
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/admin/accounts/{bo}/temporary-password"),
                Some(&admin_token),
                json!({"password": "a brand new passphrase for bo"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) =
            sign_in(&h, &c, "bo@example.org", "a brand new passphrase for bo").await;
        assert_eq!(status, 200, "no wait after the new password: {body}");
    })
    .await;
}
