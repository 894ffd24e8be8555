//! Operations endpoints, OpenAPI, and what the server refuses before any handler runs.

use crate::common::{Harness, each_backend};
use serde_json::json;

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
        let r = c
            .post(h.url("/api/v1/sign-in"))
            .header("sec-fetch-site", "cross-site")
            .header("origin", "https://evil.example")
            .json(&json!({"username": "x@example.org", "password": "whatever it is"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);
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
