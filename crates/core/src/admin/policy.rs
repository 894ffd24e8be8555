//! The admin's side of the policy beyond `KEY=VALUE` changes: replacing it whole (the admin
//! API and page), audited with the keys that changed.

use super::Admin;
use crate::audit::AuditAction;
use crate::error::Result;
use crate::policy::{Policy, PolicyError};

impl Admin<'_> {
    /// Validates and saves `next` as the policy; the audit event lists the keys that changed.
    /// A refused policy changes nothing.
    pub async fn replace_policy(&self, next: Policy) -> Result<Result<Policy, PolicyError>> {
        if let Err(e) = next.validate() {
            return Ok(Err(e));
        }
        let t = self.tessera();
        let current = t.store.policy().await?.unwrap_or_default();
        let changed = changed_keys(&current, &next);
        let mut audit = self.audit(None, AuditAction::PolicyChanged);
        audit.detail["changes"] = serde_json::json!(changed);
        t.store.save_policy(&next, &audit).await?;
        t.forget_policy();
        Ok(Ok(next))
    }
}

/// `key=value` for every key whose value differs, in the policy's order.
pub fn changed_keys(before: &Policy, after: &Policy) -> Vec<String> {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Vec::new();
    };
    b.iter()
        .filter(|(k, v)| a.get(*k) != Some(v))
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_keys_are_listed() {
        let before = Policy::default();
        let mut after = before.clone();
        after.reset_methods_required = 2;
        after.registration_required = false;
        let changed = changed_keys(&before, &after);
        assert_eq!(changed.len(), 2, "{changed:?}");
        assert!(changed.contains(&"reset_methods_required=2".to_string()));
    }
}
