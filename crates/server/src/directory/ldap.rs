//! The directory over LDAP (ldap3, rustls with ring). Each request opens its own connection,
//! binds and closes it: a person's bind must never leave a connection bound as them for the
//! next request, and a fresh connection notices a restarted directory at once. A pool of
//! service-bound connections for searches is the next step (docs/design/directory.md).

use super::{Directory, DirectoryConfig, DirectoryError, DirectoryPerson, Security};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, Scope, SearchEntry, ldap_escape};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// LDAP result codes (RFC 4511 §4.1.9) the flows tell apart.
const INVALID_CREDENTIALS: u32 = 49;
const NO_SUCH_OBJECT: u32 = 32;
const BUSY: u32 = 51;
const UNAVAILABLE: u32 = 52;

pub struct LdapDirectory {
    config: Arc<DirectoryConfig>,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl LdapDirectory {
    /// Fails only when `ca_file` cannot be read or holds no certificate.
    pub fn new(config: DirectoryConfig) -> Result<LdapDirectory, String> {
        let tls = match (&config.ca_file, config.security) {
            (Some(path), Security::Ldaps | Security::StartTls) => {
                Some(Arc::new(tls_trusting(path)?))
            }
            _ => None,
        };
        Ok(LdapDirectory {
            config: Arc::new(config),
            tls,
        })
    }

    pub fn config(&self) -> &DirectoryConfig {
        &self.config
    }

    /// A connection, TLS as configured, not yet bound. Bounded by the connect timeout
    /// whatever stage hangs (TCP, TLS handshake, StartTLS).
    pub(super) async fn connect(&self) -> Result<Ldap, DirectoryError> {
        let c = &self.config;
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(c.connect_timeout)
            .set_starttls(c.security == Security::StartTls);
        if let Some(tls) = &self.tls {
            settings = settings.set_config(tls.clone());
        }
        let connecting = LdapConnAsync::with_settings(settings, &c.url);
        let (conn, ldap) = tokio::time::timeout(c.connect_timeout, connecting)
            .await
            .map_err(|_| {
                DirectoryError::Unavailable("no answer within the connect timeout".into())
            })?
            // Any answer while connecting — a StartTLS the server does not support included —
            // means no safe connection: an outage to fix, never a reason to go on in the clear.
            .map_err(|e| DirectoryError::Unavailable(format!("connecting: {e}")))?;
        ldap3::drive!(conn);
        Ok(ldap)
    }

    pub(super) async fn bind(
        &self,
        ldap: &mut Ldap,
        dn: &str,
        password: &str,
    ) -> Result<(), DirectoryError> {
        ldap.with_timeout(self.config.operation_timeout)
            .simple_bind(dn, password)
            .await
            .and_then(|r| r.success())
            .map(|_| ())
            .map_err(classify)
    }

    pub(super) async fn service_connection(&self) -> Result<Ldap, DirectoryError> {
        let mut ldap = self.connect().await?;
        let c = &self.config;
        match self.bind(&mut ldap, &c.bind_dn, &c.bind_password).await {
            // The service account's own password being wrong is an outage for everyone, not
            // a wrong password of the person signing in.
            Err(DirectoryError::InvalidCredentials) => Err(DirectoryError::Unavailable(
                "the service account's bind was refused (check bind_dn and its password file)"
                    .into(),
            )),
            other => other.map(|_| ldap),
        }
    }

    /// Looks the person up with a connection already bound as the service account.
    pub(super) async fn lookup(
        &self,
        ldap: &mut Ldap,
        username: &str,
    ) -> Result<DirectoryPerson, DirectoryError> {
        let c = &self.config;
        let a = &c.attributes;
        if username.is_empty() {
            return Err(DirectoryError::NotFound);
        }
        let filter = format!(
            "(&{}({}={}))",
            c.user_filter.trim(),
            a.username,
            ldap_escape(username)
        );
        let mut wanted = vec![
            a.username.as_str(),
            a.display_name.as_str(),
            a.mail.as_str(),
            a.mobile.as_str(),
            a.telephone.as_str(),
        ];
        wanted.extend(a.member_of.as_deref());
        let (entries, _) = ldap
            .with_timeout(c.operation_timeout)
            .search(&c.user_base, Scope::Subtree, &filter, wanted)
            .await
            .and_then(|r| r.success())
            .map_err(|e| match classify(e) {
                // A base DN that does not exist finds nobody.
                DirectoryError::Refused { reason }
                    if reason.starts_with(&format!("{NO_SUCH_OBJECT}:")) =>
                {
                    DirectoryError::NotFound
                }
                other => other,
            })?;
        // Two entries with one username is the directory's mistake; binding as either would
        // be a guess, so neither signs in.
        let [entry] = <[_; 1]>::try_from(entries).map_err(|_| DirectoryError::NotFound)?;
        let entry = SearchEntry::construct(entry);
        let attrs = lowercase(entry.attrs);
        let first = |name: &str| {
            attrs
                .get(&name.to_ascii_lowercase())
                .and_then(|v| v.first())
                .cloned()
        };
        let mut groups: BTreeSet<String> = match &a.member_of {
            Some(member_of) => attrs
                .get(&member_of.to_ascii_lowercase())
                .into_iter()
                .flatten()
                .filter_map(|dn| group_name(dn))
                .collect(),
            None => BTreeSet::new(),
        };
        if a.member_of.is_none() {
            groups.extend(self.groups_of(ldap, &entry.dn).await?);
        }
        Ok(DirectoryPerson {
            username: first(&a.username).unwrap_or_else(|| username.to_string()),
            display_name: first(&a.display_name),
            mail: first(&a.mail),
            mobile: first(&a.mobile),
            telephone: first(&a.telephone),
            groups: groups.into_iter().collect(),
            dn: entry.dn,
        })
    }

    /// Groups found by the group filter, for directories without `memberOf`.
    async fn groups_of(&self, ldap: &mut Ldap, dn: &str) -> Result<Vec<String>, DirectoryError> {
        let c = &self.config;
        let base = c.group_base.as_deref().unwrap_or(&c.user_base);
        let filter = c.group_filter.replace("{dn}", &ldap_escape(dn));
        let (entries, _) = ldap
            .with_timeout(c.operation_timeout)
            .search(base, Scope::Subtree, &filter, vec!["cn"])
            .await
            .and_then(|r| r.success())
            .map_err(classify)?;
        Ok(entries
            .into_iter()
            .filter_map(|e| group_name(&SearchEntry::construct(e).dn))
            .collect())
    }
}

#[async_trait::async_trait]
impl Directory for LdapDirectory {
    async fn find(&self, username: &str) -> Result<DirectoryPerson, DirectoryError> {
        let mut ldap = self.service_connection().await?;
        let found = self.lookup(&mut ldap, username).await;
        let _ = ldap.unbind().await;
        found
    }

    async fn check_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<DirectoryPerson, DirectoryError> {
        if password.is_empty() {
            return Err(DirectoryError::InvalidCredentials);
        }
        let mut ldap = self.service_connection().await?;
        let found = self.lookup(&mut ldap, username).await;
        let checked = match found {
            // Rebinding on the same connection checks the password and drops the service
            // identity; the connection is closed right after.
            Ok(person) => self
                .bind(&mut ldap, &person.dn, password)
                .await
                .map(|_| person),
            Err(e) => Err(e),
        };
        let _ = ldap.unbind().await;
        checked
    }

    async fn reset_password(&self, username: &str, new: &str) -> Result<(), DirectoryError> {
        self.write_reset(username, new).await
    }

    async fn change_password(
        &self,
        username: &str,
        current: &str,
        new: &str,
    ) -> Result<(), DirectoryError> {
        self.write_change(username, current, new).await
    }

    async fn ping(&self) -> Result<(), DirectoryError> {
        let mut ldap = self.service_connection().await?;
        let _ = ldap.unbind().await;
        Ok(())
    }
}

/// Sorts an ldap3 error into the kinds the flows answer differently. Result texts carry the
/// code first ("49: …") so callers can still tell codes apart.
pub(super) fn classify(error: LdapError) -> DirectoryError {
    match error {
        LdapError::LdapResult { result } => match result.rc {
            // AD answers 49 also for a locked, disabled or expired account, with a code in
            // the text that tells those apart from a wrong password (0x52e).
            INVALID_CREDENTIALS
                if super::refusal::ad_code(&result.text)
                    .and_then(super::refusal::ad_refusal)
                    .is_some() =>
            {
                DirectoryError::Refused {
                    reason: format!("{}: {}", result.rc, result.text),
                }
            }
            INVALID_CREDENTIALS => DirectoryError::InvalidCredentials,
            BUSY | UNAVAILABLE => {
                DirectoryError::Unavailable(format!("{}: {}", result.rc, result.text))
            }
            rc => DirectoryError::Refused {
                reason: if result.text.is_empty() {
                    format!("{rc}")
                } else {
                    format!("{rc}: {}", result.text)
                },
            },
        },
        // Anything about the connection itself — refused, reset, timed out, TLS failing,
        // StartTLS refused — means the directory cannot be used right now.
        other => DirectoryError::Unavailable(other.to_string()),
    }
}

fn lowercase(attrs: HashMap<String, Vec<String>>) -> HashMap<String, Vec<String>> {
    attrs
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect()
}

/// `cn=staff,ou=groups,dc=example,dc=org` → `staff`: the name the policy and access rules use.
fn group_name(dn: &str) -> Option<String> {
    let first = dn.split(',').next()?;
    let (attr, value) = first.split_once('=')?;
    (attr.trim().eq_ignore_ascii_case("cn") && !value.is_empty()).then(|| value.trim().to_string())
}

/// A rustls configuration trusting only the certificates in `path` (PEM).
fn tls_trusting(path: &std::path::Path) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("ca_file ({}): {e}", path.display()))?
    {
        let cert = cert.map_err(|e| format!("ca_file ({}): {e}", path.display()))?;
        roots
            .add(cert)
            .map_err(|e| format!("ca_file ({}): {e}", path.display()))?;
    }
    if roots.is_empty() {
        return Err(format!(
            "ca_file ({}): no certificate in it",
            path.display()
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_come_from_the_first_cn() {
        assert_eq!(
            group_name("cn=staff,ou=groups,dc=example,dc=org").as_deref(),
            Some("staff")
        );
        assert_eq!(
            group_name("CN=Domain Admins,CN=Users,DC=corp").as_deref(),
            Some("Domain Admins")
        );
        assert_eq!(group_name("ou=groups,dc=example"), None);
    }

    #[test]
    fn result_codes_become_kinds() {
        let result = |rc: u32, text: &str| LdapError::LdapResult {
            result: ldap3::LdapResult {
                rc,
                matched: String::new(),
                text: text.into(),
                refs: vec![],
                ctrls: vec![],
            },
        };
        assert_eq!(classify(result(49, "")), DirectoryError::InvalidCredentials);
        let ad = |data: &str| {
            format!(
                "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data {data}, v4563"
            )
        };
        assert_eq!(
            classify(result(49, &ad("52e"))),
            DirectoryError::InvalidCredentials
        );
        assert!(matches!(
            classify(result(49, &ad("775"))),
            DirectoryError::Refused { reason } if reason.contains("data 775")
        ));
        assert!(matches!(
            classify(result(52, "")),
            DirectoryError::Unavailable(_)
        ));
        assert_eq!(
            classify(result(19, "Password fails quality checking policy")),
            DirectoryError::Refused {
                reason: "19: Password fails quality checking policy".into()
            }
        );
        assert!(matches!(
            classify(LdapError::EndOfStream),
            DirectoryError::Unavailable(_)
        ));
    }
}
