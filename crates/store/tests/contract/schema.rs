use tessera_core::StoreError;
use tessera_core::audit::AuditAction;
use tessera_core::store::accounts::AccountStore;
use tessera_store::SqlStore;

use crate::harness::{Db, count, on_both, seeded};

/// Far beyond any migration this binary ships.
const FUTURE_VERSION: i64 = 99_990_101_000_000;

#[tokio::test]
async fn a_schema_from_a_newer_binary_is_refused() {
    on_both(|db: Db| async move {
        store_ping(&db).await;
        let pool = sqlx::AnyPool::connect(&db.url).await.expect("raw connection");
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(FUTURE_VERSION)
        .bind("from the future")
        .bind(true)
        .bind(vec![0_u8; 48])
        .bind(1_i64)
        .execute(&pool)
        .await
        .expect("record a future migration");
        pool.close().await;

        match SqlStore::connect(&db.url).await {
            Err(StoreError::SchemaTooNew { found, supported }) => {
                assert_eq!(found, FUTURE_VERSION);
                // The newest migration this binary ships (each issue adds its own).
                assert!((1..found).contains(&supported), "supported = {supported}");
            }
            other => panic!("expected SchemaTooNew, got {:?}", other.map(|_| ())),
        }
    })
    .await;
}

#[tokio::test]
async fn data_survives_closing_and_reopening() {
    on_both(|db: Db| async move {
        let first = SqlStore::connect(&db.url).await.expect("open");
        assert_eq!(first.is_postgres(), db.url.starts_with("postgres"));
        let alice = seeded(&first, "alice").await;
        first.close().await;
        drop(first);

        let again = SqlStore::connect(&db.url).await.expect("reopen");
        assert_eq!(
            again.account(alice.id).await.expect("get"),
            Some(alice.clone())
        );
        assert_eq!(
            count(&again, alice.id, AuditAction::AccountCreated).await,
            1
        );
        again.close().await;
    })
    .await;
}

async fn store_ping(db: &Db) {
    db.store.ping().await.expect("ping");
}
