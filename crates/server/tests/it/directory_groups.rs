//! Directory groups (issue #19, part C), on both stores: a forward-auth rule naming a
//! directory group, the OpenID Connect `groups` claim, admins by group, a group held to
//! two-step sign-in, and the groups as RADIUS `Class` attributes. The directory is
//! `directory_fake`'s stand-in.

use crate::common::{Harness, PASSWORD, each_backend, each_backend_with};
use crate::directory_fake::{directory, enrolled, entry};
use crate::oidc::{Http, param, params_of, register, relying_party, sign_in_for};
use crate::web::browser::Browser;
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{
    AuthorizationCode, CsrfToken, Nonce, OAuth2TokenResponse, PkceCodeChallenge, Scope,
    TokenResponse,
};
use serde_json::{Value, json};
use tessera_core::RequestContext;
use tessera_core::forward_auth::service::Start;
use tessera_core::forward_auth::{NewRule, Requested};
use tessera_core::oidc::SigningAlg;
use tessera_server::config::ServerConfig;

fn forward_auth_cookie_domain(c: &mut ServerConfig) {
    c.forward_auth_cookie_domain = Some("example.org".into());
}

/// The forward-auth start page's decision for the person behind `token`, at `url`.
async fn start(h: &Harness, token: &str, url: &str) -> Start {
    let auth = h.tessera().authenticate(token).await.unwrap();
    h.tessera()
        .forward_auth_start(
            &Requested::from_url(url).unwrap(),
            Some(&auth),
            &RequestContext::default(),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn a_forward_auth_rule_admits_members_of_a_directory_group_only() {
    each_backend_with(forward_auth_cookie_domain, |h: Harness| async move {
        directory(
            &h,
            vec![
                entry("dora", &["wiki-editors", "staff"]),
                entry("dirk", &["staff"]),
            ],
        );
        let rule = NewRule {
            domains: vec!["wiki.example.org".into()],
            level: "two_factor".into(),
            groups: vec!["wiki-editors".into()],
            ..NewRule::default()
        };
        h.tessera()
            .local_admin()
            .create_forward_auth_rule(&rule, None)
            .await
            .unwrap();
        const WIKI: &str = "https://wiki.example.org/page";

        let (dora, _) = enrolled(&h, "dora").await;
        let Start::Return { token: Some(fa) } = start(&h, &dora, WIKI).await else {
            panic!("a member is let through");
        };
        let r = reqwest::Client::new()
            .get(h.url("/api/v1/authz/forward-auth"))
            .header("X-Original-URL", WIKI)
            .header("Cookie", format!("tessera_fa={}", fa.as_str()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let header = |name: &str| {
            r.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        assert_eq!(header("remote-user").as_deref(), Some("dora"));
        assert_eq!(
            header("remote-groups").as_deref(),
            Some("staff,wiki-editors"),
            "the directory's groups are passed on"
        );

        let (dirk, dirk_secret) = enrolled(&h, "dirk").await;
        assert_eq!(
            start(&h, &dirk, WIKI).await,
            Start::Forbidden,
            "not in the rule's group"
        );
        // As the start page tells them.
        let b = Browser::new(&h);
        b.sign_in("dirk", &dirk_secret).await;
        let query = serde_urlencoded::to_string([("rd", WIKI)]).unwrap();
        b.get(&format!("/forward-auth/start?{query}"))
            .await
            .shows(403, "You don&#39;t have access to this site.");
    })
    .await;
}

/// The front channel with `scopes`, from a browser already signed in (or signing in now).
async fn code_with(
    rp: &crate::oidc::Rp,
    b: &Browser,
    username: &str,
    secret: &str,
    scopes: &[&str],
) -> (String, openidconnect::PkceCodeVerifier) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = rp.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for s in scopes {
        request = request.add_scope(Scope::new(s.to_string()));
    }
    let (url, _, _) = request.set_pkce_challenge(challenge).url();
    let local = crate::oidc::local(&url);
    let r = if b.get("/security-info").await.status == 200 {
        b.get(&local).await
    } else {
        sign_in_for(b, &local, username, secret).await
    };
    let code = param(&params_of(r.location.as_deref().unwrap()), "code").unwrap();
    (code, verifier)
}

/// The claims of a JWT, unchecked (the `oidc` tests check signatures).
fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    let bytes = data_encoding::BASE64URL_NOPAD
        .decode(part.as_bytes())
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn the_groups_claim_comes_with_the_groups_scope_only() {
    each_backend(|h: Harness| async move {
        directory(&h, vec![entry("dora", &["wiki-editors"])]);
        let (_, secret) = enrolled(&h, "dora").await;
        let (id, client_secret) = register(&h, true, true, SigningAlg::Es256).await;
        let rp = relying_party(&h, &id, client_secret.as_deref()).await;
        let b = Browser::new(&h);
        for (scopes, groups) in [
            (&["groups"][..], Some(json!(["wiki-editors"]))),
            (&["profile"][..], None),
        ] {
            let (code, verifier) = code_with(&rp, &b, "dora", &secret, scopes).await;
            let tokens = rp
                .exchange_code(AuthorizationCode::new(code))
                .unwrap()
                .set_pkce_verifier(verifier)
                .request_async(&Http(h.clone()))
                .await
                .unwrap();
            let id_token = serde_json::to_value(tokens.id_token().unwrap()).unwrap();
            let claims = payload(id_token.as_str().unwrap());
            assert_eq!(claims.get("groups").cloned(), groups, "{claims}");
            let (status, info) = h
                .get(
                    &h.client(),
                    "/oidc/userinfo",
                    Some(tokens.access_token().secret().as_str()),
                )
                .await;
            assert_eq!(status, 200, "{info}");
            assert_eq!(info.get("groups").cloned(), groups, "{info}");
        }
    })
    .await;
}

#[tokio::test]
async fn members_of_an_admin_group_are_admins() {
    each_backend(|h: Harness| async move {
        directory(
            &h,
            vec![entry("dora", &["it-admins"]), entry("dirk", &["staff"])],
        );
        let (dora, dora_secret) = enrolled(&h, "dora").await;
        let (dirk, _) = enrolled(&h, "dirk").await;
        let c = h.client();
        let admin_page = |token: String| {
            let h = h.clone();
            let c = c.clone();
            async move { h.get(&c, "/api/v1/admin/accounts", Some(&token)).await.0 }
        };
        assert_eq!(admin_page(dora.clone()).await, 403, "no admin group yet");

        // Set through the admin API, as an admin would; a bad name is refused.
        let (ada, _) = crate::admin::admin(&h, &c, "ada@example.org").await;
        let (status, body) = h
            .put(
                &c,
                "/api/v1/admin/policy",
                &ada,
                json!({"admin_groups": ["it\u{0}admins"]}),
            )
            .await;
        assert_eq!(status, 400, "{body}");
        h.set_policy("admin_groups", "it-admins").await;

        assert_eq!(admin_page(dora.clone()).await, 200);
        let (_, me) = h.get(&c, "/api/v1/me", Some(&dora)).await;
        assert_eq!(me["is_admin"], true, "{me}");
        assert_eq!(admin_page(dirk.clone()).await, 403, "not a member");
        let (_, me) = h.get(&c, "/api/v1/me", Some(&dirk)).await;
        assert_eq!(me["is_admin"], false, "{me}");

        // The admin pages too, where the setting is one of the policy's.
        let b = Browser::new(&h);
        b.sign_in("dora", &dora_secret).await;
        b.get("/admin/policy")
            .await
            .shows(200, "Groups whose members are admins")
            .shows(200, "value=\"it-admins\"");
    })
    .await;
}

#[tokio::test]
async fn a_group_can_be_held_to_two_step_sign_in() {
    each_backend(|h: Harness| async move {
        directory(
            &h,
            vec![entry("dora", &["finance"]), entry("dirk", &["staff"])],
        );
        enrolled(&h, "dora").await;
        enrolled(&h, "dirk").await;
        h.set_policy("two_step_required", "false").await;
        let c = h.client();
        let status_of = |username: &'static str| {
            let h = h.clone();
            let c = c.clone();
            async move { h.api_sign_in(&c, username).await["status"].clone() }
        };
        assert_eq!(status_of("dora").await, "signed_in", "a password alone");

        h.set_policy("two_step_groups", "finance").await;
        assert_eq!(status_of("dora").await, "mfa_required", "a member");
        assert_eq!(status_of("dirk").await, "signed_in", "not a member");
    })
    .await;
}

#[tokio::test]
async fn a_radius_accept_carries_the_groups_as_class_attributes() {
    use tessera_core::radius::packet;
    each_backend(|h: Harness| async move {
        directory(&h, vec![entry("dora", &["vpn-users", "staff"])]);
        let (_, secret) = enrolled(&h, "dora").await;
        let server = crate::radius::start(&h).await;
        let shared = crate::radius::add_client(&h, "vpn", "127.0.0.1", true).await;
        let mut nas = crate::radius::Nas::new("127.0.0.1", server.addr, &shared).await;
        let challenge = nas.ask("dora", PASSWORD, None).await;
        assert_eq!(challenge.code, packet::ACCESS_CHALLENGE);
        assert!(challenge.get(packet::CLASS).is_none());
        let state = challenge.get(packet::STATE).unwrap().to_vec();
        let accept = nas.ask("dora", &h.code(&secret, 0), Some(&state)).await;
        assert_eq!(accept.code, packet::ACCESS_ACCEPT);
        let classes: Vec<&[u8]> = accept
            .attributes
            .iter()
            .filter(|(k, _)| *k == packet::CLASS)
            .map(|(_, v)| v.as_slice())
            .collect();
        assert_eq!(classes, [&b"staff"[..], &b"vpn-users"[..]]);
    })
    .await;
}
