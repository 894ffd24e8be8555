//! The outbox: texts, calls and emails waiting to be sent (the message half of
//! `DeliveryStore`; challenges are in `delivery`). A worker claims due messages with a lease,
//! so no message is held by two of them.

use time::OffsetDateTime;

use super::MemoryStore;
use super::rows::secs;
use super::state::{OutboxRow, State};
use crate::ids::{AccountId, MessageId};
use crate::message::{Message, MessageStatus, Topic};
use crate::store::StoreResult;
use crate::store::delivery::{SendCount, SendCounts};

/// Code messages that pass `keep`, sent after `since`.
fn count(s: &State, since: OffsetDateTime, keep: impl Fn(&Message) -> bool) -> SendCount {
    let since = secs(since);
    let times = s
        .outbox
        .values()
        .map(|r| &r.message)
        .filter(|m| m.topic == Topic::Code && m.created_at > since && keep(m))
        .map(|m| m.created_at);
    times.fold(SendCount::default(), |acc, at| SendCount {
        count: acc.count + 1,
        oldest: Some(acc.oldest.map_or(at, |o| o.min(at))),
    })
}

/// The sign-in's budgets leave a password reset's codes out: those have a budget of their
/// own (core's `flow::reset`), so a stranger's resets cannot use up the person's texts.
fn not_for_reset(s: &State, m: &Message) -> bool {
    m.challenge_id
        .and_then(|c| s.challenges.get(&c))
        .is_none_or(|c| c.challenge.purpose != "reset")
}

pub(super) fn send_counts(
    s: &State,
    account: AccountId,
    destination: &str,
    hour_ago: OffsetDateTime,
    minute_ago: OffsetDateTime,
) -> SendCounts {
    SendCounts {
        account: count(s, hour_ago, |m| {
            m.account_id == Some(account) && not_for_reset(s, m)
        }),
        destination: count(s, hour_ago, |m| m.to == destination && not_for_reset(s, m)),
        global: count(s, minute_ago, |_| true),
    }
}

pub(super) fn enqueue(store: &MemoryStore, messages: &[Message]) -> StoreResult<()> {
    if messages.is_empty() {
        return Ok(());
    }
    store.write(|s| {
        s.check_messages(messages)?;
        s.put_messages(messages);
        Ok(())
    })?;
    store.queued(true);
    Ok(())
}

/// Whether a worker may take it at `now`: queued or sending, due, and no lease in force.
fn claimable(row: &OutboxRow, now: OffsetDateTime) -> bool {
    matches!(
        row.message.status,
        MessageStatus::Queued | MessageStatus::Sending
    ) && row.message.next_attempt_at <= now
        && row.lease_until.is_none_or(|lease| lease <= now)
}

pub(super) fn claim(
    s: &mut State,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
    limit: u32,
) -> Vec<Message> {
    let mut due: Vec<(OffsetDateTime, u64, MessageId)> = s
        .outbox
        .values()
        .filter(|r| claimable(r, now))
        .map(|r| (r.message.next_attempt_at, r.seq, r.message.id))
        .collect();
    due.sort();
    due.truncate(limit as usize);
    let mut claimed = Vec::with_capacity(due.len());
    for (_, _, id) in due {
        if let Some(row) = s.outbox.get_mut(&id) {
            row.message.status = MessageStatus::Sending;
            row.message.attempts = row.message.attempts.saturating_add(1);
            row.lease_until = Some(lease_until);
            claimed.push(row.message.clone());
        }
    }
    claimed
}

/// A gateway took it: its payload goes unless the outbox provider keeps it.
pub(super) fn sent(
    s: &mut State,
    id: MessageId,
    now: OffsetDateTime,
    keep: bool,
    note: Option<&str>,
) {
    if let Some(row) = s.outbox.get_mut(&id) {
        let m = &mut row.message;
        m.status = match keep {
            true => MessageStatus::Kept,
            false => MessageStatus::Sent,
        };
        m.sent_at = Some(now);
        m.note = note.map(str::to_string);
        if !keep {
            m.payload = None;
        }
        row.lease_until = None;
    }
}

pub(super) fn retry(s: &mut State, id: MessageId, next_at: OffsetDateTime, note: &str) {
    if let Some(row) = s.outbox.get_mut(&id) {
        row.message.status = MessageStatus::Queued;
        row.message.next_attempt_at = next_at;
        row.message.note = Some(note.to_string());
        row.lease_until = None;
    }
}

pub(super) fn failed(s: &mut State, id: MessageId, note: &str) {
    if let Some(row) = s.outbox.get_mut(&id) {
        row.message.status = MessageStatus::Failed;
        row.message.payload = None;
        row.message.note = Some(note.to_string());
        row.lease_until = None;
    }
}

/// Newest first; within one second, the one queued last.
pub(super) fn recent(s: &State, limit: u32) -> Vec<Message> {
    let mut rows: Vec<&OutboxRow> = s.outbox.values().collect();
    rows.sort_by_key(|r| std::cmp::Reverse((r.message.created_at, r.seq)));
    rows.into_iter()
        .take(limit as usize)
        .map(|r| r.message.clone())
        .collect()
}
