//! Logout: RP-initiated (the client sends the person to `/oidc/logout`, with its ID token
//! as the hint, and gets them back at a registered URI) and back-channel (a client's server
//! is told, with a signed logout token, when the session its tokens came from ends).

use crate::common::{Harness, each_backend};
use crate::oidc::{Flow, Http, Rp, authorize, person, relying_party};
use crate::web::browser::Browser;
use data_encoding::BASE64URL_NOPAD;
use openidconnect::{AuthorizationCode, OAuth2TokenResponse, RefreshToken, TokenResponse};
use serde_json::Value;
use std::time::Duration;
use tessera_core::audit::AuditAction;
use tessera_core::oidc::{NewClient, Requirement, SigningAlg};
use tokio::sync::mpsc;

const BYE: &str = "https://app.example/bye";

/// A confidential first-party client with a post-logout redirect URI and, when given, a
/// back-channel logout URI: (client id, secret).
async fn register(h: &Harness, backchannel: Option<String>, alg: SigningAlg) -> (String, String) {
    let created = h
        .tessera()
        .local_admin()
        .create_oidc_client(NewClient {
            name: "Wiki".into(),
            confidential: true,
            redirect_uris: vec![crate::oidc::REDIRECT.into()],
            post_logout_redirect_uris: vec![BYE.into()],
            backchannel_logout_uri: backchannel,
            first_party: true,
            requirement: Requirement::TwoStep,
            offline_access: true,
            id_token_alg: alg,
        })
        .await
        .unwrap();
    (
        created.client.client_id,
        created.secret.unwrap().to_string(),
    )
}

/// The ID token and refresh token of a finished code flow.
async fn tokens(h: &Harness, rp: &Rp, flow: Flow) -> (String, RefreshToken) {
    let tokens = rp
        .exchange_code(AuthorizationCode::new(flow.code))
        .unwrap()
        .set_pkce_verifier(flow.verifier)
        .request_async(&Http(h.clone()))
        .await
        .unwrap();
    (
        tokens.id_token().unwrap().to_string(),
        tokens.refresh_token().unwrap().clone(),
    )
}

/// A JWT's payload, unchecked.
fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&BASE64URL_NOPAD.decode(part.as_bytes()).unwrap()).unwrap()
}

fn logout_url(params: &[(&str, &str)]) -> String {
    format!(
        "/oidc/logout?{}",
        serde_urlencoded::to_string(params).unwrap()
    )
}

/// Whether the browser's session still works.
async fn signed_in(b: &Browser) -> bool {
    let r = b.get("/security-info").await;
    match r.status {
        200 => true,
        303 => {
            assert!(r.location.as_deref().unwrap().starts_with("/sign-in"));
            false
        }
        other => panic!("security info answered {other}"),
    }
}

async fn actions(h: &Harness, username: &str) -> Vec<(AuditAction, Value)> {
    let account = h
        .store()
        .account_by_username(username)
        .await
        .unwrap()
        .unwrap();
    h.store()
        .audit_of(account.id, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.detail))
        .collect()
}

#[tokio::test]
async fn end_session_with_the_id_token_signs_out_and_returns_with_state() {
    each_backend(|h: Harness| async move {
        let doc: Value = h
            .client()
            .get(h.url("/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            doc["end_session_endpoint"],
            format!("{}/oidc/logout", h.origin())
        );
        assert_eq!(doc["backchannel_logout_supported"], true);
        assert_eq!(doc["backchannel_logout_session_supported"], true);

        let (b, secret) = person(&h, "alice@example.org").await;
        let (id, client_secret) = register(&h, None, SigningAlg::Es256).await;
        let rp = relying_party(&h, &id, Some(&client_secret)).await;
        let flow = authorize(&rp, &b, "alice@example.org", &secret).await;
        let (id_token, _) = tokens(&h, &rp, flow).await;
        assert!(signed_in(&b).await);

        // Another client's id does not go with this ID token: no redirect, and since the
        // hint is not trusted, the person is asked.
        let (other, _) = register(&h, None, SigningAlg::Es256).await;
        let r = b
            .get(&logout_url(&[
                ("id_token_hint", &id_token),
                ("client_id", &other),
                ("post_logout_redirect_uri", BYE),
            ]))
            .await;
        r.shows(200, "Sign out of Tessera?");
        assert_eq!(r.field("post_logout_redirect_uri"), "");
        assert!(signed_in(&b).await);

        // The ID token of this session: signed out at once, and back to the client.
        let r = b
            .get(&logout_url(&[
                ("id_token_hint", &id_token),
                ("post_logout_redirect_uri", BYE),
                ("state", "s-1"),
            ]))
            .await;
        assert_eq!(
            (r.status, r.location.as_deref()),
            (303, Some("https://app.example/bye?state=s-1"))
        );
        assert!(r.cookie("tessera_session").contains("Max-Age=0"));
        assert!(!signed_in(&b).await);
        let logged_out: Vec<Value> = actions(&h, "alice@example.org")
            .await
            .into_iter()
            .filter(|(a, _)| *a == AuditAction::OidcLoggedOut)
            .map(|(_, d)| d)
            .collect();
        assert_eq!(logged_out.len(), 1);
        assert_eq!(logged_out[0]["client_id"], id);

        // No session, and an ID token that has expired (allowed as a hint): straight back.
        h.advance(2 * 3600);
        let r = b
            .get(&logout_url(&[
                ("id_token_hint", &id_token),
                ("post_logout_redirect_uri", BYE),
            ]))
            .await;
        assert_eq!((r.status, r.location.as_deref()), (303, Some(BYE)));

        // A redirect URI the client did not register: the signed-out page, no redirect.
        let r = b
            .get(&logout_url(&[
                ("id_token_hint", &id_token),
                ("post_logout_redirect_uri", "https://evil.example/"),
            ]))
            .await;
        r.shows(200, "You have signed out");
        assert_eq!(r.location, None);

        // A forged hint (another signature) is no hint.
        let mut parts: Vec<&str> = id_token.split('.').collect();
        let forged = format!("{}x", &parts[2][..parts[2].len() - 1]);
        parts[2] = &forged;
        let r = b
            .get(&logout_url(&[
                ("id_token_hint", &parts.join(".")),
                ("post_logout_redirect_uri", BYE),
            ]))
            .await;
        r.shows(200, "You have signed out");
    })
    .await;
}

#[tokio::test]
async fn a_link_without_the_id_token_asks_before_it_signs_out() {
    each_backend(|h: Harness| async move {
        let (b, _, _) = crate::web::browser::signed_in(&h, "bob@example.org").await;
        let (id, _) = register(&h, None, SigningAlg::Es256).await;
        let url = logout_url(&[
            ("client_id", &id),
            ("post_logout_redirect_uri", BYE),
            ("state", "xyz"),
        ]);
        let page = b.get(&url).await;
        page.shows(200, "Sign out of Tessera?")
            .shows(200, "Wiki asked to sign you out");
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("form-action 'self' https://app.example"),
            "{csp}"
        );
        assert!(signed_in(&b).await, "a GET alone ends nothing");

        // In the language the client asks for.
        b.get(&format!("{url}&ui_locales=fr%20nl"))
            .await
            .shows(200, "Afmelden bij Tessera?");

        // Posted from the client's page (another origin): on to the GET, which asks.
        let r =
            b.c.post(h.url("/oidc/logout"))
                .header("origin", "https://app.example")
                .form(&[("client_id", id.as_str()), ("state", "xyz")])
                .send()
                .await
                .unwrap();
        assert_eq!(r.status(), 303);
        let to = r.headers()["location"].to_str().unwrap().to_string();
        assert!(to.starts_with("/oidc/logout?"), "{to}");
        b.get(&to).await.shows(200, "Sign out of Tessera?");
        assert!(signed_in(&b).await);

        // The confirmation needs the page's CSRF token.
        let fields = [
            ("client_id", id.as_str()),
            ("post_logout_redirect_uri", BYE),
            ("state", "xyz"),
        ];
        let r = b.post("/oidc/logout/confirm", &fields).await;
        assert_eq!(r.status, 403);
        assert!(signed_in(&b).await);

        // A redirect URI put into the form that the client did not register goes nowhere.
        let r = b
            .post(
                "/oidc/logout/confirm",
                &[
                    ("csrf", &page.csrf()),
                    ("client_id", &id),
                    ("post_logout_redirect_uri", "https://evil.example/"),
                ],
            )
            .await;
        r.shows(200, "You have signed out");
        assert!(!signed_in(&b).await);

        let (b, _, _) = crate::web::browser::signed_in(&h, "carol@example.org").await;
        let page = b.get(&url).await;
        let mut all = vec![("csrf", page.csrf())];
        all.extend(fields.iter().map(|(k, v)| (*k, v.to_string())));
        let all: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = b.post("/oidc/logout/confirm", &all).await;
        assert_eq!(
            (r.status, r.location.as_deref()),
            (303, Some("https://app.example/bye?state=xyz"))
        );
        assert!(!signed_in(&b).await);

        // Without a session and without a client: the signed-out page.
        Browser::new(&h)
            .get("/oidc/logout")
            .await
            .shows(200, "You have signed out");
    })
    .await;
}

/// A client's back-channel logout endpoint on 127.0.0.1: every `logout_token` posted to it.
async fn listener() -> (String, mpsc::UnboundedReceiver<String>) {
    use axum::routing::post;
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/backchannel",
        post(
            move |axum::Form(form): axum::Form<std::collections::HashMap<String, String>>| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(form.get("logout_token").cloned().unwrap_or_default());
                    axum::http::StatusCode::OK
                }
            },
        ),
    );
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/backchannel", socket.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(socket, app).await });
    (url, rx)
}

async fn next_token(rx: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(15), rx.recv())
        .await
        .expect("a logout token within 15 s")
        .unwrap()
}

/// Checks a logout token as a client would: signature against the JWKS, issuer, audience,
/// type and claims; returns its claims.
async fn checked(h: &Harness, token: &str, client_id: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    let jwks: jsonwebtoken::jwk::JwkSet = h
        .client()
        .get(h.url("/oidc/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.set_audience(&[client_id]);
    v.set_issuer(&[h.origin()]);
    // The server's clock is the test's: the expiry is checked against it below.
    v.validate_exp = false;
    let claims: Value = jsonwebtoken::decode(token, &key, &v).unwrap().claims;
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
    assert!(claims.get("nonce").is_none());
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    assert_eq!(
        claims["events"],
        serde_json::json!({ "http://schemas.openid.net/event/backchannel-logout": {} })
    );
    // Claims swapped under the signature do not verify.
    let parts: Vec<&str> = token.split('.').collect();
    let mut other = claims.clone();
    other["sub"] = "mallory".into();
    let swapped = BASE64URL_NOPAD.encode(other.to_string().as_bytes());
    let forged = format!("{}.{swapped}.{}", parts[0], parts[2]);
    assert!(jsonwebtoken::decode::<Value>(&forged, &key, &v).is_err());
    claims
}

#[tokio::test]
async fn back_channel_logout_tells_the_client_and_revokes_its_tokens() {
    each_backend(|h: Harness| async move {
        let (url, mut rx) = listener().await;
        let (b, secret) = person(&h, "dave@example.org").await;
        let (id, client_secret) = register(&h, Some(url), SigningAlg::Rs256).await;
        // A client whose endpoint is down: its failure is audited, and the others are told.
        let (down, down_secret) = register(
            &h,
            Some("http://127.0.0.1:9/backchannel".into()),
            SigningAlg::Es256,
        )
        .await;
        let rp = relying_party(&h, &id, Some(&client_secret)).await;
        let flow = authorize(&rp, &b, "dave@example.org", &secret).await;
        let (id_token, refresh) = tokens(&h, &rp, flow).await;
        let down_rp = relying_party(&h, &down, Some(&down_secret)).await;
        let down_flow = authorize_signed_in(&down_rp, &b).await;
        tokens(&h, &down_rp, down_flow).await;

        // Signing out on the pages.
        let r = b.submit("/security-info", "/sign-out", &[]).await;
        assert_eq!(r.status, 303);
        let token = next_token(&mut rx).await;
        let claims = checked(&h, &token, &id).await;
        let id_claims = payload(&id_token);
        assert_eq!(claims["sid"], id_claims["sid"]);
        assert_eq!(claims["sub"], id_claims["sub"]);
        let refreshed = rp
            .exchange_refresh_token(&refresh)
            .unwrap()
            .request_async(&Http(h.clone()))
            .await;
        assert!(
            format!("{refreshed:?}").contains("invalid_grant"),
            "{refreshed:?}"
        );
        let mut failed = false;
        for _ in 0..100 {
            failed = actions(&h, "dave@example.org").await.iter().any(|(a, d)| {
                *a == AuditAction::OidcBackchannelLogoutFailed && d["client_id"] == down.as_str()
            });
            if failed {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(failed, "the unreachable client's failure is audited");

        // An admin ending the person's sessions: the client is told of the new session.
        let b = Browser::new(&h);
        let flow = authorize(&rp, &b, "dave@example.org", &secret).await;
        let (id_token, refresh) = tokens(&h, &rp, flow).await;
        let account = h
            .store()
            .account_by_username("dave@example.org")
            .await
            .unwrap()
            .unwrap();
        let ended = h
            .tessera()
            .local_admin()
            .end_sessions(account.id)
            .await
            .unwrap();
        assert!(ended >= 1, "{ended}");
        let claims = checked(&h, &next_token(&mut rx).await, &id).await;
        assert_eq!(claims["sid"], payload(&id_token)["sid"]);
        let refreshed = rp
            .exchange_refresh_token(&refresh)
            .unwrap()
            .request_async(&Http(h.clone()))
            .await;
        assert!(format!("{refreshed:?}").contains("invalid_grant"));
        // Told once: nothing more arrives.
        assert!(
            tokio::time::timeout(Duration::from_millis(500), rx.recv())
                .await
                .is_err()
        );
    })
    .await;
}

/// The code flow for a browser that is signed in already (no pages, straight back).
async fn authorize_signed_in(rp: &Rp, b: &Browser) -> Flow {
    use openidconnect::core::CoreAuthenticationFlow;
    use openidconnect::{CsrfToken, Nonce, PkceCodeChallenge, Scope};
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let r = b.get(&crate::oidc::local(&url)).await;
    let params = crate::oidc::params_of(r.location.as_deref().unwrap());
    Flow {
        code: crate::oidc::param(&params, "code").unwrap(),
        verifier,
        nonce,
    }
}
