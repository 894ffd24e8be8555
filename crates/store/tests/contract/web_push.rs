//! Web Push: the VAPID key is made once for the deployment (the first insert wins), a device
//! has one wake-up path, each message is claimed by one sender, a gone subscription is
//! forgotten only if unchanged, and the subscription goes with its device.

use tessera_core::audit::AuditAction;
use tessera_core::store::push::{PushAnswer, PushStatus};
use tessera_core::store::web_push::{VapidKey, WebPushSubscription};

use crate::harness::{Db, at, event, on_all, seeded};
use crate::push::{active_app, request};

fn subscription(endpoint: &str) -> WebPushSubscription {
    WebPushSubscription {
        endpoint: endpoint.into(),
        p256dh: vec![4; 65],
        auth: vec![1; 16],
    }
}

fn key(byte: u8) -> VapidKey {
    VapidKey {
        sealed_private: vec![byte; 40],
        public_key: vec![byte; 65],
        created_at: at(byte.into()),
    }
}

#[tokio::test]
async fn the_first_vapid_key_stored_is_the_one_every_node_reads() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        assert_eq!(store.vapid_key().await.unwrap(), None);
        store.insert_vapid_key(&key(1)).await.unwrap();
        // A second node that made its own at the same time loses quietly.
        store.insert_vapid_key(&key(2)).await.unwrap();
        assert_eq!(store.vapid_key().await.unwrap(), Some(key(1)));
    })
    .await;
}

#[tokio::test]
async fn a_subscription_replaces_the_wakeup_url_and_the_other_way_round() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let m = active_app(store, alice.id, b"cred").await;
        assert!(
            store
                .device(m.id)
                .await
                .unwrap()
                .unwrap()
                .wakeup_url
                .is_some()
        );
        let sub = subscription("https://push.example.net/w/1");
        store.set_web_push(m.id, Some(&sub)).await.unwrap();
        assert_eq!(store.web_push(m.id).await.unwrap(), Some(sub));
        assert_eq!(store.device(m.id).await.unwrap().unwrap().wakeup_url, None);
        store
            .set_wakeup_url(m.id, Some("https://up.example.org/u"))
            .await
            .unwrap();
        assert_eq!(store.web_push(m.id).await.unwrap(), None);
        store
            .set_web_push(m.id, Some(&subscription("https://push.example.net/w/2")))
            .await
            .unwrap();
        store.set_web_push(m.id, None).await.unwrap();
        assert_eq!(store.web_push(m.id).await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn each_request_is_claimed_once_and_closed_once() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let m = active_app(store, alice.id, b"cred").await;
        let sub = subscription("https://push.example.net/w/1");
        store.set_web_push(m.id, Some(&sub)).await.unwrap();
        // The activation's test request, answered before the subscription, is not news.
        assert_eq!(store.claim_web_push(m.id, at(100)).await.unwrap(), None);
        let first = request(&m, "sign_in", "flow-1", 100);
        store
            .insert_push_request(&first, 5, at(0), &event(None, AuditAction::PushSent))
            .await
            .unwrap()
            .unwrap();
        // A wake-up URL sender finds nothing: the device has no URL now.
        assert_eq!(store.claim_wakeup(m.id, at(101)).await.unwrap(), None);
        let claim = store.claim_web_push(m.id, at(101)).await.unwrap().unwrap();
        assert_eq!(claim.subscription, sub);
        assert_eq!(
            claim.requests.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![first.id]
        );
        assert!(claim.closed.is_empty());
        assert_eq!(store.claim_web_push(m.id, at(101)).await.unwrap(), None);
        // A newer request for the same flow replaces the first: one claim sends the new one
        // and closes the old.
        let second = request(&m, "sign_in", "flow-1", 105);
        store
            .insert_push_request(&second, 5, at(0), &event(None, AuditAction::PushSent))
            .await
            .unwrap()
            .unwrap();
        let claim = store.claim_web_push(m.id, at(106)).await.unwrap().unwrap();
        assert_eq!(
            claim.requests.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![second.id]
        );
        assert_eq!(claim.closed, vec![first.id]);
        // Answered: closed once.
        let answer = PushAnswer {
            request: second.id,
            status: PushStatus::Denied,
            at: at(110),
            effects: vec![],
        };
        assert!(store.answer_push_request(&answer, &[]).await.unwrap());
        let claim = store.claim_web_push(m.id, at(111)).await.unwrap().unwrap();
        assert!(claim.requests.is_empty());
        assert_eq!(claim.closed, vec![second.id]);
        assert_eq!(store.claim_web_push(m.id, at(111)).await.unwrap(), None);
        // Past its time, a request is not sent at all.
        let late = request(&m, "sign_in", "flow-2", 120);
        store
            .insert_push_request(&late, 5, at(0), &event(None, AuditAction::PushSent))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(store.claim_web_push(m.id, at(300)).await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn a_gone_subscription_is_forgotten_unless_replaced_and_goes_with_its_device() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let m = active_app(store, alice.id, b"cred").await;
        store
            .set_web_push(m.id, Some(&subscription("https://push.example.net/w/new")))
            .await
            .unwrap();
        assert!(
            !store
                .forget_web_push(m.id, "https://push.example.net/w/old")
                .await
                .unwrap(),
            "a newer subscription stays"
        );
        assert!(store.web_push(m.id).await.unwrap().is_some());
        assert!(
            store
                .forget_web_push(m.id, "https://push.example.net/w/new")
                .await
                .unwrap()
        );
        assert_eq!(store.web_push(m.id).await.unwrap(), None);
        store
            .set_web_push(m.id, Some(&subscription("https://push.example.net/w/3")))
            .await
            .unwrap();
        assert!(
            store
                .delete_method(
                    alice.id,
                    m.id,
                    None,
                    &event(None, AuditAction::MethodDeleted)
                )
                .await
                .unwrap()
        );
        assert_eq!(store.web_push(m.id).await.unwrap(), None);
        assert_eq!(store.claim_web_push(m.id, at(400)).await.unwrap(), None);
    })
    .await;
}
