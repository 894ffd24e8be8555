//! The WebAuthn ceremonies of security keys: registration, assertions for sign-in, step-up
//! and reset, and sign-in by passkey alone.
//!
//! Every ceremony's state is in the store (registration: sealed in the pending method;
//! assertions: `webauthn_ceremonies`), bound to what it is for, single use and expiring, so
//! any node can finish what another began and a captured answer cannot be replayed.
//!
//! An answer that does not verify counts as a wrong code under the lock-out rule. A signature
//! counter that did not move forward is what a cloned key looks like: the use is refused and
//! the clone warning goes to the audit log.

use crate::audit::{AuditAction, RequestContext};
use crate::error::{Error, Internal, NotAllowed, Result, StoreError};
use crate::flow::effect::FlowMove;
use crate::flow::sign_in::Event;
use crate::flow::{FlowState, SignInFlow};
use crate::ids::FlowId;
use crate::lockout::Counter;
use crate::method::security_key::{self, RelyingParty, RelyingPartyError};
use crate::method::{Challenge, Enrollment, Kind, Method, Purpose, Verified};
use crate::policy::Policy;
use crate::random;
use crate::service::{IssuedSession, Tessera};
use crate::session::SessionKind;
use crate::store::webauthn::{Ceremony, SecurityKeyCredential};
use data_encoding::BASE64URL_NOPAD;
use time::Duration;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PublicKeyCredential,
    RegisterPublicKeyCredential, WebauthnError,
};

/// How long a browser has to answer: webauthn-rs asks authenticators to wait up to five
/// minutes (the WebAuthn recommendation), and a little more covers the round trip.
const CEREMONY_SECS: i64 = 330;

const PASSKEY: &str = "passkey";

/// A sign-in by passkey, started: the ceremony the browser answers, and its options.
#[derive(Debug, Clone)]
pub struct PasskeyChallenge {
    pub ceremony: String,
    pub options: serde_json::Value,
}

impl Tessera {
    /// Makes security keys available, bound to the server's public URL. Without it (or with
    /// an IP address for a host) security keys cannot be registered or used.
    pub fn set_public_url(&self, public_url: &str) -> Result<(), RelyingPartyError> {
        let rp = RelyingParty::for_public_url(public_url, &self.issuer)?;
        // Set once: the RP id is what every registered key is bound to.
        let _ = self.relying_party.set(rp);
        Ok(())
    }

    /// Whether this server can register `kind` now (security keys need a relying party).
    /// Kinds only an admin issues (temporary access passes) are never registered by a person.
    pub fn can_register(&self, kind: Kind) -> bool {
        !kind.is_admin_issued() && (kind != Kind::SecurityKey || self.relying_party.get().is_some())
    }

    pub(crate) fn rp(&self) -> Result<&RelyingParty> {
        self.relying_party
            .get()
            .ok_or(Error::NotAllowed(NotAllowed::KindUnavailable))
    }

    /// A reset decoy's security-key challenge (see `flow::reset_decoy`): the options a real
    /// key's challenge has, for a credential that does not exist. Nothing is kept, as no
    /// answer can pass.
    pub(crate) fn decoy_key_options(&self, credential_id: Vec<u8>) -> Result<serde_json::Value> {
        let (mut rcr, _) = self
            .rp()?
            .webauthn
            .start_discoverable_authentication()
            .map_err(|_| Error::Internal(Internal::WebAuthn))?;
        // What `start_passkey_authentication` asks differently: one allowed credential, no
        // extensions, no mediation.
        rcr.mediation = None;
        rcr.public_key.extensions = None;
        rcr.public_key.allow_credentials = vec![webauthn_rs_proto::AllowCredentials {
            type_: "public-key".into(),
            id: credential_id,
            transports: None,
        }];
        security_key::to_value(&rcr)
    }

    /// Asks a security key for an assertion: request options for the browser, and the
    /// ceremony kept for the answer.
    pub(crate) async fn challenge_security_key(
        &self,
        method: &Method,
        purpose: Purpose,
    ) -> Result<Challenge> {
        let rp = self.rp()?;
        if let Purpose::Register(_) = purpose {
            let Enrollment::WebAuthn { options } =
                security_key::enrollment(method, &self.kind_context())?
            else {
                return Err(Error::Internal(Internal::WebAuthn));
            };
            return Ok(Challenge {
                webauthn: Some(options),
                ..Challenge::nothing_sent(method)
            });
        }
        let key = self.credential_of(method).await?;
        let passkey = parse_passkey(&key)?;
        let (rcr, state) = rp
            .webauthn
            .start_passkey_authentication(&[passkey])
            .map_err(|_| Error::Internal(Internal::WebAuthn))?;
        let now = self.now();
        let ceremony = Ceremony {
            purpose: purpose.as_str().to_string(),
            binding: purpose.binding(),
            method_id: Some(method.id),
            state: to_json(&state)?,
            created_at: now,
            expires_at: now + Duration::seconds(CEREMONY_SECS),
        };
        self.store.save_ceremony(&ceremony, now).await?;
        Ok(Challenge {
            webauthn: Some(security_key::to_value(&rcr)?),
            ..Challenge::nothing_sent(method)
        })
    }

    /// Checks a security key's answer: an attestation while registering, else an assertion.
    pub(crate) async fn check_security_key(
        &self,
        method: &Method,
        purpose: Purpose,
        answer: &serde_json::Value,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<Verified> {
        let rp = self.rp()?;
        let scope = Counter::from(purpose);
        self.reserve_attempt_for(method, scope, ctx, policy).await?;
        match purpose {
            Purpose::Register(_) => {
                self.finish_registration(rp, method, answer, ctx, policy)
                    .await
            }
            _ => {
                let ceremony = self
                    .store
                    .take_ceremony(purpose.as_str(), &purpose.binding(), Some(method.id))
                    .await?;
                let Some(ceremony) = ceremony else {
                    // Never started, or answered already: a replay is refused like a wrong code.
                    return Err(self
                        .code_failed_for(method, scope, ctx, policy, AuditAction::CodeReplayed)
                        .await);
                };
                if ceremony.expires_at <= self.now() {
                    return Err(Error::Expired);
                }
                let state: PasskeyAuthentication = serde_json::from_str(&ceremony.state)
                    .map_err(|_| Error::Store(StoreError::Corrupt("webauthn_ceremonies.state")))?;
                let key = self.credential_of(method).await?;
                let assertion = match parse::<PublicKeyCredential>(answer) {
                    Some(a) if a.raw_id == credential_bytes(&key) => a,
                    _ => return Err(self.rejected(method, scope, ctx, policy).await),
                };
                let result = rp
                    .webauthn
                    .finish_passkey_authentication(&assertion, &state);
                self.accept_assertion(method, scope, &key, result, ctx, policy)
                    .await
            }
        }
    }

    /// The registration's attestation: verified (user verification included), the model
    /// checked against the policy, and the credential stored with the pending method.
    async fn finish_registration(
        &self,
        rp: &RelyingParty,
        method: &Method,
        answer: &serde_json::Value,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<Verified> {
        let Some(state) = security_key::registration_state(method, &self.kind_context())? else {
            return Err(Error::Expired);
        };
        let Some(reg) = parse::<RegisterPublicKeyCredential>(answer) else {
            return Err(self.rejected(method, Counter::Method, ctx, policy).await);
        };
        let passkey = match rp.webauthn.finish_passkey_registration(&reg, &state) {
            Ok(passkey) => passkey,
            Err(_) => return Err(self.rejected(method, Counter::Method, ctx, policy).await),
        };
        let aaguid = security_key::aaguid_of(&reg);
        if !security_key::model_allowed(&policy.security_key_aaguids, aaguid) {
            return Err(Error::NotAllowed(NotAllowed::AuthenticatorModel));
        }
        let key = SecurityKeyCredential {
            method_id: method.id,
            account_id: method.account_id,
            credential_id: BASE64URL_NOPAD.encode(passkey.cred_id()),
            passkey: to_json(&passkey)?,
            aaguid: aaguid.map(|a| a.to_string()),
            sign_count: 0,
            created_at: self.now(),
        };
        match self.store.insert_security_key(&key).await {
            Ok(true) => Ok(Verified {
                step: None,
                reserved: true,
            }),
            Ok(false) => Err(Error::Expired),
            Err(StoreError::Conflict(_)) => Err(Error::bad("webauthn", crate::Problem::Taken)),
            Err(e) => Err(e.into()),
        }
    }

    /// Accepts a verified assertion whose counter moved forward; anything else is refused.
    async fn accept_assertion(
        &self,
        method: &Method,
        scope: Counter,
        key: &SecurityKeyCredential,
        result: Result<webauthn_rs::prelude::AuthenticationResult, WebauthnError>,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<Verified> {
        let result = match result {
            Ok(r) if r.user_verified() => r,
            Err(WebauthnError::CredentialPossibleCompromise) => {
                return Err(self
                    .clone_warning(method, scope, key, None, ctx, policy)
                    .await);
            }
            _ => return Err(self.rejected(method, scope, ctx, policy).await),
        };
        let mut passkey = parse_passkey(key)?;
        // The counter and backup flags move on; the stored copy is replaced below.
        let _ = passkey.update_credential(&result);
        if !self
            .store
            .record_security_key_use(method.id, &to_json(&passkey)?, result.counter())
            .await?
        {
            let counter = Some(result.counter());
            return Err(self
                .clone_warning(method, scope, key, counter, ctx, policy)
                .await);
        }
        Ok(Verified {
            step: None,
            reserved: true,
        })
    }

    /// Whether the sign-in page offers a passkey: the policy allows signing in with one and
    /// keys work on this server.
    pub async fn passkey_sign_in_offered(&self) -> Result<bool> {
        Ok(passkey_sign_in_allowed(&*self.policy().await?) && self.relying_party.get().is_some())
    }

    /// Starts a sign-in by passkey alone: the browser offers the person's discoverable
    /// credentials for this site, no username asked.
    pub async fn passkey_sign_in_begin(&self) -> Result<PasskeyChallenge> {
        if !passkey_sign_in_allowed(&*self.policy().await?) {
            return Err(Error::NotAllowed(NotAllowed::KindNotAllowed));
        }
        let (mut rcr, state) = self
            .rp()?
            .webauthn
            .start_discoverable_authentication()
            .map_err(|_| Error::Internal(Internal::WebAuthn))?;
        // A button starts it, not the username field's autofill.
        rcr.mediation = None;
        let now = self.now();
        let ceremony = BASE64URL_NOPAD.encode(&random::bytes::<32>(self.rng.as_ref()));
        self.store
            .save_ceremony(
                &Ceremony {
                    purpose: PASSKEY.into(),
                    binding: ceremony.clone(),
                    method_id: None,
                    state: to_json(&state)?,
                    created_at: now,
                    expires_at: now + Duration::seconds(CEREMONY_SECS),
                },
                now,
            )
            .await?;
        Ok(PasskeyChallenge {
            ceremony,
            options: security_key::to_value(&rcr)?,
        })
    }

    /// Finishes a sign-in by passkey: the credential names its account, and with user
    /// verification it is two factors, so a full session starts.
    pub async fn passkey_sign_in_finish(
        &self,
        ceremony: &str,
        answer: &serde_json::Value,
        ctx: &RequestContext,
    ) -> Result<IssuedSession> {
        let policy = self.policy().await?;
        if !passkey_sign_in_allowed(&policy) {
            return Err(Error::NotAllowed(NotAllowed::KindNotAllowed));
        }
        let rp = self.rp()?;
        let Some(taken) = self.store.take_ceremony(PASSKEY, ceremony, None).await? else {
            return Err(Error::Expired);
        };
        if taken.expires_at <= self.now() {
            return Err(Error::Expired);
        }
        let state: DiscoverableAuthentication = serde_json::from_str(&taken.state)
            .map_err(|_| Error::Store(StoreError::Corrupt("webauthn_ceremonies.state")))?;
        let Some(assertion) = parse::<PublicKeyCredential>(answer) else {
            return Err(Error::InvalidCode);
        };
        let (method, key) = match self.passkey_owner(rp, &assertion).await? {
            Some(found) => found,
            None => {
                let audit = self
                    .audit(ctx, None, AuditAction::CodeRejected)
                    .detail(serde_json::json!({ "passkey": true }));
                self.store.append_audit(&audit).await?;
                return Err(Error::InvalidCode);
            }
        };
        self.reserve_attempt(&method, ctx, &policy).await?;
        let passkey = parse_passkey(&key)?;
        let result = rp
            .webauthn
            .finish_discoverable_authentication_v2(&assertion, state, &passkey);
        let verified = self
            .accept_assertion(&method, Counter::Method, &key, result, ctx, &policy)
            .await?;
        self.accept_code(&method, verified, ctx, &policy).await?;
        self.passkey_session(&method, ctx, &policy).await
    }

    /// The active security key, of an active account, that the assertion names, when its
    /// user handle is that account's.
    async fn passkey_owner(
        &self,
        rp: &RelyingParty,
        assertion: &PublicKeyCredential,
    ) -> Result<Option<(Method, SecurityKeyCredential)>> {
        let Ok((user, credential)) = rp.webauthn.identify_discoverable_authentication(assertion)
        else {
            return Ok(None);
        };
        let credential_id = BASE64URL_NOPAD.encode(credential);
        let Some(key) = self
            .store
            .security_key_by_credential(&credential_id)
            .await?
        else {
            return Ok(None);
        };
        if key.account_id.0 != user {
            return Ok(None);
        }
        let Some(method) = self.store.method(key.method_id).await? else {
            return Ok(None);
        };
        let account = self.store.account(key.account_id).await?;
        match account {
            Some(a) if a.status == crate::account::AccountStatus::Active => {}
            Some(_) => return Err(Error::NotAllowed(NotAllowed::AccountDisabled)),
            None => return Ok(None),
        }
        if !method.is_active() {
            return Ok(None);
        }
        Ok(Some((method, key)))
    }

    /// A full session for a passkey sign-in, started and audited in one transaction.
    async fn passkey_session(
        &self,
        method: &Method,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<IssuedSession> {
        let now = self.now();
        let flow = SignInFlow {
            id: FlowId::new(self.rng.as_ref()),
            account_id: method.account_id,
            state: FlowState::MfaRequired,
            created_at: now,
            expires_at: now + Duration::seconds(policy.flow_secs as i64),
            approved_kind: None,
        };
        self.store.insert_flow(&flow).await?;
        let session = self.new_session(
            method.account_id,
            SessionKind::Full,
            None,
            policy,
            Some(now),
            Some(method.kind),
        );
        let audit = self
            .audit(ctx, Some(method.account_id), AuditAction::SignInSucceeded)
            .method(method.id)
            .detail(serde_json::json!({ "passkey": true }));
        let done = FlowMove::new(flow.id, flow.state, Event::NothingMoreAsked)
            .ok_or(Error::Expired)?
            .with_session(session.session.clone());
        if !self.store.move_flow(&done, &audit).await? {
            return Err(Error::Expired);
        }
        Ok(session)
    }

    async fn rejected(
        &self,
        method: &Method,
        scope: Counter,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Error {
        self.code_failed_for(method, scope, ctx, policy, AuditAction::CodeRejected)
            .await
    }

    /// A counter that did not move forward: refused, and recorded as a possible clone.
    async fn clone_warning(
        &self,
        method: &Method,
        scope: Counter,
        key: &SecurityKeyCredential,
        counter: Option<u32>,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Error {
        let audit = self
            .audit(
                ctx,
                Some(method.account_id),
                AuditAction::SecurityKeyCloneWarning,
            )
            .method(method.id)
            .detail(serde_json::json!({
                "stored_counter": key.sign_count,
                "presented_counter": counter,
            }));
        if let Err(e) = self.store.append_audit(&audit).await {
            return e.into();
        }
        self.rejected(method, scope, ctx, policy).await
    }

    async fn credential_of(&self, method: &Method) -> Result<SecurityKeyCredential> {
        self.store
            .security_key(method.id)
            .await?
            .ok_or(Error::NotAllowed(NotAllowed::MethodNotUsable))
    }
}

/// Signing in with a passkey alone is on, and security keys are a sign-in factor.
fn passkey_sign_in_allowed(policy: &Policy) -> bool {
    policy.passkey_sign_in && policy.allows_mfa(Kind::SecurityKey)
}

fn parse<T: serde::de::DeserializeOwned>(answer: &serde_json::Value) -> Option<T> {
    serde_json::from_value(answer.clone()).ok()
}

fn parse_passkey(key: &SecurityKeyCredential) -> Result<Passkey> {
    serde_json::from_str(&key.passkey)
        .map_err(|_| Error::Store(StoreError::Corrupt("webauthn_credentials.passkey")))
}

fn credential_bytes(key: &SecurityKeyCredential) -> Vec<u8> {
    BASE64URL_NOPAD
        .decode(key.credential_id.as_bytes())
        .unwrap_or_default()
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|_| Error::Internal(Internal::WebAuthn))
}
