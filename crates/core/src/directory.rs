//! The organization's own directory (LDAP, Active Directory) as the source of accounts and
//! passwords (issue #19; docs/design/directory.md). A port, like the store: the flows talk to
//! this trait, the server's `directory::LdapDirectory` speaks LDAP, and tests of the flows can
//! supply their own.

/// A person as the directory describes them. Contact attributes are offers only: a phone or
/// address counts as security info after it has been verified with a code, like any other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryPerson {
    /// The entry's distinguished name; the person's own bind uses it.
    pub dn: String,
    /// The value of the username attribute (`uid`, `sAMAccountName`, `userPrincipalName`).
    pub username: String,
    /// The directory's stable id for the entry (`entryUUID`, `objectGUID` as its canonical
    /// text form, `ipaUniqueID`), so a renamed person stays one account. `None` when the
    /// directory does not expose one; the username is then the key.
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub mail: Option<String>,
    pub mobile: Option<String>,
    pub telephone: Option<String>,
    /// Group names (the `cn` of each group DN in `memberOf`, or of each group found by the
    /// group filter), sorted and without duplicates.
    pub groups: Vec<String>,
    /// The directory marks the entry disabled or locked (`nsAccountLock`, AD's
    /// `userAccountControl` ACCOUNTDISABLE bit, `pwdAccountLockedTime`).
    pub disabled: bool,
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
    /// to a translated message (the server's `directory::Refusal`).
    #[error("the directory refused: {reason}")]
    Refused { reason: String },
}

/// A person's own change that failed, and how far it got. The flow counts the current
/// password as a guess before asking; once the directory has bound with it, it was the right
/// password, so a refusal of the new one (its policy) or an outage after the bind must not
/// leave a wrong guess counted against the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeFailure {
    pub error: DirectoryError,
    /// The person's bind with the current password succeeded before `error`.
    pub current_accepted: bool,
}

impl ChangeFailure {
    /// Failed after the bind with the current password succeeded.
    pub fn after_bind(error: DirectoryError) -> ChangeFailure {
        ChangeFailure {
            error,
            current_accepted: true,
        }
    }
}

/// Failed before (or at) the bind: the current password was not shown to be right.
impl From<DirectoryError> for ChangeFailure {
    fn from(error: DirectoryError) -> ChangeFailure {
        ChangeFailure {
            error,
            current_accepted: false,
        }
    }
}

/// The directory as the flows see it.
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
    /// has passed. The directory's policy applies; a refusal changes nothing.
    async fn reset_password(&self, username: &str, new: &str) -> Result<(), DirectoryError>;
    /// The person's own change, bound as them with `current`. A failure says whether the
    /// directory had already accepted `current` (see [`ChangeFailure`]).
    async fn change_password(
        &self,
        username: &str,
        current: &str,
        new: &str,
    ) -> Result<(), ChangeFailure>;
    /// Every person the user filter matches under the base DNs, for the sync (paged, so a
    /// directory's size limit does not cut the list short).
    async fn people(&self) -> Result<Vec<DirectoryPerson>, DirectoryError>;
    /// A service bind, for `/readyz`.
    async fn ping(&self) -> Result<(), DirectoryError>;
}
