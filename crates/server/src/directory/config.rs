//! The validated `[directory]` settings. The CLI reads the file; the presets and the rules for
//! what is safe live here, beside the client that depends on them.

use std::path::PathBuf;
use std::time::Duration;
use zeroize::Zeroizing;

/// Which directory product; each fills sensible defaults for the attribute names and filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryKind {
    OpenLdap,
    ActiveDirectory,
    FreeIpa,
}

impl DirectoryKind {
    pub const NAMES: &'static str = "openldap, active_directory, freeipa";

    pub fn parse(name: &str) -> Option<DirectoryKind> {
        match name {
            "openldap" => Some(DirectoryKind::OpenLdap),
            "active_directory" => Some(DirectoryKind::ActiveDirectory),
            "freeipa" => Some(DirectoryKind::FreeIpa),
            _ => None,
        }
    }

    /// The attribute names the product uses out of the box.
    pub fn attributes(self) -> AttributeMap {
        let owned = |s: &str| s.to_string();
        match self {
            DirectoryKind::OpenLdap => AttributeMap {
                username: owned("uid"),
                display_name: owned("cn"),
                mail: owned("mail"),
                mobile: owned("mobile"),
                telephone: owned("telephoneNumber"),
                // Plain OpenLDAP has no memberOf unless the overlay is loaded: groups are
                // found by searching for groupOfNames that name the person.
                member_of: None,
                external_id: owned("entryUUID"),
            },
            DirectoryKind::ActiveDirectory => AttributeMap {
                username: owned("sAMAccountName"),
                display_name: owned("displayName"),
                mail: owned("mail"),
                mobile: owned("mobile"),
                telephone: owned("telephoneNumber"),
                member_of: Some(owned("memberOf")),
                // Binary; read as its canonical GUID text (entry.rs).
                external_id: owned("objectGUID"),
            },
            DirectoryKind::FreeIpa => AttributeMap {
                username: owned("uid"),
                display_name: owned("displayName"),
                mail: owned("mail"),
                mobile: owned("mobile"),
                telephone: owned("telephoneNumber"),
                member_of: Some(owned("memberOf")),
                external_id: owned("ipaUniqueID"),
            },
        }
    }

    /// Which entries are people.
    pub fn user_filter(self) -> &'static str {
        match self {
            DirectoryKind::OpenLdap => "(objectClass=inetOrgPerson)",
            DirectoryKind::ActiveDirectory => "(&(objectCategory=person)(objectClass=user))",
            DirectoryKind::FreeIpa => "(objectClass=person)",
        }
    }

    /// Which entries are groups a person belongs to; `{dn}` is the person's DN, escaped.
    pub fn group_filter(self) -> &'static str {
        match self {
            DirectoryKind::OpenLdap => "(&(objectClass=groupOfNames)(member={dn}))",
            DirectoryKind::ActiveDirectory => "(&(objectClass=group)(member={dn}))",
            DirectoryKind::FreeIpa => "(&(objectClass=groupOfNames)(member={dn}))",
        }
    }
}

/// Which attribute holds what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeMap {
    pub username: String,
    pub display_name: String,
    pub mail: String,
    pub mobile: String,
    pub telephone: String,
    /// `memberOf` where the directory keeps it; `None`: search the group base instead.
    pub member_of: Option<String>,
    /// The entry's stable id, so a renamed person stays one account: `entryUUID` (OpenLDAP,
    /// 389), `objectGUID` (AD), `ipaUniqueID` (FreeIPA).
    pub external_id: String,
}

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `ldaps://`: TLS from the first byte.
    Ldaps,
    /// `ldap://` upgraded with StartTLS before anything is sent; refused if the server cannot.
    StartTls,
    /// `ldap://` in the clear: only for a directory on this machine (tests, a local replica).
    Plain,
}

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// How often `tessera serve` brings directory accounts in step (`sync_interval_secs`).
pub const DEFAULT_SYNC_INTERVAL: Duration = Duration::from_secs(15 * 60);
/// The shortest periodic sync: each one reads the whole user base.
pub const MIN_SYNC_INTERVAL: Duration = Duration::from_secs(60);

/// The directory settings in force, validated by [`DirectoryConfig::validate`].
#[derive(Clone)]
pub struct DirectoryConfig {
    pub kind: DirectoryKind,
    pub url: String,
    pub security: Security,
    pub bind_dn: String,
    /// The service account's password, read from a file; never printed.
    pub bind_password: Zeroizing<String>,
    /// Where people are searched (subtree).
    pub user_base: String,
    pub user_filter: String,
    /// Where groups are searched when the directory keeps no `memberOf`; `None`: `user_base`.
    pub group_base: Option<String>,
    pub group_filter: String,
    pub attributes: AttributeMap,
    /// PEM certificates to trust for the directory's TLS certificate; `None`: the system store.
    pub ca_file: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub operation_timeout: Duration,
    /// How often the server syncs directory accounts; zero: never (only `tessera directory
    /// sync`).
    pub sync_interval: Duration,
}

impl std::fmt::Debug for DirectoryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectoryConfig")
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("security", &self.security)
            .field("bind_dn", &self.bind_dn)
            .field("bind_password", &"***")
            .field("user_base", &self.user_base)
            .field("user_filter", &self.user_filter)
            .field("group_base", &self.group_base)
            .field("group_filter", &self.group_filter)
            .field("attributes", &self.attributes)
            .field("ca_file", &self.ca_file)
            .field("connect_timeout", &self.connect_timeout)
            .field("operation_timeout", &self.operation_timeout)
            .field("sync_interval", &self.sync_interval)
            .finish()
    }
}

/// `security` as written in the configuration: `None` means "TLS, as the URL says".
pub fn resolve_security(url: &str, security: Option<&str>) -> Result<Security, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("`{url}` is not an ldap:// or ldaps:// URL"))?;
    let host = host_of(rest);
    if host.is_empty() {
        return Err(format!("`{url}` names no host"));
    }
    match (scheme, security) {
        ("ldaps", None | Some("tls")) => Ok(Security::Ldaps),
        ("ldap", None | Some("starttls")) => Ok(Security::StartTls),
        ("ldap", Some("plain")) if is_loopback(host) => Ok(Security::Plain),
        ("ldap", Some("plain")) => Err(format!(
            "security = \"plain\" sends passwords in the clear; it is allowed only for a \
             directory on this machine (127.0.0.1, ::1, localhost), not `{host}`"
        )),
        ("ldaps", Some(other)) => Err(format!(
            "security = \"{other}\" does not fit an ldaps:// URL (TLS from the start); leave it out"
        )),
        ("ldap", Some(other)) => Err(format!(
            "security = \"{other}\" is not one of starttls, plain"
        )),
        _ => Err(format!(
            "`{url}`: the scheme must be ldaps:// or ldap:// (with StartTLS)"
        )),
    }
}

fn host_of(rest: &str) -> &str {
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    if let Some(v6) = authority.strip_prefix('[') {
        return &v6[..v6.find(']').unwrap_or(v6.len())];
    }
    &authority[..authority.rfind(':').unwrap_or(authority.len())]
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A filter must be one parenthesized expression, balanced, so that it can be ANDed with the
/// username test without changing its meaning.
pub fn check_filter(filter: &str, placeholder: Option<&str>) -> Result<(), String> {
    let trimmed = filter.trim();
    if !trimmed.starts_with('(') || !trimmed.ends_with(')') {
        return Err(format!("`{filter}` must be one (…) filter expression"));
    }
    let mut depth = 0i32;
    for (i, c) in trimmed.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 || (depth == 0 && i + 1 < trimmed.len()) {
            return Err(format!("`{filter}` must be one (…) filter expression"));
        }
    }
    if depth != 0 {
        return Err(format!("`{filter}` has unbalanced parentheses"));
    }
    if let Some(p) = placeholder
        && !trimmed.contains(p)
    {
        return Err(format!("`{filter}` must contain {p}"));
    }
    Ok(())
}

impl DirectoryConfig {
    /// Checks the parts that must hold whatever the layers said. Errors name the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.bind_dn.trim().is_empty() {
            return Err("bind_dn: the service account's DN is required".into());
        }
        if self.bind_password.is_empty() {
            return Err("bind_password_file: the file is empty".into());
        }
        if self.user_base.trim().is_empty() {
            return Err("user_base: the base DN where people live is required".into());
        }
        check_filter(&self.user_filter, None).map_err(|e| format!("user_filter: {e}"))?;
        check_filter(&self.group_filter, Some("{dn}")).map_err(|e| format!("group_filter: {e}"))?;
        let a = &self.attributes;
        for (key, value) in [
            ("username", &a.username),
            ("display_name", &a.display_name),
            ("mail", &a.mail),
            ("mobile", &a.mobile),
            ("telephone", &a.telephone),
            ("external_id", &a.external_id),
        ]
        .into_iter()
        .chain(a.member_of.iter().map(|m| ("member_of", m)))
        {
            let ok = !value.is_empty()
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ';');
            if !ok {
                return Err(format!(
                    "attributes.{key}: `{value}` is not an attribute name"
                ));
            }
        }
        for (key, t) in [
            ("connect_timeout_secs", self.connect_timeout),
            ("timeout_secs", self.operation_timeout),
        ] {
            if t.is_zero() || t > Duration::from_secs(60) {
                return Err(format!("{key}: between 1 and 60 seconds"));
            }
        }
        if !self.sync_interval.is_zero() && self.sync_interval < MIN_SYNC_INTERVAL {
            return Err(
                "sync_interval_secs: at least 60 seconds, or 0 for no periodic sync".into(),
            );
        }
        if self.security == Security::Plain && self.ca_file.is_some() {
            return Err("ca_file: has no use with security = \"plain\"".into());
        }
        Ok(())
    }
}

/// A configuration of `kind`'s preset for the unit tests, with placeholder names.
#[cfg(test)]
pub(crate) fn for_tests(kind: DirectoryKind, url: &str, security: Security) -> DirectoryConfig {
    DirectoryConfig {
        kind,
        url: url.into(),
        security,
        bind_dn: "cn=tessera,dc=example,dc=org".into(),
        bind_password: Zeroizing::new("s3cret-service".into()),
        user_base: "ou=people,dc=example,dc=org".into(),
        user_filter: kind.user_filter().into(),
        group_base: None,
        group_filter: kind.group_filter().into(),
        attributes: kind.attributes(),
        ca_file: None,
        connect_timeout: DEFAULT_TIMEOUT,
        operation_timeout: DEFAULT_TIMEOUT,
        sync_interval: DEFAULT_SYNC_INTERVAL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldaps_and_starttls_are_the_defaults_and_plain_only_on_this_machine() {
        assert_eq!(
            resolve_security("ldaps://dc1.example.org", None),
            Ok(Security::Ldaps)
        );
        assert_eq!(
            resolve_security("ldap://ldap.example.org:389", None),
            Ok(Security::StartTls)
        );
        assert_eq!(
            resolve_security("ldap://127.0.0.1:3890", Some("plain")),
            Ok(Security::Plain)
        );
        assert_eq!(
            resolve_security("ldap://[::1]:389/", Some("plain")),
            Ok(Security::Plain)
        );
        let remote = resolve_security("ldap://ldap.example.org", Some("plain")).unwrap_err();
        assert!(remote.contains("ldap.example.org"), "{remote}");
        assert!(resolve_security("ldaps://dc1", Some("plain")).is_err());
        assert!(resolve_security("http://dc1", None).is_err());
        assert!(resolve_security("ldap:///", None).is_err());
        assert!(resolve_security("dc1.example.org", None).is_err());
    }

    #[test]
    fn filters_must_be_one_balanced_expression() {
        assert!(check_filter("(objectClass=person)", None).is_ok());
        assert!(check_filter("(&(a=b)(c=d))", None).is_ok());
        assert!(check_filter("objectClass=person", None).is_err());
        assert!(check_filter("(a=b)(c=d)", None).is_err());
        assert!(check_filter("(&(a=b)", None).is_err());
        assert!(check_filter("(member=x)", Some("{dn}")).is_err());
    }

    #[test]
    fn presets_fill_the_product_attribute_names() {
        assert_eq!(
            DirectoryKind::parse("active_directory")
                .unwrap()
                .attributes()
                .username,
            "sAMAccountName"
        );
        assert_eq!(
            DirectoryKind::parse("openldap")
                .unwrap()
                .attributes()
                .member_of,
            None
        );
        assert!(DirectoryKind::parse("novell").is_none());
        for kind in [
            DirectoryKind::OpenLdap,
            DirectoryKind::ActiveDirectory,
            DirectoryKind::FreeIpa,
        ] {
            assert!(check_filter(kind.user_filter(), None).is_ok());
            assert!(check_filter(kind.group_filter(), Some("{dn}")).is_ok());
        }
    }

    #[test]
    fn the_password_never_prints() {
        let config = super::for_tests(DirectoryKind::OpenLdap, "ldaps://dc1", Security::Ldaps);
        assert!(config.validate().is_ok());
        assert!(!format!("{config:?}").contains("s3cret"));
        let mut bad = config.clone();
        bad.attributes.mail = "mail)(uid=*".into();
        assert!(bad.validate().unwrap_err().starts_with("attributes.mail"));
        let mut bad = config.clone();
        bad.operation_timeout = Duration::ZERO;
        assert!(bad.validate().unwrap_err().starts_with("timeout_secs"));
        let mut bad = config.clone();
        bad.sync_interval = Duration::from_secs(5);
        assert!(
            bad.validate()
                .unwrap_err()
                .starts_with("sync_interval_secs")
        );
        let mut off = config;
        off.sync_interval = Duration::ZERO;
        assert!(off.validate().is_ok());
    }
}
