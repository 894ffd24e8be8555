//! Accounts: the people who sign in.

use crate::error::{Error, Problem, Result};
use crate::ids::{AccountId, MethodId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    Disabled,
}

impl AccountStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(AccountStatus::Active),
            "disabled" => Some(AccountStatus::Disabled),
            _ => None,
        }
    }
}

/// Where an account comes from: Tessera's own store, or the organization's directory
/// (docs/design/directory.md), whose password is checked by binding and never stored here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountSource {
    #[default]
    Local,
    Directory,
}

impl AccountSource {
    pub fn as_str(&self) -> &'static str {
        match self {
            AccountSource::Local => "local",
            AccountSource::Directory => "directory",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "local" => Some(AccountSource::Local),
            "directory" => Some(AccountSource::Directory),
            _ => None,
        }
    }
}

/// The password hash of a directory account: not a PHC string, so no local check can ever
/// accept a password for it (the directory's bind is the only check).
pub const DIRECTORY_PASSWORD_HASH: &str = "!directory";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    /// Normalized with [`normalize_username`]; unique.
    pub username: String,
    pub display_name: String,
    /// A PHC string (Argon2id).
    pub password_hash: String,
    /// A language tag the person chose (`en`, `nl`); `None` follows the browser.
    pub locale: Option<String>,
    /// The language of the browser the person last signed in or reset their password with,
    /// for messages when they chose none. Only `Store::remember_locale` writes it.
    pub browser_locale: Option<String>,
    pub status: AccountStatus,
    pub is_admin: bool,
    /// Where notifications go.
    pub email: Option<String>,
    /// The method the sign-in asks for first.
    pub default_method: Option<MethodId>,
    pub created_at: OffsetDateTime,
    pub source: AccountSource,
    /// The directory's stable id for the entry (`entryUUID`, `objectGUID`), for
    /// `AccountSource::Directory`; unique.
    pub external_id: Option<String>,
}

impl Account {
    /// The account a directory person's first sign-in (or a sync with `--create`) makes:
    /// active, no local password, no admin right of its own, named as the directory names
    /// the person.
    pub fn of_directory_person(
        id: AccountId,
        person: &crate::store::directory::DirectoryAccount,
        created_at: OffsetDateTime,
    ) -> Account {
        Account {
            id,
            username: person.username.clone(),
            display_name: person.display_name.clone(),
            password_hash: DIRECTORY_PASSWORD_HASH.into(),
            locale: None,
            browser_locale: None,
            status: AccountStatus::Active,
            is_admin: false,
            email: None,
            default_method: None,
            created_at,
            source: AccountSource::Directory,
            external_id: person.external_id.clone(),
        }
    }

    pub fn is_directory(&self) -> bool {
        self.source == AccountSource::Directory
    }

    /// The language of the person's texts, calls and emails: the one they chose, else their
    /// browser's, else English.
    pub fn message_locale(&self) -> String {
        self.locale
            .clone()
            .or_else(|| self.browser_locale.clone())
            .unwrap_or_else(|| "en".into())
    }
}

pub const USERNAME_MAX: usize = 254;
pub const DISPLAY_NAME_MAX: usize = 128;

/// Usernames compare case-insensitively and without surrounding space.
pub fn normalize_username(raw: &str) -> Result<String> {
    let name = raw.trim().to_lowercase();
    if name.is_empty() {
        return Err(Error::bad("username", Problem::Required));
    }
    if name.chars().count() > USERNAME_MAX {
        return Err(Error::bad(
            "username",
            Problem::TooLong { max: USERNAME_MAX },
        ));
    }
    if name
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '/')
    {
        return Err(Error::bad("username", Problem::Invalid));
    }
    Ok(name)
}

pub fn validate_display_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.chars().count() > DISPLAY_NAME_MAX {
        return Err(Error::bad(
            "display_name",
            Problem::TooLong {
                max: DISPLAY_NAME_MAX,
            },
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::bad("display_name", Problem::Invalid));
    }
    Ok(name.to_string())
}

/// A plausible email address: one `@`, something on each side, a dot in the domain.
pub fn validate_email(raw: &str) -> Result<String> {
    let email = raw.trim();
    let valid = email.len() <= USERNAME_MAX
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.matches('@').count() == 1;
    if valid {
        Ok(email.to_string())
    } else {
        Err(Error::bad("email", Problem::Invalid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_trimmed_and_lowercased() {
        assert_eq!(
            normalize_username("  Alice@Example.org ").ok().as_deref(),
            Some("alice@example.org")
        );
        assert!(normalize_username("a b").is_err());
        assert!(normalize_username("   ").is_err());
    }

    #[test]
    fn emails_need_a_domain() {
        assert!(validate_email("alice@example.org").is_ok());
        assert!(validate_email("alice@localhost").is_err());
        assert!(validate_email("a@b@c.d").is_err());
    }
}
