//! Keeping directory accounts in step with the directory (issue #19, `tessera directory sync`
//! and the server's periodic sync; docs/design/directory.md). For every directory account:
//! the person gone from the directory, or disabled there, disables the account and ends every
//! session, through the same path an admin uses, audited `by: directory`; a person still there
//! has their username, display name and groups brought up to date. An account the sync
//! disabled (and only the sync: the newest `account_disabled` event says `by: directory`) is
//! enabled again when the person is back or enabled again in the directory; one an admin
//! disabled stays disabled. Accounts are created by the first sign-in, by the sync only when
//! asked (`create`). Local accounts are never touched.
//!
//! Safety: nothing is changed unless the directory answered the whole listing (the adapter
//! reads it in pages and fails rather than return part of it), and a listing with nobody in
//! it while Tessera has directory accounts is refused unless `allow_empty`: a wrong base DN or
//! a broken filter must not disable everyone. Running it twice, or on two nodes at once,
//! does the same thing once: every change is "make it so".

use super::Admin;
use crate::account::{Account, AccountStatus, normalize_username};
use crate::audit::{AuditAction, RequestContext};
use crate::directory::{Directory, DirectoryError, DirectoryPerson};
use crate::error::{Error, StoreError};
use crate::flow::directory::directory_account;
use crate::ids::AccountId;
use crate::service::Tessera;
use crate::store::admin::{AuditFilter, AuditPage};
use crate::store::directory::{DirectoryAccount, normalized_groups};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// Who the audit events of the sync name (`detail.by`).
pub const ACTOR: &str = "directory";

#[derive(Debug, Clone, Copy, Default)]
pub struct SyncOptions {
    /// Work out and report the changes, make none.
    pub dry_run: bool,
    /// Create accounts for people who have not signed in yet.
    pub create: bool,
    /// Go on when the directory lists nobody although Tessera has directory accounts
    /// (every one of them is then disabled).
    pub allow_empty: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncOutcome {
    Created,
    Updated,
    Disabled,
    Reenabled,
    /// Not changed, for a reason worth a line (a clash with a local account, a name taken).
    Skipped,
}

/// One change (or, in a dry run, one that would be made), with why, in English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncChange {
    pub username: String,
    pub outcome: SyncOutcome,
    pub detail: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub dry_run: bool,
    /// People the directory listed.
    pub people: usize,
    /// Directory accounts Tessera had before the sync.
    pub accounts: usize,
    pub created: usize,
    pub updated: usize,
    pub disabled: usize,
    pub reenabled: usize,
    pub unchanged: usize,
    pub skipped: usize,
    /// People with no account yet: the first sign-in creates it (or `create`).
    pub not_signed_in: usize,
    pub changes: Vec<SyncChange>,
}

impl SyncReport {
    fn record(&mut self, username: &str, outcome: SyncOutcome, detail: impl Into<String>) {
        match outcome {
            SyncOutcome::Created => self.created += 1,
            SyncOutcome::Updated => self.updated += 1,
            SyncOutcome::Disabled => self.disabled += 1,
            SyncOutcome::Reenabled => self.reenabled += 1,
            SyncOutcome::Skipped => self.skipped += 1,
        }
        self.changes.push(SyncChange {
            username: username.to_string(),
            outcome,
            detail: detail.into(),
        });
    }

    pub fn changed(&self) -> usize {
        self.created + self.updated + self.disabled + self.reenabled
    }
}

/// How far the sync is, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncProgress {
    /// The directory answered: this many steps follow (people and accounts to look at).
    Listed { steps: usize },
    /// One more step done.
    Step,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the directory cannot be reached ({0}); nothing was changed")]
    Unavailable(String),
    #[error("the directory refused to list the people ({0}); nothing was changed")]
    Refused(String),
    #[error(
        "the directory lists nobody under the user base and filter, but Tessera has {0} \
         directory account(s); nothing was changed (check user_base and user_filter; to \
         disable them all, pass --allow-empty)"
    )]
    Empty(usize),
    #[error(transparent)]
    Tessera(#[from] Error),
}

impl From<StoreError> for SyncError {
    fn from(e: StoreError) -> Self {
        SyncError::Tessera(e.into())
    }
}

/// What the sync decided for one person or account, before doing it.
enum Plan {
    Disable(Account, &'static str),
    Enable(Account, DirectoryAccount),
    /// With whether the groups changed.
    Update(Account, DirectoryAccount, bool),
    Create(DirectoryAccount),
}

impl Tessera {
    /// Brings directory accounts in step with `directory` (see the module's header).
    pub async fn sync_directory(
        &self,
        directory: &dyn Directory,
        options: SyncOptions,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> Result<SyncReport, SyncError> {
        let admin = Admin {
            tessera: self,
            actor: None,
            system: ACTOR,
            ctx: RequestContext::default(),
        };
        admin.sync(directory, options, progress).await
    }
}

impl Admin<'_> {
    async fn sync(
        &self,
        directory: &dyn Directory,
        options: SyncOptions,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> Result<SyncReport, SyncError> {
        let store = &self.tessera.store;
        let people = match directory.people().await {
            Ok(people) => people,
            Err(DirectoryError::Unavailable(why)) => return Err(SyncError::Unavailable(why)),
            Err(DirectoryError::Refused { reason }) => return Err(SyncError::Refused(reason)),
            Err(e) => return Err(SyncError::Refused(e.to_string())),
        };
        let accounts = store.directory_accounts().await?;
        if people.is_empty() && !accounts.is_empty() && !options.allow_empty {
            return Err(SyncError::Empty(accounts.len()));
        }
        let mut report = SyncReport {
            dry_run: options.dry_run,
            people: people.len(),
            accounts: accounts.len(),
            ..SyncReport::default()
        };
        let by_id: HashMap<&str, &Account> = accounts
            .iter()
            .filter_map(|a| a.external_id.as_deref().map(|id| (id, a)))
            .collect();
        let by_name: HashMap<&str, &Account> =
            accounts.iter().map(|a| (a.username.as_str(), a)).collect();
        let mut seen: HashSet<AccountId> = HashSet::new();
        let mut plans = Vec::new();
        for person in &people {
            let Ok(username) = normalize_username(&person.username) else {
                report.record(
                    &person.username,
                    SyncOutcome::Skipped,
                    "the directory's username is not a valid Tessera username",
                );
                continue;
            };
            let account = match person.external_id.as_deref() {
                Some(id) => by_id.get(id).copied().or_else(|| {
                    // Linked by name until now (signed in before the id was read).
                    by_name
                        .get(username.as_str())
                        .copied()
                        .filter(|a| a.external_id.is_none())
                }),
                None => by_name.get(username.as_str()).copied(),
            };
            if let Some(account) = account {
                seen.insert(account.id);
            }
            let entry = directory_account(person, &username);
            match self
                .plan(person, account, entry, options, &mut report)
                .await?
            {
                Some(plan) => plans.push(plan),
                None if account.is_some() => report.unchanged += 1,
                None => {}
            }
        }
        // Accounts whose person the directory no longer lists.
        for account in &accounts {
            if seen.contains(&account.id) {
                continue;
            }
            if account.status == AccountStatus::Active {
                plans.push(Plan::Disable(account.clone(), "removed from the directory"));
            } else {
                report.unchanged += 1;
            }
        }
        // Disabling first: a rename may need the name of a person who left.
        plans.sort_by_key(|p| match p {
            Plan::Disable(..) => 0,
            _ => 1,
        });
        progress(SyncProgress::Listed { steps: plans.len() });
        for plan in plans {
            self.apply(plan, options, &mut report).await?;
            progress(SyncProgress::Step);
        }
        Ok(report)
    }

    /// What to do for one person the directory lists; `None`: nothing.
    async fn plan(
        &self,
        person: &DirectoryPerson,
        account: Option<&Account>,
        entry: DirectoryAccount,
        options: SyncOptions,
        report: &mut SyncReport,
    ) -> Result<Option<Plan>, SyncError> {
        let store = &self.tessera.store;
        let Some(account) = account else {
            if person.disabled {
                return Ok(None);
            }
            if let Some(other) = store.account_by_username(&entry.username).await?
                && !other.is_directory()
            {
                report.record(
                    &entry.username,
                    SyncOutcome::Skipped,
                    "a local account has this username; the local account is kept and the \
                     directory person cannot sign in",
                );
                return Ok(None);
            }
            if options.create {
                return Ok(Some(Plan::Create(entry)));
            }
            report.not_signed_in += 1;
            return Ok(None);
        };
        if person.disabled {
            return Ok((account.status == AccountStatus::Active)
                .then(|| Plan::Disable(account.clone(), "disabled in the directory")));
        }
        if account.status == AccountStatus::Disabled {
            return Ok(if self.disabled_by_sync(account.id).await? {
                Some(Plan::Enable(account.clone(), entry))
            } else {
                None
            });
        }
        let groups_changed =
            store.account_groups(account.id).await? != normalized_groups(&entry.groups);
        let same = account.username == entry.username
            && account.display_name == entry.display_name
            && !groups_changed
            && (entry.external_id.is_none() || account.external_id == entry.external_id);
        Ok((!same).then(|| Plan::Update(account.clone(), entry, groups_changed)))
    }

    /// Whether the newest disabling of the account was the sync's: only those are undone.
    async fn disabled_by_sync(&self, account: AccountId) -> Result<bool, SyncError> {
        let filter = AuditFilter {
            account: Some(account),
            action: Some(AuditAction::AccountDisabled),
            ..AuditFilter::default()
        };
        let newest = self
            .tessera
            .store
            .audit_page(&filter, AuditPage::NewestFirst { before: None }, 1)
            .await?;
        Ok(newest
            .first()
            .is_some_and(|e| e.event.detail.get("by").and_then(|b| b.as_str()) == Some(ACTOR)))
    }

    async fn apply(
        &self,
        plan: Plan,
        options: SyncOptions,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let dry = options.dry_run;
        match plan {
            Plan::Disable(account, why) => {
                if !dry {
                    let detail = serde_json::json!({ "reason": why });
                    self.apply_status_with(account.clone(), AccountStatus::Disabled, detail)
                        .await?;
                }
                report.record(
                    &account.username,
                    SyncOutcome::Disabled,
                    format!("{why}: account disabled, every session ended"),
                );
            }
            Plan::Enable(account, entry) => {
                if !dry {
                    let detail = serde_json::json!({ "reason": "enabled in the directory" });
                    self.apply_status_with(account.clone(), AccountStatus::Active, detail)
                        .await?;
                    if let Err(why) = self.upsert(&entry).await? {
                        report.record(&entry.username, SyncOutcome::Skipped, why);
                    }
                }
                report.record(
                    &entry.username,
                    SyncOutcome::Reenabled,
                    "enabled in the directory again: the account the sync had disabled is \
                     enabled",
                );
            }
            Plan::Update(account, entry, groups_changed) => {
                let what = changed(&account, &entry, groups_changed);
                match dry {
                    true => report.record(&entry.username, SyncOutcome::Updated, what),
                    false => match self.upsert(&entry).await? {
                        Ok(_) => report.record(&entry.username, SyncOutcome::Updated, what),
                        Err(why) => report.record(&entry.username, SyncOutcome::Skipped, why),
                    },
                }
            }
            Plan::Create(entry) => match dry {
                true => report.record(&entry.username, SyncOutcome::Created, "account created"),
                false => match self.upsert(&entry).await? {
                    Ok(_) => {
                        report.record(&entry.username, SyncOutcome::Created, "account created")
                    }
                    Err(why) => report.record(&entry.username, SyncOutcome::Skipped, why),
                },
            },
        }
        Ok(())
    }

    /// Writes the person's names and groups; a conflict is a line of the report, not a
    /// failure of the whole sync.
    async fn upsert(
        &self,
        entry: &DirectoryAccount,
    ) -> Result<Result<Account, &'static str>, SyncError> {
        let created = self.audit_with(
            None,
            AuditAction::AccountCreatedFromDirectory,
            serde_json::json!({
                "external_id": entry.external_id,
                "groups": entry.groups,
            }),
        );
        let t = self.tessera;
        match t
            .store
            .upsert_directory_account(entry, t.now(), &created)
            .await
        {
            Ok((account, _)) => Ok(Ok(account)),
            Err(StoreError::Conflict(what)) => Ok(Err(conflict(what))),
            Err(e) => Err(e.into()),
        }
    }
}

/// A store conflict as a line of the report.
fn conflict(what: &str) -> &'static str {
    use crate::store::directory::{LOCAL_ACCOUNT_CONFLICT, OTHER_ENTRY_CONFLICT};
    match what {
        LOCAL_ACCOUNT_CONFLICT => "a local account has this username; the local account is kept",
        OTHER_ENTRY_CONFLICT => {
            "a directory account of this username belongs to another directory entry; not \
             changed (remove or rename the old account)"
        }
        _ => "another account has this username; not changed",
    }
}

/// What an update changes, for its report line.
fn changed(account: &Account, entry: &DirectoryAccount, groups_changed: bool) -> String {
    let mut parts = Vec::new();
    if account.username != entry.username {
        parts.push(format!("renamed from {}", account.username));
    }
    if account.display_name != entry.display_name {
        parts.push(format!("display name now \"{}\"", entry.display_name));
    }
    if groups_changed {
        parts.push("groups updated".into());
    }
    if parts.is_empty() {
        parts.push("linked to its directory entry".into());
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests;
