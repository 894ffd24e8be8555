//! The backup archive: a plain ustar file (`tar tvf` lists it) holding, in this order,
//!
//! - `manifest.json`: [`Manifest`], what the archive is and whether it holds the key;
//! - `tessera.db`: the SQLite database, one consistent snapshot;
//! - `master.key`: the key file, only with `--include-key`.
//!
//! Nothing else is accepted when reading, and only these three names, so a crafted archive
//! cannot write outside the folder it is unpacked into.

use crate::failure::{Failure, Outcome};
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

pub const MANIFEST: &str = "manifest.json";
pub const DATABASE: &str = "tessera.db";
pub const KEY: &str = "master.key";
/// What `format` says in every Tessera backup's manifest.
pub const FORMAT: &str = "tessera-backup";
/// The layout version; a reader refuses versions it does not know.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    /// The `tessera` that wrote it.
    pub tessera_version: String,
    /// The newest migration the database had applied.
    pub schema_version: i64,
    /// RFC 3339, UTC: when the snapshot was taken.
    pub created_at: String,
    /// `sqlite` (PostgreSQL is backed up with `pg_dump`).
    pub store: String,
    /// Whether `master.key` is inside: then the archive opens every sealed secret.
    pub includes_key: bool,
}

/// A file created for its owner alone (0600); `create_new`, so nothing existing is replaced.
pub fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Writes the archive to `path` (a new file, 0600) and syncs it to disk.
pub fn write(
    path: &Path,
    manifest: &Manifest,
    database: &Path,
    key: Option<&[u8]>,
    mtime: u64,
) -> io::Result<()> {
    let file = create_private(path)?;
    let mut builder = tar::Builder::new(file);
    let manifest = serde_json::to_vec_pretty(manifest).map_err(io::Error::other)?;
    append(
        &mut builder,
        MANIFEST,
        manifest.len() as u64,
        &manifest[..],
        mtime,
    )?;
    let db = File::open(database)?;
    let size = db.metadata()?.len();
    append(&mut builder, DATABASE, size, db, mtime)?;
    if let Some(key) = key {
        append(&mut builder, KEY, key.len() as u64, key, mtime)?;
    }
    let file = builder.into_inner()?;
    file.sync_all()
}

fn append(
    builder: &mut tar::Builder<File>,
    name: &str,
    size: u64,
    data: impl Read,
    mtime: u64,
) -> io::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(size);
    header.set_mode(0o600);
    header.set_mtime(mtime);
    builder.append_data(&mut header, name, data)
}

/// Unpacks `archive` into the folder `into` (which exists and is empty): each file 0600.
/// Returns the manifest, checked.
pub fn unpack(archive: &Path, into: &Path) -> Outcome<Manifest> {
    let shown = archive.display();
    let not_ours =
        |why: String| Failure::Usage(format!("{shown} is not a Tessera backup archive ({why})"));
    let file = File::open(archive)
        .map_err(|e| Failure::Usage(format!("cannot read the archive {shown}: {e}")))?;
    let mut tar = tar::Archive::new(file);
    let entries = tar.entries().map_err(|e| not_ours(e.to_string()))?;
    let mut manifest = None;
    let mut has_database = false;
    for entry in entries {
        let mut entry = entry.map_err(|e| not_ours(e.to_string()))?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(not_ours("it holds something other than plain files".into()));
        }
        let name = entry
            .path()
            .map_err(|e| not_ours(e.to_string()))?
            .to_string_lossy()
            .into_owned();
        if ![MANIFEST, DATABASE, KEY].contains(&name.as_str()) {
            return Err(not_ours(format!("unexpected entry `{name}`")));
        }
        let target = into.join(&name);
        let mut out = create_private(&target)
            .map_err(|e| not_ours(format!("`{name}` twice, or unwritable: {e}")))?;
        io::copy(&mut entry, &mut out)
            .and_then(|_| out.sync_all())
            .map_err(|e| Failure::Runtime(format!("cannot unpack `{name}` from {shown}: {e}")))?;
        if name == DATABASE {
            has_database = true;
        }
        if name == MANIFEST {
            let text = fs::read(&target).map_err(|e| not_ours(e.to_string()))?;
            let m: Manifest = serde_json::from_slice(&text)
                .map_err(|e| not_ours(format!("its manifest does not read: {e}")))?;
            manifest = Some(m);
        }
    }
    let manifest = manifest.ok_or_else(|| not_ours("no manifest.json".into()))?;
    if manifest.format != FORMAT {
        return Err(not_ours(format!("format `{}`", manifest.format)));
    }
    if manifest.format_version > FORMAT_VERSION {
        return Err(Failure::Usage(format!(
            "{shown} was written by tessera {} in backup format {}, newer than this binary's {}; \
             restore it with that version or a newer one",
            manifest.tessera_version, manifest.format_version, FORMAT_VERSION
        )));
    }
    if !has_database {
        return Err(not_ours("no tessera.db".into()));
    }
    if manifest.includes_key != into.join(KEY).exists() {
        return Err(not_ours(
            "its manifest and its contents disagree about the key".into(),
        ));
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    struct Temp(PathBuf);

    impl Temp {
        fn new(name: &str) -> Temp {
            let dir = std::env::temp_dir().join(format!(
                "tessera-archive-test-{}-{name}",
                std::process::id()
            ));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(dir.join("out")).unwrap();
            Temp(dir)
        }
    }

    impl Drop for Temp {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn manifest(includes_key: bool) -> Manifest {
        Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            tessera_version: "0.1.0".into(),
            schema_version: 19,
            created_at: "2026-12-06T07:00:00Z".into(),
            store: "sqlite".into(),
            includes_key,
        }
    }

    #[test]
    fn what_is_written_unpacks_the_same() {
        let t = Temp::new("roundtrip");
        let db = t.0.join("db");
        fs::write(&db, b"SQLite format 3\0 and pages").unwrap();
        let archive = t.0.join("a.tar");
        write(&archive, &manifest(true), &db, Some(b"key 1 00\n"), 1).unwrap();
        let m = unpack(&archive, &t.0.join("out")).unwrap();
        assert!(m.includes_key);
        assert_eq!(m.schema_version, 19);
        assert_eq!(
            fs::read(t.0.join("out").join(DATABASE)).unwrap(),
            fs::read(&db).unwrap()
        );
        assert_eq!(fs::read(t.0.join("out").join(KEY)).unwrap(), b"key 1 00\n");
    }

    #[test]
    fn an_archive_with_other_files_is_refused() {
        let t = Temp::new("foreign");
        let archive = t.0.join("a.tar");
        let mut builder = tar::Builder::new(File::create(&archive).unwrap());
        let json = serde_json::to_vec(&manifest(false)).unwrap();
        for (name, data) in [
            (MANIFEST, &json[..]),
            (DATABASE, b"db"),
            ("notes.txt", b"hi"),
        ] {
            let mut header = tar::Header::new_ustar();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            builder.append_data(&mut header, name, data).unwrap();
        }
        builder.into_inner().unwrap();
        let Err(Failure::Usage(m)) = unpack(&archive, &t.0.join("out")) else {
            panic!("an unexpected entry must be refused");
        };
        assert!(m.contains("unexpected entry `notes.txt`"), "{m}");
        assert!(!t.0.join("out").join("notes.txt").exists());
    }

    #[test]
    fn a_manifest_that_claims_a_key_it_lacks_is_refused() {
        let t = Temp::new("nokey");
        let db = t.0.join("db");
        fs::write(&db, b"db").unwrap();
        let archive = t.0.join("a.tar");
        write(&archive, &manifest(true), &db, None, 1).unwrap();
        assert!(matches!(
            unpack(&archive, &t.0.join("out")),
            Err(Failure::Usage(m)) if m.contains("disagree about the key")
        ));
    }
}
