//! Tessera as an OpenID Connect provider, with the `openidconnect` crate as the relying party
//! (its HTTP calls go through the test's reqwest client): discovery, the code flow with PKCE
//! and a person who signs in on the pages with a password and an authenticator code, the ID
//! token checked against the JWKS, UserInfo, refresh rotation, revocation, introspection.

use crate::common::{Harness, each_backend};
use crate::web::browser::{Browser, Resp};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    AsyncHttpClient, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, HttpRequest, HttpResponse, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, Scope, TokenResponse,
};
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use tessera_core::Clock;
use tessera_core::oidc::{NewClient, Requirement, SigningAlg};

pub const REDIRECT: &str = "https://app.example/callback";

/// The relying party's HTTP client: the test's reqwest, sent to the harness's address (the
/// issuer is the public URL, `localhost`, while the server listens on 127.0.0.1).
pub struct Http(pub Harness);

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = reqwest::Error;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, reqwest::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let url = parts
                .uri
                .to_string()
                .replace(&self.0.origin(), &self.0.url(""));
            let r = reqwest::Client::new()
                .request(parts.method, url)
                .headers(parts.headers)
                .body(body)
                .send()
                .await?;
            let mut out = openidconnect::http::Response::builder().status(r.status());
            for (k, v) in r.headers() {
                out = out.header(k, v);
            }
            Ok(out.body(r.bytes().await?.to_vec()).unwrap())
        })
    }
}

pub type Rp = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A client registered through `Admin`: (client id, secret when confidential).
pub async fn register(
    h: &Harness,
    confidential: bool,
    first_party: bool,
    alg: SigningAlg,
) -> (String, Option<String>) {
    register_requiring(h, confidential, first_party, alg, Requirement::TwoStep).await
}

/// As [`register`], with the sign-in the client requires.
pub async fn register_requiring(
    h: &Harness,
    confidential: bool,
    first_party: bool,
    alg: SigningAlg,
    requirement: Requirement,
) -> (String, Option<String>) {
    let created = h
        .tessera()
        .local_admin()
        .create_oidc_client(NewClient {
            name: "Wiki".into(),
            confidential,
            redirect_uris: vec![REDIRECT.into()],
            post_logout_redirect_uris: vec![],
            backchannel_logout_uri: None,
            first_party,
            requirement,
            offline_access: true,
            id_token_alg: alg,
        })
        .await
        .unwrap();
    (
        created.client.client_id,
        created.secret.map(|s| s.to_string()),
    )
}

pub async fn relying_party(h: &Harness, id: &str, secret: Option<&str>) -> Rp {
    let issuer = IssuerUrl::new(h.origin()).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &Http(h.clone()))
        .await
        .unwrap();
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(id.into()),
        secret.map(|s| ClientSecret::new(s.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap())
}

/// An authorization URL's path and query, on the harness's address.
pub fn local(url: &openidconnect::url::Url) -> String {
    format!("{}?{}", url.path(), url.query().unwrap_or(""))
}

/// The query parameters of a redirect to the client.
pub fn params_of(location: &str) -> Vec<(String, String)> {
    let (base, query) = location.split_once('?').unwrap();
    assert_eq!(base, REDIRECT, "{location}");
    serde_urlencoded::from_str(query).unwrap()
}

pub fn param(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// Signs in on the pages (password, then a code) after the authorization endpoint sent
/// the browser there, and follows the way back to the request; returns the last answer.
pub async fn sign_in_for(b: &Browser, authorize: &str, username: &str, secret: &str) -> Resp {
    let r = b.get(authorize).await;
    r.redirects_to("/sign-in");
    assert!(r.cookie("tessera_oidc").contains("HttpOnly"));
    b.password(username).await.redirects_to("/sign-in/verify");
    let page = b.get("/sign-in/verify").await;
    let method = page.field("method_id");
    let code = b.h.code(secret, 0);
    let r = b
        .submit(
            "/sign-in/verify",
            "/sign-in/verify",
            &[("method_id", &method), ("code", &code)],
        )
        .await;
    let back = r.location.clone().unwrap();
    assert!(
        back.starts_with("/oidc/authorize/continue?request="),
        "{back}"
    );
    assert!(r.cookie("tessera_oidc").contains("Max-Age=0"));
    b.h.advance(30);
    b.get(&back).await
}

/// A person with an authenticator app, and a browser that has not signed in yet.
pub async fn person(h: &Harness, username: &str) -> (Browser, String) {
    let (_, _, secret) = h.enrolled_user(&h.client(), username).await;
    (Browser::new(h), secret)
}

pub fn at(h: &Harness) -> impl Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync + use<> {
    let now = h.clock().now().unix_timestamp();
    move || chrono::DateTime::from_timestamp(now, 0).unwrap()
}

pub struct Flow {
    pub code: String,
    pub verifier: PkceCodeVerifier,
    pub nonce: Nonce,
}

/// The whole front channel: authorization request, sign-in, code back at the client.
pub async fn authorize(rp: &Rp, b: &Browser, username: &str, secret: &str) -> Flow {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
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
    let r = sign_in_for(b, &local(&url), username, secret).await;
    assert_eq!(r.status, 303);
    let params = params_of(r.location.as_deref().unwrap());
    assert_eq!(
        param(&params, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(param(&params, "iss"), Some(b.h.origin()));
    Flow {
        code: param(&params, "code").unwrap(),
        verifier,
        nonce,
    }
}

#[tokio::test]
async fn discovery_and_jwks_describe_the_provider() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let doc: Value = c
            .get(h.url("/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(doc["issuer"], h.origin());
        assert_eq!(doc["token_endpoint"], format!("{}/oidc/token", h.origin()));
        assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
        assert_eq!(
            doc["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(
            doc["response_modes_supported"],
            serde_json::json!(["query", "form_post"])
        );
        assert_eq!(
            doc["id_token_signing_alg_values_supported"],
            serde_json::json!(["ES256", "RS256"])
        );
        assert!(
            doc["acr_values_supported"]
                .to_string()
                .contains("urn:tessera:acr:two_step")
        );
        let jwks: Value = c
            .get(h.url("/oidc/jwks"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 2, "{jwks}");
        let (id, secret) = register(&h, true, true, SigningAlg::Es256).await;
        relying_party(&h, &id, secret.as_deref()).await;
    })
    .await;
}

#[tokio::test]
async fn code_flow_with_pkce_gives_a_verified_id_token_and_userinfo() {
    each_backend(|h: Harness| async move {
        for alg in [SigningAlg::Es256, SigningAlg::Rs256] {
            let username = format!("alice-{}@example.org", alg.as_str().to_lowercase());
            let (b, secret) = person(&h, &username).await;
            let (id, client_secret) = register(&h, true, true, alg).await;
            let rp = relying_party(&h, &id, client_secret.as_deref()).await;
            let flow = authorize(&rp, &b, &username, &secret).await;
            let tokens = rp
                .exchange_code(AuthorizationCode::new(flow.code))
                .unwrap()
                .set_pkce_verifier(flow.verifier)
                .request_async(&Http(h.clone()))
                .await
                .unwrap();
            assert!(tokens.refresh_token().is_some(), "offline_access was asked");
            let verifier = rp
                .id_token_verifier()
                .set_allowed_algs([
                    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
                    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                ])
                .set_time_fn(at(&h));
            let id_token = tokens.id_token().unwrap();
            let claims = id_token.claims(&verifier, &flow.nonce).unwrap();
            assert_eq!(claims.audiences()[0].as_str(), id);
            assert!(claims.expiration() > at(&h)());
            let amr: Vec<&str> = claims
                .auth_method_refs()
                .unwrap()
                .iter()
                .map(|a| a.as_str())
                .collect();
            // A TOTP code: a one-time password as the second factor.
            assert_eq!(amr, ["pwd", "otp", "mfa"]);
            assert_eq!(
                claims.auth_context_ref().map(|a| a.as_str()),
                Some("urn:tessera:acr:two_step")
            );
            // Another nonce is refused.
            assert!(
                id_token
                    .claims(&verifier, &Nonce::new("other".into()))
                    .is_err()
            );

            let info: CoreUserInfoClaims = rp
                .user_info(
                    tokens.access_token().clone(),
                    Some(claims.subject().clone()),
                )
                .unwrap()
                .request_async(&Http(h.clone()))
                .await
                .unwrap();
            assert_eq!(
                info.preferred_username().map(|u| u.as_str()),
                Some(username.as_str())
            );
            // Signed in already: the next request goes straight back with a code.
            let (url, _, _) = rp
                .authorize_url(
                    CoreAuthenticationFlow::AuthorizationCode,
                    CsrfToken::new_random,
                    Nonce::new_random,
                )
                .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
                .url();
            let r = b.get(&local(&url)).await;
            assert!(param(&params_of(r.location.as_deref().unwrap()), "code").is_some());
        }
    })
    .await;
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_family() {
    each_backend(|h: Harness| async move {
        let (b, secret) = person(&h, "bob@example.org").await;
        let (id, client_secret) = register(&h, true, true, SigningAlg::Es256).await;
        let rp = relying_party(&h, &id, client_secret.as_deref()).await;
        let flow = authorize(&rp, &b, "bob@example.org", &secret).await;
        let http = Http(h.clone());
        let tokens = rp
            .exchange_code(AuthorizationCode::new(flow.code))
            .unwrap()
            .set_pkce_verifier(flow.verifier)
            .request_async(&http)
            .await
            .unwrap();
        let first = tokens.refresh_token().unwrap().clone();
        let refreshed = rp
            .exchange_refresh_token(&first)
            .unwrap()
            .request_async(&http)
            .await
            .unwrap();
        let second = refreshed.refresh_token().unwrap().clone();
        assert_ne!(first.secret(), second.secret(), "the refresh token rotates");
        assert!(refreshed.id_token().is_some());
        let again = rp
            .exchange_refresh_token(&first)
            .unwrap()
            .request_async(&http)
            .await;
        assert!(format!("{again:?}").contains("invalid_grant"), "{again:?}");
        // The reuse revoked the family: the newest refresh token and its access token too.
        let after = rp
            .exchange_refresh_token(&RefreshToken::new(second.secret().clone()))
            .unwrap()
            .request_async(&http)
            .await;
        assert!(format!("{after:?}").contains("invalid_grant"), "{after:?}");
        let r = h
            .client()
            .get(h.url("/oidc/userinfo"))
            .bearer_auth(refreshed.access_token().secret())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert!(
            r.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("invalid_token")
        );
    })
    .await;
}

/// `POST` to a client-authenticated endpoint with HTTP Basic.
pub async fn post_form(
    h: &Harness,
    path: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = h.client().post(h.url(path)).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn revocation_and_introspection() {
    each_backend(|h: Harness| async move {
        let (b, secret) = person(&h, "carol@example.org").await;
        let (id, client_secret) = register(&h, true, true, SigningAlg::Es256).await;
        let client_secret = client_secret.unwrap();
        let (rs, rs_secret) = register(&h, true, true, SigningAlg::Es256).await;
        let rs_secret = rs_secret.unwrap();
        let rp = relying_party(&h, &id, Some(&client_secret)).await;
        let flow = authorize(&rp, &b, "carol@example.org", &secret).await;
        let tokens = rp
            .exchange_code(AuthorizationCode::new(flow.code))
            .unwrap()
            .set_pkce_verifier(flow.verifier)
            .request_async(&Http(h.clone()))
            .await
            .unwrap();
        let access = tokens.access_token().secret().clone();
        let refresh = tokens.refresh_token().unwrap().secret().clone();

        // A resource server with its own credentials asks what the token is.
        let (status, headers, body) = post_form(
            &h,
            "/oidc/introspect",
            Some((&rs, &rs_secret)),
            &[("token", &access)],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(body["active"], true);
        assert_eq!(body["client_id"], id);
        assert!(body["scope"].as_str().unwrap().contains("email"));
        let (status, _, body) = post_form(
            &h,
            "/oidc/introspect",
            Some((&rs, "wrong")),
            &[("token", &access)],
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client"))
        );

        // Revoking the access token ends it; another client's revocation changes nothing.
        let (status, _, _) = post_form(
            &h,
            "/oidc/revoke",
            Some((&rs, &rs_secret)),
            &[("token", &refresh)],
        )
        .await;
        assert_eq!(status, 200);
        let (status, _, _) = post_form(
            &h,
            "/oidc/revoke",
            Some((&id, &client_secret)),
            &[("token", &access)],
        )
        .await;
        assert_eq!(status, 200);
        let (_, _, body) = post_form(
            &h,
            "/oidc/introspect",
            Some((&rs, &rs_secret)),
            &[("token", &access)],
        )
        .await;
        assert_eq!(body, serde_json::json!({"active": false}));
        let (_, _, body) = post_form(
            &h,
            "/oidc/introspect",
            Some((&rs, &rs_secret)),
            &[("token", &refresh)],
        )
        .await;
        assert_eq!(
            body["active"], true,
            "the other client's revocation was ignored"
        );

        // Revoking the refresh token ends the family.
        let (status, _, _) = post_form(
            &h,
            "/oidc/revoke",
            None,
            &[
                ("token", &refresh),
                ("client_id", &id),
                ("client_secret", &client_secret),
            ],
        )
        .await;
        assert_eq!(status, 200);
        let (_, _, body) = post_form(
            &h,
            "/oidc/introspect",
            Some((&rs, &rs_secret)),
            &[("token", &refresh)],
        )
        .await;
        assert_eq!(body["active"], false);
    })
    .await;
}

#[tokio::test]
async fn a_public_client_with_form_post_and_consent() {
    each_backend(|h: Harness| async move {
        let (b, secret) = person(&h, "dave@example.org").await;
        let (id, none) = register(&h, false, false, SigningAlg::Rs256).await;
        assert!(none.is_none());
        let rp = relying_party(&h, &id, None).await;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = rp
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_extra_param("response_mode", "form_post")
            .set_pkce_challenge(challenge)
            .url();
        // A third-party client: the consent page, in the person's language.
        let consent = sign_in_for(&b, &local(&url), "dave@example.org", &secret).await;
        consent
            .shows(200, "Allow access?")
            .shows(200, "Wiki would like to use your account")
            .shows(200, "your email address");
        let request = consent.field("request");
        let r = b
            .post(
                "/oidc/consent",
                &[
                    ("csrf", &consent.csrf()),
                    ("request", &request),
                    ("decision", "allow"),
                ],
            )
            .await;
        // `form_post`: a form the person submits to the client, which the CSP allows.
        r.shows(200, "action=\"https://app.example/callback\"");
        let csp = r.headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("form-action 'self' https://app.example"),
            "{csp}"
        );
        assert!(!r.html.contains("<script"));
        assert_eq!(r.field("state"), *state.secret());
        let code = r.field("code");
        let tokens = rp
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&Http(h.clone()))
            .await
            .unwrap();
        let verifier = rp.id_token_verifier().set_time_fn(at(&h));
        tokens
            .id_token()
            .unwrap()
            .claims(&verifier, &nonce)
            .unwrap();

        // The consent is remembered: no page the next time.
        let (url, _, _) = rp
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
            .url();
        let r = b.get(&local(&url)).await;
        assert!(param(&params_of(r.location.as_deref().unwrap()), "code").is_some());
    })
    .await;
}
