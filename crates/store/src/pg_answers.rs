//! The answers to codes on PostgreSQL, each in one statement.
//!
//! Every statement is a round trip, and on PostgreSQL a round trip is most of what an answer
//! costs: a step-up verification was `BEGIN`, the method's `UPDATE`, the session's `UPDATE`,
//! the audit `INSERT` and `COMMIT`, each waited for in turn while the transaction held one
//! of the pool's connections. Here the same changes go in one statement of data-modifying
//! `WITH` queries, which PostgreSQL runs as one transaction of its own: all of it or none.
//!
//! The decisions are the same `WHERE`s as the transaction's (`lockout`), so PostgreSQL still
//! re-checks them against a rival's committed row, and exactly one of 64 parallel answers
//! goes ahead. What a statement cannot do is undo its own change when a later part finds
//! nothing to change, so an effect that must apply is made certain first: its row is locked
//! (`FOR UPDATE`) before the method's row is changed, and the method's row is changed only if
//! the lock found it. Only the shapes the hot path answers with are here (no effect, a
//! step-up's [`Effect::SecondFactor`], a sign-in's [`Effect::MoveFlow`] with the session it
//! inserts); the others (an activation, messages) keep the transaction.
//!
//! A wrong response to a sent code (its attempt reserved before it was checked) is one
//! statement too: `RECORD_FAILURE` with its audit event.
//!
//! Refusals (the rare path: a replay, a shut gate, a session gone) read the method's state
//! again in a second statement, as the transaction did.

use std::sync::LazyLock;

use sqlx::Row;
use tessera_core::MethodId;
use tessera_core::audit::AuditEvent;
use tessera_core::flow::effect::{Effect, FlowMove};
use tessera_core::method::Kind;
use tessera_core::store::{Acceptance, Accepted, Refused, StoreResult};
use time::OffsetDateTime;

use crate::audit::{self, AnyQuery, bind as bind_event};
use crate::lockout::{self, Refusal};
use crate::rows::{secs, secs_opt};
use crate::{SqlStore, db_err};

/// `BEGIN_ATTEMPT` and `RECORD_FAILURE` in one `UPDATE` (a statement changes a row once):
/// the failure is counted only through the gate, and the one reaching the threshold locks.
/// `SET`'s expressions all read the row as it was. The audit event goes in only with the
/// counted failure. Made once: it only joins constant parts.
static REFUSE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH counted AS (\
             UPDATE methods SET \
                 failures = CASE WHEN locked_until IS NULL THEN failures + 1 ELSE 1 END, \
                 locked_until = CASE \
                     WHEN (CASE WHEN locked_until IS NULL THEN failures + 1 ELSE 1 END) >= $3 \
                     THEN $4 END \
             WHERE id = $1 AND ((locked_until IS NULL AND failures < $3) OR locked_until <= $2) \
             RETURNING failures, locked_until\
         ), logged AS ({}) \
         SELECT failures, locked_until FROM counted",
        audit::insert_sql(5, 1, Some("counted"))
    )
});

/// `RECORD_FAILURE` (an attempt reserved before, by `begin_attempt`) with its audit event.
static RECORD_FAILURE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH failed AS ({}), logged AS ({}) SELECT failures, locked_until FROM failed",
        lockout::RECORD_FAILURE,
        audit::insert_sql(4, 1, None)
    )
});

/// The method's state after a refused acceptance, read afresh.
const STATE: &str = "SELECT failures, locked_until, last_step FROM methods WHERE id = $1";

/// What [`accept`] needs to answer this acceptance in one statement; `None` on SQLite, or
/// for effects it does not take (the caller then runs the transaction).
pub(crate) fn held<'a>(store: &SqlStore, acceptance: &Acceptance<'a>) -> Option<Held<'a>> {
    store
        .is_postgres()
        .then(|| Held::of(acceptance.effects))
        .flatten()
}

/// The row the acceptance's one effect must find, locked before the method's step is used.
pub(crate) enum Held<'a> {
    /// No effect.
    Nothing,
    /// A step-up: the session, marked.
    Session(String, OffsetDateTime, Kind),
    /// A sign-in: the flow, moved, with the session it inserts and the one it ends.
    Flow(&'a FlowMove),
}

impl Held<'_> {
    fn of(effects: &[Effect]) -> Option<Held<'_>> {
        match effects {
            [] => Some(Held::Nothing),
            [Effect::SecondFactor { session, at, kind }] => {
                Some(Held::Session(session.to_string(), *at, *kind))
            }
            [Effect::MoveFlow(change)] => Some(Held::Flow(change)),
            _ => None,
        }
    }

    /// `held`, the lock (no row: the effect would not apply), and what follows a used step;
    /// their parameters start at `$5`, and the audit events' at `$(first_event)`.
    fn sql(&self) -> (&'static str, &'static str, usize) {
        match self {
            Held::Nothing => ("SELECT 1 WHERE false", "", 5),
            Held::Session(..) => (
                "SELECT id FROM sessions WHERE id = $5 FOR UPDATE",
                ", marked AS (UPDATE sessions SET second_factor_at = $6, second_factor_kind = $7 \
                 WHERE id = $5 AND EXISTS (SELECT 1 FROM used))",
                8,
            ),
            // `MOVE_FLOW`'s condition and change, `INSERT_SESSION`'s columns.
            Held::Flow(_) => (
                "SELECT id FROM sign_in_flows WHERE id = $5 AND state = $6 \
                 AND ($8 IS NULL OR expires_at > $8) FOR UPDATE",
                ", moved AS (UPDATE sign_in_flows SET state = $7, \
                     expires_at = COALESCE($9, expires_at), \
                     approved_kind = COALESCE($10, approved_kind) \
                     WHERE id = $5 AND EXISTS (SELECT 1 FROM used)), \
                 born AS (INSERT INTO sessions (id, token_hash, account_id, kind, flow_id, \
                     created_at, expires_at, last_seen_at, second_factor_at, second_factor_kind) \
                     SELECT $11, $12, $13, $14, $15, $16, $17, $18, $19, $20 \
                     WHERE $11 IS NOT NULL AND EXISTS (SELECT 1 FROM used)), \
                 ended AS (DELETE FROM sessions WHERE id = $21 AND EXISTS (SELECT 1 FROM used))",
                22,
            ),
        }
    }

    fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        match self {
            Held::Nothing => query,
            Held::Session(id, at, kind) => query.bind(id).bind(secs(*at)).bind(kind.as_str()),
            Held::Flow(change) => {
                let born = change.session.as_ref();
                query
                    .bind(change.flow.to_string())
                    .bind(change.from.as_str())
                    .bind(change.to.as_str())
                    .bind(secs_opt(change.current_at))
                    .bind(secs_opt(change.expires_at))
                    .bind(change.approved_kind.map(|k| k.as_str()))
                    .bind(born.map(|s| s.id.to_string()))
                    .bind(born.map(|s| s.token_hash.as_slice()))
                    .bind(born.map(|s| s.account_id.to_string()))
                    .bind(born.map(|s| s.kind.as_str()))
                    .bind(born.and_then(|s| s.flow_id).map(|f| f.to_string()))
                    .bind(born.map(|s| secs(s.created_at)))
                    .bind(born.map(|s| secs(s.expires_at)))
                    .bind(born.map(|s| secs(s.last_seen_at)))
                    .bind(born.and_then(|s| secs_opt(s.second_factor_at)))
                    .bind(born.and_then(|s| s.second_factor_kind).map(|k| k.as_str()))
                    .bind(change.revoke.map(|id| id.to_string()))
            }
        }
    }
}

/// A wrong code: counted (and audited) through the gate, or refused at a shut gate.
pub(crate) async fn refuse(store: &SqlStore, refusal: &Refusal) -> StoreResult<Refused> {
    let id = refusal.method.to_string();
    let query = sqlx::query(sqlx::AssertSqlSafe(REFUSE.as_str()))
        .bind(&id)
        .bind(secs(refusal.now))
        .bind(i64::from(refusal.threshold))
        .bind(secs(refusal.lock_until));
    match failure(store, bind_event(query, &refusal.audit)).await? {
        Some(row) => Ok(Refused::Counted {
            locked_until: lockout::failure_lock(Some(row), refusal.threshold)?,
        }),
        None => lockout::shut(lockout::locked_until(store.pool(), &id).await?, refusal.now),
    }
}

/// Runs a statement ending in `RETURNING failures, locked_until`: the failure it counted.
async fn failure(store: &SqlStore, query: AnyQuery<'_>) -> StoreResult<Option<(i64, Option<i64>)>> {
    let Some(row) = query.fetch_optional(store.writer()).await.map_err(db_err)? else {
        return Ok(None);
    };
    Ok(Some((
        row.try_get(0).map_err(db_err)?,
        row.try_get(1).map_err(db_err)?,
    )))
}

/// A wrong response to an attempt reserved before: the lock it may set, and its event.
pub(crate) async fn record_failure(
    store: &SqlStore,
    id: MethodId,
    threshold: u32,
    lock_until: OffsetDateTime,
    event: &AuditEvent,
) -> StoreResult<Option<OffsetDateTime>> {
    let query = sqlx::query(sqlx::AssertSqlSafe(RECORD_FAILURE.as_str()))
        .bind(id.to_string())
        .bind(i64::from(threshold))
        .bind(secs(lock_until));
    let row = failure(store, bind_event(query, event)).await?;
    lockout::failure_lock(row, threshold)
}

/// A matching response with no effect, a step-up's or a sign-in's (see [`held`]).
pub(crate) async fn accept(
    store: &SqlStore,
    acceptance: &Acceptance<'_>,
    held: Held<'_>,
) -> StoreResult<Accepted> {
    let sql = accept_sql(&held, acceptance.audit.len());
    let query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(acceptance.method.to_string())
        .bind(acceptance.step)
        .bind(secs(acceptance.now))
        .bind(acceptance.gate.map(i64::from));
    let query = acceptance.audit.iter().fold(held.bind(query), bind_event);
    let row = query.fetch_one(store.writer()).await.map_err(db_err)?;
    let (changed, found): (i64, i64) = (
        row.try_get(0).map_err(db_err)?,
        row.try_get(1).map_err(db_err)?,
    );
    if changed > 0 {
        return Ok(Accepted::Yes);
    }
    let state: Option<(i64, Option<i64>, Option<i64>)> = sqlx::query_as(STATE)
        .bind(acceptance.method.to_string())
        .fetch_optional(store.pool())
        .await
        .map_err(db_err)?;
    let gone = !matches!(held, Held::Nothing) && found == 0;
    let step_unused = |last: Option<i64>| match (acceptance.step, last) {
        (Some(step), Some(last)) => last < step,
        _ => true,
    };
    // As the transaction answered: the effect's row matters only to a response the method
    // would have taken.
    let refused = lockout::refused(acceptance, state.map(|(f, l, _)| (f, l)))?;
    Ok(match (gone, state) {
        (true, Some((_, _, last))) if refused == Accepted::Replayed && step_unused(last) => {
            Accepted::Stale
        }
        _ => refused,
    })
}

/// `$1` method, `$2` step, `$3` now, `$4` the gate's threshold (none: no gate), then the
/// effect's (see [`Held::sql`]), then eight per audit event. The gate and the step are
/// `ACCEPT_GATED`'s.
fn accept_sql(held: &Held<'_>, events: usize) -> String {
    let (lock, then, first_event) = held.sql();
    let logged = match events {
        0 => String::new(),
        _ => format!(
            ", logged AS ({})",
            audit::insert_sql(first_event, events, Some("used"))
        ),
    };
    let needs_lock = if matches!(held, Held::Nothing) {
        ""
    } else {
        "AND EXISTS (SELECT 1 FROM held) "
    };
    format!(
        "WITH held AS ({lock}), \
         used AS (\
             UPDATE methods SET failures = 0, locked_until = NULL, last_used_at = $3, \
                 last_step = COALESCE($2, last_step) \
             WHERE id = $1 AND ($2 IS NULL OR last_step IS NULL OR last_step < $2) \
             AND ($4 IS NULL OR (locked_until IS NULL AND failures < $4) \
                  OR locked_until <= $3) \
             {needs_lock}RETURNING id\
         ){then}{logged} \
         SELECT (SELECT count(*) FROM used), (SELECT count(*) FROM held)"
    )
}
