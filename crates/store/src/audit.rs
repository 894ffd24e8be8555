//! The audit log, append-only.

use async_trait::async_trait;
use sqlx::{Any, Executor};
use tessera_core::AccountId;
use tessera_core::audit::AuditEvent;
use tessera_core::store::StoreResult;
use tessera_core::store::audit::AuditStore;

use crate::rows::{AuditRow, secs};
use crate::{SqlStore, db_err};

pub(crate) const INSERT: &str = "INSERT INTO audit_events \
     (id, at, account_id, action, method_id, ip, user_agent, detail) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// `seq` breaks ties within a second in the order the events were written.
const OF_ACCOUNT: &str = "SELECT id, at, account_id, action, method_id, ip, user_agent, detail \
     FROM audit_events WHERE account_id = $1 ORDER BY at DESC, seq DESC LIMIT $2";

#[async_trait]
impl AuditStore for SqlStore {
    async fn append_audit(&self, event: &AuditEvent) -> StoreResult<()> {
        insert(self.writer(), event).await
    }

    async fn audit_of(&self, account: AccountId, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        sqlx::query_as::<_, AuditRow>(OF_ACCOUNT)
            .bind(account.to_string())
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(AuditEvent::try_from)
            .collect()
    }
}

/// Appends one event, on the pool or inside the caller's transaction.
pub(crate) async fn insert<'c, E>(exec: E, event: &AuditEvent) -> StoreResult<()>
where
    E: Executor<'c, Database = Any>,
{
    bind(sqlx::query(INSERT), event)
        .execute(exec)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// The columns [`bind`] binds, in its order.
const COLUMNS: &str = "id, at, account_id, action, method_id, ip, user_agent, detail";

/// An `INSERT` of `events` events bound by [`bind`] from `$first` on, as a part of a `WITH`
/// statement; with `after`, only when the part of that name returned a row (the change the
/// events tell of).
pub(crate) fn insert_sql(first: usize, events: usize, after: Option<&str>) -> String {
    let only = after
        .map(|part| format!(" WHERE EXISTS (SELECT 1 FROM {part})"))
        .unwrap_or_default();
    format!(
        "INSERT INTO audit_events ({COLUMNS}) SELECT * FROM (VALUES {}) v{only}",
        placeholders(first, events)
    )
}

/// `VALUES`' rows for `events` events bound by [`bind`], their parameters from `$first` on:
/// `($1, …, $8), ($9, …, $16)`.
fn placeholders(first: usize, events: usize) -> String {
    let rows: Vec<String> = (0..events)
        .map(|e| {
            let row: Vec<String> = (0..8).map(|c| format!("${}", first + e * 8 + c)).collect();
            format!("({})", row.join(", "))
        })
        .collect();
    rows.join(", ")
}

pub(crate) type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>;

/// The event's eight columns, in `INSERT`'s order.
pub(crate) fn bind<'q>(query: AnyQuery<'q>, event: &'q AuditEvent) -> AnyQuery<'q> {
    query
        .bind(event.id.to_string())
        .bind(secs(event.at))
        .bind(event.account_id.map(|id| id.to_string()))
        .bind(event.action.as_str())
        .bind(event.method_id.map(|id| id.to_string()))
        .bind(event.ip.as_deref())
        .bind(event.user_agent.as_deref())
        .bind(event.detail.to_string())
}

/// Appends `events` in one statement inside the caller's transaction: on PostgreSQL each
/// statement is a round trip, and an acceptance writes two or three events.
pub(crate) async fn insert_all(
    conn: &mut sqlx::AnyConnection,
    events: &[AuditEvent],
) -> StoreResult<()> {
    let [first, rest @ ..] = events else {
        return Ok(());
    };
    if rest.is_empty() {
        return insert(&mut *conn, first).await;
    }
    let sql = format!(
        "INSERT INTO audit_events ({COLUMNS}) VALUES {}",
        placeholders(1, events.len())
    );
    let query = events
        .iter()
        .fold(sqlx::query(sqlx::AssertSqlSafe(sql)), bind);
    query.execute(&mut *conn).await.map_err(db_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{insert_sql, placeholders};

    #[test]
    fn placeholders_number_eight_parameters_per_event_from_the_first() {
        assert_eq!(
            placeholders(1, 2),
            "($1, $2, $3, $4, $5, $6, $7, $8), ($9, $10, $11, $12, $13, $14, $15, $16)"
        );
        assert_eq!(placeholders(8, 1), "($8, $9, $10, $11, $12, $13, $14, $15)");
        assert_eq!(placeholders(5, 0), "");
    }

    #[test]
    fn an_insert_in_a_statement_waits_for_its_part_when_told() {
        assert_eq!(
            insert_sql(4, 1, None),
            "INSERT INTO audit_events (id, at, account_id, action, method_id, ip, user_agent, \
             detail) SELECT * FROM (VALUES ($4, $5, $6, $7, $8, $9, $10, $11)) v"
        );
        assert!(
            insert_sql(5, 1, Some("counted")).ends_with(" v WHERE EXISTS (SELECT 1 FROM counted)")
        );
    }
}
