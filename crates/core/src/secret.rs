//! Secrets at rest and tokens.
//!
//! Secrets that must be read back (TOTP seeds) are sealed with XChaCha20-Poly1305 under a key
//! from the [`KeyRing`]; the sealed value carries the key id, so keys can rotate, and the
//! associated data names the table, column and row, so a sealed value copied to another row
//! does not open. Tokens are only ever stored as SHA-256 hashes: they carry 256 random bits,
//! so a fast hash is enough.

use crate::random::{self, Random};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use data_encoding::{BASE64URL_NOPAD, HEXLOWER};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use zeroize::Zeroizing;

const SEALED_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// Where a sealed value lives; bound into the AEAD as associated data.
#[derive(Debug, Clone, Copy)]
pub struct Aad<'a> {
    pub table: &'static str,
    pub column: &'static str,
    pub row: &'a str,
}

impl Aad<'_> {
    fn bytes(&self) -> Vec<u8> {
        [
            self.table.as_bytes(),
            self.column.as_bytes(),
            self.row.as_bytes(),
        ]
        .join(&0u8)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("line {0} of the key file is not `key <id> <64 hex digits>`")]
    Malformed(usize),
    #[error("the key file holds no key")]
    Empty,
    #[error("key id {0} appears twice")]
    Duplicate(u32),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("sealed with key {0}, which the key ring does not hold")]
    UnknownKey(u32),
    #[error("sealed value is damaged, or belongs to another row")]
    Damaged,
}

/// The master keys: one seals (the highest id, unless the database names another: see
/// docs/design/key-rotation.md), every id opens.
///
/// The ring can be swapped in place ([`KeyRing::replace`]) while requests use it, so a
/// running server learns a new key file or sealing key without a restart. Every operation
/// takes a snapshot (one uncontended read lock and an `Arc` clone), so the hot path stays
/// cheap and never sees half a change.
pub struct KeyRing {
    state: RwLock<Arc<Keys>>,
}

#[derive(Clone)]
struct Keys {
    keys: BTreeMap<u32, Zeroizing<[u8; 32]>>,
    /// The id that seals (and makes MACs); always one of `keys`.
    sealing: u32,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = self.snapshot();
        f.debug_struct("KeyRing")
            .field("key_ids", &keys.keys.keys().collect::<Vec<_>>())
            .field("sealing", &keys.sealing)
            .finish()
    }
}

/// The id of the key `sealed` was sealed with (bytes 1..5 of a sealed value), if it looks
/// like one.
pub fn sealed_key_id(sealed: &[u8]) -> Option<u32> {
    match sealed {
        [SEALED_VERSION, a, b, c, d, ..] => Some(u32::from_be_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

impl KeyRing {
    fn from_keys(keys: BTreeMap<u32, Zeroizing<[u8; 32]>>) -> Self {
        let sealing = keys.keys().next_back().copied().unwrap_or(0);
        Self {
            state: RwLock::new(Arc::new(Keys { keys, sealing })),
        }
    }

    fn snapshot(&self) -> Arc<Keys> {
        // A poisoned lock still holds a whole `Arc`: writers only ever swap it.
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn state_mut(&mut self) -> &mut Keys {
        let state = self
            .state
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::make_mut(state)
    }

    /// A ring with one fresh key, id 1.
    pub fn generate(rng: &dyn Random) -> Self {
        let mut keys = BTreeMap::new();
        keys.insert(1, Zeroizing::new(random::bytes::<32>(rng)));
        Self::from_keys(keys)
    }

    /// Adds a fresh key with the next id, which opens but does not seal yet (see
    /// [`KeyRing::set_sealing`]).
    pub fn add(&mut self, rng: &dyn Random) -> u32 {
        let state = self.state_mut();
        let id = state.keys.keys().next_back().copied().unwrap_or(0) + 1;
        state
            .keys
            .insert(id, Zeroizing::new(random::bytes::<32>(rng)));
        id
    }

    /// Adds a fresh key with the next id; it seals from now on.
    pub fn rotate(&mut self, rng: &dyn Random) -> u32 {
        let id = self.add(rng);
        self.state_mut().sealing = id;
        id
    }

    /// The id that seals.
    pub fn current_id(&self) -> u32 {
        self.snapshot().sealing
    }

    /// The highest id in the ring (the newest key).
    pub fn highest_id(&self) -> u32 {
        self.snapshot()
            .keys
            .keys()
            .next_back()
            .copied()
            .unwrap_or(0)
    }

    /// Every key id, lowest first.
    pub fn ids(&self) -> Vec<u32> {
        self.snapshot().keys.keys().copied().collect()
    }

    pub fn contains(&self, id: u32) -> bool {
        self.snapshot().keys.contains_key(&id)
    }

    /// Makes `id` the sealing key; false (and nothing changes) when the ring lacks it.
    pub fn set_sealing(&self, id: u32) -> bool {
        let mut state = self
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !state.keys.contains_key(&id) {
            return false;
        }
        if state.sealing != id {
            *state = Arc::new(Keys {
                keys: state.keys.clone(),
                sealing: id,
            });
        }
        true
    }

    /// The ring without key `id`; `None` when `id` seals, or is the ring's only key.
    pub fn without(&self, id: u32) -> Option<KeyRing> {
        let state = self.snapshot();
        if state.sealing == id || !state.keys.contains_key(&id) || state.keys.len() < 2 {
            return None;
        }
        let mut keys = state.keys.clone();
        keys.remove(&id);
        Some(KeyRing {
            state: RwLock::new(Arc::new(Keys {
                keys,
                sealing: state.sealing,
            })),
        })
    }

    /// Takes `other`'s keys and sealing id, at once for every user of this ring.
    pub fn replace(&self, other: KeyRing) {
        let next = other.snapshot();
        *self
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = next;
    }

    /// Whether `other` holds the same keys and sealing id.
    pub fn same_as(&self, other: &KeyRing) -> bool {
        let (a, b) = (self.snapshot(), other.snapshot());
        a.sealing == b.sealing
            && a.keys.len() == b.keys.len()
            && a.keys
                .iter()
                .zip(b.keys.iter())
                .all(|((i, k), (j, l))| i == j && ct_eq(k.as_slice(), l.as_slice()))
    }

    /// Parses the key file: `key <id> <hex>` lines; `#` starts a comment. The highest id
    /// seals until [`KeyRing::set_sealing`] says otherwise.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let mut keys = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let parts: Vec<&str> = line.split_whitespace().collect();
            let [word, id, hex] = parts.as_slice() else {
                return Err(KeyError::Malformed(n + 1));
            };
            let id: u32 = id.parse().map_err(|_| KeyError::Malformed(n + 1))?;
            let raw = HEXLOWER
                .decode(hex.to_ascii_lowercase().as_bytes())
                .map_err(|_| KeyError::Malformed(n + 1))?;
            let key: [u8; 32] = raw.try_into().map_err(|_| KeyError::Malformed(n + 1))?;
            if *word != "key" || id == 0 {
                return Err(KeyError::Malformed(n + 1));
            }
            if keys.insert(id, Zeroizing::new(key)).is_some() {
                return Err(KeyError::Duplicate(id));
            }
        }
        if keys.is_empty() {
            return Err(KeyError::Empty);
        }
        Ok(Self::from_keys(keys))
    }

    /// The key file's text.
    pub fn to_file_text(&self) -> Zeroizing<String> {
        let mut out = String::from(
            "# Tessera master keys. Keep this file secret and backed up: without it, sealed\n\
             # secrets (authenticator seeds) cannot be read. All keys open; the database names\n\
             # the one that seals (`tessera key status`), else the highest id does.\n",
        );
        for (id, key) in &self.snapshot().keys {
            out.push_str(&format!("key {id} {}\n", HEXLOWER.encode(key.as_slice())));
        }
        Zeroizing::new(out)
    }

    /// 32 bytes derived (HKDF-SHA256) for `purpose` from the oldest key, so they stay the
    /// same across rotations: for values that must be stable and unguessable without being
    /// stored, such as the decoys shown for unknown usernames. Retiring the oldest key
    /// changes them once (docs/design/key-rotation.md).
    pub fn derive(&self, purpose: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        if let Some(master) = self.snapshot().keys.values().next() {
            let info = [b"tessera derive v1 ".as_slice(), purpose].concat();
            // 32 bytes is far below HKDF-SHA256's limit, so expand cannot fail.
            let _ = Hkdf::<Sha256>::new(None, master.as_slice()).expand(&info, out.as_mut_slice());
        }
        out
    }

    /// A keyed hash (HMAC-SHA256 under a subkey of the current key) of `data` for
    /// `context`: what the store keeps of a sent code. The key id leads, so a value made
    /// before a rotation still checks.
    pub fn mac(&self, context: &str, data: &[u8]) -> Vec<u8> {
        let keys = self.snapshot();
        let id = keys.sealing;
        let tag = keys.mac_with(id, context, data).unwrap_or_default();
        [id.to_be_bytes().as_slice(), &tag].concat()
    }

    /// Whether `mac` is [`KeyRing::mac`] of `data` for `context`, in constant time.
    pub fn mac_matches(&self, context: &str, data: &[u8], mac: &[u8]) -> bool {
        let Some((id, tag)) = mac.split_first_chunk::<4>() else {
            return false;
        };
        self.snapshot()
            .mac_with(u32::from_be_bytes(*id), context, data)
            .is_some_and(|expected| ct_eq(&expected, tag))
    }

    /// Seals `plaintext` for the place `aad` names.
    pub fn seal(&self, rng: &dyn Random, plaintext: &[u8], aad: Aad<'_>) -> Vec<u8> {
        // One snapshot for the id and its key, so a swap in between cannot part them.
        let keys = self.snapshot();
        let id = keys.sealing;
        let nonce_bytes = random::bytes::<NONCE_LEN>(rng);
        let nonce = XNonce::from(nonce_bytes);
        let aad = aad.bytes();
        let header = header(id);
        let sealed = keys.cipher(id).and_then(|c| {
            c.encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &[header.as_slice(), &aad].concat(),
                },
            )
            .ok()
        });
        // Encryption with a valid 32-byte key and nonce cannot fail; an empty result would
        // simply never open again, which `open` reports as damage.
        let sealed = sealed.unwrap_or_default();
        [header.as_slice(), &nonce_bytes, &sealed].concat()
    }

    /// Opens a value sealed by [`KeyRing::seal`] for the same place.
    pub fn open(&self, sealed: &[u8], aad: Aad<'_>) -> Result<Zeroizing<Vec<u8>>, SealError> {
        if sealed.len() < 5 + NONCE_LEN || sealed[0] != SEALED_VERSION {
            return Err(SealError::Damaged);
        }
        let id = u32::from_be_bytes([sealed[1], sealed[2], sealed[3], sealed[4]]);
        let cipher = self
            .snapshot()
            .cipher(id)
            .ok_or(SealError::UnknownKey(id))?;
        let nonce_bytes: [u8; NONCE_LEN] = sealed[5..5 + NONCE_LEN]
            .try_into()
            .map_err(|_| SealError::Damaged)?;
        let aad = [&sealed[..5], aad.bytes().as_slice()].concat();
        cipher
            .decrypt(
                &XNonce::from(nonce_bytes),
                Payload {
                    msg: &sealed[5 + NONCE_LEN..],
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SealError::Damaged)
    }
}

impl Keys {
    fn cipher(&self, id: u32) -> Option<XChaCha20Poly1305> {
        let master = self.keys.get(&id)?;
        let mut sub = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(None, master.as_slice())
            .expand(b"tessera seal v1", sub.as_mut_slice())
            .ok()?;
        XChaCha20Poly1305::new_from_slice(sub.as_slice()).ok()
    }

    fn mac_with(&self, id: u32, context: &str, data: &[u8]) -> Option<Vec<u8>> {
        use hmac::{KeyInit as _, Mac};
        let master = self.keys.get(&id)?;
        let mut sub = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(None, master.as_slice())
            .expand(b"tessera mac v1", sub.as_mut_slice())
            .ok()?;
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(sub.as_slice()).ok()?;
        mac.update(context.as_bytes());
        mac.update(&[0]);
        mac.update(data);
        Some(mac.finalize().into_bytes().to_vec())
    }
}

fn header(id: u32) -> [u8; 5] {
    let b = id.to_be_bytes();
    [SEALED_VERSION, b[0], b[1], b[2], b[3]]
}

/// A new bearer token: 256 random bits, base64url.
pub fn new_token(rng: &dyn Random) -> Zeroizing<String> {
    Zeroizing::new(BASE64URL_NOPAD.encode(&random::bytes::<32>(rng)))
}

/// What the store keeps of a token.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Constant-time equality of two secrets.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::OsRandom;

    const AAD: Aad<'static> = Aad {
        table: "methods",
        column: "secret",
        row: "r1",
    };

    #[test]
    fn sealed_value_opens_only_in_its_row() {
        let ring = KeyRing::generate(&OsRandom);
        let sealed = ring.seal(&OsRandom, b"seed", AAD);
        assert_eq!(
            ring.open(&sealed, AAD).as_deref().map(|v| v.as_slice()),
            Ok(&b"seed"[..])
        );
        let other = Aad { row: "r2", ..AAD };
        assert_eq!(ring.open(&sealed, other), Err(SealError::Damaged));
    }

    #[test]
    fn rotated_ring_opens_old_values_and_seals_with_new_key() {
        let mut ring = KeyRing::generate(&OsRandom);
        let old = ring.seal(&OsRandom, b"seed", AAD);
        let reparsed = KeyRing::parse(&ring.to_file_text());
        assert!(reparsed.is_ok());
        assert_eq!(ring.rotate(&OsRandom), 2);
        let new = ring.seal(&OsRandom, b"seed", AAD);
        assert_eq!(new[1..5], 2u32.to_be_bytes());
        assert!(ring.open(&old, AAD).is_ok());
        let only_old = KeyRing::parse(
            &reparsed
                .unwrap_or_else(|_| KeyRing::generate(&OsRandom))
                .to_file_text(),
        );
        assert!(matches!(
            only_old.map(|r| r.open(&new, AAD)),
            Ok(Err(SealError::UnknownKey(2)))
        ));
    }

    #[test]
    fn an_added_key_opens_but_seals_only_once_chosen() {
        let mut ring = KeyRing::generate(&OsRandom);
        let old = ring.seal(&OsRandom, b"seed", AAD);
        assert_eq!(ring.add(&OsRandom), 2);
        assert_eq!((ring.current_id(), ring.highest_id()), (1, 2));
        assert_eq!(sealed_key_id(&ring.seal(&OsRandom, b"seed", AAD)), Some(1));
        assert!(!ring.set_sealing(3), "a key the ring lacks cannot seal");
        assert!(ring.set_sealing(2));
        let new = ring.seal(&OsRandom, b"seed", AAD);
        assert_eq!(sealed_key_id(&new), Some(2));
        assert!(ring.open(&old, AAD).is_ok());
        assert!(ring.without(2).is_none(), "the sealing key cannot go");
        let retired = ring.without(1).unwrap();
        assert_eq!(retired.ids(), vec![2]);
        assert!(retired.open(&new, AAD).is_ok());
        assert_eq!(retired.open(&old, AAD), Err(SealError::UnknownKey(1)));
        assert!(retired.without(2).is_none(), "the last key cannot go");
    }

    #[test]
    fn a_replaced_ring_is_seen_by_every_holder_at_once() {
        let shared = std::sync::Arc::new(KeyRing::generate(&OsRandom));
        let holder = shared.clone();
        let old = shared.seal(&OsRandom, b"seed", AAD);
        let mut next = KeyRing::parse(&shared.to_file_text()).unwrap();
        next.rotate(&OsRandom);
        assert!(!shared.same_as(&next));
        shared.replace(next);
        assert_eq!(holder.current_id(), 2);
        assert_eq!(sealed_key_id(&holder.seal(&OsRandom, b"s", AAD)), Some(2));
        assert!(holder.open(&old, AAD).is_ok());
        let reread = KeyRing::parse(&holder.to_file_text()).unwrap();
        assert!(holder.same_as(&reread));
    }

    #[test]
    fn tampered_value_does_not_open() {
        let ring = KeyRing::generate(&OsRandom);
        let mut sealed = ring.seal(&OsRandom, b"seed", AAD);
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(ring.open(&sealed, AAD), Err(SealError::Damaged));
    }

    #[test]
    fn malformed_key_files_are_refused() {
        assert_eq!(KeyRing::parse("# nothing\n").err(), Some(KeyError::Empty));
        assert_eq!(
            KeyRing::parse("key 1 abcd\n").err(),
            Some(KeyError::Malformed(1))
        );
        let k = "key 1 0000000000000000000000000000000000000000000000000000000000000000\n";
        assert_eq!(
            KeyRing::parse(&format!("{k}{k}")).err(),
            Some(KeyError::Duplicate(1))
        );
    }
}
