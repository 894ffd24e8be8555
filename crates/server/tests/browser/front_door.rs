//! What the journeys through another site's front door share (an Apache site that signs in
//! with OpenID Connect, an nginx site behind forward authentication): a person with an
//! authenticator app and a security key, and arriving on a page of another origin.

use super::Person;
use serde_json::json;

impl Person<'_> {
    /// Adds an authenticator app, then a security key (Chromium's virtual one), on Tessera's
    /// pages; answers the app's secret.
    pub async fn add_app_and_key(&self, username: &str) -> String {
        self.sign_in_with_password(username).await;
        self.arrive("/sign-in/register").await;
        self.activate("a[href='/security-info/add/authenticator-code']")
            .await;
        self.arrive("/security-info/add/authenticator-code").await;
        self.fill("#name", "Phone").await;
        self.tab.enter().await;
        self.arrive_matching("^/security-info/methods/[^/]+/verify$")
            .await;
        let secret = self
            .tab
            .eval("document.getElementById('secret').textContent")
            .await;
        let secret = secret.as_str().unwrap().to_string();
        self.fill("#code", &self.server.code(&secret)).await;
        self.tab.enter().await;
        self.finish_wizard().await;

        self.tab.add_security_key().await;
        self.activate("a[href='/security-info/add']").await;
        self.arrive("/security-info/add").await;
        self.activate("a[href='/security-info/add/security-key']")
            .await;
        self.arrive("/security-info/add/security-key").await;
        self.fill("#name", "Blue key").await;
        self.tab.enter().await;
        self.arrive_matching("^/security-info/security-keys/[^/]+$")
            .await;
        self.use_security_key().await;
        self.arrive("/security-info").await;
        self.sign_out().await;
        secret
    }

    /// Waits for a page at `origin` whose path is `path`, then checks it as every page.
    pub async fn arrive_at(&self, origin: &str, path: &str) {
        self.tab
            .wait_until(&format!(
                "location.origin === {} && location.pathname === {}",
                json!(origin),
                json!(path)
            ))
            .await;
        self.check_page().await;
    }
}
