//! The token scenario: a relying party registered in the seed, and one exchange per step.
//!
//! A step is what an app does when a signed-in person opens it: the authorization request
//! (the person's session cookie, answered with a redirect carrying a code) and the code's
//! exchange at the token endpoint (client secret, PKCE verifier, an ID token signed, an
//! access token stored). The figure is the exchange's; the rate counts whole steps.

use crate::load::{self, Step};
use crate::scenario::Target;
use anyhow::Result;
use data_encoding::BASE64URL_NOPAD;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tessera_core::audit::{AuditAction, AuditEvent, RequestContext};
use tessera_core::oidc::{Client, Requirement, SigningAlg};
use tessera_core::store::oidc::OidcStore;
use tessera_core::{Clock, OsRandom, SystemClock, secret};
use tessera_store::SqlStore;

pub const CLIENT_ID: &str = "tessera-bench";
pub const REDIRECT_URI: &str = "https://app.example/callback";
/// One verifier for every step: PKCE's cost is the same whatever it is.
const VERIFIER: &str = "tessera-bench-pkce-verifier-of-forty-three-or-more-characters";

/// The registered client's secret.
pub struct RelyingParty {
    pub secret: String,
}

/// Registers the bench's confidential, first-party client (no consent page) straight in
/// the store, as `tessera oidc client add` would.
pub async fn seed_client(store: &SqlStore) -> Result<RelyingParty> {
    let rng = OsRandom;
    let now = SystemClock.now();
    let secret = secret::new_token(&rng);
    let client = Client {
        client_id: CLIENT_ID.into(),
        name: "Bench".into(),
        secret_hash: Some(secret::token_hash(&secret)),
        redirect_uris: vec![REDIRECT_URI.into()],
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: None,
        first_party: true,
        requirement: Requirement::TwoStep,
        offline_access: false,
        id_token_alg: SigningAlg::Es256,
        created_at: now,
    };
    let audit = AuditEvent::new(
        &rng,
        now,
        &RequestContext::default(),
        None,
        AuditAction::OidcClientCreated,
    );
    store
        .insert_oidc_client(&client, &audit)
        .await
        .map_err(|e| anyhow::anyhow!("registering the bench's client: {e:?}"))?;
    Ok(RelyingParty {
        secret: secret.to_string(),
    })
}

/// The authorization request's query: every value URL-safe but the redirect URI, written
/// encoded (reqwest is built without its query encoder).
fn authorize_query() -> String {
    let challenge = BASE64URL_NOPAD.encode(&secret::token_hash(VERIFIER));
    format!(
        "response_type=code&client_id={CLIENT_ID}&redirect_uri={}&scope=openid&state=bench\
         &code_challenge={challenge}&code_challenge_method=S256",
        REDIRECT_URI.replace(':', "%3A").replace('/', "%2F")
    )
}

/// The `code` parameter of a redirect to the client.
fn code_of(location: &str) -> Option<String> {
    let (base, query) = location.split_once('?')?;
    if base != REDIRECT_URI {
        return None;
    }
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == "code")
        .map(|(_, v)| v.to_string())
}

/// One step: a code for the next hot account's session, exchanged.
pub async fn token_round(t: &Target, client: usize, cursor: &AtomicU64) -> Step {
    let n = cursor.fetch_add(1, Ordering::Relaxed);
    let hot = &t.org.hot[(n % t.org.hot.len() as u64) as usize];
    let base = &t.nodes[client % t.nodes.len()];
    let authorize = t
        .client
        .get(format!("{base}/oidc/authorize?{}", authorize_query()))
        .header("cookie", format!("tessera_session={}", hot.token))
        .send()
        .await;
    let response = match authorize {
        Ok(r) => r,
        Err(e) => return Step::Unexpected(format!("authorize: transport: {e}")),
    };
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let status = response.status().as_u16();
    let Some(code) = location.as_deref().and_then(code_of) else {
        let body = response.text().await.unwrap_or_default();
        return Step::Unexpected(format!(
            "authorize: {status} to {location:?}: {}",
            &body[..body.len().min(300)]
        ));
    };
    let sent = Instant::now();
    let exchange = t
        .client
        .post(format!("{base}/oidc/token"))
        .basic_auth(CLIENT_ID, Some(&t.relying_party.secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await;
    match load::expect(exchange, 200).await {
        Step::Ok => Step::OkTimed(sent.elapsed()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_is_read_from_the_clients_redirect_only() {
        assert_eq!(
            code_of("https://app.example/callback?code=abc&state=bench&iss=x").as_deref(),
            Some("abc")
        );
        assert_eq!(code_of("https://evil.example/callback?code=abc"), None);
        assert_eq!(
            code_of("https://app.example/callback?error=login_required"),
            None
        );
    }
}
