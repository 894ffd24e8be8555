//! Abuse: guessing codes, probing usernames, flooding from one address.

use crate::common::{Harness, PASSWORD, each_backend, each_backend_with};
use serde_json::json;
use std::time::{Duration, Instant};
use tessera_core::Policy;

#[tokio::test]
async fn guessing_codes_with_a_known_password_stays_within_the_lock_out() {
    let policy = Policy::default();
    let per_window = u64::from(policy.lockout_threshold);
    // One step of skew each way: three codes are right at any moment.
    let guesses = 1_000_000.0 / 3.0;
    let days = guesses / per_window as f64 * policy.lockout_secs as f64 / 86_400.0;
    eprintln!(
        "expected time to guess a 6-digit code at {per_window} tries per {} minutes: \
         {guesses:.0} tries, about {days:.0} days",
        policy.lockout_secs / 60
    );
    assert!(days > 300.0, "the defaults must keep guessing near a year");

    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, method, secret) = h.enrolled_user(&c, "alice@example.org").await;
        let mut checked = 0;
        let mut locked = 0;
        // An attacker who knows the password: a new sign-in for every guess, 25 guesses.
        for attempt in 0..25 {
            let flow = h.api_sign_in(&c, "alice@example.org").await["flow"]
                .as_str()
                .unwrap()
                .to_string();
            let guess = format!("{:06}", (attempt * 7919 + 13) % 1_000_000);
            let guess = if (-1..=1).any(|o| guess == h.code(&secret, o)) {
                h.wrong_code(&secret)
            } else {
                guess
            };
            let (status, body) = h
                .post(
                    &c,
                    &format!("/api/v1/sign-in/{flow}/verify"),
                    None,
                    json!({"method_id": method, "code": guess}),
                )
                .await;
            match (status, body["error"].as_str()) {
                (400, Some("invalid_code")) => checked += 1,
                (429, Some("locked")) => {
                    locked += 1;
                    assert!(body["retry_after"].as_u64().unwrap() <= policy.lockout_secs);
                }
                other => panic!("unexpected answer {other:?}: {body}"),
            }
        }
        assert!(
            checked < per_window,
            "{checked} wrong codes were answered as wrong; the lock-out allows {per_window}"
        );
        assert_eq!(checked + locked, 25);

        // Locked means locked: the right code is refused too …
        let flow = h.api_sign_in(&c, "alice@example.org").await["flow"]
            .as_str()
            .unwrap()
            .to_string();
        let verify = format!("/api/v1/sign-in/{flow}/verify");
        let (status, body) = h
            .post(
                &c,
                &verify,
                None,
                json!({"method_id": method, "code": h.code(&secret, 0)}),
            )
            .await;
        assert_eq!((status, body["error"].as_str()), (429, Some("locked")));
        // … until the lock lapses.
        h.advance(policy.lockout_secs as i64 + 30);
        let (status, body) = h
            .post(
                &c,
                &verify,
                None,
                json!({"method_id": method, "code": h.code(&secret, 0)}),
            )
            .await;
        assert_eq!(
            status, 410,
            "the flow outlived its 10 minutes meanwhile: {body}"
        );
        let flow = h.api_sign_in(&c, "alice@example.org").await["flow"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/verify"),
                None,
                json!({"method_id": method, "code": h.code(&secret, 0)}),
            )
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("signed_in")),
            "{body}"
        );
    })
    .await;
}

#[tokio::test]
async fn unknown_and_known_usernames_cost_the_same_and_answer_the_same() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        h.add_user("alice@example.org").await;
        const ROUNDS: usize = 40;
        let mut known = Vec::with_capacity(ROUNDS);
        let mut unknown = Vec::with_capacity(ROUNDS);
        let mut answers = std::collections::HashSet::new();
        // Interleaved, so a busy machine slows both alike.
        for i in 0..ROUNDS {
            // Past the wait that alice's failures earn (see `password_guesses`).
            h.advance(tessera_core::password_guesses::MAX_WAIT_SECS);
            for (username, times) in [
                ("alice@example.org".to_string(), &mut known),
                (format!("nobody{i}@example.org"), &mut unknown),
            ] {
                let before = h.password_checks();
                let started = Instant::now();
                let (status, body) = h
                    .post(
                        &c,
                        "/api/v1/sign-in",
                        None,
                        json!({"username": username, "password": "not the password"}),
                    )
                    .await;
                times.push(started.elapsed());
                assert_eq!(status, 401, "{body}");
                assert_eq!(
                    h.password_checks() - before,
                    1,
                    "{username}: one password check per sign-in, known or not"
                );
                answers.insert(body.to_string());
            }
        }
        assert_eq!(answers.len(), 1, "one answer for both: {answers:?}");
        let (k, u) = (median(&mut known), median(&mut unknown));
        eprintln!("median sign-in: known {k:?}, unknown {u:?}");
        let (lo, hi) = if k < u { (k, u) } else { (u, k) };
        assert!(
            hi <= lo * 2 || hi - lo < Duration::from_millis(3),
            "known {k:?} and unknown {u:?} usernames differ in time"
        );
    })
    .await;
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[tokio::test]
async fn a_flood_of_sign_ins_from_one_address_is_throttled_while_others_are_served() {
    each_backend_with(
        |config| config.sign_in_limit_per_minute = 5,
        |h: Harness| async move {
            h.add_user("alice@example.org").await;
            let flood = h.client();
            let mut answers = Vec::new();
            for _ in 0..20 {
                let r = flood
                    .post(h.url("/api/v1/sign-in"))
                    .json(&json!({"username": "alice@example.org", "password": "guess"}))
                    .send()
                    .await
                    .unwrap();
                let retry = r.headers().get("retry-after").cloned();
                let status = r.status().as_u16();
                let body: serde_json::Value = r.json().await.unwrap();
                if status == 429 {
                    assert_eq!(body["error"], "rate_limited", "{body}");
                    assert!(
                        body["retry_after"]
                            .as_u64()
                            .is_some_and(|s| (1..=60).contains(&s))
                    );
                    assert!(retry.is_some(), "a Retry-After header");
                }
                answers.push(status);
            }
            assert!(answers[..5].iter().all(|s| *s == 401), "{answers:?}");
            // One more try is allowed every 12 s; a slow machine may see one or two.
            let refused = answers.iter().filter(|s| **s == 429).count();
            assert!(refused >= 12, "{answers:?}");

            // The page answers in the person's language, without running the handler.
            let page = flood
                .post(h.url("/sign-in"))
                .header("accept-language", "nl")
                .form(&[("username", "alice@example.org"), ("password", "guess")])
                .send()
                .await
                .unwrap();
            assert_eq!(page.status(), 429);
            assert!(page.text().await.unwrap().contains("Te veel verzoeken"));
            // Reading is not limited.
            let (status, _) = h.get(&flood, "/healthz", None).await;
            assert_eq!(status, 200);

            // Another address is served as before.
            let other = reqwest::Client::builder()
                .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
                .build()
                .unwrap();
            let (status, body) = h
                .post(
                    &other,
                    "/api/v1/sign-in",
                    None,
                    json!({"username": "alice@example.org", "password": PASSWORD}),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        },
    )
    .await;
}
