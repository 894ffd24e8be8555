//! The security questions an admin added (migration 0005); people's answers are method data.

use std::collections::BTreeMap;

use async_trait::async_trait;
use tessera_core::StoreError;
use tessera_core::audit::AuditEvent;
use tessera_core::method::security_questions::CustomQuestion;
use tessera_core::store::StoreResult;
use tessera_core::store::security_questions::SecurityQuestionStore;
use time::OffsetDateTime;

use crate::rows::{secs, to_json};
use crate::{SqlStore, audit, db_err};

const SELECT: &str = "SELECT id, texts, retired, created_at FROM security_questions \
     ORDER BY created_at, id";

const INSERT: &str =
    "INSERT INTO security_questions (id, texts, retired, created_at) VALUES ($1, $2, 0, $3)";

const RETIRE: &str = "UPDATE security_questions SET retired = 1 WHERE id = $1 AND retired = 0";

#[derive(sqlx::FromRow)]
struct QuestionRow {
    id: String,
    texts: String,
    retired: i64,
    created_at: i64,
}

impl TryFrom<QuestionRow> for CustomQuestion {
    type Error = StoreError;

    fn try_from(row: QuestionRow) -> StoreResult<CustomQuestion> {
        let texts: BTreeMap<String, String> = serde_json::from_str(&row.texts)
            .map_err(|_| StoreError::Corrupt("security_questions.texts"))?;
        Ok(CustomQuestion {
            id: row.id,
            texts,
            retired: row.retired != 0,
            created_at: OffsetDateTime::from_unix_timestamp(row.created_at)
                .map_err(|_| StoreError::Corrupt("security_questions.created_at"))?,
        })
    }
}

#[async_trait]
impl SecurityQuestionStore for SqlStore {
    async fn custom_questions(&self) -> StoreResult<Vec<CustomQuestion>> {
        sqlx::query_as::<_, QuestionRow>(SELECT)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(CustomQuestion::try_from)
            .collect()
    }

    async fn insert_custom_question(
        &self,
        question: &CustomQuestion,
        event: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(INSERT)
            .bind(question.id.as_str())
            .bind(to_json(&question.texts)?)
            .bind(secs(question.created_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn retire_custom_question(&self, id: &str, event: &AuditEvent) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let retired = sqlx::query(RETIRE)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if retired == 0 {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }
}
