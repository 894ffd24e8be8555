//! Operations endpoints, OpenAPI, and what the server refuses before any handler runs.

use crate::common::{Harness, each_backend, each_backend_with, response};
use serde_json::json;
use std::collections::BTreeSet;

#[tokio::test]
async fn health_readiness_metrics_and_openapi() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        assert_eq!(h.get(&c, "/healthz", None).await.0, 200);
        assert_eq!(h.get(&c, "/readyz", None).await.0, 200);
        let (status, metrics) = h.get(&c, "/metrics", None).await;
        assert_eq!(status, 200);
        assert!(
            metrics
                .as_str()
                .unwrap()
                .contains("tessera_http_requests_total"),
            "{metrics}"
        );
        let (status, doc) = h.get(&c, "/api/v1/openapi.json", None).await;
        assert_eq!(status, 200);
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        for path in [
            "/sign-in",
            "/sign-in/{flow}/verify",
            "/me/security-info",
            "/me/step-up/verify",
            "/me/activity",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} is documented");
        }
    })
    .await;
}

#[tokio::test]
async fn bad_requests_get_clear_errors() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let r = c
            .post(h.url("/api/v1/sign-in"))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        let (status, body) = crate::common::response(r).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("bad_request")),
            "{body}"
        );

        let huge = "x".repeat(200 * 1024);
        let (status, body) = h
            .post(
                &c,
                "/api/v1/sign-in",
                None,
                json!({"username": huge, "password": "p"}),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (413, Some("body_too_large")),
            "{body}"
        );

        let (token, _, _) = h.enrolled_user(&c, "quentin@example.org").await;
        let (status, body) = h
            .get(&c, "/api/v1/me/activity?limit=many", Some(&token))
            .await;
        assert_eq!(
            (status, body["error"].as_str(), body["field"].as_str()),
            (400, Some("bad_request"), Some("query")),
            "{body}"
        );

        let (status, body) = h
            .get(&c, "/api/v1/me/security-info", Some("forged-token"))
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("unauthorized"))
        );

        let r = c
            .post(h.url("/api/v1/sign-in"))
            .header("accept-language", "nl-NL,nl;q=0.9")
            .json(&json!({"username": "x@example.org", "password": "wrong password"}))
            .send()
            .await
            .unwrap();
        let (_, body) = crate::common::response(r).await;
        assert_eq!(
            body["message"], "De gebruikersnaam of het wachtwoord is onjuist.",
            "messages follow Accept-Language"
        );
    })
    .await;
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        for lang in ["en", "nl"] {
            let r = c
                .post(h.url("/api/v1/sign-in"))
                .header("sec-fetch-site", "cross-site")
                .header("origin", "https://evil.example")
                .header("accept-language", lang)
                .json(&json!({"username": "x@example.org", "password": "whatever it is"}))
                .send()
                .await
                .unwrap();
            let (status, body) = response(r).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (403, Some("csrf")),
                "{body}"
            );
            let expected = if lang == "nl" {
                "Dit formulier is verlopen of kwam van een andere site."
            } else {
                "This form has expired or came from another site."
            };
            assert!(
                body["message"].as_str().unwrap().starts_with(expected),
                "{body}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_cross_site_form_gets_a_readable_page() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        for (lang, text) in [
            ("en", "This form has expired or came from another site."),
            (
                "nl",
                "Dit formulier is verlopen of kwam van een andere site.",
            ),
        ] {
            let r = c
                .post(h.url("/sign-in"))
                .header("origin", "https://evil.example")
                .header("accept-language", lang)
                .form(&[
                    ("username", "x@example.org"),
                    ("password", "whatever it is"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403);
            assert!(
                r.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html"),
                "{:?}",
                r.headers()
            );
            let html = r.text().await.unwrap();
            assert!(html.contains(text), "{lang}:\n{html}");
            assert!(html.contains(&format!("lang=\"{lang}\"")), "{html}");
        }
    })
    .await;
}

/// The public URL of the HTTPS instance below; the harness still listens on plain HTTP, as
/// behind a TLS-terminating proxy.
const HTTPS_PUBLIC_URL: &str = "https://mfa.example.test";

#[tokio::test]
async fn an_https_instance_sends_hsts_and_takes_posts_from_its_own_origin_only() {
    each_backend_with(
        |config| config.public_url = HTTPS_PUBLIC_URL.into(),
        |h: Harness| async move {
            let c = h.client();
            for path in ["/healthz", "/sign-in", "/api/v1/nowhere", "/nowhere"] {
                let r = c.get(h.url(path)).send().await.unwrap();
                assert_eq!(
                    r.headers()
                        .get("strict-transport-security")
                        .map(|v| v.to_str().unwrap()),
                    Some("max-age=31536000"),
                    "{path}"
                );
            }
            // (Sec-Fetch-Site, Origin) as browsers (or old browsers) send them.
            let sign_in = |site: Option<&'static str>, origin: Option<&'static str>| {
                let mut r = c
                    .post(h.url("/api/v1/sign-in"))
                    .json(&json!({"username": "x@example.org", "password": "whatever it is"}));
                if let Some(site) = site {
                    r = r.header("sec-fetch-site", site);
                }
                if let Some(origin) = origin {
                    r = r.header("origin", origin);
                }
                async move { response(r.send().await.unwrap()).await }
            };
            let refused = [
                (None, Some("http://mfa.example.test")),
                (None, Some("https://mfa.example.test:8443")),
                (None, Some("https://evil.example")),
                (None, Some("null")),
                (Some("same-site"), Some("http://mfa.example.test")),
                (Some("cross-site"), Some("https://evil.example")),
            ];
            for (site, origin) in refused {
                let (status, body) = sign_in(site, origin).await;
                assert_eq!(
                    (status, body["error"].as_str()),
                    (403, Some("csrf")),
                    "{site:?} {origin:?}: {body}"
                );
            }
            let taken = [
                (None, Some("https://mfa.example.test")),
                (None, Some("https://MFA.example.test:443")),
                (None, None),
                (Some("same-origin"), Some("https://mfa.example.test")),
                (Some("same-origin"), Some("null")),
            ];
            for (site, origin) in taken {
                let (status, body) = sign_in(site, origin).await;
                assert_eq!(
                    (status, body["error"].as_str()),
                    (401, Some("invalid_credentials")),
                    "{site:?} {origin:?}: {body}"
                );
            }
        },
    )
    .await;
}

#[tokio::test]
async fn a_plain_http_instance_sends_no_hsts() {
    each_backend(|h: Harness| async move {
        let r = h.client().get(h.url("/healthz")).send().await.unwrap();
        assert!(r.headers().get("strict-transport-security").is_none());
    })
    .await;
}

#[tokio::test]
async fn unknown_api_paths_and_methods_answer_in_the_api_format() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        for path in [
            "/api/v1/nowhere",
            "/api/v1/admin/nowhere/at/all",
            "/api/v1/me/x",
            "/api/v1",
            "/api/v1/",
            "/api/v2/sign-in",
            "/api",
        ] {
            let r = c.get(h.url(path)).send().await.unwrap();
            assert_eq!(r.headers()["content-type"], "application/json", "{path}");
            let (status, body) = response(r).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (404, Some("not_found")),
                "{path}: {body}"
            );
            assert_eq!(body["message"], "We couldn't find that.");
        }
        let r = c
            .delete(h.url("/api/v1/sign-in"))
            .header("accept-language", "nl")
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.headers()["allow"],
            "POST",
            "the allowed methods are still named"
        );
        assert_eq!(r.headers()["content-type"], "application/json");
        let (status, body) = response(r).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (405, Some("method_not_allowed")),
            "{body}"
        );
        assert_eq!(
            body["message"],
            "Dit adres accepteert deze verzoekmethode niet."
        );
        let r = c
            .put(h.url("/api/v1/admin/accounts"))
            .body("garbage")
            .send()
            .await
            .unwrap();
        let (status, body) = response(r).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (405, Some("method_not_allowed")),
            "{body}"
        );
        // The pages keep their HTML answers.
        let r = c.get(h.url("/nowhere")).send().await.unwrap();
        assert_eq!(r.status(), 404);
        assert!(r.text().await.unwrap().contains("<html"));
    })
    .await;
}

/// The values of `label` in the `tessera_http_*` series of a Prometheus text.
fn label_values(metrics: &str, label: &str) -> BTreeSet<String> {
    let key = format!("{label}=\"");
    metrics
        .lines()
        .filter(|l| l.starts_with("tessera_http_"))
        .filter_map(|l| {
            let rest = &l[l.find(&key)? + key.len()..];
            Some(rest[..rest.find('"')?].to_string())
        })
        .collect()
}

#[tokio::test]
async fn metrics_labels_stay_bounded_whatever_clients_send() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let mut sent = Vec::new();
        for i in 0..150 {
            let token = format!("ZQ{}", uuid::Uuid::new_v4().simple()).to_uppercase();
            let method = reqwest::Method::from_bytes(token.as_bytes()).unwrap();
            // Known routes, unknown paths under the API and the pages, and a random method
            // or a standard one.
            let path = match i % 4 {
                0 => "/healthz".to_string(),
                1 => "/api/v1/sign-in".to_string(),
                2 => format!("/api/v1/{token}"),
                _ => format!("/{token}/x"),
            };
            let method = if i % 3 == 0 {
                reqwest::Method::GET
            } else {
                method
            };
            c.request(method, h.url(&path)).send().await.unwrap();
            sent.push(token);
        }
        let (status, metrics) = h.get(&c, "/metrics", None).await;
        assert_eq!(status, 200);
        let metrics = metrics.as_str().unwrap();
        let methods = label_values(metrics, "method");
        let standard = [
            "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "other",
        ];
        assert!(
            methods.iter().all(|m| standard.contains(&m.as_str())),
            "{methods:?}"
        );
        assert!(methods.contains("other"), "{methods:?}");
        let routes = label_values(metrics, "route");
        for route in ["unmatched", "/healthz", "/api/v1/sign-in"] {
            assert!(routes.contains(route), "{route}: {routes:?}");
        }
        assert!(
            routes
                .iter()
                .all(|r| r == "unmatched" || r.starts_with('/') && !r.contains("ZQ")),
            "{routes:?}"
        );
        let statuses = label_values(metrics, "status");
        assert!(
            statuses
                .iter()
                .all(|s| s.len() == 3 && s.parse::<u16>().is_ok()),
            "{statuses:?}"
        );
        for token in &sent {
            assert!(!metrics.contains(token.as_str()), "{token} became a label");
        }
    })
    .await;
}

#[tokio::test]
async fn security_headers_are_strict() {
    each_backend(|h: Harness| async move {
        let r = h.client().get(h.url("/healthz")).send().await.unwrap();
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(r.headers()["x-frame-options"], "DENY");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    })
    .await;
}
