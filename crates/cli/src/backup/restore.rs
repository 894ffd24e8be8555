//! `tessera restore --from FILE --data-dir DIR [--key-file K]`: only into an empty or new
//! folder. The archive is unpacked into a temporary folder beside DIR, the database opened
//! (and migrated when the archive is older than this binary), and the key checked against the
//! sealed values, all BEFORE the folder is renamed into place: a wrong key, a damaged archive
//! or a database from a newer release leaves DIR as it was (absent or empty).

use super::archive::{self, DATABASE, KEY};
use super::{Leftovers, create_private_dir, sync_dir};
use crate::data_dir;
use crate::failure::{Failure, Outcome, chain};
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::PathBuf;
use tessera_core::secret::Aad;
use tessera_core::{KeyRing, StoreError};
use tessera_store::SqlStore;
use tessera_store::backup::SealedValue;

/// Sealed values checked per sealed column: enough to catch a mix of keys, few enough to be
/// quick on a large database.
const CHECKED_PER_COLUMN: u32 = 200;

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The archive `tessera backup` wrote
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// The data folder to restore into; it must be empty or not exist yet
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
    /// The master key file, for an archive made without --include-key (it is copied into
    /// the data folder as master.key)
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
}

pub async fn run(args: &RestoreArgs) -> Outcome {
    let dir = std::path::absolute(&args.data_dir)
        .map_err(|e| Failure::Usage(format!("--data-dir {}: {e}", args.data_dir.display())))?;
    let shown = dir.display().to_string();
    match fs::read_dir(&dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Failure::Usage(format!(
                    "{shown} is not empty: restore only into an empty or new folder, so that \
                     nothing there is overwritten"
                )));
            }
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(Failure::Usage(format!("--data-dir {shown}: {e}"))),
    }
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return Err(Failure::Usage(format!(
            "--data-dir {shown}: not a folder name"
        )));
    };
    if !parent.is_dir() {
        return Err(Failure::Usage(format!(
            "--data-dir {shown}: its parent folder {} does not exist",
            parent.display()
        )));
    }
    let staging = parent.join(format!(
        ".{}.restore-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    create_private_dir(&staging)
        .map_err(|e| Failure::Runtime(format!("cannot create {}: {e}", staging.display())))?;
    let mut leftovers = Leftovers(vec![staging.clone()]);

    let manifest = archive::unpack(&args.from, &staging)?;
    // The data folder holds what `tessera serve` keeps there, nothing else.
    let _ = fs::remove_file(staging.join(archive::MANIFEST));
    let key_path = staging.join(KEY);
    if let Some(given) = &args.key_file {
        data_dir::load_key(given)?;
        let text = fs::read(given)
            .map(zeroize::Zeroizing::new)
            .map_err(|e| Failure::Usage(format!("--key-file {}: {e}", given.display())))?;
        // The given key wins over one in the archive.
        let _ = fs::remove_file(&key_path);
        let mut out = archive::create_private(&key_path)
            .map_err(|e| Failure::Runtime(format!("{}: {e}", key_path.display())))?;
        out.write_all(&text)
            .and_then(|()| out.sync_all())
            .map_err(|e| Failure::Runtime(format!("{}: {e}", key_path.display())))?;
    } else if !manifest.includes_key {
        return Err(Failure::Usage(format!(
            "{} holds no master key (it was made without --include-key): give the key file \
             the data was sealed with, with --key-file",
            args.from.display()
        )));
    }
    let keys = data_dir::load_key(&key_path)?;

    let store = SqlStore::connect(&tessera_store::sqlite_url(&staging))
        .await
        .map_err(|e| match e {
            StoreError::SchemaTooNew { found, supported } => Failure::Runtime(format!(
                "the backup's database is schema {found}, newer than this binary's \
                 {supported}: restore it with tessera {} or newer. Nothing was restored",
                manifest.tessera_version
            )),
            e => Failure::Runtime(format!(
                "the backup's database does not open: {}. Nothing was restored",
                chain(&e)
            )),
        })?;
    let checked = check(&store, &keys).await;
    store.close().await;
    let (checked, schema_now) = checked.map_err(|e| match e {
        Failure::Usage(m) => {
            Failure::Usage(format!("{m}. Nothing was restored; {shown} is as it was"))
        }
        Failure::Runtime(m) => {
            Failure::Runtime(format!("{m}. Nothing was restored; {shown} is as it was"))
        }
    })?;

    // An empty DIR is replaced by the staging folder in one rename.
    fs::rename(&staging, &dir).map_err(|e| {
        Failure::Runtime(format!(
            "cannot move the restored data into {shown}: {e}. Nothing was restored"
        ))
    })?;
    leftovers.disarm();
    sync_dir(parent);

    println!(
        "restored {} into {shown}: taken at {} by tessera {}, schema {}{}",
        args.from.display(),
        manifest.created_at,
        manifest.tessera_version,
        manifest.schema_version,
        if schema_now > manifest.schema_version {
            format!(", migrated to {schema_now}")
        } else {
            String::new()
        }
    );
    if checked == 0 {
        println!(
            "note: the database holds no sealed values, so the key could not be checked \
             against it; {shown}/{KEY} is the key it will seal with"
        );
    } else {
        println!("the master key opens all {checked} sealed values checked");
    }
    if args.key_file.is_none() {
        println!(
            "the master key came from the archive: now keep the archive as safely as {shown}/{KEY}"
        );
    }
    Ok(())
}

/// The database is sound and the key opens its sealed values: how many were checked, and the
/// schema version now.
async fn check(store: &SqlStore, keys: &KeyRing) -> Outcome<(usize, i64)> {
    let integrity = store
        .quick_check()
        .await
        .map_err(|e| Failure::Runtime(format!("the integrity check failed: {}", chain(&e))))?;
    if let Some(problem) = integrity.filter(|a| a != "ok") {
        return Err(Failure::Runtime(format!(
            "the backup's {DATABASE} fails SQLite's integrity check: {problem}"
        )));
    }
    let sealed = store
        .sealed_values(CHECKED_PER_COLUMN)
        .await
        .map_err(|e| Failure::Runtime(format!("reading the sealed values: {}", chain(&e))))?;
    let failed = unopened(&sealed, keys);
    if let Some(first) = failed.first() {
        return Err(Failure::Usage(format!(
            "the master key does not open the backup's sealed values ({} of {} did not open, \
             the first in {}.{}): it is not the key this data was sealed with",
            failed.len(),
            sealed.len(),
            first.table,
            first.column
        )));
    }
    let schema = store
        .schema_version()
        .await
        .map_err(|e| Failure::Runtime(format!("reading the schema version: {}", chain(&e))))?;
    Ok((sealed.len(), schema))
}

/// The values `keys` does not open.
pub(crate) fn unopened<'a>(sealed: &'a [SealedValue], keys: &KeyRing) -> Vec<&'a SealedValue> {
    sealed
        .iter()
        .filter(|v| {
            let aad = Aad {
                table: v.table,
                column: v.column,
                row: &v.row,
            };
            keys.open(&v.sealed, aad).is_err()
        })
        .collect()
}
