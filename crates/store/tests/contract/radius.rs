use tessera_core::audit::AuditAction;
use tessera_core::ids::RadiusClientId;
use tessera_core::radius::RadiusClient;
use uuid::Uuid;

use crate::harness::{Db, at, count, event, on_all, seeded};

fn client(name: &str, network: &str, created: i64) -> RadiusClient {
    RadiusClient {
        id: RadiusClientId(Uuid::new_v4()),
        name: name.into(),
        network: network.parse().expect("network"),
        sealed_secret: vec![1, 2, 3, name.len() as u8],
        require_message_authenticator: name != "old-nas",
        created_at: at(created),
    }
}

#[tokio::test]
async fn clients_read_back_as_written_oldest_first_and_go_when_removed() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let admin = seeded(store, "admin").await;
        let ev = |a| event(Some(admin.id), a);
        let vpn = client("vpn", "192.0.2.10", 20);
        let wifi = client("old-nas", "10.0.0.0/8", 10);
        let v6 = client("v6", "2001:db8::/32", 30);
        for c in [&vpn, &wifi, &v6] {
            store
                .insert_radius_client(c, &ev(AuditAction::RadiusClientCreated))
                .await
                .expect("insert");
        }
        assert_eq!(
            store.radius_clients().await.expect("list"),
            vec![wifi.clone(), vpn.clone(), v6.clone()]
        );
        let same_name = RadiusClient {
            id: RadiusClientId(Uuid::new_v4()),
            ..vpn.clone()
        };
        assert!(
            store
                .insert_radius_client(&same_name, &ev(AuditAction::RadiusClientCreated))
                .await
                .is_err(),
            "names are unique"
        );
        let removed = store
            .delete_radius_client(vpn.id, &ev(AuditAction::RadiusClientDeleted))
            .await
            .expect("delete");
        assert!(removed);
        let again = store
            .delete_radius_client(vpn.id, &ev(AuditAction::RadiusClientDeleted))
            .await
            .expect("delete again");
        assert!(!again, "nothing left to remove");
        assert_eq!(store.radius_clients().await.expect("list"), vec![wifi, v6]);
        assert_eq!(
            count(store, admin.id, AuditAction::RadiusClientCreated).await,
            3
        );
        assert_eq!(
            count(store, admin.id, AuditAction::RadiusClientDeleted).await,
            1
        );
    })
    .await;
}
