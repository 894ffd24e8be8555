//! `jsonwebtoken`'s cryptography, from the RustCrypto crates this build already has.
//!
//! `jsonwebtoken` 12 encodes, decodes and validates JWTs, but its own RustCrypto backend
//! (`rust_crypto`) asks for `rsa` 0.10.0, while webauthn-rs (through `crypto-glue` 0.2.2)
//! needs a 0.10 pre-release with a feature 0.10.0 dropped; Cargo allows one of the two. So
//! `jsonwebtoken` is built without a backend and this [`CryptoProvider`] signs and checks its
//! two algorithms with `p256` and the `rsa` pre-release webauthn-rs already pulls in. No
//! aws-lc, no OpenSSL, no second generation of RustCrypto crates.

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind, Result};
use jsonwebtoken::jwk::{EllipticCurve, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use jsonwebtoken::{DecodingKeyKind, signature};
use sha2::{Digest, Sha256};

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory,
    verifier_factory,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: rsa_components_from_private,
        rsa_pub_components_from_public_key: rsa_components_from_public,
        ec_pub_components_from_private_key: ec_components_from_private,
        ed_pub_components_from_private_key: |_, _| Err(ErrorKind::UnsupportedAlgorithm.into()),
        compute_digest,
    },
};

/// Makes this the process's provider, once; before any signing or checking.
pub(crate) fn install() {
    // Fails only when a provider is installed already (ours, by an earlier call).
    let _ = PROVIDER.install_default();
}

fn signer_factory(alg: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    match alg {
        Algorithm::ES256 => {
            use p256::pkcs8::DecodePrivateKey;
            let key = p256::ecdsa::SigningKey::from_pkcs8_der(key.as_bytes())
                .map_err(|_| Error::from(ErrorKind::InvalidEcdsaKey))?;
            Ok(Box::new(Es256Signer(key)))
        }
        Algorithm::RS256 => {
            let key = rsa_private(key.as_bytes())?;
            Ok(Box::new(Rs256Signer(rsa::pkcs1v15::SigningKey::new(key))))
        }
        _ => Err(ErrorKind::UnsupportedAlgorithm.into()),
    }
}

fn verifier_factory(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    match (alg, key.kind()) {
        (Algorithm::ES256, DecodingKeyKind::SecretOrDer(sec1)) => {
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(sec1)
                .map_err(|_| Error::from(ErrorKind::InvalidEcdsaKey))?;
            Ok(Box::new(Es256Verifier(key)))
        }
        (Algorithm::RS256, DecodingKeyKind::RsaModulusExponent { n, e }) => {
            let key = rsa::RsaPublicKey::new(
                rsa::BoxedUint::from_be_slice_vartime(n),
                rsa::BoxedUint::from_be_slice_vartime(e),
            )
            .map_err(|e| Error::from(ErrorKind::InvalidRsaKey(e.to_string())))?;
            Ok(Box::new(Rs256Verifier(rsa::pkcs1v15::VerifyingKey::new(
                key,
            ))))
        }
        _ => Err(ErrorKind::InvalidKeyFormat.into()),
    }
}

struct Es256Signer(p256::ecdsa::SigningKey);
struct Es256Verifier(p256::ecdsa::VerifyingKey);
struct Rs256Signer(rsa::pkcs1v15::SigningKey<Sha256>);
struct Rs256Verifier(rsa::pkcs1v15::VerifyingKey<Sha256>);

impl signature::Signer<Vec<u8>> for Es256Signer {
    fn try_sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        let sig: p256::ecdsa::Signature = self.0.try_sign(msg)?;
        Ok(sig.to_bytes().to_vec())
    }
}

impl JwtSigner for Es256Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }
}

impl signature::Verifier<Vec<u8>> for Es256Verifier {
    fn verify(&self, msg: &[u8], sig: &Vec<u8>) -> std::result::Result<(), signature::Error> {
        let sig = p256::ecdsa::Signature::from_slice(sig)?;
        self.0.verify(msg, &sig)
    }
}

impl JwtVerifier for Es256Verifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }
}

impl signature::Signer<Vec<u8>> for Rs256Signer {
    fn try_sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        use rsa::signature::SignatureEncoding;
        let sig: rsa::pkcs1v15::Signature = self.0.try_sign(msg)?;
        Ok(sig.to_vec())
    }
}

impl JwtSigner for Rs256Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::RS256
    }
}

impl signature::Verifier<Vec<u8>> for Rs256Verifier {
    fn verify(&self, msg: &[u8], sig: &Vec<u8>) -> std::result::Result<(), signature::Error> {
        let sig = rsa::pkcs1v15::Signature::try_from(sig.as_slice())?;
        self.0.verify(msg, &sig)
    }
}

impl JwtVerifier for Rs256Verifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::RS256
    }
}

fn rsa_private(der: &[u8]) -> Result<rsa::RsaPrivateKey> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    rsa::RsaPrivateKey::from_pkcs1_der(der)
        .map_err(|e| Error::from(ErrorKind::InvalidRsaKey(e.to_string())))
}

/// Big-endian without leading zeros, as JWK's `n` and `e` are.
pub(crate) fn unsigned(bytes: &[u8]) -> Vec<u8> {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes[first..].to_vec()
}

pub(crate) fn rsa_components(key: &rsa::RsaPublicKey) -> (Vec<u8>, Vec<u8>) {
    use rsa::traits::PublicKeyParts;
    (
        unsigned(&key.n().to_be_bytes()),
        unsigned(&key.e().to_be_bytes()),
    )
}

fn rsa_components_from_private(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    Ok(rsa_components(&rsa_private(der)?.to_public_key()))
}

fn rsa_components_from_public(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    let key = rsa::RsaPublicKey::from_pkcs1_der(der)
        .map_err(|e| Error::from(ErrorKind::InvalidRsaKey(e.to_string())))?;
    Ok(rsa_components(&key))
}

fn ec_components_from_private(
    der: &[u8],
    alg: Algorithm,
) -> Result<(EllipticCurve, Vec<u8>, Vec<u8>)> {
    use p256::pkcs8::DecodePrivateKey;
    if alg != Algorithm::ES256 {
        return Err(ErrorKind::UnsupportedAlgorithm.into());
    }
    let key = p256::ecdsa::SigningKey::from_pkcs8_der(der)
        .map_err(|_| Error::from(ErrorKind::InvalidEcdsaKey))?;
    let point = key.verifying_key().to_sec1_point(false);
    let (x, y) = (point.x(), point.y());
    match (x, y) {
        (Some(x), Some(y)) => Ok((EllipticCurve::P256, x.to_vec(), y.to_vec())),
        _ => Err(ErrorKind::InvalidEcdsaKey.into()),
    }
}

fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Result<Vec<u8>> {
    match hash {
        ThumbprintHash::SHA256 => Ok(Sha256::digest(data).to_vec()),
        _ => Err(ErrorKind::UnsupportedAlgorithm.into()),
    }
}
