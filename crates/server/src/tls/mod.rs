//! TLS in Tessera itself (issue #21): the certificate and key come from PEM files, checked
//! when the server starts, and sit behind a resolver that a reload swaps. A handshake that
//! starts after the swap gets the new certificate; connections already open keep theirs (a
//! TLS session does not change certificate), so a reload drops nothing.
//!
//! rustls with the ring provider, like every other TLS in the build: no OpenSSL, no aws-lc.
//! ALPN offers `h2` first, then `http/1.1`; hyper-util's auto builder (inside `axum::serve`)
//! serves whichever the client chose.

mod listener;

pub use listener::TlsListener;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// Where the certificate chain and its private key are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate, then any intermediates (PEM, `-----BEGIN CERTIFICATE-----`).
    pub cert: PathBuf,
    /// The certificate's private key (PEM: PKCS#8, PKCS#1 RSA or SEC1 EC).
    pub key: PathBuf,
}

/// Why a certificate and key cannot be used; each names the file to fix.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not PEM: {detail}", path.display())]
    NotPem { path: PathBuf, detail: String },
    #[error("{} holds no certificate (a PEM block `-----BEGIN CERTIFICATE-----`)", path.display())]
    NoCertificate { path: PathBuf },
    #[error("{} holds no private key (a PEM block `-----BEGIN PRIVATE KEY-----`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`)", path.display())]
    NoKey { path: PathBuf },
    #[error("{}: the private key cannot be used: {detail}", path.display())]
    BadKey { path: PathBuf, detail: String },
    #[error("{}: the certificate cannot be read: {detail}", path.display())]
    BadCertificate { path: PathBuf, detail: String },
    #[error("the private key in {} does not belong to the certificate in {}", key.display(), cert.display())]
    Mismatch { cert: PathBuf, key: PathBuf },
    #[error("TLS cannot be set up: {0}")]
    Setup(String),
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn not_pem(path: &Path, e: &pem::Error) -> TlsError {
    TlsError::NotPem {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}

/// Reads and checks the pair: both files PEM, the key usable, and the key the certificate's.
pub fn load(files: &TlsFiles) -> Result<Arc<CertifiedKey>, TlsError> {
    let cert_pem = read(&files.cert)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| not_pem(&files.cert, &e))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: files.cert.clone(),
        });
    }
    let key_pem = zeroize::Zeroizing::new(read(&files.key)?);
    let key = match PrivateKeyDer::from_pem_slice(&key_pem) {
        Ok(key) => key,
        Err(pem::Error::NoItemsFound) => {
            return Err(TlsError::NoKey {
                path: files.key.clone(),
            });
        }
        Err(e) => return Err(not_pem(&files.key, &e)),
    };
    let provider = rustls::crypto::ring::default_provider();
    let signing_key =
        provider
            .key_provider
            .load_private_key(key)
            .map_err(|e| TlsError::BadKey {
                path: files.key.clone(),
                detail: e.to_string(),
            })?;
    let certified = CertifiedKey::new(chain, signing_key);
    match certified.keys_match() {
        Ok(()) => Ok(Arc::new(certified)),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            Err(TlsError::Mismatch {
                cert: files.cert.clone(),
                key: files.key.clone(),
            })
        }
        // ring exposes the public key of every key type it loads; should one not, the
        // handshake itself still fails on a wrong key, and rustls does not treat it as an
        // error either.
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {
            Ok(Arc::new(certified))
        }
        Err(e) => Err(TlsError::BadCertificate {
            path: files.cert.clone(),
            detail: e.to_string(),
        }),
    }
}

/// The certificate in force, swapped by [`CertResolver::reload`].
#[derive(Debug)]
pub struct CertResolver {
    files: TlsFiles,
    current: RwLock<Arc<CertifiedKey>>,
}

impl CertResolver {
    /// Reads the files once; a server that cannot read them must not start.
    pub fn load(files: TlsFiles) -> Result<Arc<Self>, TlsError> {
        let current = load(&files)?;
        Ok(Arc::new(Self {
            files,
            current: RwLock::new(current),
        }))
    }

    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    /// Reads the files again and, when they are good, serves them to new handshakes. On an
    /// error the certificate in force stays: a half-written file during a renewal must not
    /// take the server off the air.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = load(&self.files)?;
        // A poisoned lock only means a writer panicked between two whole values.
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        Ok(())
    }

    /// The certificate chain in force (the leaf first), for tests and logs.
    pub fn current(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// The server side of rustls: TLS 1.2 and 1.3 with ring's defaults (forward-secret AEAD
/// suites only), no client certificates, ALPN `h2` then `http/1.1`.
pub fn server_config(resolver: Arc<CertResolver>) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests;
