//! Logout: RP-Initiated Logout 1.0 (a client sends the person to end their Tessera session)
//! and Back-Channel Logout 1.0 (when a session ends, however it ends, every client that had
//! tokens from it is told, server to server, with a signed logout token).
//!
//! Back-channel logout asks the store for token families whose session no longer exists:
//! one question covers every way a session ends (signed out, ended by an admin, the account
//! disabled, a password reset), and each family is claimed by one node only. The families
//! are revoked in the same step, so their refresh tokens stop working. Only clients with a
//! back-channel logout URI take part: they asked to share the session's end, while another
//! client's `offline_access` outlives the session, as §2.7 advises. Who is told is decided
//! here; the server sends the HTTP requests.

use super::authorize::redirect_url;
use super::client::Client;
use super::token::IdTokenClaims;
use crate::audit::{AuditAction, RequestContext};
use crate::error::Result;
use crate::ids::{AccountId, SessionId};
use crate::random;
use crate::service::{Auth, Tessera};
use data_encoding::BASE64URL_NOPAD;
use jsonwebtoken::{Algorithm, Validation};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use time::Duration;

/// A logout token is good for two minutes: it is sent at once, and a replay later is refused.
pub const LOGOUT_TOKEN_TTL: Duration = Duration::minutes(2);
/// The `events` member that makes a JWT a logout token (Back-Channel Logout 1.0 §2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// The logout token's header `typ` (§2.4), so it cannot pass for an ID token.
pub const LOGOUT_TOKEN_TYPE: &str = "logout+jwt";
/// Families claimed per store round; a round that fills it asks again, up to `ROUNDS`.
const BATCH: u32 = 100;
const ROUNDS: usize = 10;

/// The logout endpoint's parameters (RP-Initiated Logout 1.0 §2), by query or form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LogoutParams {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub ui_locales: Option<String>,
}

/// What a logout request comes to, before the person's session is looked at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogoutPlan {
    /// The client the request names (by its ID token or `client_id`), if registered.
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    /// Where to send the person afterwards: a registered post-logout redirect URI with
    /// `state` added. `None`: show the signed-out page instead.
    pub redirect: Option<String>,
    /// The redirect URI as registered (for the CSP), when there is a redirect.
    pub redirect_uri: Option<String>,
    /// The verified `id_token_hint`'s session and subject: a request that names the current
    /// session came from a client the person signed in to, and needs no confirmation.
    pub hint_sid: Option<String>,
    pub hint_sub: Option<String>,
}

impl LogoutPlan {
    /// Whether the verified hint names this session (and its account).
    pub fn names_session(&self, auth: &Auth) -> bool {
        self.hint_sid.as_deref() == Some(auth.session.id.to_string().as_str())
            && self.hint_sub.as_deref() == Some(auth.account.id.to_string().as_str())
    }
}

/// The logout token's claims (Back-Channel Logout 1.0 §2.4): no `nonce`, an `events` member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoutTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub sid: String,
    pub events: serde_json::Value,
}

/// One client to tell, for one ended session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutDelivery {
    pub client_id: String,
    pub uri: String,
    pub account: AccountId,
    pub session: SessionId,
    pub logout_token: String,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Tessera {
    /// Checks a logout request's parameters against the registered clients. A hint that does
    /// not verify (another issuer, a forged or unknown key), a `client_id` that differs from
    /// the hint's audience, or an unregistered redirect URI mean no redirect, never an error:
    /// the person can still sign out.
    pub async fn oidc_logout_plan(
        &self,
        issuer: &str,
        params: &LogoutParams,
    ) -> Result<LogoutPlan> {
        let mut plan = LogoutPlan::default();
        let mut trusted = true;
        let mut client_id = nonempty(&params.client_id).map(str::to_string);
        if let Some(hint) = nonempty(&params.id_token_hint) {
            match self.oidc_verify_hint(issuer, hint).await {
                // A `client_id` other than the hint's audience: a request put together
                // from parts, trusted neither to skip the question nor to redirect.
                Some(claims) if client_id.as_ref().is_some_and(|c| *c != claims.aud) => {
                    trusted = false;
                }
                Some(claims) => {
                    plan.hint_sid = Some(claims.sid);
                    plan.hint_sub = Some(claims.sub);
                    client_id = Some(claims.aud);
                }
                None => trusted = false,
            }
        }
        let client: Option<Client> = match &client_id {
            Some(id) => self.store.oidc_client(id).await?,
            None => None,
        };
        if let Some(client) = &client {
            plan.client_id = Some(client.client_id.clone());
            plan.client_name = Some(client.name.clone());
            if let Some(uri) = nonempty(&params.post_logout_redirect_uri)
                && trusted
                && client.has_post_logout_redirect_uri(uri)
            {
                plan.redirect = Some(match nonempty(&params.state) {
                    Some(state) => redirect_url(uri, &[("state", state.to_string())]),
                    None => uri.to_string(),
                });
                plan.redirect_uri = Some(uri.to_string());
            }
        }
        Ok(plan)
    }

    /// An ID token this server issued, expired or not (RP-Initiated Logout 1.0 §2 allows
    /// an expired hint), with our issuer; `None` when it does not verify.
    async fn oidc_verify_hint(&self, issuer: &str, hint: &str) -> Option<IdTokenClaims> {
        let mut v = Validation::new(Algorithm::ES256);
        v.validate_exp = false;
        v.validate_aud = false;
        v.set_issuer(&[issuer]);
        v.set_required_spec_claims(&["iss", "sub", "aud"]);
        self.oidc_verify::<IdTokenClaims>(hint, v).await.ok()
    }

    /// Ends the person's session at a client's request (as [`Tessera::sign_out`], audited as
    /// a logout through `client_id`).
    pub async fn oidc_end_session(
        &self,
        auth: &Auth,
        client_id: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<()> {
        let audit = self
            .audit(ctx, Some(auth.account.id), AuditAction::OidcLoggedOut)
            .detail(json!({ "client_id": client_id }));
        self.store
            .delete_session(auth.session.id, Some(&audit))
            .await?;
        self.sessions_ended();
        Ok(())
    }

    /// `f` runs each time sessions end here (on this node), so back-channel logout can go at
    /// once; set once, by the server.
    pub fn on_sessions_ended(&self, f: impl Fn() + Send + Sync + 'static) {
        let _ = self.sessions_ended.set(Box::new(f));
    }

    pub(crate) fn sessions_ended(&self) {
        // Before anything else: an ended session must not pass one more forward-auth check.
        self.forward_auth_cache.forget_sessions();
        if let Some(f) = self.sessions_ended.get() {
            f();
        }
    }

    /// Back-channel logout: the token families whose session has ended are revoked, and for
    /// each client with a back-channel logout URI, one signed logout token per ended session.
    /// Each family is claimed once across nodes, so each client is told once.
    pub async fn oidc_backchannel_logouts(&self, issuer: &str) -> Result<Vec<LogoutDelivery>> {
        let now = self.now();
        let mut clients: HashMap<String, Option<Client>> = HashMap::new();
        let mut deliveries: Vec<LogoutDelivery> = Vec::new();
        for _ in 0..ROUNDS {
            let ended = self
                .store
                .claim_oidc_backchannel_logouts(now, BATCH)
                .await?;
            for family in &ended {
                let client = match clients.get(&family.client_id) {
                    Some(c) => c.clone(),
                    None => {
                        let c = self.store.oidc_client(&family.client_id).await?;
                        clients.insert(family.client_id.clone(), c.clone());
                        c
                    }
                };
                let Some(client) = client else { continue };
                let Some(uri) = client.backchannel_logout_uri.clone() else {
                    continue;
                };
                let told = deliveries
                    .iter()
                    .any(|d| d.client_id == client.client_id && d.session == family.session);
                if told {
                    continue;
                }
                let claims = LogoutTokenClaims {
                    iss: issuer.to_string(),
                    sub: family.account.to_string(),
                    aud: client.client_id.clone(),
                    iat: now.unix_timestamp(),
                    exp: (now + LOGOUT_TOKEN_TTL).unix_timestamp(),
                    jti: BASE64URL_NOPAD.encode(&random::bytes::<16>(self.rng.as_ref())),
                    sid: family.session.to_string(),
                    events: json!({ BACKCHANNEL_LOGOUT_EVENT: {} }),
                };
                let logout_token = self
                    .oidc_sign_typed(client.id_token_alg, LOGOUT_TOKEN_TYPE, &claims)
                    .await?;
                deliveries.push(LogoutDelivery {
                    client_id: client.client_id.clone(),
                    uri,
                    account: family.account,
                    session: family.session,
                    logout_token,
                });
            }
            if ended.len() < BATCH as usize {
                break;
            }
        }
        Ok(deliveries)
    }

    /// A client's back-channel logout endpoint could not be told (it was down, or refused).
    pub async fn oidc_backchannel_failed(
        &self,
        delivery: &LogoutDelivery,
        error: &str,
    ) -> Result<()> {
        let audit = self
            .audit(
                &RequestContext::default(),
                Some(delivery.account),
                AuditAction::OidcBackchannelLogoutFailed,
            )
            .detail(json!({ "client_id": delivery.client_id, "error": error }));
        self.store.append_audit(&audit).await?;
        Ok(())
    }
}
