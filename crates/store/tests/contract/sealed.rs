//! Master key rotation over every sealed column (docs/design/key-rotation.md): values are
//! counted by key id, re-sealed in batches under the new key, and then open without the old
//! one; a stale re-seal never overwrites a newer value.

use crate::harness::{Db, at, event, method, on_all, seeded};
use tessera_core::audit::AuditAction;
use tessera_core::challenge::{ChallengeStatus, SentChallenge};
use tessera_core::ids::RadiusClientId;
use tessera_core::key_rotation::{reseal_all, usage};
use tessera_core::message::{Body, Channel, Envelope, Message, Topic};
use tessera_core::method::{Kind, MethodStatus};
use tessera_core::oidc::keys::{self, SigningAlg};
use tessera_core::radius::RadiusClient;
use tessera_core::store::push::Device;
use tessera_core::store::sealed::{Resealed, SEALED_COLUMNS, SealedColumn};
use tessera_core::store::web_push::VapidKey;
use tessera_core::{ChallengeId, KeyRing, OsRandom, Store};
use uuid::Uuid;

fn column(table: &str) -> &'static SealedColumn {
    SEALED_COLUMNS
        .iter()
        .find(|c| c.table == table)
        .expect("a sealed column")
}

/// Every sealed value, as (column, row, plaintext) under `ring`.
async fn opened(store: &dyn Store, ring: &KeyRing) -> Vec<(String, String, Vec<u8>)> {
    let mut out = Vec::new();
    for c in SEALED_COLUMNS {
        // No value is sealed with key 0, so this reads them all.
        for v in store.sealed_batch(c, 0, None, 1000).await.expect("batch") {
            let plain = ring
                .open(&v.sealed, c.aad(&v.row))
                .unwrap_or_else(|e| panic!("{}/{}: {e}", c.name(), v.row));
            out.push((c.name(), v.row, plain.to_vec()));
        }
    }
    out.sort();
    out
}

/// One value in every sealed column, sealed with `ring`'s sealing key.
async fn seal_everything(store: &dyn Store, ring: &KeyRing) {
    let alice = seeded(store, "alice@example.org").await;
    let added = || event(Some(alice.id), AuditAction::MethodAdded);
    // A TOTP seed, and a security key's registration in progress.
    for (kind, secret) in [
        (Kind::AuthenticatorCode, b"totp seed".as_slice()),
        (Kind::SecurityKey, b"webauthn registration state".as_slice()),
    ] {
        let mut m = method(alice.id, MethodStatus::Pending, 0);
        m.kind = kind;
        m.sealed_secret =
            Some(ring.seal(&OsRandom, secret, column("methods").aad(&m.id.to_string())));
        store
            .insert_method(&m, &added().method(m.id))
            .await
            .expect("method");
    }
    // An authenticator app waiting for activation.
    let mut app = method(alice.id, MethodStatus::Pending, 0);
    app.kind = Kind::AuthenticatorApp;
    app.sealed_secret = None;
    let device = Device {
        method_id: app.id,
        account_id: alice.id,
        activation_hash: Some(Uuid::new_v4().as_bytes().to_vec()),
        sealed_activation: Some(ring.seal(
            &OsRandom,
            b"ACTIVATECODE",
            column("push_devices").aad(&app.id.to_string()),
        )),
        activation_expires_at: at(600),
        activated_at: None,
        name: None,
        algorithm: None,
        public_key: None,
        credential_hash: None,
        wakeup_url: None,
    };
    store
        .insert_app_method(&app, &device, &added().method(app.id))
        .await
        .expect("app");
    // A code sent by text: its MAC, and its message in the outbox.
    let mut sent = method(alice.id, MethodStatus::Active, 0);
    sent.sealed_secret = None;
    store
        .insert_method(&sent, &added().method(sent.id))
        .await
        .expect("phone");
    let id = ChallengeId(Uuid::new_v4());
    let challenge = SentChallenge {
        id,
        method_id: sent.id,
        account_id: alice.id,
        purpose: "sign_in".into(),
        binding: "flow-1".into(),
        channel: Channel::Sms,
        code_mac: Some(ring.mac("test", b"123456")),
        status: ChallengeStatus::Open,
        failures: 0,
        created_at: at(0),
        expires_at: at(600),
        resend_after: at(60),
        message_id: None,
    };
    let message = Message::new(
        Envelope {
            account_id: Some(alice.id),
            channel: Channel::Sms,
            topic: Topic::Code,
            to: "+31612345678".into(),
            extension: None,
            locale: "en".into(),
            challenge_id: Some(id),
        },
        &Body::Code {
            code: "123456".into(),
            purpose: "sign_in".into(),
            minutes: 10,
        },
        ring,
        &OsRandom,
        at(0),
    )
    .expect("message");
    store
        .insert_challenge(
            &challenge,
            &message,
            &event(Some(alice.id), AuditAction::ChallengeSent),
        )
        .await
        .expect("challenge");
    // An ID token signing key, the VAPID key, a RADIUS client.
    let oidc = keys::generate(SigningAlg::Es256, &OsRandom, ring, at(0)).expect("oidc key");
    store.insert_oidc_key(&oidc).await.expect("oidc");
    let vapid = VapidKey {
        sealed_private: ring.seal(&OsRandom, &[7; 32], column("server_keys").aad("vapid")),
        public_key: vec![4; 65],
        created_at: at(0),
    };
    store.insert_vapid_key(&vapid).await.expect("vapid");
    let radius_id = RadiusClientId(Uuid::new_v4());
    let radius = RadiusClient {
        id: radius_id,
        name: "vpn".into(),
        network: "192.0.2.10".parse().expect("network"),
        sealed_secret: ring.seal(
            &OsRandom,
            b"radius secret",
            column("radius_clients").aad(&radius_id.to_string()),
        ),
        require_message_authenticator: true,
        created_at: at(0),
    };
    store
        .insert_radius_client(&radius, &event(None, AuditAction::RadiusClientCreated))
        .await
        .expect("radius");
}

#[tokio::test]
async fn rotation_reseals_every_sealed_column_so_the_old_key_can_go() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let mut ring = KeyRing::generate(&OsRandom);
        seal_everything(store, &ring).await;
        let before = usage(store, at(0)).await.expect("usage");
        assert_eq!((before.sealed(1), before.sealed(2)), (7, 0));
        assert_eq!(before.codes(1), 1, "the sent code's MAC");
        for (c, counts) in &before.columns {
            assert!(
                counts.get(&1).copied().unwrap_or(0) >= 1,
                "{} holds a value",
                c.name()
            );
        }
        let plain_before = opened(store, &ring).await;

        assert_eq!(store.sealing_key_id().await.expect("read"), None);
        ring.rotate(&OsRandom);
        let changed = event(None, AuditAction::SealingKeyChanged);
        store.set_sealing_key_id(2, &changed).await.expect("set");
        assert_eq!(store.sealing_key_id().await.expect("read"), Some(2));
        let mut batches = 0;
        let passes = reseal_all(store, &ring, &OsRandom, 1, &mut |_| batches += 1)
            .await
            .expect("reseal");
        assert_eq!(passes.iter().map(|p| p.resealed).sum::<u64>(), 7);
        assert_eq!(
            passes.iter().map(|p| p.unreadable + p.changed).sum::<u64>(),
            0
        );
        assert_eq!(batches, 7, "one value per batch");
        let after = usage(store, at(0)).await.expect("usage");
        assert_eq!((after.sealed(1), after.sealed(2)), (0, 7));
        assert_eq!(after.codes(1), 1, "a MAC is not re-sealed");
        assert_eq!(
            usage(store, at(600)).await.expect("usage").codes(1),
            0,
            "it lapses"
        );

        // Everything opens without key 1, to the same plaintext.
        let only_new = ring.without(1).expect("key 1 seals nothing");
        assert_eq!(opened(store, &only_new).await, plain_before);

        // A second pass finds nothing to do.
        let again = reseal_all(store, &ring, &OsRandom, 100, &mut |_| {})
            .await
            .expect("reseal");
        assert_eq!(again.iter().map(|p| p.resealed).sum::<u64>(), 0);
    })
    .await;
}

#[tokio::test]
async fn a_stale_reseal_never_overwrites_a_newer_value_and_damage_is_left_alone() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let mut ring = KeyRing::generate(&OsRandom);
        seal_everything(store, &ring).await;
        let radius = column("radius_clients");
        let current = store
            .sealed_batch(radius, 0, None, 10)
            .await
            .expect("batch")
            .remove(0);
        // Someone changed the value after it was read: the re-seal of the old one loses.
        let stale = Resealed {
            row: current.row.clone(),
            old: b"what was read before".to_vec(),
            new: b"stale".to_vec(),
        };
        assert_eq!(store.reseal(radius, &[stale]).await.expect("reseal"), 0);
        let fresh = Resealed {
            row: current.row.clone(),
            old: current.sealed.clone(),
            new: b"\x01\x00\x00\x00\x09damaged".to_vec(),
        };
        assert_eq!(store.reseal(radius, &[fresh]).await.expect("reseal"), 1);

        // A value that does not open is counted, left, and keeps its key id in the counts.
        ring.rotate(&OsRandom);
        let passes = reseal_all(store, &ring, &OsRandom, 100, &mut |_| {})
            .await
            .expect("reseal");
        let radius_pass = passes.iter().find(|p| p.column == *radius).expect("pass");
        assert_eq!((radius_pass.resealed, radius_pass.unreadable), (0, 1));
        let after = usage(store, at(0)).await.expect("usage");
        assert_eq!(
            (after.sealed(1), after.sealed(2), after.sealed(9)),
            (0, 6, 1)
        );
    })
    .await;
}
