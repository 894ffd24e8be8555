//! The organization's own directory (LDAP, Active Directory) as the source of accounts and
//! passwords (issue #19; docs/design/directory.md). This module holds the shapes the rest of
//! the server talks in — a person as the directory describes them, and errors as types — and
//! `ldap` does the protocol work, the way `delivery` keeps gateways behind one trait.
//!
//! Nothing here is wired into sign-in, reset or the store yet: see the design's Status.

pub mod config;
pub mod ldap;
pub mod ppolicy;
pub mod refusal;
pub mod writeback;

pub use config::{AttributeMap, DirectoryConfig, DirectoryKind, Security};
pub use ldap::LdapDirectory;
pub use refusal::Refusal;

/// A person as the directory describes them. Contact attributes are offers only: a phone or
/// address counts as security info after it has been verified with a code, like any other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryPerson {
    /// The entry's distinguished name; the person's own bind uses it.
    pub dn: String,
    /// The value of the username attribute (`uid`, `sAMAccountName`, `userPrincipalName`).
    pub username: String,
    pub display_name: Option<String>,
    pub mail: Option<String>,
    pub mobile: Option<String>,
    pub telephone: Option<String>,
    /// Group names (the `cn` of each group DN in `memberOf`, or of each group found by the
    /// group filter), sorted and without duplicates.
    pub groups: Vec<String>,
}

/// What can go wrong when Tessera asks the directory. The sign-in and reset flows answer each
/// one differently, so they are kinds rather than messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// The directory could not be reached or did not answer in time: "try again later", and
    /// `/readyz` says so. Never an invalid password.
    #[error("the directory is unavailable: {0}")]
    Unavailable(String),
    /// The person exists but the password did not bind (LDAP result 49).
    #[error("the directory did not accept the password")]
    InvalidCredentials,
    /// No entry (or more than one) matches the username.
    #[error("no such person in the directory")]
    NotFound,
    /// The directory answered but said no: its password policy, its access rules, a locked
    /// or disabled account. `reason` is the directory's own text, for the log and for mapping
    /// to a translated message.
    #[error("the directory refused: {reason}")]
    Refused { reason: String },
}

/// The directory as the flows see it. `LdapDirectory` is the real one; tests of the flows can
/// supply their own.
#[async_trait::async_trait]
pub trait Directory: Send + Sync {
    /// Finds a person by username with the service account.
    async fn find(&self, username: &str) -> Result<DirectoryPerson, DirectoryError>;
    /// Checks a password by binding as the person, never by reading a hash. An empty password
    /// is refused before the directory is asked: LDAP treats it as an anonymous bind, which
    /// "succeeds".
    async fn check_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<DirectoryPerson, DirectoryError>;
    /// Sets the password as the service account, for a self-service reset whose every gate
    /// has passed (writeback.rs). The directory's policy applies; a refusal changes nothing.
    async fn reset_password(&self, username: &str, new: &str) -> Result<(), DirectoryError>;
    /// The person's own change, bound as them with `current`.
    async fn change_password(
        &self,
        username: &str,
        current: &str,
        new: &str,
    ) -> Result<(), DirectoryError>;
    /// A service bind, for `/readyz`.
    async fn ping(&self) -> Result<(), DirectoryError>;
}
