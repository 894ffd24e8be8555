//! What a directory's "no" means for the person, so the page can say it in their language
//! (`locales/*/directory.ftl`). OpenLDAP's ppolicy words its result texts; Active Directory
//! puts a Win32 error code in the diagnostic text (`… data 775, v4563`, `0000052D: …`). AD
//! cannot run in the tests, so its mapping is tested against texts recorded from real
//! domain controllers (and Samba's), below.

/// The reasons a page tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Shorter than the directory's minimum.
    TooShort,
    /// The directory's quality rules (complexity, a dictionary) said no.
    TooWeak,
    /// One of the person's previous passwords.
    InHistory,
    /// Changed too recently to change again (minimum age).
    TooYoung,
    /// AD's single code for all of the above: it does not say which rule.
    PolicyNotMet,
    /// Locked after too many wrong passwords.
    Locked,
    /// The password has expired or must be changed before use.
    MustChange,
    /// Not at this time or from this place, or the service account lacks the right.
    NotAllowed,
    /// Anything else; the raw reason goes to the log only.
    Other,
}

impl Refusal {
    /// Sorts a `DirectoryError::Refused` reason ("19: Password is in history of old
    /// passwords", "19: 0000052D: Constraint violation …").
    pub fn of(reason: &str) -> Refusal {
        let (code, text) = match reason.split_once(": ") {
            Some((code, text)) => (code.parse::<u32>().ok(), text),
            None => (reason.parse::<u32>().ok(), ""),
        };
        if let Some(refusal) = ad_code(text).and_then(ad_refusal) {
            return refusal;
        }
        let text = text.to_ascii_lowercase();
        if text.contains("history") {
            Refusal::InHistory
        } else if text.contains("too young") {
            Refusal::TooYoung
        } else if text.contains("too short") {
            Refusal::TooShort
        } else if text.contains("quality") {
            Refusal::TooWeak
        } else if text.contains("locked") {
            Refusal::Locked
        } else if text.contains("expired") {
            Refusal::MustChange
        } else if code == Some(50) {
            // insufficientAccessRights: the service account may not set passwords.
            Refusal::NotAllowed
        } else {
            Refusal::Other
        }
    }

    /// The message id in `directory.ftl`.
    pub fn message_id(self) -> &'static str {
        match self {
            Refusal::TooShort => "directory-refused-too-short",
            Refusal::TooWeak => "directory-refused-too-weak",
            Refusal::InHistory => "directory-refused-in-history",
            Refusal::TooYoung => "directory-refused-too-young",
            Refusal::PolicyNotMet => "directory-refused-policy",
            Refusal::Locked => "directory-refused-locked",
            Refusal::MustChange => "directory-refused-must-change",
            Refusal::NotAllowed => "directory-refused-not-allowed",
            Refusal::Other => "directory-refused-other",
        }
    }
}

/// The Win32 code in an AD diagnostic: `data 775` in a bind's text, or the leading
/// `0000052D:` of a modify's.
pub fn ad_code(text: &str) -> Option<u32> {
    if let Some(at) = text.find("data ") {
        let hex: String = text[at + 5..]
            .chars()
            .take_while(|c| c.is_ascii_hexdigit())
            .collect();
        if let Ok(code) = u32::from_str_radix(&hex, 16)
            && code != 0
        {
            return Some(code);
        }
    }
    let lead = text.split(':').next()?;
    (lead.len() == 8 && lead.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| u32::from_str_radix(lead, 16).ok())
        .flatten()
        .filter(|&code| code != 0)
}

/// AD's codes that say more than "wrong password" (0x52e) or "no such user" (0x525).
/// A disabled (0x533) or expired (0x701) account is not among them: AD gives those codes only
/// for the right password, so telling them would confirm it to a guesser. They stay a wrong
/// password, counted as one, like a disabled local account ([`is_ad_disabled`]).
pub fn ad_refusal(code: u32) -> Option<Refusal> {
    match code {
        0x52d => Some(Refusal::PolicyNotMet),
        0x530 | 0x531 => Some(Refusal::NotAllowed),
        0x532 | 0x773 => Some(Refusal::MustChange),
        0x775 => Some(Refusal::Locked),
        _ => None,
    }
}

/// AD's bind codes for a disabled (0x533) or expired (0x701) account: answered as a wrong
/// password; only the log says which.
pub fn is_ad_disabled(code: u32) -> bool {
    matches!(code, 0x533 | 0x701)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openldap_ppolicy_texts() {
        // Recorded from slapd 2.5 with the ppolicy overlay (see tests/it/directory_slapd.rs).
        let of = Refusal::of;
        assert_eq!(
            of("19: Password fails quality checking policy"),
            Refusal::TooWeak
        );
        assert_eq!(
            of("19: Password is in history of old passwords"),
            Refusal::InHistory
        );
        assert_eq!(of("19: Password is too young to change"), Refusal::TooYoung);
        assert_eq!(
            of("19: Password is too short for policy"),
            Refusal::TooShort
        );
        assert_eq!(of("50: no write access to parent"), Refusal::NotAllowed);
        assert_eq!(of("53: unwilling to verify old password"), Refusal::Other);
    }

    #[test]
    fn active_directory_codes() {
        // Recorded texts: Windows Server 2019 (binds), Windows and Samba 4 (unicodePwd).
        let of = Refusal::of;
        assert_eq!(
            of(
                "19: 0000052D: AtrErr: DSID-03191083, #1:\n\t0: 0000052D: DSID-03191083, problem 1005 (CONSTRAINT_ATT_TYPE), data 0, Att 9005a (unicodePwd)\n"
            ),
            Refusal::PolicyNotMet
        );
        assert_eq!(
            of(
                "19: 0000052D: Constraint violation - check_password_restrictions: the password is too short. It should be equal or longer than 7 characters!"
            ),
            Refusal::PolicyNotMet
        );
        let bind = |data: &str| {
            format!(
                "49: 80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data {data}, v4563"
            )
        };
        assert_eq!(of(&bind("775")), Refusal::Locked);
        // Disabled or expired: no refusal to show (`ldap::classify` makes them a wrong
        // password), so nothing tells a guesser the password was right.
        for data in ["533", "701"] {
            let code = ad_code(&bind(data)).unwrap();
            assert_eq!(ad_refusal(code), None, "{data}");
            assert!(is_ad_disabled(code), "{data}");
        }
        assert!(!is_ad_disabled(0x52e) && !is_ad_disabled(0x532));
        assert_eq!(of(&bind("532")), Refusal::MustChange);
        assert_eq!(of(&bind("773")), Refusal::MustChange);
        assert_eq!(of(&bind("530")), Refusal::NotAllowed);
        // A plain wrong password is not a refusal: `ldap::classify` keeps it InvalidCredentials.
        assert_eq!(ad_refusal(ad_code(&bind("52e")).unwrap()), None);
        assert_eq!(
            ad_code(
                "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52e, v4563"
            ),
            Some(0x52e)
        );
    }

    #[test]
    fn every_refusal_has_a_message_in_both_languages() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
        for lang in ["en", "nl"] {
            let catalog = std::fs::read_to_string(root.join(lang).join("directory.ftl")).unwrap();
            for refusal in [
                Refusal::TooShort,
                Refusal::TooWeak,
                Refusal::InHistory,
                Refusal::TooYoung,
                Refusal::PolicyNotMet,
                Refusal::Locked,
                Refusal::MustChange,
                Refusal::NotAllowed,
                Refusal::Other,
            ] {
                let id = format!("\n{} =", refusal.message_id());
                assert!(catalog.contains(&id), "{lang}: {id}");
            }
        }
    }
}
