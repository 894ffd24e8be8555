//! Storage for master key rotation (docs/design/key-rotation.md): every sealed column, listed
//! once in [`SEALED_COLUMNS`], and what rotation asks of them: how many values each key id
//! seals, a batch of values not yet under the sealing key, and a compare-and-swap that
//! replaces a value only if it is still the one that was read. The sealing key id itself is
//! kept in the database, so every node seals with the same key.
//!
//! A sealed value's key id is bytes 1..5 of it ([`crate::secret::sealed_key_id`]).

use super::StoreResult;
use crate::audit::AuditEvent;
use crate::secret::Aad;
use async_trait::async_trait;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// One column that holds values sealed with the key ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedColumn {
    /// The table, and the column of the sealed bytes (NULL where there is no value).
    pub table: &'static str,
    pub column: &'static str,
    /// The column whose text is the AAD's row.
    pub row_id: &'static str,
    /// The AAD's table and column, as the code that seals names them.
    pub aad_table: &'static str,
    pub aad_column: &'static str,
}

impl SealedColumn {
    /// Where a value of this column in row `row` is bound.
    pub fn aad<'a>(&self, row: &'a str) -> Aad<'a> {
        Aad {
            table: self.aad_table,
            column: self.aad_column,
            row,
        }
    }

    /// `table.column`, for people.
    pub fn name(&self) -> String {
        format!("{}.{}", self.table, self.column)
    }
}

/// Every sealed column. A value sealed anywhere else is never re-sealed, and would stop
/// opening once its key is retired: the test below fails when a new `Aad` is not listed here.
pub const SEALED_COLUMNS: &[SealedColumn] = &[
    // Authenticator seeds (TOTP, hardware tokens) and security keys' pending registrations.
    SealedColumn {
        table: "methods",
        column: "sealed_secret",
        row_id: "id",
        aad_table: "methods",
        aad_column: "secret",
    },
    // Message bodies (codes) waiting in the outbox.
    SealedColumn {
        table: "outbox",
        column: "payload",
        row_id: "id",
        aad_table: "outbox",
        aad_column: "payload",
    },
    // Authenticator app activation codes, until the app activates.
    SealedColumn {
        table: "push_devices",
        column: "sealed_activation",
        row_id: "method_id",
        aad_table: "push_devices",
        aad_column: "activation",
    },
    // OpenID Connect ID token signing keys.
    SealedColumn {
        table: "oidc_keys",
        column: "private_key",
        row_id: "kid",
        aad_table: "oidc_keys",
        aad_column: "private_key",
    },
    // The Web Push (VAPID) key.
    SealedColumn {
        table: "server_keys",
        column: "sealed_private",
        row_id: "name",
        aad_table: "server_keys",
        aad_column: "private_key",
    },
    // RADIUS clients' shared secrets.
    SealedColumn {
        table: "radius_clients",
        column: "secret",
        row_id: "id",
        aad_table: "radius_clients",
        aad_column: "secret",
    },
];

/// One sealed value as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedValue {
    /// The row id's text (the AAD's row).
    pub row: String,
    pub sealed: Vec<u8>,
}

/// A value sealed again: `new` replaces `old` only where the row still holds `old`.
#[derive(Debug, Clone)]
pub struct Resealed {
    pub row: String,
    pub old: Vec<u8>,
    pub new: Vec<u8>,
}

/// The setting that names the sealing key id.
pub const SEALING_KEY_SETTING: &str = "sealing_key";

#[async_trait]
pub trait SealedStore: Send + Sync {
    /// How many values of `column` each key id seals (a value too short to carry an id
    /// counts under 0).
    async fn count_sealed(&self, column: &SealedColumn) -> StoreResult<BTreeMap<u32, u64>>;

    /// Up to `limit` values of `column` not sealed with `key_id`, in rows after `after`
    /// (in row id order), the first rows first.
    async fn sealed_batch(
        &self,
        column: &SealedColumn,
        key_id: u32,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<SealedValue>>;

    /// Writes each value in one short transaction, each only where the row still holds its
    /// `old` value (a concurrent change wins); returns how many were written.
    async fn reseal(&self, column: &SealedColumn, values: &[Resealed]) -> StoreResult<u64>;

    /// How many sent codes still valid at `now` each key id made the MAC of (a MAC cannot be
    /// sealed again; it lapses with its code).
    async fn count_code_macs(&self, now: OffsetDateTime) -> StoreResult<BTreeMap<u32, u64>>;

    /// The key id every node seals with, once `tessera key` has set one.
    async fn sealing_key_id(&self) -> StoreResult<Option<u32>>;

    /// Names the key every node seals with, and records `audit` with it.
    async fn set_sealing_key_id(&self, id: u32, audit: &AuditEvent) -> StoreResult<()>;
}

/// The key id in the first four bytes of a MAC (`KeyRing::mac`), 0 when too short.
pub fn mac_key_id(mac: &[u8]) -> u32 {
    mac.first_chunk::<4>().map_or(0, |b| u32::from_be_bytes(*b))
}

/// The registry's entry for `table.column`: implementations name only these in SQL.
pub fn listed(column: &SealedColumn) -> Option<&'static SealedColumn> {
    SEALED_COLUMNS
        .iter()
        .find(|c| c.table == column.table && c.column == column.column)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The `table: "…", column: "…"` pair of each `Aad {` literal in `text`.
    fn aad_literals(text: &str) -> Vec<(String, String)> {
        let quoted = |s: &str, field: &str| -> Option<String> {
            let at = s.find(&format!("{field}: \""))? + field.len() + 3;
            Some(s[at..].split('"').next()?.to_string())
        };
        text.match_indices("Aad {")
            .filter_map(|(i, _)| {
                let body = &text[i..text[i..].find('}').map_or(text.len(), |e| i + e)];
                Some((quoted(body, "table")?, quoted(body, "column")?))
            })
            .collect()
    }

    #[test]
    fn every_sealed_column_in_the_code_is_listed() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&root, &mut files);
        let mut found = 0;
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (table, column) in aad_literals(&text) {
                // The tests of secret.rs seal into a made-up place.
                if file.ends_with("secret.rs") || file.ends_with("store/sealed.rs") {
                    continue;
                }
                found += 1;
                assert!(
                    SEALED_COLUMNS
                        .iter()
                        .any(|c| c.aad_table == table && c.aad_column == column),
                    "{}: Aad {{ table: {table:?}, column: {column:?} }} is not in \
                     SEALED_COLUMNS (crates/core/src/store/sealed.rs): key rotation would \
                     never re-seal it",
                    file.display()
                );
            }
        }
        assert!(found >= SEALED_COLUMNS.len(), "the scan found the Aad uses");
    }

    #[test]
    fn the_scan_sees_an_unlisted_column() {
        let text = "fn aad(id: &str) -> Aad<'_> {\n    Aad {\n        table: \"t\",\n        \
                    column: \"c\",\n        row: id,\n    }\n}";
        assert_eq!(aad_literals(text), vec![("t".into(), "c".into())]);
    }

    #[test]
    fn mac_key_ids_lead() {
        assert_eq!(mac_key_id(&[0, 0, 0, 2, 9, 9]), 2);
        assert_eq!(mac_key_id(&[1]), 0);
    }
}
