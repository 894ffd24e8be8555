//! The forward-auth scenario: what a reverse proxy asks Tessera for every request of a
//! protected site (nginx's `auth_request`), with a signed-in person's forward-auth cookie.
//!
//! The seed adds a `two_factor` rule for the wiki's domain and one forward-auth session per
//! hot account, bound to that account's seeded session (signed in with a second factor), as
//! the start page would have made it.

use crate::load::{self, Step};
use crate::scenario::Target;
use crate::seed::HotAccount;
use anyhow::Result;
use std::sync::atomic::{AtomicU64, Ordering};
use tessera_core::audit::{AuditAction, AuditEvent, RequestContext};
use tessera_core::forward_auth::NewRule;
use tessera_core::ids::ForwardAuthRuleId;
use tessera_core::store::forward_auth::{ForwardAuthSession, ForwardAuthStore, StoredRule};
use tessera_core::{Clock, OsRandom, SystemClock, secret};
use tessera_store::SqlStore;
use time::Duration;

/// The protected site.
pub const DOMAIN: &str = "wiki.example.org";
/// The forward-auth cookie's name over plain http, as the bench's nodes serve.
const COOKIE: &str = "tessera_fa";
/// Sessions per transaction.
const BATCH: usize = 2_000;

/// Each hot account's forward-auth cookie, in the order of `Org::hot`.
pub struct ForwardAuthCookies {
    pub tokens: Vec<String>,
}

/// Adds the wiki's rule and one forward-auth session per hot account straight in the store,
/// as an admin's `create_forward_auth_rule` and the start page would.
pub async fn seed(store: &SqlStore, hot: &[HotAccount]) -> Result<ForwardAuthCookies> {
    let rng = OsRandom;
    let now = SystemClock.now();
    let audit = |action| AuditEvent::new(&rng, now, &RequestContext::default(), None, action);
    let rule = NewRule {
        domains: vec![DOMAIN.into()],
        level: "two_factor".into(),
        ..NewRule::default()
    }
    .validate()
    .map_err(|e| anyhow::anyhow!("the bench's rule: {e}"))?;
    let stored = StoredRule {
        id: ForwardAuthRuleId::new(&rng),
        rule,
        created_at: now,
    };
    store
        .insert_forward_auth_rule(&stored, None, &audit(AuditAction::ForwardAuthRuleCreated))
        .await
        .map_err(|e| anyhow::anyhow!("adding the bench's rule: {e:?}"))?;
    let mut tokens = Vec::with_capacity(hot.len());
    for chunk in hot.chunks(BATCH) {
        for h in chunk {
            let token = secret::new_token(&rng);
            let row = ForwardAuthSession {
                token_hash: secret::token_hash(&token),
                session_id: h.session_id,
                created_at: now,
                // As the seeded sessions (seed.rs): longer than any run.
                expires_at: now + Duration::hours(12),
            };
            store
                .insert_forward_auth_session(&row, &audit(AuditAction::ForwardAuthAllowed))
                .await
                .map_err(|e| anyhow::anyhow!("adding a forward-auth session: {e:?}"))?;
            tokens.push(token.to_string());
        }
    }
    Ok(ForwardAuthCookies { tokens })
}

/// The URL the proxy asks about for step `n`: a different page each time, so nothing can
/// be answered from the path alone.
pub fn page(n: u64) -> String {
    format!("https://{DOMAIN}/page/{n}")
}

/// One step: the next hot account's cookie, a page of the wiki, `200` expected.
pub async fn check_round(t: &Target, client: usize, cursor: &AtomicU64) -> Step {
    let tokens = &t.forward_auth.tokens;
    if tokens.is_empty() {
        return Step::Exhausted;
    }
    let n = cursor.fetch_add(1, Ordering::Relaxed);
    let token = &tokens[(n % tokens.len() as u64) as usize];
    let base = &t.nodes[client % t.nodes.len()];
    let req = t
        .client
        .get(format!("{base}/api/v1/authz/forward-auth"))
        .header("x-original-url", page(n))
        .header("cookie", format!("{COOKIE}={token}"));
    load::expect(req.send().await, 200).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_asks_about_another_page_of_the_rules_domain() {
        assert_eq!(page(7), "https://wiki.example.org/page/7");
        assert_ne!(page(1), page(2));
    }
}
