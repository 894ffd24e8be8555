//! The commit group's statements on rusqlite, in the batch's transaction: `lockout::accept_in`
//! and `lockout::refuse_in`, `effects::apply` and the audit insert, statement for statement
//! with the same SQL. What decides (`lockout::refused`, `failure_lock`, `shut`, `must_apply`)
//! is shared, not written again.

use rusqlite::Connection;
use tessera_core::audit::AuditEvent;
use tessera_core::flow::effect::{Activation, Effect, FlowMove, GatePass};
use tessera_core::message::Message;
use tessera_core::method::MethodStatus;
use tessera_core::session::{Session, SessionKind};
use tessera_core::store::{Acceptance, Accepted, Refused, StoreResult};
use tessera_core::{AccountId, account::AccountStatus};

use super::{exec, first};
use crate::lockout::{self, Refusal};
use crate::rows::{secs, secs_opt};
use crate::{audit, effects, methods, outbox, reset, sessions};

/// As `lockout::accept_in`.
pub(super) fn accept(conn: &Connection, acceptance: &Acceptance<'_>) -> StoreResult<Accepted> {
    let id = acceptance.method.to_string();
    let now = secs(acceptance.now);
    let changed = match acceptance.gate {
        None => exec(
            conn,
            lockout::RECORD_SUCCESS,
            &[&id, &acceptance.step, &now],
        )?,
        Some(threshold) => exec(
            conn,
            lockout::ACCEPT_GATED,
            &[&id, &acceptance.step, &now, &i64::from(threshold)],
        )?,
    };
    if changed == 0 {
        let state = first(conn, lockout::GATE_STATE, &[&id], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
        return lockout::refused(acceptance, state);
    }
    for effect in acceptance.effects {
        if !apply(conn, effect)? && effect.must_apply() {
            return Ok(Accepted::Stale);
        }
    }
    for event in acceptance.audit {
        insert_audit(conn, event)?;
    }
    Ok(Accepted::Yes)
}

/// As `lockout::refuse_in`.
pub(super) fn refuse(conn: &Connection, refusal: &Refusal) -> StoreResult<Refused> {
    let id = refusal.method.to_string();
    let threshold = i64::from(refusal.threshold);
    let counted = exec(
        conn,
        lockout::BEGIN_ATTEMPT,
        &[&id, &secs(refusal.now), &threshold],
    )?;
    if counted == 0 {
        let locked_until = first(conn, lockout::LOCKED_UNTIL, &[&id], |row| row.get(0))?;
        return lockout::shut(locked_until, refusal.now);
    }
    let row = first(
        conn,
        lockout::RECORD_FAILURE,
        &[&id, &threshold, &secs(refusal.lock_until)],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    insert_audit(conn, &refusal.audit)?;
    Ok(Refused::Counted {
        locked_until: lockout::failure_lock(row, refusal.threshold)?,
    })
}

/// As `effects::apply_one`: whether the effect changed anything.
fn apply(conn: &Connection, effect: &Effect) -> StoreResult<bool> {
    Ok(match effect {
        Effect::MethodUsed { method, at } => {
            exec(
                conn,
                effects::METHOD_USED,
                &[&method.to_string(), &secs(*at)],
            )? > 0
        }
        Effect::MoveFlow(change) | Effect::MoveFlowIfWaiting(change) => move_flow(conn, change)?,
        Effect::SecondFactor { session, at, kind } => {
            let args: [&dyn rusqlite::ToSql; 3] =
                [&session.to_string(), &secs(*at), &kind.as_str()];
            exec(conn, sessions::MARK_SECOND_FACTOR, &args)? > 0
        }
        Effect::Activate(activation) => activate(conn, activation)?,
        Effect::BlockAccount(account) => block_account(conn, *account)?,
        Effect::PassResetGate(gate) => pass_gate(conn, gate)?,
        Effect::Notes(notes) => {
            for note in notes {
                insert_message(conn, note)?;
            }
            !notes.is_empty()
        }
    })
}

/// As `effects::move_flow`.
fn move_flow(conn: &Connection, change: &FlowMove) -> StoreResult<bool> {
    let moved = exec(
        conn,
        effects::MOVE_FLOW,
        &[
            &change.flow.to_string(),
            &change.from.as_str(),
            &change.to.as_str(),
            &secs_opt(change.expires_at),
            &secs_opt(change.current_at),
            &change.approved_kind.map(|k| k.as_str()),
        ],
    )?;
    if moved == 0 {
        return Ok(false);
    }
    if let Some(session) = &change.session {
        insert_session(conn, session)?;
    }
    if let Some(revoke) = change.revoke {
        exec(conn, effects::DELETE_SESSION, &[&revoke.to_string()])?;
    }
    Ok(true)
}

/// As `effects::activate` with `methods::activated_on`.
fn activate(conn: &Connection, activation: &Activation) -> StoreResult<bool> {
    let id = activation.method.to_string();
    let account: Option<String> = first(
        conn,
        methods::ACTIVATE,
        &[
            &id,
            &activation.step,
            &secs(activation.now),
            &MethodStatus::Active.as_str(),
            &MethodStatus::Pending.as_str(),
            &activation.by.map(|s| s.to_string()),
        ],
        |row| row.get(0),
    )?;
    let Some(account) = account else {
        return Ok(false);
    };
    if activation.make_default {
        exec(conn, methods::SET_DEFAULT, &[&account, &id])?;
    }
    exec(
        conn,
        methods::END_OTHER_REGISTRATIONS,
        &[&account, &SessionKind::Registration.as_str(), &id],
    )?;
    Ok(true)
}

/// As `effects::block_account`.
fn block_account(conn: &Connection, account: AccountId) -> StoreResult<bool> {
    let id = account.to_string();
    let disabled = exec(
        conn,
        effects::DISABLE_ACCOUNT,
        &[&id, &AccountStatus::Disabled.as_str()],
    )?;
    exec(conn, effects::END_SESSIONS, &[&id])?;
    Ok(disabled > 0)
}

/// As `reset::pass_gate_on`.
fn pass_gate(conn: &Connection, gate: &GatePass) -> StoreResult<bool> {
    let row: Option<(Option<String>, Option<String>)> = first(
        conn,
        reset::PASS_GATE,
        &[
            &gate.flow.flow.to_string(),
            &gate.method.to_string(),
            &gate.flow.from.as_str(),
            &secs(gate.flow.at),
            &gate.flow.to.as_str(),
        ],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    match row {
        Some((first, second)) => reset::gates(first.as_deref(), second.as_deref()).map(|_| true),
        None => Ok(false),
    }
}

/// As `sessions::insert_session_on`.
fn insert_session(conn: &Connection, session: &Session) -> StoreResult<()> {
    exec(
        conn,
        sessions::INSERT_SESSION,
        &[
            &session.id.to_string(),
            &session.token_hash.as_slice(),
            &session.account_id.to_string(),
            &session.kind.as_str(),
            &session.flow_id.map(|f| f.to_string()),
            &secs(session.created_at),
            &secs(session.expires_at),
            &secs(session.last_seen_at),
            &secs_opt(session.second_factor_at),
            &session.second_factor_kind.map(|k| k.as_str()),
        ],
    )?;
    Ok(())
}

/// As `outbox::insert_messages`, one message.
fn insert_message(conn: &Connection, m: &Message) -> StoreResult<()> {
    exec(
        conn,
        outbox::INSERT_MESSAGE,
        &[
            &m.id.to_string(),
            &m.account_id.map(|a| a.to_string()),
            &m.channel.as_str(),
            &m.topic.as_str(),
            &m.to.as_str(),
            &m.extension.as_deref(),
            &m.locale.as_str(),
            &m.payload.as_deref(),
            &m.challenge_id.map(|c| c.to_string()),
            &m.status.as_str(),
            &i64::from(m.attempts),
            &secs(m.next_attempt_at),
            &secs(m.created_at),
            &secs_opt(m.sent_at),
            &m.note.as_deref(),
        ],
    )?;
    Ok(())
}

/// As `audit::insert`.
fn insert_audit(conn: &Connection, event: &AuditEvent) -> StoreResult<()> {
    exec(
        conn,
        audit::INSERT,
        &[
            &event.id.to_string(),
            &secs(event.at),
            &event.account_id.map(|id| id.to_string()),
            &event.action.as_str(),
            &event.method_id.map(|id| id.to_string()),
            &event.ip.as_deref(),
            &event.user_agent.as_deref(),
            &event.detail.to_string(),
        ],
    )?;
    Ok(())
}
