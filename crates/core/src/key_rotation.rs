//! Master key rotation (docs/design/key-rotation.md): which key seals, how many values each
//! key still seals, and re-sealing every sealed value under the sealing key in batches
//! while the server keeps running.
//!
//! ```text
//!  key add        key rotate                                     key retire N
//!  ───────►  N opens ───────► N seals; values re-sealed ───────► no value under the old
//!            (file)           (database: sealing_key)            key: it leaves the file
//! ```
//!
//! A re-seal never overwrites a concurrent change: each value is replaced only where the row
//! still holds the bytes that were read (`SealedStore::reseal`), and a later pass picks up
//! whatever changed meanwhile.

use crate::random::Random;
use crate::secret::KeyRing;
use crate::store::StoreResult;
use crate::store::sealed::{Resealed, SEALED_COLUMNS, SealedColumn, SealedStore};
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

/// How often a running server reads its key file and the sealing key id again; `tessera key
/// rotate` waits two of these after choosing a new sealing key, so every node seals with it
/// before the last pass.
pub const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

impl crate::Tessera {
    /// The ring this service seals and opens with, for swapping new keys into
    /// ([`KeyRing::replace`]) while it runs.
    pub fn key_ring(&self) -> &std::sync::Arc<KeyRing> {
        &self.keys
    }

    /// An audit event of a `tessera key` command (run locally, by no account).
    pub fn key_event(
        &self,
        action: crate::audit::AuditAction,
        detail: serde_json::Value,
    ) -> crate::audit::AuditEvent {
        self.local_admin().audit_about(action, detail)
    }
}

/// What each key id seals, column by column, and the sent codes whose MAC it made.
#[derive(Debug, Clone, Default)]
pub struct KeyUsage {
    pub columns: Vec<(SealedColumn, BTreeMap<u32, u64>)>,
    /// Codes still valid: their MAC checks only while its key is in the ring.
    pub code_macs: BTreeMap<u32, u64>,
}

impl KeyUsage {
    /// Sealed values under `id`, over every column.
    pub fn sealed(&self, id: u32) -> u64 {
        self.columns
            .iter()
            .filter_map(|(_, counts)| counts.get(&id))
            .sum()
    }

    /// Sent codes still valid whose MAC `id` made.
    pub fn codes(&self, id: u32) -> u64 {
        self.code_macs.get(&id).copied().unwrap_or(0)
    }

    /// Every key id something uses.
    pub fn key_ids(&self) -> BTreeSet<u32> {
        self.columns
            .iter()
            .flat_map(|(_, counts)| counts.keys().copied())
            .chain(self.code_macs.keys().copied())
            .collect()
    }

    /// Values sealed with another key than `id`.
    pub fn sealed_elsewhere(&self, id: u32) -> u64 {
        self.columns
            .iter()
            .flat_map(|(_, counts)| counts.iter())
            .filter(|(k, _)| **k != id)
            .map(|(_, n)| n)
            .sum()
    }
}

pub async fn usage(store: &dyn SealedStore, now: OffsetDateTime) -> StoreResult<KeyUsage> {
    let mut columns = Vec::new();
    for column in SEALED_COLUMNS {
        columns.push((*column, store.count_sealed(column).await?));
    }
    Ok(KeyUsage {
        columns,
        code_macs: store.count_code_macs(now).await?,
    })
}

/// What became of the key id the database names, applied to a ring just read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealing {
    /// No `tessera key` command ran yet: the highest id seals.
    Highest(u32),
    /// The database's choice, which the ring holds, seals.
    Chosen(u32),
    /// The database names a key this ring lacks (the key file was not copied to this node
    /// yet): the ring keeps sealing with `sealing`, and values under `missing` do not open.
    Missing { missing: u32, sealing: u32 },
}

/// Makes the ring seal with the key the database names.
pub async fn apply_sealing(store: &dyn SealedStore, ring: &KeyRing) -> StoreResult<Sealing> {
    Ok(match store.sealing_key_id().await? {
        None => Sealing::Highest(ring.current_id()),
        Some(id) if ring.set_sealing(id) => Sealing::Chosen(id),
        Some(missing) => Sealing::Missing {
            missing,
            sealing: ring.current_id(),
        },
    })
}

/// One column's pass, so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub column: SealedColumn,
    /// Sealed again under the sealing key.
    pub resealed: u64,
    /// Changed by someone else between the read and the write: left for the next pass.
    pub changed: u64,
    /// Did not open (a key this ring lacks, or damage): left as they are.
    pub unreadable: u64,
}

/// Seals every value of `column` that is not under `keys`' sealing key again under it,
/// `batch` values per short transaction; `progress` hears after each batch.
pub async fn reseal_column(
    store: &dyn SealedStore,
    keys: &KeyRing,
    rng: &dyn Random,
    column: &SealedColumn,
    batch: u32,
    progress: &mut (dyn FnMut(&Pass) + Send),
) -> StoreResult<Pass> {
    let target = keys.current_id();
    let mut pass = Pass {
        column: *column,
        resealed: 0,
        changed: 0,
        unreadable: 0,
    };
    let mut after: Option<String> = None;
    loop {
        let values = store
            .sealed_batch(column, target, after.as_deref(), batch.max(1))
            .await?;
        let Some(last) = values.last() else {
            return Ok(pass);
        };
        after = Some(last.row.clone());
        let mut resealed = Vec::with_capacity(values.len());
        for value in values {
            let aad = column.aad(&value.row);
            match keys.open(&value.sealed, aad) {
                Ok(plain) => {
                    let new = keys.seal(rng, &plain, aad);
                    resealed.push(Resealed {
                        row: value.row,
                        old: value.sealed,
                        new,
                    });
                }
                Err(_) => pass.unreadable += 1,
            }
        }
        let written = store.reseal(column, &resealed).await?;
        pass.resealed += written;
        pass.changed += resealed.len() as u64 - written;
        progress(&pass);
    }
}

/// Every column once (see [`reseal_column`]).
pub async fn reseal_all(
    store: &dyn SealedStore,
    keys: &KeyRing,
    rng: &dyn Random,
    batch: u32,
    progress: &mut (dyn FnMut(&Pass) + Send),
) -> StoreResult<Vec<Pass>> {
    let mut passes = Vec::new();
    for column in SEALED_COLUMNS {
        passes.push(reseal_column(store, keys, rng, column, batch, progress).await?);
    }
    Ok(passes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::RadiusClientId;
    use crate::radius::RadiusClient;
    use crate::random::OsRandom;
    use crate::store::memory::MemoryStore;
    use crate::store::radius::RadiusStore;

    fn client(keys: &KeyRing, name: &str) -> RadiusClient {
        let id = RadiusClientId(uuid::Uuid::new_v4());
        let column = SEALED_COLUMNS[5];
        RadiusClient {
            id,
            name: name.into(),
            network: "192.0.2.1".parse().unwrap(),
            sealed_secret: keys.seal(&OsRandom, name.as_bytes(), column.aad(&id.to_string())),
            require_message_authenticator: true,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn client_created() -> crate::audit::AuditEvent {
        crate::audit::AuditEvent {
            id: crate::ids::AuditId(uuid::Uuid::new_v4()),
            at: OffsetDateTime::UNIX_EPOCH,
            account_id: None,
            action: crate::audit::AuditAction::RadiusClientCreated,
            method_id: None,
            ip: None,
            user_agent: None,
            detail: serde_json::Value::Null,
        }
    }

    #[tokio::test]
    async fn values_move_to_the_sealing_key_in_batches_and_still_open() {
        let store = MemoryStore::new();
        let mut keys = KeyRing::generate(&OsRandom);
        let column = SEALED_COLUMNS[5];
        assert_eq!(column.table, "radius_clients");
        for n in 0..5 {
            let c = client(&keys, &format!("nas-{n}"));
            store
                .insert_radius_client(&c, &client_created())
                .await
                .unwrap();
        }
        let before = usage(&store, OffsetDateTime::UNIX_EPOCH).await.unwrap();
        assert_eq!((before.sealed(1), before.sealed(2)), (5, 0));

        keys.rotate(&OsRandom);
        let mut batches = 0;
        let pass = reseal_column(&store, &keys, &OsRandom, &column, 2, &mut |_| batches += 1)
            .await
            .unwrap();
        assert_eq!((pass.resealed, pass.changed, pass.unreadable), (5, 0, 0));
        assert_eq!(batches, 3, "5 values, 2 per batch");
        let after = usage(&store, OffsetDateTime::UNIX_EPOCH).await.unwrap();
        assert_eq!((after.sealed(1), after.sealed(2)), (0, 5));
        let only_new = keys.without(1).unwrap();
        for c in store.radius_clients().await.unwrap() {
            let opened = only_new
                .open(&c.sealed_secret, column.aad(&c.id.to_string()))
                .unwrap();
            assert_eq!(opened.as_slice(), c.name.as_bytes());
        }
    }

    #[tokio::test]
    async fn a_stale_reseal_never_overwrites_a_newer_value() {
        let store = MemoryStore::new();
        let keys = KeyRing::generate(&OsRandom);
        let column = SEALED_COLUMNS[5];
        let c = client(&keys, "nas");
        store
            .insert_radius_client(&c, &client_created())
            .await
            .unwrap();
        let stale = Resealed {
            row: c.id.to_string(),
            old: b"not what the row holds".to_vec(),
            new: b"stale".to_vec(),
        };
        assert_eq!(store.reseal(&column, &[stale]).await.unwrap(), 0);
        let held = store.radius_clients().await.unwrap();
        assert_eq!(held[0].sealed_secret, c.sealed_secret);
    }

    fn event(key: u32) -> crate::audit::AuditEvent {
        crate::audit::AuditEvent::new(
            &OsRandom,
            OffsetDateTime::UNIX_EPOCH,
            &crate::audit::RequestContext::default(),
            None,
            crate::audit::AuditAction::SealingKeyChanged,
        )
        .detail(serde_json::json!({ "key": key }))
    }

    #[tokio::test]
    async fn the_database_names_the_sealing_key() {
        let store = MemoryStore::new();
        let mut added = KeyRing::generate(&OsRandom);
        added.add(&OsRandom);
        // As servers read the file: with no word from the database, the highest id seals.
        let ring = KeyRing::parse(&added.to_file_text()).unwrap();
        assert_eq!(
            apply_sealing(&store, &ring).await.unwrap(),
            Sealing::Highest(2)
        );
        store.set_sealing_key_id(1, &event(1)).await.unwrap();
        assert_eq!(
            apply_sealing(&store, &ring).await.unwrap(),
            Sealing::Chosen(1)
        );
        assert_eq!(ring.current_id(), 1);
        store.set_sealing_key_id(3, &event(3)).await.unwrap();
        assert_eq!(
            apply_sealing(&store, &ring).await.unwrap(),
            Sealing::Missing {
                missing: 3,
                sealing: 1
            }
        );
    }
}
