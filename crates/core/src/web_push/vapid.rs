//! VAPID (RFC 8292): the server proves to a push service that a message comes from the key
//! the browser subscribed with. Each request carries `Authorization: vapid t=<JWT>, k=<key>`,
//! the JWT signed with ES256 for the push service's origin, valid at most 12 hours.

use data_encoding::BASE64URL_NOPAD;
use p256::SecretKey;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToSec1Point;
use time::{Duration, OffsetDateTime};

/// How long a token is valid: RFC 8292 §2 allows at most 24 hours; push services are happier
/// with less.
pub const TOKEN_LIFETIME: Duration = Duration::hours(12);

/// The uncompressed SEC1 point of a key (65 bytes), as browsers take `applicationServerKey`.
pub fn public_key(key: &SecretKey) -> Vec<u8> {
    key.public_key().to_sec1_point(false).as_bytes().to_vec()
}

/// The origin of a push endpoint (`https://push.example.net`), the token's audience; `None`
/// for a URL that has none.
pub fn audience(endpoint: &str) -> Option<String> {
    let url = url::Url::parse(endpoint).ok()?;
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// The `Authorization` header's value for a message to `endpoint`, signed by `key` at `now`.
/// `subject` is a `mailto:` or `https:` contact for the push service's operator.
pub fn authorization(
    key: &SecretKey,
    endpoint: &str,
    subject: &str,
    now: OffsetDateTime,
) -> Option<String> {
    let claims = serde_json::json!({
        "aud": audience(endpoint)?,
        "exp": (now + TOKEN_LIFETIME).unix_timestamp(),
        "sub": subject,
    });
    let header = BASE64URL_NOPAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
    let claims = BASE64URL_NOPAD.encode(claims.to_string().as_bytes());
    let signing_input = format!("{header}.{claims}");
    let signature: Signature = SigningKey::from(key).sign(signing_input.as_bytes());
    let token = format!(
        "{signing_input}.{}",
        BASE64URL_NOPAD.encode(&signature.to_bytes())
    );
    Some(format!(
        "vapid t={token}, k={}",
        BASE64URL_NOPAD.encode(&public_key(key))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier;

    #[test]
    fn the_token_verifies_with_the_key_it_names_for_the_endpoints_origin() {
        let key = SecretKey::from_slice(&[7u8; 32]).unwrap();
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let value = authorization(
            &key,
            "https://push.example.net:8443/wpush/v2/abc?x=1",
            "mailto:ops@example.org",
            now,
        )
        .unwrap();
        let (t, k) = value
            .strip_prefix("vapid t=")
            .and_then(|v| v.split_once(", k="))
            .unwrap();
        let k = BASE64URL_NOPAD.decode(k.as_bytes()).unwrap();
        assert_eq!(k.len(), 65);
        let (input, sig) = t.rsplit_once('.').unwrap();
        let sig = Signature::from_slice(&BASE64URL_NOPAD.decode(sig.as_bytes()).unwrap()).unwrap();
        let verifier = VerifyingKey::from_sec1_bytes(&k).unwrap();
        assert!(verifier.verify(input.as_bytes(), &sig).is_ok());
        let claims = input.split('.').nth(1).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&BASE64URL_NOPAD.decode(claims.as_bytes()).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example.net:8443");
        assert_eq!(claims["exp"], 1_800_000_000 + 12 * 3600);
        assert_eq!(claims["sub"], "mailto:ops@example.org");
        assert_eq!(audience("not a url"), None);
    }
}
