//! RADIUS packets (RFC 2865) with Message-Authenticator (RFC 3579): parsing, building, the
//! hidden User-Password, and both authenticators. Pure bytes in, bytes out; the server's
//! listener, the bench and the tests' client share it.
//!
//! Why our own: the `radius` crate (0.4) only stores Message-Authenticator's bytes and
//! computes no HMAC, and every answer must carry a right one as its first attribute
//! (BlastRADIUS, CVE-2024-3596), every request be checked against it.

use hmac::{KeyInit as _, Mac as _};
use md5::{Digest as _, Md5};

pub const ACCESS_REQUEST: u8 = 1;
pub const ACCESS_ACCEPT: u8 = 2;
pub const ACCESS_REJECT: u8 = 3;
pub const ACCESS_CHALLENGE: u8 = 11;

pub const USER_NAME: u8 = 1;
pub const USER_PASSWORD: u8 = 2;
pub const NAS_IP_ADDRESS: u8 = 4;
pub const REPLY_MESSAGE: u8 = 18;
pub const STATE: u8 = 24;
pub const CLASS: u8 = 25;
pub const SESSION_TIMEOUT: u8 = 27;
pub const CALLING_STATION_ID: u8 = 31;
pub const NAS_IDENTIFIER: u8 = 32;
pub const PROXY_STATE: u8 = 33;
pub const MESSAGE_AUTHENTICATOR: u8 = 80;

const HEADER: usize = 20;
/// RFC 2865 §3: the largest packet.
pub const MAX_LEN: usize = 4096;
/// RFC 2865 §5.2: User-Password is at most 128 octets.
const MAX_PASSWORD: usize = 128;

/// What is wrong with a datagram; the listener drops it either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("shorter than its header or its length field")]
    Truncated,
    #[error("its length field is outside 20..=4096")]
    BadLength,
    #[error("an attribute's length runs past the packet or is below 2")]
    BadAttribute,
}

/// A packet: its header and its attributes in order (type, value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub code: u8,
    pub identifier: u8,
    pub authenticator: [u8; 16],
    pub attributes: Vec<(u8, Vec<u8>)>,
}

impl Packet {
    /// Parses a datagram. Octets past the length field are padding and ignored (RFC 2865 §3).
    pub fn parse(bytes: &[u8]) -> Result<Packet, PacketError> {
        if bytes.len() < HEADER {
            return Err(PacketError::Truncated);
        }
        let length = u16::from_be_bytes([bytes[2], bytes[3]]) as usize;
        if !(HEADER..=MAX_LEN).contains(&length) {
            return Err(PacketError::BadLength);
        }
        if bytes.len() < length {
            return Err(PacketError::Truncated);
        }
        let mut authenticator = [0u8; 16];
        authenticator.copy_from_slice(&bytes[4..HEADER]);
        let mut attributes = Vec::new();
        let mut rest = &bytes[HEADER..length];
        while !rest.is_empty() {
            let [kind, len, ..] = *rest else {
                return Err(PacketError::BadAttribute);
            };
            let len = len as usize;
            if len < 2 || len > rest.len() {
                return Err(PacketError::BadAttribute);
            }
            attributes.push((kind, rest[2..len].to_vec()));
            rest = &rest[len..];
        }
        Ok(Packet {
            code: bytes[0],
            identifier: bytes[1],
            authenticator,
            attributes,
        })
    }

    /// The packet's bytes. Attribute values longer than 253 octets are cut (the caller never
    /// builds one: Reply-Messages are split by [`Packet::push_text`]).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + 64);
        out.extend_from_slice(&[self.code, self.identifier, 0, 0]);
        out.extend_from_slice(&self.authenticator);
        for (kind, value) in &self.attributes {
            let value = &value[..value.len().min(253)];
            out.push(*kind);
            out.push(value.len() as u8 + 2);
            out.extend_from_slice(value);
        }
        let len = (out.len() as u16).to_be_bytes();
        out[2] = len[0];
        out[3] = len[1];
        out
    }

    /// The first value of an attribute.
    pub fn get(&self, kind: u8) -> Option<&[u8]> {
        self.attributes
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, v)| v.as_slice())
    }

    /// The first value of a text attribute, if it is UTF-8.
    pub fn text(&self, kind: u8) -> Option<&str> {
        self.get(kind).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Adds a text attribute, split over several where it is longer than one may hold
    /// (RFC 2865 §5.18: Reply-Messages are concatenated), on character boundaries.
    pub fn push_text(&mut self, kind: u8, text: &str) {
        let mut chunk = String::new();
        for c in text.chars() {
            if chunk.len() + c.len_utf8() > 253 {
                self.attributes
                    .push((kind, std::mem::take(&mut chunk).into_bytes()));
            }
            chunk.push(c);
        }
        self.attributes.push((kind, chunk.into_bytes()));
    }

    /// Whether the request carries a Message-Authenticator that is right for `secret`
    /// (RFC 3579 §3.2: HMAC-MD5 over the packet with the attribute's value zeroed).
    pub fn request_authenticated(&self, secret: &[u8]) -> bool {
        let Some(given) = self.get(MESSAGE_AUTHENTICATOR) else {
            return false;
        };
        if given.len() != 16 {
            return false;
        }
        let expected = self.message_authenticator(secret, &self.authenticator);
        crate::secret::ct_eq(&expected, given)
    }

    pub fn has_message_authenticator(&self) -> bool {
        self.get(MESSAGE_AUTHENTICATOR).is_some()
    }

    /// HMAC-MD5 of this packet, with Message-Authenticator zeroed and `authenticator` in the
    /// header (the request's, for a request and for its answer alike).
    fn message_authenticator(&self, secret: &[u8], authenticator: &[u8; 16]) -> [u8; 16] {
        let mut zeroed = self.clone();
        zeroed.authenticator = *authenticator;
        for (kind, value) in zeroed.attributes.iter_mut() {
            if *kind == MESSAGE_AUTHENTICATOR {
                *value = vec![0; 16];
            }
        }
        let Ok(mut mac) = hmac::Hmac::<Md5>::new_from_slice(secret) else {
            return [0; 16];
        };
        mac.update(&zeroed.encode());
        mac.finalize().into_bytes().into()
    }

    /// The answer to `request`: Message-Authenticator first (RFC 3579, BlastRADIUS), then
    /// `attributes`, then the request's Proxy-States (RFC 2865 §5.33), signed with the
    /// Response Authenticator.
    pub fn reply(
        request: &Packet,
        code: u8,
        attributes: Vec<(u8, Vec<u8>)>,
        secret: &[u8],
    ) -> Packet {
        let mut reply = Packet {
            code,
            identifier: request.identifier,
            authenticator: request.authenticator,
            attributes: vec![(MESSAGE_AUTHENTICATOR, vec![0; 16])],
        };
        reply.attributes.extend(attributes);
        reply.attributes.extend(
            request
                .attributes
                .iter()
                .filter(|(k, _)| *k == PROXY_STATE)
                .cloned(),
        );
        let mac = reply.message_authenticator(secret, &request.authenticator);
        reply.attributes[0].1 = mac.to_vec();
        reply.authenticator = response_authenticator(&reply, &request.authenticator, secret);
        reply
    }

    /// A request as a client sends it: Message-Authenticator first, signed for `secret`.
    pub fn signed_request(
        identifier: u8,
        authenticator: [u8; 16],
        attributes: Vec<(u8, Vec<u8>)>,
        secret: &[u8],
    ) -> Packet {
        let mut request = Packet {
            code: ACCESS_REQUEST,
            identifier,
            authenticator,
            attributes: vec![(MESSAGE_AUTHENTICATOR, vec![0; 16])],
        };
        request.attributes.extend(attributes);
        let mac = request.message_authenticator(secret, &authenticator);
        request.attributes[0].1 = mac.to_vec();
        request
    }

    /// For a client: whether this answer to the request with `request_authenticator` is
    /// authentic (its Response Authenticator, and its Message-Authenticator if present).
    pub fn reply_authentic(&self, request_authenticator: &[u8; 16], secret: &[u8]) -> bool {
        let expected = response_authenticator(self, request_authenticator, secret);
        if !crate::secret::ct_eq(&expected, &self.authenticator) {
            return false;
        }
        match self.get(MESSAGE_AUTHENTICATOR) {
            Some(given) => crate::secret::ct_eq(
                &self.message_authenticator(secret, request_authenticator),
                given,
            ),
            None => true,
        }
    }
}

/// RFC 2865 §3: MD5(Code + Identifier + Length + Request Authenticator + Attributes + Secret).
fn response_authenticator(reply: &Packet, request: &[u8; 16], secret: &[u8]) -> [u8; 16] {
    let mut bytes = Packet {
        authenticator: *request,
        ..reply.clone()
    }
    .encode();
    bytes.extend_from_slice(secret);
    Md5::digest(&bytes).into()
}

/// RFC 2865 §5.2: hides a password (padded with zeros to 16-octet blocks, at most 128).
pub fn hide_password(password: &[u8], secret: &[u8], authenticator: &[u8; 16]) -> Vec<u8> {
    let password = &password[..password.len().min(MAX_PASSWORD)];
    let blocks = password.len().div_ceil(16).max(1);
    let mut padded = password.to_vec();
    padded.resize(blocks * 16, 0);
    let mut out = Vec::with_capacity(padded.len());
    let mut previous: Vec<u8> = authenticator.to_vec();
    for block in padded.chunks(16) {
        let key = Md5::new()
            .chain_update(secret)
            .chain_update(&previous)
            .finalize();
        let hidden: Vec<u8> = block.iter().zip(key.iter()).map(|(p, k)| p ^ k).collect();
        out.extend_from_slice(&hidden);
        previous = hidden;
    }
    out
}

/// The password a User-Password attribute hides, without its zero padding; `None` when the
/// attribute is not a whole number of blocks (at most 128 octets).
pub fn reveal_password(
    hidden: &[u8],
    secret: &[u8],
    authenticator: &[u8; 16],
) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    // RFC 2865 says at least 16 octets, but some clients (radclient among them) send an
    // empty password as an empty attribute: read it as the empty password it is.
    if !hidden.len().is_multiple_of(16) || hidden.len() > MAX_PASSWORD {
        return None;
    }
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(hidden.len()));
    let mut previous: &[u8] = authenticator;
    for block in hidden.chunks(16) {
        let key = Md5::new()
            .chain_update(secret)
            .chain_update(previous)
            .finalize();
        out.extend(block.iter().zip(key.iter()).map(|(c, k)| c ^ k));
        previous = block;
    }
    while out.last() == Some(&0) {
        out.pop();
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    const SECRET: &[u8] = b"xyzzy5461";
    /// RFC 2865 §7.1: nemo's Access-Request, password "arctangent".
    const REQUEST: &str = "01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb 98 f4 22 7a \
        01 06 6e 65 6d 6f 02 12 0d be 70 8d 93 d4 13 ce 31 96 e4 3f 78 2a 0a ee \
        04 06 c0 a8 01 10 05 06 00 00 00 03";
    /// Its Access-Accept (Service-Type, Login-Service, Login-IP-Host).
    const ACCEPT: &str = "02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf 9b 55 e0 b2 \
        06 06 00 00 00 01 0f 06 00 00 00 00 0e 06 c0 a8 01 03";

    #[test]
    fn the_rfc_example_request_parses_and_reveals_its_password() {
        let bytes = hex(REQUEST);
        let request = Packet::parse(&bytes).unwrap();
        assert_eq!((request.code, request.identifier), (ACCESS_REQUEST, 0));
        assert_eq!(request.text(USER_NAME), Some("nemo"));
        let hidden = request.get(USER_PASSWORD).unwrap();
        let password = reveal_password(hidden, SECRET, &request.authenticator).unwrap();
        assert_eq!(password.as_slice(), b"arctangent");
        assert_eq!(
            hide_password(b"arctangent", SECRET, &request.authenticator),
            hidden
        );
        assert_eq!(
            request.encode(),
            bytes,
            "encoding gives the same bytes back"
        );
    }

    #[test]
    fn the_rfc_example_answer_has_the_response_authenticator_we_compute() {
        let request = Packet::parse(&hex(REQUEST)).unwrap();
        let accept = Packet::parse(&hex(ACCEPT)).unwrap();
        assert!(accept.reply_authentic(&request.authenticator, SECRET));
        assert!(!accept.reply_authentic(&request.authenticator, b"another"));
    }

    #[test]
    fn an_answer_carries_message_authenticator_first_and_checks_out() {
        let mut request = Packet::parse(&hex(REQUEST)).unwrap();
        request.attributes.push((PROXY_STATE, b"px".to_vec()));
        let mut attrs = Vec::new();
        let mut tmp = Packet {
            attributes: Vec::new(),
            ..request.clone()
        };
        tmp.push_text(REPLY_MESSAGE, &"é".repeat(200));
        attrs.extend(tmp.attributes);
        let reply = Packet::reply(&request, ACCESS_CHALLENGE, attrs, SECRET);
        let bytes = reply.encode();
        // The first attribute follows the header at once.
        assert_eq!((bytes[20], bytes[21]), (MESSAGE_AUTHENTICATOR, 18));
        let back = Packet::parse(&bytes).unwrap();
        assert!(back.reply_authentic(&request.authenticator, SECRET));
        assert_eq!(back.attributes.last().unwrap().1, b"px");
        let message: Vec<u8> = back
            .attributes
            .iter()
            .filter(|(k, _)| *k == REPLY_MESSAGE)
            .flat_map(|(_, v)| v.clone())
            .collect();
        assert_eq!(String::from_utf8(message).unwrap(), "é".repeat(200));
        // A flipped bit anywhere is caught.
        let mut tampered = back.clone();
        tampered.attributes[1].1[0] ^= 1;
        assert!(!tampered.reply_authentic(&request.authenticator, SECRET));
    }

    #[test]
    fn a_signed_request_passes_and_a_changed_one_does_not() {
        let auth = [7u8; 16];
        let password = hide_password(b"correct horse", b"s3cret", &auth);
        let request = Packet::signed_request(
            9,
            auth,
            vec![(USER_NAME, b"ann".to_vec()), (USER_PASSWORD, password)],
            b"s3cret",
        );
        let parsed = Packet::parse(&request.encode()).unwrap();
        assert!(parsed.request_authenticated(b"s3cret"));
        assert!(!parsed.request_authenticated(b"other"));
        let mut changed = parsed.clone();
        changed.attributes[1].1 = b"bob".to_vec();
        assert!(!changed.request_authenticated(b"s3cret"));
        let mut without = parsed.clone();
        without.attributes.remove(0);
        assert!(!without.request_authenticated(b"s3cret"));
        assert_eq!(
            reveal_password(parsed.get(USER_PASSWORD).unwrap(), b"s3cret", &auth)
                .unwrap()
                .as_slice(),
            b"correct horse"
        );
    }

    #[test]
    fn malformed_datagrams_are_refused() {
        let good = hex(REQUEST);
        assert_eq!(Packet::parse(&good[..19]), Err(PacketError::Truncated));
        assert_eq!(Packet::parse(&good[..40]), Err(PacketError::Truncated));
        let mut short = good.clone();
        short[3] = 10;
        assert_eq!(Packet::parse(&short), Err(PacketError::BadLength));
        let mut bad = good.clone();
        bad[21] = 1; // User-Name's length below 2
        assert_eq!(Packet::parse(&bad), Err(PacketError::BadAttribute));
        let mut over = good.clone();
        over[21] = 200;
        assert_eq!(Packet::parse(&over), Err(PacketError::BadAttribute));
        // Padding past the length field is ignored.
        let mut padded = good.clone();
        padded.extend_from_slice(&[0; 9]);
        assert_eq!(Packet::parse(&padded), Packet::parse(&good));
        assert!(reveal_password(&[0; 15], SECRET, &[0; 16]).is_none());
        assert!(reveal_password(&[0; 144], SECRET, &[0; 16]).is_none());
        assert_eq!(
            reveal_password(&[], SECRET, &[0; 16]).unwrap().as_slice(),
            b""
        );
    }
}
