//! Forward authentication's access rules and forward-auth sessions.

use async_trait::async_trait;
use tessera_core::ForwardAuthRuleId;
use tessera_core::SessionId;
use tessera_core::audit::AuditEvent;
use tessera_core::forward_auth::{DomainPattern, Level, PathPattern, Rule};
use tessera_core::session::Session;
use tessera_core::store::StoreResult;
use tessera_core::store::forward_auth::{
    EndsCursor, ForwardAuthSession, ForwardAuthStore, SessionEnds, StoredRule,
};
use time::{Duration, OffsetDateTime};

use crate::rows::{SessionRow, corrupt, id, secs, time, to_json};
use crate::{Dialect, SqlStore, audit, db_err};

const SELECT_RULES: &str = "SELECT id, domains, paths, allowed_groups, level, max_age_secs, \
     created_at FROM forward_auth_rules ORDER BY position";
/// Two inserts on PostgreSQL would pick the same position; SQLite's `BEGIN IMMEDIATE`
/// already runs one writer at a time.
const LOCK_RULES: &str = "LOCK TABLE forward_auth_rules IN EXCLUSIVE MODE";
const NTH_POSITION: &str =
    "SELECT position FROM forward_auth_rules ORDER BY position LIMIT 1 OFFSET $1";
const NEXT_POSITION: &str = "SELECT COALESCE(MAX(position), -1) + 1 FROM forward_auth_rules";
/// Moving the later rules up one in two steps through negative positions: a single
/// `position + 1` would collide with the unique index row by row on PostgreSQL.
const SHIFT_OUT: &str =
    "UPDATE forward_auth_rules SET position = -position - 1 WHERE position >= $1";
const SHIFT_BACK: &str = "UPDATE forward_auth_rules SET position = -position WHERE position < 0";
const INSERT_RULE: &str = "INSERT INTO forward_auth_rules \
     (id, position, domains, paths, allowed_groups, level, max_age_secs, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const UPDATE_RULE: &str = "UPDATE forward_auth_rules SET domains = $2, paths = $3, \
     allowed_groups = $4, level = $5, max_age_secs = $6 WHERE id = $1";
const SELECT_PLACES: &str = "SELECT id, position FROM forward_auth_rules ORDER BY position";
/// A moved rule and those between its old and new place trade positions in two steps, for
/// the unique index (as [`SHIFT_OUT`]): out to the negative, then back.
const PLACE_OUT: &str = "UPDATE forward_auth_rules SET position = $2 WHERE id = $1";
const PLACE_BACK: &str =
    "UPDATE forward_auth_rules SET position = -position - 1 WHERE position < 0";
const DELETE_RULE: &str = "DELETE FROM forward_auth_rules WHERE id = $1";
const SELECT_SESSION: &str = "SELECT s.id, s.token_hash, s.account_id, s.kind, s.flow_id, \
     s.created_at, s.expires_at, s.last_seen_at, s.second_factor_at, s.second_factor_kind \
     , f.expires_at AS token_expires_at \
     FROM forward_auth_sessions f JOIN sessions s ON s.id = f.session_id \
     WHERE f.token_hash = $1 AND f.expires_at > $2";
/// The ends after the cursor, and the next cursor (the last end visible), in one statement
/// so both come from one snapshot. SQLite has one writer at a time, so ends become visible
/// in `seq` order.
const ENDS_SQLITE: &str = "SELECT c.next, e.session_id \
     FROM (SELECT COALESCE(MAX(seq), 0) AS next FROM session_ends) c \
     LEFT JOIN session_ends e ON e.seq > $1 AND e.seq <= c.next";
/// On PostgreSQL the cursor is the oldest transaction still running under this statement's
/// snapshot: any end not visible now belongs to it or a later one (see the migration).
const ENDS_POSTGRES: &str = "SELECT c.next, e.session_id \
     FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::TEXT::BIGINT AS next) c \
     LEFT JOIN session_ends e ON e.xact >= ($1::BIGINT)::TEXT::xid8";
const INSERT_SESSION: &str = "INSERT INTO forward_auth_sessions \
     (token_hash, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)";

#[derive(sqlx::FromRow)]
struct TokenSessionRow {
    #[sqlx(flatten)]
    session: SessionRow,
    token_expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: String,
    domains: String,
    paths: String,
    allowed_groups: String,
    level: String,
    max_age_secs: Option<i64>,
    created_at: i64,
}

impl TryFrom<RuleRow> for StoredRule {
    type Error = tessera_core::StoreError;

    fn try_from(row: RuleRow) -> StoreResult<StoredRule> {
        let domains: Vec<DomainPattern> = serde_json::from_str(&row.domains)
            .map_err(|_| corrupt("forward_auth_rules.domains"))?;
        let paths: Vec<PathPattern> =
            serde_json::from_str(&row.paths).map_err(|_| corrupt("forward_auth_rules.paths"))?;
        let groups: Vec<String> = serde_json::from_str(&row.allowed_groups)
            .map_err(|_| corrupt("forward_auth_rules.allowed_groups"))?;
        Ok(StoredRule {
            id: id(&row.id, "forward_auth_rules.id")?,
            rule: Rule {
                domains,
                paths,
                level: Level::parse(&row.level).ok_or(corrupt("forward_auth_rules.level"))?,
                groups,
                max_age: row.max_age_secs.map(Duration::seconds),
            },
            created_at: time(row.created_at, "forward_auth_rules.created_at")?,
        })
    }
}

struct Columns {
    domains: String,
    paths: String,
    groups: String,
    max_age_secs: Option<i64>,
}

fn columns(rule: &Rule) -> StoreResult<Columns> {
    Ok(Columns {
        domains: to_json(&rule.domains)?,
        paths: to_json(&rule.paths)?,
        groups: to_json(&rule.groups)?,
        max_age_secs: rule.max_age.map(|d| d.whole_seconds()),
    })
}

#[async_trait]
impl ForwardAuthStore for SqlStore {
    async fn forward_auth_rules(&self) -> StoreResult<Vec<StoredRule>> {
        sqlx::query_as::<_, RuleRow>(SELECT_RULES)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(StoredRule::try_from)
            .collect()
    }

    async fn insert_forward_auth_rule(
        &self,
        rule: &StoredRule,
        position: Option<u32>,
        event: &AuditEvent,
    ) -> StoreResult<()> {
        let c = columns(&rule.rule)?;
        let mut tx = self.begin_write().await?;
        if self.dialect() == Dialect::Postgres {
            sqlx::query(LOCK_RULES)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        let before: Option<i64> = match position {
            Some(p) => sqlx::query_scalar(NTH_POSITION)
                .bind(i64::from(p))
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?,
            None => None,
        };
        let at = match before {
            Some(at) => {
                for shift in [SHIFT_OUT, SHIFT_BACK] {
                    sqlx::query(shift)
                        .bind(at)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                at
            }
            None => sqlx::query_scalar(NEXT_POSITION)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?,
        };
        sqlx::query(INSERT_RULE)
            .bind(rule.id.to_string())
            .bind(at)
            .bind(c.domains)
            .bind(c.paths)
            .bind(c.groups)
            .bind(rule.rule.level.as_str())
            .bind(c.max_age_secs)
            .bind(secs(rule.created_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn update_forward_auth_rule(
        &self,
        rule: &StoredRule,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let c = columns(&rule.rule)?;
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(UPDATE_RULE)
            .bind(rule.id.to_string())
            .bind(c.domains)
            .bind(c.paths)
            .bind(c.groups)
            .bind(rule.rule.level.as_str())
            .bind(c.max_age_secs)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if changed == 0 {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn move_forward_auth_rule(
        &self,
        rule: ForwardAuthRuleId,
        position: u32,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        if self.dialect() == Dialect::Postgres {
            sqlx::query(LOCK_RULES)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        let places: Vec<(String, i64)> = sqlx::query_as(SELECT_PLACES)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        let wanted = rule.to_string();
        let Some(from) = places.iter().position(|(id, _)| *id == wanted) else {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        };
        let mut order: Vec<&str> = places.iter().map(|(id, _)| id.as_str()).collect();
        let moved = order.remove(from);
        let to = (position as usize).min(order.len());
        order.insert(to, moved);
        // Only the rules from the old place to the new one change: they take the same
        // positions among themselves, so the rest keep theirs.
        for i in from.min(to)..=from.max(to) {
            sqlx::query(PLACE_OUT)
                .bind(order[i])
                .bind(-places[i].1 - 1)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        sqlx::query(PLACE_BACK)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn delete_forward_auth_rule(
        &self,
        rule: ForwardAuthRuleId,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query(DELETE_RULE)
            .bind(rule.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if deleted == 0 {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn forward_auth_session(
        &self,
        token_hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<Option<(Session, OffsetDateTime)>> {
        let Some(row) = sqlx::query_as::<_, TokenSessionRow>(SELECT_SESSION)
            .bind(token_hash)
            .bind(secs(now))
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?
        else {
            return Ok(None);
        };
        Ok(Some((
            Session::try_from(row.session)?,
            time(row.token_expires_at, "forward_auth_sessions.expires_at")?,
        )))
    }

    async fn session_ends_since(&self, since: Option<EndsCursor>) -> StoreResult<SessionEnds> {
        let sql = match self.dialect() {
            Dialect::Sqlite => ENDS_SQLITE,
            Dialect::Postgres => ENDS_POSTGRES,
        };
        // Without a cursor, only where to start: nothing is at or past the largest one.
        let from = since.map_or(i64::MAX, |c| c.0);
        let rows: Vec<(i64, Option<String>)> = sqlx::query_as(sql)
            .bind(from)
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?;
        let next = rows.first().map_or(from, |(next, _)| *next);
        let ended = rows
            .into_iter()
            .filter_map(|(_, id)| id)
            .map(|id| id.parse().map_err(|_| corrupt("session_ends.session_id")))
            .collect::<StoreResult<Vec<SessionId>>>()?;
        Ok(SessionEnds {
            ended,
            next: EndsCursor(next),
        })
    }

    async fn insert_forward_auth_session(
        &self,
        session: &ForwardAuthSession,
        event: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(INSERT_SESSION)
            .bind(session.token_hash.as_slice())
            .bind(session.session_id.to_string())
            .bind(secs(session.created_at))
            .bind(secs(session.expires_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)
    }
}
