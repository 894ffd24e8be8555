use tessera_core::ForwardAuthRuleId;
use tessera_core::audit::AuditAction;
use tessera_core::forward_auth::{DomainPattern, Level, PathPattern, Rule};
use tessera_core::session::{Session, SessionKind};
use tessera_core::store::forward_auth::{ForwardAuthSession, StoredRule};
use time::Duration;
use uuid::Uuid;

use crate::harness::{Db, at, count, event, on_all, seeded, session};

fn rule(domain: &str, level: Level) -> StoredRule {
    StoredRule {
        id: ForwardAuthRuleId(Uuid::new_v4()),
        rule: Rule {
            domains: vec![DomainPattern::parse(domain).expect("domain")],
            paths: vec![PathPattern::parse("/admin/*").expect("path")],
            level,
            groups: vec!["ops".into(), "tessera-admins".into()],
            max_age: Some(Duration::minutes(10)),
        },
        created_at: at(0),
    }
}

fn domains(rules: &[StoredRule]) -> Vec<String> {
    rules
        .iter()
        .map(|r| r.rule.domains[0].to_string())
        .collect()
}

#[tokio::test]
async fn rules_keep_their_order_and_what_they_say() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let admin = seeded(store, "admin").await;
        let ev = |a| event(Some(admin.id), a);
        let (a, b, c, d) = (
            rule("a.example.org", Level::TwoFactor),
            rule("b.example.org", Level::Bypass),
            rule("*.example.org", Level::PhishingResistant),
            rule("d.example.org", Level::OneFactor),
        );
        let created = || ev(AuditAction::ForwardAuthRuleCreated);
        store
            .insert_forward_auth_rule(&a, None, &created())
            .await
            .expect("a");
        store
            .insert_forward_auth_rule(&c, Some(9), &created())
            .await
            .expect("c");
        store
            .insert_forward_auth_rule(&b, Some(1), &created())
            .await
            .expect("b");
        store
            .insert_forward_auth_rule(&d, Some(0), &created())
            .await
            .expect("d");
        let rules = store.forward_auth_rules().await.expect("rules");
        assert_eq!(
            domains(&rules),
            [
                "d.example.org",
                "a.example.org",
                "b.example.org",
                "*.example.org"
            ]
        );
        assert_eq!(rules[1], a);

        let mut changed = c.clone();
        changed.rule.level = Level::TwoFactor;
        changed.rule.paths.clear();
        changed.rule.groups.clear();
        changed.rule.max_age = None;
        let change = || ev(AuditAction::ForwardAuthRuleChanged);
        assert!(
            store
                .update_forward_auth_rule(&changed, &change())
                .await
                .expect("update")
        );
        let missing = rule("x.example.org", Level::TwoFactor);
        assert!(
            !store
                .update_forward_auth_rule(&missing, &change())
                .await
                .expect("update")
        );
        assert_eq!(store.forward_auth_rules().await.expect("rules")[3], changed);

        let delete = || ev(AuditAction::ForwardAuthRuleDeleted);
        assert!(
            store
                .delete_forward_auth_rule(a.id, &delete())
                .await
                .expect("delete")
        );
        assert!(
            !store
                .delete_forward_auth_rule(a.id, &delete())
                .await
                .expect("again")
        );
        store
            .insert_forward_auth_rule(&a, Some(2), &created())
            .await
            .expect("a again");
        assert_eq!(
            domains(&store.forward_auth_rules().await.expect("rules")),
            [
                "d.example.org",
                "b.example.org",
                "a.example.org",
                "*.example.org"
            ]
        );
        assert_eq!(
            count(store, admin.id, AuditAction::ForwardAuthRuleCreated).await,
            5
        );
        assert_eq!(
            count(store, admin.id, AuditAction::ForwardAuthRuleChanged).await,
            1
        );
        assert_eq!(
            count(store, admin.id, AuditAction::ForwardAuthRuleDeleted).await,
            1
        );
    })
    .await;
}

#[tokio::test]
async fn a_rule_moves_and_the_others_keep_their_order() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let admin = seeded(store, "admin").await;
        let created = || event(Some(admin.id), AuditAction::ForwardAuthRuleCreated);
        let moved = || event(Some(admin.id), AuditAction::ForwardAuthRuleChanged);
        let rules: Vec<StoredRule> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|n| rule(&format!("{n}.example.org"), Level::TwoFactor))
            .collect();
        for r in &rules {
            store
                .insert_forward_auth_rule(r, None, &created())
                .await
                .expect("insert");
        }
        // A gap in the positions, as a deletion leaves.
        store
            .delete_forward_auth_rule(rules[2].id, &moved())
            .await
            .expect("delete");
        let order = || async {
            domains(&store.forward_auth_rules().await.expect("rules"))
                .iter()
                .map(|d| d[..1].to_string())
                .collect::<Vec<_>>()
        };
        let mv = |i: usize, to: u32| {
            let id = rules[i].id;
            async move {
                store
                    .move_forward_auth_rule(id, to, &moved())
                    .await
                    .expect("move")
            }
        };
        assert!(mv(4, 0).await);
        assert_eq!(order().await, ["e", "a", "b", "d"]);
        assert!(mv(4, 2).await);
        assert_eq!(order().await, ["a", "b", "e", "d"]);
        assert!(mv(0, 99).await, "past the end is the end");
        assert_eq!(order().await, ["b", "e", "d", "a"]);
        assert!(mv(3, 2).await, "its own place");
        assert_eq!(order().await, ["b", "e", "d", "a"]);
        assert!(!mv(2, 0).await, "a deleted rule");
        assert_eq!(order().await, ["b", "e", "d", "a"]);
        let rule_a = store.forward_auth_rules().await.expect("rules")[3].clone();
        assert_eq!(rule_a, rules[0], "what it says is unchanged");

        // An insert before a moved rule still goes where it is asked.
        let f = rule("f.example.org", Level::Bypass);
        store
            .insert_forward_auth_rule(&f, Some(1), &created())
            .await
            .expect("insert f");
        assert_eq!(order().await, ["b", "f", "e", "d", "a"]);
        assert_eq!(
            count(store, admin.id, AuditAction::ForwardAuthRuleChanged).await,
            5,
            "a deletion and four moves; none for the rule that is not there"
        );
    })
    .await;
}

#[tokio::test]
async fn a_forward_auth_session_ends_with_its_session() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let s = session(alice.id, SessionKind::Full);
        store.insert_session(&s).await.expect("session");
        let fa = ForwardAuthSession {
            token_hash: Uuid::new_v4().as_bytes().to_vec(),
            session_id: s.id,
            created_at: at(10),
            expires_at: at(600),
        };
        let allowed = || event(Some(alice.id), AuditAction::ForwardAuthAllowed);
        store
            .insert_forward_auth_session(&fa, &allowed())
            .await
            .expect("insert");
        assert_eq!(
            count(store, alice.id, AuditAction::ForwardAuthAllowed).await,
            1
        );

        let by = |hash: Vec<u8>, secs: i64| async move {
            store
                .forward_auth_session(&hash, at(secs))
                .await
                .expect("by hash")
        };
        assert_eq!(
            by(fa.token_hash.clone(), 20).await,
            Some((s.clone(), at(600))),
            "the session, and when the token expires"
        );
        assert_eq!(
            by(s.token_hash.clone(), 20).await,
            None,
            "the session's own token"
        );
        assert_eq!(by(fa.token_hash.clone(), 600).await, None, "expired");

        let orphan = ForwardAuthSession {
            token_hash: Uuid::new_v4().as_bytes().to_vec(),
            session_id: session(alice.id, SessionKind::Full).id,
            ..fa.clone()
        };
        assert!(
            store
                .insert_forward_auth_session(&orphan, &allowed())
                .await
                .is_err(),
            "a session that does not exist"
        );

        store.delete_session(s.id, None).await.expect("sign out");
        assert_eq!(by(fa.token_hash.clone(), 20).await, None, "signed out");
    })
    .await;
}

/// Each way a session can end, as the log of ends must list it after it commits: a
/// sign-out, every session of an account at once, and the purge of expired ones.
#[tokio::test]
async fn every_end_of_a_session_is_listed_after_it_commits() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let bob = seeded(store, "bob").await;
        let start = store.session_ends_since(None).await.expect("start");
        assert!(start.ended.is_empty(), "the first answer lists nothing");

        let (signed_out, kept) = (
            session(alice.id, SessionKind::Full),
            session(alice.id, SessionKind::Full),
        );
        let (bobs, expired) = (
            session(bob.id, SessionKind::Full),
            Session {
                expires_at: at(30),
                ..session(alice.id, SessionKind::Full)
            },
        );
        for s in [&signed_out, &kept, &bobs, &expired] {
            store.insert_session(s).await.expect("session");
        }
        let none_yet = store
            .session_ends_since(Some(start.next))
            .await
            .expect("ends");
        for s in [&signed_out, &kept, &bobs, &expired] {
            assert!(!none_yet.ended.contains(&s.id), "not ended yet");
        }

        store
            .delete_session(signed_out.id, None)
            .await
            .expect("sign out");
        let first = store
            .session_ends_since(Some(none_yet.next))
            .await
            .expect("ends");
        assert!(first.ended.contains(&signed_out.id), "a sign-out");
        assert!(!first.ended.contains(&kept.id));

        store
            .delete_sessions_of(bob.id, &event(Some(bob.id), AuditAction::SessionsEnded))
            .await
            .expect("end bob's");
        store.purge_expired(at(60)).await.expect("purge");
        let second = store
            .session_ends_since(Some(first.next))
            .await
            .expect("ends");
        assert!(second.ended.contains(&bobs.id), "all of an account's");
        assert!(second.ended.contains(&expired.id), "the purge");
        assert!(!second.ended.contains(&kept.id), "a live session never");
        // Listing an end again is allowed (PostgreSQL lists the ends of every transaction
        // that was still running at the last question), so that is not asserted.
    })
    .await;
}

/// The forward-auth check's touches, many in one statement: each session's own time, never
/// moving a last-seen time back.
#[tokio::test]
async fn sessions_are_touched_together_each_at_its_own_time() {
    on_all(|db: Db| async move {
        let store = db.store.as_ref();
        let alice = seeded(store, "alice").await;
        let (a, b) = (
            session(alice.id, SessionKind::Full),
            Session {
                last_seen_at: at(500),
                ..session(alice.id, SessionKind::Full)
            },
        );
        for s in [&a, &b] {
            store.insert_session(s).await.expect("session");
        }
        store
            .touch_sessions(&[(a.id, at(100)), (b.id, at(200))])
            .await
            .expect("touch");
        let seen = |s: &Session| {
            let hash = s.token_hash.clone();
            async move {
                store
                    .session_by_token_hash(&hash)
                    .await
                    .expect("read")
                    .expect("there")
                    .last_seen_at
            }
        };
        assert_eq!(seen(&a).await, at(100));
        assert_eq!(seen(&b).await, at(500), "never back");
    })
    .await;
}
