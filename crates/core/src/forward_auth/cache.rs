//! What the forward-auth check keeps in memory, so the proxy's question about every request
//! of a protected site costs about as much as `/healthz` (issue #16).
//!
//! Both caches use an entry for at most one second ([`FRESH_FOR`]) after the store last
//! vouched for it, measured on Tessera's clock: a rule changed, or a session ended, on
//! another node takes effect here within that second, with no message between nodes. On
//! this node, an admin's rule change and every sign-out drop what they change at once
//! ([`ForwardAuthCache::forget_rules`], [`ForwardAuthCache::forget_sessions`]).
//!
//! Reading every session anew each second would cost a protected site with thousands of
//! people one lookup per person per second. Instead, every [`REVALIDATE_EVERY`], one check
//! asks the store in one query which of the recently used tokens still have a session
//! ([`ForwardAuthCache::revalidation_due`], [`ForwardAuthCache::revalidated`]); those are
//! vouched for again, the others go. What an entry says beyond the session's existence (the
//! account's name, email and admin flag, the session's second factor) is read anew after
//! [`CONTENTS_FOR`]; a disabled account's sessions end, so that shows within the second.
//!
//! A lookup that started before such a drop must not put back what it read: each drop
//! moves a generation on, and [`ForwardAuthCache::put_rules`] and
//! [`ForwardAuthCache::put_session`] keep nothing read under an older generation.
//!
//! Only what the store said exists is kept: an unknown token is asked about every time, so
//! a cookie made on another node works there at once.

use super::Rule;
use crate::account::Account;
use crate::session::Session;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use time::{Duration, OffsetDateTime};

/// How long an entry is used before the store is asked again: the bound on how long
/// a revoked session may still pass on any node.
pub const FRESH_FOR: Duration = Duration::seconds(1);
/// How often the store is asked which cached tokens still have a session: well inside
/// [`FRESH_FOR`], so an entry in use never lapses while its session lasts.
pub const REVALIDATE_EVERY: Duration = Duration::milliseconds(500);
/// How long what an entry says (account, second factor) is used before it is read again.
pub const CONTENTS_FOR: Duration = Duration::seconds(60);
/// An entry unused this long is not vouched for again: long enough that a person who
/// comes back every few seconds stays cached while a node fills its cache after a start.
pub const IDLE_FOR: Duration = Duration::seconds(30);
/// Beyond this many sessions, stale ones are dropped, and if none is stale, all: memory
/// stays bounded whatever the proxy is sent.
pub const SESSIONS_MAX: usize = 100_000;

/// A forward-auth token's session, its account, and whether the account must first change
/// its password, as the store said at one moment. The check judges them anew on every use
/// (kind, expiry, idle time, status), so only their own changes wait for the next read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub session: Session,
    pub account: Account,
    pub password_change_required: bool,
}

/// Taken before a read from the store; a put with a generation that a drop has since moved
/// on keeps nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation(u64);

#[derive(Debug)]
struct Entry<T> {
    read_at: OffsetDateTime,
    value: T,
}

impl<T> Entry<T> {
    /// Fresh for [`FRESH_FOR`] after it was read; a clock set back makes it stale too.
    fn fresh(&self, now: OffsetDateTime) -> bool {
        now >= self.read_at && now - self.read_at < FRESH_FOR
    }
}

/// A cached session: when its contents were read, when the store last vouched for it, and
/// when a check last used it.
#[derive(Debug)]
struct SessionEntry {
    loaded_at: OffsetDateTime,
    proven_at: OffsetDateTime,
    used_at: OffsetDateTime,
    value: Arc<SignedIn>,
}

impl SessionEntry {
    fn fresh(&self, now: OffsetDateTime) -> bool {
        now >= self.loaded_at
            && now >= self.proven_at
            && now - self.proven_at < FRESH_FOR
            && now - self.loaded_at < CONTENTS_FOR
    }

    fn in_use(&self, now: OffsetDateTime) -> bool {
        now >= self.used_at && now - self.used_at < IDLE_FOR
    }
}

/// The tokens to ask the store about, and what the answer is measured against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revalidation {
    pub generation: Generation,
    /// When the question is asked: a token the store still knows was alive at least then.
    pub at: OffsetDateTime,
    pub token_hashes: Vec<Vec<u8>>,
}

#[derive(Debug, Default)]
pub struct ForwardAuthCache {
    rules: Mutex<Option<Entry<Arc<Vec<Rule>>>>>,
    rules_generation: AtomicU64,
    sessions: Mutex<HashMap<Vec<u8>, SessionEntry>>,
    sessions_generation: AtomicU64,
    revalidation: Mutex<RevalidationState>,
}

/// One question at a time: a second one while the first is out would only wait behind it
/// for the store's connections.
#[derive(Debug, Default)]
struct RevalidationState {
    last_asked: Option<OffsetDateTime>,
    out: bool,
}

/// A poisoned lock only means another request panicked while holding it; the map itself is
/// always whole (every change is one insert or remove).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl ForwardAuthCache {
    /// The rules in order, if read less than a second ago.
    pub fn rules(&self, now: OffsetDateTime) -> Option<Arc<Vec<Rule>>> {
        lock(&self.rules)
            .as_ref()
            .filter(|e| e.fresh(now))
            .map(|e| Arc::clone(&e.value))
    }

    pub fn rules_generation(&self) -> Generation {
        Generation(self.rules_generation.load(Ordering::Acquire))
    }

    /// Keeps the rules read at `now`, unless they changed on this node since `generation`.
    pub fn put_rules(&self, generation: Generation, now: OffsetDateTime, rules: Arc<Vec<Rule>>) {
        let mut slot = lock(&self.rules);
        if self.rules_generation() == generation {
            *slot = Some(Entry {
                read_at: now,
                value: rules,
            });
        }
    }

    /// An admin changed the rules here: the next check reads them again.
    pub fn forget_rules(&self) {
        let mut slot = lock(&self.rules);
        self.rules_generation.fetch_add(1, Ordering::AcqRel);
        *slot = None;
    }

    /// The session behind a token's hash, if read less than a second ago.
    pub fn session(&self, token_hash: &[u8], now: OffsetDateTime) -> Option<Arc<SignedIn>> {
        let mut map = lock(&self.sessions);
        let entry = map.get_mut(token_hash).filter(|e| e.fresh(now))?;
        entry.used_at = entry.used_at.max(now);
        Some(Arc::clone(&entry.value))
    }

    /// Every [`REVALIDATE_EVERY`], to one caller: the tokens used lately, for the store to
    /// say which still have a session ([`ForwardAuthCache::revalidated`]). Entries not used
    /// lately go. A question not answered within [`FRESH_FOR`] (its check was cancelled)
    /// no longer holds the next one back.
    pub fn revalidation_due(&self, now: OffsetDateTime) -> Option<Revalidation> {
        {
            let mut state = lock(&self.revalidation);
            if let Some(at) = state.last_asked
                && now >= at
            {
                let wait = if state.out {
                    FRESH_FOR
                } else {
                    REVALIDATE_EVERY
                };
                if now - at < wait {
                    return None;
                }
            }
            state.last_asked = Some(now);
            state.out = true;
        }
        let generation = self.sessions_generation();
        let mut map = lock(&self.sessions);
        map.retain(|_, e| e.in_use(now));
        if map.is_empty() {
            lock(&self.revalidation).out = false;
            return None;
        }
        Some(Revalidation {
            generation,
            at: now,
            token_hashes: map.keys().cloned().collect(),
        })
    }

    /// The store's answer to `asked` (`None`: it failed): the tokens in `alive` are vouched
    /// for as of `asked.at`, the others go; nothing changes if sessions ended here meanwhile.
    pub fn revalidated(&self, asked: &Revalidation, alive: Option<&[Vec<u8>]>) {
        {
            let mut state = lock(&self.revalidation);
            if state.last_asked == Some(asked.at) {
                state.out = false;
            }
        }
        let Some(alive) = alive else {
            return;
        };
        let mut map = lock(&self.sessions);
        if self.sessions_generation() != asked.generation {
            return;
        }
        let alive: std::collections::HashSet<&[u8]> = alive.iter().map(Vec::as_slice).collect();
        for hash in &asked.token_hashes {
            let Some(entry) = map.get_mut(hash) else {
                continue;
            };
            if alive.contains(hash.as_slice()) {
                entry.proven_at = entry.proven_at.max(asked.at);
            } else if entry.proven_at <= asked.at {
                map.remove(hash);
            }
        }
    }

    pub fn sessions_generation(&self) -> Generation {
        Generation(self.sessions_generation.load(Ordering::Acquire))
    }

    /// Keeps what the store said at `now` about a token, unless sessions ended on this node
    /// since `generation`.
    pub fn put_session(
        &self,
        generation: Generation,
        token_hash: Vec<u8>,
        now: OffsetDateTime,
        signed_in: Arc<SignedIn>,
    ) {
        let mut map = lock(&self.sessions);
        if self.sessions_generation() != generation {
            return;
        }
        if map.len() >= SESSIONS_MAX && !map.contains_key(&token_hash) {
            map.retain(|_, e| e.fresh(now));
            if map.len() >= SESSIONS_MAX {
                map.clear();
            }
        }
        map.insert(
            token_hash,
            SessionEntry {
                loaded_at: now,
                proven_at: now,
                used_at: now,
                value: signed_in,
            },
        );
    }

    /// The session was touched at `at`: the cached copy says so, so the next checks within
    /// the minute do not touch it again.
    pub fn touched(&self, token_hash: &[u8], at: OffsetDateTime) {
        if let Some(entry) = lock(&self.sessions).get_mut(token_hash) {
            let mut signed_in = SignedIn::clone(&entry.value);
            signed_in.session.last_seen_at = at;
            entry.value = Arc::new(signed_in);
        }
    }

    /// Sessions ended here (a sign-out, an admin ending them, a disabled account): every
    /// cached session is read again, so none of the ended ones passes another check. Which
    /// ones ended is not said, and need not be: refilling costs one read per active token.
    pub fn forget_sessions(&self) {
        let mut map = lock(&self.sessions);
        self.sessions_generation.fetch_add(1, Ordering::AcqRel);
        map.clear();
    }

    #[cfg(test)]
    fn sessions_len(&self) -> usize {
        lock(&self.sessions).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::AccountStatus;
    use crate::clock::{Clock, FakeClock};
    use crate::forward_auth::NewRule;
    use crate::ids::{AccountId, SessionId};
    use crate::random::OsRandom;
    use crate::session::SessionKind;

    fn signed_in(clock: &FakeClock) -> Arc<SignedIn> {
        let now = clock.now();
        let account = Account {
            id: AccountId::new(&OsRandom),
            username: "alice".into(),
            display_name: "Alice".into(),
            password_hash: String::new(),
            locale: None,
            browser_locale: None,
            status: AccountStatus::Active,
            is_admin: false,
            email: None,
            default_method: None,
            created_at: now,
        };
        Arc::new(SignedIn {
            session: Session {
                id: SessionId::new(&OsRandom),
                token_hash: vec![1; 32],
                account_id: account.id,
                kind: SessionKind::Full,
                flow_id: None,
                created_at: now,
                expires_at: now + Duration::hours(12),
                last_seen_at: now,
                second_factor_at: Some(now),
                second_factor_kind: None,
            },
            account,
            password_change_required: false,
        })
    }

    fn rules() -> Arc<Vec<Rule>> {
        let rule = NewRule {
            domains: vec!["wiki.example.org".into()],
            level: "two_factor".into(),
            ..NewRule::default()
        };
        Arc::new(vec![rule.validate().unwrap()])
    }

    #[test]
    fn a_session_is_used_for_one_second_and_then_read_again() {
        let clock = FakeClock::at_epoch_2026();
        let cache = ForwardAuthCache::default();
        let hash = vec![7u8; 32];
        assert_eq!(cache.session(&hash, clock.now()), None);
        let s = signed_in(&clock);
        cache.put_session(
            cache.sessions_generation(),
            hash.clone(),
            clock.now(),
            s.clone(),
        );
        assert_eq!(cache.session(&hash, clock.now()), Some(s.clone()));
        clock.advance(Duration::milliseconds(999));
        assert_eq!(cache.session(&hash, clock.now()), Some(s));
        clock.advance(Duration::milliseconds(1));
        assert_eq!(cache.session(&hash, clock.now()), None, "stale at 1 s");
        assert_eq!(cache.session(&[8u8; 32], clock.now()), None);
    }

    #[test]
    fn a_clock_set_back_makes_entries_stale() {
        let clock = FakeClock::at_epoch_2026();
        let cache = ForwardAuthCache::default();
        let at = clock.now();
        cache.put_rules(cache.rules_generation(), at, rules());
        cache.put_session(cache.sessions_generation(), vec![1], at, signed_in(&clock));
        let before = at - Duration::milliseconds(1);
        assert_eq!(cache.rules(before), None);
        assert_eq!(cache.session(&[1], before), None);
    }

    #[test]
    fn sessions_ending_here_drop_every_entry_and_any_read_begun_before() {
        let clock = FakeClock::at_epoch_2026();
        let cache = ForwardAuthCache::default();
        let s = signed_in(&clock);
        cache.put_session(cache.sessions_generation(), vec![1], clock.now(), s.clone());
        cache.put_session(cache.sessions_generation(), vec![2], clock.now(), s.clone());
        // A check read the store before the sign-out and finishes after it.
        let begun = cache.sessions_generation();
        cache.forget_sessions();
        assert_eq!(cache.session(&[1], clock.now()), None);
        assert_eq!(cache.session(&[2], clock.now()), None);
        cache.put_session(begun, vec![1], clock.now(), s.clone());
        assert_eq!(
            cache.session(&[1], clock.now()),
            None,
            "a stale read stays out"
        );
        cache.put_session(cache.sessions_generation(), vec![1], clock.now(), s.clone());
        assert_eq!(cache.session(&[1], clock.now()), Some(s));
    }

    #[test]
    fn rules_last_one_second_and_an_admin_change_here_drops_them() {
        let clock = FakeClock::at_epoch_2026();
        let cache = ForwardAuthCache::default();
        assert_eq!(cache.rules(clock.now()), None);
        let begun = cache.rules_generation();
        cache.put_rules(begun, clock.now(), rules());
        assert_eq!(cache.rules(clock.now()), Some(rules()));
        clock.advance(Duration::milliseconds(999));
        assert!(cache.rules(clock.now()).is_some());
        clock.advance(Duration::milliseconds(1));
        assert_eq!(
            cache.rules(clock.now()),
            None,
            "another node's change shows"
        );

        cache.put_rules(cache.rules_generation(), clock.now(), rules());
        cache.forget_rules();
        assert_eq!(cache.rules(clock.now()), None);
        cache.put_rules(begun, clock.now(), rules());
        assert_eq!(cache.rules(clock.now()), None, "read before the change");
    }

    #[test]
    fn a_touch_is_remembered_until_the_entry_is_read_again() {
        let clock = FakeClock::at_epoch_2026();
        let cache = ForwardAuthCache::default();
        let s = signed_in(&clock);
        cache.put_session(cache.sessions_generation(), vec![1], clock.now(), s);
        let later = clock.now() + Duration::milliseconds(500);
        cache.touched(&[1], later);
        let cached = cache.session(&[1], clock.now()).unwrap();
        assert_eq!(cached.session.last_seen_at, later);
        cache.touched(&[9], later);
        assert_eq!(
            cache.sessions_len(),
            1,
            "touching an absent entry adds nothing"
        );
    }

    #[test]
    fn the_store_vouches_for_the_tokens_in_use_every_half_second() {
        let clock = FakeClock::at_epoch_2026();
        let cache = ForwardAuthCache::default();
        let s = signed_in(&clock);
        for hash in [vec![1], vec![2], vec![3]] {
            cache.put_session(cache.sessions_generation(), hash, clock.now(), s.clone());
        }
        // Only once per half second, to one caller.
        let asked = cache.revalidation_due(clock.now()).unwrap();
        assert_eq!(cache.revalidation_due(clock.now()), None);
        clock.advance(Duration::milliseconds(499));
        assert_eq!(cache.revalidation_due(clock.now()), None);
        let mut hashes = asked.token_hashes.clone();
        hashes.sort();
        assert_eq!(hashes, [vec![1], vec![2], vec![3]]);
        cache.revalidated(&asked, Some(&asked.token_hashes.clone()));

        // Token 3's session ended elsewhere; 1 and 2 are vouched for as of the question.
        clock.advance(Duration::milliseconds(1));
        let asked = cache.revalidation_due(clock.now()).unwrap();
        cache.revalidated(&asked, Some(&[vec![1], vec![2]]));
        assert_eq!(cache.session(&[3], clock.now()), None);
        clock.advance(Duration::milliseconds(999));
        assert!(
            cache.session(&[1], clock.now()).is_some(),
            "vouched at 0.5 s"
        );
        // Token 2 is not used again: after a while it is not asked about, and goes.
        for _ in 0..IDLE_FOR.whole_milliseconds() / REVALIDATE_EVERY.whole_milliseconds() {
            clock.advance(REVALIDATE_EVERY);
            let asked = cache.revalidation_due(clock.now()).unwrap();
            cache.revalidated(&asked, Some(&[vec![1], vec![2]]));
            assert!(cache.session(&[1], clock.now()).is_some());
        }
        assert_eq!(cache.sessions_len(), 1);

        // Without an answer, an entry lapses a second after it was last vouched for.
        clock.advance(FRESH_FOR);
        assert_eq!(cache.session(&[1], clock.now()), None);
    }

    #[test]
    fn one_question_at_a_time_unless_it_went_unanswered() {
        let clock = FakeClock::at_epoch_2026();
        let cache = ForwardAuthCache::default();
        cache.put_session(
            cache.sessions_generation(),
            vec![1],
            clock.now(),
            signed_in(&clock),
        );
        let first = cache.revalidation_due(clock.now()).unwrap();
        clock.advance(REVALIDATE_EVERY);
        assert_eq!(cache.revalidation_due(clock.now()), None, "still out");
        cache.revalidated(&first, None);
        assert!(
            cache.revalidation_due(clock.now()).is_some(),
            "failed: ask again"
        );
        // This one is never answered (its check was cancelled).
        clock.advance(Duration::milliseconds(999));
        cache.session(&[1], clock.now());
        assert_eq!(cache.revalidation_due(clock.now()), None);
        clock.advance(Duration::milliseconds(1));
        assert_eq!(
            cache.session(&[1], clock.now()),
            None,
            "never vouched again"
        );
        cache.put_session(
            cache.sessions_generation(),
            vec![1],
            clock.now(),
            signed_in(&clock),
        );
        assert!(cache.revalidation_due(clock.now()).is_some());
    }

    #[test]
    fn an_answer_to_a_question_asked_before_a_sign_out_here_changes_nothing() {
        let clock = FakeClock::at_epoch_2026();
        let cache = ForwardAuthCache::default();
        let s = signed_in(&clock);
        cache.put_session(cache.sessions_generation(), vec![1], clock.now(), s.clone());
        let asked = cache.revalidation_due(clock.now()).unwrap();
        cache.forget_sessions();
        cache.put_session(cache.sessions_generation(), vec![1], clock.now(), s);
        clock.advance(Duration::milliseconds(900));
        cache.revalidated(&asked, Some(&[vec![1]]));
        clock.advance(Duration::milliseconds(100));
        assert_eq!(
            cache.session(&[1], clock.now()),
            None,
            "not vouched for again"
        );
    }

    #[test]
    fn what_an_entry_says_is_read_again_after_a_minute() {
        let clock = FakeClock::at_epoch_2026();
        let cache = ForwardAuthCache::default();
        cache.put_session(
            cache.sessions_generation(),
            vec![1],
            clock.now(),
            signed_in(&clock),
        );
        for _ in 0..119 {
            clock.advance(REVALIDATE_EVERY);
            assert!(cache.session(&[1], clock.now()).is_some());
            if let Some(asked) = cache.revalidation_due(clock.now()) {
                cache.revalidated(&asked, Some(&asked.token_hashes.clone()));
            }
        }
        clock.advance(REVALIDATE_EVERY);
        assert_eq!(cache.session(&[1], clock.now()), None);
    }

    #[test]
    fn memory_stays_bounded() {
        let clock = FakeClock::at_epoch_2026();
        let cache = ForwardAuthCache::default();
        let s = signed_in(&clock);
        let generation = cache.sessions_generation();
        for i in 0..SESSIONS_MAX as u32 {
            cache.put_session(generation, i.to_be_bytes().to_vec(), clock.now(), s.clone());
        }
        assert_eq!(cache.sessions_len(), SESSIONS_MAX);
        // All still fresh: the next one starts over rather than growing.
        cache.put_session(generation, vec![0xff; 5], clock.now(), s.clone());
        assert_eq!(cache.sessions_len(), 1);
        for i in 0..SESSIONS_MAX as u32 - 1 {
            cache.put_session(generation, i.to_be_bytes().to_vec(), clock.now(), s.clone());
        }
        clock.advance(FRESH_FOR);
        // All stale now: they go, the new one stays.
        cache.put_session(generation, vec![0xee; 5], clock.now(), s);
        assert_eq!(cache.sessions_len(), 1);
        assert!(cache.session(&[0xee; 5], clock.now()).is_some());
    }
}
