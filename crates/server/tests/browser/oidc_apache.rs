//! A real, widely used relying party: Apache httpd with mod_auth_openidc, from Debian's
//! packages (`apache2`, `libapache2-mod-auth-openidc`), configured here against the Tessera
//! the journey runs, listening on 127.0.0.1 with everything in a temporary folder. Its
//! protected page is a server-side include that shows the claims the module received.
//!
//! Without Apache or the module the journey says so and passes, except under CI, which
//! installs them (.ci/run) and must run it.

mod httpd;

use super::{DESKTOP, Person, run};
use crate::server::PASSWORD;
use httpd::{Apache, CLAIMS, MAX_AGE, Provider, StartError, apache2, free_port};
use serde_json::json;
use std::path::Path;
use tessera_core::Clock;
use tessera_core::admin::NewAccount;
use tessera_core::oidc::{Acr, NewClient, Requirement, SigningAlg};
use zeroize::Zeroizing;

/// A confidential, first-party client for Apache on `port`: (client id, secret).
async fn register(p: &Person<'_>, port: u16) -> (String, String) {
    let (redirect_uri, signed_out) = Apache::client_uris(port);
    let created = p
        .server
        .tessera
        .local_admin()
        .create_oidc_client(NewClient {
            name: "Wiki".into(),
            confidential: true,
            redirect_uris: vec![redirect_uri],
            post_logout_redirect_uris: vec![signed_out],
            backchannel_logout_uri: None,
            first_party: true,
            requirement: Requirement::TwoStep,
            offline_access: false,
            id_token_alg: SigningAlg::Es256,
        })
        .await
        .unwrap();
    (
        created.client.client_id,
        created.secret.unwrap().to_string(),
    )
}

/// Apache on a free port with a client registered for it.
async fn start_apache(p: &Person<'_>, binary: &Path) -> Apache {
    for _ in 0..5 {
        let port = free_port();
        let (client_id, secret) = register(p, port).await;
        let provider = Provider {
            issuer: &p.server.base,
            client_id: &client_id,
            secret: &secret,
        };
        match Apache::start(binary, port, &provider) {
            Ok(apache) => return apache,
            Err(StartError::PortTaken) => continue,
            Err(StartError::Failed(why)) => panic!("{why}"),
        }
    }
    panic!("no free port for Apache after five tries");
}

/// On Tessera's sign-in page: Ada's password, then a code from her app.
async fn sign_in(p: &Person<'_>, secret: &str) {
    p.fill("#username", "ada").await;
    p.fill("#password", PASSWORD).await;
    p.tab.enter().await;
    p.arrive("/sign-in/verify").await;
    p.fill("#code", &p.server.code(secret)).await;
    p.tab.enter().await;
}

/// The claims on the wiki's page, by name.
async fn claims_shown(p: &Person<'_>) -> serde_json::Value {
    p.tab
        .eval(&format!(
            "Object.fromEntries({}.map(c => [c, document.getElementById(c).textContent]))",
            json!(CLAIMS)
        ))
        .await
}

/// Goes to `url` and waits until the page there replaced this one, wherever it redirected.
async fn navigate(p: &Person<'_>, url: &str) {
    p.tab.eval("window.leaving = true").await;
    p.tab.call("Page.navigate", json!({"url": url})).await;
    p.tab.wait_until("window.leaving === undefined").await;
}

/// A person opens a wiki behind Apache's mod_auth_openidc, signs in on Tessera's pages with
/// a password and a code from an authenticator app, lands on the wiki, which shows the claims
/// the module received; signs in again when the sign-in is older than the wiki's `max_age`;
/// steps up with a security key for the wiki's settings (mod_auth_openidc's `acr_values`
/// step-up); then signs out through the provider, and is asked to sign in again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apache_mod_auth_openidc_signs_a_person_in_and_out_through_tessera() {
    let Some(binary) = apache2() else {
        return;
    };
    run("oidc-apache", DESKTOP, async |p: &Person<'_>| {
        // mod_auth_openidc checks the ID token's `iat` and `exp` against the real clock.
        p.server.clock.set(
            tessera_core::Clock::now(&tessera_core::SystemClock)
                .replace_nanosecond(0)
                .unwrap(),
        );
        p.server.tessera.oidc_ensure_keys().await.unwrap();
        let account = p
            .server
            .tessera
            .local_admin()
            .create_account(NewAccount {
                username: "ada".into(),
                display_name: Some("Ada Lovelace".into()),
                password: Zeroizing::new(PASSWORD.into()),
                is_admin: false,
                email: Some("ada@example.org".into()),
            })
            .await
            .unwrap();
        let secret = p.add_app_and_key("ada").await;
        // The code just used may not be used again: the sign-in's is from the next step.
        p.server.clock.advance(time::Duration::seconds(30));

        let apache = start_apache(p, &binary).await;
        let wiki = Apache::origin(apache.port);
        navigate(p, &apache.url("/protected/")).await;
        p.arrive_at(&p.server.base, "/sign-in").await;
        p.shot("01-sign-in-for-the-wiki").await;
        sign_in(p, &secret).await;

        p.arrive_at(&wiki, "/protected/").await;
        p.shot("02-the-wiki").await;
        let claims = claims_shown(p).await;
        let claim = |name: &str| claims[name].as_str().unwrap_or_default().to_string();
        assert_eq!(claim("sub"), account.id.to_string(), "{claims}");
        assert_eq!(claim("email"), "ada@example.org", "{claims}");
        assert_eq!(claim("preferred_username"), "ada", "{claims}");
        assert_eq!(claim("name"), "Ada Lovelace", "{claims}");
        assert_eq!(claim("iss"), p.server.base, "{claims}");
        assert_eq!(claim("acr"), "urn:tessera:acr:two_step", "{claims}");
        let mut amr: Vec<String> = claim("amr").split(',').map(str::to_string).collect();
        amr.sort();
        assert_eq!(amr, ["mfa", "otp", "pwd"], "{claims}");
        let signed_in_at = p.server.clock.now().unix_timestamp();
        assert_eq!(claim("auth_time"), signed_in_at.to_string(), "{claims}");

        // Two minutes on, the wiki's own session over, the sign-in is too old for the wiki:
        // Tessera asks for one again, and the wiki is told when it was.
        p.server.clock.advance(time::Duration::seconds(2 * MAX_AGE));
        p.tab
            .call(
                "Network.deleteCookies",
                json!({"name": "mod_auth_openidc_session", "url": apache.url("/")}),
            )
            .await;
        navigate(p, &apache.url("/protected/")).await;
        p.arrive_at(&p.server.base, "/sign-in").await;
        sign_in(p, &secret).await;
        p.arrive_at(&wiki, "/protected/").await;
        let again = claims_shown(p).await;
        assert_eq!(
            again["auth_time"],
            json!((signed_in_at + 2 * MAX_AGE).to_string()),
            "{again}"
        );
        assert_eq!(again["sub"], claims["sub"], "{again}");

        // The wiki's settings want a phishing-resistant sign-in: mod_auth_openidc asks again
        // with `acr_values`, Tessera asks for the security key alone, and the ID token says so.
        navigate(p, &apache.url("/protected/admin/")).await;
        p.arrive_at(&p.server.base, "/step-up/security-key").await;
        p.shot("03-security-key-for-the-settings").await;
        p.use_security_key().await;
        p.arrive_at(&wiki, "/protected/admin/").await;
        let stepped = claims_shown(p).await;
        assert_eq!(
            stepped["acr"],
            json!(Acr::PhishingResistant.as_str()),
            "{stepped}"
        );
        let amr = stepped["amr"].as_str().unwrap_or_default();
        assert!(amr.split(',').any(|m| m == "hwk"), "{stepped}");
        assert_eq!(stepped["sub"], claims["sub"], "{stepped}");

        // Signing out through the provider: the module sends the browser to Tessera's
        // end-session endpoint, which may ask first, then back to the wiki's signed-out page.
        p.activate("#sign-out").await;
        let confirm = "form:not(.language) button[type=submit]";
        p.tab
            .wait_until(&format!(
                "(location.origin === {wiki} && location.pathname === '/signed-out.html') \
                 || (location.origin === {tessera} && !!document.querySelector({confirm}))",
                wiki = json!(wiki),
                tessera = json!(p.server.base),
                confirm = json!(confirm),
            ))
            .await;
        if p.tab.eval("location.origin").await == json!(p.server.base) {
            p.check_page().await;
            p.shot("04-sign-out").await;
            p.activate(confirm).await;
        }
        p.arrive_at(&wiki, "/signed-out.html").await;
        p.shot("05-signed-out").await;

        // Signed out of both: the wiki asks for a sign-in, and Tessera asks for one too.
        p.activate("#sign-in").await;
        p.arrive_at(&p.server.base, "/sign-in").await;
        navigate(p, &p.server.url("/security-info")).await;
        p.arrive_at(&p.server.base, "/sign-in").await;
        drop(apache);
    })
    .await;
}
