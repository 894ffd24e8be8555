//! Opening Tessera from a [`Config`]: the data folder, the database, the master key. `serve`
//! and the admin commands open it the same way, so they always agree on key and database.

use crate::config::Config;
use crate::data_dir;
use crate::failure::{Failure, Outcome, chain};
use std::sync::Arc;
use tessera_core::store::accounts::AccountStore;
use tessera_core::{KeyRing, OsRandom, SystemClock, Tessera};
use tessera_server::BlockingPasswords;
use tessera_store::SqlStore;

/// The service, and its store for closing it at the end (which on SQLite folds the WAL back
/// into the database file).
pub struct Opened {
    pub tessera: Arc<Tessera>,
    pub store: Arc<SqlStore>,
    /// The ring `tessera` seals and opens with; `key_reload` swaps its keys in place.
    pub keys: Arc<KeyRing>,
}

impl Opened {
    pub async fn close(self) {
        drop(self.tessera);
        self.store.close().await;
    }
}

pub async fn open(config: &Config) -> Outcome<Opened> {
    if config.uses_data_dir() {
        data_dir::ensure(&config.data_dir)?;
    }
    let url = config.database_url();
    tracing::debug!(database = %url.redacted(), "opening the database");
    let store = SqlStore::connect(url.expose()).await.map_err(|e| {
        Failure::Runtime(format!(
            "cannot open the database {}: {}",
            url.redacted(),
            chain(&e)
        ))
    })?;
    let store = Arc::new(store);
    let key_file = config.master_key_file();
    let keys = if key_file.exists() {
        data_dir::load_key(&key_file)?
    } else {
        // A database that already has accounts was used with some key. A fresh one here
        // would leave their sealed secrets unreadable and mix two keys, so stop instead.
        let populated = !store
            .list_accounts(None, 1)
            .await
            .map_err(|e| Failure::Runtime(format!("database: {}", chain(&e))))?
            .is_empty();
        if populated {
            return Err(Failure::Runtime(format!(
                "there is no master key file at {}, but the database already holds accounts. \
                 Restore the key from a backup, or point master_key_file (TESSERA_MASTER_KEY_FILE) \
                 at the key the other nodes use. If it is lost for good, write a new one by hand \
                 (one line `key 1 <64 random hex digits>`, mode 600); authenticator apps must then \
                 be registered again",
                key_file.display()
            )));
        }
        data_dir::load_or_create_key(&key_file, &OsRandom)?.0
    };
    // Every node seals with the key the database names (docs/design/key-rotation.md).
    let sealing = tessera_core::key_rotation::apply_sealing(store.as_ref(), &keys)
        .await
        .map_err(|e| Failure::Runtime(format!("database: {}", chain(&e))))?;
    if let tessera_core::key_rotation::Sealing::Missing { missing, .. } = sealing {
        tracing::error!(
            path = %key_file.display(),
            missing,
            "the database says key {missing} seals, but the key file lacks it: copy the key \
             file from the node where `tessera key add` ran"
        );
    }
    let keys = Arc::new(keys);
    let tessera = Tessera::new(
        store.clone(),
        Arc::new(SystemClock),
        Arc::new(OsRandom),
        keys.clone(),
        Arc::new(BlockingPasswords::default()),
        config.organization.clone(),
    );
    Ok(Opened {
        tessera: Arc::new(tessera),
        store,
        keys,
    })
}
