//! The errors a person or client can see, and the store's own errors.
//!
//! [`Error`]'s variants are API.md's error codes (`InvalidCode` ↔ `invalid_code`); the server
//! maps each to a status code and a translated message in one place. Internal failures never
//! carry text meant for clients.

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Wrong password or unknown user: deliberately indistinguishable.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("invalid code")]
    InvalidCode,
    /// The flow, challenge or pending registration is past its lifetime.
    #[error("expired")]
    Expired,
    /// Too many wrong codes in a row; try again after `retry_after` seconds.
    #[error("locked for {retry_after} s")]
    Locked { retry_after: u64 },
    #[error("rate limited for {retry_after} s")]
    RateLimited { retry_after: u64 },
    /// A change to security info needs a second factor verified within the step-up window.
    #[error("step-up required")]
    StepUpRequired,
    #[error("not allowed: {0:?}")]
    NotAllowed(NotAllowed),
    #[error("not found")]
    NotFound,
    #[error("bad request: {field} {problem:?}")]
    BadRequest {
        field: &'static str,
        problem: Problem,
    },
    /// No session, or an expired or revoked one.
    #[error("unauthorized")]
    Unauthorized,
    /// A text, call or email could not be delivered, after every retry.
    #[error("delivery failed")]
    DeliveryFailed,
    /// The organization's directory could not be reached or did not answer in time: "try
    /// again later". Never a wrong password, never a 500 (docs/design/directory.md).
    /// `detail` is for the log only (a timeout, a refused connection, TLS).
    #[error("the directory is unavailable: {detail}")]
    DirectoryUnavailable { detail: String },
    /// The organization's directory said no: its password policy (too short, reused, too
    /// young), or a locked, disabled or expired entry. `reason` is the directory's own text;
    /// the server words it in the person's language (`directory::Refusal`). Nothing changed.
    #[error("the directory refused: {reason}")]
    DirectoryRefused { reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal: {0:?}")]
    Internal(Internal),
}

impl Error {
    /// The API.md code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidCredentials => "invalid_credentials",
            Error::InvalidCode => "invalid_code",
            Error::Expired => "expired",
            Error::Locked { .. } => "locked",
            Error::RateLimited { .. } => "rate_limited",
            Error::StepUpRequired => "step_up_required",
            Error::NotAllowed(_) => "not_allowed",
            Error::NotFound => "not_found",
            Error::BadRequest { .. } => "bad_request",
            Error::Unauthorized => "unauthorized",
            Error::DeliveryFailed => "delivery_failed",
            Error::DirectoryUnavailable { .. } => "directory_unavailable",
            Error::DirectoryRefused { .. } => "directory_refused",
            Error::Store(_) | Error::Internal(_) => "internal",
        }
    }

    pub fn bad(field: &'static str, problem: Problem) -> Self {
        Error::BadRequest { field, problem }
    }
}

/// Failures that are ours, not the client's; logged, answered with a generic 500.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Internal {
    PasswordParams,
    PasswordHash,
    /// A sealed secret did not open: wrong key file, or damaged data.
    Unseal,
    Totp,
    /// webauthn-rs refused to start a ceremony, or its state did not (de)serialize.
    WebAuthn,
    /// An OpenID Connect signing key could not be made, read or used.
    Signing,
}

/// Why a policy or permission refuses an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAllowed {
    /// The policy does not allow this kind of method (for this purpose).
    KindNotAllowed,
    /// This kind exists in the API but this server cannot register it yet.
    KindUnavailable,
    AccountDisabled,
    /// A registration-limited session may only register security info.
    RegistrationOnly,
    /// The method is pending or of a kind that is not a sign-in factor.
    MethodNotUsable,
    AdminOnly,
    /// The policy does not allow phone numbers of this country or region.
    CountryNotAllowed,
    /// The policy lists the security key models it accepts, and this key is not one.
    AuthenticatorModel,
    /// An admin set a temporary password: the person chooses a new one before anything else.
    PasswordChangeRequired,
    /// The policy does not offer self-service password reset.
    ResetDisabled,
    /// A new password is set only once every gate of the reset is passed.
    ResetGatesPending,
    /// The person has used every skip of the registration interrupt the policy allows.
    NoSkipsLeft,
    /// An admin may not lock themselves out (disable, sign out, reset their own account)
    /// through the admin API; another admin, or the local command line, can.
    OwnAccount,
    /// The policy wants a notification approved in the app, not its code typed.
    NotificationRequired,
    /// The account's password is the organization's directory's: it is set there (or by the
    /// person's own reset or change), never by an admin in Tessera.
    DirectoryPassword,
}

impl NotAllowed {
    /// The translation key suffix.
    pub fn key(&self) -> &'static str {
        match self {
            NotAllowed::KindNotAllowed => "kind-not-allowed",
            NotAllowed::KindUnavailable => "kind-unavailable",
            NotAllowed::AccountDisabled => "account-disabled",
            NotAllowed::RegistrationOnly => "registration-only",
            NotAllowed::MethodNotUsable => "method-not-usable",
            NotAllowed::AdminOnly => "admin-only",
            NotAllowed::AuthenticatorModel => "authenticator-model",
            NotAllowed::PasswordChangeRequired => "password-change-required",
            NotAllowed::CountryNotAllowed => "country-not-allowed",
            NotAllowed::ResetDisabled => "reset-disabled",
            NotAllowed::ResetGatesPending => "reset-gates-pending",
            NotAllowed::NoSkipsLeft => "no-skips-left",
            NotAllowed::NotificationRequired => "notification-required",
            NotAllowed::DirectoryPassword => "directory-password",
            NotAllowed::OwnAccount => "own-account",
        }
    }
}

/// What is wrong with a field of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Required,
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
    Invalid,
    Taken,
    /// A password on the list of common passwords, or one containing the username.
    Banned,
    SameAsCurrent,
    /// The same value twice where each must differ (a question asked twice, equal answers).
    Duplicate,
    /// A list of the wrong length (security questions: the policy's number).
    WrongCount {
        expected: usize,
    },
}

impl Problem {
    /// The translation key suffix.
    pub fn key(&self) -> &'static str {
        match self {
            Problem::Required => "required",
            Problem::TooShort { .. } => "too-short",
            Problem::TooLong { .. } => "too-long",
            Problem::Invalid => "invalid",
            Problem::Taken => "taken",
            Problem::Banned => "banned",
            Problem::SameAsCurrent => "same-as-current",
            Problem::Duplicate => "duplicate",
            Problem::WrongCount { .. } => "wrong-count",
        }
    }
}

/// Failures of the storage layer. Backend details stay inside `Backend`'s source, for logs.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint was hit (the name says which).
    #[error("conflict on {0}")]
    Conflict(&'static str),
    #[error("stored data is not readable: {0}")]
    Corrupt(&'static str),
    #[error("the database schema is version {found}, newer than this binary's {supported}")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("store backend")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}
