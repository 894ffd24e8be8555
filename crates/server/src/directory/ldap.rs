//! The directory over LDAP (ldap3, rustls with ring). Searches and the service's writes use
//! a small pool of connections bound as the service account (pool.rs); a person's own bind
//! (checking or changing their password) gets a connection of its own, closed right after, so
//! no connection is ever left bound as a person for the next request.

use super::entry::{self, group_name};
use super::pool::{self, Pool, Pooled};
use super::refusal::is_ad_disabled;
use super::{Directory, DirectoryConfig, DirectoryError, DirectoryPerson, Security};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, Scope, SearchEntry, ldap_escape};
use std::sync::Arc;
use tessera_core::directory::ChangeFailure;

/// LDAP result codes (RFC 4511 §4.1.9) the flows tell apart.
const INVALID_CREDENTIALS: u32 = 49;
pub(super) const NO_SUCH_OBJECT: u32 = 32;
const BUSY: u32 = 51;
const UNAVAILABLE: u32 = 52;

/// Entries per page of a listing (RFC 2696): under AD's default MaxPageSize of 1000.
pub const DEFAULT_PAGE_SIZE: i32 = 500;

pub struct LdapDirectory {
    config: Arc<DirectoryConfig>,
    tls: Option<Arc<rustls::ClientConfig>>,
    pool: Pool,
    pub(super) page_size: i32,
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
            pool: Pool::new(pool::DEFAULT_SIZE),
            page_size: DEFAULT_PAGE_SIZE,
        })
    }

    /// At most `size` service connections open at once; 0: none kept, every request opens
    /// and closes its own (how it was before the pool; for comparing).
    pub fn with_pool_size(mut self, size: usize) -> LdapDirectory {
        self.pool = Pool::new(size);
        self
    }

    /// Entries per page when listing people (a directory may cap pages lower than ours).
    pub fn with_page_size(mut self, size: i32) -> LdapDirectory {
        self.page_size = size.max(1);
        self
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

    /// A new connection bound as the service account. The connect timeout bounds all of it,
    /// the service bind included: a directory that takes a TCP connection and then never
    /// answers (hung, or stopped with its socket open) otherwise costs a whole operation
    /// timeout more on top of the one the failed pooled connection already cost.
    pub(super) async fn service_connection(&self) -> Result<Ldap, DirectoryError> {
        let c = &self.config;
        tokio::time::timeout(c.connect_timeout, self.service_bind())
            .await
            .map_err(|_| {
                DirectoryError::Unavailable(
                    "the service bind got no answer within the connect timeout".into(),
                )
            })?
    }

    async fn service_bind(&self) -> Result<Ldap, DirectoryError> {
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

    /// A connection bound as the service account: an idle pooled one, else a new one.
    /// Waits for a busy one at most the operation timeout (a directory that slow is down).
    pub(super) async fn checkout(&self) -> Result<Pooled, DirectoryError> {
        let permit = self.pool.permit(self.config.operation_timeout).await?;
        match self.pool.take_idle(permit) {
            Ok(conn) => Ok(conn),
            Err(permit) => Ok(Pool::fresh(self.service_connection().await?, permit)),
        }
    }

    /// Hands a connection back with the outcome of what it was used for; `true` when the
    /// read should be tried once more on a new connection (a reused one failed: the
    /// directory may have restarted since it was opened). Only for reads and for the lookup
    /// before a write, never after a write was sent.
    ///
    /// An outage also closes every idle connection: they lead to the same directory, and
    /// trying each in turn would cost one operation timeout apiece (with the default pool
    /// and timeouts, 25 s for one sign-in) before the answer "unavailable". The retry then
    /// opens one new connection, bounded by the connect timeout.
    pub(super) fn check_in<T>(&self, conn: Pooled, outcome: &Result<T, DirectoryError>) -> bool {
        let outage = matches!(outcome, Err(DirectoryError::Unavailable(_)));
        if outage {
            self.pool.drop_idle();
        }
        let retry = conn.reused && outage;
        self.pool.put_back(conn, outcome);
        retry
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
        let (entries, _) = ldap
            .with_timeout(c.operation_timeout)
            .search(&c.user_base, Scope::Subtree, &filter, entry::wanted(a))
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
        let [found] = <[_; 1]>::try_from(entries).map_err(|_| DirectoryError::NotFound)?;
        let found = SearchEntry::construct(found);
        let groups = match a.member_of {
            Some(_) => Vec::new(),
            None => self.groups_of(ldap, &found.dn).await?,
        };
        entry::person(found, a, Some(username), groups).ok_or(DirectoryError::NotFound)
    }

    /// Groups found by the group filter, for directories without `memberOf`.
    pub(super) async fn groups_of(
        &self,
        ldap: &mut Ldap,
        dn: &str,
    ) -> Result<Vec<String>, DirectoryError> {
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
        loop {
            let mut conn = self.checkout().await?;
            let found = self.lookup(&mut conn.ldap, username).await;
            if !self.check_in(conn, &found) {
                return found;
            }
        }
    }

    async fn check_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<DirectoryPerson, DirectoryError> {
        if password.is_empty() {
            return Err(DirectoryError::InvalidCredentials);
        }
        let person = self.find(username).await?;
        // The person's bind on a connection of its own, closed after: a pooled connection
        // bound as them would search as them next time.
        let mut ldap = self.connect().await?;
        let checked = self.bind(&mut ldap, &person.dn, password).await;
        let _ = ldap.unbind().await;
        checked.map(|_| person)
    }

    async fn reset_password(&self, username: &str, new: &str) -> Result<(), DirectoryError> {
        self.write_reset(username, new).await
    }

    async fn change_password(
        &self,
        username: &str,
        current: &str,
        new: &str,
    ) -> Result<(), ChangeFailure> {
        self.write_change(username, current, new).await
    }

    async fn people(&self) -> Result<Vec<DirectoryPerson>, DirectoryError> {
        loop {
            let mut conn = self.checkout().await?;
            let listed = self.list_people(&mut conn.ldap).await;
            if !self.check_in(conn, &listed) {
                return listed;
            }
        }
    }

    /// A round trip on a service connection (Who am I?, RFC 4532): an open connection alone
    /// says nothing about a directory that has stopped answering.
    async fn ping(&self) -> Result<(), DirectoryError> {
        loop {
            let mut conn = self.checkout().await?;
            let answered = conn
                .ldap
                .with_timeout(self.config.operation_timeout)
                .extended(ldap3::exop::WhoAmI)
                .await
                .and_then(|r| r.success())
                .map(|_| ())
                .map_err(classify);
            if !self.check_in(conn, &answered) {
                return answered;
            }
        }
    }
}

/// Sorts an ldap3 error into the kinds the flows answer differently. Result texts carry the
/// code first ("49: …") so callers can still tell codes apart.
pub(super) fn classify(error: LdapError) -> DirectoryError {
    match error {
        LdapError::LdapResult { result } => match result.rc {
            // AD answers 49 also for a locked account or a password that must change, with a
            // code in the text that tells those apart from a wrong password (0x52e). A
            // disabled or expired account stays a wrong password (`refusal::ad_refusal`).
            INVALID_CREDENTIALS => match super::refusal::ad_code(&result.text) {
                Some(code) if super::refusal::ad_refusal(code).is_some() => {
                    DirectoryError::Refused {
                        reason: format!("{}: {}", result.rc, result.text),
                    }
                }
                Some(code) if is_ad_disabled(code) => {
                    tracing::info!(
                        ad_code = format!("{code:x}"),
                        "the directory account is disabled or expired: answered as a wrong password"
                    );
                    DirectoryError::InvalidCredentials
                }
                _ => DirectoryError::InvalidCredentials,
            },
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
        // A disabled or expired account: AD says so only for the right password, so it is
        // answered (and counted) as a wrong one, like a disabled local account.
        for data in ["533", "701"] {
            assert_eq!(
                classify(result(49, &ad(data))),
                DirectoryError::InvalidCredentials,
                "{data}"
            );
        }
        // A password that expired or must change stays a refusal the person can act on.
        for data in ["532", "773"] {
            assert!(
                matches!(
                    classify(result(49, &ad(data))),
                    DirectoryError::Refused { reason } if reason.contains(&format!("data {data}"))
                ),
                "{data}"
            );
        }
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
