//! The security questions an admin added; people's answers are method data.

use async_trait::async_trait;

use super::MemoryStore;
use super::rows::Stored;
use crate::audit::AuditEvent;
use crate::error::StoreError;
use crate::method::security_questions::CustomQuestion;
use crate::store::StoreResult;
use crate::store::security_questions::SecurityQuestionStore;

#[async_trait]
impl SecurityQuestionStore for MemoryStore {
    async fn custom_questions(&self) -> StoreResult<Vec<CustomQuestion>> {
        self.read(|s| {
            let mut questions: Vec<CustomQuestion> = s.custom_questions.values().cloned().collect();
            questions.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            questions
        })
    }

    async fn insert_custom_question(
        &self,
        question: &CustomQuestion,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        self.write(|s| {
            if s.custom_questions.contains_key(&question.id) {
                return Err(StoreError::Conflict("unique"));
            }
            s.check_audit([audit])?;
            // A new question is offered.
            let stored = CustomQuestion {
                retired: false,
                ..question.stored()
            };
            s.custom_questions.insert(question.id.clone(), stored);
            s.append_audit([audit]);
            Ok(())
        })
    }

    async fn retire_custom_question(&self, id: &str, audit: &AuditEvent) -> StoreResult<bool> {
        self.write(|s| {
            if s.custom_questions.get(id).is_none_or(|q| q.retired) {
                return Ok(false);
            }
            s.check_audit([audit])?;
            if let Some(q) = s.custom_questions.get_mut(id) {
                q.retired = true;
            }
            s.append_audit([audit]);
            Ok(true)
        })
    }
}
