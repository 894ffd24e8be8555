//! Sent challenges and the outbox: a challenge commits with its message, a newer one
//! supersedes it, and workers never hold one message at the same time.

use crate::harness::{Db, at, event, on_all, seeded, seeded_method};
use tessera_core::audit::AuditAction;
use tessera_core::challenge::{ChallengeStatus, SentChallenge};
use tessera_core::message::{Body, Channel, Envelope, Message, MessageStatus, Topic};
use tessera_core::method::MethodStatus;
use tessera_core::{ChallengeId, KeyRing, OsRandom};
use uuid::Uuid;

fn challenge(method: &tessera_core::Method, created: i64) -> SentChallenge {
    SentChallenge {
        id: ChallengeId(Uuid::new_v4()),
        method_id: method.id,
        account_id: method.account_id,
        purpose: "sign_in".into(),
        binding: "flow-1".into(),
        channel: Channel::Sms,
        code_mac: Some(vec![1, 2, 3]),
        status: ChallengeStatus::Open,
        failures: 0,
        created_at: at(created),
        expires_at: at(created + 600),
        resend_after: at(created + 60),
        message_id: None,
    }
}

fn message(keys: &KeyRing, c: &SentChallenge, to: &str) -> Message {
    Message::new(
        Envelope {
            account_id: Some(c.account_id),
            channel: Channel::Sms,
            topic: Topic::Code,
            to: to.into(),
            extension: None,
            locale: "en".into(),
            challenge_id: Some(c.id),
        },
        &Body::Code {
            code: "123456".into(),
            purpose: "sign_in".into(),
            minutes: 10,
        },
        keys,
        &OsRandom,
        c.created_at,
    )
    .unwrap()
}

#[tokio::test]
async fn a_newer_challenge_supersedes_and_a_used_one_stays_used() {
    on_all(|db: Db| async move {
        let s = db.store.as_ref();
        let keys = KeyRing::generate(&OsRandom);
        let a = seeded(s, "dora@example.org").await;
        let m = seeded_method(s, a.id, MethodStatus::Active, 0).await;
        let first = challenge(&m, 0);
        let audit = event(Some(a.id), AuditAction::ChallengeSent);
        s.insert_challenge(&first, &message(&keys, &first, "+31611111111"), &audit)
            .await
            .unwrap();
        let mut second = challenge(&m, 61);
        let msg = message(&keys, &second, "+31611111111");
        second.message_id = Some(msg.id);
        s.insert_challenge(
            &second,
            &msg,
            &event(Some(a.id), AuditAction::ChallengeSent),
        )
        .await
        .unwrap();
        let latest = s
            .latest_challenge(m.id, "sign_in", "flow-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(latest.challenge.id, second.id);
        assert_eq!(latest.delivery, Some(MessageStatus::Queued));
        let old = s.challenge(first.id).await.unwrap().unwrap();
        assert_eq!(old.status, ChallengeStatus::Superseded);
        assert!(
            s.latest_challenge(m.id, "sign_in", "flow-2")
                .await
                .unwrap()
                .is_none(),
            "bound to its flow"
        );

        assert_eq!(s.challenge_failed(second.id, 2).await.unwrap(), 1);
        assert!(s.use_challenge(second.id, at(100)).await.unwrap());
        assert!(
            !s.use_challenge(second.id, at(101)).await.unwrap(),
            "single use"
        );
        let counts = s
            .send_counts(a.id, "+31611111111", at(0), at(0))
            .await
            .unwrap();
        assert_eq!(
            (counts.account.count, counts.destination.count),
            (1, 1),
            "since t=0, exclusive"
        );
        let body = msg.body(&keys).unwrap();
        assert!(
            matches!(body, Some(Body::Code { .. })),
            "the body opens: {body:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn workers_claim_each_message_once_and_retries_wait() {
    on_all(|db: Db| async move {
        let s = db.store.as_ref();
        let keys = KeyRing::generate(&OsRandom);
        let a = seeded(s, "walt@example.org").await;
        let m = seeded_method(s, a.id, MethodStatus::Active, 0).await;
        for i in 0..5 {
            let c = SentChallenge {
                binding: format!("flow-{i}"),
                ..challenge(&m, i)
            };
            let msg = message(&keys, &c, &format!("+3161111111{i}"));
            s.insert_challenge(&c, &msg, &event(Some(a.id), AuditAction::ChallengeSent))
                .await
                .unwrap();
        }
        // Two workers at once: together they hold all five, never one twice.
        let (one, two) = tokio::join!(
            s.claim_messages(at(10), at(310), 3),
            s.claim_messages(at(10), at(310), 3)
        );
        let mut ids: Vec<_> = one
            .unwrap()
            .into_iter()
            .chain(two.unwrap())
            .map(|m| m.id)
            .collect();
        let claimed = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!((claimed, ids.len()), (5, 5));
        assert!(
            s.claim_messages(at(20), at(320), 10)
                .await
                .unwrap()
                .is_empty(),
            "leased"
        );

        s.message_retry(ids[0], at(100), "gateway answered 500")
            .await
            .unwrap();
        s.message_sent(ids[1], at(20), false, Some("SM1"))
            .await
            .unwrap();
        s.message_failed(ids[2], "refused").await.unwrap();
        assert!(
            s.claim_messages(at(99), at(399), 10)
                .await
                .unwrap()
                .is_empty(),
            "not due yet"
        );
        let again = s.claim_messages(at(100), at(400), 10).await.unwrap();
        assert_eq!(
            again.iter().map(|m| (m.id, m.attempts)).collect::<Vec<_>>(),
            vec![(ids[0], 2)]
        );
        let sent = s.message(ids[1]).await.unwrap().unwrap();
        assert_eq!(
            (sent.status, sent.payload.is_none()),
            (MessageStatus::Sent, true),
            "a sent code is not kept"
        );
        // A worker that died: its lease lapses and another takes the message over.
        let taken = s.claim_messages(at(311), at(611), 10).await.unwrap();
        assert_eq!(taken.len(), 2, "ids[3] and ids[4], whose lease ran out");
    })
    .await;
}

#[tokio::test]
async fn housekeeping_forgets_lapsed_challenges_and_old_finished_messages() {
    on_all(|db: Db| async move {
        let s = db.store.as_ref();
        let keys = KeyRing::generate(&OsRandom);
        let a = seeded(s, "olga@example.org").await;
        let m = seeded_method(s, a.id, MethodStatus::Active, 0).await;
        let c = challenge(&m, 0);
        let sent = message(&keys, &c, "+31611111112");
        s.insert_challenge(&c, &sent, &event(Some(a.id), AuditAction::ChallengeSent))
            .await
            .unwrap();
        let claimed = s.claim_messages(at(1), at(60), 10).await.unwrap();
        assert_eq!(claimed.len(), 1);
        s.message_sent(sent.id, at(2), false, None).await.unwrap();
        let queued = message(&keys, &c, "+31611111113");
        s.enqueue_messages(std::slice::from_ref(&queued))
            .await
            .unwrap();

        // The challenge lapsed at 600; a day later it goes. The messages stay a month.
        let day = 24 * 3600;
        assert_eq!(s.purge_expired(at(600 + day - 1)).await.unwrap(), 0);
        assert_eq!(s.purge_expired(at(600 + day)).await.unwrap(), 1);
        assert_eq!(s.challenge(c.id).await.unwrap(), None);
        assert!(s.message(sent.id).await.unwrap().is_some());
        assert_eq!(s.purge_expired(at(30 * day)).await.unwrap(), 1);
        assert_eq!(s.message(sent.id).await.unwrap(), None);
        assert!(
            s.message(queued.id).await.unwrap().is_some(),
            "a message still to send is never purged"
        );
    })
    .await;
}
