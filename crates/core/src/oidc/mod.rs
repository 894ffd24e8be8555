//! Tessera as an OpenID Connect provider: the rules, without HTTP (docs/design/oidc.md).
//!
//! - [`client`]: registered clients (relying parties) and their validation; created, changed
//!   and removed through [`Admin`](crate::admin::Admin).
//! - [`keys`]: the signing keys (ES256 and RS256), sealed under the key ring in the store so
//!   every node signs with the same ones; the JWKS; rotation.
//! - [`authorize`]: an authorization request checked against its client, kept in the store
//!   while the person signs in, and the single-use code it ends in.
//! - [`token`]: the token endpoint's grants (code, refresh token), ID token claims, access
//!   and refresh tokens, revocation and introspection.
//! - [`consent`]: what a person granted a third-party client.
//! - [`logout`]: RP-initiated logout, and back-channel logout when a session ends.
//!
//! Every secret a client or person holds (client secrets, codes, access and refresh tokens)
//! is 256 random bits, and the store keeps only its SHA-256, as it does for sessions.

pub mod authorize;
pub mod client;
pub mod consent;
mod jose;
pub mod keys;
pub mod logout;
pub mod token;

pub use authorize::{
    Authentication, AuthorizationCode, AuthorizationRequest, AuthorizeError, AuthorizeParams,
    Decision, PageError, Prompt, ResponseMode,
};
pub use client::{Client, ClientError, CreatedClient, NewClient, Requirement, UriProblem};
pub use consent::Consent;
pub use keys::{KeyError, SigningAlg, StoredKey};
pub use logout::{LogoutDelivery, LogoutParams, LogoutPlan, LogoutTokenClaims};
pub use token::{
    ClientCredentials, IdTokenClaims, Introspection, OidcToken, TokenError, TokenKind,
    TokenResponse,
};

use serde::{Deserialize, Serialize};
use std::fmt;
use time::Duration;

/// A pending authorization request lives this long while the person signs in.
pub const REQUEST_TTL: Duration = Duration::minutes(10);
/// An authorization code: 60 s, once.
pub const CODE_TTL: Duration = Duration::seconds(60);
/// ID tokens and access tokens.
pub const ID_TOKEN_TTL: Duration = Duration::hours(1);
pub const ACCESS_TOKEN_TTL: Duration = Duration::hours(1);
/// A refresh token; each use replaces it with a new one of the same lifetime.
pub const REFRESH_TOKEN_TTL: Duration = Duration::days(30);
/// A retired signing key stays in the JWKS this long: every ID token it signed has expired
/// by then (access tokens are opaque, not signed), with five minutes for clocks that differ.
pub const KEY_RETENTION: Duration = Duration::minutes(65);

/// The scope every OpenID Connect request carries.
pub const SCOPE_OPENID: &str = "openid";
/// The scope that asks for a refresh token.
pub const SCOPE_OFFLINE_ACCESS: &str = "offline_access";
/// Asks for the account's groups in the ID token and userinfo (`crate::groups`).
pub const SCOPE_GROUPS: &str = "groups";

pub use crate::ids::{FamilyId, RequestId};

/// Scopes as a set, in the order first given, without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// Parses a space-separated `scope` parameter. `None` when a scope token holds a
    /// character RFC 6749 §3.3 does not allow.
    pub fn parse(text: &str) -> Option<Scopes> {
        let mut out: Vec<String> = Vec::new();
        for s in text.split(' ').filter(|s| !s.is_empty()) {
            let allowed =
                |c: char| c == '!' || ('#'..='[').contains(&c) || (']'..='~').contains(&c);
            if !s.chars().all(allowed) {
                return None;
            }
            if !out.iter().any(|o| o == s) {
                out.push(s.to_string());
            }
        }
        Some(Scopes(out))
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    /// Whether every scope of `self` is in `other`.
    pub fn is_subset_of(&self, other: &Scopes) -> bool {
        self.0.iter().all(|s| other.contains(s))
    }

    /// Without `scope`.
    pub fn without(&self, scope: &str) -> Scopes {
        Scopes(self.0.iter().filter(|s| *s != scope).cloned().collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

/// The `acr` values Tessera states (and lists in its discovery document).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Acr {
    #[serde(rename = "urn:tessera:acr:two_step")]
    TwoStep,
    #[serde(rename = "urn:tessera:acr:phishing_resistant")]
    PhishingResistant,
}

impl Acr {
    pub const ALL: [Acr; 2] = [Acr::TwoStep, Acr::PhishingResistant];

    pub fn as_str(&self) -> &'static str {
        match self {
            Acr::TwoStep => "urn:tessera:acr:two_step",
            Acr::PhishingResistant => "urn:tessera:acr:phishing_resistant",
        }
    }

    pub fn parse(s: &str) -> Option<Acr> {
        Acr::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Whether a sign-in of this level satisfies `needed`.
    pub fn satisfies(&self, needed: Acr) -> bool {
        *self == Acr::PhishingResistant || needed == Acr::TwoStep
    }
}

/// The `amr` values (RFC 8176) and `acr` of a sign-in that used a password and the given
/// second factor (`None`: a password only, as a session kept from before a second factor).
pub fn amr_for(second_factor: Option<crate::method::Kind>) -> (Vec<String>, Option<Acr>) {
    let (extra, acr) = proof_of(second_factor);
    let mut amr = vec!["pwd".to_string()];
    amr.extend(extra.iter().map(|s| s.to_string()));
    if acr.is_some() {
        amr.push("mfa".to_string());
    }
    (amr, acr)
}

/// The `acr` alone, without building the `amr` list: the forward-auth check asks this on
/// every request.
pub fn acr_for(second_factor: Option<crate::method::Kind>) -> Option<Acr> {
    proof_of(second_factor).1
}

/// The `amr` values beyond `pwd` (and `mfa`), and the `acr`, of a second factor.
fn proof_of(second_factor: Option<crate::method::Kind>) -> (&'static [&'static str], Option<Acr>) {
    use crate::method::Kind;
    match second_factor {
        None => (&[], None),
        Some(Kind::AuthenticatorApp | Kind::AuthenticatorCode) => (&["otp"], Some(Acr::TwoStep)),
        Some(Kind::PhoneMobile) => (&["sms"], Some(Acr::TwoStep)),
        Some(Kind::PhoneAlternate | Kind::PhoneOffice) => (&["tel"], Some(Acr::TwoStep)),
        Some(Kind::SecurityKey) => (&["hwk", "user", "pin"], Some(Acr::PhishingResistant)),
        Some(Kind::Email | Kind::RecoveryCodes | Kind::TemporaryAccessPass) => {
            (&["otp"], Some(Acr::TwoStep))
        }
        Some(Kind::SecurityQuestions) => (&["kba"], Some(Acr::TwoStep)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_dedupe_and_refuse_bad_characters() {
        let s = Scopes::parse("openid  email openid").expect("valid");
        assert_eq!(s.to_string(), "openid email");
        assert!(s.contains("email") && !s.contains("profile"));
        assert!(Scopes::parse("openid \"x\"").is_none());
        assert!(
            Scopes::parse("openid email")
                .expect("valid")
                .is_subset_of(&s)
        );
    }

    #[test]
    fn amr_says_what_was_proved() {
        use crate::method::Kind;
        assert_eq!(
            amr_for(Some(Kind::SecurityKey)),
            (
                vec!["pwd", "hwk", "user", "pin", "mfa"]
                    .into_iter()
                    .map(String::from)
                    .collect(),
                Some(Acr::PhishingResistant)
            )
        );
        assert_eq!(amr_for(None), (vec!["pwd".to_string()], None));
        assert!(Acr::PhishingResistant.satisfies(Acr::TwoStep));
        assert!(!Acr::TwoStep.satisfies(Acr::PhishingResistant));
    }
}
