use super::*;

fn rule(domains: &[&str], paths: &[&str], level: Level) -> Rule {
    Rule {
        domains: domains
            .iter()
            .map(|d| DomainPattern::parse(d).unwrap())
            .collect(),
        paths: paths
            .iter()
            .map(|p| PathPattern::parse(p).unwrap())
            .collect(),
        level,
        groups: vec![],
        max_age: None,
    }
}

fn at(url: &str) -> Requested {
    Requested::from_url(url).unwrap()
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

fn two_step(minutes_ago: i64) -> Proven {
    Proven {
        acr: Some(Acr::TwoStep),
        second_factor_at: Some(now() - Duration::minutes(minutes_ago)),
        groups: vec![],
    }
}

#[test]
fn domains_match_exactly_or_below_a_wildcard() {
    let exact = DomainPattern::parse("Wiki.Example.org").unwrap();
    assert!(exact.matches("wiki.example.org"));
    assert!(!exact.matches("x.wiki.example.org"));
    let any = DomainPattern::parse("*.example.org").unwrap();
    assert!(any.matches("wiki.example.org") && any.matches("a.b.example.org"));
    assert!(!any.matches("example.org"));
    assert!(!any.matches("evilexample.org"));
    assert!(!any.matches("example.org.evil.example"));
    assert_eq!(any.to_string(), "*.example.org");
    for bad in [
        "",
        "*.",
        "*",
        "a b",
        "a/b",
        "*.*.example.org",
        "ex..ample",
        "1.2.3.4",
        "a@b",
    ] {
        assert!(DomainPattern::parse(bad).is_none(), "{bad:?}");
    }
    // A Unicode name is kept in the form hosts arrive in.
    assert!(
        DomainPattern::parse("bücher.example")
            .unwrap()
            .to_string()
            .starts_with("xn--")
    );
}

#[test]
fn paths_match_exactly_or_by_prefix() {
    let admin = PathPattern::parse("/admin/*").unwrap();
    assert!(admin.matches("/admin") && admin.matches("/admin/") && admin.matches("/admin/x/y"));
    assert!(!admin.matches("/administrator") && !admin.matches("/"));
    let exact = PathPattern::parse("/healthz").unwrap();
    assert!(exact.matches("/healthz") && !exact.matches("/healthz/x"));
    assert!(PathPattern::parse("/*").unwrap().matches("/anything"));
    for bad in ["admin", "/a*b/*", "/a/../b/*", "/a//b", "/%2e%2e/*", ""] {
        assert!(PathPattern::parse(bad).is_none(), "{bad:?}");
    }
}

#[test]
fn the_first_matching_rule_decides_and_no_rule_denies() {
    let rules = vec![
        rule(&["wiki.example.org"], &["/public/*"], Level::Bypass),
        rule(
            &["wiki.example.org"],
            &["/admin/*"],
            Level::PhishingResistant,
        ),
        rule(&["*.example.org"], &[], Level::TwoFactor),
    ];
    let d = |url: &str, s: Option<&Proven>| decide(&rules, &at(url), s, false, now());
    assert_eq!(
        d("https://wiki.example.org/public/a", None),
        Verdict::Allow { rule: 0 }
    );
    assert_eq!(
        d("https://wiki.example.org/page", None),
        Verdict::SignIn { rule: 2 }
    );
    let s = two_step(1);
    assert_eq!(
        d("https://wiki.example.org/page", Some(&s)),
        Verdict::Allow { rule: 2 }
    );
    assert_eq!(
        d("https://wiki.example.org/admin/users", Some(&s)),
        Verdict::StepUp {
            rule: 1,
            level: Level::PhishingResistant
        }
    );
    // The same path written another way meets the same rule.
    assert_eq!(
        d("https://wiki.example.org/public/../admin/users", Some(&s)),
        Verdict::StepUp {
            rule: 1,
            level: Level::PhishingResistant
        }
    );
    let key = Proven {
        acr: Some(Acr::PhishingResistant),
        ..two_step(1)
    };
    assert_eq!(
        d("https://wiki.example.org/admin/users", Some(&key)),
        Verdict::Allow { rule: 1 }
    );
    assert_eq!(d("https://other.example.net/", Some(&key)), Verdict::NoRule);
    assert_eq!(d("https://example.org/", Some(&key)), Verdict::NoRule);
}

#[test]
fn groups_max_age_and_one_factor() {
    let mut ops = rule(&["ops.example.org"], &[], Level::TwoFactor);
    ops.groups = vec!["ops".into()];
    ops.max_age = Some(Duration::minutes(10));
    let legacy = rule(&["legacy.example.org"], &[], Level::OneFactor);
    let rules = vec![ops, legacy];
    let d = |url: &str, s: Option<&Proven>, one: bool| decide(&rules, &at(url), s, one, now());

    let outsider = two_step(1);
    assert_eq!(
        d("https://ops.example.org/", Some(&outsider), false),
        Verdict::Forbidden { rule: 0 }
    );
    let member = Proven {
        groups: vec!["staff".into(), "ops".into()],
        ..two_step(5)
    };
    assert_eq!(
        d("https://ops.example.org/", Some(&member), false),
        Verdict::Allow { rule: 0 }
    );
    let stale = Proven {
        groups: vec!["ops".into()],
        ..two_step(11)
    };
    assert_eq!(
        d("https://ops.example.org/", Some(&stale), false),
        Verdict::StepUp {
            rule: 0,
            level: Level::TwoFactor
        }
    );

    let password_only = Proven {
        acr: None,
        second_factor_at: None,
        groups: vec![],
    };
    assert_eq!(
        d("https://legacy.example.org/", Some(&password_only), false),
        Verdict::Forbidden { rule: 1 }
    );
    assert_eq!(
        d("https://legacy.example.org/", Some(&password_only), true),
        Verdict::Allow { rule: 1 }
    );
    assert_eq!(
        d("https://legacy.example.org/", None, true),
        Verdict::SignIn { rule: 1 }
    );
}
