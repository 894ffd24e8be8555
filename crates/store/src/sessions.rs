//! Sign-in flows and sessions, and the purge of both when they expire.

use tessera_core::audit::AuditEvent;
use tessera_core::flow::{FlowState, SignInFlow};
use tessera_core::method::MethodStatus;
use tessera_core::session::Session;
use tessera_core::store::StoreResult;
use tessera_core::{AccountId, FlowId, SessionId};
use time::OffsetDateTime;

use crate::rows::{FlowRow, SessionRow, secs, secs_opt};
use crate::{SqlStore, audit, db_err};

const INSERT_FLOW: &str = "INSERT INTO sign_in_flows (id, account_id, state, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5)";

const SELECT_FLOW: &str =
    "SELECT id, account_id, state, created_at, expires_at FROM sign_in_flows WHERE id = $1";

/// The flow's one way out: whoever moves it from `$2` wins, every rival changes no row.
const COMPLETE_FLOW: &str = "UPDATE sign_in_flows SET state = $3 WHERE id = $1 AND state = $2";

const INSERT_SESSION: &str = "INSERT INTO sessions \
     (id, token_hash, account_id, kind, flow_id, created_at, expires_at, last_seen_at, \
      second_factor_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

const SELECT_SESSION_BY_HASH: &str = "SELECT id, token_hash, account_id, kind, flow_id, \
     created_at, expires_at, last_seen_at, second_factor_at FROM sessions WHERE token_hash = $1";

/// Requests of one session race; the latest time wins, never an older one.
const TOUCH_SESSION: &str =
    "UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2";

const MARK_SECOND_FACTOR: &str = "UPDATE sessions SET second_factor_at = $2 WHERE id = $1";

const DELETE_SESSION: &str = "DELETE FROM sessions WHERE id = $1";

const DELETE_SESSIONS_OF: &str = "DELETE FROM sessions WHERE account_id = $1";

const PURGE_FLOWS: &str = "DELETE FROM sign_in_flows WHERE expires_at <= $1";
const PURGE_SESSIONS: &str = "DELETE FROM sessions WHERE expires_at <= $1";
/// Challenges hold a code's MAC; a day after they lapse nothing reads them any more (the
/// cool-down and the send limits look back an hour at most).
const PURGE_CHALLENGES: &str = "DELETE FROM challenges WHERE expires_at <= $1";
/// Finished messages stay a month for "did the text go out?" (`tessera outbox`); their
/// payload was dropped when they finished.
const PURGE_OUTBOX: &str =
    "DELETE FROM outbox WHERE status IN ('sent', 'kept', 'failed') AND created_at <= $1";
const PURGE_PUSH_REQUESTS: &str = "DELETE FROM push_requests WHERE expires_at <= $1";
/// How long after they lapse challenges and push requests are kept.
const KEEP_LAPSED: i64 = 24 * 3600;
/// How long finished messages are kept.
const KEEP_MESSAGES: i64 = 30 * 24 * 3600;
const PURGE_PENDING_METHODS: &str =
    "DELETE FROM methods WHERE status = $2 AND expires_at IS NOT NULL AND expires_at <= $1";

pub(crate) async fn insert_flow(store: &SqlStore, flow: &SignInFlow) -> StoreResult<()> {
    sqlx::query(INSERT_FLOW)
        .bind(flow.id.to_string())
        .bind(flow.account_id.to_string())
        .bind(flow.state.as_str())
        .bind(secs(flow.created_at))
        .bind(secs(flow.expires_at))
        .execute(store.writer())
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn flow(store: &SqlStore, id: FlowId) -> StoreResult<Option<SignInFlow>> {
    sqlx::query_as::<_, FlowRow>(SELECT_FLOW)
        .bind(id.to_string())
        .fetch_optional(store.pool())
        .await
        .map_err(db_err)?
        .map(SignInFlow::try_from)
        .transpose()
}

pub(crate) async fn complete_flow(
    store: &SqlStore,
    id: FlowId,
    from: FlowState,
    session: &Session,
    revoke: Option<SessionId>,
    event: &AuditEvent,
) -> StoreResult<bool> {
    let mut tx = store.begin_write().await?;
    let moved = sqlx::query(COMPLETE_FLOW)
        .bind(id.to_string())
        .bind(from.as_str())
        .bind(FlowState::Completed.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
    if moved == 0 {
        tx.rollback().await.map_err(db_err)?;
        return Ok(false);
    }
    insert_session_on(&mut *tx, session).await?;
    if let Some(revoke) = revoke {
        sqlx::query(DELETE_SESSION)
            .bind(revoke.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    audit::insert(&mut *tx, event).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(true)
}

pub(crate) async fn insert_session_on<'c, E>(exec: E, session: &Session) -> StoreResult<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(INSERT_SESSION)
        .bind(session.id.to_string())
        .bind(session.token_hash.as_slice())
        .bind(session.account_id.to_string())
        .bind(session.kind.as_str())
        .bind(session.flow_id.map(|f| f.to_string()))
        .bind(secs(session.created_at))
        .bind(secs(session.expires_at))
        .bind(secs(session.last_seen_at))
        .bind(secs_opt(session.second_factor_at))
        .execute(exec)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn insert_session(store: &SqlStore, session: &Session) -> StoreResult<()> {
    insert_session_on(store.writer(), session).await
}

pub(crate) async fn session_by_token_hash(
    store: &SqlStore,
    hash: &[u8],
) -> StoreResult<Option<Session>> {
    sqlx::query_as::<_, SessionRow>(SELECT_SESSION_BY_HASH)
        .bind(hash)
        .fetch_optional(store.pool())
        .await
        .map_err(db_err)?
        .map(Session::try_from)
        .transpose()
}

pub(crate) async fn touch_session(
    store: &SqlStore,
    id: SessionId,
    now: OffsetDateTime,
) -> StoreResult<()> {
    sqlx::query(TOUCH_SESSION)
        .bind(id.to_string())
        .bind(secs(now))
        .execute(store.writer())
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Inside a caller's transaction: a step-up records its code and the session in one commit.
pub(crate) async fn mark_second_factor_in<'c, E>(
    exec: E,
    id: SessionId,
    at: OffsetDateTime,
) -> StoreResult<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(MARK_SECOND_FACTOR)
        .bind(id.to_string())
        .bind(secs(at))
        .execute(exec)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn mark_second_factor(
    store: &SqlStore,
    id: SessionId,
    at: OffsetDateTime,
) -> StoreResult<()> {
    mark_second_factor_in(store.writer(), id, at).await
}

pub(crate) async fn delete_session(
    store: &SqlStore,
    id: SessionId,
    event: Option<&AuditEvent>,
) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    sqlx::query(DELETE_SESSION)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    if let Some(event) = event {
        audit::insert(&mut *tx, event).await?;
    }
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn delete_sessions_of(
    store: &SqlStore,
    account: AccountId,
    event: &AuditEvent,
) -> StoreResult<u64> {
    let mut tx = store.begin_write().await?;
    let deleted = sqlx::query(DELETE_SESSIONS_OF)
        .bind(account.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
    audit::insert(&mut *tx, event).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(deleted)
}

/// Expired flows, sessions and lapsed pending registrations, in one transaction.
pub(crate) async fn purge_expired(store: &SqlStore, now: OffsetDateTime) -> StoreResult<u64> {
    let now = secs(now);
    let mut tx = store.begin_write().await?;
    let mut purged = 0;
    for sql in [PURGE_FLOWS, PURGE_SESSIONS] {
        purged += sqlx::query(sql)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
    }
    purged += sqlx::query(PURGE_PENDING_METHODS)
        .bind(now)
        .bind(MethodStatus::Pending.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
    for (sql, before) in [
        (PURGE_CHALLENGES, now - KEEP_LAPSED),
        (PURGE_PUSH_REQUESTS, now - KEEP_LAPSED),
        (PURGE_OUTBOX, now - KEEP_MESSAGES),
    ] {
        purged += sqlx::query(sql)
            .bind(before)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
    }
    tx.commit().await.map_err(db_err)?;
    Ok(purged)
}
