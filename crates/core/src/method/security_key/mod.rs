//! `security_key`: FIDO2/WebAuthn authenticators (USB, NFC or built-in) with user
//! verification, that is the key's PIN or a biometric, through webauthn-rs.
//!
//! ```text
//!   register_begin ──► pending: creation options + ceremony state, sealed in the method row
//!         └─ attestation (UV) ──► credential stored: public key, counter, AAGUID ──► active
//!   challenge ──► ceremony in `webauthn_ceremonies`: request options + state, bound to the
//!                 purpose's binding (flow, session), single use, expiring
//!         └─ assertion (UV) ──► signature, counter moved forward ──► accepted
//! ```
//!
//! webauthn-rs's passkey ceremonies are used for every key: they demand user verification
//! both when the key is registered and on every use, so a key without its PIN is refused, and
//! a security key with user verification is two factors by itself, which is what lets a
//! passkey sign in alone (`webauthn.rs`). Attestation is "none"; when the policy lists
//! authenticator models (AAGUIDs), the model the key reports must be on it. Without
//! attestation that report is the key's own word: it keeps people to approved models, it does
//! not stop a forged authenticator.

pub mod webauthn;

use super::{Enrollment, Kind, KindContext, Method, MethodData, MethodStatus};
use crate::account::Account;
use crate::error::{Error, Internal, NotAllowed, Problem, Result};
use crate::ids::MethodId;
use crate::secret::Aad;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    CreationChallengeResponse, PasskeyRegistration, RegisterPublicKeyCredential, Url, Uuid,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};
use webauthn_rs_proto::ResidentKeyRequirement;

pub const NAME_MAX: usize = 64;

/// The relying party: this server as the keys know it, from its public URL.
#[derive(Debug)]
pub struct RelyingParty {
    pub(crate) webauthn: Webauthn,
    origin: Url,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelyingPartyError {
    #[error("the public URL `{0}` is not a valid URL")]
    Url(String),
    #[error(
        "security keys need a domain name in the public URL (https://mfa.example.org, or \
         http://localhost for testing), not an IP address: `{0}`"
    )]
    NoDomain(String),
    #[error("security keys need https:// in the public URL (plain http only on localhost): `{0}`")]
    NotSecure(String),
}

impl RelyingParty {
    /// The relying party for `public_url`; its host is the RP id keys are bound to, so
    /// changing the public URL's host later orphans every registered key.
    pub fn for_public_url(public_url: &str, name: &str) -> Result<Self, RelyingPartyError> {
        let url = Url::parse(public_url).map_err(|_| RelyingPartyError::Url(public_url.into()))?;
        let Some(host) = url.domain().map(str::to_string) else {
            return Err(RelyingPartyError::NoDomain(public_url.into()));
        };
        let local = host == "localhost" || host.ends_with(".localhost");
        if url.scheme() != "https" && !(url.scheme() == "http" && local) {
            return Err(RelyingPartyError::NotSecure(public_url.into()));
        }
        let origin = Url::parse(&url.origin().ascii_serialization())
            .map_err(|_| RelyingPartyError::Url(public_url.into()))?;
        let name = if name.trim().is_empty() { &host } else { name };
        let webauthn = WebauthnBuilder::new(&host, &origin)
            .and_then(|b| b.rp_name(name).build())
            .map_err(|_| RelyingPartyError::NoDomain(public_url.into()))?;
        Ok(Self { webauthn, origin })
    }

    /// The origin browsers must report, e.g. `https://mfa.example.org`.
    pub fn origin(&self) -> &Url {
        &self.origin
    }
}

/// A registration in progress: what the browser was given, and what checks its answer.
#[derive(Serialize, Deserialize)]
struct PendingRegistration {
    options: serde_json::Value,
    state: PasskeyRegistration,
}

fn aad(id: &str) -> Aad<'_> {
    Aad {
        table: "methods",
        column: "secret",
        row: id,
    }
}

pub fn register_begin(
    name: Option<String>,
    account: &Account,
    id: MethodId,
    ctx: &KindContext<'_>,
    pending_for: time::Duration,
) -> Result<(Method, Enrollment)> {
    let rp = ctx
        .relying_party
        .ok_or(Error::NotAllowed(NotAllowed::KindUnavailable))?;
    let name = clean_name(name)?;
    // The user handle is the account id: a passkey names its account with it.
    let (mut ccr, state) = rp
        .webauthn
        .start_passkey_registration(account.id.0, &account.username, &account.display_name, None)
        .map_err(|_| Error::Internal(Internal::WebAuthn))?;
    prefer_discoverable(&mut ccr);
    let options = to_value(&ccr)?;
    let pending = PendingRegistration {
        options: options.clone(),
        state,
    };
    let sealed = serde_json::to_vec(&pending).map_err(|_| Error::Internal(Internal::WebAuthn))?;
    let id_text = id.to_string();
    let method = Method {
        id,
        account_id: account.id,
        kind: Kind::SecurityKey,
        status: MethodStatus::Pending,
        name: Some(name),
        data: MethodData::SecurityKey {},
        sealed_secret: Some(ctx.keys.seal(ctx.rng, &sealed, aad(&id_text))),
        created_at: ctx.now,
        last_used_at: None,
        expires_at: Some(ctx.now + pending_for),
        last_step: None,
        failures: 0,
        locked_until: None,
        registered_by: None,
        way: None,
    };
    Ok((method, Enrollment::WebAuthn { options }))
}

/// A key that can keep the credential does, so it can later sign in as a passkey when the
/// policy allows that; one that cannot still registers.
fn prefer_discoverable(ccr: &mut CreationChallengeResponse) {
    if let Some(selection) = ccr.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(ResidentKeyRequirement::Preferred);
        selection.require_resident_key = false;
    }
}

/// The creation options of a pending registration again (the page was reloaded).
pub fn enrollment(method: &Method, ctx: &KindContext<'_>) -> Result<Enrollment> {
    let pending = pending_registration(method, ctx)?.ok_or(Error::Expired)?;
    Ok(Enrollment::WebAuthn {
        options: pending.options,
    })
}

/// The ceremony state of a pending registration; `None` once it was answered.
pub(crate) fn registration_state(
    method: &Method,
    ctx: &KindContext<'_>,
) -> Result<Option<PasskeyRegistration>> {
    Ok(pending_registration(method, ctx)?.map(|p| p.state))
}

fn pending_registration(
    method: &Method,
    ctx: &KindContext<'_>,
) -> Result<Option<PendingRegistration>> {
    let Some(sealed) = method.sealed_secret.as_deref() else {
        return Ok(None);
    };
    let plain = ctx
        .keys
        .open(sealed, aad(&method.id.to_string()))
        .map_err(|_| Error::Internal(Internal::Unseal))?;
    serde_json::from_slice(&plain)
        .map(Some)
        .map_err(|_| Error::Internal(Internal::WebAuthn))
}

/// The authenticator model (AAGUID) in a registration's authenticator data, if any.
///
/// authenticatorData: rpIdHash (32) · flags (1) · signCount (4) · and, when the AT flag is
/// set, the attested credential data starting with the 16-byte AAGUID.
pub fn aaguid_of(reg: &RegisterPublicKeyCredential) -> Option<Uuid> {
    use serde_cbor_2::Value;
    let Value::Map(object) = serde_cbor_2::from_slice(&reg.response.attestation_object).ok()?
    else {
        return None;
    };
    let auth_data = object.iter().find_map(|(key, value)| match (key, value) {
        (Value::Text(key), Value::Bytes(bytes)) if key == "authData" => Some(bytes),
        _ => None,
    })?;
    const ATTESTED_CREDENTIAL_DATA: u8 = 0x40;
    if auth_data.get(32)? & ATTESTED_CREDENTIAL_DATA == 0 {
        return None;
    }
    let bytes: [u8; 16] = auth_data.get(37..53)?.try_into().ok()?;
    Some(Uuid::from_bytes(bytes))
}

/// Whether the policy's allow-list (empty: any model) admits the key's model.
pub fn model_allowed(allowed: &[String], aaguid: Option<Uuid>) -> bool {
    allowed.is_empty()
        || aaguid.is_some_and(|a| {
            allowed
                .iter()
                .any(|entry| Uuid::parse_str(entry.trim()).is_ok_and(|e| e == a))
        })
}

fn clean_name(name: Option<String>) -> Result<String> {
    let Some(name) = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()) else {
        return Err(Error::bad("name", Problem::Required));
    };
    if name.chars().count() > NAME_MAX {
        return Err(Error::bad("name", Problem::TooLong { max: NAME_MAX }));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::bad("name", Problem::Invalid));
    }
    Ok(name)
}

pub(crate) fn to_value<T: Serialize>(value: &T) -> Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|_| Error::Internal(Internal::WebAuthn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_needs_a_domain_and_a_secure_origin() {
        let rp = RelyingParty::for_public_url("https://mfa.example.org/", "Example");
        assert_eq!(
            rp.map(|r| r.origin().as_str().to_string()).ok().as_deref(),
            Some("https://mfa.example.org/")
        );
        assert!(RelyingParty::for_public_url("http://localhost:8080", "").is_ok());
        assert!(matches!(
            RelyingParty::for_public_url("http://127.0.0.1:8080", ""),
            Err(RelyingPartyError::NoDomain(_))
        ));
        assert!(matches!(
            RelyingParty::for_public_url("http://mfa.example.org", ""),
            Err(RelyingPartyError::NotSecure(_))
        ));
        assert!(matches!(
            RelyingParty::for_public_url("not a url", ""),
            Err(RelyingPartyError::Url(_))
        ));
    }

    #[test]
    fn an_empty_allow_list_admits_every_model() {
        let yubikey = Uuid::parse_str("cb69481e-8ff7-4039-93ec-0a2729a154a8").ok();
        assert!(model_allowed(&[], yubikey));
        assert!(model_allowed(&[], None));
        let list = vec!["CB69481E-8FF7-4039-93EC-0A2729A154A8".to_string()];
        assert!(model_allowed(&list, yubikey));
        assert!(!model_allowed(
            &list,
            Uuid::parse_str("00000000-0000-0000-0000-000000000001").ok()
        ));
        assert!(!model_allowed(&list, None));
    }

    #[test]
    fn the_model_is_read_from_the_attested_credential_data() {
        use serde_cbor_2::Value;
        use webauthn_rs_proto::{
            AuthenticatorAttestationResponseRaw, RegistrationExtensionsClientOutputs,
        };
        let model = Uuid::parse_str("cb69481e-8ff7-4039-93ec-0a2729a154a8").ok();
        let registration = |flags: u8| {
            let mut auth_data = vec![0u8; 32];
            auth_data.push(flags);
            auth_data.extend([0, 0, 0, 1]);
            auth_data.extend(model.map(|m| *m.as_bytes()).unwrap_or_default());
            auth_data.extend([0, 2, 7, 7]);
            let object = Value::Map(
                [
                    (Value::Text("fmt".into()), Value::Text("none".into())),
                    (
                        Value::Text("attStmt".into()),
                        Value::Map(Default::default()),
                    ),
                    (Value::Text("authData".into()), Value::Bytes(auth_data)),
                ]
                .into_iter()
                .collect(),
            );
            RegisterPublicKeyCredential {
                id: "x".into(),
                raw_id: vec![7, 7],
                response: AuthenticatorAttestationResponseRaw {
                    attestation_object: serde_cbor_2::to_vec(&object).unwrap_or_default(),
                    client_data_json: Vec::new(),
                    transports: None,
                },
                type_: "public-key".into(),
                extensions: RegistrationExtensionsClientOutputs::default(),
            }
        };
        // UP | UV | AT
        assert_eq!(aaguid_of(&registration(0x45)), model);
        // Without attested credential data there is no model to read.
        assert_eq!(aaguid_of(&registration(0x05)), None);
        let mut garbage = registration(0x45);
        garbage.response.attestation_object = vec![0xff, 0x00];
        assert_eq!(aaguid_of(&garbage), None);
    }

    #[test]
    fn the_policy_takes_models_as_aaguids_only() {
        let mut policy = crate::policy::Policy::default();
        assert!(!policy.passkey_sign_in && policy.security_key_aaguids.is_empty());
        let two = "cb69481e-8ff7-4039-93ec-0a2729a154a8, ee882879-721c-4913-9775-3dfcce97072a";
        assert!(policy.set("security_key_aaguids", two).is_ok());
        assert_eq!(policy.security_key_aaguids.len(), 2);
        assert!(policy.set("security_key_aaguids", "YubiKey 5").is_err());
        assert_eq!(
            policy.security_key_aaguids.len(),
            2,
            "a refused change changes nothing"
        );
        assert!(policy.set("passkey_sign_in", "true").is_ok());
        assert!(policy.passkey_sign_in);
    }

    #[test]
    fn names_are_required_and_bounded() {
        assert!(matches!(
            clean_name(Some("  ".into())),
            Err(Error::BadRequest {
                field: "name",
                problem: Problem::Required
            })
        ));
        assert_eq!(
            clean_name(Some(" Blue key ".into())).ok().as_deref(),
            Some("Blue key")
        );
        assert!(clean_name(Some("x".repeat(NAME_MAX + 1))).is_err());
        assert!(clean_name(Some("a\u{7}b".into())).is_err());
    }
}
