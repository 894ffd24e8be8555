//! Issue #12 on the admin API: the permission is checked before any input is read, and a
//! search too long to run is a bad request, not a server error.

use crate::admin::admin;
use crate::common::{Harness, each_backend, response};

#[tokio::test]
async fn every_admin_route_checks_the_permission_before_the_input() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _, _) = h.enrolled_user(&c, "nora@example.org").await;
        let (_, doc) = h.get(&c, "/api/v1/openapi.json", None).await;
        // Input that every route would refuse with a 400, were it read first.
        let query = format!(
            "limit=many&before=x&since=yesterday&action=nothing&account={}&search={}",
            "a ".repeat(300),
            "x".repeat(60_000)
        );
        let mut tried = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            if !path.starts_with("/admin") {
                continue;
            }
            let path = path.replace('{', "").replace('}', "-is-not-an-id");
            for method in ["get", "post", "put", "patch", "delete"] {
                if item.get(method).is_none() {
                    continue;
                }
                let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let url = h.url(&format!("/api/v1{path}?{query}"));
                let request = |token: Option<&str>| {
                    let mut r = c
                        .request(method.clone(), &url)
                        .header("content-type", "application/json")
                        .body("{\"garbage\": [1, 2");
                    if let Some(t) = token {
                        r = r.bearer_auth(t);
                    }
                    r
                };
                let (status, body) = response(request(Some(&token)).send().await.unwrap()).await;
                assert_eq!(
                    (status, body["error"].as_str()),
                    (403, Some("not_allowed")),
                    "{method} {path}: {body}"
                );
                let (status, body) = response(request(None).send().await.unwrap()).await;
                assert_eq!(
                    (status, body["error"].as_str()),
                    (401, Some("unauthorized")),
                    "{method} {path} without a session: {body}"
                );
                tried.push(format!("{method} {path}"));
            }
        }
        assert!(
            tried.len() >= 20,
            "every admin route of the document: {tried:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_search_too_long_to_run_is_a_bad_request() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _) = admin(&h, &c, "ada@example.org").await;
        h.add_user("per_cent@example.org").await;
        let huge = "a".repeat(60_000);
        let (status, body) = h
            .get(
                &c,
                &format!("/api/v1/admin/accounts?search={huge}"),
                Some(&token),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str(), body["field"].as_str()),
            (400, Some("bad_request"), Some("search")),
            "{body}"
        );
        assert!(body["message"].as_str().unwrap().contains("256"), "{body}");
        let longest = "a".repeat(256);
        let (status, body) = h
            .get(
                &c,
                &format!("/api/v1/admin/accounts?search={longest}"),
                Some(&token),
            )
            .await;
        assert_eq!(
            (status, body["accounts"].as_array().map(Vec::len)),
            (200, Some(0)),
            "{body}"
        );
        // LIKE's wildcards are taken literally.
        for (search, found) in [("%25", 0), ("_", 1), ("r_c", 1), ("a%25b", 0)] {
            let (status, body) = h
                .get(
                    &c,
                    &format!("/api/v1/admin/accounts?search={search}"),
                    Some(&token),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(
                body["accounts"].as_array().unwrap().len(),
                found,
                "{search}: {body}"
            );
        }

        // The audit log's account filter, by username.
        let (status, body) = h
            .get(
                &c,
                &format!("/api/v1/admin/audit?account={huge}"),
                Some(&token),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str(), body["field"].as_str()),
            (400, Some("bad_request"), Some("account")),
            "{body}"
        );
        let (status, body) = h
            .get(
                &c,
                &format!("/api/v1/admin/audit/export?account={huge}"),
                Some(&token),
            )
            .await;
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some("account")),
            "{body}"
        );

        // The pages say so above their forms, in the person's language.
        for (path, lang, text) in [
            (
                format!("/admin/accounts?q={huge}"),
                "en",
                "Check the search text: use at most 256.",
            ),
            (
                format!("/admin/accounts?q={huge}"),
                "nl",
                "Controleer de zoektekst: gebruik hoogstens 256.",
            ),
            (
                format!("/admin/audit?account={huge}"),
                "en",
                "Check the account: use at most 254.",
            ),
        ] {
            let r = c
                .get(h.url(&path))
                .header("cookie", format!("tessera_session={token}"))
                .header("accept-language", lang)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 400, "{lang}");
            let html = r.text().await.unwrap();
            assert!(
                html.contains(text),
                "{lang}: {}",
                &html[..html.len().min(3000)]
            );
            assert!(html.contains("id=\"form-error\""));
        }
    })
    .await;
}
