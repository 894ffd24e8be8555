//! Typed ids, so an account id cannot be passed where a method id is expected.
//! They are random (UUID v4 from the injected [`Random`]) and opaque to clients; an audit
//! event's is time-ordered (see [`AuditId::ordered`]).

use crate::random::{self, Random};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new(rng: &dyn Random) -> Self {
                Self(uuid::Builder::from_random_bytes(random::bytes::<16>(rng)).into_uuid())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.as_hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    )*};
}

impl AuditId {
    /// Time-ordered (a UUID v7 of `at`): the audit log's id index then grows at its end, one
    /// page for a whole commit, instead of one random page per event.
    pub fn ordered(rng: &dyn Random, at: time::OffsetDateTime) -> Self {
        let millis = u64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        let random = random::bytes::<10>(rng);
        Self(uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid())
    }
}

id_type!(
    /// An OpenID Connect authorization request waiting for the person to sign in; its id
    /// travels through the sign-in pages.
    RequestId,
    /// The OpenID Connect tokens one code exchange issued, and every refresh since: revoked
    /// as a whole.
    FamilyId,
    /// A person.
    AccountId,
    /// One piece of security info.
    MethodId,
    /// A sign-in in progress.
    FlowId,
    /// A signed-in browser or API client (not its token).
    SessionId,
    /// One audit record.
    AuditId,
    /// One sent code or call (a challenge on a phone or email method).
    ChallengeId,
    /// One outgoing text, call or email in the outbox.
    MessageId,
    /// One app password of a person (for legacy apps).
    AppPasswordId,
    /// One API key an admin issued to a service (`POST /api/v1/verify`).
    ServiceCredentialId,
    /// One notification sent to an authenticator app (a push request).
    PushRequestId,
    /// One forward-authentication access rule.
    ForwardAuthRuleId,
    /// One RADIUS client (a VPN gateway, a Wi-Fi controller) an admin registered.
    RadiusClientId,
);
