//! Sign-in flows and sessions, and the purge of both when they expire.

use async_trait::async_trait;
use tessera_core::account::Account;
use tessera_core::audit::AuditEvent;
use tessera_core::flow::SignInFlow;
use tessera_core::flow::effect::{Effect, FlowMove};
use tessera_core::message::MessageStatus;
use tessera_core::method::{Kind, MethodStatus};
use tessera_core::session::Session;
use tessera_core::store::flows::SignInFlowStore;
use tessera_core::store::sessions::SessionStore;
use tessera_core::store::{SessionAuth, StoreResult};
use tessera_core::{AccountId, FlowId, SessionId};
use time::OffsetDateTime;

use crate::rows::{AccountRow, FlowRow, SessionRow, corrupt, secs, secs_opt};
use crate::{Dialect, SqlStore, audit, db_err, effects};

const INSERT_FLOW: &str = "INSERT INTO sign_in_flows (id, account_id, state, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5)";

const SELECT_FLOW: &str = "SELECT id, account_id, state, created_at, expires_at, approved_kind FROM sign_in_flows \
     WHERE id = $1";

pub(crate) const INSERT_SESSION: &str = "INSERT INTO sessions \
     (id, token_hash, account_id, kind, flow_id, created_at, expires_at, last_seen_at, \
      second_factor_at, second_factor_kind) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

const SELECT_SESSION_BY_HASH: &str = "SELECT id, token_hash, account_id, kind, flow_id, \
     created_at, expires_at, last_seen_at, second_factor_at, second_factor_kind FROM sessions \
     WHERE token_hash = $1";

/// The session with its account, and whether the account must change its password: every
/// authenticated request's first read, in one statement (see `Store::session_auth`).
pub(crate) const SESSION_AUTH: &str = "SELECT s.id, s.token_hash, s.account_id, s.kind, \
     s.flow_id, s.created_at, s.expires_at, s.last_seen_at, s.second_factor_at, \
     s.second_factor_kind, a.id, a.username, a.display_name, a.password_hash, a.locale, \
     a.browser_locale, a.status, a.is_admin, a.email, a.default_method_id, a.created_at, \
     a.source, a.external_id, \
     CAST(CASE WHEN EXISTS (SELECT 1 FROM password_change_required p \
                            WHERE p.account_id = a.id) THEN 1 ELSE 0 END AS BIGINT) \
     FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = $1";

/// A row of [`SESSION_AUTH`], read.
pub(crate) fn session_auth_of(
    (session, account, change): (SessionRow, AccountRow, i64),
) -> StoreResult<SessionAuth> {
    Ok(SessionAuth {
        session: Session::try_from(session)?,
        account: Account::try_from(account)?,
        password_change_required: change != 0,
    })
}

/// [`SESSION_AUTH`] through sqlx.
pub(crate) async fn session_auth(
    store: &SqlStore,
    hash: &[u8],
) -> StoreResult<Option<SessionAuth>> {
    if let Some(lite) = store.lite() {
        return lite.read(|conn| crate::lite::reads::session_auth(conn, hash));
    }
    let row = sqlx::query(SESSION_AUTH)
        .bind(hash)
        .fetch_optional(store.pool())
        .await
        .map_err(db_err)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let read = || -> Result<_, sqlx::Error> {
        use sqlx::Row as _;
        Ok((
            SessionRow::at(&row, 0)?,
            AccountRow::at(&row, SessionRow::COLUMNS)?,
            row.try_get::<i64, _>(SessionRow::COLUMNS + AccountRow::COLUMNS)?,
        ))
    };
    read().map_err(db_err).and_then(session_auth_of).map(Some)
}

/// Requests of one session race; the latest time wins, never an older one.
const TOUCH_SESSION: &str =
    "UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2";

/// `$3`: the kind that proved it; without one (a caller that does not know) the kind
/// recorded before no longer says what proved the latest second factor, so it is cleared.
pub(crate) const MARK_SECOND_FACTOR: &str =
    "UPDATE sessions SET second_factor_at = $2, second_factor_kind = $3 WHERE id = $1";

const DELETE_SESSION: &str = "DELETE FROM sessions WHERE id = $1";

const DELETE_SESSIONS_OF: &str = "DELETE FROM sessions WHERE account_id = $1";

const PURGE_FLOWS: &str = "DELETE FROM sign_in_flows WHERE expires_at <= $1";
/// As `TOUCH_SESSION`, for a JSON array of `[id, unix time]`.
const TOUCH_SESSIONS_SQLITE: &str = "UPDATE sessions SET last_seen_at = u.at \
     FROM (SELECT value ->> 0 AS id, value ->> 1 AS at FROM json_each($1)) u \
     WHERE sessions.id = u.id AND sessions.last_seen_at < u.at";
const TOUCH_SESSIONS_POSTGRES: &str = "UPDATE sessions SET last_seen_at = u.at \
     FROM (SELECT e ->> 0 AS id, (e ->> 1)::BIGINT AS at FROM json_array_elements($1::json) e) u \
     WHERE sessions.id = u.id AND sessions.last_seen_at < u.at";
/// Sessions touched in one statement.
const TOUCH_CHUNK: usize = 5_000;
const PURGE_SESSIONS: &str = "DELETE FROM sessions WHERE expires_at <= $1";
const PURGE_ENDS_SQLITE: &str = "DELETE FROM session_ends WHERE ended_at < unixepoch() - 3600";
const PURGE_ENDS_POSTGRES: &str =
    "DELETE FROM session_ends WHERE ended_at < EXTRACT(EPOCH FROM now())::BIGINT - 3600";
/// Challenges hold a code's MAC; a day after they lapse nothing reads them any more (the
/// cool-down and the send limits look back an hour at most).
const PURGE_CHALLENGES: &str = "DELETE FROM challenges WHERE expires_at <= $1";
/// Finished messages stay a month for "did the text go out?" (`tessera outbox`); their
/// payload was dropped when they finished.
const PURGE_OUTBOX: &str = "DELETE FROM outbox WHERE status IN ($2, $3, $4) AND created_at <= $1";
const PURGE_PUSH_REQUESTS: &str = "DELETE FROM push_requests WHERE expires_at <= $1";
/// How long after they lapse challenges and push requests are kept.
const KEEP_LAPSED: i64 = 24 * 3600;
/// How long finished messages are kept.
const KEEP_MESSAGES: i64 = 30 * 24 * 3600;
const PURGE_PENDING_METHODS: &str =
    "DELETE FROM methods WHERE status = $2 AND expires_at IS NOT NULL AND expires_at <= $1";

#[async_trait]
impl SignInFlowStore for SqlStore {
    async fn insert_flow(&self, flow: &SignInFlow) -> StoreResult<()> {
        sqlx::query(INSERT_FLOW)
            .bind(flow.id.to_string())
            .bind(flow.account_id.to_string())
            .bind(flow.state.as_str())
            .bind(secs(flow.created_at))
            .bind(secs(flow.expires_at))
            .execute(self.writer())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn flow(&self, id: FlowId) -> StoreResult<Option<SignInFlow>> {
        sqlx::query_as::<_, FlowRow>(SELECT_FLOW)
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?
            .map(SignInFlow::try_from)
            .transpose()
    }

    async fn move_flow(&self, change: &FlowMove, event: &AuditEvent) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let effects = [Effect::MoveFlow(change.clone())];
        if !effects::apply(&mut tx, &effects).await? {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }
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
        .bind(session.second_factor_kind.map(|k| k.as_str()))
        .execute(exec)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Inside a caller's transaction: a step-up records its code and the session in one commit.
/// False when there is no such session.
pub(crate) async fn mark_second_factor_in<'c, E>(
    exec: E,
    id: SessionId,
    at: OffsetDateTime,
    kind: Option<Kind>,
) -> StoreResult<bool>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let marked = sqlx::query(MARK_SECOND_FACTOR)
        .bind(id.to_string())
        .bind(secs(at))
        .bind(kind.map(|k| k.as_str()))
        .execute(exec)
        .await
        .map_err(db_err)?
        .rows_affected();
    Ok(marked > 0)
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn insert_session(&self, session: &Session) -> StoreResult<()> {
        insert_session_on(self.writer(), session).await
    }

    async fn session_by_token_hash(&self, hash: &[u8]) -> StoreResult<Option<Session>> {
        sqlx::query_as::<_, SessionRow>(SELECT_SESSION_BY_HASH)
            .bind(hash)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?
            .map(Session::try_from)
            .transpose()
    }

    async fn touch_session(&self, id: SessionId, now: OffsetDateTime) -> StoreResult<()> {
        sqlx::query(TOUCH_SESSION)
            .bind(id.to_string())
            .bind(secs(now))
            .execute(self.writer())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn touch_sessions(&self, used: &[(SessionId, OffsetDateTime)]) -> StoreResult<()> {
        let sql = match self.dialect() {
            Dialect::Sqlite => TOUCH_SESSIONS_SQLITE,
            Dialect::Postgres => TOUCH_SESSIONS_POSTGRES,
        };
        // One parameter for the whole list (a JSON array of [id, time]): sqlx looks each
        // parameter's name up among all of them, so a long list of parameters costs time
        // quadratic in its length.
        for chunk in used.chunks(TOUCH_CHUNK) {
            let list = serde_json::to_string(
                &chunk
                    .iter()
                    .map(|(id, at)| (id.to_string(), secs(*at)))
                    .collect::<Vec<_>>(),
            )
            .map_err(|_| corrupt("sessions.id"))?;
            sqlx::query(sql)
                .bind(list)
                .execute(self.writer())
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    async fn mark_second_factor(&self, id: SessionId, at: OffsetDateTime) -> StoreResult<()> {
        mark_second_factor_in(self.writer(), id, at, None).await?;
        Ok(())
    }

    async fn delete_session(&self, id: SessionId, event: Option<&AuditEvent>) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
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

    async fn delete_sessions_of(&self, account: AccountId, event: &AuditEvent) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
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
    ] {
        purged += sqlx::query(sql)
            .bind(before)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
    }
    purged += sqlx::query(PURGE_OUTBOX)
        .bind(now - KEEP_MESSAGES)
        .bind(MessageStatus::Sent.as_str())
        .bind(MessageStatus::Kept.as_str())
        .bind(MessageStatus::Failed.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
    // The log of ends is read twice a second by every node; an hour is far longer than any
    // node goes without asking. On the database's clock, as the rows were written.
    let purge_ends = match store.dialect() {
        Dialect::Sqlite => PURGE_ENDS_SQLITE,
        Dialect::Postgres => PURGE_ENDS_POSTGRES,
    };
    sqlx::query(purge_ends)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(purged)
}
