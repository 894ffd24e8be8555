//! The field a person types a code into, shaped by what the method gives: six digits from an
//! app, a text, a call or an email; a recovery code of letters and dashes
//! (`6e1r-51nx-e6md-rhye`); a temporary access pass of ten digits. Each has its own label,
//! length and keyboard, so a phone shows letters where letters are typed and nothing is cut
//! off.

use crate::i18n::Tr;
use tessera_core::Kind;

#[derive(Debug, Clone)]
pub struct CodeField {
    pub label: String,
    /// `numeric` brings up a number pad on phones; `text` a keyboard with letters.
    pub inputmode: &'static str,
    pub maxlength: u32,
    /// `one-time-code` lets a phone offer a code that just arrived by text.
    pub autocomplete: &'static str,
}

impl CodeField {
    /// A one-time code of digits (with room for spaces a person types between groups).
    pub fn digits(tr: &Tr) -> Self {
        CodeField {
            label: tr.get("code-label"),
            inputmode: "numeric",
            maxlength: 12,
            autocomplete: "one-time-code",
        }
    }

    pub fn for_kind(kind: Kind, tr: &Tr) -> Self {
        match kind {
            Kind::RecoveryCodes => CodeField {
                label: tr.get("recovery-code-label"),
                inputmode: "text",
                // Sixteen characters in four groups, with room for spaces around the dashes.
                maxlength: 32,
                autocomplete: "off",
            },
            Kind::TemporaryAccessPass => CodeField {
                label: tr.get("temporary-access-pass-label"),
                inputmode: "numeric",
                maxlength: 16,
                autocomplete: "off",
            },
            _ => Self::digits(tr),
        }
    }
}

/// What a page says above the field for a method of `kind`, named `label`: the catalog's
/// `{key}` ("enter the 6-digit code from …"), or its variant for a recovery code or a pass.
pub fn intro(kind: Kind, label: &str, tr: &Tr, key: &str) -> String {
    match kind {
        Kind::RecoveryCodes => tr.get(&format!("{key}-recovery-codes")),
        Kind::TemporaryAccessPass => tr.get(&format!("{key}-temporary-access-pass")),
        _ => tr.with(key, "method", label),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recovery_code_fits_and_gets_letters() {
        let tr = Tr::english();
        let field = CodeField::for_kind(Kind::RecoveryCodes, &tr);
        assert!("6e1r-51nx-e6md-rhye".len() <= field.maxlength as usize);
        assert_eq!(field.inputmode, "text");
        assert_eq!(field.label, "Recovery code");
        let pass = CodeField::for_kind(Kind::TemporaryAccessPass, &tr);
        assert!("12345 67890".len() <= pass.maxlength as usize);
        assert_eq!(
            CodeField::for_kind(Kind::AuthenticatorCode, &tr).inputmode,
            "numeric"
        );
    }
}
