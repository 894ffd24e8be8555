use tessera_core::audit::AuditAction;
use tessera_core::method::MethodStatus;
use tessera_core::{MethodId, StoreError};
use uuid::Uuid;

use crate::harness::{Db, at, count, event, method, on_all, seeded, seeded_method};

#[tokio::test]
async fn methods_round_trip_and_list_oldest_first() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let other = seeded(store, "other").await;
        let mut full = method(alice.id, MethodStatus::Active, 3);
        full.last_used_at = Some(at(7));
        full.last_step = Some(i64::from(u32::MAX) * 4);
        full.failures = 3;
        full.locked_until = Some(at(900));
        full.name = None;
        full.sealed_secret = None;
        store
            .insert_method(&full, &event(Some(alice.id), AuditAction::MethodAdded))
            .await
            .expect("insert");
        assert_eq!(
            store.method(full.id).await.expect("get"),
            Some(full.clone())
        );

        let first = seeded_method(store, alice.id, MethodStatus::Pending, 1).await;
        let mut same_time = [
            seeded_method(store, alice.id, MethodStatus::Active, 2).await,
            seeded_method(store, alice.id, MethodStatus::Active, 2).await,
        ];
        same_time.sort_by_key(|m| m.id.to_string());
        seeded_method(store, other.id, MethodStatus::Active, 0).await;

        let listed: Vec<MethodId> = store
            .methods_of(alice.id)
            .await
            .expect("list")
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(
            listed,
            [first.id, same_time[0].id, same_time[1].id, full.id]
        );
        assert_eq!(
            store.method(MethodId(Uuid::new_v4())).await.expect("get"),
            None
        );

        let again = store
            .insert_method(&full, &event(Some(alice.id), AuditAction::MethodAdded))
            .await;
        assert!(
            matches!(again, Err(StoreError::Conflict("method"))),
            "{again:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn activation_happens_once_and_can_make_the_default() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let pending = seeded_method(store, alice.id, MethodStatus::Pending, 0).await;
        store
            .begin_attempt(pending.id, at(1), 10)
            .await
            .expect("attempt");
        let verified = || event(Some(alice.id), AuditAction::MethodVerified).method(pending.id);

        assert!(
            store
                .activate_method(pending.id, Some(100), at(1), true, &verified())
                .await
                .expect("activate")
        );
        let active = store.method(pending.id).await.expect("get").expect("there");
        assert_eq!(active.status, MethodStatus::Active);
        assert_eq!(active.expires_at, None);
        assert_eq!(active.last_step, Some(100));
        assert_eq!(
            active.failures, 0,
            "the attempt's advance failure is cleared"
        );
        assert_eq!(active.last_used_at, None);
        let account = store.account(alice.id).await.expect("get").expect("there");
        assert_eq!(account.default_method, Some(pending.id));

        for step in [Some(101), None] {
            assert!(
                !store
                    .activate_method(pending.id, step, at(2), true, &verified())
                    .await
                    .expect("activate again"),
                "a second activation is refused"
            );
        }
        assert_eq!(count(store, alice.id, AuditAction::MethodVerified).await, 1);

        // Without make_default the default stays.
        let second = seeded_method(store, alice.id, MethodStatus::Pending, 1).await;
        assert!(
            store
                .activate_method(second.id, None, at(2), false, &verified())
                .await
                .expect("activate")
        );
        let account = store.account(alice.id).await.expect("get").expect("there");
        assert_eq!(account.default_method, Some(pending.id));
        let second = store.method(second.id).await.expect("get").expect("there");
        assert_eq!(
            (second.status, second.last_step),
            (MethodStatus::Active, None)
        );
    })
    .await;
}

#[tokio::test]
async fn activation_refuses_a_lapsed_registration_or_an_old_step() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let verified = || event(Some(alice.id), AuditAction::MethodVerified);

        let lapsed = seeded_method(store, alice.id, MethodStatus::Pending, 0).await;
        let expires = lapsed.expires_at.expect("pending methods expire");
        assert!(
            !store
                .activate_method(lapsed.id, Some(5), expires, false, &verified())
                .await
                .expect("activate")
        );

        let mut stepped = method(alice.id, MethodStatus::Pending, 0);
        stepped.last_step = Some(50);
        store
            .insert_method(&stepped, &event(Some(alice.id), AuditAction::MethodAdded))
            .await
            .expect("insert");
        assert!(
            !store
                .activate_method(stepped.id, Some(50), at(1), false, &verified())
                .await
                .expect("activate")
        );
        assert!(
            store
                .activate_method(stepped.id, Some(51), at(1), false, &verified())
                .await
                .expect("activate")
        );
        assert_eq!(count(store, alice.id, AuditAction::MethodVerified).await, 1);
    })
    .await;
}

#[tokio::test]
async fn deleting_the_default_moves_it() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let bob = seeded(store, "bob").await;
        let first = seeded_method(store, alice.id, MethodStatus::Active, 0).await;
        let second = seeded_method(store, alice.id, MethodStatus::Active, 1).await;
        let third = seeded_method(store, alice.id, MethodStatus::Active, 2).await;
        let changed = || event(Some(alice.id), AuditAction::DefaultMethodChanged);
        store
            .set_default_method(alice.id, Some(first.id), &changed())
            .await
            .expect("set default");
        let deleted = || event(Some(alice.id), AuditAction::MethodDeleted);
        let default = || async {
            store
                .account(alice.id)
                .await
                .expect("get")
                .expect("there")
                .default_method
        };
        assert_eq!(default().await, Some(first.id));

        // Someone else's method, or none: nothing happens.
        assert!(
            !store
                .delete_method(bob.id, first.id, None, &deleted())
                .await
                .expect("delete")
        );
        assert!(
            !store
                .delete_method(alice.id, MethodId(Uuid::new_v4()), None, &deleted())
                .await
                .expect("delete")
        );
        assert_eq!(count(store, alice.id, AuditAction::MethodDeleted).await, 0);

        // Not the default: the default stays.
        assert!(
            store
                .delete_method(alice.id, third.id, Some(second.id), &deleted())
                .await
                .expect("delete")
        );
        assert_eq!(default().await, Some(first.id));

        // The default: it moves.
        assert!(
            store
                .delete_method(alice.id, first.id, Some(second.id), &deleted())
                .await
                .expect("delete")
        );
        assert_eq!(default().await, Some(second.id));
        assert_eq!(store.method(first.id).await.expect("get"), None);

        // The last one: no default.
        assert!(
            store
                .delete_method(alice.id, second.id, None, &deleted())
                .await
                .expect("delete")
        );
        assert_eq!(default().await, None);
        assert!(store.methods_of(alice.id).await.expect("list").is_empty());
        assert_eq!(count(store, alice.id, AuditAction::MethodDeleted).await, 3);

        store
            .set_default_method(alice.id, None, &changed())
            .await
            .expect("clear default");
        assert_eq!(
            count(store, alice.id, AuditAction::DefaultMethodChanged).await,
            2
        );
    })
    .await;
}

#[tokio::test]
async fn lapsed_pending_registrations_are_deleted() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let lapsed = seeded_method(store, alice.id, MethodStatus::Pending, 0).await;
        let fresh = seeded_method(store, alice.id, MethodStatus::Pending, 100).await;
        let active = seeded_method(store, alice.id, MethodStatus::Active, 0).await;
        let now = lapsed.expires_at.expect("pending methods expire");

        assert_eq!(store.delete_expired_pending(now).await.expect("delete"), 1);
        let left: Vec<MethodId> = store
            .methods_of(alice.id)
            .await
            .expect("list")
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(left, [active.id, fresh.id]);
        assert_eq!(store.delete_expired_pending(now).await.expect("again"), 0);
    })
    .await;
}
