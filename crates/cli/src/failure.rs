//! How a command fails: one clear line for a person, and the exit code scripts branch on
//! (2 when the command, its input or the configuration is wrong; 1 when doing it failed).

use std::fmt;
use std::process::ExitCode;
use tessera_core::Error;
use tessera_core::error::{Internal, NotAllowed, Problem};

#[derive(Debug)]
pub enum Failure {
    /// The arguments, the input or the configuration are wrong: fixing them helps. Exit 2.
    Usage(String),
    /// Doing it failed (the database, the disk, the network). Exit 1.
    Runtime(String),
}

pub type Outcome<T = ()> = Result<T, Failure>;

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Failure::Usage(message.into())
    }

    pub fn runtime(message: impl Into<String>) -> Self {
        Failure::Runtime(message.into())
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Usage(_) => ExitCode::from(2),
            Failure::Runtime(_) => ExitCode::from(1),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(m) | Failure::Runtime(m) => f.write_str(m),
        }
    }
}

/// An error and its sources on one line (`connecting: connection refused`), because a
/// backend's own message usually sits in the source, not in the top-level text.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = e.source();
    }
    out
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        match error {
            Error::BadRequest { field, problem } => {
                Failure::Usage(format!("{field}: {}", problem_sentence(field, problem)))
            }
            Error::NotFound => Failure::usage("not found"),
            Error::NotAllowed(why) => Failure::Usage(not_allowed_sentence(why).into()),
            Error::InvalidCredentials => Failure::usage("wrong username or password"),
            Error::InvalidCode => Failure::usage("the code is not valid"),
            Error::Expired => Failure::usage("it expired; start again"),
            Error::Locked { retry_after } => Failure::Usage(format!(
                "locked after too many wrong codes; try again in {retry_after} s"
            )),
            Error::RateLimited { retry_after } => {
                Failure::Usage(format!("too many requests; try again in {retry_after} s"))
            }
            Error::StepUpRequired => Failure::usage("a recent second factor is required"),
            Error::Unauthorized => Failure::usage("not signed in, or the session ended"),
            Error::DeliveryFailed => {
                Failure::runtime("the text, call or email could not be delivered")
            }
            Error::DirectoryUnavailable { detail } => Failure::Runtime(format!(
                "the directory cannot be reached ({detail}); try again later"
            )),
            Error::DirectoryRefused { reason } => {
                Failure::Runtime(format!("the directory refused: {reason}"))
            }
            Error::Store(e) => Failure::Runtime(format!("database: {}", chain(&e))),
            Error::Internal(what) => Failure::Runtime(internal_sentence(what).into()),
        }
    }
}

fn problem_sentence(field: &str, problem: Problem) -> String {
    match (field, problem) {
        ("password", Problem::Banned) => {
            "this password is too common or contains the username".into()
        }
        (_, Problem::Banned) => "this value is not allowed".into(),
        ("username", Problem::Taken) => "an account with this username already exists".into(),
        (_, Problem::Taken) => "this value is already taken".into(),
        (_, Problem::Required) => "a value is required".into(),
        (_, Problem::TooShort { min }) => format!("must be at least {min} characters long"),
        (_, Problem::TooLong { max }) => format!("must be at most {max} characters long"),
        ("username", Problem::Invalid) => {
            "may not contain spaces, control characters or `/`".into()
        }
        ("email", Problem::Invalid) => "is not an email address like alice@example.org".into(),
        ("display_name", Problem::Invalid) => "may not contain control characters".into(),
        (_, Problem::Invalid) => "is not valid".into(),
        (_, Problem::SameAsCurrent) => "is the same as the current one".into(),
        (_, Problem::Duplicate) => "holds the same value twice; each must differ".into(),
        (_, Problem::WrongCount { expected }) => format!("must hold exactly {expected} items"),
    }
}

fn not_allowed_sentence(why: NotAllowed) -> &'static str {
    match why {
        NotAllowed::KindNotAllowed => "the policy does not allow this kind of method",
        NotAllowed::KindUnavailable => "this server cannot register this kind of method yet",
        NotAllowed::AccountDisabled => "the account is disabled",
        NotAllowed::RegistrationOnly => "this session may only register security info",
        NotAllowed::MethodNotUsable => "this method cannot be used for this",
        NotAllowed::AdminOnly => "only an administrator may do this",
        NotAllowed::CountryNotAllowed => {
            "the policy does not allow phone numbers of this country or region"
        }
        NotAllowed::AuthenticatorModel => "the policy does not accept this security key model",
        NotAllowed::PasswordChangeRequired => "a new password must be chosen first",
        NotAllowed::ResetDisabled => "the policy does not offer self-service password reset",
        NotAllowed::ResetGatesPending => "every step of the password reset must be passed first",
        NotAllowed::NoSkipsLeft => "registering security info can no longer be skipped",
        NotAllowed::NotificationRequired => {
            "the policy requires approving a notification in the app, not typing its code"
        }
        NotAllowed::DirectoryPassword => {
            "this account's password is the directory's: set it in the directory"
        }
        NotAllowed::OwnAccount => "an administrator cannot do this to their own account",
    }
}

fn internal_sentence(what: Internal) -> &'static str {
    match what {
        Internal::PasswordParams => "the password hashing parameters are not valid",
        Internal::PasswordHash => "hashing the password failed",
        Internal::Unseal => {
            "a sealed secret did not open: the master key file is not the one it was sealed \
             with, or the data is damaged"
        }
        Internal::Totp => "the authenticator secret is not usable",
        Internal::WebAuthn => "the security key ceremony could not be prepared or stored",
        Internal::Signing => "an OpenID Connect signing key could not be made, read or used",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_banned_password_reads_as_a_sentence() {
        let f = Failure::from(Error::bad("password", Problem::Banned));
        assert_eq!(
            f.to_string(),
            "password: this password is too common or contains the username"
        );
        assert_eq!(f.exit_code(), ExitCode::from(2));
    }

    #[test]
    fn store_failures_are_runtime_failures() {
        let f = Failure::from(Error::Store(tessera_core::StoreError::Corrupt("policy")));
        assert_eq!(f.exit_code(), ExitCode::from(1));
        assert!(f.to_string().starts_with("database: "), "{f}");
    }
}
