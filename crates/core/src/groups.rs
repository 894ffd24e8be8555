//! An account's groups (issue #19): the directory groups a sign-in or a sync last read
//! (`DirectoryAccountStore::account_groups`), plus [`ADMIN_GROUP`] for an admin. One answer,
//! used by every place that names groups: forward-auth rules and the `Remote-Groups` header,
//! OpenID Connect's `groups` claim, the admin check, and the policy's group rules.
//!
//! Groups come from the store, never from a directory round trip: a sign-in and a sync write
//! them, and reading them is one indexed query (the forward-auth check keeps them with its
//! cached session).
//!
//! Who is an admin: an account with the admin flag, or a directory account in one of the
//! policy's `admin_groups`. The policy, not the configuration file, names those groups: an
//! admin can already make anyone an admin, so the setting gives no new power; it is then
//! audited with every policy change, the same on every node, and editable on the policy page.
//! A directory group that is itself called `tessera-admins` is not passed on: that name is
//! Tessera's, so a rule naming it is never satisfied by the directory alone.

use crate::account::Account;
use crate::error::Result;
use crate::policy::Policy;
use crate::service::Tessera;
use std::sync::Arc;

/// The group every admin is in, as forward-auth rules, the `Remote-Groups` header and the
/// OpenID Connect `groups` claim name it.
pub const ADMIN_GROUP: &str = "tessera-admins";

/// The groups of `account`, given its stored directory groups: sorted, without duplicates,
/// with [`ADMIN_GROUP`] when it is an admin by flag or by the policy's `admin_groups`.
pub fn groups(account: &Account, directory_groups: &[String], policy: &Policy) -> Vec<String> {
    let mut groups: Vec<String> = if account.is_directory() {
        directory_groups
            .iter()
            .map(|g| g.trim())
            .filter(|g| !g.is_empty() && *g != ADMIN_GROUP)
            .map(str::to_string)
            .collect()
    } else {
        Vec::new()
    };
    let admin_by_group = groups.iter().any(|g| policy.admin_groups.contains(g));
    if account.is_admin || admin_by_group {
        groups.push(ADMIN_GROUP.to_string());
    }
    groups.sort();
    groups.dedup();
    groups
}

/// At most this many bytes of Class attributes go in one Access-Accept, which must stay
/// within RADIUS's 4096 bytes with everything else it carries.
pub const RADIUS_CLASSES_MAX: usize = 1024;

/// The groups as RADIUS Class attributes (RFC 2865 §5.25), one per group, in order: a name
/// longer than one attribute holds (253 bytes) is left out, and so is every group past
/// [`RADIUS_CLASSES_MAX`].
pub fn radius_classes(groups: &[String]) -> Vec<Vec<u8>> {
    let mut total = 0;
    groups
        .iter()
        .map(|g| g.as_bytes())
        .filter(|b| !b.is_empty() && b.len() <= 253)
        .take_while(|b| {
            total += b.len() + 2;
            total <= RADIUS_CLASSES_MAX
        })
        .map(<[u8]>::to_vec)
        .collect()
}

/// Whether any of `groups` is one of `named`.
pub fn in_any(groups: &[String], named: &[String]) -> bool {
    groups.iter().any(|g| named.contains(g))
}

impl Tessera {
    /// The account's groups (see the module header): one store read for a directory
    /// account, none for a local one.
    pub async fn groups_of(&self, account: &Account) -> Result<Vec<String>> {
        let policy = self.policy().await?;
        let stored = if account.is_directory() {
            self.store.account_groups(account.id).await?
        } else {
            Vec::new()
        };
        Ok(groups(account, &stored, &policy))
    }

    /// The Class attributes of an Access-Accept for `username` (see [`radius_classes`]),
    /// so a VPN or a switch can map them to its own roles; none for an unknown name.
    pub async fn radius_classes(&self, username: &str) -> Result<Vec<Vec<u8>>> {
        let Ok(name) = crate::account::normalize_username(username) else {
            return Ok(Vec::new());
        };
        let Some(account) = self.store.account_by_username(&name).await? else {
            return Ok(Vec::new());
        };
        Ok(radius_classes(&self.groups_of(&account).await?))
    }

    /// The policy as it applies to `account`: a member of `two_step_groups` must use
    /// two-step verification even when the policy lets everyone else in with a password.
    /// Reads the groups only when the rule could change something.
    pub async fn policy_for(&self, account: &Account) -> Result<Arc<Policy>> {
        let policy = self.policy().await?;
        Ok(match self.two_step_for(&policy, account).await? {
            true if !policy.two_step_required => {
                let mut member = Policy::clone(&policy);
                member.two_step_required = true;
                Arc::new(member)
            }
            _ => policy,
        })
    }

    /// Whether `policy` requires two-step verification of `account`: of everyone, or of the
    /// members of `two_step_groups`.
    pub async fn two_step_for(&self, policy: &Policy, account: &Account) -> Result<bool> {
        if policy.two_step_required || policy.two_step_groups.is_empty() {
            return Ok(policy.two_step_required);
        }
        let groups = self.groups_of(account).await?;
        Ok(in_any(&groups, &policy.two_step_groups))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{AccountSource, AccountStatus};
    use crate::ids::AccountId;
    use crate::random::OsRandom;

    fn account(source: AccountSource, is_admin: bool) -> Account {
        Account {
            id: AccountId::new(&OsRandom),
            username: "alice".into(),
            display_name: "Alice".into(),
            password_hash: String::new(),
            locale: None,
            browser_locale: None,
            status: AccountStatus::Active,
            is_admin,
            email: None,
            default_method: None,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            source,
            external_id: None,
        }
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn directory_groups_pass_and_admins_get_the_admin_group() {
        let policy = Policy::default();
        let person = account(AccountSource::Directory, false);
        assert_eq!(
            groups(&person, &names(&["staff", "ops", "staff", " "]), &policy),
            ["ops", "staff"]
        );
        let admin = account(AccountSource::Directory, true);
        assert_eq!(
            groups(&admin, &names(&["staff"]), &policy),
            ["staff", ADMIN_GROUP]
        );
        let local_admin = account(AccountSource::Local, true);
        assert_eq!(
            groups(&local_admin, &names(&["staff"]), &policy),
            [ADMIN_GROUP],
            "a local account has no directory groups"
        );
    }

    #[test]
    fn admin_groups_make_admins_and_the_admin_name_is_not_taken_from_the_directory() {
        let mut policy = Policy::default();
        let person = account(AccountSource::Directory, false);
        assert_eq!(
            groups(&person, &names(&[ADMIN_GROUP, "staff"]), &policy),
            ["staff"],
            "a directory group named tessera-admins is not Tessera's"
        );
        assert!(policy.set("admin_groups", "it-admins").is_ok());
        assert_eq!(
            groups(&person, &names(&["it-admins"]), &policy),
            ["it-admins", ADMIN_GROUP]
        );
        let local = account(AccountSource::Local, false);
        assert!(groups(&local, &names(&["it-admins"]), &policy).is_empty());
    }

    #[test]
    fn radius_classes_fit_their_attributes_and_the_packet() {
        let long = "x".repeat(254);
        assert_eq!(
            radius_classes(&names(&["ops", &long, "staff"])),
            [b"ops".to_vec(), b"staff".to_vec()]
        );
        let many: Vec<String> = (0..100).map(|i| format!("group-{i:04}")).collect();
        let classes = radius_classes(&many);
        let bytes: usize = classes.iter().map(|c| c.len() + 2).sum();
        assert!(bytes <= RADIUS_CLASSES_MAX && classes.len() == RADIUS_CLASSES_MAX / 12);
        assert_eq!(classes[0], b"group-0000");
    }

    #[test]
    fn group_lists_in_the_policy_are_checked() {
        let mut policy = Policy::default();
        assert!(policy.set("two_step_groups", "finance, it-admins").is_ok());
        assert_eq!(policy.two_step_groups, ["finance", "it-admins"]);
        assert!(policy.set("admin_groups", "it\u{7}admins").is_err());
        assert!(policy.set("admin_groups", &"x".repeat(65)).is_err());
        assert!(
            policy.admin_groups.is_empty(),
            "a refused change changes nothing"
        );
        let json = serde_json::json!({ "admin_groups": [" padded "] });
        let read: Policy = serde_json::from_value(json).unwrap_or_default();
        assert!(read.validate().is_err(), "as the admin API would send it");
    }
}
