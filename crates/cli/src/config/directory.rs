//! The `[directory]` section: the organization's LDAP or Active Directory as the source of
//! accounts and passwords (issue #19, docs/design/directory.md). Absent: off, every account is
//! local. `kind` fills the product's attribute names and filters; any of them may be overridden.
//! The service account's password comes only from a file, so it stays out of the configuration
//! file, the environment and the process list.

use crate::failure::{Failure, Outcome};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;
use tessera_server::directory::config::{DEFAULT_SYNC_INTERVAL, DEFAULT_TIMEOUT, resolve_security};
use tessera_server::directory::{DirectoryConfig, DirectoryKind};
use zeroize::Zeroizing;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DirectoryFile {
    kind: String,
    url: String,
    security: Option<String>,
    bind_dn: String,
    bind_password_file: PathBuf,
    user_base: String,
    user_filter: Option<String>,
    group_base: Option<String>,
    group_filter: Option<String>,
    ca_file: Option<PathBuf>,
    connect_timeout_secs: Option<u64>,
    timeout_secs: Option<u64>,
    /// How often `tessera serve` syncs directory accounts; 0: never.
    sync_interval_secs: Option<u64>,
    #[serde(default)]
    attributes: AttributesFile,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AttributesFile {
    username: Option<String>,
    display_name: Option<String>,
    mail: Option<String>,
    mobile: Option<String>,
    telephone: Option<String>,
    member_of: Option<String>,
    external_id: Option<String>,
}

pub(super) fn resolve(file: Option<(DirectoryFile, PathBuf)>) -> Outcome<Option<DirectoryConfig>> {
    let Some((file, path)) = file else {
        return Ok(None);
    };
    let at = |key: &str| format!("`directory.{key}` in {}", path.display());
    let usage = |key: &str, e: String| Failure::Usage(format!("{}: {e}", at(key)));
    let kind = DirectoryKind::parse(file.kind.trim()).ok_or_else(|| {
        usage(
            "kind",
            format!("`{}` is not one of {}", file.kind, DirectoryKind::NAMES),
        )
    })?;
    let url = file.url.trim().trim_end_matches('/').to_string();
    let security =
        resolve_security(&url, file.security.as_deref().map(str::trim)).map_err(|e| {
            let key = if file.security.is_some() {
                "security"
            } else {
                "url"
            };
            usage(key, e)
        })?;
    // The first line of the file: a trailing newline from `echo … >` is not part of it.
    let bind_password = std::fs::read_to_string(&file.bind_password_file)
        .map(|t| Zeroizing::new(t.lines().next().unwrap_or("").to_string()))
        .map_err(|e| {
            usage(
                "bind_password_file",
                format!("{}: {e}", file.bind_password_file.display()),
            )
        })?;
    if let Some(ca) = &file.ca_file
        && !ca.is_file()
    {
        return Err(usage("ca_file", format!("{} is not a file", ca.display())));
    }
    let preset = kind.attributes();
    let a = file.attributes;
    let seconds = |v: Option<u64>| v.map(Duration::from_secs).unwrap_or(DEFAULT_TIMEOUT);
    let config = DirectoryConfig {
        kind,
        url,
        security,
        bind_dn: file.bind_dn.trim().to_string(),
        bind_password,
        user_base: file.user_base.trim().to_string(),
        user_filter: file
            .user_filter
            .unwrap_or_else(|| kind.user_filter().to_string()),
        group_base: file.group_base.map(|g| g.trim().to_string()),
        group_filter: file
            .group_filter
            .unwrap_or_else(|| kind.group_filter().to_string()),
        attributes: tessera_server::directory::AttributeMap {
            username: a.username.unwrap_or(preset.username),
            display_name: a.display_name.unwrap_or(preset.display_name),
            mail: a.mail.unwrap_or(preset.mail),
            mobile: a.mobile.unwrap_or(preset.mobile),
            telephone: a.telephone.unwrap_or(preset.telephone),
            // An empty `member_of` turns the attribute off: search the groups instead.
            member_of: match a.member_of {
                Some(m) if m.trim().is_empty() => None,
                Some(m) => Some(m),
                None => preset.member_of,
            },
            external_id: a.external_id.unwrap_or(preset.external_id),
        },
        ca_file: file.ca_file,
        connect_timeout: seconds(file.connect_timeout_secs),
        operation_timeout: seconds(file.timeout_secs),
        sync_interval: file
            .sync_interval_secs
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_SYNC_INTERVAL),
    };
    // `validate` names the key first ("user_filter: …"); put the file around it.
    config.validate().map_err(|e| match e.split_once(": ") {
        Some((key, rest)) => usage(key, rest.to_string()),
        None => Failure::Usage(format!("`directory` in {}: {e}", path.display())),
    })?;
    Ok(Some(config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_server::directory::Security;

    /// A folder with a password file and a `[directory]` section, removed when dropped.
    struct Folder(PathBuf);

    impl Folder {
        fn new(name: &str) -> Folder {
            let dir = std::env::temp_dir().join(format!(
                "tessera-directory-config-{}-{name}",
                std::process::id()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("ldap-password"), "service-secret\n").unwrap();
            Folder(dir)
        }

        fn resolve(&self, body: &str) -> Outcome<Option<DirectoryConfig>> {
            let password = self.0.join("ldap-password");
            let text = format!(
                "bind_dn = \"cn=tessera,ou=services,dc=example,dc=org\"\n\
                 bind_password_file = \"{}\"\n\
                 user_base = \"ou=people,dc=example,dc=org\"\n{body}",
                password.display()
            );
            let file: DirectoryFile =
                toml::from_str(&text).map_err(|e| Failure::Usage(e.to_string()))?;
            resolve(Some((file, self.0.join("tessera.toml"))))
        }
    }

    impl Drop for Folder {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn message(outcome: Outcome<Option<DirectoryConfig>>) -> String {
        match outcome {
            Err(Failure::Usage(m)) => m,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn absent_means_off() {
        assert!(resolve(None).unwrap().is_none());
    }

    #[test]
    fn a_preset_fills_the_product_defaults_and_the_password_comes_from_its_file() {
        let folder = Folder::new("preset");
        let c = folder
            .resolve("kind = \"active_directory\"\nurl = \"ldaps://dc1.corp.example.org/\"\n")
            .unwrap()
            .unwrap();
        assert_eq!(c.security, Security::Ldaps);
        assert_eq!(c.url, "ldaps://dc1.corp.example.org");
        assert_eq!(c.attributes.username, "sAMAccountName");
        assert_eq!(c.attributes.member_of.as_deref(), Some("memberOf"));
        assert_eq!(
            c.user_filter,
            "(&(objectCategory=person)(objectClass=user))"
        );
        assert_eq!(c.bind_password.as_str(), "service-secret");
        assert_eq!(c.operation_timeout, DEFAULT_TIMEOUT);
        assert_eq!(c.attributes.external_id, "objectGUID");
        assert_eq!(c.sync_interval, DEFAULT_SYNC_INTERVAL);
    }

    #[test]
    fn keys_override_the_preset() {
        let folder = Folder::new("override");
        let c = folder
            .resolve(
                "kind = \"openldap\"\nurl = \"ldap://ldap.example.org\"\ntimeout_secs = 3\n\
                 user_filter = \"(objectClass=posixAccount)\"\nsync_interval_secs = 0\n\
                 [attributes]\nusername = \"mail\"\nmember_of = \"memberOf\"\n\
                 external_id = \"nsUniqueId\"\n",
            )
            .unwrap()
            .unwrap();
        assert_eq!(c.security, Security::StartTls);
        assert_eq!(c.attributes.username, "mail");
        assert_eq!(c.attributes.member_of.as_deref(), Some("memberOf"));
        assert_eq!(c.attributes.display_name, "cn");
        assert_eq!(c.user_filter, "(objectClass=posixAccount)");
        assert_eq!(c.operation_timeout, Duration::from_secs(3));
        assert_eq!(c.attributes.external_id, "nsUniqueId");
        assert_eq!(c.sync_interval, Duration::ZERO);
    }

    #[test]
    fn mistakes_name_the_key_to_fix() {
        let folder = Folder::new("mistakes");
        let m = message(folder.resolve("kind = \"novell\"\nurl = \"ldaps://x\"\n"));
        assert!(
            m.contains("`directory.kind`") && m.contains("active_directory"),
            "{m}"
        );
        let m = message(folder.resolve(
            "kind = \"openldap\"\nurl = \"ldap://ldap.example.org\"\nsecurity = \"plain\"\n",
        ));
        assert!(
            m.contains("`directory.security`") && m.contains("clear"),
            "{m}"
        );
        let m = message(folder.resolve("kind = \"openldap\"\nurl = \"https://ldap\"\n"));
        assert!(m.contains("`directory.url`"), "{m}");
        let m = message(
            folder.resolve("kind = \"openldap\"\nurl = \"ldaps://x\"\nuser_filter = \"uid=*\"\n"),
        );
        assert!(m.contains("`directory.user_filter`"), "{m}");
        let m =
            message(folder.resolve("kind = \"openldap\"\nurl = \"ldaps://x\"\ntimeout_secs = 0\n"));
        assert!(m.contains("`directory.timeout_secs`"), "{m}");
        let m = message(
            folder.resolve("kind = \"openldap\"\nurl = \"ldaps://x\"\nsync_interval_secs = 10\n"),
        );
        assert!(m.contains("`directory.sync_interval_secs`"), "{m}");
        let m = message(folder.resolve(
            "kind = \"openldap\"\nurl = \"ldaps://x\"\nca_file = \"/nonexistent/ca.pem\"\n",
        ));
        assert!(m.contains("`directory.ca_file`"), "{m}");
        // An unknown key is refused, not ignored (a misspelt `bind_password` in the file).
        assert!(
            folder
                .resolve("kind = \"openldap\"\nurl = \"ldaps://x\"\nbind_password = \"x\"\n")
                .is_err()
        );
    }

    #[test]
    fn a_missing_password_file_is_named() {
        let folder = Folder::new("nofile");
        std::fs::remove_file(folder.0.join("ldap-password")).unwrap();
        let m = message(folder.resolve("kind = \"openldap\"\nurl = \"ldaps://x\"\n"));
        assert!(m.contains("`directory.bind_password_file`"), "{m}");
    }

    #[test]
    fn plain_is_allowed_for_a_directory_on_this_machine() {
        let folder = Folder::new("plain");
        let c = folder
            .resolve("kind = \"freeipa\"\nurl = \"ldap://127.0.0.1:3890\"\nsecurity = \"plain\"\n")
            .unwrap()
            .unwrap();
        assert_eq!(c.security, Security::Plain);
    }
}
