//! RADIUS datagrams (`tessera_core::radius::packet`): whatever parses encodes back to a
//! packet that parses the same, and the checks a listener makes on it never panic.

use tessera_core::radius::packet::{self, Packet};

const SECRET: &[u8] = b"fuzz-shared-secret";

pub fn radius_packet(data: &[u8]) {
    let Ok(parsed) = Packet::parse(data) else {
        return;
    };
    // Attributes are at most 253 octets by construction of the parser (a length octet).
    assert!(parsed.attributes.iter().all(|(_, v)| v.len() <= 253));
    let encoded = parsed.encode();
    assert!(encoded.len() <= packet::MAX_LEN);
    assert_eq!(
        Packet::parse(&encoded).as_ref(),
        Ok(&parsed),
        "a fixed point"
    );
    let _ = parsed.request_authenticated(SECRET);
    let _ = parsed.text(packet::USER_NAME);
    if let Some(hidden) = parsed.get(packet::USER_PASSWORD)
        && let Some(password) = packet::reveal_password(hidden, SECRET, &parsed.authenticator)
    {
        // Hiding it again gives the same attribute when nothing was stripped but padding.
        let again = packet::hide_password(&password, SECRET, &parsed.authenticator);
        let back = packet::reveal_password(&again, SECRET, &parsed.authenticator);
        assert_eq!(
            back.as_ref().map(|b| b.as_slice()),
            Some(password.as_slice())
        );
    }
    let reply = Packet::reply(&parsed, packet::ACCESS_REJECT, Vec::new(), SECRET);
    assert_eq!(reply.attributes[0].0, packet::MESSAGE_AUTHENTICATOR);
    assert!(reply.reply_authentic(&parsed.authenticator, SECRET));
}
