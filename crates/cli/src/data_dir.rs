//! The data folder and the master key file: created on first start, readable by their owner
//! only, and never overwritten, because a lost master key makes every sealed secret unreadable.

use crate::failure::{Failure, Outcome, chain};
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::Path;
use tessera_core::{KeyRing, Random};
use zeroize::Zeroizing;

/// Creates the folder (mode 0700) if it is missing; warns when an existing one is open to
/// others, which is the operator's choice to make, not ours to undo.
pub fn ensure(dir: &Path) -> Outcome {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| {
        Failure::Runtime(format!(
            "cannot create the data folder {}: {e}",
            dir.display()
        ))
    })?;
    #[cfg(unix)]
    if let Ok(meta) = fs::metadata(dir) {
        let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                data_dir = %dir.display(),
                mode = format!("{mode:o}"),
                "the data folder is open to other users; chmod 700 it"
            );
        }
    }
    Ok(())
}

/// The key ring in `path`, generating a fresh one there first if there is no file. The
/// boolean tells whether it was generated now.
pub fn load_or_create_key(path: &Path, rng: &dyn Random) -> Outcome<(KeyRing, bool)> {
    match create_key(path, rng) {
        Ok(ring) => Ok((ring, true)),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok((load_key(path)?, false)),
        Err(e) => Err(Failure::Runtime(format!(
            "cannot create the master key file {}: {}",
            path.display(),
            chain(&e)
        ))),
    }
}

fn create_key(path: &Path, rng: &dyn Random) -> std::io::Result<KeyRing> {
    let mut options = fs::OpenOptions::new();
    // `create_new` fails on an existing file, so a key is never replaced, even in a race.
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    let ring = KeyRing::generate(rng);
    let written = file
        .write_all(ring.to_file_text().as_bytes())
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        // A half-written key would be refused at every later start; better none at all.
        drop(file);
        let _ = fs::remove_file(path);
        return Err(e);
    }
    tracing::info!(path = %path.display(), "generated a new master key; back it up");
    Ok(ring)
}

pub fn load_key(path: &Path) -> Outcome<KeyRing> {
    let shown = path.display();
    let meta = fs::metadata(path)
        .map_err(|e| Failure::Runtime(format!("cannot read the master key file {shown}: {e}")))?;
    if !meta.is_file() {
        return Err(Failure::Runtime(format!(
            "the master key file {shown} is not a regular file"
        )));
    }
    #[cfg(unix)]
    {
        let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777;
        if mode & 0o077 != 0 {
            return Err(Failure::Runtime(format!(
                "the master key file {shown} has mode {mode:o}, so other users can read or \
                 change it; run `chmod 600 {shown}` (and, if it may have leaked, rotate it with \
                 `tessera key rotate`, then `tessera key retire` the old key)"
            )));
        }
    }
    let text = fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|e| Failure::Runtime(format!("cannot read the master key file {shown}: {e}")))?;
    KeyRing::parse(&text)
        .map_err(|e| Failure::Runtime(format!("the master key file {shown} is not usable: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use tessera_core::OsRandom;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "tessera-data-dir-test-{}-{name}",
                std::process::id()
            ));
            let _ = fs::remove_dir_all(&dir);
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn a_key_is_generated_once_and_then_reused() {
        let dir = TempDir::new("reuse");
        ensure(&dir.0).unwrap();
        let path = dir.0.join("master.key");
        let (_, created) = load_or_create_key(&path, &OsRandom).unwrap();
        assert!(created);
        let first = fs::read(&path).unwrap();
        let (ring, created) = load_or_create_key(&path, &OsRandom).unwrap();
        assert!(!created);
        assert_eq!(ring.current_id(), 1);
        assert_eq!(
            fs::read(&path).unwrap(),
            first,
            "the key file must not change"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_key_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new("mode");
        ensure(&dir.0).unwrap();
        let path = dir.0.join("master.key");
        load_or_create_key(&path, &OsRandom).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let Err(Failure::Runtime(m)) = load_or_create_key(&path, &OsRandom) else {
            panic!("a world-readable key must be refused");
        };
        assert!(m.contains("chmod 600"), "{m}");
    }

    #[test]
    fn a_malformed_key_is_refused_and_kept() {
        let dir = TempDir::new("malformed");
        ensure(&dir.0).unwrap();
        let path = dir.0.join("master.key");
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options
            .open(&path)
            .unwrap()
            .write_all(b"key one two\n")
            .unwrap();
        let Err(Failure::Runtime(m)) = load_or_create_key(&path, &OsRandom) else {
            panic!("a malformed key must be refused");
        };
        assert!(m.contains("line 1"), "{m}");
        assert_eq!(fs::read(&path).unwrap(), b"key one two\n");
    }
}
