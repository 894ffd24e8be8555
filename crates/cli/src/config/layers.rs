//! Reading each layer into one shape, merging them, and validating the result.

use super::{
    Config, ConfigArgs, DEFAULT_DATA_DIR, DEFAULT_LISTEN, DEFAULT_MAX_BODY_BYTES, DatabaseUrl,
    LogFormat, ServeFlags, lookup,
};
use crate::failure::{Failure, Outcome};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The TOML file's shape. Flat, like the environment variables, so one name serves both.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    database_url_file: Option<PathBuf>,
    master_key_file: Option<PathBuf>,
    public_url: Option<String>,
    organization: Option<String>,
    log_format: Option<String>,
    max_body_bytes: Option<u64>,
    sign_in_limit_per_minute: Option<u64>,
    forward_auth_cookie_domain: Option<String>,
    radius_listen: Option<String>,
    web_push_subject: Option<String>,
    tls_cert_file: Option<PathBuf>,
    tls_key_file: Option<PathBuf>,
    trusted_proxies: Option<super::network::ProxyList>,
    delivery: Option<super::delivery::DeliveryFile>,
    directory: Option<super::directory::DirectoryFile>,
}

/// A value and where it came from (`TESSERA_LISTEN`, `--listen`, `listen in tessera.toml`).
#[derive(Debug, Clone)]
struct Setting<T> {
    value: T,
    from: String,
}

#[derive(Debug, Clone)]
enum DatabaseSource {
    Url(String),
    /// A file holding the URL, so its password stays out of the environment and `ps`.
    File(PathBuf),
}

#[derive(Debug, Default)]
pub(super) struct Layer {
    listen: Option<Setting<String>>,
    data_dir: Option<Setting<PathBuf>>,
    database: Option<Setting<DatabaseSource>>,
    master_key_file: Option<Setting<PathBuf>>,
    public_url: Option<Setting<String>>,
    organization: Option<Setting<String>>,
    log_format: Option<Setting<String>>,
    max_body_bytes: Option<Setting<u64>>,
    sign_in_limit_per_minute: Option<Setting<u64>>,
    forward_auth_cookie_domain: Option<Setting<String>>,
    radius_listen: Option<Setting<String>>,
    web_push_subject: Option<Setting<String>>,
    tls_cert_file: Option<Setting<PathBuf>>,
    tls_key_file: Option<Setting<PathBuf>>,
    trusted_proxies: Option<Setting<super::network::ProxyList>>,
    /// Only a file has it: a table of gateways does not fit a variable or a flag.
    delivery: Option<(super::delivery::DeliveryFile, PathBuf)>,
    /// File only, like `delivery`.
    directory: Option<(super::directory::DirectoryFile, PathBuf)>,
}

fn set<T>(value: Option<T>, from: impl FnOnce() -> String) -> Option<Setting<T>> {
    value.map(|value| Setting {
        value,
        from: from(),
    })
}

/// The database comes from a URL or from a file holding one, never both in one layer.
fn database(
    url: Option<Setting<String>>,
    file: Option<Setting<PathBuf>>,
) -> Outcome<Option<Setting<DatabaseSource>>> {
    match (url, file) {
        (Some(url), Some(file)) => Err(Failure::Usage(format!(
            "{} and {} are both set; give only one",
            url.from, file.from
        ))),
        (Some(url), None) => Ok(Some(Setting {
            value: DatabaseSource::Url(url.value),
            from: url.from,
        })),
        (None, Some(file)) => Ok(Some(Setting {
            value: DatabaseSource::File(file.value),
            from: file.from,
        })),
        (None, None) => Ok(None),
    }
}

impl Layer {
    pub(super) fn from_file(path: &Path) -> Outcome<Layer> {
        let context = || format!("config file {}", path.display());
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::Usage(format!("{}: {e}", context())))?;
        let file: FileConfig =
            toml::from_str(&text).map_err(|e| Failure::Usage(format!("{}: {e}", context())))?;
        let at = |key: &str| format!("`{key}` in {}", path.display());
        Ok(Layer {
            listen: set(file.listen, || at("listen")),
            data_dir: set(file.data_dir, || at("data_dir")),
            database: database(
                set(file.database_url, || at("database_url")),
                set(file.database_url_file, || at("database_url_file")),
            )?,
            master_key_file: set(file.master_key_file, || at("master_key_file")),
            public_url: set(file.public_url, || at("public_url")),
            organization: set(file.organization, || at("organization")),
            log_format: set(file.log_format, || at("log_format")),
            max_body_bytes: set(file.max_body_bytes, || at("max_body_bytes")),
            sign_in_limit_per_minute: set(file.sign_in_limit_per_minute, || {
                at("sign_in_limit_per_minute")
            }),
            forward_auth_cookie_domain: set(file.forward_auth_cookie_domain, || {
                at("forward_auth_cookie_domain")
            }),
            radius_listen: set(file.radius_listen, || at("radius_listen")),
            web_push_subject: set(file.web_push_subject, || at("web_push_subject")),
            tls_cert_file: set(file.tls_cert_file, || at("tls_cert_file")),
            tls_key_file: set(file.tls_key_file, || at("tls_key_file")),
            trusted_proxies: set(file.trusted_proxies, || at("trusted_proxies")),
            delivery: file.delivery.map(|d| (d, path.to_path_buf())),
            directory: file.directory.map(|d| (d, path.to_path_buf())),
        })
    }

    pub(super) fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Outcome<Layer> {
        let var = |name: &'static str| set(lookup(env, name), || name.to_string());
        let number = |name: &'static str| -> Outcome<Option<Setting<u64>>> {
            match var(name) {
                Some(s) => Ok(Some(Setting {
                    value: s.value.trim().parse::<u64>().map_err(|_| {
                        Failure::Usage(format!("{}: `{}` is not a whole number", s.from, s.value))
                    })?,
                    from: s.from,
                })),
                None => Ok(None),
            }
        };
        let max_body_bytes = number("TESSERA_MAX_BODY_BYTES")?;
        let sign_in_limit_per_minute = number("TESSERA_SIGN_IN_LIMIT_PER_MINUTE")?;
        let path = |name: &'static str| {
            var(name).map(|s| Setting {
                value: PathBuf::from(s.value),
                from: s.from,
            })
        };
        Ok(Layer {
            listen: var("TESSERA_LISTEN"),
            data_dir: path("TESSERA_DATA_DIR"),
            database: database(
                var("TESSERA_DATABASE_URL"),
                path("TESSERA_DATABASE_URL_FILE"),
            )?,
            master_key_file: path("TESSERA_MASTER_KEY_FILE"),
            public_url: var("TESSERA_PUBLIC_URL"),
            organization: var("TESSERA_ORGANIZATION"),
            log_format: var("TESSERA_LOG_FORMAT"),
            max_body_bytes,
            sign_in_limit_per_minute,
            forward_auth_cookie_domain: var("TESSERA_FORWARD_AUTH_COOKIE_DOMAIN"),
            radius_listen: var("TESSERA_RADIUS_LISTEN"),
            web_push_subject: var("TESSERA_WEB_PUSH_SUBJECT"),
            tls_cert_file: path("TESSERA_TLS_CERT_FILE"),
            tls_key_file: path("TESSERA_TLS_KEY_FILE"),
            trusted_proxies: var("TESSERA_TRUSTED_PROXIES").map(|s| Setting {
                value: super::network::from_env(s.value),
                from: s.from,
            }),
            delivery: None,
            directory: None,
        })
    }

    pub(super) fn from_flags(args: &ConfigArgs, serve: &ServeFlags) -> Layer {
        let flag = |name: &str| format!("--{name}");
        Layer {
            listen: set(serve.listen.clone(), || flag("listen")),
            data_dir: set(args.data_dir.clone(), || flag("data-dir")),
            database: set(args.database_url.clone().map(DatabaseSource::Url), || {
                flag("database-url")
            }),
            public_url: set(serve.public_url.clone(), || flag("public-url")),
            organization: set(serve.organization.clone(), || flag("organization")),
            ..Layer::default()
        }
    }

    /// This layer's values, and `lower`'s where this one has none.
    pub(super) fn over(self, lower: Layer) -> Layer {
        Layer {
            listen: self.listen.or(lower.listen),
            data_dir: self.data_dir.or(lower.data_dir),
            database: self.database.or(lower.database),
            master_key_file: self.master_key_file.or(lower.master_key_file),
            public_url: self.public_url.or(lower.public_url),
            organization: self.organization.or(lower.organization),
            log_format: self.log_format.or(lower.log_format),
            max_body_bytes: self.max_body_bytes.or(lower.max_body_bytes),
            sign_in_limit_per_minute: self
                .sign_in_limit_per_minute
                .or(lower.sign_in_limit_per_minute),
            forward_auth_cookie_domain: self
                .forward_auth_cookie_domain
                .or(lower.forward_auth_cookie_domain),
            radius_listen: self.radius_listen.or(lower.radius_listen),
            web_push_subject: self.web_push_subject.or(lower.web_push_subject),
            tls_cert_file: self.tls_cert_file.or(lower.tls_cert_file),
            tls_key_file: self.tls_key_file.or(lower.tls_key_file),
            trusted_proxies: self.trusted_proxies.or(lower.trusted_proxies),
            delivery: self.delivery.or(lower.delivery),
            directory: self.directory.or(lower.directory),
        }
    }

    pub(super) fn resolve(self, config_file: Option<PathBuf>) -> Outcome<Config> {
        let listen = match self.listen {
            Some(s) => s.value.trim().parse().map_err(|_| {
                Failure::Usage(format!(
                    "{}: `{}` is not an address like 127.0.0.1:8080 or [::]:8080",
                    s.from, s.value
                ))
            })?,
            None => DEFAULT_LISTEN
                .parse()
                .map_err(|_| Failure::runtime("the default listen address is not valid"))?,
        };
        let data_dir = match self.data_dir {
            Some(s) if s.value.as_os_str().is_empty() => {
                return Err(Failure::Usage(format!("{}: the path is empty", s.from)));
            }
            Some(s) => s.value,
            None => PathBuf::from(DEFAULT_DATA_DIR),
        };
        let database_url = self.database.map(resolve_database).transpose()?;
        let public_url = self.public_url.map(validate_public_url).transpose()?;
        let organization = match self.organization {
            Some(s) => {
                let name = s.value.trim();
                if name.is_empty()
                    || name.chars().count() > 128
                    || name.chars().any(char::is_control)
                {
                    return Err(Failure::Usage(format!(
                        "{}: give a name of 1 to 128 characters",
                        s.from
                    )));
                }
                name.to_string()
            }
            None => "Tessera".to_string(),
        };
        let log_format = match self.log_format {
            None => LogFormat::Text,
            Some(s) => match s.value.trim() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => {
                    return Err(Failure::Usage(format!(
                        "{}: `{other}` is not a log format; use text or json",
                        s.from
                    )));
                }
            },
        };
        let max_body_bytes = match self.max_body_bytes {
            None => DEFAULT_MAX_BODY_BYTES,
            Some(s) if (1024..=16 * 1024 * 1024).contains(&s.value) => s.value,
            Some(s) => {
                return Err(Failure::Usage(format!(
                    "{}: must be 1024 to 16777216 bytes",
                    s.from
                )));
            }
        };
        let sign_in_limit_per_minute = match self.sign_in_limit_per_minute {
            None => tessera_server::limits::DEFAULT_PER_MINUTE,
            Some(s) if s.value <= 1_000_000 => s.value as u32,
            Some(s) => {
                return Err(Failure::Usage(format!(
                    "{}: must be 0 (no limit) to 1000000 requests a minute",
                    s.from
                )));
            }
        };
        let forward_auth_cookie_domain = self
            .forward_auth_cookie_domain
            .map(validate_cookie_domain)
            .transpose()?;
        if let (Some(domain), Some(url)) = (&forward_auth_cookie_domain, &public_url) {
            cookie_domain_covers(domain, url)?;
        }
        // RADIUS is off until an address is given (issue #18).
        let radius_listen = match self.radius_listen {
            None => None,
            Some(s) => Some(s.value.trim().parse().map_err(|_| {
                Failure::Usage(format!(
                    "{}: `{}` is not an address like 0.0.0.0:1812",
                    s.from, s.value
                ))
            })?),
        };
        let web_push_subject = self
            .web_push_subject
            .map(validate_web_push_subject)
            .transpose()?;
        Ok(Config {
            listen,
            radius_listen,
            web_push_subject,
            data_dir,
            database_url,
            master_key_file: self.master_key_file.map(|s| s.value),
            public_url,
            organization,
            log_format,
            max_body_bytes: usize::try_from(max_body_bytes)
                .map_err(|_| Failure::usage("max_body_bytes is too large for this machine"))?,
            config_file,
            sign_in_limit_per_minute,
            forward_auth_cookie_domain,
            delivery: super::delivery::resolve(self.delivery)?,
            directory: super::directory::resolve(self.directory)?,
            tls: super::network::resolve_tls(
                self.tls_cert_file.map(|s| (s.value, s.from)),
                self.tls_key_file.map(|s| (s.value, s.from)),
            )?,
            trusted_proxies: super::network::resolve_proxies(
                self.trusted_proxies.map(|s| (s.value, s.from)),
            )?,
        })
    }
}

fn resolve_database(setting: Setting<DatabaseSource>) -> Outcome<DatabaseUrl> {
    let (url, from) = match setting.value {
        DatabaseSource::Url(url) => (url, setting.from),
        DatabaseSource::File(path) => {
            let from = format!("{} ({})", setting.from, path.display());
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Failure::Usage(format!("{from}: {e}")))?;
            (text, from)
        }
    };
    let url = url.trim().to_string();
    // The URL itself is not echoed: it may hold a password.
    let known = ["sqlite:", "postgres://", "postgresql://"];
    if !known.iter().any(|scheme| url.starts_with(scheme)) {
        return Err(Failure::Usage(format!(
            "{from}: the database URL must start with sqlite:, postgres:// or postgresql://"
        )));
    }
    Ok(DatabaseUrl(url))
}

/// Web Push's VAPID contact: push services accept `mailto:` or `https:` (RFC 8292 §2.1).
fn validate_web_push_subject(setting: Setting<String>) -> Outcome<String> {
    let text = setting.value.trim();
    let ok = (text.starts_with("mailto:") && text.len() > 7 && text.contains('@'))
        || (text.starts_with("https://") && text.len() > 8);
    if ok && !text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Ok(text.to_string());
    }
    Err(Failure::Usage(format!(
        "{}: `{text}` is not a mailto: or https: URL push services can reach you at",
        setting.from
    )))
}

/// A host name without `*.` (a cookie's `Domain` covers the names under it anyway).
fn validate_cookie_domain(setting: Setting<String>) -> Outcome<String> {
    let text = setting.value.trim();
    match tessera_core::forward_auth::DomainPattern::parse(text) {
        Some(d) if !text.starts_with("*.") => Ok(d.to_string()),
        _ => Err(Failure::Usage(format!(
            "{}: `{}` is not a domain like example.org",
            setting.from, setting.value
        ))),
    }
}

/// Browsers drop a cookie whose `Domain` does not cover the host that sets it.
fn cookie_domain_covers(domain: &str, public_url: &str) -> Outcome<()> {
    let rest = public_url.split_once("://").map_or(public_url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(h, _)| h)
        .to_ascii_lowercase();
    if host == domain || host.ends_with(&format!(".{domain}")) {
        return Ok(());
    }
    Err(Failure::Usage(format!(
        "forward_auth_cookie_domain `{domain}` does not cover the public URL's host `{host}`: \
         browsers would refuse the cookie; give a domain the host is in"
    )))
}

fn validate_public_url(setting: Setting<String>) -> Outcome<String> {
    let url = setting.value.trim().trim_end_matches('/');
    let host = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match host {
        Some(rest) if !rest.is_empty() && !rest.contains(char::is_whitespace) => Ok(url.into()),
        _ => Err(Failure::Usage(format!(
            "{}: `{}` is not a URL like https://mfa.example.org",
            setting.from, setting.value
        ))),
    }
}
