//! Tessera's domain: accounts, their security info (methods), the organization's policy, and
//! the flows that use them (sign-in, registration, step-up).
//!
//! No I/O lives here. Time comes from a [`Clock`], randomness from a [`Random`], storage from
//! a [`Store`] and password hashing from a [`PasswordHasher`]; the server and the tests supply
//! them, so every rule (TOTP windows, lockouts, expiry) can be tested on a fake clock.

pub mod account;
pub mod admin;
pub mod app_passwords;
pub mod audit;
pub mod challenge;
pub mod clock;
pub mod directory;
pub mod directory_offers;
pub mod error;
pub mod flow;
pub mod forward_auth;
pub mod groups;
pub mod ids;
pub mod import;
pub mod key_rotation;
pub mod lockout;
pub mod message;
pub mod method;
pub mod oidc;
pub mod password;
pub mod password_change;
pub mod password_guesses;
pub mod policy;
pub mod radius;
pub mod random;
pub mod secret;
pub mod service;
pub mod session;
pub mod store;
pub mod verify_api;
pub mod web_push;

pub use account::{Account, AccountStatus};
pub use audit::{AuditAction, AuditEvent, RequestContext, RequestLanguage};
pub use clock::{Clock, FakeClock, SystemClock};
pub use error::{Error, Internal, NotAllowed, Problem, Result, StoreError};
pub use ids::{
    AccountId, AppPasswordId, AuditId, ChallengeId, FlowId, ForwardAuthRuleId, MessageId, MethodId,
    PushRequestId, ServiceCredentialId, SessionId,
};
pub use method::{Kind, Method, MethodStatus};
pub use password::{Argon2Passwords, PasswordHasher};
pub use policy::Policy;
pub use random::{OsRandom, Random};
pub use secret::KeyRing;
pub use service::Tessera;
pub use session::{Session, SessionKind};
pub use store::Store;
