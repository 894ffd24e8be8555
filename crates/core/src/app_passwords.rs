//! App passwords: for legacy apps that cannot do two-step verification (old mail clients,
//! CalDAV, some VPN clients). A person creates one and names it; it is shown once, as 16
//! letters in four groups of four (26^16 ≈ 2^75), and only its Argon2id hash is kept. A service
//! checks username + app password through `POST /api/v1/verify`; an app password never signs
//! in to Tessera itself. At most [`MAX_PER_ACCOUNT`], and none unless the policy allows them:
//! turning the policy off also stops the existing ones from working.

use crate::account::Account;
use crate::audit::{AuditAction, RequestContext};
use crate::error::{Error, NotAllowed, Problem, Result};
use crate::flow::StepUpProof;
use crate::ids::{AccountId, AppPasswordId};
use crate::password::PasswordCheck;
use crate::random::{self, Random};
use crate::service::{Auth, Tessera};
use time::OffsetDateTime;
use zeroize::Zeroizing;

pub const MAX_PER_ACCOUNT: u32 = 40;
pub const NAME_MAX: usize = 64;
const LETTERS: usize = 16;
const GROUP: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPassword {
    pub id: AppPasswordId,
    pub account_id: AccountId,
    pub name: String,
    /// A PHC string (Argon2id) of the letters, without spaces.
    pub password_hash: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

/// A new app password and its letters, which are shown once and never stored.
pub struct NewAppPassword {
    pub app_password: AppPassword,
    /// `abcd efgh ijkl mnop`.
    pub password: Zeroizing<String>,
}

impl std::fmt::Debug for NewAppPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAppPassword")
            .field("app_password", &self.app_password.id)
            .finish()
    }
}

/// 16 random lowercase letters in groups of four, separated by spaces.
pub fn generate(rng: &dyn Random) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(LETTERS + LETTERS / GROUP));
    for i in 0..LETTERS {
        if i > 0 && i % GROUP == 0 {
            out.push(' ');
        }
        let letter = b'a' + random::below(rng, 26) as u8;
        out.push(char::from(letter));
    }
    out
}

/// The letters as typed: spaces and dashes dropped, case ignored. `None` unless 16 letters.
pub fn normalize(typed: &str) -> Option<Zeroizing<String>> {
    let letters: Zeroizing<String> = Zeroizing::new(
        typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .flat_map(char::to_lowercase)
            .collect(),
    );
    (letters.chars().count() == LETTERS && letters.chars().all(|c| c.is_ascii_lowercase()))
        .then_some(letters)
}

fn clean_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Error::bad("name", Problem::Required));
    }
    if name.chars().count() > NAME_MAX {
        return Err(Error::bad("name", Problem::TooLong { max: NAME_MAX }));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::bad("name", Problem::Invalid));
    }
    Ok(name.to_string())
}

impl Tessera {
    /// The person's app passwords, newest first.
    pub async fn app_passwords(&self, auth: &Auth) -> Result<Vec<AppPassword>> {
        auth.require_full()?;
        Ok(self.store.app_passwords_of(auth.account.id).await?)
    }

    /// Creates an app password. It is a way in without a second factor, so it needs a recent
    /// one (the proof), and the policy must allow app passwords.
    pub async fn create_app_password(
        &self,
        auth: &Auth,
        name: &str,
        proof: StepUpProof,
        ctx: &RequestContext,
    ) -> Result<NewAppPassword> {
        proof.of(auth)?;
        auth.require_full()?;
        if !self.policy().await?.app_passwords_allowed {
            return Err(Error::NotAllowed(NotAllowed::KindNotAllowed));
        }
        let name = clean_name(name)?;
        let password = generate(self.rng.as_ref());
        let letters = normalize(&password).ok_or(Error::bad("password", Problem::Invalid))?;
        let app_password = AppPassword {
            id: AppPasswordId::new(self.rng.as_ref()),
            account_id: auth.account.id,
            name,
            password_hash: self.passwords.hash(letters).await?,
            created_at: self.now(),
            last_used_at: None,
        };
        let audit = self
            .audit(ctx, Some(auth.account.id), AuditAction::AppPasswordCreated)
            .detail(serde_json::json!({
                "app_password": app_password.id.to_string(),
                "name": app_password.name,
            }));
        if !self
            .store
            .insert_app_password(&app_password, MAX_PER_ACCOUNT, &audit)
            .await?
        {
            return Err(Error::bad(
                "app_passwords",
                Problem::TooLong {
                    max: MAX_PER_ACCOUNT as usize,
                },
            ));
        }
        Ok(NewAppPassword {
            app_password,
            password,
        })
    }

    /// Deletes one of the person's app passwords; the app that used it stops working.
    pub async fn delete_app_password(
        &self,
        auth: &Auth,
        id: AppPasswordId,
        ctx: &RequestContext,
    ) -> Result<()> {
        auth.require_full()?;
        let audit = self
            .audit(ctx, Some(auth.account.id), AuditAction::AppPasswordDeleted)
            .detail(serde_json::json!({ "app_password": id.to_string() }));
        if self
            .store
            .delete_app_password(auth.account.id, id, &audit)
            .await?
        {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }

    /// The app password of `account` that `typed` is, if any (newest first; each check costs
    /// one hash). Records its use.
    pub(crate) async fn match_app_password(
        &self,
        account: &Account,
        typed: &str,
    ) -> Result<Option<AppPassword>> {
        let Some(letters) = normalize(typed) else {
            return Ok(None);
        };
        for candidate in self.store.app_passwords_of(account.id).await? {
            let check = self
                .passwords
                .verify(letters.clone(), Some(candidate.password_hash.clone()))
                .await;
            if matches!(check, PasswordCheck::Match { .. }) {
                self.store
                    .touch_app_password(candidate.id, self.now())
                    .await?;
                return Ok(Some(candidate));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::OsRandom;

    #[test]
    fn generated_passwords_are_four_groups_of_four_letters() {
        let p = generate(&OsRandom);
        let groups: Vec<&str> = p.split(' ').collect();
        assert_eq!(groups.len(), 4, "{}", p.as_str());
        assert!(
            groups
                .iter()
                .all(|g| g.len() == 4 && g.chars().all(|c| c.is_ascii_lowercase()))
        );
        assert_ne!(generate(&OsRandom).as_str(), p.as_str());
    }

    #[test]
    fn typed_passwords_ignore_spaces_dashes_and_case() {
        assert_eq!(
            normalize("ABCD-efgh ijkl mnop")
                .as_deref()
                .map(String::as_str),
            Some("abcdefghijklmnop")
        );
        assert!(normalize("abcd efgh ijkl mno").is_none());
        assert!(normalize("abcd efgh ijkl mno1").is_none());
    }
}
