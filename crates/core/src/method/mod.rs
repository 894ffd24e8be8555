//! Security info: one module per kind of method, the same verbs for each, and one dispatch
//! point (`dispatch.rs`). A kind that is added here never touches the sign-in or step-up
//! flows. This module holds the types every kind shares.

pub mod authenticator_app;
pub mod authenticator_code;
mod dispatch;
pub mod email;
pub mod notify;
pub mod phone;
pub mod recovery_codes;
pub mod security_key;
pub mod security_questions;
pub mod sent_code;
pub mod temporary_access_pass;
pub mod way;

pub use dispatch::{detail, enrollment, register_begin, verify};

use crate::ids::{AccountId, FlowId, MethodId, SessionId};
use crate::random::Random;
use crate::secret::KeyRing;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// API.md's method kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An app activated for notifications; it also yields codes.
    AuthenticatorApp,
    /// Any TOTP app, or a hardware token.
    AuthenticatorCode,
    PhoneMobile,
    PhoneAlternate,
    PhoneOffice,
    Email,
    SecurityQuestions,
    SecurityKey,
    /// A set of ten single-use codes, for when the phone is lost.
    RecoveryCodes,
    /// A one-time, time-limited code an admin issues (onboarding, lost devices).
    TemporaryAccessPass,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::AuthenticatorApp,
        Kind::AuthenticatorCode,
        Kind::PhoneMobile,
        Kind::PhoneAlternate,
        Kind::PhoneOffice,
        Kind::Email,
        Kind::SecurityQuestions,
        Kind::SecurityKey,
        Kind::RecoveryCodes,
        Kind::TemporaryAccessPass,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::AuthenticatorApp => "authenticator_app",
            Kind::AuthenticatorCode => "authenticator_code",
            Kind::PhoneMobile => "phone_mobile",
            Kind::PhoneAlternate => "phone_alternate",
            Kind::PhoneOffice => "phone_office",
            Kind::Email => "email",
            Kind::SecurityQuestions => "security_questions",
            Kind::SecurityKey => "security_key",
            Kind::RecoveryCodes => "recovery_codes",
            Kind::TemporaryAccessPass => "temporary_access_pass",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Email and security questions only ever serve password reset.
    pub fn is_sign_in_factor(&self) -> bool {
        !matches!(self, Kind::Email | Kind::SecurityQuestions)
    }

    /// Kinds only an admin issues; a person cannot add them to their own security info.
    pub fn is_admin_issued(&self) -> bool {
        matches!(self, Kind::TemporaryAccessPass)
    }

    /// English name, for API labels; pages use the translation catalog.
    pub fn english_name(&self) -> &'static str {
        match self {
            Kind::AuthenticatorApp => "Authenticator app",
            Kind::AuthenticatorCode => "Authenticator app or hardware token",
            Kind::PhoneMobile => "Phone",
            Kind::PhoneAlternate => "Alternate phone",
            Kind::PhoneOffice => "Office phone",
            Kind::Email => "Email",
            Kind::SecurityQuestions => "Security questions",
            Kind::SecurityKey => "Security key",
            Kind::RecoveryCodes => "Recovery codes",
            Kind::TemporaryAccessPass => "Temporary access pass",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodStatus {
    /// Registered but not yet proven; expires.
    Pending,
    Active,
}

impl MethodStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            MethodStatus::Pending => "pending",
            MethodStatus::Active => "active",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(MethodStatus::Pending),
            "active" => Some(MethodStatus::Active),
            _ => None,
        }
    }
}

/// Kind-specific settings that are not secret, stored as tagged JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MethodData {
    Totp {
        digits: u8,
        step_secs: u64,
    },
    /// Argon2id hashes of the normalized answers, per question id.
    SecurityQuestions {
        answers: Vec<security_questions::StoredAnswer>,
    },
    /// SHA-256 hashes of the ten codes; `last_step` is the bit mask of used ones.
    RecoveryCodes {
        hashes: Vec<String>,
    },
    /// The credential lives in `webauthn_credentials`; the pending registration is sealed.
    SecurityKey {},
    /// A phone in E.164, its region (`NL`) and calling code, the office extension, and
    /// whether the person asked for texts or calls.
    Phone {
        number: String,
        region: String,
        country_code: u16,
        extension: Option<String>,
        delivery: crate::message::Channel,
    },
    /// An address proven with a code.
    Email {
        address: String,
    },
    /// A hardware OATH TOTP token an admin imported; its seed is sealed like an app's.
    HardwareToken {
        digits: u8,
        step_secs: u64,
        serial: String,
    },
    /// An Argon2id hash of the pass; `expires_at` ends it, `last_step` marks it used.
    TemporaryAccessPass {
        pass_hash: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Method {
    pub id: MethodId,
    pub account_id: AccountId,
    pub kind: Kind,
    pub status: MethodStatus,
    /// A name the person gave it.
    pub name: Option<String>,
    pub data: MethodData,
    /// Sealed with the key ring for `(methods, secret, id)`.
    pub sealed_secret: Option<Vec<u8>>,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    /// When a pending registration lapses.
    pub expires_at: Option<OffsetDateTime>,
    /// The last TOTP step accepted; a step at or below it is a replay.
    pub last_step: Option<i64>,
    pub failures: u32,
    pub locked_until: Option<OffsetDateTime>,
    /// The session that registered it, while that may matter: a registration session
    /// completes only with methods it registered itself. `None` for what an admin created
    /// (imported tokens, temporary access passes) and for methods registered before this
    /// was recorded.
    pub registered_by: Option<SessionId>,
    /// How it asks first at sign-in, as chosen with the default (see [`way`]).
    pub way: Option<way::Way>,
}

impl Method {
    pub fn is_active(&self) -> bool {
        self.status == MethodStatus::Active
    }

    /// What lists show: the person's name for it, or the kind (masked details for phones).
    pub fn label(&self) -> String {
        self.name
            .clone()
            .or_else(|| detail(self))
            .unwrap_or_else(|| self.kind.english_name().to_string())
    }
}

/// What a person asks to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterRequest {
    AuthenticatorCode {
        name: Option<String>,
    },
    /// An app activated for notifications (and codes), named by the person.
    AuthenticatorApp {
        name: Option<String>,
    },
    /// A mobile, alternate or office phone.
    Phone(phone::PhoneRequest),
    Email {
        address: String,
    },
    /// A FIDO2/WebAuthn key with user verification, named by the person.
    SecurityKey {
        name: Option<String>,
    },
}

/// What the person needs to finish a registration (shown once, while pending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enrollment {
    /// An app to activate: the one-time activation code (for the QR code with the server's
    /// URL, or to type in by hand), and when it stops working.
    AppActivation {
        code: String,
        expires_at: OffsetDateTime,
    },
    Totp {
        secret_base32: String,
        otpauth_uri: String,
    },
    /// A code went out by text, call or email (or a call asks for #), to `sent_to` (masked).
    Sent {
        sent_to: String,
        channel: crate::message::Channel,
    },
    /// An imported hardware token: nothing to show (its seed never leaves the server); the
    /// person types one code from the token.
    HardwareToken { serial: String },
    /// WebAuthn creation options for `navigator.credentials.create`.
    WebAuthn { options: serde_json::Value },
}

/// What a method kind needs from its surroundings.
pub struct KindContext<'a> {
    pub rng: &'a dyn Random,
    pub keys: &'a KeyRing,
    pub now: OffsetDateTime,
    /// The organization's name, shown in authenticator apps.
    pub issuer: &'a str,
    /// This server as security keys know it; `None` when the public URL has no domain.
    pub relying_party: Option<&'a security_key::RelyingParty>,
}

/// What a challenge is for, and what it is bound to: a challenge started for one sign-in
/// cannot complete another, nor a step-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    SignIn(FlowId),
    StepUp(SessionId),
    /// Proving a pending method while registering it.
    Register(MethodId),
    Reset(FlowId),
}

impl Purpose {
    pub fn as_str(&self) -> &'static str {
        match self {
            Purpose::SignIn(_) => "sign_in",
            Purpose::StepUp(_) => "step_up",
            Purpose::Register(_) => "register",
            Purpose::Reset(_) => "reset",
        }
    }

    /// The purpose a stored challenge or push request was made for: the inverse of
    /// [`Purpose::as_str`] and [`Purpose::binding`].
    pub fn parse(purpose: &str, binding: &str) -> Option<Purpose> {
        let b = binding;
        match purpose {
            "sign_in" => b.parse().ok().map(Purpose::SignIn),
            "step_up" => b.parse().ok().map(Purpose::StepUp),
            "register" => b.parse().ok().map(Purpose::Register),
            "reset" => b.parse().ok().map(Purpose::Reset),
            _ => None,
        }
    }

    /// The id of what the challenge is bound to.
    pub fn binding(&self) -> String {
        match self {
            Purpose::SignIn(id) | Purpose::Reset(id) => id.to_string(),
            Purpose::StepUp(id) => id.to_string(),
            Purpose::Register(id) => id.to_string(),
        }
    }
}

/// What a person answers to a challenge.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// A code typed from an app, a text, a call or an email.
    Code(String),
    /// A WebAuthn assertion or attestation, as the browser produced it.
    WebAuthn(serde_json::Value),
    /// Answers to security questions: (question id, answer).
    Answers(Vec<(String, String)>),
}

/// What a started challenge tells the client.
#[derive(Debug, Clone, PartialEq)]
pub struct Challenge {
    pub method_id: MethodId,
    pub kind: Kind,
    /// Where a code was sent (masked), for texts, calls and emails.
    pub sent_to: Option<String>,
    /// The number to match in the app, for a push.
    pub number: Option<u8>,
    /// WebAuthn request options for the browser.
    pub webauthn: Option<serde_json::Value>,
    /// Security questions to answer: (id, text).
    pub questions: Option<Vec<(String, String)>>,
}

impl Challenge {
    /// A challenge with nothing to send: the person reads a code from their app.
    pub fn nothing_sent(method: &Method) -> Self {
        Self {
            method_id: method.id,
            kind: method.kind,
            sent_to: None,
            number: None,
            webauthn: None,
            questions: None,
        }
    }
}

/// A code that matched; `step` is the TOTP step, which must never be accepted again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub step: Option<i64>,
    /// Whether an attempt was reserved before the check (see `lockout`). A TOTP code is
    /// checked first, as it costs nothing, and passes the lock-out gate when it is recorded:
    /// one write instead of two on the hot path.
    pub reserved: bool,
}

/// A code as typed: spaces and dashes dropped; digits only, of a sane length.
pub fn normalize_code(raw: &str) -> Option<String> {
    let code: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (code.len() >= 6 && code.len() <= 8 && code.chars().all(|c| c.is_ascii_digit())).then_some(code)
}
