//! Registered clients (relying parties), their validation, and the admin operations on them.
//!
//! A confidential client's secret is 256 random bits that Tessera makes and shows once; the
//! store keeps its SHA-256, as for session tokens. Argon2id is for secrets people choose: a
//! random 256-bit secret cannot be guessed however fast the hash, and a slow hash on every
//! token request would hand anyone who knows a client id a way to load the server.

use super::SigningAlg;
use crate::admin::Admin;
use crate::audit::AuditAction;
use crate::error::{Error, Problem, Result};
use crate::random::{self, Random};
use crate::secret::{self, ct_eq};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// What a client requires of the person's sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// A password and a second factor (the default).
    #[default]
    TwoStep,
    /// A security key or passkey.
    PhishingResistant,
}

impl Requirement {
    pub fn as_str(&self) -> &'static str {
        match self {
            Requirement::TwoStep => "two_step",
            Requirement::PhishingResistant => "phishing_resistant",
        }
    }

    pub fn parse(s: &str) -> Option<Requirement> {
        [Requirement::TwoStep, Requirement::PhishingResistant]
            .into_iter()
            .find(|r| r.as_str() == s)
    }

    /// The `acr` a sign-in must reach for this client.
    pub fn acr(&self) -> super::Acr {
        match self {
            Requirement::TwoStep => super::Acr::TwoStep,
            Requirement::PhishingResistant => super::Acr::PhishingResistant,
        }
    }
}

/// A registered client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    /// SHA-256 of the secret; `None` for a public client (which must use PKCE).
    pub secret_hash: Option<Vec<u8>>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    /// First-party clients get no consent page.
    pub first_party: bool,
    pub requirement: Requirement,
    /// Whether the client may have refresh tokens (`offline_access`).
    pub offline_access: bool,
    pub id_token_alg: SigningAlg,
    pub created_at: OffsetDateTime,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }

    /// Whether `secret` is this client's secret, in constant time. A public client has none.
    pub fn secret_matches(&self, secret: &str) -> bool {
        self.secret_hash
            .as_deref()
            .is_some_and(|hash| ct_eq(hash, &secret::token_hash(secret)))
    }

    /// Exact match, as RFC 9700 §2.1 requires: no prefixes, no wildcards, no normalisation.
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }

    pub fn has_post_logout_redirect_uri(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris.iter().any(|r| r == uri)
    }
}

/// A client as an admin describes it (to create or change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClient {
    pub name: String,
    /// Confidential clients get a secret; public ones (apps in a browser or on a device)
    /// none, and must use PKCE.
    pub confidential: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub first_party: bool,
    pub requirement: Requirement,
    pub offline_access: bool,
    pub id_token_alg: SigningAlg,
}

/// What is wrong with a URI a client registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UriProblem {
    #[error("not an absolute URI")]
    NotAbsolute,
    #[error("must be https (http only for localhost or a loopback address)")]
    NotHttps,
    #[error("must not have a fragment")]
    Fragment,
    #[error("must not carry a user name or password")]
    UserInfo,
}

/// Why a client description is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("a client needs a name")]
    NameRequired,
    #[error("the name is longer than {max} characters")]
    NameTooLong { max: usize },
    #[error("a client needs at least one redirect URI")]
    NoRedirectUri,
    #[error("redirect URI {uri:?}: {problem}")]
    RedirectUri { uri: String, problem: UriProblem },
    #[error("post-logout redirect URI {uri:?}: {problem}")]
    PostLogoutRedirectUri { uri: String, problem: UriProblem },
    #[error("back-channel logout URI {uri:?}: {problem}")]
    BackchannelLogoutUri { uri: String, problem: UriProblem },
}

impl From<ClientError> for Error {
    fn from(e: ClientError) -> Error {
        match e {
            ClientError::NameRequired => Error::bad("name", Problem::Required),
            ClientError::NameTooLong { max } => Error::bad("name", Problem::TooLong { max }),
            ClientError::NoRedirectUri => Error::bad("redirect_uris", Problem::Required),
            ClientError::RedirectUri { .. } => Error::bad("redirect_uris", Problem::Invalid),
            ClientError::PostLogoutRedirectUri { .. } => {
                Error::bad("post_logout_redirect_uris", Problem::Invalid)
            }
            ClientError::BackchannelLogoutUri { .. } => {
                Error::bad("backchannel_logout_uri", Problem::Invalid)
            }
        }
    }
}

pub const NAME_MAX: usize = 100;

/// Checks a URI a client registers: absolute, https (or http on a loopback host, for apps
/// on the person's own machine, RFC 8252 §7.3), without fragment or user info.
pub fn check_uri(uri: &str) -> std::result::Result<(), UriProblem> {
    let parsed = url::Url::parse(uri).map_err(|_| UriProblem::NotAbsolute)?;
    if parsed.cannot_be_a_base() || parsed.host().is_none() {
        return Err(UriProblem::NotAbsolute);
    }
    if parsed.fragment().is_some() || uri.contains('#') {
        return Err(UriProblem::Fragment);
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(UriProblem::UserInfo);
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&parsed) => Ok(()),
        _ => Err(UriProblem::NotHttps),
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl NewClient {
    /// The description checked and tidied (names trimmed).
    pub fn validate(mut self) -> std::result::Result<NewClient, ClientError> {
        self.name = self.name.trim().to_string();
        if self.name.is_empty() {
            return Err(ClientError::NameRequired);
        }
        if self.name.chars().count() > NAME_MAX {
            return Err(ClientError::NameTooLong { max: NAME_MAX });
        }
        if self.redirect_uris.is_empty() {
            return Err(ClientError::NoRedirectUri);
        }
        for uri in &self.redirect_uris {
            check_uri(uri).map_err(|problem| ClientError::RedirectUri {
                uri: uri.clone(),
                problem,
            })?;
        }
        for uri in &self.post_logout_redirect_uris {
            check_uri(uri).map_err(|problem| ClientError::PostLogoutRedirectUri {
                uri: uri.clone(),
                problem,
            })?;
        }
        if let Some(uri) = &self.backchannel_logout_uri {
            check_uri(uri).map_err(|problem| ClientError::BackchannelLogoutUri {
                uri: uri.clone(),
                problem,
            })?;
        }
        dedupe(&mut self.redirect_uris);
        dedupe(&mut self.post_logout_redirect_uris);
        Ok(self)
    }
}

fn dedupe(list: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    list.retain(|s| seen.insert(s.clone()));
}

/// A new client and its secret, shown this once (`None` for a public client).
pub struct CreatedClient {
    pub client: Client,
    pub secret: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for CreatedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedClient")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// A new client id: 128 random bits, base64url (unguessable, though not a secret).
/// 128 random bits in lower-case hex: nothing a command line could take for a flag (a
/// base64url id may begin with `-`), nothing a URL or a config file needs to escape.
pub fn new_client_id(rng: &dyn Random) -> String {
    data_encoding::HEXLOWER.encode(&random::bytes::<16>(rng))
}

impl Admin<'_> {
    /// Registers a client; its secret is in the answer and nowhere else.
    pub async fn create_oidc_client(&self, new: NewClient) -> Result<CreatedClient> {
        let t = self.tessera();
        let new = new.validate()?;
        let secret = new.confidential.then(|| secret::new_token(t.rng.as_ref()));
        let client = Client {
            client_id: new_client_id(t.rng.as_ref()),
            name: new.name,
            secret_hash: secret.as_ref().map(|s| secret::token_hash(s)),
            redirect_uris: new.redirect_uris,
            post_logout_redirect_uris: new.post_logout_redirect_uris,
            backchannel_logout_uri: new.backchannel_logout_uri,
            first_party: new.first_party,
            requirement: new.requirement,
            offline_access: new.offline_access,
            id_token_alg: new.id_token_alg,
            created_at: t.now(),
        };
        let audit = self.audit_about(
            AuditAction::OidcClientCreated,
            json!({ "client_id": client.client_id, "name": client.name }),
        );
        t.store.insert_oidc_client(&client, &audit).await?;
        Ok(CreatedClient { client, secret })
    }

    /// Changes a client's description. Whether it has a secret does not change here
    /// ([`Admin::new_oidc_client_secret`] replaces one).
    pub async fn update_oidc_client(&self, client_id: &str, new: NewClient) -> Result<Client> {
        let t = self.tessera();
        let new = new.validate()?;
        let old = t
            .store
            .oidc_client(client_id)
            .await?
            .ok_or(Error::NotFound)?;
        let client = Client {
            name: new.name,
            redirect_uris: new.redirect_uris,
            post_logout_redirect_uris: new.post_logout_redirect_uris,
            backchannel_logout_uri: new.backchannel_logout_uri,
            first_party: new.first_party,
            requirement: new.requirement,
            offline_access: new.offline_access,
            id_token_alg: new.id_token_alg,
            ..old
        };
        let audit = self.audit_about(
            AuditAction::OidcClientChanged,
            json!({ "client_id": client.client_id }),
        );
        if !t.store.update_oidc_client(&client, &audit).await? {
            return Err(Error::NotFound);
        }
        Ok(client)
    }

    /// Gives a confidential client a new secret (the old one stops working), shown once.
    pub async fn new_oidc_client_secret(&self, client_id: &str) -> Result<CreatedClient> {
        let t = self.tessera();
        let old = t
            .store
            .oidc_client(client_id)
            .await?
            .ok_or(Error::NotFound)?;
        if old.is_public() {
            return Err(Error::bad("client_id", Problem::Invalid));
        }
        let secret = secret::new_token(t.rng.as_ref());
        let client = Client {
            secret_hash: Some(secret::token_hash(&secret)),
            ..old
        };
        let audit = self.audit_about(
            AuditAction::OidcClientChanged,
            json!({ "client_id": client.client_id, "secret": "replaced" }),
        );
        if !t.store.update_oidc_client(&client, &audit).await? {
            return Err(Error::NotFound);
        }
        Ok(CreatedClient {
            client,
            secret: Some(secret),
        })
    }

    /// Removes a client with its codes, tokens and consents.
    pub async fn delete_oidc_client(&self, client_id: &str) -> Result<()> {
        let audit = self.audit_about(
            AuditAction::OidcClientDeleted,
            json!({ "client_id": client_id }),
        );
        match self
            .tessera()
            .store
            .delete_oidc_client(client_id, &audit)
            .await?
        {
            true => Ok(()),
            false => Err(Error::NotFound),
        }
    }

    pub async fn oidc_clients(&self) -> Result<Vec<Client>> {
        Ok(self.tessera().store.oidc_clients().await?)
    }

    pub async fn oidc_client(&self, client_id: &str) -> Result<Client> {
        self.tessera()
            .store
            .oidc_client(client_id)
            .await?
            .ok_or(Error::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(uris: &[&str]) -> NewClient {
        NewClient {
            name: " Wiki ".into(),
            confidential: true,
            redirect_uris: uris.iter().map(|s| s.to_string()).collect(),
            post_logout_redirect_uris: vec![],
            backchannel_logout_uri: None,
            first_party: true,
            requirement: Requirement::TwoStep,
            offline_access: false,
            id_token_alg: SigningAlg::Es256,
        }
    }

    #[test]
    fn redirect_uris_must_be_https_or_loopback_without_fragment() {
        assert_eq!(check_uri("https://wiki.example.com/cb?x=1"), Ok(()));
        assert_eq!(check_uri("http://127.0.0.1:8080/cb"), Ok(()));
        assert_eq!(check_uri("http://[::1]/cb"), Ok(()));
        assert_eq!(check_uri("http://localhost/cb"), Ok(()));
        assert_eq!(
            check_uri("http://wiki.example.com/cb"),
            Err(UriProblem::NotHttps)
        );
        assert_eq!(check_uri("/cb"), Err(UriProblem::NotAbsolute));
        assert_eq!(check_uri("mailto:a@b.c"), Err(UriProblem::NotAbsolute));
        assert_eq!(
            check_uri("https://wiki.example.com/cb#x"),
            Err(UriProblem::Fragment)
        );
        assert_eq!(
            check_uri("https://wiki.example.com/cb#"),
            Err(UriProblem::Fragment)
        );
        assert_eq!(
            check_uri("https://u:p@wiki.example.com/cb"),
            Err(UriProblem::UserInfo)
        );
        assert_eq!(
            check_uri("ftp://wiki.example.com/"),
            Err(UriProblem::NotHttps)
        );
    }

    #[test]
    fn a_new_client_is_validated() {
        let ok = new(&["https://a.example/cb", "https://a.example/cb"])
            .validate()
            .expect("valid");
        assert_eq!(ok.name, "Wiki");
        assert_eq!(ok.redirect_uris.len(), 1);
        assert_eq!(new(&[]).validate(), Err(ClientError::NoRedirectUri));
        let mut nameless = new(&["https://a.example/cb"]);
        nameless.name = "  ".into();
        assert_eq!(nameless.validate(), Err(ClientError::NameRequired));
        assert!(matches!(
            new(&["http://a.example/cb"]).validate(),
            Err(ClientError::RedirectUri {
                problem: UriProblem::NotHttps,
                ..
            })
        ));
        let mut logout = new(&["https://a.example/cb"]);
        logout.backchannel_logout_uri = Some("https://a.example/bc#f".into());
        assert!(matches!(
            logout.validate(),
            Err(ClientError::BackchannelLogoutUri { .. })
        ));
    }

    #[test]
    fn redirect_uris_match_exactly() {
        let client = Client {
            client_id: "c".into(),
            name: "n".into(),
            secret_hash: Some(secret::token_hash("s3cret")),
            redirect_uris: vec!["https://a.example/cb".into()],
            post_logout_redirect_uris: vec![],
            backchannel_logout_uri: None,
            first_party: true,
            requirement: Requirement::TwoStep,
            offline_access: false,
            id_token_alg: SigningAlg::Es256,
            created_at: OffsetDateTime::UNIX_EPOCH,
        };
        assert!(client.has_redirect_uri("https://a.example/cb"));
        for other in [
            "https://a.example/cb/",
            "https://a.example/cb?x=1",
            "https://A.example/cb",
            "https://a.example/c",
            "https://a.example:443/cb",
        ] {
            assert!(!client.has_redirect_uri(other), "{other}");
        }
        assert!(client.secret_matches("s3cret"));
        assert!(!client.secret_matches("s3cret "));
        assert!(!client.is_public());
    }
}
