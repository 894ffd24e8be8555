//! Which page answers a challenge on a method, by its kind: the one place the sign-in,
//! step-up and reset pages ask, so a new kind adds its line here and the compiler points at
//! it (the match names every kind).

use tessera_core::{Kind, Method};

/// The page that asks for a method's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengePage {
    /// A typed code on the flow's own page: a code app's, an email's, a recovery code, a pass.
    Code,
    /// The authenticator app's notification with its number (`push_wait.rs`).
    Notification,
    /// "Text me" or "Call me", then the code or the call's # (`phone_sign_in.rs`).
    Phone,
    /// The WebAuthn ceremony (`security_key.rs`).
    SecurityKey,
    /// The person's security questions (a reset's gate only).
    Questions,
}

impl ChallengePage {
    pub fn of(kind: Kind) -> Self {
        match kind {
            Kind::AuthenticatorApp => ChallengePage::Notification,
            Kind::PhoneMobile | Kind::PhoneAlternate | Kind::PhoneOffice => ChallengePage::Phone,
            Kind::SecurityKey => ChallengePage::SecurityKey,
            Kind::SecurityQuestions => ChallengePage::Questions,
            Kind::AuthenticatorCode
            | Kind::Email
            | Kind::RecoveryCodes
            | Kind::TemporaryAccessPass => ChallengePage::Code,
        }
    }

    /// The sign-in page of its own, when it is not the code field of `/sign-in/verify`.
    fn sign_in_path(self) -> Option<&'static str> {
        match self {
            ChallengePage::Notification => Some("/sign-in/notification"),
            ChallengePage::Phone => Some("/sign-in/phone"),
            ChallengePage::SecurityKey => Some("/sign-in/security-key"),
            // Security questions only reset a password: a sign-in never offers them.
            ChallengePage::Code | ChallengePage::Questions => None,
        }
    }

    /// The step-up page of its own, when it is not the code field of `/step-up`.
    fn step_up_path(self) -> Option<&'static str> {
        match self {
            ChallengePage::Notification => Some("/step-up/notification"),
            ChallengePage::Phone => Some("/step-up/phone"),
            ChallengePage::SecurityKey => Some("/step-up/security-key"),
            ChallengePage::Code | ChallengePage::Questions => None,
        }
    }

    /// Where a sign-in asks for `method`; `None` for the code field of `/sign-in/verify`.
    pub fn sign_in_url(self, method: &Method) -> Option<String> {
        self.sign_in_path()
            .map(|path| format!("{path}?method={}", method.id))
    }

    /// Where a step-up asks for `method`, coming back to `next`; `None` for the code field
    /// of `/step-up`.
    pub fn step_up_url(self, method: &Method, next: &str) -> Option<String> {
        self.step_up_path().map(|path| {
            let query =
                serde_urlencoded::to_string([("next", next), ("method", &method.id.to_string())])
                    .unwrap_or_default();
            format!("{path}?{query}")
        })
    }
}
