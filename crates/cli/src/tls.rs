//! `serve`'s TLS (issue #21): the certificate and key are read and checked before anything
//! else starts, so a wrong file is one clear error at start rather than failed handshakes
//! later; SIGHUP reads them again (`reload`).

use crate::config::Config;
use crate::failure::{Failure, Outcome};
use crate::reload::Reloaders;
use std::sync::Arc;
use tessera_server::tls::{self, CertResolver};

/// The certificate in force and the rustls configuration that serves it.
pub struct Tls {
    resolver: Arc<CertResolver>,
    server: Arc<rustls::ServerConfig>,
}

/// `None` when the configuration asks for plain HTTP.
pub fn load(config: &Config) -> Outcome<Option<Tls>> {
    let Some(files) = &config.tls else {
        return Ok(None);
    };
    let resolver = CertResolver::load(files.clone())
        .map_err(|e| Failure::Usage(format!("tls_cert_file / tls_key_file: {e}")))?;
    let server =
        tls::server_config(resolver.clone()).map_err(|e| Failure::Runtime(e.to_string()))?;
    Ok(Some(Tls { resolver, server }))
}

impl Tls {
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        self.server.clone()
    }

    /// At SIGHUP: new handshakes get the files' certificate; a bad file keeps the old one.
    pub fn register(&self, reloaders: &mut Reloaders) {
        let resolver = self.resolver.clone();
        reloaders.add("TLS certificate", move || {
            let resolver = resolver.clone();
            async move {
                // Small files, but still a disk read: off the runtime's threads.
                tokio::task::spawn_blocking(move || resolver.reload())
                    .await
                    .map_err(|e| e.to_string())??;
                Ok(())
            }
        });
    }
}
