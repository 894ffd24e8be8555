//! Code attempts against a method: the failure count and the lock (see core's `lockout`).
//!
//! Each decision is one `UPDATE … WHERE` that either changes the row or does not. PostgreSQL
//! re-checks the `WHERE` of a waiting `UPDATE` against the row its rival committed, and
//! SQLite runs one writer at a time, so 64 parallel attempts at 9 failures cannot all read
//! "9" and slip past: exactly one more goes ahead.

use sqlx::{Any, AnyConnection, Executor};
use tessera_core::MethodId;
use tessera_core::audit::AuditEvent;
use tessera_core::flow::effect::Effect;
use tessera_core::lockout::AttemptGate;
use tessera_core::store::{Acceptance, Accepted, Refused, StoreResult};
use time::OffsetDateTime;

use crate::rows::{lock_end, secs};
use crate::{SqlStore, audit, db_err, effects, pg_answers};

/// Goes ahead (counting the failure in advance) when unlocked and under the threshold, or
/// when a lock has lapsed (the count restarts at this attempt).
pub(crate) const BEGIN_ATTEMPT: &str = "UPDATE methods \
     SET failures = CASE WHEN locked_until IS NULL THEN failures + 1 ELSE 1 END, \
         locked_until = NULL \
     WHERE id = $1 \
     AND ((locked_until IS NULL AND failures < $3) OR locked_until <= $2)";

pub(crate) const LOCKED_UNTIL: &str = "SELECT locked_until FROM methods WHERE id = $1";

/// Sets the lock once, by the failure that reaches the threshold; later failures keep its end.
pub(crate) const RECORD_FAILURE: &str = "UPDATE methods \
     SET locked_until = CASE WHEN failures >= $2 AND locked_until IS NULL THEN $3 \
                             ELSE locked_until END \
     WHERE id = $1 \
     RETURNING failures, locked_until";

/// A step at or below the last accepted one is a replay and changes nothing.
pub(crate) const RECORD_SUCCESS: &str = "UPDATE methods \
     SET failures = 0, locked_until = NULL, last_used_at = $3, \
         last_step = COALESCE($2, last_step) \
     WHERE id = $1 AND ($2 IS NULL OR last_step IS NULL OR last_step < $2)";

pub(crate) async fn begin_attempt(
    store: &SqlStore,
    id: MethodId,
    now: OffsetDateTime,
    threshold: u32,
) -> StoreResult<AttemptGate> {
    let id = id.to_string();
    if count_attempt(store.writer(), &id, now, threshold).await? {
        return Ok(AttemptGate::Open);
    }
    // Refused. The read below only says for how long: the UPDATE already decided. A missing
    // method is refused too (the caller loaded it; it was deleted meanwhile).
    let locked_until = locked_until(store.pool(), &id).await?;
    Ok(AttemptGate::Locked {
        until: lock_ahead(locked_until, now)?,
    })
}

pub(crate) async fn record_failure(
    store: &SqlStore,
    id: MethodId,
    threshold: u32,
    lock_until: OffsetDateTime,
    event: &AuditEvent,
) -> StoreResult<Option<OffsetDateTime>> {
    if store.is_postgres() {
        return pg_answers::record_failure(store, id, threshold, lock_until, event).await;
    }
    let mut tx = store.begin_write().await?;
    let locked = fail_in(&mut tx, &id.to_string(), threshold, lock_until, event).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(locked)
}

/// `BEGIN_ATTEMPT`: whether the attempt went ahead (and was counted).
async fn count_attempt<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    id: &str,
    now: OffsetDateTime,
    threshold: u32,
) -> StoreResult<bool> {
    let counted = sqlx::query(BEGIN_ATTEMPT)
        .bind(id)
        .bind(secs(now))
        .bind(i64::from(threshold))
        .execute(exec)
        .await
        .map_err(db_err)?
        .rows_affected();
    Ok(counted > 0)
}

pub(crate) async fn locked_until<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    id: &str,
) -> StoreResult<Option<Option<i64>>> {
    sqlx::query_scalar(LOCKED_UNTIL)
        .bind(id)
        .fetch_optional(exec)
        .await
        .map_err(db_err)
}

/// `RECORD_FAILURE` with its audit event, in the caller's transaction; the lock it left.
async fn fail_in(
    conn: &mut AnyConnection,
    id: &str,
    threshold: u32,
    lock_until: OffsetDateTime,
    event: &AuditEvent,
) -> StoreResult<Option<OffsetDateTime>> {
    let row: Option<(i64, Option<i64>)> = sqlx::query_as(RECORD_FAILURE)
        .bind(id)
        .bind(i64::from(threshold))
        .bind(secs(lock_until))
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    audit::insert(&mut *conn, event).await?;
    failure_lock(row, threshold)
}

/// The lock a failure left, read from `RECORD_FAILURE`'s `RETURNING`.
pub(crate) fn failure_lock(
    row: Option<(i64, Option<i64>)>,
    threshold: u32,
) -> StoreResult<Option<OffsetDateTime>> {
    match row {
        Some((failures, locked_until)) if failures >= i64::from(threshold) => {
            lock_end(locked_until)
        }
        _ => Ok(None),
    }
}

/// A response that did not match, with no attempt reserved for it (see
/// `MethodStore::refuse`); owned, so that it can wait in the commit group's queue.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) method: MethodId,
    pub(crate) now: OffsetDateTime,
    pub(crate) threshold: u32,
    pub(crate) lock_until: OffsetDateTime,
    pub(crate) audit: AuditEvent,
}

/// On SQLite through the commit group, like an acceptance: a burst of wrong codes pays one
/// fsync. On PostgreSQL in one statement (`pg_answers`).
pub(crate) async fn refuse(store: &SqlStore, refusal: Refusal) -> StoreResult<Refused> {
    if let Some(group) = store.commit_group() {
        return group.refuse(refusal).await;
    }
    if store.is_postgres() {
        return pg_answers::refuse(store, &refusal).await;
    }
    let mut tx = store.begin_write().await?;
    let refused = refuse_in(&mut tx, &refusal).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(refused)
}

/// `begin_attempt`, then `record_failure` with its audit event, in the caller's
/// transaction. When the gate is shut nothing changes.
pub(crate) async fn refuse_in(conn: &mut AnyConnection, refusal: &Refusal) -> StoreResult<Refused> {
    let id = refusal.method.to_string();
    if !count_attempt(&mut *conn, &id, refusal.now, refusal.threshold).await? {
        return shut(locked_until(&mut *conn, &id).await?, refusal.now);
    }
    let locked_until = fail_in(
        conn,
        &id,
        refusal.threshold,
        refusal.lock_until,
        &refusal.audit,
    )
    .await?;
    Ok(Refused::Counted { locked_until })
}

/// A shut gate, with the lock's end when it is still ahead (`LOCKED_UNTIL`'s answer).
pub(crate) fn shut(locked_until: Option<Option<i64>>, now: OffsetDateTime) -> StoreResult<Refused> {
    Ok(Refused::Shut {
        until: lock_ahead(locked_until, now)?,
    })
}

/// The lock's end from `LOCKED_UNTIL`'s answer, when it is still ahead of `now`.
fn lock_ahead(
    locked_until: Option<Option<i64>>,
    now: OffsetDateTime,
) -> StoreResult<Option<OffsetDateTime>> {
    Ok(lock_end(locked_until.flatten())?.filter(|until| *until > now))
}

/// As `RECORD_SUCCESS`, and only through the gate of `BEGIN_ATTEMPT` ($4 is the threshold):
/// for a response checked before any attempt was reserved.
pub(crate) const ACCEPT_GATED: &str = "UPDATE methods \
     SET failures = 0, locked_until = NULL, last_used_at = $3, \
         last_step = COALESCE($2, last_step) \
     WHERE id = $1 AND ($2 IS NULL OR last_step IS NULL OR last_step < $2) \
     AND ((locked_until IS NULL AND failures < $4) OR locked_until <= $3)";

pub(crate) const GATE_STATE: &str = "SELECT failures, locked_until FROM methods WHERE id = $1";

/// On SQLite through the commit group (see `commit_group`), on PostgreSQL in one statement
/// when it can (`pg_answers`), else in a transaction of its own: PostgreSQL already flushes
/// concurrent commits together.
pub(crate) async fn accept(store: &SqlStore, acceptance: &Acceptance<'_>) -> StoreResult<Accepted> {
    let accepted = match (store.commit_group(), pg_answers::held(store, acceptance)) {
        (Some(group), _) => group.accept(acceptance).await?,
        (None, Some(held)) => pg_answers::accept(store, acceptance, held).await?,
        (None, None) => {
            let mut tx = store.begin_write().await?;
            let accepted = accept_in(&mut tx, acceptance).await?;
            match accepted {
                Accepted::Yes => tx.commit().await,
                _ => tx.rollback().await,
            }
            .map_err(db_err)?;
            accepted
        }
    };
    if accepted == Accepted::Yes && Effect::any_notes(acceptance.effects) {
        store.outbox_wake().notify_one();
    }
    Ok(accepted)
}

/// The acceptance's statements, in the caller's transaction, which the caller commits only
/// on `Accepted::Yes`: anything else must change nothing (an effect that must apply may
/// find its row moved on after the method's row was updated).
pub(crate) async fn accept_in(
    conn: &mut AnyConnection,
    acceptance: &Acceptance<'_>,
) -> StoreResult<Accepted> {
    let update = match acceptance.gate {
        None => sqlx::query(RECORD_SUCCESS),
        Some(_) => sqlx::query(ACCEPT_GATED),
    };
    let mut update = update
        .bind(acceptance.method.to_string())
        .bind(acceptance.step)
        .bind(secs(acceptance.now));
    if let Some(threshold) = acceptance.gate {
        update = update.bind(i64::from(threshold));
    }
    let changed = update
        .execute(&mut *conn)
        .await
        .map_err(db_err)?
        .rows_affected();
    if changed == 0 {
        let state: Option<(i64, Option<i64>)> = sqlx::query_as(GATE_STATE)
            .bind(acceptance.method.to_string())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?;
        return refused(acceptance, state);
    }
    if !effects::apply(&mut *conn, acceptance.effects).await? {
        return Ok(Accepted::Stale);
    }
    audit::insert_all(&mut *conn, acceptance.audit).await?;
    Ok(Accepted::Yes)
}

/// Why a response that matched changed nothing: the gate was shut, or the step was used.
pub(crate) fn refused(
    acceptance: &Acceptance<'_>,
    state: Option<(i64, Option<i64>)>,
) -> StoreResult<Accepted> {
    let (Some(threshold), Some((failures, locked_until))) = (acceptance.gate, state) else {
        return Ok(Accepted::Replayed);
    };
    let until = lock_end(locked_until)?;
    let open = match until {
        None => failures < i64::from(threshold),
        Some(until) => until <= acceptance.now,
    };
    Ok(if open {
        Accepted::Replayed
    } else {
        Accepted::Locked {
            until: until.filter(|u| *u > acceptance.now),
        }
    })
}
