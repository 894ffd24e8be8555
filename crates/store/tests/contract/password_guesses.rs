//! Password guesses per typed username (issue #12): counted in advance, a wait that doubles
//! from the tenth failure, cleared by the right password, forgotten after a quiet day.

use tessera_core::password_guesses::{GuessGate, GuessKey, GuessSchedule};
use time::Duration;

use crate::harness::{Db, at, on_all};

fn key(name: &str) -> GuessKey {
    let mut bytes = name.as_bytes().to_vec();
    bytes.resize(32, 0);
    GuessKey::from_bytes(bytes)
}

#[tokio::test]
async fn failures_earn_a_doubling_wait_that_refuses_until_it_ends() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let s = GuessSchedule::default();
        let alice = key("alice");
        let mut now = at(1_000);
        for n in 1..=17_u64 {
            let gate = store
                .begin_password_guess(&alice, now, &s)
                .await
                .expect("guess");
            assert_eq!(gate, GuessGate::Open { failures: n }, "guess {n}");
            let wait = s.wait_after(n);
            if wait > 0 {
                // Refused until the wait ends; refusals do not move its end.
                for early in [0, wait / 2, wait - 1] {
                    let refused = store
                        .begin_password_guess(&alice, now + Duration::seconds(early), &s)
                        .await
                        .expect("early guess");
                    assert_eq!(
                        refused,
                        GuessGate::Wait {
                            until: now + Duration::seconds(wait)
                        },
                        "guess {n}, {early} s later"
                    );
                }
            }
            now += Duration::seconds(wait);
        }
        assert_eq!(s.wait_after(17), 900, "capped at 15 minutes");

        // Another username has a count of its own.
        let bob = key("bob");
        assert_eq!(
            store
                .begin_password_guess(&bob, now, &s)
                .await
                .expect("bob"),
            GuessGate::Open { failures: 1 }
        );

        // The right password clears the count.
        store.clear_password_guesses(&alice).await.expect("clear");
        assert_eq!(
            store
                .begin_password_guess(&alice, now, &s)
                .await
                .expect("after"),
            GuessGate::Open { failures: 1 }
        );
    })
    .await;
}

#[tokio::test]
async fn a_quiet_day_forgets_the_count_and_the_purge_removes_it() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let s = GuessSchedule::default();
        let carol = key("carol");
        let mut now = at(5_000);
        for n in 1..=12_u64 {
            let gate = store
                .begin_password_guess(&carol, now, &s)
                .await
                .expect("guess");
            assert_eq!(gate, GuessGate::Open { failures: n });
            now += Duration::seconds(s.wait_after(n));
        }
        let last = now - Duration::seconds(s.wait_after(12));
        let day = Duration::seconds(s.forget_after_secs);
        assert_eq!(
            store
                .begin_password_guess(&carol, last + day, &s)
                .await
                .expect("a day later"),
            GuessGate::Open { failures: 1 },
            "the count starts again"
        );
        assert_eq!(
            store
                .purge_password_guesses(last + day)
                .await
                .expect("purge"),
            0,
            "just counted"
        );
        assert_eq!(
            store
                .purge_password_guesses(last + day + Duration::seconds(1))
                .await
                .expect("purge"),
            1
        );
        assert_eq!(
            store
                .begin_password_guess(&carol, last + day, &s)
                .await
                .expect("after the purge"),
            GuessGate::Open { failures: 1 }
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_let_exactly_the_free_failures_through() {
    on_all(|db: Db| async move {
        let s = GuessSchedule::default();
        let guesses: Vec<_> = (0..64)
            .map(|_| {
                let store = db.store.clone();
                tokio::spawn(async move {
                    store
                        .begin_password_guess(&key("dave"), at(10), &GuessSchedule::default())
                        .await
                })
            })
            .collect();
        let mut counted = Vec::new();
        for guess in guesses {
            match guess.await.expect("task").expect("guess") {
                GuessGate::Open { failures } => counted.push(failures),
                GuessGate::Wait { until } => {
                    assert_eq!(until, at(10 + s.wait_after(u64::from(s.free))))
                }
            }
        }
        counted.sort_unstable();
        assert_eq!(
            counted,
            (1..=u64::from(s.free)).collect::<Vec<_>>(),
            "each guess its own count, and no more than the free ones"
        );
    })
    .await;
}
