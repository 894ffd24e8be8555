//! The authorization and token endpoints' refusals: an error page (never a redirect) when
//! the client or its redirect URI is not known, and otherwise OAuth's errors with the right
//! status.

use crate::common::{Harness, each_backend};
use crate::oidc::{
    REDIRECT, authorize, local, param, params_of, person, post_form, register, relying_party,
};
use crate::web::browser::Browser;
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{CsrfToken, Nonce, PkceCodeChallenge};
use tessera_core::oidc::SigningAlg;

fn authorize_path(client_id: &str, redirect: &str, extra: &[(&str, &str)]) -> String {
    let mut q = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect),
        ("scope", "openid"),
        ("state", "s1"),
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        q.retain(|(n, _)| n != k);
        q.push((k, v));
    }
    format!(
        "/oidc/authorize?{}",
        serde_urlencoded::to_string(q).unwrap()
    )
}

#[tokio::test]
async fn unknown_client_and_unregistered_redirect_uri_get_a_page_not_a_redirect() {
    each_backend(|h: Harness| async move {
        let (id, _) = register(&h, true, true, SigningAlg::Es256).await;
        let b = Browser::new(&h);
        let r = b.get(&authorize_path("nobody", REDIRECT, &[])).await;
        r.shows(400, "is not registered here");
        assert!(r.location.is_none());
        let r = b
            .get(&authorize_path(&id, "https://evil.example/callback", &[]))
            .await;
        r.shows(400, "an address that is not registered");
        assert!(r.location.is_none());
        let nl = Browser::speaking(&h, "nl");
        nl.get(&authorize_path("nobody", REDIRECT, &[]))
            .await
            .shows(400, "is hier niet geregistreerd");
    })
    .await;
}

#[tokio::test]
async fn plain_pkce_and_prompt_none_without_a_session_go_back_as_errors() {
    each_backend(|h: Harness| async move {
        let (id, _) = register(&h, false, true, SigningAlg::Es256).await;
        let b = Browser::new(&h);
        let r = b
            .get(&authorize_path(
                &id,
                REDIRECT,
                &[
                    ("code_challenge_method", "plain"),
                    ("code_challenge", "x".repeat(43).as_str()),
                ],
            ))
            .await;
        let p = params_of(r.location.as_deref().unwrap());
        assert_eq!(param(&p, "error").as_deref(), Some("invalid_request"));
        assert_eq!(param(&p, "state").as_deref(), Some("s1"));
        assert_eq!(param(&p, "iss"), Some(h.origin()));

        let r = b
            .get(&authorize_path(&id, REDIRECT, &[("prompt", "none")]))
            .await;
        let p = params_of(r.location.as_deref().unwrap());
        assert_eq!(param(&p, "error").as_deref(), Some("login_required"));
        assert_eq!(param(&p, "state").as_deref(), Some("s1"));
        assert_eq!(param(&p, "iss"), Some(h.origin()));
    })
    .await;
}

#[tokio::test]
async fn codes_are_refused_without_their_verifier_twice_late_or_for_another_client() {
    each_backend(|h: Harness| async move {
        let (b, secret) = person(&h, "erin@example.org").await;
        let (id, cs) = register(&h, true, true, SigningAlg::Es256).await;
        let cs = cs.unwrap();
        let (other, other_secret) = register(&h, true, true, SigningAlg::Es256).await;
        let other_secret = other_secret.unwrap();
        let rp = relying_party(&h, &id, Some(&cs)).await;
        let exchange = |code: String, verifier: Option<String>, client: (String, String)| {
            let h = h.clone();
            async move {
                let mut form = vec![
                    ("grant_type", "authorization_code".to_string()),
                    ("code", code),
                    ("redirect_uri", REDIRECT.to_string()),
                ];
                form.extend(verifier.map(|v| ("code_verifier", v)));
                let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                post_form(&h, "/oidc/token", Some((&client.0, &client.1)), &form).await
            }
        };
        let mine = (id.clone(), cs.clone());

        // Missing verifier, wrong verifier: the code is used up either way.
        let flow = authorize(&rp, &b, "erin@example.org", &secret).await;
        let (status, headers, body) = exchange(flow.code.clone(), None, mine.clone()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{body}"
        );
        assert_eq!(headers["cache-control"], "no-store");
        let flow = next_code(&rp, &b).await;
        let (status, _, body) = exchange(flow.0, Some("w".repeat(43)), mine.clone()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant"))
        );

        // A code for another client.
        let (code, verifier) = next_code(&rp, &b).await;
        let (status, _, body) = exchange(
            code.clone(),
            Some(verifier.clone()),
            (other.clone(), other_secret.clone()),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant"))
        );

        // Wrong client secret: 401 with WWW-Authenticate.
        let (code, verifier) = next_code(&rp, &b).await;
        let (status, headers, body) = exchange(
            code.clone(),
            Some(verifier.clone()),
            (id.clone(), "wrong".into()),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client"))
        );
        assert!(
            headers["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic")
        );

        // Expired: 60 s.
        let (code, verifier) = next_code(&rp, &b).await;
        h.advance(61);
        let (status, _, body) = exchange(code, Some(verifier), mine.clone()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant"))
        );

        // Reused: refused, and what the first exchange issued is revoked.
        let (code, verifier) = next_code(&rp, &b).await;
        let (status, _, first) = exchange(code.clone(), Some(verifier.clone()), mine.clone()).await;
        assert_eq!(status, 200, "{first}");
        let (status, _, body) = exchange(code, Some(verifier), mine.clone()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant"))
        );
        let r = h
            .client()
            .get(h.url("/oidc/userinfo"))
            .bearer_auth(first["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);

        // A refresh token of another client.
        let (code, verifier) = next_code(&rp, &b).await;
        let (status, _, tokens) = exchange(code, Some(verifier), mine.clone()).await;
        assert_eq!(status, 200);
        let refresh = tokens["refresh_token"].as_str().unwrap();
        let (status, _, body) = post_form(
            &h,
            "/oidc/token",
            Some((&other, &other_secret)),
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant"))
        );
        let (status, _, body) = post_form(
            &h,
            "/oidc/token",
            Some((&id, &cs)),
            &[("grant_type", "password")],
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("unsupported_grant_type"))
        );
    })
    .await;
}

/// Another code for a person who is signed in already: (code, verifier).
async fn next_code(rp: &crate::oidc::Rp, b: &Browser) -> (String, String) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, _) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(openidconnect::Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let r = b.get(&local(&url)).await;
    let p = params_of(r.location.as_deref().expect("a redirect"));
    (param(&p, "code").unwrap(), verifier.secret().clone())
}

#[tokio::test]
async fn a_request_given_up_on_leaves_the_next_sign_in_on_the_security_info() {
    each_backend(|h: Harness| async move {
        let (b, secret) = person(&h, "frank@example.org").await;
        let (id, _) = register(&h, false, true, SigningAlg::Es256).await;
        b.get(&authorize_path(&id, REDIRECT, &[]))
            .await
            .redirects_to("/sign-in");
        // The request lives ten minutes.
        h.advance(11 * 60);
        b.sign_in("frank@example.org", &secret).await;
        b.get("/oidc/authorize/continue?request=not-an-id")
            .await
            .shows(400, "has expired or was already used");
        let r = b
            .get("/oidc/authorize/continue?request=00000000-0000-0000-0000-000000000000")
            .await;
        r.shows(400, "has expired or was already used");
        assert!(r.location.is_none());
    })
    .await;
}
