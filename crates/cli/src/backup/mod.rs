//! `tessera backup --to FILE [--include-key]` and `tessera restore --from FILE --data-dir DIR`.
//!
//! A backup of SQLite is taken online: `VACUUM INTO` copies one consistent snapshot while the
//! server keeps serving (WAL readers do not block the writer), into a temporary folder beside
//! the archive; the archive ([`archive`]) is written under a temporary name, synced, and only
//! then renamed to its final name, so that name never holds half an archive. PostgreSQL is
//! refused: `pg_dump` is the right tool there, with a copy of the key file.
//!
//! The master key stays out unless asked for: an archive with the key opens every sealed
//! secret (authenticator seeds, signing keys), so it must be kept like the key itself.

mod archive;
mod restore;

pub use restore::RestoreArgs;
pub(crate) use restore::unopened;

use crate::config::{Config, ConfigArgs};
use crate::data_dir;
use crate::failure::{Failure, Outcome, chain};
use crate::output::timestamp;
use archive::Manifest;
use std::fs;
use std::path::{Path, PathBuf};
use tessera_core::{Clock, SystemClock};
use zeroize::Zeroizing;

/// `tessera restore`, on a runtime of its own: it reads no configuration.
pub fn restore(args: &RestoreArgs) -> Outcome {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(restore::run(args))
}

/// What to do instead on PostgreSQL; also in the README ("Backup and restore").
pub const POSTGRES_ADVICE: &str = "tessera backup copies SQLite databases only. On PostgreSQL, \
     back up the database with its own tool, for example `pg_dump --format=custom --file \
     tessera.dump DATABASE` (while the nodes run), and keep a copy of the master key file \
     (master_key_file) apart from the dump: without the key the sealed secrets in the dump \
     cannot be opened, and with it anyone holding both can";

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The archive to write; an existing file there is replaced only once the new archive is
    /// complete
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
    /// Put the master key file in the archive too. The archive then opens every sealed
    /// secret, so it must be kept as safely as the key
    #[arg(long)]
    pub include_key: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// Removes what it holds when dropped, unless disarmed: a failed backup or restore leaves no
/// temporary files behind.
pub(crate) struct Leftovers(Vec<PathBuf>);

impl Leftovers {
    pub(crate) fn disarm(&mut self) {
        self.0.clear();
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        for path in &self.0 {
            if path.is_dir() {
                let _ = fs::remove_dir_all(path);
            } else {
                let _ = fs::remove_file(path);
            }
        }
    }
}

/// A new folder readable by its owner alone (0700).
pub(crate) fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)?;
    #[cfg(unix)]
    fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    Ok(())
}

/// Syncs a folder, so a rename in it survives a power cut.
pub(crate) fn sync_dir(path: &Path) {
    if let Ok(dir) = fs::File::open(path) {
        let _ = dir.sync_all();
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

pub async fn backup(args: BackupArgs, config: &Config) -> Outcome {
    let url = config.database_url();
    if !url.expose().to_ascii_lowercase().starts_with("sqlite:") {
        return Err(Failure::usage(POSTGRES_ADVICE));
    }
    let to = std::path::absolute(&args.to)
        .map_err(|e| Failure::Usage(format!("--to {}: {e}", args.to.display())))?;
    let (Some(parent), Some(name)) = (to.parent(), to.file_name()) else {
        return Err(Failure::Usage(format!(
            "--to {}: not a file name",
            args.to.display()
        )));
    };
    if !parent.is_dir() {
        return Err(Failure::Usage(format!(
            "--to {}: the folder {} does not exist",
            args.to.display(),
            parent.display()
        )));
    }
    let key_file = config.master_key_file();
    if to.is_dir()
        || same_file(&to, &key_file)
        || same_file(&to, &config.data_dir.join("tessera.db"))
    {
        return Err(Failure::Usage(format!(
            "--to {}: that is a folder, the database or the key file; name a new file",
            args.to.display()
        )));
    }
    // Read-only, not migrated: a server of another version may be running on it.
    let found = tessera_store::backup::inspect(url.expose(), 0)
        .await
        .map_err(|e| {
            Failure::Runtime(format!(
                "cannot open the database {}: {} (nothing to back up?)",
                url.redacted(),
                chain(&e)
            ))
        })?;
    if let Some(applied) = found.applied
        && applied > found.supported
    {
        return Err(Failure::Runtime(format!(
            "the database is schema {applied}, newer than this binary's {}: back it up with the \
             tessera that migrated it",
            found.supported
        )));
    }
    let key = if args.include_key {
        // Parsed first (and its mode checked), so the archive never holds a broken key.
        data_dir::load_key(&key_file)?;
        let bytes = fs::read(&key_file).map(Zeroizing::new).map_err(|e| {
            Failure::Runtime(format!(
                "cannot read the master key file {}: {e}",
                key_file.display()
            ))
        })?;
        Some(bytes)
    } else {
        None
    };

    let name = name.to_string_lossy();
    let pid = std::process::id();
    let snapshot_dir = parent.join(format!(".{name}.{pid}.snapshot"));
    let partial = parent.join(format!(".{name}.{pid}.partial"));
    let mut leftovers = Leftovers(vec![snapshot_dir.clone(), partial.clone()]);
    create_private_dir(&snapshot_dir)
        .map_err(|e| Failure::Runtime(format!("cannot create {}: {e}", snapshot_dir.display())))?;
    // The moment the snapshot starts: everything committed before it is in the archive.
    let started = SystemClock.now();
    let snapshot = snapshot_dir.join(archive::DATABASE);
    tessera_store::backup::sqlite_copy(url.expose(), &snapshot)
        .await
        .map_err(|e| Failure::Runtime(format!("copying the database failed: {}", chain(&e))))?;
    let copy = tessera_store::backup::inspect(&tessera_store::sqlite_url(&snapshot_dir), 0)
        .await
        .map_err(|e| Failure::Runtime(format!("the copy does not open: {}", chain(&e))))?;
    match copy.quick_check.as_deref() {
        Some("ok") | None => {}
        Some(problem) => {
            return Err(Failure::Runtime(format!(
                "the copy fails SQLite's integrity check ({problem}); run `tessera doctor` on \
                 the database"
            )));
        }
    }
    let manifest = Manifest {
        format: archive::FORMAT.into(),
        format_version: archive::FORMAT_VERSION,
        tessera_version: env!("CARGO_PKG_VERSION").into(),
        schema_version: copy.applied.unwrap_or(0),
        created_at: timestamp(started),
        store: "sqlite".into(),
        includes_key: key.is_some(),
    };
    let mtime = u64::try_from(started.unix_timestamp()).unwrap_or(0);
    archive::write(
        &partial,
        &manifest,
        &snapshot,
        key.as_deref().map(|k| &k[..]),
        mtime,
    )
    .map_err(|e| Failure::Runtime(format!("cannot write {}: {e}", partial.display())))?;
    fs::rename(&partial, &to).map_err(|e| {
        Failure::Runtime(format!(
            "cannot rename the archive to {}: {e}",
            to.display()
        ))
    })?;
    sync_dir(parent);
    leftovers.0.retain(|p| p != &partial);
    drop(leftovers);

    println!(
        "backup written to {} (schema {}, {} accounts, taken at {})",
        to.display(),
        manifest.schema_version,
        found.accounts,
        manifest.created_at
    );
    if manifest.includes_key {
        eprintln!(
            "warning: this archive holds the master key, so it opens every sealed secret \
             (authenticator seeds, signing keys). Keep it as safely as the key itself: \
             encrypted, and away from the server"
        );
    } else {
        println!(
            "the master key is not in it: keep a copy of {} apart from the archive; \
             `tessera restore` needs it (--key-file)",
            key_file.display()
        );
    }
    Ok(())
}
