//! The password policy control (draft-behera-ldap-password-policy, OpenLDAP's `ppolicy`,
//! 389/FreeIPA): sent with a password change, it makes the directory say *which* rule failed —
//! slapd's result text alone is "fails quality checking policy" even for a short password.

use super::DirectoryError;
use super::ldap::classify;
use ldap3::LdapError;
use ldap3::controls::{Control, RawControl};

pub const OID: &str = "1.3.6.1.4.1.42.2.27.8.5.1";

/// The request control: no value, not critical (a directory without ppolicy ignores it).
pub fn request() -> RawControl {
    RawControl {
        ctype: OID.to_string(),
        crit: false,
        val: None,
    }
}

/// The `error` of a response control: `SEQUENCE { warning [0] OPTIONAL, error [1] ENUMERATED
/// OPTIONAL }`, BER. Only short-form lengths occur in a value this small.
pub fn error_of(ctrls: &[Control]) -> Option<u8> {
    let value = ctrls.iter().find(|c| c.1.ctype == OID)?.1.val.as_deref()?;
    let (&tag, rest) = value.split_first()?;
    let (&len, mut rest) = rest.split_first()?;
    if tag != 0x30 || len >= 0x80 || rest.len() < len as usize {
        return None;
    }
    rest = &rest[..len as usize];
    while let [tag, len, tail @ ..] = rest {
        let len = *len as usize;
        if len >= 0x80 || tail.len() < len {
            return None;
        }
        if *tag == 0x81 && len == 1 {
            return Some(tail[0]);
        }
        rest = &tail[len..];
    }
    None
}

/// The words slapd uses for each error, so `Refusal::of` reads them like its result texts.
pub fn error_text(code: u8) -> &'static str {
    match code {
        0 => "Password expired",
        1 => "Account locked",
        2 => "Password expired: must be changed after reset",
        3 => "Password may not be changed (passwordModNotAllowed)",
        4 => "Old password required (mustSupplyOldPassword)",
        5 => "Password fails quality checking policy",
        6 => "Password is too short for policy",
        7 => "Password is too young to change",
        8 => "Password is in history of old passwords",
        _ => "Password policy error",
    }
}

/// `classify`, with the control's precise error in place of the result text when present.
pub fn classify_with_policy(error: LdapError) -> DirectoryError {
    if let LdapError::LdapResult { result } = &error
        && let Some(code) = error_of(&result.ctrls)
    {
        return DirectoryError::Refused {
            reason: format!("{}: {}", result.rc, error_text(code)),
        };
    }
    classify(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control(val: &[u8]) -> Vec<Control> {
        vec![Control(
            None,
            RawControl {
                ctype: OID.into(),
                crit: false,
                val: Some(val.to_vec()),
            },
        )]
    }

    #[test]
    fn the_error_is_read_from_the_response_control() {
        // passwordTooShort, as slapd sends it: 30 03 81 01 06.
        assert_eq!(error_of(&control(&[0x30, 0x03, 0x81, 0x01, 0x06])), Some(6));
        // A warning first (timeBeforeExpiration 300), then passwordInHistory.
        let both = [
            0x30, 0x09, 0xa0, 0x04, 0x80, 0x02, 0x01, 0x2c, 0x81, 0x01, 0x08,
        ];
        assert_eq!(error_of(&control(&both)), Some(8));
        // A warning only, or no control: no error.
        assert_eq!(
            error_of(&control(&[0x30, 0x06, 0xa0, 0x04, 0x80, 0x02, 0x01, 0x2c])),
            None
        );
        assert_eq!(error_of(&[]), None);
        // Truncated values are not trusted.
        assert_eq!(error_of(&control(&[0x30, 0x05, 0x81, 0x01])), None);
    }
}
