//! The server's part of the configuration; the command line layers and validates it.

use std::net::SocketAddr;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The URL people open, e.g. `https://mfa.example.org` (no trailing slash). Cookies are
    /// `Secure` unless this is plain `http://` on a loopback address.
    pub public_url: String,
    /// The address the server listens on (for logs and the default public URL).
    pub listen: SocketAddr,
    /// The organization's name, shown on pages and in authenticator apps.
    pub organization: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Credential requests (sign-in, reset) one address may make per minute, in bursts of as
    /// many; 0 turns the limit off (see `limits`).
    pub sign_in_limit_per_minute: u32,
    /// Forward authentication's cookie goes to this domain and the hosts under it
    /// (`example.org`); `None`: to Tessera's own host only. Return URLs may point there too.
    pub forward_auth_cookie_domain: Option<String>,
    /// The gateways for texts, calls and email (the development `outbox` by default).
    pub delivery: crate::delivery::DeliveryConfig,
    /// Web Push's VAPID contact (`sub`, RFC 8292): a `mailto:` or `https:` URL push services
    /// can reach the operator at; `None`: the public URL.
    pub web_push_subject: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For`/`Forwarded` name the client (`client_addr`);
    /// empty: the peer address is the client's.
    pub trusted_proxies: crate::client_addr::TrustedProxies,
}

impl ServerConfig {
    /// Defaults for a server listening on `listen` over plain HTTP.
    pub fn new(listen: SocketAddr) -> Self {
        Self {
            public_url: format!("http://{listen}"),
            listen,
            organization: "Tessera".into(),
            max_body_bytes: 64 * 1024,
            sign_in_limit_per_minute: crate::limits::DEFAULT_PER_MINUTE,
            forward_auth_cookie_domain: None,
            delivery: crate::delivery::DeliveryConfig::default(),
            web_push_subject: None,
            trusted_proxies: crate::client_addr::TrustedProxies::default(),
        }
    }

    /// Whether people reach the server over HTTPS, so browsers are told to use nothing else
    /// (`Strict-Transport-Security`, `headers.rs`).
    pub fn is_https(&self) -> bool {
        self.public_url
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    }

    /// Whether cookies may go without `Secure`: only plain HTTP on loopback.
    pub fn insecure_loopback(&self) -> bool {
        let Some(rest) = self.public_url.strip_prefix("http://") else {
            return false;
        };
        let host = rest.split('/').next().unwrap_or("");
        let host = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
        host == "localhost" || host == "[::1]" || host.starts_with("127.")
    }
}
