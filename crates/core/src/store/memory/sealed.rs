//! The sealed columns for key rotation, over the tables the SQL store has them in.

use std::collections::BTreeMap;

use async_trait::async_trait;
use time::OffsetDateTime;

use super::MemoryStore;
use super::state::State;
use crate::audit::AuditEvent;
use crate::error::StoreError;
use crate::secret::sealed_key_id;
use crate::store::StoreResult;
use crate::store::sealed::{Resealed, SealedColumn, SealedStore, SealedValue, listed, mac_key_id};

/// Every value of `column`, by row id text, in row order.
fn values(s: &State, column: &SealedColumn) -> Vec<SealedValue> {
    let value = |row: String, sealed: &[u8]| SealedValue {
        row,
        sealed: sealed.to_vec(),
    };
    let mut out: Vec<SealedValue> = match column.table {
        "methods" => s
            .methods
            .values()
            .filter_map(|m| Some(value(m.id.to_string(), m.sealed_secret.as_deref()?)))
            .collect(),
        "outbox" => s
            .outbox
            .values()
            .filter_map(|r| {
                Some(value(
                    r.message.id.to_string(),
                    r.message.payload.as_deref()?,
                ))
            })
            .collect(),
        "push_devices" => s
            .push_devices
            .iter()
            .filter_map(|(id, d)| Some(value(id.to_string(), d.sealed_activation.as_deref()?)))
            .collect(),
        "oidc_keys" => s
            .oidc
            .keys
            .values()
            .map(|k| value(k.kid.clone(), &k.sealed_private))
            .collect(),
        "server_keys" => s
            .vapid_key
            .iter()
            .map(|k| value("vapid".into(), &k.sealed_private))
            .collect(),
        "radius_clients" => s
            .radius_clients
            .iter()
            .map(|c| value(c.id.to_string(), &c.sealed_secret))
            .collect(),
        _ => Vec::new(),
    };
    out.sort_by(|a, b| a.row.cmp(&b.row));
    out
}

/// Replaces `old` with `new` in row `row` of `column` if it still holds `old`.
fn swap(s: &mut State, column: &SealedColumn, v: &Resealed) -> bool {
    fn cas(slot: &mut Vec<u8>, v: &Resealed) -> bool {
        let same = *slot == v.old;
        if same {
            slot.clone_from(&v.new);
        }
        same
    }
    let slot: Option<&mut Vec<u8>> = match column.table {
        "methods" => s
            .methods
            .values_mut()
            .find(|m| m.id.to_string() == v.row)
            .and_then(|m| m.sealed_secret.as_mut()),
        "outbox" => s
            .outbox
            .values_mut()
            .find(|r| r.message.id.to_string() == v.row)
            .and_then(|r| r.message.payload.as_mut()),
        "push_devices" => s
            .push_devices
            .iter_mut()
            .find(|(id, _)| id.to_string() == v.row)
            .and_then(|(_, d)| d.sealed_activation.as_mut()),
        "oidc_keys" => s.oidc.keys.get_mut(&v.row).map(|k| &mut k.sealed_private),
        "server_keys" if v.row == "vapid" => s.vapid_key.as_mut().map(|k| &mut k.sealed_private),
        "radius_clients" => s
            .radius_clients
            .iter_mut()
            .find(|c| c.id.to_string() == v.row)
            .map(|c| &mut c.sealed_secret),
        _ => None,
    };
    slot.is_some_and(|slot| cas(slot, v))
}

fn known(column: &SealedColumn) -> StoreResult<&'static SealedColumn> {
    listed(column).ok_or(StoreError::Corrupt("not a sealed column"))
}

#[async_trait]
impl SealedStore for MemoryStore {
    async fn count_sealed(&self, column: &SealedColumn) -> StoreResult<BTreeMap<u32, u64>> {
        let column = known(column)?;
        self.read(|s| {
            let mut counts = BTreeMap::new();
            for v in values(s, column) {
                *counts
                    .entry(sealed_key_id(&v.sealed).unwrap_or(0))
                    .or_default() += 1;
            }
            counts
        })
    }

    async fn sealed_batch(
        &self,
        column: &SealedColumn,
        key_id: u32,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<SealedValue>> {
        let column = known(column)?;
        self.read(|s| {
            values(s, column)
                .into_iter()
                .filter(|v| after.is_none_or(|a| v.row.as_str() > a))
                .filter(|v| v.sealed.get(1..5) != Some(key_id.to_be_bytes().as_slice()))
                .take(limit as usize)
                .collect()
        })
    }

    async fn reseal(&self, column: &SealedColumn, values: &[Resealed]) -> StoreResult<u64> {
        let column = known(column)?;
        self.write(|s| Ok(values.iter().filter(|v| swap(s, column, v)).count() as u64))
    }

    async fn count_code_macs(&self, now: OffsetDateTime) -> StoreResult<BTreeMap<u32, u64>> {
        self.read(|s| {
            let mut counts = BTreeMap::new();
            for row in s.challenges.values() {
                if row.challenge.expires_at <= now {
                    continue;
                }
                if let Some(mac) = &row.challenge.code_mac {
                    *counts.entry(mac_key_id(mac)).or_default() += 1;
                }
            }
            counts
        })
    }

    async fn sealing_key_id(&self) -> StoreResult<Option<u32>> {
        self.read(|s| s.sealing_key)
    }

    async fn set_sealing_key_id(&self, id: u32, audit: &AuditEvent) -> StoreResult<()> {
        self.write(|s| {
            s.check_audit([audit])?;
            s.sealing_key = Some(id);
            s.append_audit([audit]);
            Ok(())
        })
    }
}
