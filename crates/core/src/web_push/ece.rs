//! The `aes128gcm` content encoding of Web Push messages (RFC 8291 on RFC 8188), written on
//! RustCrypto because the crates that do it (`ece`, `web-push`) pull in OpenSSL.
//!
//! A message is one record: the header (salt, record size, the sender's one-time public key)
//! then AES-128-GCM of the payload and its delimiter `0x02`. The key and nonce come from an
//! ECDH between a fresh key of ours and the browser's `p256dh` key, mixed with its `auth`
//! secret, so only that browser reads it; the push service in between sees bytes.

use crate::random::{self, Random};
use aes_gcm::Aes128Gcm;
use aes_gcm::aead::{Aead, KeyInit};
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The record size written in the header: one record holds any message we send.
pub const RECORD_SIZE: u32 = 4096;
/// The salt, the record size, the key id's length and a 65-byte key id.
const HEADER_LEN: usize = 16 + 4 + 1 + 65;
/// AES-GCM's tag.
const TAG_LEN: usize = 16;
/// The longest payload one record holds (RFC 8291 §4 asks push services for at least 4096
/// bytes of body): the record minus the tag and the delimiter.
pub const MAX_PAYLOAD: usize = RECORD_SIZE as usize - HEADER_LEN - TAG_LEN - 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EceError {
    #[error("the p256dh key is not a P-256 point")]
    BadKey,
    #[error("the auth secret is not 16 bytes")]
    BadAuth,
    #[error("the payload is longer than one record")]
    TooLong,
    #[error("the message does not decrypt")]
    Damaged,
}

/// Encrypts `payload` for the browser whose subscription keys are `p256dh` (an uncompressed
/// P-256 point) and `auth` (16 bytes), with a fresh key and salt.
pub fn encrypt(
    rng: &dyn Random,
    p256dh: &[u8],
    auth: &[u8],
    payload: &[u8],
) -> Result<Vec<u8>, EceError> {
    let ephemeral = loop {
        // A random 32-byte string is a valid scalar but with odds of about 2^-32.
        let bytes = Zeroizing::new(random::bytes::<32>(rng));
        if let Ok(key) = SecretKey::from_slice(bytes.as_slice()) {
            break key;
        }
    };
    let salt = random::bytes::<16>(rng);
    encrypt_with(&ephemeral, &salt, p256dh, auth, payload)
}

/// [`encrypt`] with the sender key and salt given: RFC 8291's test vector fixes both.
pub fn encrypt_with(
    sender: &SecretKey,
    salt: &[u8; 16],
    p256dh: &[u8],
    auth: &[u8],
    payload: &[u8],
) -> Result<Vec<u8>, EceError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(EceError::TooLong);
    }
    let receiver = PublicKey::from_sec1_bytes(p256dh).map_err(|_| EceError::BadKey)?;
    let receiver_bytes = receiver.to_sec1_point(false);
    let sender_bytes = sender.public_key().to_sec1_point(false);
    let shared = sender.diffie_hellman(&receiver);
    let (cek, nonce) = derive(
        shared.raw_secret_bytes().as_slice(),
        auth,
        receiver_bytes.as_bytes(),
        sender_bytes.as_bytes(),
        salt,
    )?;
    let mut record = Vec::with_capacity(payload.len() + 1);
    record.extend_from_slice(payload);
    // The last (and only) record's delimiter; no padding.
    record.push(2);
    let sealed = Aes128Gcm::new_from_slice(cek.as_slice())
        .map_err(|_| EceError::Damaged)?
        .encrypt(&nonce.into(), record.as_slice())
        .map_err(|_| EceError::Damaged)?;
    let mut out = Vec::with_capacity(HEADER_LEN + sealed.len());
    out.extend_from_slice(salt);
    out.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    out.push(sender_bytes.as_bytes().len() as u8);
    out.extend_from_slice(sender_bytes.as_bytes());
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// The browser's side: reads a one-record message with its private key and auth secret.
/// Tests use it to play the browser; an app written in Rust could too.
pub fn decrypt(receiver: &SecretKey, auth: &[u8], message: &[u8]) -> Result<Vec<u8>, EceError> {
    if message.len() < 21 {
        return Err(EceError::Damaged);
    }
    let salt: [u8; 16] = message[..16].try_into().map_err(|_| EceError::Damaged)?;
    let id_len = usize::from(message[20]);
    let body_at = 21 + id_len;
    let sender = message
        .get(21..body_at)
        .and_then(|k| PublicKey::from_sec1_bytes(k).ok())
        .ok_or(EceError::Damaged)?;
    let receiver_bytes = receiver.public_key().to_sec1_point(false);
    let shared = receiver.diffie_hellman(&sender);
    let (cek, nonce) = derive(
        shared.raw_secret_bytes().as_slice(),
        auth,
        receiver_bytes.as_bytes(),
        &message[21..body_at],
        &salt,
    )?;
    let mut plain = Aes128Gcm::new_from_slice(cek.as_slice())
        .map_err(|_| EceError::Damaged)?
        .decrypt(&nonce.into(), &message[body_at..])
        .map_err(|_| EceError::Damaged)?;
    // Strip the padding, then the last record's delimiter.
    while plain.last() == Some(&0) {
        plain.pop();
    }
    if plain.pop() != Some(2) {
        return Err(EceError::Damaged);
    }
    Ok(plain)
}

/// RFC 8291 §3.3–3.4 and RFC 8188 §2.2–2.3: the content encryption key and the nonce.
fn derive(
    shared: &[u8],
    auth: &[u8],
    receiver: &[u8],
    sender: &[u8],
    salt: &[u8; 16],
) -> Result<(Zeroizing<[u8; 16]>, [u8; 12]), EceError> {
    if auth.len() != 16 {
        return Err(EceError::BadAuth);
    }
    let key_info = [b"WebPush: info\0".as_slice(), receiver, sender].concat();
    let mut ikm = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(auth), shared)
        .expand(&key_info, ikm.as_mut_slice())
        .map_err(|_| EceError::Damaged)?;
    let prk = Hkdf::<Sha256>::new(Some(salt), ikm.as_slice());
    let mut cek = Zeroizing::new([0u8; 16]);
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: aes128gcm\0", cek.as_mut_slice())
        .map_err(|_| EceError::Damaged)?;
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .map_err(|_| EceError::Damaged)?;
    Ok((cek, nonce))
}

#[cfg(test)]
mod tests {
    use super::*;
    use data_encoding::BASE64URL_NOPAD;

    fn b64(s: &str) -> Vec<u8> {
        BASE64URL_NOPAD.decode(s.as_bytes()).unwrap()
    }

    // RFC 8291 §5 and Appendix A.
    const PLAINTEXT: &str = "When I grow up, I want to be a watermelon";
    const AS_PRIVATE: &str = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
    const UA_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
    const UA_PUBLIC: &str =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
    const SALT: &str = "DGv6ra1nlYgDCS1FRnbzlw";
    const BODY: &str = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

    #[test]
    fn the_rfc_8291_vector_encrypts_to_the_exact_bytes() {
        let sender = SecretKey::from_slice(&b64(AS_PRIVATE)).unwrap();
        let salt: [u8; 16] = b64(SALT).try_into().unwrap();
        let body = encrypt_with(
            &sender,
            &salt,
            &b64(UA_PUBLIC),
            &b64(AUTH),
            PLAINTEXT.as_bytes(),
        )
        .unwrap();
        assert_eq!(BASE64URL_NOPAD.encode(&body), BODY);
    }

    #[test]
    fn the_rfc_8291_vector_decrypts_and_a_changed_byte_does_not() {
        let receiver = SecretKey::from_slice(&b64(UA_PRIVATE)).unwrap();
        let plain = decrypt(&receiver, &b64(AUTH), &b64(BODY)).unwrap();
        assert_eq!(plain, PLAINTEXT.as_bytes());
        let mut damaged = b64(BODY);
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        assert_eq!(
            decrypt(&receiver, &b64(AUTH), &damaged),
            Err(EceError::Damaged)
        );
        // Another auth secret reads nothing.
        assert_eq!(
            decrypt(&receiver, &[7u8; 16], &b64(BODY)),
            Err(EceError::Damaged)
        );
    }

    #[test]
    fn fresh_keys_round_trip_and_bad_keys_are_refused() {
        let rng = crate::random::OsRandom;
        let receiver = SecretKey::from_slice(&b64(UA_PRIVATE)).unwrap();
        let a = encrypt(&rng, &b64(UA_PUBLIC), &b64(AUTH), b"{\"v\":1}").unwrap();
        let b = encrypt(&rng, &b64(UA_PUBLIC), &b64(AUTH), b"{\"v\":1}").unwrap();
        assert_ne!(a, b, "a fresh salt and key each time");
        assert_eq!(decrypt(&receiver, &b64(AUTH), &a).unwrap(), b"{\"v\":1}");
        assert_eq!(
            encrypt(&rng, &[4u8; 65], &b64(AUTH), b"x"),
            Err(EceError::BadKey)
        );
        assert_eq!(
            encrypt(&rng, &b64(UA_PUBLIC), &[1u8; 15], b"x"),
            Err(EceError::BadAuth)
        );
        assert_eq!(
            encrypt(
                &rng,
                &b64(UA_PUBLIC),
                &b64(AUTH),
                &vec![b'x'; MAX_PAYLOAD + 1]
            ),
            Err(EceError::TooLong)
        );
        let full = encrypt(&rng, &b64(UA_PUBLIC), &b64(AUTH), &vec![b'x'; MAX_PAYLOAD]).unwrap();
        assert_eq!(full.len(), RECORD_SIZE as usize);
    }
}
