//! `authenticator_app`: an app activated for notifications with number matching. The same
//! registration also yields 6-digit codes (RFC 6238, exactly as `authenticator_code`: the
//! seed is sealed in the method row and checked by that module).
//!
//! The open protocol (docs/design/push-protocol.md has the whole of it):
//!
//! 1. Registering creates a pending method and a one-time **activation code**, valid for ten
//!    minutes, shown as a QR code of `<server>/authenticator/#activate=<code>` (it opens the
//!    web app; apps also read the older `tessera-activate://v1?url=<server>&code=<code>`) or
//!    typed in by hand. Only its SHA-256 is looked up; it is sealed so the page can show it again.
//! 2. The device makes a key pair (Ed25519 or ECDSA P-256) and sends the code, its public
//!    key, its name and a signature of [`activation_message`] proving it holds the key. It
//!    gets a device id, a device credential (a bearer secret stored hashed) and the TOTP
//!    seed; a test notification is sent at once.
//! 3. Every answer to a notification is signed: [`answer_message`] binds the request id, the
//!    decision, the number typed and the time. The server checks the signature, the number,
//!    the request (this device's, still pending, not expired) and the freshness, and accepts
//!    one answer per request, so a replayed answer finds nothing to answer.

pub mod device;
pub mod push;

use super::{Enrollment, Kind, KindContext, Method, MethodData, MethodStatus, authenticator_code};
use crate::account::Account;
use crate::error::{Error, Problem, Result};
use crate::ids::{MethodId, PushRequestId};
use crate::random::{self, Random};
use crate::secret::{Aad, KeyRing};
use crate::store::push::{Device, KeyAlgorithm};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

/// How long an activation code works.
pub const ACTIVATION_SECS: i64 = 600;
/// How long a notification waits for an answer.
pub const REQUEST_SECS: i64 = 90;
/// How far a signed answer's time may be from the server's.
pub const SIGNATURE_SKEW_SECS: i64 = 60;
/// Longest device name kept.
pub const DEVICE_NAME_MAX: usize = 64;
/// The scheme of the older activation URI, still read from apps that paste it.
pub const ACTIVATION_SCHEME: &str = "tessera-activate";
/// Where the web app lives under a server's public URL: the QR code opens it.
pub const WEB_APP_PATH: &str = "/authenticator/";
/// The activation link's fragment: a fragment is never sent to the server, so the code stays
/// out of access logs and `Referer` headers.
const ACTIVATION_FRAGMENT: &str = "#activate=";

/// Letters and digits that cannot be mistaken for one another (no 0, O, 1 or I).
const CODE_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Twelve characters of 32: 60 bits, ample for ten minutes and one use.
const CODE_CHARS: usize = 12;

/// Where the sealed activation code lives.
pub fn activation_aad(method: &str) -> Aad<'_> {
    Aad {
        table: "push_devices",
        column: "activation",
        row: method,
    }
}

/// The device row of a registration waiting for its app: the activation code hashed for
/// lookup and sealed for showing again.
pub fn awaiting_device(
    method: &Method,
    code: &str,
    expires_at: OffsetDateTime,
    keys: &KeyRing,
    rng: &dyn Random,
) -> Device {
    let row = method.id.to_string();
    Device {
        method_id: method.id,
        account_id: method.account_id,
        activation_hash: Some(crate::secret::token_hash(code)),
        sealed_activation: Some(keys.seal(rng, code.as_bytes(), activation_aad(&row))),
        activation_expires_at: expires_at,
        activated_at: None,
        name: None,
        algorithm: None,
        public_key: None,
        credential_hash: None,
        wakeup_url: None,
    }
}

/// A pending method with its TOTP seed, and a fresh activation code.
pub fn register_begin(
    name: Option<String>,
    account: &Account,
    id: MethodId,
    ctx: &KindContext<'_>,
    pending_for: Duration,
) -> Result<(Method, Enrollment)> {
    // The code part is the same registration as `authenticator_code`'s, under another kind.
    let (mut method, _) = authenticator_code::register_begin(name, account, id, ctx, pending_for)?;
    method.kind = Kind::AuthenticatorApp;
    method.status = MethodStatus::Pending;
    let expires_at = ctx.now + Duration::seconds(ACTIVATION_SECS);
    let code = new_activation_code(ctx.rng);
    Ok((method, Enrollment::AppActivation { code, expires_at }))
}

/// `XXXX-XXXX-XXXX` from `CODE_ALPHABET`.
pub fn new_activation_code(rng: &dyn Random) -> String {
    let mut out = String::with_capacity(CODE_CHARS + 2);
    for i in 0..CODE_CHARS {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let pick = random::below(rng, CODE_ALPHABET.len() as u32) as usize;
        out.push(char::from(CODE_ALPHABET[pick]));
    }
    out
}

/// An activation code as typed: case, spaces and dashes do not matter. `None` when it
/// cannot be one.
pub fn normalize_activation_code(raw: &str) -> Option<String> {
    let code: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let ok = code.len() == CODE_CHARS && code.bytes().all(|b| CODE_ALPHABET.contains(&b));
    ok.then(|| {
        code.as_bytes()
            .chunks(4)
            .filter_map(|c| std::str::from_utf8(c).ok())
            .collect::<Vec<_>>()
            .join("-")
    })
}

/// Everything but RFC 3986's unreserved characters is escaped in an activation URI.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The activation link of the QR code: the server's web app, with the code in the fragment.
/// A phone's camera opens it in the browser, where the web app activates; other apps read
/// the server and the code from it.
pub fn activation_uri(server_url: &str, code: &str) -> String {
    format!(
        "{}{WEB_APP_PATH}{ACTIVATION_FRAGMENT}{}",
        server_url.trim_end_matches('/'),
        utf8_percent_encode(code, ESCAPED)
    )
}

/// The server URL and activation code in an activation link
/// (`https://<server>/authenticator/#activate=<code>`) or in the older activation URI
/// (`tessera-activate://v1?url=…&code=…`).
pub fn parse_activation_uri(uri: &str) -> Option<(String, String)> {
    let uri = uri.trim();
    if !uri.starts_with(ACTIVATION_SCHEME) {
        let (server, code) = uri.split_once(WEB_APP_PATH)?;
        let code = code.strip_prefix(ACTIVATION_FRAGMENT)?;
        // The fragment may carry more after the code (`&…`), as a query string would.
        let code = code.split('&').next().unwrap_or_default();
        let code = percent_decode_str(code).decode_utf8().ok()?.into_owned();
        let web = server.starts_with("https://") || server.starts_with("http://");
        return (web && !code.is_empty()).then(|| (server.to_string(), code));
    }
    let rest = uri
        .strip_prefix(ACTIVATION_SCHEME)?
        .strip_prefix("://v1?")?;
    let mut url = None;
    let mut code = None;
    for pair in rest.split('&') {
        let (key, value) = pair.split_once('=')?;
        // Query-string style: `+` is a space, `%2B` a plus.
        let value = percent_decode_str(&value.replace('+', " "))
            .decode_utf8()
            .ok()?
            .into_owned();
        match key {
            "url" => url = Some(value),
            "code" => code = Some(value),
            _ => {}
        }
    }
    let url = url.filter(|u| u.starts_with("https://") || u.starts_with("http://"))?;
    Some((url.trim_end_matches('/').to_string(), code?))
}

/// The TOTP seed of an app method, for handing to the device once, at activation.
pub fn seed(method: &Method, ctx: &KindContext<'_>) -> Result<Zeroizing<Vec<u8>>> {
    let sealed = method
        .sealed_secret
        .as_deref()
        .ok_or(Error::Internal(crate::error::Internal::Unseal))?;
    ctx.keys
        .open(sealed, authenticator_code::aad(&method.id.to_string()))
        .map_err(|_| Error::Internal(crate::error::Internal::Unseal))
}

/// The TOTP parameters of an app method.
pub fn totp_parameters(method: &Method) -> (u8, u64) {
    match method.data {
        MethodData::Totp { digits, step_secs } => (digits, step_secs),
        _ => (authenticator_code::DIGITS, authenticator_code::STEP_SECS),
    }
}

/// A device's name as it gave it: trimmed, without control characters, at most
/// [`DEVICE_NAME_MAX`] characters.
pub fn clean_device_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Error::bad("device_name", Problem::Required));
    }
    if name.chars().count() > DEVICE_NAME_MAX {
        return Err(Error::bad(
            "device_name",
            Problem::TooLong {
                max: DEVICE_NAME_MAX,
            },
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::bad("device_name", Problem::Invalid));
    }
    Ok(name.to_string())
}

/// What the person decided on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Deny,
    /// Deny, and report the request as not the person's own.
    Report,
}

impl Decision {
    pub fn as_str(&self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Deny => "deny",
            Decision::Report => "report",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "approve" => Some(Decision::Approve),
            "deny" => Some(Decision::Deny),
            "report" => Some(Decision::Report),
            _ => None,
        }
    }
}

/// What a device signs to answer a request: every field that matters, in a fixed order,
/// under a label no other message of the protocol shares.
pub fn answer_message(
    request: PushRequestId,
    decision: Decision,
    number: Option<u8>,
    signed_at: i64,
) -> Vec<u8> {
    let number = number.map_or_else(|| "-".to_string(), |n| n.to_string());
    format!(
        "tessera-push-answer-v1\n{request}\n{}\n{number}\n{signed_at}",
        decision.as_str()
    )
    .into_bytes()
}

/// What a device signs at activation: proof that it holds the key it registers.
pub fn activation_message(code: &str) -> Vec<u8> {
    let code = normalize_activation_code(code).unwrap_or_default();
    format!("tessera-device-activate-v1\n{code}").into_bytes()
}

/// What a device signs to remove itself.
pub fn removal_message(device: MethodId, signed_at: i64) -> Vec<u8> {
    format!("tessera-device-remove-v1\n{device}\n{signed_at}").into_bytes()
}

/// Whether `public_key` is a usable key of `algorithm`.
pub fn valid_public_key(algorithm: KeyAlgorithm, public_key: &[u8]) -> bool {
    match algorithm {
        KeyAlgorithm::Ed25519 => <[u8; 32]>::try_from(public_key)
            .ok()
            .and_then(|k| ed25519_dalek::VerifyingKey::from_bytes(&k).ok())
            .is_some_and(|k| !k.is_weak()),
        KeyAlgorithm::Es256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(public_key).is_ok(),
    }
}

/// Whether `signature` is `public_key`'s signature of `message`.
pub fn verify_signature(
    algorithm: KeyAlgorithm,
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> bool {
    match algorithm {
        KeyAlgorithm::Ed25519 => {
            use ed25519_dalek::{Signature, VerifyingKey};
            let (Ok(key), Ok(sig)) = (
                <[u8; 32]>::try_from(public_key),
                Signature::from_slice(signature),
            ) else {
                return false;
            };
            VerifyingKey::from_bytes(&key).is_ok_and(|key| key.verify_strict(message, &sig).is_ok())
        }
        KeyAlgorithm::Es256 => {
            use p256::ecdsa::signature::Verifier;
            use p256::ecdsa::{Signature, VerifyingKey};
            let Ok(key) = VerifyingKey::from_sec1_bytes(public_key) else {
                return false;
            };
            let sig = Signature::from_slice(signature).or_else(|_| Signature::from_der(signature));
            sig.is_ok_and(|sig| key.verify(message, &sig).is_ok())
        }
    }
}

/// Whether a signed time is close enough to `now`.
pub fn fresh(signed_at: i64, now: OffsetDateTime) -> bool {
    (signed_at - now.unix_timestamp()).abs() <= SIGNATURE_SKEW_SECS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::OsRandom;

    #[test]
    fn activation_codes_read_back_however_they_are_typed() {
        let code = new_activation_code(&OsRandom);
        assert_eq!(code.len(), 14);
        assert_eq!(
            normalize_activation_code(&code).as_deref(),
            Some(code.as_str())
        );
        let sloppy = code.to_lowercase().replace('-', " ");
        assert_eq!(
            normalize_activation_code(&sloppy).as_deref(),
            Some(code.as_str())
        );
        assert_eq!(
            normalize_activation_code("ABCD-EFGH-IJK0"),
            None,
            "I and 0 are not used"
        );
        assert_eq!(normalize_activation_code("ABCD-EFGH"), None);
    }

    #[test]
    fn activation_uri_round_trips() {
        let uri = activation_uri("https://mfa.example.org/base/", "ABCD-EFGH-JKMN");
        assert_eq!(
            uri,
            "https://mfa.example.org/base/authenticator/#activate=ABCD-EFGH-JKMN"
        );
        assert_eq!(
            parse_activation_uri(&uri),
            Some((
                "https://mfa.example.org/base".to_string(),
                "ABCD-EFGH-JKMN".to_string()
            ))
        );
        assert_eq!(
            parse_activation_uri("https://x/authenticator/#activate=A%20B&later=1"),
            Some(("https://x".to_string(), "A B".to_string()))
        );
        assert_eq!(parse_activation_uri("https://x/authenticator/"), None);
        assert_eq!(
            parse_activation_uri("ftp://x/authenticator/#activate=A"),
            None
        );
        // The older form, still read.
        assert_eq!(
            parse_activation_uri(
                "tessera-activate://v1?url=https%3A%2F%2Fmfa.example.org%2Fbase&code=ABCD-EFGH-JKMN"
            ),
            Some((
                "https://mfa.example.org/base".to_string(),
                "ABCD-EFGH-JKMN".to_string()
            ))
        );
        assert_eq!(parse_activation_uri("otpauth://totp/x?secret=A"), None);
        assert_eq!(
            parse_activation_uri("tessera-activate://v1?url=ftp%3A%2F%2Fx&code=A"),
            None
        );
        assert_eq!(
            parse_activation_uri("tessera-activate://v1?url=https%3A%2F%2Fx%2F&code=A%2BB+C"),
            Some(("https://x".to_string(), "A+B C".to_string()))
        );
    }

    #[test]
    fn ed25519_answers_verify_only_for_their_own_fields() {
        use ed25519_dalek::{Signer, SigningKey};
        let key = SigningKey::from_bytes(&random::bytes::<32>(&OsRandom));
        let public = key.verifying_key().to_bytes();
        assert!(valid_public_key(KeyAlgorithm::Ed25519, &public));
        let id = PushRequestId::new(&OsRandom);
        let message = answer_message(id, Decision::Approve, Some(42), 1_700_000_000);
        let sig = key.sign(&message).to_bytes();
        assert!(verify_signature(
            KeyAlgorithm::Ed25519,
            &public,
            &message,
            &sig
        ));
        let other = answer_message(id, Decision::Approve, Some(43), 1_700_000_000);
        assert!(!verify_signature(
            KeyAlgorithm::Ed25519,
            &public,
            &other,
            &sig
        ));
        let other = answer_message(
            PushRequestId::new(&OsRandom),
            Decision::Approve,
            Some(42),
            1_700_000_000,
        );
        assert!(!verify_signature(
            KeyAlgorithm::Ed25519,
            &public,
            &other,
            &sig
        ));
    }

    #[test]
    fn p256_answers_verify_in_both_encodings() {
        use p256::ecdsa::signature::Signer;
        use p256::ecdsa::{Signature, SigningKey};
        let key = loop {
            if let Ok(k) = SigningKey::from_slice(&random::bytes::<32>(&OsRandom)) {
                break k;
            }
        };
        let public = key.verifying_key().to_sec1_bytes();
        let public = &public[..];
        assert!(valid_public_key(KeyAlgorithm::Es256, public));
        let message = activation_message("ABCD-EFGH-JKMN");
        let sig: Signature = key.sign(&message);
        assert!(verify_signature(
            KeyAlgorithm::Es256,
            public,
            &message,
            &sig.to_bytes()
        ));
        assert!(verify_signature(
            KeyAlgorithm::Es256,
            public,
            &message,
            sig.to_der().as_bytes()
        ));
        assert!(!verify_signature(
            KeyAlgorithm::Es256,
            public,
            b"other",
            &sig.to_bytes()
        ));
        assert!(!verify_signature(
            KeyAlgorithm::Ed25519,
            public,
            &message,
            &sig.to_bytes()
        ));
    }
}
