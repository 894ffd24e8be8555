//! A running server's master keys follow the key file and the database without a restart
//! (docs/design/key-rotation.md): every `RELOAD_EVERY` (and on demand, e.g. on SIGHUP) the
//! file is read again and the sealing key id read from the database, and the ring that
//! requests use is swapped in place when either changed. Also the key file's atomic rewrite.

use crate::data_dir;
use crate::failure::{Failure, Outcome, chain};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tessera_core::key_rotation::{RELOAD_EVERY, Sealing, apply_sealing};
use tessera_core::store::sealed::SealedStore;
use tessera_core::{KeyRing, Tessera};

/// What one reload found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reloaded {
    Unchanged(Sealing),
    Changed(Sealing),
    /// The file could not be read or parsed: the ring in use stays.
    Failed(String),
}

/// Reads `path` and the sealing key id again and swaps them into `ring` when they differ.
pub async fn reload(path: &Path, ring: &KeyRing, store: &dyn SealedStore) -> Reloaded {
    let next = match data_dir::load_key(path) {
        Ok(next) => next,
        Err(e) => return Reloaded::Failed(e.to_string()),
    };
    let mut sealing = match apply_sealing(store, &next).await {
        Ok(sealing) => sealing,
        Err(e) => return Reloaded::Failed(format!("database: {}", chain(&e))),
    };
    // The database names a key this file lacks: keep sealing with the key sealing so far,
    // rather than with whatever the file's highest id is.
    if let Sealing::Missing { missing, .. } = sealing
        && next.set_sealing(ring.current_id())
    {
        sealing = Sealing::Missing {
            missing,
            sealing: ring.current_id(),
        };
    }
    if ring.same_as(&next) {
        return Reloaded::Unchanged(sealing);
    }
    ring.replace(next);
    Reloaded::Changed(sealing)
}

/// Logs what a reload found, each problem once until it changes.
pub fn report(outcome: &Reloaded, last: &mut Option<Reloaded>, path: &Path) {
    let problem = |r: &Reloaded| match r {
        Reloaded::Unchanged(s) | Reloaded::Changed(s) => {
            matches!(s, Sealing::Missing { .. }).then(|| format!("{s:?}"))
        }
        Reloaded::Failed(m) => Some(m.clone()),
    };
    let repeated = last.as_ref().and_then(problem) == problem(outcome);
    match outcome {
        Reloaded::Changed(Sealing::Highest(id) | Sealing::Chosen(id)) => {
            tracing::info!(path = %path.display(), sealing = id, "master keys reloaded");
        }
        Reloaded::Unchanged(Sealing::Missing { missing, sealing })
        | Reloaded::Changed(Sealing::Missing { missing, sealing })
            if !repeated =>
        {
            tracing::error!(
                path = %path.display(),
                missing,
                sealing,
                "the database says key {missing} seals, but this node's key file lacks it: \
                 copy the key file from the node where `tessera key add` ran"
            );
        }
        Reloaded::Failed(message) if !repeated => {
            tracing::error!(
                path = %path.display(),
                error = %message,
                "cannot reload the master key file; the keys in use stay"
            );
        }
        _ => {}
    }
    *last = Some(outcome.clone());
}

/// Reloads every [`RELOAD_EVERY`] until aborted.
pub fn spawn_watch(
    path: PathBuf,
    ring: Arc<KeyRing>,
    store: Arc<dyn SealedStore>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(RELOAD_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last = None;
        loop {
            tick.tick().await;
            let outcome = reload(&path, &ring, store.as_ref()).await;
            report(&outcome, &mut last, &path);
        }
    })
}

/// Replaces the key file with `ring`'s text at once: a reader sees the old file or the new
/// one, never half of one. The new file is readable by its owner only.
pub fn write_key_file(path: &Path, ring: &KeyRing) -> Outcome {
    let shown = path.display();
    let fail = |e: std::io::Error| {
        Failure::Runtime(format!(
            "cannot write the master key file {shown}: {e}; nothing was changed"
        ))
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "master.key".into());
    let temp = path.with_file_name(format!(".{name}.new-{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temp).and_then(|mut file| {
        file.write_all(ring.to_file_text().as_bytes())?;
        file.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&temp, path)) {
        let _ = std::fs::remove_file(&temp);
        return Err(fail(e));
    }
    // The rename is durable once the folder is synced.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(dir) = std::fs::File::open(dir)
    {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// SIGHUP reads the key file and the sealing key id at once, as the timer would.
pub fn register(reloaders: &mut crate::reload::Reloaders, path: PathBuf, tessera: Arc<Tessera>) {
    reloaders.add("master keys", move || {
        let (path, tessera) = (path.clone(), tessera.clone());
        async move {
            let store: Arc<dyn SealedStore> = tessera.store().clone();
            match reload(&path, tessera.key_ring(), store.as_ref()).await {
                Reloaded::Failed(message) => Err(message.into()),
                Reloaded::Unchanged(Sealing::Missing { missing, .. })
                | Reloaded::Changed(Sealing::Missing { missing, .. }) => Err(format!(
                    "the database says key {missing} seals, but the key file lacks it"
                )
                .into()),
                Reloaded::Unchanged(_) | Reloaded::Changed(_) => Ok(()),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::{AuditAction, AuditEvent, OsRandom, RequestContext};
    use tessera_store::SqlStore;

    fn event() -> AuditEvent {
        AuditEvent::new(
            &OsRandom,
            time::OffsetDateTime::UNIX_EPOCH,
            &RequestContext::default(),
            None,
            AuditAction::SealingKeyChanged,
        )
    }

    #[tokio::test]
    async fn a_reload_follows_the_file_and_the_database_and_survives_a_broken_file() {
        let dir = std::env::temp_dir().join(format!("tessera-key-reload-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("master.key");
        let store = SqlStore::connect("sqlite::memory:").await.unwrap();
        write_key_file(&path, &KeyRing::generate(&OsRandom)).unwrap();
        let shared = crate::data_dir::load_key(&path).unwrap();
        assert_eq!(
            reload(&path, &shared, &store).await,
            Reloaded::Unchanged(Sealing::Highest(1))
        );

        // A key added (it opens), while the database keeps key 1 sealing.
        store.set_sealing_key_id(1, &event()).await.unwrap();
        let mut next = crate::data_dir::load_key(&path).unwrap();
        next.add(&OsRandom);
        write_key_file(&path, &next).unwrap();
        assert_eq!(
            reload(&path, &shared, &store).await,
            Reloaded::Changed(Sealing::Chosen(1))
        );
        assert_eq!((shared.ids(), shared.current_id()), (vec![1, 2], 1));

        // The database names a key this file lacks: key 1 goes on sealing.
        store.set_sealing_key_id(3, &event()).await.unwrap();
        assert_eq!(
            reload(&path, &shared, &store).await,
            Reloaded::Unchanged(Sealing::Missing {
                missing: 3,
                sealing: 1
            })
        );
        assert_eq!(shared.current_id(), 1);

        // A damaged file is reported, and the keys in use stay.
        store.set_sealing_key_id(2, &event()).await.unwrap();
        std::fs::write(&path, "key two\n").unwrap();
        assert!(matches!(
            reload(&path, &shared, &store).await,
            Reloaded::Failed(m) if m.contains("line 1")
        ));
        assert_eq!((shared.ids(), shared.current_id()), (vec![1, 2], 1));
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
