//! Managing forward authentication's access rules: the admin API
//! (`/api/v1/admin/forward-auth/rules…`) and the admin page (`/admin/forward-auth`). Rules
//! keep their order, move, and take effect at the proxy's endpoint at once; a bad rule is
//! refused naming its field; a normal person is refused.

use crate::admin::admin;
use crate::admin_pages::{page_get, page_post};
use crate::common::{Harness, each_backend, each_backend_with};
use serde_json::{Value, json};
use tessera_core::AuditAction;
use tessera_core::store::admin::{AuditFilter, AuditPage};
use tessera_server::config::ServerConfig;

const RULES: &str = "/api/v1/admin/forward-auth/rules";
const WIKI: &str = "https://wiki.example.org/page";

fn configure(c: &mut ServerConfig) {
    c.forward_auth_cookie_domain = Some("example.org".into());
}

/// The proxy's answer for `url` to someone without a forward-auth cookie.
async fn check(h: &Harness, url: &str) -> u16 {
    reqwest::Client::new()
        .get(h.url("/api/v1/authz/forward-auth"))
        .header("X-Original-URL", url)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn domains(list: &Value) -> Vec<String> {
    list["rules"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, r)| {
            assert_eq!(r["position"], i, "{list}");
            r["domains"][0].as_str().unwrap().to_string()
        })
        .collect()
}

fn id(rule: &Value) -> String {
    rule["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_admin_keeps_rules_in_order_and_they_take_effect_at_once() {
    each_backend_with(configure, |h: Harness| async move {
        let c = h.client();
        let (token, _) = admin(&h, &c, "ada@example.org").await;
        let (status, body) = h.get(&c, RULES, Some(&token)).await;
        assert_eq!((status, body), (200, json!({"rules": []})));
        assert_eq!(check(&h, WIKI).await, 403, "no rule: denied");

        // Open to everyone: the proxy lets the request through without a sign-in.
        let (status, open) = h
            .post(
                &c,
                RULES,
                Some(&token),
                json!({"domains": ["WIKI.example.org", " "], "level": "bypass"}),
            )
            .await;
        assert_eq!(status, 201, "{open}");
        assert_eq!(open["domains"], json!(["wiki.example.org"]));
        assert_eq!(open["paths"], json!([]));
        assert_eq!(open["groups"], json!([]));
        assert_eq!(open["max_age_secs"], Value::Null);
        assert_eq!(open["position"], 0);
        assert_eq!(check(&h, WIKI).await, 200);

        // A rule before it decides first: now a sign-in is needed.
        let (status, strict) = h
            .post(
                &c,
                RULES,
                Some(&token),
                json!({
                    "domains": ["wiki.example.org"],
                    "paths": ["/page", "/admin/*"],
                    "groups": ["ops", "tessera-admins"],
                    "max_age_secs": 600,
                    "position": 0,
                }),
            )
            .await;
        assert_eq!(status, 201, "{strict}");
        assert_eq!(strict["level"], "two_factor", "the default");
        assert_eq!(strict["position"], 0);
        assert_eq!(strict["max_age_secs"], 600);
        assert_eq!(strict["groups"], json!(["ops", "tessera-admins"]));
        assert_eq!(check(&h, WIKI).await, 401);
        let (_, last) = h
            .post(
                &c,
                RULES,
                Some(&token),
                json!({"domains": ["*.example.org"], "level": "phishing_resistant",
                       "position": 99}),
            )
            .await;
        assert_eq!(last["position"], 2, "past the end: last");
        let (_, list) = h.get(&c, RULES, Some(&token)).await;
        assert_eq!(
            domains(&list),
            ["wiki.example.org", "wiki.example.org", "*.example.org"]
        );
        assert_eq!(list["rules"][1]["level"], "bypass");

        // Moved first, the open rule decides again.
        let (status, list) = h
            .post(
                &c,
                &format!("{RULES}/{}/move", id(&open)),
                Some(&token),
                json!({"position": 0}),
            )
            .await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(id(&list["rules"][0]), id(&open));
        assert_eq!(id(&list["rules"][1]), id(&strict));
        assert_eq!(check(&h, WIKI).await, 200);
        let (status, _) = h
            .post(
                &c,
                &format!("{RULES}/{}/move", id(&open)),
                Some(&token),
                json!({"position": 7}),
            )
            .await;
        assert_eq!(status, 200);
        let (status, shown) = h
            .get(&c, &format!("{RULES}/{}", id(&open)), Some(&token))
            .await;
        assert_eq!((status, &shown["position"]), (200, &json!(2)));
        assert_eq!(check(&h, WIKI).await, 401);

        // Changed: what it says, not its place.
        let (status, changed) = h
            .put(
                &c,
                &format!("{RULES}/{}", id(&strict)),
                &token,
                json!({"domains": ["wiki.example.org"], "paths": ["/other"],
                       "level": "one_factor"}),
            )
            .await;
        assert_eq!(status, 200, "{changed}");
        assert_eq!(changed["position"], 0);
        assert_eq!(changed["level"], "one_factor");
        assert_eq!(changed["groups"], json!([]), "left out: the default");
        assert_eq!(changed["created_at"], strict["created_at"]);
        // `/page` now falls through to `*.example.org`, which wants a security key.
        assert_eq!(check(&h, WIKI).await, 401);

        // Deleted: the requests it decided fall to the next rule, or are denied.
        let (status, _) = h
            .delete(&c, &format!("{RULES}/{}", id(&last)), &token)
            .await;
        assert_eq!(status, 204);
        assert_eq!(check(&h, WIKI).await, 200, "the open rule, now last");
        for r in [&strict, &open] {
            let (status, _) = h.delete(&c, &format!("{RULES}/{}", id(r)), &token).await;
            assert_eq!(status, 204);
        }
        assert_eq!(check(&h, WIKI).await, 403);
        let gone = format!("{RULES}/{}", id(&open));
        let (status, body) = h.get(&c, &gone, Some(&token)).await;
        assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
        assert_eq!(h.delete(&c, &gone, &token).await.0, 404);
        let moved = h
            .post(
                &c,
                &format!("{gone}/move"),
                Some(&token),
                json!({"position": 0}),
            )
            .await;
        assert_eq!(moved.0, 404);
        for path in [gone.clone(), format!("{RULES}/no%00pe")] {
            let body = json!({"domains": ["x.example.org"]});
            assert_eq!(h.put(&c, &path, &token, body).await.0, 404, "{path}");
        }

        let ada = h
            .store()
            .account_by_username("ada@example.org")
            .await
            .unwrap()
            .unwrap();
        let count = |action: AuditAction| {
            let filter = AuditFilter {
                action: Some(action),
                ..AuditFilter::default()
            };
            let h = &h;
            let by = ada.id.to_string();
            async move {
                let page = AuditPage::NewestFirst { before: None };
                let events = h.store().audit_page(&filter, page, 100).await.unwrap();
                assert!(events.iter().all(|e| e.event.detail["by"] == by.as_str()));
                events.len()
            }
        };
        assert_eq!(count(AuditAction::ForwardAuthRuleCreated).await, 3);
        assert_eq!(
            count(AuditAction::ForwardAuthRuleChanged).await,
            3,
            "two moves"
        );
        assert_eq!(count(AuditAction::ForwardAuthRuleDeleted).await, 3);
    })
    .await;
}

#[tokio::test]
async fn bad_rules_are_refused_naming_the_field() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _) = admin(&h, &c, "ada@example.org").await;
        let many: Vec<String> = (0..=50).map(|i| format!("/p{i}")).collect();
        let cases = [
            (json!({"domains": []}), "domains"),
            (json!({"domains": [" "]}), "domains"),
            (json!({"domains": ["a/b.example.org"]}), "domains"),
            (json!({"domains": ["wiki.example.org\u{0}"]}), "domains"),
            (json!({"paths": ["admin"]}), "paths"),
            (json!({"paths": ["/a/../b"]}), "paths"),
            (json!({"paths": ["/a\u{7}"]}), "paths"),
            (json!({"paths": many}), "paths"),
            (json!({"groups": ["a,b"]}), "groups"),
            (json!({"groups": ["ops\u{0}"]}), "groups"),
            (json!({"max_age_secs": 59}), "max_age_secs"),
            (json!({"level": "bypass", "groups": ["ops"]}), "level"),
            (json!({"level": "bypass", "max_age_secs": 600}), "level"),
            (json!({"level": "strong"}), "body"),
            (json!({"max_age_secs": -1}), "body"),
            (json!({"position": -1}), "body"),
        ];
        for (change, field) in cases {
            let mut body = json!({"domains": ["wiki.example.org"]});
            for (k, v) in change.as_object().unwrap() {
                body[k] = v.clone();
            }
            let (status, answer) = h.post(&c, RULES, Some(&token), body.clone()).await;
            assert_eq!(
                (status, answer["error"].as_str(), answer["field"].as_str()),
                (400, Some("bad_request"), Some(field)),
                "{body}: {answer}"
            );
        }
        let (_, body) = h.get(&c, RULES, Some(&token)).await;
        assert_eq!(body["rules"], json!([]), "nothing was made");

        let (_, rule) = h
            .post(
                &c,
                RULES,
                Some(&token),
                json!({"domains": ["wiki.example.org"]}),
            )
            .await;
        let one = format!("{RULES}/{}", id(&rule));
        let (status, answer) = h
            .put(
                &c,
                &one,
                &token,
                json!({"domains": ["wiki.example.org"], "max_age_secs": 1}),
            )
            .await;
        assert_eq!(
            (status, answer["field"].as_str()),
            (400, Some("max_age_secs"))
        );
        let (status, answer) = h
            .post(
                &c,
                &format!("{one}/move"),
                Some(&token),
                json!({"position": "x"}),
            )
            .await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (400, Some("bad_request"))
        );
        let (_, shown) = h.get(&c, &one, Some(&token)).await;
        assert_eq!(shown["max_age_secs"], Value::Null, "unchanged");
    })
    .await;
}

#[tokio::test]
async fn a_normal_person_may_not_manage_rules() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (admin_token, _) = admin(&h, &c, "ada@example.org").await;
        let rule = json!({"domains": ["wiki.example.org"]});
        let (_, body) = h.post(&c, RULES, Some(&admin_token), rule.clone()).await;
        let one = format!("{RULES}/{}", id(&body));
        let (token, _, _) = h.enrolled_user(&c, "nora@example.org").await;
        for (status, body) in [
            h.get(&c, RULES, Some(&token)).await,
            h.get(&c, &one, Some(&token)).await,
            h.post(&c, RULES, Some(&token), rule.clone()).await,
            h.put(&c, &one, &token, json!({"domains": ["evil.example"]}))
                .await,
            h.delete(&c, &one, &token).await,
            h.post(
                &c,
                &format!("{one}/move"),
                Some(&token),
                json!({"position": 0}),
            )
            .await,
        ] {
            assert_eq!(
                (status, body["error"].as_str()),
                (403, Some("not_allowed")),
                "{body}"
            );
        }
        assert_eq!(h.get(&c, RULES, None).await.0, 401);
        let (_, list) = h.get(&c, RULES, Some(&admin_token)).await;
        assert_eq!(domains(&list), ["wiki.example.org"], "unchanged");

        // Nor the page.
        for path in ["/admin/forward-auth", "/admin/forward-auth/new"] {
            assert_eq!(page_get(&h, &c, &token, path).await.status(), 403);
        }
        let r = page_post(
            &h,
            &c,
            &token,
            "/admin/forward-auth/new",
            &[("domains", "evil.example"), ("level", "bypass")],
        )
        .await;
        assert_eq!(r.status(), 403);
        assert_eq!(h.store().forward_auth_rules().await.unwrap().len(), 1);
    })
    .await;
}

async fn text(r: reqwest::Response) -> (u16, String) {
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The text of the element with `id` in `html`.
fn text_of(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in:\n{html}"))
        + marker.len();
    html[start..][..html[start..].find('<').unwrap()].to_string()
}

/// The rules' first domains, in order, from the store.
async fn order(h: &Harness) -> Vec<String> {
    h.store()
        .forward_auth_rules()
        .await
        .unwrap()
        .iter()
        .map(|r| r.rule.domains[0].to_string())
        .collect()
}

#[tokio::test]
async fn the_admin_page_adds_changes_moves_and_deletes_rules() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _) = admin(&h, &c, "ada@example.org").await;
        let (status, html) = text(page_get(&h, &c, &token, "/admin/forward-auth").await).await;
        assert_eq!(status, 200);
        assert!(html.contains("href=\"/admin/forward-auth\" aria-current=\"page\""));
        assert!(html.contains("the first rule that matches"), "{html}");
        assert!(html.contains("matches no rule is denied"), "{html}");
        assert!(html.contains("id=\"no-rules\""), "{html}");

        // Refused fields are said next to them, and what was typed stays.
        let form = [
            ("domains", "wiki.example.org\r\nnot a domain"),
            ("paths", "/admin/*\r\nrelative"),
            ("level", "two_factor"),
            ("groups", ""),
            ("max_age", "ten"),
            ("position", "end"),
        ];
        let (status, html) =
            text(page_post(&h, &c, &token, "/admin/forward-auth/new", &form).await).await;
        assert_eq!(status, 400, "{html}");
        assert!(html.contains("Check the fields marked below."), "{html}");
        assert_eq!(
            text_of(&html, "max_age-error"),
            "Enter a whole number of minutes from 1 to 43200, or leave it empty."
        );
        assert!(html.contains("not a domain</textarea>"), "{html}");
        let mut form = form;
        form[4].1 = "10";
        let (status, html) =
            text(page_post(&h, &c, &token, "/admin/forward-auth/new", &form).await).await;
        assert_eq!(status, 400);
        assert_eq!(
            text_of(&html, "domains-error"),
            "not a domain is not a domain name, nor *. and a domain name."
        );
        form[0].1 = "wiki.example.org";
        let (status, html) =
            text(page_post(&h, &c, &token, "/admin/forward-auth/new", &form).await).await;
        assert_eq!(status, 400);
        assert!(text_of(&html, "paths-error").starts_with("relative is not a path"));
        let bypass = [
            ("domains", "wiki.example.org"),
            ("level", "bypass"),
            ("groups", "ops"),
        ];
        let (status, html) =
            text(page_post(&h, &c, &token, "/admin/forward-auth/new", &bypass).await).await;
        assert_eq!(status, 400);
        assert_eq!(
            text_of(&html, "level-error"),
            "A rule open to everyone cannot name groups or a maximum age."
        );
        let control = [("domains", "wiki.example.org"), ("groups", "ops\u{1}")];
        let (status, html) =
            text(page_post(&h, &c, &token, "/admin/forward-auth/new", &control).await).await;
        assert_eq!(status, 400);
        assert_eq!(
            text_of(&html, "groups-error"),
            "This cannot contain control characters."
        );
        assert!(h.store().forward_auth_rules().await.unwrap().is_empty());

        // Added, at the end and then before the first.
        form[1].1 = "/admin/*";
        let r = page_post(&h, &c, &token, "/admin/forward-auth/new", &form).await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/admin/forward-auth?done=added");
        let open = [
            ("domains", "public.example.org, docs.example.org"),
            ("paths", ""),
            ("level", "bypass"),
            ("max_age", ""),
            ("position", "0"),
        ];
        let r = page_post(&h, &c, &token, "/admin/forward-auth/new", &open).await;
        assert_eq!(r.status(), 303);
        let (_, html) = text(page_get(&h, &c, &token, "/admin/forward-auth/new").await).await;
        assert!(
            html.contains("Before rule 2 (wiki.example.org)"),
            "the places: {html}"
        );
        assert_eq!(order(&h).await, ["public.example.org", "wiki.example.org"]);
        let rules = h.store().forward_auth_rules().await.unwrap();
        assert_eq!(rules[0].rule.domains.len(), 2);
        assert_eq!(rules[1].rule.max_age, Some(time::Duration::minutes(10)));
        let (public, wiki) = (rules[0].id.to_string(), rules[1].id.to_string());

        let (_, html) =
            text(page_get(&h, &c, &token, "/admin/forward-auth?done=added").await).await;
        assert!(html.contains("The rule is added."));
        assert!(
            html.contains("public.example.org, docs.example.org")
                && html.contains("None (open to everyone)")
                && html.contains("Two-step verification")
                && html.contains("10 min")
                && html.contains("Every path")
                && html.contains("Everyone"),
            "{html}"
        );

        // Moved down, then up again.
        let moved = |id: &str, direction: &'static str| {
            let path = format!("/admin/forward-auth/{id}/move");
            let c = c.clone();
            let token = token.clone();
            let h = &h;
            async move { page_post(h, &c, &token, &path, &[("direction", direction)]).await }
        };
        let r = moved(&public, "down").await;
        assert_eq!(r.status(), 303);
        assert_eq!(
            r.headers()["location"],
            format!("/admin/forward-auth?done=moved#rule-{public}")
        );
        assert_eq!(order(&h).await, ["wiki.example.org", "public.example.org"]);
        moved(&public, "down").await;
        assert_eq!(
            order(&h).await,
            ["wiki.example.org", "public.example.org"],
            "already last"
        );
        moved(&public, "up").await;
        assert_eq!(order(&h).await, ["public.example.org", "wiki.example.org"]);

        // Changed: the form shows it as stored.
        let page = format!("/admin/forward-auth/{wiki}");
        let (status, html) = text(page_get(&h, &c, &token, &page).await).await;
        assert_eq!(status, 200);
        assert!(html.contains(">/admin/*</textarea>"), "{html}");
        assert!(html.contains("value=\"10\""), "{html}");
        let change = [
            ("domains", "wiki.example.org"),
            ("paths", ""),
            ("level", "phishing_resistant"),
            ("groups", "ops\nsre"),
            ("max_age", ""),
        ];
        let r = page_post(&h, &c, &token, &page, &change).await;
        assert_eq!(r.headers()["location"], "/admin/forward-auth?done=saved");
        let rules = h.store().forward_auth_rules().await.unwrap();
        let changed = &rules[1];
        assert_eq!(changed.rule.groups, ["ops", "sre"]);
        assert_eq!(changed.rule.max_age, None);
        assert!(changed.rule.paths.is_empty());

        // Deleted after a confirmation.
        let delete = format!("{page}/delete");
        let (_, html) = text(page_get(&h, &c, &token, &delete).await).await;
        assert!(html.contains("Delete rule 2 (wiki.example.org)?"), "{html}");
        let (status, html) = text(page_post(&h, &c, &token, &delete, &[]).await).await;
        assert_eq!(status, 200);
        assert!(html.contains("Delete rule 2 (wiki.example.org)?"));
        assert_eq!(order(&h).await.len(), 2);
        let r = page_post(&h, &c, &token, &delete, &[("confirm", "yes")]).await;
        assert_eq!(r.headers()["location"], "/admin/forward-auth?done=deleted");
        assert_eq!(order(&h).await, ["public.example.org"]);
        assert_eq!(page_get(&h, &c, &token, &page).await.status(), 404);
    })
    .await;
}
