//! What a client asks of the sign-in: `prompt=login` and `max_age` send a signed-in person
//! through the sign-in again, `login_hint` fills in their name, a denied consent goes back
//! as `access_denied`, and a flow begun on one node finishes on another.

use crate::common::{Harness, each_backend};
use crate::oidc::{
    Http, at, authorize, local, param, params_of, person, register, relying_party, sign_in_for,
};
use crate::web::browser::Browser;
use openidconnect::core::{CoreAuthPrompt, CoreAuthenticationFlow};
use openidconnect::{
    AuthorizationCode, CsrfToken, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RefreshToken,
    Scope, TokenResponse,
};
use std::time::Duration;
use tessera_core::oidc::SigningAlg;

/// The tokens a code gives (exchanged at `h`'s address).
async fn exchange(h: &Harness, rp: &crate::oidc::Rp, flow: crate::oidc::Flow) -> Tokens {
    rp.exchange_code(AuthorizationCode::new(flow.code))
        .unwrap()
        .set_pkce_verifier(flow.verifier)
        .request_async(&Http(h.clone()))
        .await
        .unwrap()
}

type Tokens = openidconnect::core::CoreTokenResponse;

/// The `auth_time` of the ID token a code gives.
async fn auth_time(h: &Harness, rp: &crate::oidc::Rp, flow: crate::oidc::Flow) -> i64 {
    let nonce = flow.nonce.clone();
    let tokens = exchange(h, rp, flow).await;
    let verifier = rp.id_token_verifier().set_time_fn(at(h));
    let claims = tokens
        .id_token()
        .unwrap()
        .claims(&verifier, &nonce)
        .unwrap();
    claims.auth_time().unwrap().timestamp()
}

/// Answers the consent page.
async fn answer(
    b: &Browser,
    consent: &crate::web::browser::Resp,
    decision: &str,
) -> crate::web::browser::Resp {
    b.post(
        "/oidc/consent",
        &[
            ("csrf", &consent.csrf()),
            ("request", &consent.field("request")),
            ("decision", decision),
        ],
    )
    .await
}

#[tokio::test]
async fn prompt_login_asks_a_signed_in_person_to_sign_in_again() {
    each_backend(|h: Harness| async move {
        let (b, secret) = person(&h, "erin@example.org").await;
        let (id, client_secret) = register(&h, true, true, SigningAlg::Es256).await;
        let rp = relying_party(&h, &id, client_secret.as_deref()).await;
        let first = authorize(&rp, &b, "erin@example.org", &secret).await;
        let first = auth_time(&h, &rp, first).await;
        h.advance(600);

        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, _, nonce) = rp
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_prompt(CoreAuthPrompt::Login)
            .set_pkce_challenge(challenge)
            .url();
        // The session is there, yet the sign-in pages come first.
        let r = sign_in_for(&b, &local(&url), "erin@example.org", &secret).await;
        let code = param(&params_of(r.location.as_deref().unwrap()), "code").unwrap();
        let flow = crate::oidc::Flow {
            code,
            verifier,
            nonce,
        };
        let again = auth_time(&h, &rp, flow).await;
        assert!(again >= first + 600, "{first} then {again}");
    })
    .await;
}

#[tokio::test]
async fn max_age_older_than_the_sign_in_asks_again_or_answers_login_required() {
    each_backend(|h: Harness| async move {
        let (b, secret) = person(&h, "finn@example.org").await;
        let (id, client_secret) = register(&h, true, true, SigningAlg::Es256).await;
        let rp = relying_party(&h, &id, client_secret.as_deref()).await;
        authorize(&rp, &b, "finn@example.org", &secret).await;
        h.advance(600);
        let url_with = |extra: &[(&str, &str)]| {
            let mut request = rp
                .authorize_url(
                    CoreAuthenticationFlow::AuthorizationCode,
                    CsrfToken::new_random,
                    Nonce::new_random,
                )
                .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0);
            for (k, v) in extra {
                request = request.add_extra_param(*k, *v);
            }
            local(&request.url().0)
        };

        // Ten minutes is within an hour: the code comes at once.
        let r = b.get(&url_with(&[("max_age", "3600")])).await;
        assert!(param(&params_of(r.location.as_deref().unwrap()), "code").is_some());

        // Not within five minutes: without interaction, `login_required` goes back…
        let r = b
            .get(&url_with(&[("max_age", "300"), ("prompt", "none")]))
            .await;
        let p = params_of(r.location.as_deref().unwrap());
        assert_eq!(param(&p, "error").as_deref(), Some("login_required"));
        assert!(param(&p, "code").is_none());

        // …and with it, the person signs in again and the code follows.
        let r = sign_in_for(
            &b,
            &url_with(&[("max_age", "300")]),
            "finn@example.org",
            &secret,
        )
        .await;
        assert!(param(&params_of(r.location.as_deref().unwrap()), "code").is_some());

        // A malformed max_age is the client's mistake, told to the client.
        let r = b.get(&url_with(&[("max_age", "soon")])).await;
        let p = params_of(r.location.as_deref().unwrap());
        assert_eq!(param(&p, "error").as_deref(), Some("invalid_request"));
    })
    .await;
}

#[tokio::test]
async fn login_hint_fills_in_the_name_on_the_sign_in_page() {
    each_backend(|h: Harness| async move {
        let (b, _) = person(&h, "gwen@example.org").await;
        let (id, client_secret) = register(&h, true, true, SigningAlg::Es256).await;
        let rp = relying_party(&h, &id, client_secret.as_deref()).await;
        let (url, _, _) = rp
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_extra_param("login_hint", "gwen@example.org")
            .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
            .url();
        b.get(&local(&url)).await.redirects_to("/sign-in");
        b.get("/sign-in").await.shows(
            200,
            "name=\"username\" type=\"text\" value=\"gwen@example.org\"",
        );
        // Without a pending request, the form is empty.
        Browser::new(&h)
            .get("/sign-in")
            .await
            .shows(200, "name=\"username\" type=\"text\" value=\"\"");
    })
    .await;
}

#[tokio::test]
async fn a_denied_consent_goes_back_as_access_denied_and_is_not_remembered() {
    each_backend(|h: Harness| async move {
        let (b, secret) = person(&h, "hana@example.org").await;
        let (id, client_secret) = register(&h, true, false, SigningAlg::Es256).await;
        let rp = relying_party(&h, &id, client_secret.as_deref()).await;
        let url = || {
            let (url, state, _) = rp
                .authorize_url(
                    CoreAuthenticationFlow::AuthorizationCode,
                    CsrfToken::new_random,
                    Nonce::new_random,
                )
                .add_scope(Scope::new("email".into()))
                .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
                .url();
            (local(&url), state)
        };
        let (first, state) = url();
        let consent = sign_in_for(&b, &first, "hana@example.org", &secret).await;
        consent.shows(200, "Allow access?");
        let r = answer(&b, &consent, "deny").await;
        let p = params_of(r.location.as_deref().unwrap());
        assert_eq!(param(&p, "error").as_deref(), Some("access_denied"));
        assert_eq!(param(&p, "state"), Some(state.secret().clone()));
        assert!(param(&p, "code").is_none());
        // The request was answered: the same consent form cannot allow it afterwards.
        let r = answer(&b, &consent, "allow").await;
        assert!(r.location.is_none(), "{:?}", r.location);
        // The next request asks again.
        let (next, _) = url();
        b.get(&next).await.shows(200, "Allow access?");
    })
    .await;
}

/// Two nodes of one deployment on PostgreSQL: the request starts on one, the person signs in
/// on the other, and the tokens are exchanged, refreshed and read on either.
#[tokio::test]
async fn a_flow_begun_on_one_node_finishes_on_another() {
    let Some(a) = Harness::start(true).await else {
        eprintln!("TESSERA_TEST_POSTGRES_URL not set: skipping the two-node test");
        return;
    };
    let b_node = a.another_node().await;
    let (on_a, secret) = person(&a, "ines@example.org").await;
    let on_b = Browser {
        h: b_node.clone(),
        c: on_a.c.clone(),
    };
    let (id, client_secret) = register(&a, true, true, SigningAlg::Rs256).await;
    let rp = relying_party(&a, &id, client_secret.as_deref()).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    // The request on A; the password and the code on B; the way back on A.
    on_a.get(&local(&url)).await.redirects_to("/sign-in");
    on_b.password("ines@example.org")
        .await
        .redirects_to("/sign-in/verify");
    let page = on_b.get("/sign-in/verify").await;
    let r = on_b
        .submit(
            "/sign-in/verify",
            "/sign-in/verify",
            &[
                ("method_id", &page.field("method_id")),
                ("code", &a.code(&secret, 0)),
            ],
        )
        .await;
    let back = r.location.clone().unwrap();
    assert!(
        back.starts_with("/oidc/authorize/continue?request="),
        "{back}"
    );
    let r = on_a.get(&back).await;
    let p = params_of(r.location.as_deref().unwrap());
    assert_eq!(param(&p, "state"), Some(state.secret().clone()));

    // The code is exchanged on B (the relying party talks to B's address).
    let rp_b = relying_party(&b_node, &id, client_secret.as_deref()).await;
    let flow = crate::oidc::Flow {
        code: param(&p, "code").unwrap(),
        verifier,
        nonce: nonce.clone(),
    };
    let tokens = exchange(&b_node, &rp_b, flow).await;
    // Signed with the key both nodes share: A's JWKS verifies it.
    let verifier = rp.id_token_verifier().set_time_fn(at(&a));
    tokens
        .id_token()
        .unwrap()
        .claims(&verifier, &nonce)
        .unwrap();
    // The refresh on A, its reuse on B: the family is gone on both.
    let refresh = tokens.refresh_token().unwrap().secret().clone();
    rp.exchange_refresh_token(&RefreshToken::new(refresh.clone()))
        .unwrap()
        .request_async(&Http(a.clone()))
        .await
        .unwrap();
    let reused = rp_b
        .exchange_refresh_token(&RefreshToken::new(refresh))
        .unwrap()
        .request_async(&Http(b_node.clone()))
        .await;
    assert!(reused.is_err());
    let access = tokens.access_token().secret().clone();
    let r = reqwest::Client::new()
        .get(a.url("/oidc/userinfo"))
        .bearer_auth(access)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "the whole family was revoked");
    b_node.finish().await;
    a.finish().await;
}

#[tokio::test]
async fn userinfo_gives_an_email_the_person_proved_as_verified() {
    use crate::gateway::{gateway, with_webhook};
    use crate::phone::{add, address, verify};
    crate::common::each_backend_with(with_webhook, |h: Harness| async move {
        let c = h.client();
        let (token, _, secret) = h.enrolled_user(&c, "jade@example.org").await;
        let (id, client_secret) = register(&h, true, true, SigningAlg::Es256).await;
        let rp = relying_party(&h, &id, client_secret.as_deref()).await;
        let userinfo = |flow: crate::oidc::Flow| {
            let (h, rp) = (h.clone(), &rp);
            async move {
                let tokens = exchange(&h, rp, flow).await;
                let r = reqwest::Client::new()
                    .get(h.url("/oidc/userinfo"))
                    .bearer_auth(tokens.access_token().secret())
                    .send()
                    .await
                    .unwrap();
                r.json::<serde_json::Value>().await.unwrap()
            }
        };
        // No address anywhere: no email claim.
        let b = Browser::new(&h);
        let claims = userinfo(authorize(&rp, &b, "jade@example.org", &secret).await).await;
        assert!(claims.get("email").is_none(), "{claims}");

        // An address proven with a code is the email, verified.
        let email = address();
        let (status, body) = add(
            &h,
            &c,
            &token,
            serde_json::json!({"kind": "email", "address": email}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let method = body["id"].as_str().unwrap().to_string();
        let mail = gateway().nth(&email, 1).await;
        assert_eq!(
            verify(&h, &c, &token, &method, &mail.code.unwrap()).await.0,
            200
        );
        h.advance(30);
        let b = Browser::new(&h);
        let claims = userinfo(authorize(&rp, &b, "jade@example.org", &secret).await).await;
        assert_eq!(claims["email"], email.as_str(), "{claims}");
        assert_eq!(claims["email_verified"], true, "{claims}");
    })
    .await;
}

/// Browsers hold a form's redirects to the `form-action` of the page that sent it: while a
/// request waits, the sign-in pages (and the consent page) name the client's origin, or the
/// last redirect back to the client would be blocked (reqwest would not notice; Chromium
/// does: tests/browser/oidc_apache.rs).
#[tokio::test]
async fn sign_in_pages_let_their_forms_end_at_the_waiting_client() {
    each_backend(|h: Harness| async move {
        let (b, _) = person(&h, "kai@example.org").await;
        let (id, client_secret) = register(&h, true, true, SigningAlg::Es256).await;
        let rp = relying_party(&h, &id, client_secret.as_deref()).await;
        let form_action = |r: &crate::web::browser::Resp| {
            let csp = r.headers["content-security-policy"].to_str().unwrap();
            csp.split(';')
                .map(str::trim)
                .find(|d| d.starts_with("form-action"))
                .unwrap()
                .to_string()
        };
        let alone = Browser::new(&h).get("/sign-in").await;
        assert_eq!(form_action(&alone), "form-action 'self'");

        let (url, _, _) = rp
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
            .url();
        b.get(&local(&url)).await.redirects_to("/sign-in");
        let page = b.get("/sign-in").await;
        assert_eq!(form_action(&page), "form-action 'self' https://app.example");
        b.password("kai@example.org")
            .await
            .redirects_to("/sign-in/verify");
        let page = b.get("/sign-in/verify").await;
        assert_eq!(form_action(&page), "form-action 'self' https://app.example");
    })
    .await;
}
