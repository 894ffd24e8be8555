//! The OpenID Connect pages: the admin's clients (added with the secret shown once, changed,
//! given a new secret, deleted), a person's "Apps with access" (and the API behind it), an
//! admin taking an app's access to an account back, and activity lines that name the app.

use crate::admin::{admin, id_of};
use crate::admin_pages::{page_get, page_post};
use crate::common::{Harness, each_backend, response};
use crate::oidc::{
    Http, Rp, local, param, params_of, person, register, relying_party, sign_in_for,
};
use crate::web::browser::{Browser, Resp};
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{
    AuthorizationCode, CsrfToken, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RefreshToken,
    Scope,
};
use tessera_core::oidc::{Requirement, SigningAlg};

/// The text of the element with `id` in `html`.
fn text_of(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in:\n{html}"))
        + marker.len();
    html[start..][..html[start..].find('<').unwrap()].to_string()
}

async fn text(r: reqwest::Response) -> (u16, String) {
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn an_admin_adds_changes_and_deletes_a_client_and_sees_its_secret_once() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _) = admin(&h, &c, "ada@example.org").await;
        let (status, html) = text(page_get(&h, &c, &token, "/admin/oidc-clients").await).await;
        assert_eq!(status, 200);
        assert!(html.contains("No apps are registered yet."), "{html}");
        assert!(html.contains("href=\"/admin/oidc-clients\" aria-current=\"page\""));
        let form = [
            ("name", "Grafana"),
            (
                "redirect_uris",
                "http://grafana.example/cb\r\nhttps://grafana.example/login",
            ),
            ("post_logout_redirect_uris", ""),
            ("backchannel_logout_uri", ""),
            ("client_type", "confidential"),
            ("requirement", "two_step"),
            ("offline_access", "yes"),
            ("id_token_alg", "RS256"),
        ];

        // A refused address is said next to its field, and what was typed stays.
        let (status, html) =
            text(page_post(&h, &c, &token, "/admin/oidc-clients/new", &form).await).await;
        assert_eq!(status, 400, "{html}");
        assert!(html.contains("Check the fields marked below."), "{html}");
        assert_eq!(
            text_of(&html, "redirect_uris-error"),
            "http://grafana.example/cb: the address must start with https:// (http:// only for localhost)."
        );
        assert!(html.contains("aria-invalid=\"true\">http://grafana.example/cb"));
        assert!(html.contains("value=\"Grafana\""));
        let mut nameless = form;
        nameless[0].1 = " ";
        nameless[1].1 = "https://grafana.example/login";
        let (status, html) =
            text(page_post(&h, &c, &token, "/admin/oidc-clients/new", &nameless).await).await;
        assert_eq!(status, 400);
        assert_eq!(text_of(&html, "name-error"), "Give the app a name.");

        // Added: the client ID and the secret, this once.
        let mut good = form;
        good[1].1 = "https://grafana.example/login\nhttps://grafana.example/cb2";
        let (status, html) =
            text(page_post(&h, &c, &token, "/admin/oidc-clients/new", &good).await).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Client added") && html.contains("shown only this once"));
        let id = text_of(&html, "client-id");
        let secret = text_of(&html, "secret");
        let stored = h.store().oidc_client(&id).await.unwrap().unwrap();
        assert!(stored.secret_matches(&secret));
        assert_eq!(stored.name, "Grafana");
        assert_eq!(stored.redirect_uris.len(), 2);
        assert!(stored.offline_access && !stored.first_party);
        assert_eq!(stored.id_token_alg, SigningAlg::Rs256);

        let (_, html) = text(page_get(&h, &c, &token, "/admin/oidc-clients").await).await;
        assert!(
            html.contains(&format!("<code>{id}</code>"))
                && html.contains("Confidential")
                && html.contains("Someone else")
                && html.contains("Two-step verification"),
            "{html}"
        );
        let page = format!("/admin/oidc-clients/{id}");
        let (status, html) = text(page_get(&h, &c, &token, &page).await).await;
        assert_eq!(status, 200);
        assert!(html.contains("https://grafana.example/cb2"), "{html}");
        assert!(!html.contains(&secret), "the secret is not shown again");

        // Changed.
        let change = [
            ("name", "Grafana (ops)"),
            ("redirect_uris", "https://grafana.example/login"),
            ("first_party", "yes"),
            ("requirement", "phishing_resistant"),
            ("id_token_alg", "ES256"),
        ];
        let r = page_post(&h, &c, &token, &page, &change).await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], format!("{page}?done=saved"));
        let changed = h.store().oidc_client(&id).await.unwrap().unwrap();
        assert_eq!(changed.name, "Grafana (ops)");
        assert_eq!(changed.requirement, Requirement::PhishingResistant);
        assert!(changed.first_party && !changed.offline_access);
        assert!(changed.secret_matches(&secret), "changing keeps the secret");
        let (_, html) =
            text(page_get(&h, &c, &token, &format!("{page}?done=saved")).await).await;
        assert!(html.contains("The changes are saved."));

        // A new secret, shown once; the old one stops working.
        let (status, html) =
            text(page_post(&h, &c, &token, &format!("{page}/secret"), &[]).await).await;
        assert_eq!(status, 200, "{html}");
        let new_secret = text_of(&html, "secret");
        assert_ne!(new_secret, secret);
        let changed = h.store().oidc_client(&id).await.unwrap().unwrap();
        assert!(changed.secret_matches(&new_secret) && !changed.secret_matches(&secret));

        // Deleted after a confirmation.
        let (_, html) = text(page_get(&h, &c, &token, &format!("{page}/delete")).await).await;
        assert!(html.contains("Delete Grafana (ops)?"), "{html}");
        let (status, html) =
            text(page_post(&h, &c, &token, &format!("{page}/delete"), &[]).await).await;
        assert_eq!(status, 200);
        assert!(html.contains("Delete Grafana (ops)?"));
        assert!(h.store().oidc_client(&id).await.unwrap().is_some());
        let r = page_post(
            &h,
            &c,
            &token,
            &format!("{page}/delete"),
            &[("confirm", "yes")],
        )
        .await;
        assert_eq!(r.headers()["location"], "/admin/oidc-clients?done=deleted");
        assert!(h.store().oidc_client(&id).await.unwrap().is_none());
        assert_eq!(page_get(&h, &c, &token, &page).await.status(), 404);

        // Only admins.
        let (person, _, _) = h.enrolled_user(&c, "pat@example.org").await;
        for path in ["/admin/oidc-clients", "/admin/oidc-clients/new"] {
            assert_eq!(page_get(&h, &c, &person, path).await.status(), 403);
        }
        let r = page_post(&h, &c, &person, "/admin/oidc-clients/new", &good).await;
        assert_eq!(r.status(), 403);
        assert!(h.store().oidc_clients().await.unwrap().is_empty());
    })
    .await;
}

/// A third-party client (named "Wiki") that `b`'s person allows on the consent page; its
/// tokens, a refresh token among them.
async fn consented(
    h: &Harness,
    b: &Browser,
    rp: &Rp,
    username: &str,
    secret: Option<&str>,
) -> openidconnect::core::CoreTokenResponse {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, _) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let consent: Resp = match secret {
        Some(secret) => sign_in_for(b, &local(&url), username, secret).await,
        None => b.get(&local(&url)).await,
    };
    consent.shows(200, "Allow access?");
    let r = b
        .post(
            "/oidc/consent",
            &[
                ("csrf", &consent.csrf()),
                ("request", &consent.field("request")),
                ("decision", "allow"),
            ],
        )
        .await;
    let code = param(&params_of(r.location.as_deref().unwrap()), "code").unwrap();
    rp.exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&Http(h.clone()))
        .await
        .unwrap()
}

async fn refresh_works(h: &Harness, rp: &Rp, refresh: &str) -> bool {
    rp.exchange_refresh_token(&RefreshToken::new(refresh.into()))
        .unwrap()
        .request_async(&Http(h.clone()))
        .await
        .is_ok()
}

#[tokio::test]
async fn a_person_sees_an_app_with_access_and_takes_the_access_back() {
    each_backend(|h: Harness| async move {
        let (b, secret) = person(&h, "erin@example.org").await;
        let (id, client_secret) = register(&h, true, false, SigningAlg::Es256).await;
        let rp = relying_party(&h, &id, client_secret.as_deref()).await;
        let tokens = consented(&h, &b, &rp, "erin@example.org", Some(&secret)).await;
        let refresh = tokens.refresh_token().unwrap().secret().clone();

        b.get("/security-info")
            .await
            .shows(200, "href=\"/security-info/apps\"");
        b.get("/security-info/apps")
            .await
            .shows(200, "Wiki")
            .shows(200, "your name")
            .shows(200, "your email address")
            .shows(200, "stay signed in (offline access)")
            .shows(200, &format!("action=\"/security-info/apps/{id}/remove\""));
        let (status, body) =
            response(b.c.get(h.url("/api/v1/me/apps")).send().await.unwrap()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["apps"][0]["client_id"], id.as_str());
        assert_eq!(body["apps"][0]["name"], "Wiki");
        assert!(
            body["apps"][0]["scopes"]
                .to_string()
                .contains("offline_access")
        );

        // Taking the access back ends the app's tokens.
        assert!(refresh_works(&h, &rp, &refresh).await, "works before");
        let page = b.get("/security-info/apps").await;
        b.post(
            &format!("/security-info/apps/{id}/remove"),
            &[("csrf", &page.csrf())],
        )
        .await
        .redirects_to("/security-info/apps?done=removed");
        b.get("/security-info/apps?done=removed")
            .await
            .shows(200, "access is removed")
            .shows(200, "You have not given any app access.");
        let tokens_after = rp
            .exchange_refresh_token(&RefreshToken::new(refresh.clone()))
            .unwrap()
            .request_async(&Http(h.clone()))
            .await;
        assert!(tokens_after.is_err(), "the refresh token stopped working");
        let userinfo =
            b.c.get(h.url("/oidc/userinfo"))
                .bearer_auth(tokens.access_token().secret())
                .send()
                .await
                .unwrap();
        assert_eq!(userinfo.status(), 401);

        // Signing in to it again asks again; the API takes it back too.
        let again = consented(&h, &b, &rp, "erin@example.org", None).await;
        let refresh = again.refresh_token().unwrap().secret().clone();
        let path = format!("/api/v1/me/apps/{id}");
        let (status, _) = response(b.c.delete(h.url(&path)).send().await.unwrap()).await;
        assert_eq!(status, 204);
        assert!(!refresh_works(&h, &rp, &refresh).await);
        let (status, body) = response(b.c.delete(h.url(&path)).send().await.unwrap()).await;
        assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
        let (_, body) = response(b.c.get(h.url("/api/v1/me/apps")).send().await.unwrap()).await;
        assert_eq!(body["apps"], serde_json::json!([]));

        // Recent activity names the app, in English and in Dutch.
        b.get("/activity")
            .await
            .shows(200, "Signed in to Wiki")
            .shows(200, "Allowed Wiki access")
            .shows(200, "Removed Wiki&#39;s access");
        let menu = b.get("/activity").await;
        b.post(
            "/language",
            &[
                ("csrf", &menu.csrf()),
                ("lang", "nl"),
                ("next", "/activity"),
            ],
        )
        .await;
        b.get("/activity")
            .await
            .shows(200, "Aangemeld bij Wiki")
            .shows(200, "Toegang van Wiki ingetrokken");
        b.get("/security-info/apps")
            .await
            .shows(200, "Apps met toegang")
            .shows(200, "Je hebt geen enkele app toegang gegeven.");
    })
    .await;
}

#[tokio::test]
async fn an_admin_sees_an_accounts_apps_and_takes_the_access_back() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _) = admin(&h, &c, "ada@example.org").await;
        let (b, secret) = person(&h, "finn@example.org").await;
        let (id, client_secret) = register(&h, true, false, SigningAlg::Es256).await;
        let rp = relying_party(&h, &id, client_secret.as_deref()).await;
        let tokens = consented(&h, &b, &rp, "finn@example.org", Some(&secret)).await;
        let refresh = tokens.refresh_token().unwrap().secret().clone();
        let account = id_of(&h, "finn@example.org").await;

        let api = format!("/api/v1/admin/accounts/{account}/apps");
        let (status, body) = h.get(&c, &api, Some(&token)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["apps"][0]["name"], "Wiki");
        let (own, _) = (b.c.get(h.url(&api)).send().await.unwrap().status(), ());
        assert_eq!(own, 403, "not for the person themselves");

        let page = format!("/admin/accounts/{account}");
        let (_, html) = text(page_get(&h, &c, &token, &page).await).await;
        assert!(
            html.contains("Apps with access")
                && html.contains("Signed in to Wiki")
                && html.contains(&format!("action=\"{page}/apps/{id}/remove\"")),
            "{html}"
        );
        let r = page_post(&h, &c, &token, &format!("{page}/apps/{id}/remove"), &[]).await;
        assert_eq!(r.headers()["location"], format!("{page}?done=app-removed"));
        let (_, html) =
            text(page_get(&h, &c, &token, &format!("{page}?done=app-removed")).await).await;
        assert!(html.contains("access is removed"), "{html}");
        assert!(html.contains("This account has not given any app access."));
        assert!(!refresh_works(&h, &rp, &refresh).await);
        let (status, body) = h.delete(&c, &format!("{api}/{id}"), &token).await;
        assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));

        // Through the API too.
        let again = consented(&h, &b, &rp, "finn@example.org", None).await;
        let refresh = again.refresh_token().unwrap().secret().clone();
        let (status, _) = h.delete(&c, &format!("{api}/{id}"), &token).await;
        assert_eq!(status, 204);
        assert!(!refresh_works(&h, &rp, &refresh).await);
        let (_, body) = h.get(&c, &api, Some(&token)).await;
        assert_eq!(body["apps"], serde_json::json!([]));
    })
    .await;
}
