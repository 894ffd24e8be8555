//! App passwords: created (shown once), used by a legacy app through a service's `/verify`,
//! listed, deleted; at most 40; off unless the policy allows them.

use crate::common::{Harness, each_backend};
use crate::verify_api::{ask, service_key};
use serde_json::{Value, json};

fn reason(answer: &Value) -> (bool, &str) {
    (
        answer["valid"].as_bool().unwrap_or(false),
        answer["reason"].as_str().unwrap_or(""),
    )
}

#[tokio::test]
async fn app_passwords_are_off_unless_the_policy_allows_them() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, _, key) = service_key(&h, &c).await;
        let (token, _, _) = h.enrolled_user(&c, "ann@example.org").await;
        let (status, body) = h
            .post(
                &c,
                "/api/v1/me/app-passwords",
                Some(&token),
                json!({"name": "Mail"}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("not_allowed")),
            "{body}"
        );
        let (_, list) = h.get(&c, "/api/v1/me/app-passwords", Some(&token)).await;
        assert_eq!(list["allowed"], false);
        assert!(list["app_passwords"].as_array().unwrap().is_empty());
        let (_, a) = ask(
            &h,
            &c,
            &key,
            json!({"username": "ann@example.org", "app_password": "abcd efgh ijkl mnop"}),
        )
        .await;
        assert_eq!(reason(&a), (false, "app_passwords_not_allowed"));

        // One made while allowed stops working when the policy turns them off.
        h.set_policy("app_passwords_allowed", "true").await;
        let (status, made) = h
            .post(
                &c,
                "/api/v1/me/app-passwords",
                Some(&token),
                json!({"name": "Mail"}),
            )
            .await;
        assert_eq!(status, 201, "{made}");
        let password = made["password"].as_str().unwrap();
        let (_, a) = ask(
            &h,
            &c,
            &key,
            json!({"username": "ann@example.org", "app_password": password}),
        )
        .await;
        assert_eq!(reason(&a), (true, "ok"));
        h.set_policy("app_passwords_allowed", "false").await;
        h.advance(6);
        let (_, a) = ask(
            &h,
            &c,
            &key,
            json!({"username": "ann@example.org", "app_password": password}),
        )
        .await;
        assert_eq!(reason(&a), (false, "app_passwords_not_allowed"));
    })
    .await;
}

#[tokio::test]
async fn an_app_password_is_shown_once_used_through_verify_and_deleted() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        h.set_policy("app_passwords_allowed", "true").await;
        let (admin_token, _, key) = service_key(&h, &c).await;
        let (token, _, _) = h.enrolled_user(&c, "bea@example.org").await;
        let (status, body) = h
            .post(
                &c,
                "/api/v1/me/app-passwords",
                Some(&token),
                json!({"name": "  "}),
            )
            .await;
        assert_eq!((status, body["field"].as_str()), (400, Some("name")));
        let (status, made) = h
            .post(
                &c,
                "/api/v1/me/app-passwords",
                Some(&token),
                json!({"name": "Old mail client"}),
            )
            .await;
        assert_eq!(status, 201, "{made}");
        let password = made["password"].as_str().unwrap().to_string();
        let groups: Vec<&str> = password.split(' ').collect();
        assert_eq!(groups.len(), 4, "{password}");
        assert!(
            groups
                .iter()
                .all(|g| g.len() == 4 && g.chars().all(|c| c.is_ascii_lowercase()))
        );
        let id = made["app_password"]["id"].as_str().unwrap().to_string();

        let (_, list) = h.get(&c, "/api/v1/me/app-passwords", Some(&token)).await;
        let listed = &list["app_passwords"][0];
        assert_eq!(listed["name"], "Old mail client");
        assert!(listed["created_at"].is_string() && listed["last_used_at"].is_null());
        assert!(!list.to_string().contains(&password), "shown once: {list}");

        // The legacy app signs in through a service, typed any way.
        let typed = password.replace(' ', "").to_uppercase();
        let (_, a) = ask(
            &h,
            &c,
            &key,
            json!({"username": "bea@example.org", "app_password": typed}),
        )
        .await;
        assert_eq!(reason(&a), (true, "ok"), "{a}");
        let (_, a) = ask(
            &h,
            &c,
            &key,
            json!({"username": "bea@example.org", "app_password": "abcd efgh ijkl mnop"}),
        )
        .await;
        assert_eq!(reason(&a), (false, "invalid_credentials"));
        let (_, a) = ask(
            &h,
            &c,
            &key,
            json!({"username": "zed@example.org", "app_password": password}),
        )
        .await;
        assert_eq!(
            reason(&a),
            (false, "invalid_credentials"),
            "another username"
        );
        let (_, list) = h.get(&c, "/api/v1/me/app-passwords", Some(&token)).await;
        assert!(
            list["app_passwords"][0]["last_used_at"].is_string(),
            "{list}"
        );
        // It never signs in to Tessera itself.
        let (status, _) = h
            .post(
                &c,
                "/api/v1/sign-in",
                None,
                json!({"username": "bea@example.org", "password": password}),
            )
            .await;
        assert_eq!(status, 401);

        let (status, _) = h
            .delete(&c, &format!("/api/v1/me/app-passwords/{id}"), &token)
            .await;
        assert_eq!(status, 204);
        let (status, _) = h
            .delete(&c, &format!("/api/v1/me/app-passwords/{id}"), &token)
            .await;
        assert_eq!(status, 404);
        let (_, a) = ask(
            &h,
            &c,
            &key,
            json!({"username": "bea@example.org", "app_password": password}),
        )
        .await;
        assert_eq!(
            reason(&a),
            (false, "invalid_credentials"),
            "a deleted one stops working"
        );

        // The admin sees them listed, and both changes in the log.
        let bea = crate::admin::id_of(&h, "bea@example.org").await;
        let events = crate::admin::audit_of(&h, &c, &admin_token, &bea).await;
        let seen: Vec<&str> = events
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert!(
            seen.contains(&"app_password_created") && seen.contains(&"app_password_deleted"),
            "{seen:?}"
        );
        let (_, a) = ask(
            &h,
            &c,
            &key,
            json!({"username": "bea@example.org", "app_password": password}),
        )
        .await;
        assert_eq!(reason(&a), (false, "invalid_credentials"));
    })
    .await;
}

#[tokio::test]
async fn at_most_forty_app_passwords_and_creating_one_needs_a_recent_second_factor() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        h.set_policy("app_passwords_allowed", "true").await;
        let (token, method, secret) = h.enrolled_user(&c, "cal@example.org").await;
        for i in 0..40 {
            let (status, body) = h
                .post(
                    &c,
                    "/api/v1/me/app-passwords",
                    Some(&token),
                    json!({"name": format!("App {i}")}),
                )
                .await;
            assert_eq!(status, 201, "{i}: {body}");
        }
        let (status, body) = h
            .post(
                &c,
                "/api/v1/me/app-passwords",
                Some(&token),
                json!({"name": "One too many"}),
            )
            .await;
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some("app_passwords")),
            "{body}"
        );
        assert_eq!(
            body["message"],
            "Check the number of app passwords: use at most 40."
        );
        let (_, list) = h.get(&c, "/api/v1/me/app-passwords", Some(&token)).await;
        assert_eq!(list["app_passwords"].as_array().unwrap().len(), 40);
        assert_eq!(list["max"], 40);

        // Eleven minutes later the second factor is no longer recent.
        let id = list["app_passwords"][0]["id"].as_str().unwrap().to_string();
        h.delete(&c, &format!("/api/v1/me/app-passwords/{id}"), &token)
            .await;
        h.advance(11 * 60);
        let (status, body) = h
            .post(
                &c,
                "/api/v1/me/app-passwords",
                Some(&token),
                json!({"name": "Later"}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("step_up_required")),
            "{body}"
        );
        let (status, _) = h
            .post(
                &c,
                "/api/v1/me/step-up/verify",
                Some(&token),
                json!({"method_id": method, "code": h.code(&secret, 0)}),
            )
            .await;
        assert_eq!(status, 200);
        let (status, _) = h
            .post(
                &c,
                "/api/v1/me/app-passwords",
                Some(&token),
                json!({"name": "Later"}),
            )
            .await;
        assert_eq!(status, 201);
    })
    .await;
}

#[tokio::test]
async fn the_security_info_pages_create_show_once_and_delete_an_app_password() {
    each_backend(|h: Harness| async move {
        use crate::admin_pages::{page_get, page_post};
        let c = h.client();
        let (token, _, _) = h.enrolled_user(&c, "dan@example.org").await;
        let r = page_get(&h, &c, &token, "/security-info/app-passwords").await;
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("Your organization doesn&#39;t allow app passwords.")
        );
        h.set_policy("app_passwords_allowed", "true").await;
        let r = page_get(&h, &c, &token, "/security-info").await;
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("href=\"/security-info/app-passwords\"")
        );
        let r = page_post(
            &h,
            &c,
            &token,
            "/security-info/app-passwords",
            &[("name", "Old phone mail")],
        )
        .await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        let shown = html
            .split("id=\"app-password\">")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string();
        assert_eq!(shown.len(), 19, "{html}");
        let r = page_get(&h, &c, &token, "/security-info/app-passwords").await;
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Old phone mail") && !html.contains(&shown),
            "shown once: {html}"
        );
        let (_, list) = h.get(&c, "/api/v1/me/app-passwords", Some(&token)).await;
        let id = list["app_passwords"][0]["id"].as_str().unwrap().to_string();
        let r = page_post(
            &h,
            &c,
            &token,
            &format!("/security-info/app-passwords/{id}/delete"),
            &[("confirm", "yes")],
        )
        .await;
        assert_eq!(
            r.headers()["location"],
            "/security-info/app-passwords?done=deleted"
        );
        let (_, list) = h.get(&c, "/api/v1/me/app-passwords", Some(&token)).await;
        assert!(list["app_passwords"].as_array().unwrap().is_empty());
    })
    .await;
}

/// The new password has a "Copy" button (shown by a script, so the page works without one),
/// and deleting one asks first: the list links to a confirmation page, and a POST without
/// `confirm=yes` only shows that page.
#[tokio::test]
async fn a_new_app_password_can_be_copied_and_deleting_one_asks_first() {
    each_backend(|h: Harness| async move {
        use crate::web::browser::signed_in;
        const LIST: &str = "/security-info/app-passwords";
        h.set_policy("app_passwords_allowed", "true").await;
        let (b, _, _) = signed_in(&h, "eve@example.org").await;
        let created = b.submit(LIST, LIST, &[("name", "Old phone mail")]).await;
        created.shows(200, "Your app password for Old phone mail:");
        let password = created.text_of("app-password");
        let button = created
            .html
            .split("<button type=\"button\"")
            .nth(1)
            .and_then(|rest| rest.split("</button>").next())
            .unwrap_or_else(|| panic!("no Copy button in:\n{}", created.html));
        assert!(
            button.contains("data-copy=\"app-password\"") && button.contains(" hidden>Copy"),
            "hidden until the script shows it: {button}"
        );
        let script = created
            .html
            .split("<script src=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_string();
        assert!(script.starts_with("/static/copy.js?v="), "{script}");
        let js = b.get(&script).await;
        assert_eq!(js.status, 200);
        assert!(
            js.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/javascript")
        );
        assert!(js.html.contains("navigator.clipboard"));

        let list = b.get(LIST).await;
        list.shows(200, "Old phone mail");
        assert!(!list.html.contains(&password), "shown once");
        let delete = list
            .html
            .split("<a href=\"")
            .filter_map(|rest| rest.split('"').next())
            .find(|href| href.starts_with(LIST) && href.ends_with("/delete"))
            .unwrap_or_else(|| panic!("the list links to the confirmation: {}", list.html))
            .to_string();
        assert!(
            !list
                .html
                .contains("method=\"post\" action=\"/security-info/app-passwords/")
        );
        b.get(&delete)
            .await
            .shows(200, "Delete the app password for Old phone mail?")
            .shows(200, "name=\"confirm\" value=\"yes\"");
        b.submit(LIST, &delete, &[])
            .await
            .shows(200, "Delete the app password for Old phone mail?");
        b.get(LIST).await.shows(200, "Old phone mail");
        b.submit(&delete, &delete, &[("confirm", "yes")])
            .await
            .redirects_to("/security-info/app-passwords?done=deleted");
        b.get("/security-info/app-passwords?done=deleted")
            .await
            .shows(200, "The app password was deleted.")
            .shows(200, "You have no app passwords.");
        b.get(&delete).await.shows(404, "");
    })
    .await;
}
