//! Forward authentication on [`Tessera`]: the admin's rule operations, the proxy's check of
//! every request, and the start page's decision for a signed-in person.

use super::cache::{Revalidation, SignedIn};
use super::{DomainPattern, Level, PathPattern, Proven, Requested, Rule, Verdict, decide};
use crate::account::AccountStatus;
use crate::admin::Admin;
use crate::audit::{AuditAction, RequestContext};
use crate::error::{Error, Problem, Result};
use crate::ids::ForwardAuthRuleId;
use crate::oidc::{Acr, acr_for};
use crate::policy::Policy;
use crate::secret;
use crate::service::{Auth, Tessera};
use crate::session::{Session, SessionKind};
use crate::store::forward_auth::{ForwardAuthSession, StoredRule};
use serde_json::json;
use std::sync::Arc;
use time::Duration;
use zeroize::Zeroizing;

pub use crate::groups::ADMIN_GROUP;
/// How many domains, paths or groups one rule may name.
pub const LIST_MAX: usize = 50;
/// The longest group name.
pub const GROUP_MAX: usize = 64;
/// The shortest and longest `max_age` (a minute; a month).
pub const MAX_AGE_SECS: (u64, u64) = (60, 30 * 86_400);
/// A session in use through a protected site is touched this often, as Tessera's own pages
/// touch it, so it does not go idle while the person works there.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// A rule as an admin writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewRule {
    pub domains: Vec<String>,
    pub paths: Vec<String>,
    pub level: String,
    pub groups: Vec<String>,
    pub max_age_secs: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("a rule names at least one domain")]
    NoDomain,
    #[error("not a domain or `*.` and a domain: {0:?}")]
    Domain(String),
    #[error("not a path or a path ending in `*`: {0:?}")]
    Path(String),
    #[error("not a level (bypass, one_factor, two_factor, phishing_resistant): {0:?}")]
    Level(String),
    #[error("a group name is 1 to {GROUP_MAX} characters, without commas: {0:?}")]
    Group(String),
    #[error("at most {LIST_MAX} in a list")]
    TooMany { field: &'static str },
    #[error("max_age is {} to {} seconds", MAX_AGE_SECS.0, MAX_AGE_SECS.1)]
    MaxAge,
    #[error("a bypass rule lets everyone in: it has no groups and no max_age")]
    BypassWithConditions,
}

impl From<RuleError> for Error {
    fn from(e: RuleError) -> Error {
        match e {
            RuleError::NoDomain => Error::bad("domains", Problem::Required),
            RuleError::Domain(_) => Error::bad("domains", Problem::Invalid),
            RuleError::Path(_) => Error::bad("paths", Problem::Invalid),
            RuleError::Level(_) => Error::bad("level", Problem::Invalid),
            RuleError::Group(_) => Error::bad("groups", Problem::Invalid),
            RuleError::TooMany { field } => Error::bad(field, Problem::TooLong { max: LIST_MAX }),
            RuleError::MaxAge => Error::bad("max_age_secs", Problem::Invalid),
            RuleError::BypassWithConditions => Error::bad("level", Problem::Invalid),
        }
    }
}

impl NewRule {
    pub fn validate(&self) -> std::result::Result<Rule, RuleError> {
        for (field, len) in [
            ("domains", self.domains.len()),
            ("paths", self.paths.len()),
            ("groups", self.groups.len()),
        ] {
            if len > LIST_MAX {
                return Err(RuleError::TooMany { field });
            }
        }
        let mut domains: Vec<DomainPattern> = Vec::new();
        for d in self.domains.iter().filter(|d| !d.trim().is_empty()) {
            let parsed = DomainPattern::parse(d).ok_or_else(|| RuleError::Domain(d.clone()))?;
            if !domains.contains(&parsed) {
                domains.push(parsed);
            }
        }
        if domains.is_empty() {
            return Err(RuleError::NoDomain);
        }
        let mut paths: Vec<PathPattern> = Vec::new();
        for p in self.paths.iter().filter(|p| !p.trim().is_empty()) {
            let parsed = PathPattern::parse(p).ok_or_else(|| RuleError::Path(p.clone()))?;
            if !paths.contains(&parsed) {
                paths.push(parsed);
            }
        }
        let level =
            Level::parse(self.level.trim()).ok_or_else(|| RuleError::Level(self.level.clone()))?;
        let mut groups: Vec<String> = Vec::new();
        for g in self
            .groups
            .iter()
            .map(|g| g.trim())
            .filter(|g| !g.is_empty())
        {
            let fits =
                g.chars().count() <= GROUP_MAX && !g.chars().any(|c| c == ',' || c.is_control());
            if !fits {
                return Err(RuleError::Group(g.to_string()));
            }
            if !groups.iter().any(|x| x == g) {
                groups.push(g.to_string());
            }
        }
        let max_age = match self.max_age_secs {
            None => None,
            Some(s) if (MAX_AGE_SECS.0..=MAX_AGE_SECS.1).contains(&s) => {
                Some(Duration::seconds(s as i64))
            }
            Some(_) => return Err(RuleError::MaxAge),
        };
        if level == Level::Bypass && (!groups.is_empty() || max_age.is_some()) {
            return Err(RuleError::BypassWithConditions);
        }
        Ok(Rule {
            domains,
            paths,
            level,
            groups,
            max_age,
        })
    }
}

/// Who the proxy lets through, in the headers it passes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUser {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
}

/// The answer to the proxy, and whom it lets through (`None` for a bypass without a
/// session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub verdict: Verdict,
    pub user: Option<RemoteUser>,
}

/// What the start page does for a person who came from a protected site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// Back to the site with a new forward-auth cookie (none for a bypass rule without a
    /// session).
    Return { token: Option<Zeroizing<String>> },
    /// Not signed in (or only half): the sign-in pages first.
    SignIn,
    /// Signed in, but the rule asks for a fresher or stronger second factor.
    StepUp { level: Level },
    /// This person may not, or no rule protects the URL.
    Forbidden,
}

/// What a full session proved; a session that recorded a second factor without its kind
/// (from before kinds were recorded) counts as two-step, as the ID token says.
fn proven(session: &Session, groups: &[String]) -> Proven {
    let acr = match (session.second_factor_at, session.second_factor_kind) {
        (Some(_), kind @ Some(_)) => acr_for(kind),
        (Some(_), None) => Some(Acr::TwoStep),
        (None, _) => None,
    };
    Proven {
        acr,
        second_factor_at: session.second_factor_at,
        groups: groups.to_vec(),
    }
}

impl Admin<'_> {
    pub async fn forward_auth_rules(&self) -> Result<Vec<StoredRule>> {
        Ok(self.tessera().store.forward_auth_rules().await?)
    }

    /// Adds a rule before the one at `position` (from 0), or at the end.
    pub async fn create_forward_auth_rule(
        &self,
        new: &NewRule,
        position: Option<u32>,
    ) -> Result<StoredRule> {
        let t = self.tessera();
        let stored = StoredRule {
            id: ForwardAuthRuleId::new(t.rng.as_ref()),
            rule: new.validate()?,
            created_at: t.now(),
        };
        let audit = self.audit_about(
            AuditAction::ForwardAuthRuleCreated,
            json!({ "rule": stored.id.to_string(), "domains": stored.rule.domains,
                    "level": stored.rule.level }),
        );
        t.store
            .insert_forward_auth_rule(&stored, position, &audit)
            .await?;
        t.forward_auth_rules_changed();
        Ok(stored)
    }

    pub async fn update_forward_auth_rule(
        &self,
        id: ForwardAuthRuleId,
        new: &NewRule,
    ) -> Result<StoredRule> {
        let t = self.tessera();
        let rule = new.validate()?;
        let old = t
            .store
            .forward_auth_rules()
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(Error::NotFound)?;
        let stored = StoredRule { rule, ..old };
        let audit = self.audit_about(
            AuditAction::ForwardAuthRuleChanged,
            json!({ "rule": id.to_string(), "domains": stored.rule.domains,
                    "level": stored.rule.level }),
        );
        if !t.store.update_forward_auth_rule(&stored, &audit).await? {
            return Err(Error::NotFound);
        }
        t.forward_auth_rules_changed();
        Ok(stored)
    }

    /// Moves the rule to `position` (from 0; past the end is the end), the others keeping
    /// their order. Audited as a change, with the place asked for.
    pub async fn move_forward_auth_rule(&self, id: ForwardAuthRuleId, position: u32) -> Result<()> {
        let audit = self.audit_about(
            AuditAction::ForwardAuthRuleChanged,
            json!({ "rule": id.to_string(), "position": position }),
        );
        match self
            .tessera()
            .store
            .move_forward_auth_rule(id, position, &audit)
            .await?
        {
            true => {
                self.tessera().forward_auth_rules_changed();
                Ok(())
            }
            false => Err(Error::NotFound),
        }
    }

    pub async fn delete_forward_auth_rule(&self, id: ForwardAuthRuleId) -> Result<()> {
        let audit = self.audit_about(
            AuditAction::ForwardAuthRuleDeleted,
            json!({ "rule": id.to_string() }),
        );
        match self
            .tessera()
            .store
            .delete_forward_auth_rule(id, &audit)
            .await?
        {
            true => {
                self.tessera().forward_auth_rules_changed();
                Ok(())
            }
            false => Err(Error::NotFound),
        }
    }
}

impl Tessera {
    /// The domains a return URL may point to: every rule's.
    pub async fn forward_auth_domains(&self) -> Result<Vec<DomainPattern>> {
        let mut domains: Vec<DomainPattern> = Vec::new();
        for r in self.store.forward_auth_rules().await? {
            for d in r.rule.domains {
                if !domains.contains(&d) {
                    domains.push(d);
                }
            }
        }
        Ok(domains)
    }

    /// The rules changed on this node (an admin's operation): the next check reads them
    /// again. Other nodes read them within [`super::cache::FRESH_FOR`].
    pub fn forward_auth_rules_changed(&self) {
        self.forward_auth_cache.forget_rules();
    }

    /// The rules in order, from memory when read less than a second ago.
    async fn forward_auth_rule_set(&self) -> Result<Arc<Vec<Rule>>> {
        let now = self.now();
        let cache = &self.forward_auth_cache;
        if let Some(rules) = cache.rules(now) {
            return Ok(rules);
        }
        let generation = cache.rules_generation();
        let rules: Arc<Vec<Rule>> = Arc::new(
            self.store
                .forward_auth_rules()
                .await?
                .into_iter()
                .map(|r| r.rule)
                .collect(),
        );
        cache.put_rules(generation, now, Arc::clone(&rules));
        Ok(rules)
    }

    /// The proxy's question: may this request through, and as whom. `fa_token` is the
    /// forward-auth cookie's value, never a Tessera session token.
    ///
    /// In the steady state an allowed request reads and writes nothing: the rules, the
    /// session and the policy come from memory, the session is touched once a minute, and
    /// only denials are audited (the first access was, by the start page), once a minute per
    /// who and host ([`super::denials`]).
    pub async fn forward_auth_check(
        &self,
        requested: &Requested,
        fa_token: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<Checked> {
        let now = self.now();
        let rules = self.forward_auth_rule_set().await?;
        let policy = self.policy().await?;
        let signed_in = match fa_token {
            Some(token) => self.forward_auth_session(token, &policy).await?,
            None => None,
        };
        let proof = signed_in.as_ref().map(|s| proven(&s.session, &s.groups));
        let verdict = decide(
            &rules,
            requested,
            proof.as_ref(),
            policy.forward_auth_one_factor_allowed,
            now,
        );
        let denied = matches!(verdict, Verdict::Forbidden { .. } | Verdict::NoRule);
        let account = signed_in.as_ref().map(|s| s.account.id);
        if denied
            && let Some(repeated) =
                self.forward_auth_cache
                    .denials
                    .audit(account, ctx.ip, &requested.host, now)
        {
            let audit = self
                .audit(ctx, account, AuditAction::ForwardAuthDenied)
                .detail(json!({ "host": requested.host, "path": requested.path,
                                "rule": matches!(verdict, Verdict::Forbidden { .. }),
                                "repeated": repeated }));
            self.store.append_audit(&audit).await?;
        }
        let user = match (verdict, signed_in) {
            (Verdict::Allow { .. }, Some(s)) => Some(RemoteUser {
                username: s.account.username.clone(),
                display_name: s.account.display_name.clone(),
                email: s.account.email.clone(),
                groups: s.groups.clone(),
            }),
            _ => None,
        };
        Ok(Checked { verdict, user })
    }

    /// The full, current session and account a forward-auth token speaks for: from the
    /// cache while the store vouched for it within the second, judged on every check.
    async fn forward_auth_session(
        &self,
        token: &str,
        policy: &Policy,
    ) -> Result<Option<Arc<SignedIn>>> {
        let now = self.now();
        let hash = secret::token_hash(token);
        let cache = &self.forward_auth_cache;
        if let Some(asked) = cache.revalidation_due(now) {
            self.forward_auth_upkeep(&asked).await?;
        }
        let signed_in = match cache.session(&hash, now) {
            Some(cached) => cached,
            None => {
                let generation = cache.sessions_generation();
                let Some((session, token_expires_at)) =
                    self.store.forward_auth_session(&hash, now).await?
                else {
                    return Ok(None);
                };
                let Some(account) = self.store.account(session.account_id).await? else {
                    return Ok(None);
                };
                let password_change_required =
                    self.store.password_change_required(account.id).await?;
                // Read with the rest, so a cached check costs no group lookup.
                let groups = self.groups_of(&account).await?;
                let read = Arc::new(SignedIn {
                    session,
                    token_expires_at,
                    account,
                    password_change_required,
                    groups,
                });
                cache.put_session(generation, hash.clone(), now, Arc::clone(&read));
                read
            }
        };
        let session = &signed_in.session;
        if session.kind != SessionKind::Full
            || session.is_expired(now, Duration::seconds(policy.session_idle_secs as i64))
            || signed_in.account.status != AccountStatus::Active
            || signed_in.password_change_required
            || now >= signed_in.token_expires_at
        {
            return Ok(None);
        }
        if now - session.last_seen_at >= TOUCH_EVERY {
            cache.touch_later(&hash, now);
        }
        Ok(Some(signed_in))
    }

    /// Twice a second, in one check: the sessions that ended since the last question (on any
    /// node) leave the cache, the others are vouched for, and the sessions used since are
    /// touched, all in two statements however many people are signed in.
    async fn forward_auth_upkeep(&self, asked: &Revalidation) -> Result<()> {
        let cache = &self.forward_auth_cache;
        let answer = self
            .store
            .session_ends_since(asked.since.map(|(cursor, _)| cursor))
            .await;
        cache.revalidated(asked, answer.as_ref().ok());
        answer?;
        let touches = cache.take_touches();
        if !touches.is_empty() {
            self.store.touch_sessions(&touches).await?;
        }
        Ok(())
    }

    /// The start page's decision for a person sent from a protected site (`auth`: their
    /// Tessera session, if any). On [`Start::Return`] with a token, the forward-auth
    /// session is stored and the access audited.
    pub async fn forward_auth_start(
        &self,
        requested: &Requested,
        auth: Option<&Auth>,
        ctx: &RequestContext,
    ) -> Result<Start> {
        let now = self.now();
        let rules: Vec<Rule> = self
            .store
            .forward_auth_rules()
            .await?
            .into_iter()
            .map(|r| r.rule)
            .collect();
        let auth = auth.filter(|a| a.require_full().is_ok());
        let proof = auth.map(|a| proven(&a.session, &a.groups));
        let policy = self.policy().await?;
        let verdict = decide(
            &rules,
            requested,
            proof.as_ref(),
            policy.forward_auth_one_factor_allowed,
            now,
        );
        match (verdict, auth) {
            (Verdict::SignIn { .. }, _) => Ok(Start::SignIn),
            (Verdict::StepUp { level, .. }, _) => Ok(Start::StepUp { level }),
            (Verdict::Forbidden { .. } | Verdict::NoRule, _) => Ok(Start::Forbidden),
            (Verdict::Allow { .. }, None) => Ok(Start::Return { token: None }),
            (Verdict::Allow { .. }, Some(auth)) => {
                let token = secret::new_token(self.rng.as_ref());
                let row = ForwardAuthSession {
                    token_hash: secret::token_hash(&token),
                    session_id: auth.session.id,
                    created_at: now,
                    expires_at: auth.session.expires_at,
                };
                let audit = self
                    .audit(ctx, Some(auth.account.id), AuditAction::ForwardAuthAllowed)
                    .detail(json!({ "domain": requested.host }));
                self.store.insert_forward_auth_session(&row, &audit).await?;
                Ok(Start::Return { token: Some(token) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(domains: &[&str], level: &str) -> NewRule {
        NewRule {
            domains: domains.iter().map(|d| d.to_string()).collect(),
            level: level.into(),
            ..NewRule::default()
        }
    }

    #[test]
    fn a_rule_is_checked_field_by_field() {
        let rule = NewRule {
            paths: vec!["/admin/*".into(), " ".into(), "/admin/*".into()],
            groups: vec![" ops ".into(), "ops".into()],
            max_age_secs: Some(600),
            ..new(&["wiki.example.org", "WIKI.example.org", ""], "two_factor")
        }
        .validate()
        .unwrap();
        assert_eq!(rule.domains.len(), 1, "duplicates and blanks go");
        assert_eq!(rule.paths.len(), 1);
        assert_eq!(rule.groups, ["ops"]);
        assert_eq!(rule.max_age, Some(Duration::minutes(10)));

        let err = |r: NewRule| r.validate().unwrap_err();
        assert_eq!(err(new(&[], "two_factor")), RuleError::NoDomain);
        assert!(matches!(err(new(&["a/b"], "bypass")), RuleError::Domain(_)));
        assert!(matches!(
            err(new(&["x.org"], "strong")),
            RuleError::Level(_)
        ));
        let paths = NewRule {
            paths: vec!["admin".into()],
            ..new(&["x.org"], "two_factor")
        };
        assert!(matches!(err(paths), RuleError::Path(_)));
        let groups = NewRule {
            groups: vec!["a,b".into()],
            ..new(&["x.org"], "two_factor")
        };
        assert!(matches!(err(groups), RuleError::Group(_)));
        let young = NewRule {
            max_age_secs: Some(59),
            ..new(&["x.org"], "two_factor")
        };
        assert_eq!(err(young), RuleError::MaxAge);
        let open_to_a_group = NewRule {
            groups: vec!["ops".into()],
            ..new(&["x.org"], "bypass")
        };
        assert_eq!(err(open_to_a_group), RuleError::BypassWithConditions);
        let many = NewRule {
            paths: (0..=LIST_MAX).map(|i| format!("/p{i}")).collect(),
            ..new(&["x.org"], "two_factor")
        };
        assert_eq!(err(many), RuleError::TooMany { field: "paths" });
        assert!(matches!(
            Error::from(RuleError::MaxAge),
            Error::BadRequest {
                field: "max_age_secs",
                ..
            }
        ));
    }
}
