//! A password reset's own wrong-answer counters (migration 0009), the decoys' sample of
//! accounts, and the sign-in's send budgets that leave a reset's codes out, on both
//! databases.

use tessera_core::account::AccountStatus;
use tessera_core::audit::AuditAction;
use tessera_core::challenge::{ChallengeStatus, SentChallenge};
use tessera_core::lockout::AttemptGate;
use tessera_core::message::{Body, Channel, Envelope, Message, Topic};
use tessera_core::method::MethodStatus;
use tessera_core::store::reset::AttemptCounter;
use tessera_core::{AccountId, ChallengeId, KeyRing, OsRandom};
use uuid::Uuid;

use crate::harness::{Db, at, event, on_all, seeded, seeded_method};

fn counters(flow: &str, threshold: u32) -> [AttemptCounter; 2] {
    [
        AttemptCounter {
            key: format!("flow:{flow}"),
            threshold,
        },
        AttemptCounter {
            key: "user:alice".into(),
            threshold: threshold * 2,
        },
    ]
}

#[tokio::test]
async fn a_reset_counter_locks_at_its_threshold_and_starts_again_after() {
    on_all(|db: Db| async move {
        let s = db.store.as_ref();
        let one = counters("one", 3);
        let forget = at(86_400);
        for i in 0..3 {
            assert_eq!(
                s.begin_reset_attempt(&one, at(i), forget).await.unwrap(),
                AttemptGate::Open
            );
            let locked = s.reset_attempt_failed(&one, at(900 + i)).await.unwrap();
            assert_eq!(locked, (i == 2).then(|| at(902)), "attempt {i}");
        }
        assert_eq!(
            s.begin_reset_attempt(&one, at(10), forget).await.unwrap(),
            AttemptGate::Locked {
                until: Some(at(902))
            },
            "the flow's counter is locked"
        );
        assert_eq!(
            s.reset_locked_until(&one, at(10)).await.unwrap(),
            Some(at(902))
        );
        assert_eq!(s.reset_locked_until(&one, at(902)).await.unwrap(), None);

        // A second flow of the same account: its own counter, the account's shared.
        let two = counters("two", 3);
        for i in 0..3 {
            assert_eq!(
                s.begin_reset_attempt(&two, at(20 + i), forget)
                    .await
                    .unwrap(),
                AttemptGate::Open
            );
            let locked = s.reset_attempt_failed(&two, at(920 + i)).await.unwrap();
            assert_eq!(
                locked,
                (i == 2).then(|| at(922)),
                "the account has seen {} of 6",
                4 + i
            );
        }
        let three = counters("three", 3);
        assert_eq!(
            s.begin_reset_attempt(&three, at(30), forget).await.unwrap(),
            AttemptGate::Locked {
                until: Some(at(922))
            },
            "a new flow does not escape the account's lock"
        );
        assert_eq!(
            s.reset_locked_until(&three, at(30)).await.unwrap(),
            Some(at(922))
        );

        // After the lock the count starts again at this attempt.
        assert_eq!(
            s.begin_reset_attempt(&three, at(923), forget)
                .await
                .unwrap(),
            AttemptGate::Open
        );
        assert_eq!(
            s.reset_attempt_failed(&three, at(1823)).await.unwrap(),
            None
        );

        // A right answer gives its reservation back.
        let four = counters("four", 1);
        assert_eq!(
            s.begin_reset_attempt(&four, at(930), forget).await.unwrap(),
            AttemptGate::Open
        );
        s.release_reset_attempt(&four).await.unwrap();
        assert_eq!(
            s.begin_reset_attempt(&four, at(931), forget).await.unwrap(),
            AttemptGate::Open,
            "the released attempt did not count"
        );
        assert_eq!(
            s.begin_reset_attempt(&four, at(932), forget).await.unwrap(),
            AttemptGate::Locked { until: None },
            "at the threshold, the lock not set yet"
        );
        assert_eq!(
            s.reset_attempt_failed(&four, at(1832)).await.unwrap(),
            Some(at(1832))
        );

        // Cleared (a completed reset), or not tried for a day: counting starts over.
        s.clear_reset_attempts(&four).await.unwrap();
        assert_eq!(
            s.begin_reset_attempt(&four, at(940), forget).await.unwrap(),
            AttemptGate::Open
        );
        let forgetful = [AttemptCounter {
            key: "user:forgetful".into(),
            threshold: 1,
        }];
        assert_eq!(
            s.begin_reset_attempt(&forgetful, at(0), at(100))
                .await
                .unwrap(),
            AttemptGate::Open
        );
        assert_eq!(
            s.begin_reset_attempt(&forgetful, at(50), at(150))
                .await
                .unwrap(),
            AttemptGate::Locked { until: None }
        );
        assert_eq!(
            s.begin_reset_attempt(&forgetful, at(100), at(200))
                .await
                .unwrap(),
            AttemptGate::Open,
            "no attempt until it was to be forgotten: the count starts again"
        );
        assert!(s.purge_reset(at(3 * 86_400)).await.unwrap() >= 4);
        assert_eq!(s.reset_locked_until(&one, at(0)).await.unwrap(), None);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_reset_guesses_cannot_slip_past_the_threshold() {
    on_all(|db: Db| async move {
        let flow = counters("parallel", 10);
        let tasks: Vec<_> = (0..40)
            .map(|_| {
                let store = db.store.clone();
                let flow = flow.clone();
                tokio::spawn(async move {
                    store
                        .begin_reset_attempt(&flow, at(0), at(86_400))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut open = 0;
        for t in tasks {
            if t.await.unwrap() == AttemptGate::Open {
                open += 1;
            }
        }
        assert_eq!(open, 10, "exactly the threshold went ahead");
    })
    .await;
}

#[tokio::test]
async fn accounts_are_sampled_from_a_point_and_around() {
    on_all(|db: Db| async move {
        let s = db.store.as_ref();
        let mut ids = Vec::new();
        for name in ["a@example.org", "b@example.org", "c@example.org"] {
            ids.push(seeded(s, name).await.id);
        }
        let mut off = seeded(s, "off@example.org").await;
        off.status = AccountStatus::Disabled;
        s.update_account(&off, None).await.unwrap();
        ids.sort_by_key(|id| id.to_string());

        let all = s.sample_accounts(ids[1], 10).await.unwrap();
        assert_eq!(all, vec![ids[1], ids[2], ids[0]], "from the point, around");
        let two = s.sample_accounts(ids[2], 2).await.unwrap();
        assert_eq!(two, vec![ids[2], ids[0]]);
        let none = s.sample_accounts(AccountId(Uuid::max()), 1).await.unwrap();
        assert_eq!(none, vec![ids[0]], "past the last: the first");

        assert_eq!(s.peek_hits("reset:nothing").await.unwrap(), None);
        s.count_hit("reset:peek", at(5), time::Duration::seconds(60))
            .await
            .unwrap();
        let peek = s.peek_hits("reset:peek").await.unwrap().unwrap();
        assert_eq!((peek.count, peek.window_start), (1, at(5)));
        let again = s.peek_hits("reset:peek").await.unwrap().unwrap();
        assert_eq!(again.count, 1, "a peek counts nothing");
    })
    .await;
}

fn code(
    method: &tessera_core::Method,
    purpose: &str,
    created: i64,
    keys: &KeyRing,
) -> (SentChallenge, Message) {
    let challenge = SentChallenge {
        id: ChallengeId(Uuid::new_v4()),
        method_id: method.id,
        account_id: method.account_id,
        purpose: purpose.into(),
        binding: Uuid::new_v4().to_string(),
        channel: Channel::Sms,
        code_mac: Some(vec![1, 2, 3]),
        status: ChallengeStatus::Open,
        failures: 0,
        created_at: at(created),
        expires_at: at(created + 600),
        resend_after: at(created + 60),
        message_id: None,
    };
    let message = Message::new(
        Envelope {
            account_id: Some(method.account_id),
            channel: Channel::Sms,
            topic: Topic::Code,
            to: "+31611112222".into(),
            extension: None,
            locale: "en".into(),
            challenge_id: Some(challenge.id),
        },
        &Body::Code {
            code: "123456".into(),
            purpose: purpose.into(),
            minutes: 10,
        },
        keys,
        &OsRandom,
        challenge.created_at,
    )
    .unwrap();
    (challenge, message)
}

#[tokio::test]
async fn the_sign_in_send_budgets_leave_reset_codes_out() {
    on_all(|db: Db| async move {
        let s = db.store.as_ref();
        let keys = KeyRing::generate(&OsRandom);
        let a = seeded(s, "tess@example.org").await;
        let m = seeded_method(s, a.id, MethodStatus::Active, 0).await;
        for (i, purpose) in ["reset", "reset", "reset", "sign_in"].iter().enumerate() {
            let (c, msg) = code(&m, purpose, 10 + i as i64, &keys);
            s.insert_challenge(&c, &msg, &event(Some(a.id), AuditAction::ChallengeSent))
                .await
                .unwrap();
        }
        let counts = s
            .send_counts(a.id, "+31611112222", at(0), at(0))
            .await
            .unwrap();
        assert_eq!(
            (
                counts.account.count,
                counts.destination.count,
                counts.global.count
            ),
            (1, 1, 4),
            "only the sign-in's code counts against the person; every code counts globally"
        );
        assert_eq!(counts.account.oldest, Some(at(13)));
    })
    .await;
}
