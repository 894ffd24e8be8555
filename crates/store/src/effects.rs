//! Core's effects (`tessera_core::flow::effect`), applied in the caller's transaction: an
//! accepted response (`lockout`), an answered push (`push`, which may pass a reset gate), a
//! call answered with # (`delivery`), a flow moved on its own (`sessions`, `policy`).
//!
//! Each effect is one conditional statement (or a few) whose row count says whether it
//! applied. Core decided what changes and from which state; the store binds the states'
//! `as_str()` (the row mapping) and only checks that each row is still where core saw it.

use sqlx::AnyConnection;
use tessera_core::account::AccountStatus;
use tessera_core::flow::effect::{Activation, Effect, FlowMove};
use tessera_core::method::MethodStatus;
use tessera_core::store::StoreResult;
use tessera_core::{AccountId, MethodId};
use time::OffsetDateTime;

use crate::rows::{secs, secs_opt};
use crate::{db_err, methods, outbox, reset, sessions};

pub(crate) const METHOD_USED: &str = "UPDATE methods SET failures = 0, locked_until = NULL, \
     last_used_at = $2 WHERE id = $1";

/// The flow's one way on: whoever moves it from `$2` wins, every rival changes no row. `$4`
/// is its new end, if any; with `$5`, only while it is current then; `$6` the kind that
/// approved it out of band, if any.
pub(crate) const MOVE_FLOW: &str = "UPDATE sign_in_flows SET state = $3, \
     expires_at = COALESCE($4, expires_at), approved_kind = COALESCE($6, approved_kind) \
     WHERE id = $1 AND state = $2 AND ($5 IS NULL OR expires_at > $5)";

pub(crate) const DELETE_SESSION: &str = "DELETE FROM sessions WHERE id = $1";

pub(crate) const DISABLE_ACCOUNT: &str = "UPDATE accounts SET status = $2 WHERE id = $1";

pub(crate) const END_SESSIONS: &str = "DELETE FROM sessions WHERE account_id = $1";

/// Applies `effects` in order on `conn` (inside the caller's transaction). False as soon as
/// one that must apply did not: the caller rolls the transaction back.
pub(crate) async fn apply(conn: &mut AnyConnection, effects: &[Effect]) -> StoreResult<bool> {
    for effect in effects {
        if !apply_one(conn, effect).await? && effect.must_apply() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether the effect changed anything.
async fn apply_one(conn: &mut AnyConnection, effect: &Effect) -> StoreResult<bool> {
    match effect {
        Effect::MethodUsed { method, at } => method_used(conn, *method, *at).await,
        Effect::MoveFlow(change) | Effect::MoveFlowIfWaiting(change) => {
            move_flow(conn, change).await
        }
        Effect::SecondFactor { session, at, kind } => {
            sessions::mark_second_factor_in(&mut *conn, *session, *at, Some(*kind)).await
        }
        Effect::Activate(activation) => activate(conn, activation).await,
        Effect::BlockAccount(account) => block_account(conn, *account).await,
        Effect::PassResetGate(gate) => Ok(reset::pass_gate_on(conn, gate).await?.is_some()),
        Effect::Notes(notes) => {
            outbox::insert_messages(conn, notes).await?;
            Ok(!notes.is_empty())
        }
    }
}

async fn method_used(
    conn: &mut AnyConnection,
    method: MethodId,
    at: OffsetDateTime,
) -> StoreResult<bool> {
    let changed = sqlx::query(METHOD_USED)
        .bind(method.to_string())
        .bind(secs(at))
        .execute(&mut *conn)
        .await
        .map_err(db_err)?
        .rows_affected();
    Ok(changed > 0)
}

/// The flow's move, then the session it inserts and the one it ends.
async fn move_flow(conn: &mut AnyConnection, change: &FlowMove) -> StoreResult<bool> {
    let moved = sqlx::query(MOVE_FLOW)
        .bind(change.flow.to_string())
        .bind(change.from.as_str())
        .bind(change.to.as_str())
        .bind(secs_opt(change.expires_at))
        .bind(secs_opt(change.current_at))
        .bind(change.approved_kind.map(|k| k.as_str()))
        .execute(&mut *conn)
        .await
        .map_err(db_err)?
        .rows_affected();
    if moved == 0 {
        return Ok(false);
    }
    if let Some(session) = &change.session {
        sessions::insert_session_on(&mut *conn, session).await?;
    }
    if let Some(revoke) = change.revoke {
        sqlx::query(DELETE_SESSION)
            .bind(revoke.to_string())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
    }
    Ok(true)
}

async fn activate(conn: &mut AnyConnection, activation: &Activation) -> StoreResult<bool> {
    let account: Option<String> = sqlx::query_scalar(methods::ACTIVATE)
        .bind(activation.method.to_string())
        .bind(activation.step)
        .bind(secs(activation.now))
        .bind(MethodStatus::Active.as_str())
        .bind(MethodStatus::Pending.as_str())
        .bind(activation.by.map(|s| s.to_string()))
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    let Some(account) = account else {
        return Ok(false);
    };
    methods::activated_on(conn, &account, activation.method, activation.make_default).await?;
    Ok(true)
}

async fn block_account(conn: &mut AnyConnection, account: AccountId) -> StoreResult<bool> {
    let disabled = sqlx::query(DISABLE_ACCOUNT)
        .bind(account.to_string())
        .bind(AccountStatus::Disabled.as_str())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?
        .rows_affected();
    sqlx::query(END_SESSIONS)
        .bind(account.to_string())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(disabled > 0)
}
