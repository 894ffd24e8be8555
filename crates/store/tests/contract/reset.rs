//! Password reset, recovery codes, security questions and the registration skips (migration
//! 0005), on both databases.

use std::collections::BTreeMap;

use tessera_core::audit::AuditAction;
use tessera_core::flow::FlowState;
use tessera_core::flow::effect::GatePass;
use tessera_core::flow::reset::{ResetCompletion, ResetFlow, ResetState};
use tessera_core::method::security_questions::CustomQuestion;
use tessera_core::method::{MethodStatus, recovery_codes};
use tessera_core::session::SessionKind;
use tessera_core::{AccountId, FlowId, MethodId, OsRandom};
use time::Duration;
use uuid::Uuid;

use crate::harness::{
    Db, at, completing, count, event, flow, on_all, seeded, seeded_method, session, to_registration,
};

/// `method` passed as a gate of the open flow at `at_secs`.
pub fn gate(flow: FlowId, method: MethodId, at_secs: i64) -> GatePass {
    GatePass::new(flow, method, at(at_secs)).expect("an open flow takes a gate")
}

/// The open flow of `account` completing at `at_secs` with `hash`.
pub fn completion(flow: FlowId, account: AccountId, hash: &str, at_secs: i64) -> ResetCompletion {
    ResetCompletion::new(flow, account, hash.into(), at(at_secs)).expect("an open flow completes")
}

pub fn reset_flow(account: Option<AccountId>, gates: u32) -> ResetFlow {
    ResetFlow {
        id: FlowId(Uuid::new_v4()),
        account_id: account,
        username: "alice".into(),
        gates_required: gates,
        gates_passed: Vec::new(),
        asked: None,
        state: ResetState::Open,
        created_at: at(0),
        expires_at: at(600),
    }
}

#[tokio::test]
async fn gates_are_passed_once_each_and_a_ready_flow_completes_once() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let started = || event(Some(alice.id), AuditAction::ResetStarted);
        let flow = reset_flow(Some(alice.id), 2);
        store
            .insert_reset_flow(&flow, &started())
            .await
            .expect("insert");
        let other = reset_flow(Some(alice.id), 1);
        store
            .insert_reset_flow(&other, &started())
            .await
            .expect("insert");
        assert_eq!(
            store.reset_flow(flow.id).await.expect("read"),
            Some(flow.clone())
        );
        let decoy = reset_flow(None, 1);
        store
            .insert_reset_flow(&decoy, &event(None, AuditAction::ResetStarted))
            .await
            .expect("decoy");
        assert_eq!(
            store
                .reset_flow(decoy.id)
                .await
                .expect("read")
                .map(|f| f.account_id),
            Some(None)
        );

        let (a, b, c) = (
            MethodId(Uuid::new_v4()),
            MethodId(Uuid::new_v4()),
            MethodId(Uuid::new_v4()),
        );
        let passed = |m| event(Some(alice.id), AuditAction::ResetGatePassed).method(m);
        let pass = |m: MethodId| {
            let audit = passed(m);
            async move { store.pass_reset_gate(&gate(flow.id, m, 10), &audit).await }
        };
        assert_eq!(pass(a).await.expect("pass"), Some(vec![a]));
        assert_eq!(
            pass(a).await.expect("again"),
            Some(vec![a]),
            "the same method counts once"
        );
        let sessions = [
            session(alice.id, SessionKind::Full),
            session(alice.id, SessionKind::Full),
        ];
        for s in &sessions {
            store.insert_session(s).await.expect("session");
        }
        let ended = || [event(Some(alice.id), AuditAction::PasswordReset)];
        assert!(
            !store
                .complete_reset(&completion(flow.id, alice.id, "$new", 20), &ended(), &[])
                .await
                .expect("not ready"),
            "one gate of two"
        );
        assert_eq!(pass(b).await.expect("pass"), Some(vec![a, b]));
        assert_eq!(
            pass(c).await.expect("third"),
            Some(vec![a, b]),
            "two gates at most"
        );
        assert_eq!(
            store
                .pass_reset_gate(&gate(flow.id, c, 600), &passed(c))
                .await
                .expect("late"),
            None,
            "an expired flow takes no gate"
        );
        assert!(
            !store
                .complete_reset(
                    &completion(flow.id, AccountId(Uuid::new_v4()), "$x", 20),
                    &ended(),
                    &[]
                )
                .await
                .expect("other"),
            "only for its own account"
        );

        assert!(
            store
                .complete_reset(&completion(flow.id, alice.id, "$new", 20), &ended(), &[])
                .await
                .expect("complete")
        );
        assert!(
            !store
                .complete_reset(&completion(flow.id, alice.id, "$again", 21), &ended(), &[])
                .await
                .expect("twice")
        );
        let account = store.account(alice.id).await.expect("read").expect("there");
        assert_eq!(account.password_hash, "$new");
        for s in &sessions {
            assert_eq!(
                store
                    .session_by_token_hash(&s.token_hash)
                    .await
                    .expect("read"),
                None
            );
        }
        assert_eq!(count(store, alice.id, AuditAction::PasswordReset).await, 1);
        let other = store
            .reset_flow(other.id)
            .await
            .expect("read")
            .expect("there");
        assert_eq!(
            other.state,
            ResetState::Completed,
            "the account's other resets end too"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_gates_fill_both_slots_and_the_first_asked_questions_stay() {
    on_all(|db: Db| async move {
        let alice = seeded(db.store.as_ref(), "alice").await;
        let flow = reset_flow(Some(alice.id), 2);
        db.store
            .insert_reset_flow(&flow, &event(Some(alice.id), AuditAction::ResetStarted))
            .await
            .expect("insert");
        let methods: Vec<MethodId> = (0..2).map(|_| MethodId(Uuid::new_v4())).collect();
        let tasks: Vec<_> = methods
            .iter()
            .map(|m| {
                let (store, m) = (db.store.clone(), *m);
                let audit = event(Some(alice.id), AuditAction::ResetGatePassed).method(m);
                tokio::spawn(
                    async move { store.pass_reset_gate(&gate(flow.id, m, 5), &audit).await },
                )
            })
            .collect();
        for t in tasks {
            t.await.expect("task").expect("pass");
        }
        let mut passed = db
            .store
            .reset_flow(flow.id)
            .await
            .expect("read")
            .expect("there")
            .gates_passed;
        passed.sort();
        let mut expected = methods.clone();
        expected.sort();
        assert_eq!(passed, expected);

        let asked = vec!["first-pet".to_string(), "first-book".to_string()];
        let got = db
            .store
            .ask_reset_questions(flow.id, methods[0], &asked)
            .await
            .expect("ask");
        assert_eq!(got, asked);
        let again = db
            .store
            .ask_reset_questions(flow.id, methods[0], &["dream-job".to_string()])
            .await
            .expect("again");
        assert_eq!(again, asked, "asked again, the same questions");
        let read = db
            .store
            .reset_flow(flow.id)
            .await
            .expect("read")
            .expect("there");
        assert_eq!(read.asked, Some((methods[0], asked)));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counters_count_every_hit_and_restart_with_a_new_window() {
    on_all(|db: Db| async move {
        let window = Duration::seconds(60);
        let tasks: Vec<_> = (0..40)
            .map(|_| {
                let store = db.store.clone();
                tokio::spawn(
                    async move { store.count_hit("reset:ip:192.0.2.1", at(0), window).await },
                )
            })
            .collect();
        let mut seen: Vec<u64> = Vec::new();
        for t in tasks {
            seen.push(t.await.expect("task").expect("hit").count);
        }
        seen.sort();
        assert_eq!(seen, (1..=40).collect::<Vec<_>>(), "every hit counted once");
        let hit = db
            .store
            .count_hit("reset:ip:192.0.2.1", at(59), window)
            .await
            .expect("hit");
        assert_eq!((hit.count, hit.window_start), (41, at(0)));
        let hit = db
            .store
            .count_hit("reset:ip:192.0.2.1", at(60), window)
            .await
            .expect("hit");
        assert_eq!((hit.count, hit.window_start), (1, at(60)), "a new window");
        let other = db
            .store
            .count_hit("reset:user:bob", at(60), window)
            .await
            .expect("hit");
        assert_eq!(other.count, 1);
        assert!(db.store.purge_reset(at(200)).await.expect("purge") >= 2);
        let hit = db
            .store
            .count_hit("reset:user:bob", at(201), window)
            .await
            .expect("hit");
        assert_eq!(hit.count, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_recovery_code_is_used_once_and_a_new_set_replaces_the_old() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let totp = seeded_method(store, alice.id, MethodStatus::Active, 0).await;
        let (first, _) =
            recovery_codes::generate(alice.id, MethodId(Uuid::new_v4()), at(1), &OsRandom);
        let made =
            |m: MethodId| event(Some(alice.id), AuditAction::RecoveryCodesGenerated).method(m);
        assert_eq!(
            store
                .replace_methods_of_kind(&first, &made(first.id), &[])
                .await
                .expect("insert"),
            vec![]
        );
        store
            .set_default_method(
                alice.id,
                Some(first.id),
                &event(Some(alice.id), AuditAction::DefaultMethodChanged),
            )
            .await
            .expect("default");

        let used = || event(Some(alice.id), AuditAction::RecoveryCodeUsed).method(first.id);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (store, audit) = (db.store.clone(), used());
                tokio::spawn(async move {
                    store
                        .use_recovery_code(first.id, 1 << 3, at(5), &audit, &[])
                        .await
                })
            })
            .collect();
        let mut wins = 0;
        for t in tasks {
            wins += usize::from(t.await.expect("task").expect("use"));
        }
        assert_eq!(wins, 1, "one node accepts a code");
        assert!(
            store
                .use_recovery_code(first.id, 1 << 0, at(6), &used(), &[])
                .await
                .expect("another")
        );
        let stored = store.method(first.id).await.expect("read").expect("there");
        assert_eq!(stored.last_step, Some(0b1001));
        assert_eq!(recovery_codes::remaining(&stored), 8);
        assert_eq!(
            count(store, alice.id, AuditAction::RecoveryCodeUsed).await,
            2
        );

        let (second, _) =
            recovery_codes::generate(alice.id, MethodId(Uuid::new_v4()), at(7), &OsRandom);
        let gone = store
            .replace_methods_of_kind(&second, &made(second.id), &[])
            .await
            .expect("replace");
        assert_eq!(gone, vec![first.id]);
        assert_eq!(store.method(first.id).await.expect("read"), None);
        assert!(
            store.method(totp.id).await.expect("read").is_some(),
            "other kinds stay"
        );
        let account = store.account(alice.id).await.expect("read").expect("there");
        assert_eq!(
            account.default_method,
            Some(second.id),
            "the default moves to the new set"
        );
        assert_eq!(store.method(second.id).await.expect("read"), Some(second));
    })
    .await;
}

#[tokio::test]
async fn custom_questions_are_kept_and_retired() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let question = CustomQuestion {
            id: "custom-1".into(),
            texts: BTreeMap::from([
                ("en".into(), "Mascot?".into()),
                ("nl".into(), "Mascotte?".into()),
            ]),
            created_at: at(0),
            retired: false,
        };
        store
            .insert_custom_question(&question, &event(None, AuditAction::SecurityQuestionAdded))
            .await
            .expect("insert");
        assert_eq!(
            store.custom_questions().await.expect("list"),
            vec![question.clone()]
        );
        let retire = event(None, AuditAction::SecurityQuestionRemoved);
        assert!(
            store
                .retire_custom_question("custom-1", &retire)
                .await
                .expect("retire")
        );
        assert!(
            !store
                .retire_custom_question("custom-1", &retire)
                .await
                .expect("twice")
        );
        assert!(
            !store
                .retire_custom_question("nope", &retire)
                .await
                .expect("unknown")
        );
        assert!(store.custom_questions().await.expect("list")[0].retired);
    })
    .await;
}

#[tokio::test]
async fn skips_are_counted_up_to_the_allowance() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let skipped = || event(Some(alice.id), AuditAction::RegistrationSkipped);
        assert_eq!(store.registration_skips(alice.id).await.expect("read"), 0);

        let first = flow(alice.id, FlowState::Registration);
        store.insert_flow(&first).await.expect("flow");
        let limited = session(alice.id, SessionKind::Registration);
        store.insert_session(&limited).await.expect("session");
        let full = session(alice.id, SessionKind::Full);
        assert!(
            store
                .skip_registration(
                    &completing(first.id, FlowState::Registration, &full, Some(limited.id)),
                    alice.id,
                    1,
                    &skipped(),
                )
                .await
                .expect("skip")
        );
        assert_eq!(store.registration_skips(alice.id).await.expect("read"), 1);
        assert_eq!(
            store.flow(first.id).await.expect("read").map(|f| f.state),
            Some(FlowState::Completed)
        );
        assert_eq!(
            store
                .session_by_token_hash(&limited.token_hash)
                .await
                .expect("read"),
            None
        );
        assert!(
            store
                .session_by_token_hash(&full.token_hash)
                .await
                .expect("read")
                .is_some()
        );

        let second = flow(alice.id, FlowState::Registration);
        store.insert_flow(&second).await.expect("flow");
        let another = session(alice.id, SessionKind::Full);
        assert!(
            !store
                .skip_registration(
                    &completing(
                        second.id,
                        FlowState::Registration,
                        &another,
                        Some(limited.id)
                    ),
                    alice.id,
                    1,
                    &skipped(),
                )
                .await
                .expect("no skip")
        );
        assert_eq!(
            store.flow(second.id).await.expect("read").map(|f| f.state),
            Some(FlowState::Registration)
        );
        assert_eq!(
            store
                .session_by_token_hash(&another.token_hash)
                .await
                .expect("read"),
            None,
            "nothing changed"
        );
        assert!(
            store
                .skip_registration(
                    &completing(
                        second.id,
                        FlowState::Registration,
                        &another,
                        Some(limited.id)
                    ),
                    alice.id,
                    2,
                    &skipped(),
                )
                .await
                .expect("allowed")
        );
        assert_eq!(
            count(store, alice.id, AuditAction::RegistrationSkipped).await,
            2
        );

        // After the second factor, on to registration: once.
        let mfa = flow(alice.id, FlowState::MfaRequired);
        store.insert_flow(&mfa).await.expect("flow");
        let mut limited = session(alice.id, SessionKind::Registration);
        limited.flow_id = Some(mfa.id);
        let required = || event(Some(alice.id), AuditAction::RegistrationRequired);
        assert!(
            store
                .move_flow(&to_registration(mfa.id, &limited), &required())
                .await
                .expect("on")
        );
        assert!(
            !store
                .move_flow(&to_registration(mfa.id, &limited), &required())
                .await
                .expect("again")
        );
        assert_eq!(
            store.flow(mfa.id).await.expect("read").map(|f| f.state),
            Some(FlowState::Registration)
        );
    })
    .await;
}
