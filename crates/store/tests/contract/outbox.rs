//! The outbox as admins read it: newest first, also among messages of one second.

use crate::harness::{Db, at, on_all};
use tessera_core::message::{Body, Channel, Envelope, Message, Topic};
use tessera_core::{KeyRing, MessageId, OsRandom};
use uuid::Uuid;

/// A text queued at `secs`, with an id of our choosing.
fn text(keys: &KeyRing, n: u128, secs: i64) -> Message {
    let mut message = Message::new(
        Envelope {
            account_id: None,
            channel: Channel::Sms,
            topic: Topic::Code,
            to: "+31612345678".into(),
            extension: None,
            locale: "en".into(),
            challenge_id: None,
        },
        &Body::Code {
            code: "123456".into(),
            purpose: "sign_in".into(),
            minutes: 10,
        },
        keys,
        &OsRandom,
        at(secs),
    )
    .unwrap();
    message.id = MessageId(Uuid::from_u128(n));
    message
}

#[tokio::test]
async fn the_outbox_lists_messages_of_one_second_newest_first() {
    on_all(|db: Db| async move {
        let s = db.store.as_ref();
        let keys = KeyRing::generate(&OsRandom);
        // Five messages in one second, queued one after another, with ids that sort in the
        // order they were queued: an order by id would list the oldest first. A message of
        // the next second queued first, and one of the second before queued last, show that
        // the time still comes first.
        let later = text(&keys, 100, 11);
        s.enqueue_messages(std::slice::from_ref(&later))
            .await
            .unwrap();
        let mut same_second = Vec::new();
        for n in 1..=5 {
            let m = text(&keys, n, 10);
            s.enqueue_messages(std::slice::from_ref(&m)).await.unwrap();
            same_second.push(m.id);
        }
        let earlier = text(&keys, 200, 9);
        s.enqueue_messages(std::slice::from_ref(&earlier))
            .await
            .unwrap();

        let listed: Vec<MessageId> = s
            .recent_messages(100)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        let mut expected = vec![later.id];
        expected.extend(same_second.iter().rev());
        expected.push(earlier.id);
        assert_eq!(listed, expected);
        // A limit keeps the newest.
        let newest: Vec<MessageId> = s
            .recent_messages(3)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(newest, expected[..3]);
    })
    .await;
}
