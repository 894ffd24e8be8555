//! The settings about how requests reach Tessera (issue #21): TLS in Tessera itself
//! (`tls_cert_file` + `tls_key_file`) and the reverse proxies believed about the client's
//! address (`trusted_proxies`).
//!
//! Only their shape is checked here, because every command reads the configuration; the
//! certificate files themselves are read when `serve` starts (`crate::tls`).

use crate::failure::{Failure, Outcome};
use std::path::PathBuf;
use tessera_server::client_addr::TrustedProxies;
use tessera_server::tls::TlsFiles;

/// `trusted_proxies` in the file: a list, or one string like the environment variable.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
pub(super) enum ProxyList {
    Many(Vec<String>),
    One(String),
}

impl ProxyList {
    fn entries(&self) -> Vec<String> {
        match self {
            ProxyList::Many(list) => list.iter().map(|s| s.trim().to_string()).collect(),
            // `10.0.0.1, 10.0.0.2` or `10.0.0.1 10.0.0.2`.
            ProxyList::One(text) => split(text),
        }
    }
}

/// `TESSERA_TRUSTED_PROXIES`: commas or spaces between entries.
pub(super) fn from_env(text: String) -> ProxyList {
    ProxyList::One(text)
}

fn split(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Every entry an address (`192.0.2.7`, `::1`) or a range (`10.0.0.0/8`, `fd00::/8`).
pub(super) fn resolve_proxies(list: Option<(ProxyList, String)>) -> Outcome<TrustedProxies> {
    let Some((list, from)) = list else {
        return Ok(TrustedProxies::default());
    };
    let entries = list.entries();
    TrustedProxies::parse(entries.iter().map(String::as_str)).map_err(|bad| {
        Failure::Usage(format!(
            "{from}: `{bad}` is not an address or a range like 10.0.0.0/8 or fd00::/8"
        ))
    })
}

/// Both files or neither: a certificate without its key (or the reverse) is a mistake, not
/// a request for plain HTTP.
pub(super) fn resolve_tls(
    cert: Option<(PathBuf, String)>,
    key: Option<(PathBuf, String)>,
) -> Outcome<Option<TlsFiles>> {
    let empty = |(path, from): &(PathBuf, String)| {
        if path.as_os_str().is_empty() {
            Err(Failure::Usage(format!("{from}: the path is empty")))
        } else {
            Ok(())
        }
    };
    match (cert, key) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => {
            empty(&cert)?;
            empty(&key)?;
            Ok(Some(TlsFiles {
                cert: cert.0,
                key: key.0,
            }))
        }
        (Some((_, from)), None) => Err(Failure::Usage(format!(
            "{from} is set but tls_key_file is not: TLS needs the certificate and its key"
        ))),
        (None, Some((_, from))) => Err(Failure::Usage(format!(
            "{from} is set but tls_cert_file is not: TLS needs the certificate and its key"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, ConfigArgs, ServeFlags};
    use crate::failure::Failure;

    fn load(vars: &[(&str, &str)]) -> Result<Config, String> {
        let env = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        Config::load(&ConfigArgs::default(), &ServeFlags::default(), &env).map_err(|e| match e {
            Failure::Usage(m) => m,
            Failure::Runtime(m) => format!("runtime: {m}"),
        })
    }

    #[test]
    fn tls_needs_both_files() {
        let none = load(&[]).unwrap();
        assert_eq!(none.tls, None);
        assert!(none.trusted_proxies.is_empty());

        let both = load(&[
            ("TESSERA_TLS_CERT_FILE", "/etc/tls/cert.pem"),
            ("TESSERA_TLS_KEY_FILE", "/etc/tls/key.pem"),
        ])
        .unwrap();
        let files = both.tls.unwrap();
        assert_eq!(files.cert, std::path::Path::new("/etc/tls/cert.pem"));
        assert_eq!(files.key, std::path::Path::new("/etc/tls/key.pem"));

        let e = load(&[("TESSERA_TLS_CERT_FILE", "/etc/tls/cert.pem")]).unwrap_err();
        assert!(
            e.contains("TESSERA_TLS_CERT_FILE") && e.contains("tls_key_file"),
            "{e}"
        );
        let e = load(&[("TESSERA_TLS_KEY_FILE", "/etc/tls/key.pem")]).unwrap_err();
        assert!(e.contains("tls_cert_file"), "{e}");
    }

    #[test]
    fn trusted_proxies_take_addresses_and_ranges() {
        let config =
            load(&[("TESSERA_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8 fd00::/8")]).unwrap();
        let ranges: Vec<String> = config
            .trusted_proxies
            .ranges()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(ranges, ["127.0.0.1/32", "10.0.0.0/8", "fd00::/8"]);

        let e = load(&[("TESSERA_TRUSTED_PROXIES", "10.0.0.0/8, proxy.local")]).unwrap_err();
        assert!(
            e.contains("TESSERA_TRUSTED_PROXIES") && e.contains("`proxy.local`"),
            "{e}"
        );
    }

    #[test]
    fn the_file_takes_a_list() {
        let list: super::ProxyList = toml::from_str::<toml::Table>("p = [\"::1\", \"10.0.0.1\"]")
            .unwrap()["p"]
            .clone()
            .try_into()
            .unwrap();
        let resolved = super::resolve_proxies(Some((list, "here".into()))).unwrap();
        assert_eq!(resolved.ranges().len(), 2);
    }
}
