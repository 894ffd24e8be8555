//! Signing keys: ES256 (the default) and RS256 (every provider must offer it). Each key's
//! private half is sealed under the [`KeyRing`] (AAD `oidc_keys/private_key/<kid>`) and kept
//! in the store, so every node signs with the same keys. The newest unretired key of an
//! algorithm signs; a rotation adds a new one and retires the old, which stays in the JWKS
//! for [`KEY_RETENTION`](super::KEY_RETENTION), until every ID token it signed has expired.
//!
//! JWTs are signed and checked by `jsonwebtoken` on RustCrypto (no aws-lc, no OpenSSL).

use super::KEY_RETENTION;
use crate::admin::Admin;
use crate::audit::AuditAction;
use crate::error::{Error, Internal, Result};
use crate::random::{self, Random};
use crate::secret::{Aad, KeyRing};
use crate::service::Tessera;
use data_encoding::BASE64URL_NOPAD;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

/// RSA keys are 2048 bits, as RFC 7518 §3.3 asks at least.
const RSA_BITS: usize = 2048;

/// The algorithm a client's ID tokens are signed with (`id_token_signed_response_alg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum SigningAlg {
    #[default]
    #[serde(rename = "ES256")]
    Es256,
    #[serde(rename = "RS256")]
    Rs256,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 2] = [SigningAlg::Es256, SigningAlg::Rs256];

    pub fn as_str(&self) -> &'static str {
        match self {
            SigningAlg::Es256 => "ES256",
            SigningAlg::Rs256 => "RS256",
        }
    }

    pub fn parse(s: &str) -> Option<SigningAlg> {
        SigningAlg::ALL.into_iter().find(|a| a.as_str() == s)
    }

    fn jwt(&self) -> Algorithm {
        match self {
            SigningAlg::Es256 => Algorithm::ES256,
            SigningAlg::Rs256 => Algorithm::RS256,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key generation failed")]
    Generate,
    #[error("the private key did not open (wrong key file, or damaged)")]
    Unseal,
    #[error("a stored key is not readable")]
    Malformed,
    #[error("no current {0:?} key")]
    NoCurrentKey(SigningAlg),
    #[error("signing failed")]
    Sign,
    /// The token's signature, algorithm, key id or claims did not check.
    #[error("token refused: {0}")]
    Invalid(String),
}

impl From<KeyError> for Error {
    fn from(e: KeyError) -> Error {
        match e {
            KeyError::Unseal => Error::Internal(Internal::Unseal),
            KeyError::Invalid(_) => Error::Unauthorized,
            _ => Error::Internal(Internal::Signing),
        }
    }
}

/// A signing key as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub kid: String,
    pub alg: SigningAlg,
    /// PKCS#8 (ES256) or PKCS#1 (RS256) DER, sealed.
    pub sealed_private: Vec<u8>,
    /// The public JWK, as JSON (with `kid`, `alg` and `use`).
    pub public_jwk: String,
    pub created_at: OffsetDateTime,
    pub retired_at: Option<OffsetDateTime>,
}

fn aad(kid: &str) -> Aad<'_> {
    Aad {
        table: "oidc_keys",
        column: "private_key",
        row: kid,
    }
}

/// Our [`Random`] as the RNG the RustCrypto key generators take.
struct Rng<'a>(&'a dyn Random);

impl rand::TryRng for Rng<'_> {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> std::result::Result<u32, Self::Error> {
        Ok(u32::from_le_bytes(random::bytes::<4>(self.0)))
    }
    fn try_next_u64(&mut self) -> std::result::Result<u64, Self::Error> {
        Ok(u64::from_le_bytes(random::bytes::<8>(self.0)))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> std::result::Result<(), Self::Error> {
        self.0.fill(dst);
        Ok(())
    }
}

impl rand::TryCryptoRng for Rng<'_> {}

/// A new key of `alg`, sealed under `ring`.
pub fn generate(
    alg: SigningAlg,
    rng: &dyn Random,
    ring: &KeyRing,
    now: OffsetDateTime,
) -> std::result::Result<StoredKey, KeyError> {
    let der = match alg {
        SigningAlg::Es256 => {
            use p256::elliptic_curve::Generate;
            use p256::pkcs8::EncodePrivateKey;
            let key = p256::ecdsa::SigningKey::generate_from_rng(&mut Rng(rng));
            key.to_pkcs8_der().map_err(|_| KeyError::Generate)?
        }
        SigningAlg::Rs256 => {
            use rsa::pkcs1::EncodeRsaPrivateKey;
            let key =
                rsa::RsaPrivateKey::new(&mut Rng(rng), RSA_BITS).map_err(|_| KeyError::Generate)?;
            key.to_pkcs1_der().map_err(|_| KeyError::Generate)?
        }
    };
    super::jose::install();
    let kid = BASE64URL_NOPAD.encode(&random::bytes::<12>(rng));
    let encoding = encoding_key(alg, der.as_bytes());
    let mut jwk = Jwk::from_encoding_key(&encoding, alg.jwt()).map_err(|_| KeyError::Generate)?;
    jwk.common.key_id = Some(kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    let public_jwk = serde_json::to_string(&jwk).map_err(|_| KeyError::Generate)?;
    Ok(StoredKey {
        sealed_private: ring.seal(rng, der.as_bytes(), aad(&kid)),
        kid,
        alg,
        public_jwk,
        created_at: now,
        retired_at: None,
    })
}

fn encoding_key(alg: SigningAlg, der: &[u8]) -> EncodingKey {
    match alg {
        SigningAlg::Es256 => EncodingKey::from_ec_der(der),
        SigningAlg::Rs256 => EncodingKey::from_rsa_der(der),
    }
}

impl StoredKey {
    pub fn jwk(&self) -> std::result::Result<Jwk, KeyError> {
        serde_json::from_str(&self.public_jwk).map_err(|_| KeyError::Malformed)
    }

    /// Whether the key is still published: current, or retired less than
    /// [`KEY_RETENTION`] ago.
    pub fn is_published(&self, now: OffsetDateTime) -> bool {
        self.retired_at.is_none_or(|r| now < r + KEY_RETENTION)
    }

    fn encoding_key(&self, ring: &KeyRing) -> std::result::Result<EncodingKey, KeyError> {
        let der = ring
            .open(&self.sealed_private, aad(&self.kid))
            .map_err(|_| KeyError::Unseal)?;
        Ok(encoding_key(self.alg, &der))
    }
}

/// The key that signs for `alg`: the newest one not retired.
pub fn current(keys: &[StoredKey], alg: SigningAlg) -> Option<&StoredKey> {
    keys.iter()
        .filter(|k| k.alg == alg && k.retired_at.is_none())
        .max_by(|a, b| (a.created_at, &a.kid).cmp(&(b.created_at, &b.kid)))
}

/// The JWKS: every published key's public half.
pub fn jwks(keys: &[StoredKey], now: OffsetDateTime) -> std::result::Result<JwkSet, KeyError> {
    let keys = keys
        .iter()
        .filter(|k| k.is_published(now))
        .map(StoredKey::jwk)
        .collect::<std::result::Result<_, _>>()?;
    Ok(JwkSet { keys })
}

/// Signs `claims` with `key` (its `kid` in the header).
pub fn sign<T: Serialize>(
    key: &StoredKey,
    ring: &KeyRing,
    claims: &T,
) -> std::result::Result<String, KeyError> {
    sign_typed(key, ring, claims, "JWT")
}

/// As [`sign`], with the header's `typ` (a logout token is `logout+jwt`, so it cannot pass
/// for an ID token).
pub fn sign_typed<T: Serialize>(
    key: &StoredKey,
    ring: &KeyRing,
    claims: &T,
    typ: &str,
) -> std::result::Result<String, KeyError> {
    super::jose::install();
    let mut header = Header::new(key.alg.jwt());
    header.typ = Some(typ.to_string());
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding_key(ring)?).map_err(|_| KeyError::Sign)
}

/// Checks a JWT against the published keys: the header's `kid` picks the key, whose
/// algorithm alone is accepted (so `alg: none` or a swapped algorithm never verifies).
/// `validation`'s algorithms are replaced by the key's.
pub fn verify<T: DeserializeOwned>(
    keys: &[StoredKey],
    now: OffsetDateTime,
    token: &str,
    mut validation: Validation,
) -> std::result::Result<T, KeyError> {
    super::jose::install();
    let header =
        jsonwebtoken::decode_header(token).map_err(|e| KeyError::Invalid(e.to_string()))?;
    let kid = header
        .kid
        .ok_or_else(|| KeyError::Invalid("no kid".into()))?;
    let key = keys
        .iter()
        .find(|k| k.kid == kid && k.is_published(now))
        .ok_or_else(|| KeyError::Invalid("unknown kid".into()))?;
    let decoding = DecodingKey::from_jwk(&key.jwk()?).map_err(|_| KeyError::Malformed)?;
    validation.algorithms = vec![key.alg.jwt()];
    jsonwebtoken::decode::<T>(token, &decoding, &validation)
        .map(|data| data.claims)
        .map_err(|e| KeyError::Invalid(e.to_string()))
}

impl Tessera {
    /// At start-up: makes the keys that do not exist yet (one per algorithm). Two nodes
    /// starting at once may both make one; both are kept and published, and all nodes sign
    /// with the same newest one.
    pub async fn oidc_ensure_keys(&self) -> Result<()> {
        let keys = self.store.oidc_keys().await?;
        for alg in SigningAlg::ALL {
            if current(&keys, alg).is_none() {
                let key = generate(alg, self.rng.as_ref(), &self.keys, self.now())?;
                self.store.insert_oidc_key(&key).await?;
            }
        }
        Ok(())
    }

    /// The JWKS document's content.
    pub async fn oidc_jwks(&self) -> Result<JwkSet> {
        let keys = self.store.oidc_keys().await?;
        Ok(jwks(&keys, self.now())?)
    }

    /// Signs `claims` with the current key of `alg`.
    pub async fn oidc_sign<T: Serialize + Sync>(
        &self,
        alg: SigningAlg,
        claims: &T,
    ) -> Result<String> {
        let keys = self.store.oidc_keys().await?;
        let key = current(&keys, alg).ok_or(KeyError::NoCurrentKey(alg))?;
        Ok(sign(key, &self.keys, claims)?)
    }

    /// As [`Tessera::oidc_sign`], with the header's `typ`.
    pub async fn oidc_sign_typed<T: Serialize + Sync>(
        &self,
        alg: SigningAlg,
        typ: &str,
        claims: &T,
    ) -> Result<String> {
        let keys = self.store.oidc_keys().await?;
        let key = current(&keys, alg).ok_or(KeyError::NoCurrentKey(alg))?;
        Ok(sign_typed(key, &self.keys, claims, typ)?)
    }

    /// Checks a JWT this server signed (an `id_token_hint`, say) with `validation`.
    pub async fn oidc_verify<T: DeserializeOwned>(
        &self,
        token: &str,
        validation: Validation,
    ) -> std::result::Result<T, KeyError> {
        let keys = self
            .store
            .oidc_keys()
            .await
            .map_err(|_| KeyError::Malformed)?;
        verify(&keys, self.now(), token, validation)
    }
}

impl Admin<'_> {
    /// `tessera oidc rotate-keys`: a new current key per algorithm; the old ones retire and
    /// stay published for [`KEY_RETENTION`].
    pub async fn rotate_oidc_keys(&self) -> Result<Vec<StoredKey>> {
        let t = self.tessera();
        let now = t.now();
        let new = SigningAlg::ALL
            .into_iter()
            .map(|alg| generate(alg, t.rng.as_ref(), &t.keys, now))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let kids: Vec<&str> = new.iter().map(|k| k.kid.as_str()).collect();
        let audit = self.audit_about(AuditAction::OidcKeysRotated, json!({ "kids": kids }));
        t.store.rotate_oidc_keys(&new, now, &audit).await?;
        Ok(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::OsRandom;
    use time::Duration;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Claims {
        iss: String,
        aud: String,
        sub: String,
        exp: i64,
    }

    fn claims(now: OffsetDateTime) -> Claims {
        Claims {
            iss: "https://id.example".into(),
            aud: "client".into(),
            sub: "alice".into(),
            exp: (now + Duration::minutes(5)).unix_timestamp(),
        }
    }

    fn validation() -> Validation {
        let mut v = Validation::new(Algorithm::ES256);
        v.set_audience(&["client"]);
        v.set_issuer(&["https://id.example"]);
        v
    }

    #[allow(clippy::disallowed_methods)]
    fn now() -> OffsetDateTime {
        // jsonwebtoken checks `exp` against the system clock.
        OffsetDateTime::now_utc()
    }

    #[test]
    fn both_algorithms_sign_and_verify_and_publish_their_public_key() {
        let ring = KeyRing::generate(&OsRandom);
        let now = now();
        let keys: Vec<StoredKey> = SigningAlg::ALL
            .into_iter()
            .map(|alg| generate(alg, &OsRandom, &ring, now).expect("generate"))
            .collect();
        for key in &keys {
            let token = sign(key, &ring, &claims(now)).expect("sign");
            let header = jsonwebtoken::decode_header(&token).expect("header");
            assert_eq!(header.alg, key.alg.jwt());
            assert_eq!(header.kid.as_deref(), Some(key.kid.as_str()));
            let back: Claims = verify(&keys, now, &token, validation()).expect("verify");
            assert_eq!(back, claims(now));
            // Tampered claims do not verify.
            let mut parts: Vec<&str> = token.split('.').collect();
            let forged = BASE64URL_NOPAD.encode(
                br#"{"iss":"https://id.example","aud":"client","sub":"mallory","exp":9999999999}"#,
            );
            parts[1] = &forged;
            assert!(verify::<Claims>(&keys, now, &parts.join("."), validation()).is_err());
        }
        let set = jwks(&keys, now).expect("jwks");
        assert_eq!(set.keys.len(), 2);
        let json = serde_json::to_value(&set).expect("json");
        let es = &json["keys"][0];
        assert_eq!(
            (es["kty"].as_str(), es["crv"].as_str(), es["alg"].as_str()),
            (Some("EC"), Some("P-256"), Some("ES256"))
        );
        assert_eq!(es["use"], "sig");
        assert!(es.get("d").is_none(), "no private part");
        let rs = &json["keys"][1];
        assert_eq!(
            (rs["kty"].as_str(), rs["e"].as_str()),
            (Some("RSA"), Some("AQAB"))
        );
        assert_eq!(
            BASE64URL_NOPAD
                .decode(rs["n"].as_str().unwrap_or_default().as_bytes())
                .map(|n| n.len()),
            Ok(256)
        );
        // A token signed by a key outside the set does not verify.
        let other = generate(SigningAlg::Es256, &OsRandom, &ring, now).expect("generate");
        let token = sign(&other, &ring, &claims(now)).expect("sign");
        assert!(verify::<Claims>(&keys, now, &token, validation()).is_err());
        // Nor does one whose key was sealed for another row.
        let mut moved = keys[0].clone();
        moved.kid = "elsewhere".into();
        assert!(matches!(
            sign(&moved, &ring, &claims(now)),
            Err(KeyError::Unseal)
        ));
    }

    #[test]
    fn rotation_keeps_retired_keys_published_for_the_retention() {
        let ring = KeyRing::generate(&OsRandom);
        let t0 = now();
        let mut old = generate(SigningAlg::Es256, &OsRandom, &ring, t0).expect("generate");
        let new = generate(
            SigningAlg::Es256,
            &OsRandom,
            &ring,
            t0 + Duration::seconds(1),
        )
        .expect("generate");
        let both = vec![old.clone(), new.clone()];
        // Before retirement the newest signs.
        assert_eq!(
            current(&both, SigningAlg::Es256).map(|k| &k.kid),
            Some(&new.kid)
        );
        old.retired_at = Some(t0);
        let keys = vec![old.clone(), new.clone()];
        assert_eq!(
            current(&keys, SigningAlg::Es256).map(|k| &k.kid),
            Some(&new.kid)
        );
        assert_eq!(current(&keys, SigningAlg::Rs256), None);
        let kids = |at| -> Vec<String> {
            jwks(&keys, at)
                .expect("jwks")
                .keys
                .into_iter()
                .filter_map(|k| k.common.key_id)
                .collect()
        };
        assert_eq!(
            kids(t0 + KEY_RETENTION - Duration::seconds(1)),
            vec![old.kid.clone(), new.kid.clone()]
        );
        assert_eq!(kids(t0 + KEY_RETENTION), vec![new.kid.clone()]);
        // A token the old key signed still verifies while it is published.
        let token = sign(&old, &ring, &claims(t0)).expect("sign");
        assert!(verify::<Claims>(&keys, t0, &token, validation()).is_ok());
        assert!(verify::<Claims>(&keys, t0 + KEY_RETENTION, &token, validation()).is_err());
    }
}
