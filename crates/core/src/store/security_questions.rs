//! Storage for the security questions an admin adds (the built-in ones live in code).

use super::StoreResult;
use crate::audit::AuditEvent;
use crate::method::security_questions::CustomQuestion;
use async_trait::async_trait;

#[async_trait]
pub trait SecurityQuestionStore: Send + Sync {
    /// Every question an admin added, retired ones too, oldest first.
    async fn custom_questions(&self) -> StoreResult<Vec<CustomQuestion>>;
    async fn insert_custom_question(
        &self,
        question: &CustomQuestion,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// Retires a question: nobody can choose it any more, but people who answered it keep
    /// their answer (and may be asked it). False when there is no such active question.
    async fn retire_custom_question(&self, id: &str, audit: &AuditEvent) -> StoreResult<bool>;
}
