//! A real reverse proxy in front of a site that knows nothing of sign-ins: nginx from Debian's
//! packages with `auth_request` asking Tessera's forward-auth endpoint (issue #16), configured
//! here, in front of an upstream that shows the `Remote-User` it received.
//!
//! Tessera and the site are both `localhost`, on two ports: Chromium drops a cookie whose
//! `Domain` is `localhost` (not a registrable domain), but a host-only cookie is not bound to
//! a port, so the forward-auth cookie Tessera sets without a configured domain reaches the
//! site, as `Domain=example.org` reaches `wiki.example.org` in production.
//!
//! Without nginx the journey says so and passes, except under CI, which installs it
//! (.ci/run) and must run it.

mod proxy;

use super::{DESKTOP, Person, run};
use crate::server::PASSWORD;
use proxy::{Nginx, REMOTE_USER_ID, StartError, free_port, nginx};
use serde_json::json;
use std::path::Path;
use tessera_core::admin::NewAccount;
use tessera_core::forward_auth::NewRule;
use zeroize::Zeroizing;

/// The site's rules, first match wins: a public corner, settings that need a security key,
/// and a second factor for the rest.
async fn add_rules(p: &Person<'_>) {
    for (paths, level) in [
        (vec!["/public/*"], "bypass"),
        (vec!["/admin/*"], "phishing_resistant"),
        (vec![], "two_factor"),
    ] {
        let rule = NewRule {
            domains: vec!["localhost".into()],
            paths: paths.into_iter().map(str::to_string).collect(),
            level: level.into(),
            groups: Vec::new(),
            max_age_secs: None,
        };
        p.server
            .tessera
            .local_admin()
            .create_forward_auth_rule(&rule, None)
            .await
            .unwrap();
    }
}

/// nginx on free ports, in front of the Tessera the journey runs.
fn start_nginx(p: &Person<'_>, binary: &Path) -> Nginx {
    let tessera_port: u16 = p
        .server
        .base
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .unwrap();
    for _ in 0..5 {
        match Nginx::start(binary, free_port(), free_port(), tessera_port) {
            Ok(nginx) => return nginx,
            Err(StartError::PortTaken) => continue,
            Err(StartError::Failed(why)) => panic!("{why}"),
        }
    }
    panic!("no free ports for nginx after five tries");
}

/// Goes to `url` and waits until the page there replaced this one, wherever it redirected.
async fn navigate(p: &Person<'_>, url: &str) {
    p.tab.eval("window.leaving = true").await;
    p.tab.call("Page.navigate", json!({"url": url})).await;
    p.tab.wait_until("window.leaving === undefined").await;
}

/// The `Remote-User` the upstream received, as its page shows it.
async fn remote_user(p: &Person<'_>) -> String {
    let shown = p
        .tab
        .eval(&format!(
            "document.getElementById({}).textContent",
            json!(REMOTE_USER_ID)
        ))
        .await;
    shown.as_str().unwrap().to_string()
}

/// A person opens a wiki behind nginx, their browser sending a `Remote-User` of its own that
/// never reaches the site: its public corner loads without a sign-in; the rest
/// sends them to Tessera, where they sign in with a password and a code from an app, and back
/// on the wiki the upstream received their username as `Remote-User`; the wiki's settings
/// want a security key, asked for on Tessera's page; signed out of Tessera, the wiki asks
/// for a sign-in again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_auth_request_sends_a_person_through_tessera_and_passes_who_they_are() {
    let Some(binary) = nginx() else {
        return;
    };
    run("forward-auth-nginx", DESKTOP, async |p: &Person<'_>| {
        p.server
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
        add_rules(p).await;
        let nginx = start_nginx(p, &binary);
        let wiki = nginx.origin();

        // A client naming itself: nginx overwrites the header, so the site never sees it.
        p.tab.call("Network.enable", json!({})).await;
        p.tab
            .call(
                "Network.setExtraHTTPHeaders",
                json!({"headers": {"Remote-User": "mallory"}}),
            )
            .await;

        // The public corner: nobody signed in, nobody named.
        navigate(p, &nginx.url("/public/x")).await;
        p.arrive_at(&wiki, "/public/x").await;
        assert_eq!(remote_user(p).await, "");
        p.shot("01-public-page").await;

        // The rest: to Tessera's sign-in, and back to the page asked for.
        navigate(p, &nginx.url("/notes/?page=1&sort=new")).await;
        p.arrive_at(&p.server.base, "/sign-in").await;
        p.shot("02-sign-in-for-the-wiki").await;
        p.fill("#username", "ada").await;
        p.fill("#password", PASSWORD).await;
        p.tab.enter().await;
        p.arrive("/sign-in/verify").await;
        p.fill("#code", &p.server.code(&secret)).await;
        p.tab.enter().await;
        p.arrive_at(&wiki, "/notes/").await;
        // The whole query comes back: the 401 carried the start page with it encoded.
        assert_eq!(
            p.tab.eval("location.search").await,
            json!("?page=1&sort=new")
        );
        assert_eq!(remote_user(p).await, "ada");
        p.shot("03-the-wiki").await;

        // The settings want a security key: Tessera asks for it, then lets her in.
        navigate(p, &nginx.url("/admin/")).await;
        p.arrive_at(&p.server.base, "/step-up/security-key").await;
        p.shot("04-security-key-for-the-settings").await;
        p.use_security_key().await;
        p.arrive_at(&wiki, "/admin/").await;
        assert_eq!(remote_user(p).await, "ada");
        p.shot("05-the-settings").await;

        // Signed out of Tessera, signed out of the wiki: its forward-auth session went with
        // the Tessera session.
        navigate(p, &p.server.url("/security-info")).await;
        p.arrive_at(&p.server.base, "/security-info").await;
        p.sign_out().await;
        navigate(p, &nginx.url("/notes/")).await;
        p.arrive_at(&p.server.base, "/sign-in").await;
        navigate(p, &nginx.url("/public/x")).await;
        p.arrive_at(&wiki, "/public/x").await;
        assert_eq!(remote_user(p).await, "");
        drop(nginx);
    })
    .await;
}
