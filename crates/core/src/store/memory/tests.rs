//! What the contract suite (`crates/store/tests/contract`, which runs on this store too)
//! does not show: refused writes leave nothing behind, foreign keys and cascades, whole
//! seconds, and the wake-ups.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use super::MemoryStore;
use crate::account::{Account, AccountStatus};
use crate::audit::{AuditAction, AuditEvent};
use crate::challenge::{ChallengeStatus, SentChallenge};
use crate::error::StoreError;
use crate::ids::{AccountId, AuditId, ChallengeId, MessageId, MethodId, PushRequestId};
use crate::message::{Channel, Message, MessageStatus, Topic};
use crate::method::{Kind, Method, MethodData, MethodStatus};
use crate::store::Store;
use crate::store::accounts::AccountStore;
use crate::store::audit::AuditStore;
use crate::store::delivery::DeliveryStore;
use crate::store::methods::MethodStore;
use crate::store::push::{Device, PushRequest, PushStatus, PushStore, Wake, device_key};

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000 + secs).unwrap()
}

fn event(account: AccountId) -> AuditEvent {
    AuditEvent {
        id: AuditId(Uuid::new_v4()),
        at: at(0),
        account_id: Some(account),
        action: AuditAction::MethodAdded,
        method_id: None,
        ip: None,
        user_agent: None,
        detail: serde_json::Value::Null,
    }
}

fn account(username: &str) -> Account {
    Account {
        id: AccountId(Uuid::new_v4()),
        username: username.into(),
        display_name: username.into(),
        password_hash: "$argon2id$…".into(),
        locale: None,
        browser_locale: None,
        status: AccountStatus::Active,
        is_admin: false,
        email: None,
        default_method: None,
        created_at: at(0),
        source: crate::account::AccountSource::Local,
        external_id: None,
    }
}

fn method(account: AccountId, kind: Kind) -> Method {
    Method {
        id: MethodId(Uuid::new_v4()),
        account_id: account,
        kind,
        status: MethodStatus::Pending,
        name: None,
        data: MethodData::Totp {
            digits: 6,
            step_secs: 30,
        },
        sealed_secret: None,
        created_at: at(0),
        last_used_at: None,
        expires_at: Some(at(600)),
        last_step: None,
        failures: 0,
        locked_until: None,
        registered_by: None,
        way: None,
    }
}

fn message(id: MessageId) -> Message {
    Message {
        id,
        account_id: None,
        channel: Channel::Sms,
        topic: Topic::Code,
        to: "+31612345678".into(),
        extension: None,
        locale: "en".into(),
        payload: Some(vec![1]),
        challenge_id: None,
        status: MessageStatus::Queued,
        attempts: 0,
        next_attempt_at: at(0),
        created_at: at(0),
        sent_at: None,
        note: None,
    }
}

fn challenge(method: &Method, message: MessageId) -> SentChallenge {
    SentChallenge {
        id: ChallengeId(Uuid::new_v4()),
        method_id: method.id,
        account_id: method.account_id,
        purpose: "register".into(),
        binding: method.id.to_string(),
        channel: Channel::Sms,
        code_mac: Some(vec![7]),
        status: ChallengeStatus::Open,
        failures: 0,
        created_at: at(0),
        expires_at: at(300),
        resend_after: at(30),
        message_id: Some(message),
    }
}

async fn seeded(store: &MemoryStore, username: &str) -> Account {
    let a = account(username);
    store.insert_account(&a, &event(a.id)).await.unwrap();
    a
}

#[tokio::test]
async fn a_refused_write_leaves_nothing_behind() {
    let store = MemoryStore::new();
    let alice = seeded(&store, "alice").await;
    let taken = MessageId(Uuid::new_v4());
    store.enqueue_messages(&[message(taken)]).await.unwrap();

    // The method and its audit event would come first; the message's id is taken.
    let m = method(alice.id, Kind::PhoneMobile);
    let refused = store
        .insert_method_with_challenge(
            &m,
            &event(alice.id),
            &challenge(&m, taken),
            &message(taken),
            &event(alice.id),
        )
        .await;
    assert!(matches!(refused, Err(StoreError::Conflict("unique"))));
    assert_eq!(store.method(m.id).await.unwrap(), None);
    assert_eq!(store.audit_of(alice.id, 10).await.unwrap().len(), 1);

    // An audit event written before is a conflict too, and nothing else is written.
    let again = event(alice.id);
    store.append_audit(&again).await.unwrap();
    let refused = store.insert_method(&m, &again).await;
    assert!(matches!(refused, Err(StoreError::Conflict("audit_event"))));
    assert_eq!(store.method(m.id).await.unwrap(), None);
}

#[tokio::test]
async fn rows_name_what_exists_and_go_with_their_method() {
    let store = MemoryStore::new();
    let nobody = AccountId(Uuid::new_v4());
    let orphan = method(nobody, Kind::AuthenticatorCode);
    let refused = store.insert_method(&orphan, &event(nobody)).await;
    assert!(matches!(refused, Err(StoreError::Backend(_))));

    let alice = seeded(&store, "alice").await;
    let app = method(alice.id, Kind::AuthenticatorApp);
    let device = Device {
        method_id: app.id,
        account_id: alice.id,
        activation_hash: Some(vec![1, 2, 3]),
        sealed_activation: None,
        activation_expires_at: at(600),
        activated_at: None,
        name: None,
        algorithm: None,
        public_key: None,
        credential_hash: None,
        wakeup_url: None,
    };
    store
        .insert_app_method(&app, &device, &event(alice.id))
        .await
        .unwrap();
    assert_eq!(store.device(app.id).await.unwrap(), Some(device));
    assert!(
        store
            .delete_method(alice.id, app.id, None, &event(alice.id))
            .await
            .unwrap()
    );
    assert_eq!(store.device(app.id).await.unwrap(), None);
    assert_eq!(store.device_by_activation(&[1, 2, 3]).await.unwrap(), None);
}

#[tokio::test]
async fn times_are_kept_in_whole_seconds() {
    let store = MemoryStore::new();
    let mut alice = account("alice");
    alice.created_at = at(5) + time::Duration::milliseconds(750);
    store
        .insert_account(&alice, &event(alice.id))
        .await
        .unwrap();
    let stored = store.account(alice.id).await.unwrap().unwrap();
    assert_eq!(stored.created_at, at(5));
}

#[tokio::test]
async fn a_new_request_wakes_its_device_waiters() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let alice = account("alice");
    store
        .insert_account(&alice, &event(alice.id))
        .await
        .unwrap();
    let app = method(alice.id, Kind::AuthenticatorApp);
    store.insert_method(&app, &event(alice.id)).await.unwrap();

    let mut waiter = store.push_subscribe();
    let request = PushRequest {
        id: PushRequestId(Uuid::new_v4()),
        method_id: app.id,
        account_id: alice.id,
        purpose: "sign_in".into(),
        binding: Uuid::new_v4().to_string(),
        number: 42,
        status: PushStatus::Pending,
        app: "Example".into(),
        ip: None,
        user_agent: None,
        created_at: at(10),
        expires_at: at(100),
        answered_at: None,
    };
    store
        .insert_push_request(&request, 5, at(0), &event(alice.id))
        .await
        .unwrap()
        .unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(60), waiter.next())
        .await
        .unwrap();
    assert_eq!(heard, Wake::Key(device_key(app.id)));
}

#[tokio::test]
async fn the_outbox_wait_ends_on_a_message_or_when_its_time_is_up() {
    let store = MemoryStore::new();
    // Nothing queued: the wait ends on the real clock.
    let waited = tokio::time::timeout(
        Duration::from_secs(60),
        store.wait_for_messages(Duration::from_millis(20)),
    )
    .await;
    assert!(waited.is_ok());

    // A message queued before the wait is not missed.
    store
        .enqueue_messages(&[message(MessageId(Uuid::new_v4()))])
        .await
        .unwrap();
    let waited = tokio::time::timeout(
        Duration::from_secs(5),
        store.wait_for_messages(Duration::from_secs(3600)),
    )
    .await;
    assert!(waited.is_ok());
}
