//! Storage for methods a person holds one of, replaced as a whole (a new set of recovery
//! codes, new answers to security questions), and the single use of recovery codes.

use super::StoreResult;
use crate::audit::AuditEvent;
use crate::ids::MethodId;
use crate::message::Message;
use crate::method::Method;
use async_trait::async_trait;
use time::OffsetDateTime;

#[async_trait]
pub trait RecoveryCodeStore: Send + Sync {
    /// In one transaction: inserts `method`, deletes the account's other methods of its kind
    /// (the account's default moves to `method` when it was one of them), and writes `audit`
    /// and `notes`. Returns the ids deleted.
    async fn replace_methods_of_kind(
        &self,
        method: &Method,
        audit: &AuditEvent,
        notes: &[Message],
    ) -> StoreResult<Vec<MethodId>>;

    /// Marks the code `bit` of a recovery code set used, clears the failure count and
    /// records the use, with `audit` and `notes`, only if that code was unused. False
    /// (nothing changed) when it was used already.
    async fn use_recovery_code(
        &self,
        method: MethodId,
        bit: i64,
        now: OffsetDateTime,
        audit: &AuditEvent,
        notes: &[Message],
    ) -> StoreResult<bool>;
}
