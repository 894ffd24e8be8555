use super::*;
use crate::account::AccountStatus;
use crate::clock::{Clock, FakeClock};
use crate::forward_auth::NewRule;
use crate::ids::{AccountId, SessionId};
use crate::random::OsRandom;
use crate::session::SessionKind;
use crate::store::forward_auth::{EndsCursor, SessionEnds};

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
        source: crate::account::AccountSource::Local,
        external_id: None,
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
        token_expires_at: now + Duration::hours(12),
        account,
        password_change_required: false,
        groups: Vec::new(),
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

/// The store's answer: these sessions ended, and the next question starts at `next`.
fn ends(ended: &[SessionId], next: i64) -> SessionEnds {
    SessionEnds {
        ended: ended.to_vec(),
        next: EndsCursor(next),
    }
}

/// Asks and answers (nothing ended) until the cache has a cursor: the first answer only
/// says where to start.
fn start_asking(cache: &ForwardAuthCache, clock: &FakeClock) {
    let asked = cache.revalidation_due(clock.now()).expect("due");
    assert_eq!(asked.since, None);
    cache.revalidated(&asked, Some(&ends(&[], 1)));
}

#[test]
fn a_touch_is_remembered_at_once_and_written_with_the_next_question() {
    let clock = FakeClock::at_epoch_2026();
    let cache = ForwardAuthCache::default();
    let s = signed_in(&clock);
    cache.put_session(cache.sessions_generation(), vec![1], clock.now(), s.clone());
    let later = clock.now() + Duration::milliseconds(500);
    cache.touch_later(&[1], later);
    let cached = cache.session(&[1], clock.now()).unwrap();
    assert_eq!(cached.session.last_seen_at, later);
    cache.touch_later(&[9], later);
    assert_eq!(
        cache.sessions_len(),
        1,
        "touching an absent entry adds nothing"
    );
    cache.touch_later(&[1], later - Duration::milliseconds(1));
    assert_eq!(
        cache.take_touches(),
        vec![(s.session.id, later)],
        "the latest use"
    );
    assert_eq!(cache.take_touches(), vec![], "written once");
}

#[test]
fn the_sessions_that_ended_go_and_the_others_are_vouched_for() {
    let clock = FakeClock::at_epoch_2026();
    let cache = ForwardAuthCache::default();
    let (one, two) = (signed_in(&clock), signed_in(&clock));
    let put = |hash: u8, s: &Arc<SignedIn>| {
        cache.put_session(
            cache.sessions_generation(),
            vec![hash],
            clock.now(),
            s.clone(),
        )
    };
    put(1, &one);
    put(2, &two);
    // Another cookie of session two (the person came through a second site).
    put(3, &two);
    // The first answer only says where to start: read before it, nothing is vouched for.
    start_asking(&cache, &clock);
    assert_eq!(
        cache.revalidation_due(clock.now()),
        None,
        "once per half second"
    );
    clock.advance(REVALIDATE_EVERY);
    assert!(cache.session(&[1], clock.now()).is_some());
    put(1, &one);
    put(2, &two);
    put(3, &two);
    clock.advance(REVALIDATE_EVERY);
    let asked = cache.revalidation_due(clock.now()).unwrap();
    assert_eq!(asked.since.map(|(c, _)| c), Some(EndsCursor(1)));
    // Session two ended elsewhere: both its cookies go; one is vouched for.
    cache.revalidated(&asked, Some(&ends(&[two.session.id], 2)));
    assert_eq!(cache.session(&[2], clock.now()), None);
    assert_eq!(cache.session(&[3], clock.now()), None);
    clock.advance(Duration::milliseconds(999));
    assert!(cache.session(&[1], clock.now()).is_some(), "vouched for");
    clock.advance(Duration::milliseconds(1));
    assert_eq!(
        cache.session(&[1], clock.now()),
        None,
        "without another answer, an entry lapses a second after it was vouched for"
    );
}

#[test]
fn a_read_from_before_an_end_does_not_put_the_session_back() {
    let clock = FakeClock::at_epoch_2026();
    let cache = ForwardAuthCache::default();
    let s = signed_in(&clock);
    cache.put_session(cache.sessions_generation(), vec![1], clock.now(), s.clone());
    start_asking(&cache, &clock);
    clock.advance(REVALIDATE_EVERY);
    // A check read session s from the store just before it ended ...
    let begun = cache.sessions_generation();
    let asked = cache.revalidation_due(clock.now()).unwrap();
    cache.revalidated(&asked, Some(&ends(&[s.session.id], 2)));
    // ... and finishes after the answer that said so.
    cache.put_session(begun, vec![1], clock.now(), s.clone());
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
    assert_eq!(cache.revalidation_due(clock.now()), None);
    clock.advance(Duration::milliseconds(1));
    assert_eq!(cache.session(&[1], clock.now()), None, "never vouched for");
    cache.put_session(
        cache.sessions_generation(),
        vec![1],
        clock.now(),
        signed_in(&clock),
    );
    assert!(cache.revalidation_due(clock.now()).is_some());
}

#[test]
fn an_overtaken_answer_drops_what_it_lists_and_vouches_for_nothing() {
    let clock = FakeClock::at_epoch_2026();
    let cache = ForwardAuthCache::default();
    let (one, two) = (signed_in(&clock), signed_in(&clock));
    cache.put_session(
        cache.sessions_generation(),
        vec![1],
        clock.now(),
        one.clone(),
    );
    cache.put_session(
        cache.sessions_generation(),
        vec![2],
        clock.now(),
        two.clone(),
    );
    start_asking(&cache, &clock);
    clock.advance(REVALIDATE_EVERY);
    let slow = cache.revalidation_due(clock.now()).unwrap();
    // Unanswered for a second: the next question goes out and is answered first.
    clock.advance(FRESH_FOR);
    cache.put_session(
        cache.sessions_generation(),
        vec![1],
        clock.now(),
        one.clone(),
    );
    cache.put_session(
        cache.sessions_generation(),
        vec![2],
        clock.now(),
        two.clone(),
    );
    let fast = cache.revalidation_due(clock.now()).unwrap();
    cache.revalidated(&fast, Some(&ends(&[], 3)));
    cache.revalidated(&slow, Some(&ends(&[two.session.id], 2)));
    assert_eq!(
        cache.session(&[2], clock.now()),
        None,
        "its ends still count"
    );
    clock.advance(REVALIDATE_EVERY);
    let next = cache.revalidation_due(clock.now()).unwrap();
    assert_eq!(
        next.since.map(|(c, _)| c),
        Some(EndsCursor(3)),
        "the cursor stays where the newer answer left it"
    );
}

#[test]
fn an_answer_to_a_question_asked_before_a_sign_out_here_vouches_for_nothing() {
    let clock = FakeClock::at_epoch_2026();
    let cache = ForwardAuthCache::default();
    let s = signed_in(&clock);
    cache.put_session(cache.sessions_generation(), vec![1], clock.now(), s.clone());
    start_asking(&cache, &clock);
    clock.advance(REVALIDATE_EVERY);
    let asked = cache.revalidation_due(clock.now()).unwrap();
    cache.forget_sessions();
    cache.put_session(cache.sessions_generation(), vec![1], clock.now(), s);
    clock.advance(Duration::milliseconds(900));
    cache.revalidated(&asked, Some(&ends(&[], 2)));
    clock.advance(Duration::milliseconds(100));
    assert_eq!(
        cache.session(&[1], clock.now()),
        None,
        "not vouched for again"
    );
}

#[test]
fn a_quiet_cache_asks_nothing_and_starts_afresh() {
    let clock = FakeClock::at_epoch_2026();
    let cache = ForwardAuthCache::default();
    assert_eq!(cache.revalidation_due(clock.now()), None, "nothing cached");
    clock.advance(REVALIDATE_EVERY);
    cache.put_session(
        cache.sessions_generation(),
        vec![1],
        clock.now(),
        signed_in(&clock),
    );
    start_asking(&cache, &clock);
    clock.advance(IDLE_FOR + REVALIDATE_EVERY);
    assert_eq!(
        cache.revalidation_due(clock.now()),
        None,
        "unused entries go"
    );
    cache.put_session(
        cache.sessions_generation(),
        vec![1],
        clock.now(),
        signed_in(&clock),
    );
    clock.advance(REVALIDATE_EVERY);
    let asked = cache.revalidation_due(clock.now()).unwrap();
    assert_eq!(asked.since, None, "no ends of the quiet time to read");
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
    let mut next = 1;
    for _ in 0..119 {
        if let Some(asked) = cache.revalidation_due(clock.now()) {
            cache.revalidated(&asked, Some(&ends(&[], next)));
            next += 1;
        }
        clock.advance(REVALIDATE_EVERY);
        if next > 2 {
            assert!(cache.session(&[1], clock.now()).is_some());
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
