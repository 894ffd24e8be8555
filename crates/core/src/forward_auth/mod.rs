//! Forward authentication: a reverse proxy (nginx `auth_request`, Traefik `ForwardAuth`,
//! Caddy `forward_auth`) asks Tessera about every request to a protected site, and Tessera
//! answers from the person's session and the admin's access rules (issue #16).
//!
//! - [`request`]: the URL the proxy asks about, normalized so a rule cannot be bypassed by
//!   how the path is written.
//! - [`return_to`]: the URL a person goes back to after signing in, never an open redirect.
//! - [`service`]: the admin's rule operations, the proxy's check and the start page's
//!   decision, on `Tessera`.
//! - here: the access rules and [`decide`], a pure function of the rules, the request and
//!   what the session proved.

pub mod cache;
pub mod denials;
pub mod request;
pub mod return_to;
pub mod service;

pub use request::{RequestError, Requested};
pub use return_to::safe_return_url;
pub use service::{Checked, NewRule, RemoteUser, RuleError, Start};

use crate::oidc::Acr;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// What a rule asks of the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// No sign-in at all (a public page, a health check).
    Bypass,
    /// A password alone; refused unless the policy allows it.
    OneFactor,
    /// A password and a second factor (the default).
    TwoFactor,
    /// A security key or passkey.
    PhishingResistant,
}

impl Level {
    pub const ALL: [Level; 4] = [
        Level::Bypass,
        Level::OneFactor,
        Level::TwoFactor,
        Level::PhishingResistant,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Level::Bypass => "bypass",
            Level::OneFactor => "one_factor",
            Level::TwoFactor => "two_factor",
            Level::PhishingResistant => "phishing_resistant",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// A host name or `*.` and a domain (any host under it, not the domain itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DomainPattern {
    /// Lower case, IDNA `xn--` form, without the `*.`.
    domain: String,
    wildcard: bool,
}

impl DomainPattern {
    /// `None` unless it is a host name (or `*.` and one): letters, digits, `-` and dots;
    /// Unicode names are stored in their IDNA form.
    pub fn parse(text: &str) -> Option<DomainPattern> {
        let text = text.trim();
        let (wildcard, name) = match text.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        // Only name characters reach the URL parser, which would otherwise read `a/b` as the
        // host `a` with a path.
        if !name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.')
        {
            return None;
        }
        let url = url::Url::parse(&format!("https://{name}/")).ok()?;
        let Some(url::Host::Domain(domain)) = url.host() else {
            return None;
        };
        let domain = domain.to_ascii_lowercase();
        let valid = !domain.is_empty()
            && domain.len() <= 253
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        valid.then_some(DomainPattern { domain, wildcard })
    }

    /// `host` as [`Requested::host`] gives it (lower case, IDNA).
    pub fn matches(&self, host: &str) -> bool {
        if self.wildcard {
            host.strip_suffix(&self.domain)
                .and_then(|sub| sub.strip_suffix('.'))
                .is_some_and(|sub| !sub.is_empty())
        } else {
            host == self.domain
        }
    }
}

impl TryFrom<String> for DomainPattern {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        DomainPattern::parse(&s).ok_or_else(|| format!("not a domain: {s:?}"))
    }
}

impl From<DomainPattern> for String {
    fn from(d: DomainPattern) -> String {
        d.to_string()
    }
}

impl std::fmt::Display for DomainPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.wildcard {
            f.write_str("*.")?;
        }
        f.write_str(&self.domain)
    }
}

/// A path, or a prefix ending in `*`: `/admin/*` is everything under `/admin/` (and `/admin`
/// itself); `/healthz` is that path only. Matched against the normalized path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PathPattern(String);

impl PathPattern {
    pub fn parse(text: &str) -> Option<PathPattern> {
        let text = text.trim();
        let body = text.strip_suffix('*').unwrap_or(text);
        let valid = text.starts_with('/')
            && !body.contains('*')
            // Written as it will be compared: already normalized.
            && request::normalize_path(body).is_ok_and(|n| n == body);
        valid.then(|| PathPattern(text.to_string()))
    }

    pub fn matches(&self, path: &str) -> bool {
        match self.0.strip_suffix('*') {
            Some(prefix) => {
                path.starts_with(prefix)
                    || prefix
                        .strip_suffix('/')
                        .is_some_and(|dir| !dir.is_empty() && path == dir)
            }
            None => path == self.0,
        }
    }
}

impl TryFrom<String> for PathPattern {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        PathPattern::parse(&s).ok_or_else(|| format!("not a path pattern: {s:?}"))
    }
}

impl From<PathPattern> for String {
    fn from(p: PathPattern) -> String {
        p.0
    }
}

/// One access rule. Rules are tried in order; the first whose domains and paths match
/// decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub domains: Vec<DomainPattern>,
    /// Empty: every path.
    pub paths: Vec<PathPattern>,
    pub level: Level,
    /// Empty: every account; otherwise accounts in one of these groups.
    pub groups: Vec<String>,
    /// How old the second factor may be (a fresh step-up for sensitive paths).
    pub max_age: Option<Duration>,
}

impl Rule {
    pub fn matches(&self, request: &Requested) -> bool {
        self.domains.iter().any(|d| d.matches(&request.host))
            && (self.paths.is_empty() || self.paths.iter().any(|p| p.matches(&request.path)))
    }
}

/// What a session proved, as far as the rules care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proven {
    /// `None`: a password only.
    pub acr: Option<Acr>,
    pub second_factor_at: Option<OffsetDateTime>,
    pub groups: Vec<String>,
}

/// The answer to the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Let the request through (rule `rule`, by index).
    Allow { rule: usize },
    /// Nobody is signed in: send them to sign in (or answer 401).
    SignIn { rule: usize },
    /// Signed in, but the rule wants more (a fresher or stronger second factor).
    StepUp { rule: usize, level: Level },
    /// Signed in, and this person may not: not in the rule's groups, or one-factor access
    /// the policy does not allow.
    Forbidden { rule: usize },
    /// No rule matches: denied, whoever asks.
    NoRule,
}

/// The first matching rule's answer for `request`, given what the session proved (`None`:
/// no session).
pub fn decide(
    rules: &[Rule],
    request: &Requested,
    session: Option<&Proven>,
    one_factor_allowed: bool,
    now: OffsetDateTime,
) -> Verdict {
    let Some((rule, r)) = rules.iter().enumerate().find(|(_, r)| r.matches(request)) else {
        return Verdict::NoRule;
    };
    if r.level == Level::Bypass {
        return Verdict::Allow { rule };
    }
    let Some(proven) = session else {
        return Verdict::SignIn { rule };
    };
    if !r.groups.is_empty() && !r.groups.iter().any(|g| proven.groups.contains(g)) {
        return Verdict::Forbidden { rule };
    }
    let needed = match r.level {
        Level::OneFactor if !one_factor_allowed => return Verdict::Forbidden { rule },
        Level::OneFactor => return Verdict::Allow { rule },
        Level::TwoFactor | Level::Bypass => Acr::TwoStep,
        Level::PhishingResistant => Acr::PhishingResistant,
    };
    let strong_enough = proven.acr.is_some_and(|acr| acr.satisfies(needed));
    let fresh = match (r.max_age, proven.second_factor_at) {
        (None, _) => true,
        (Some(max), Some(at)) => now - at <= max,
        (Some(_), None) => false,
    };
    if strong_enough && fresh {
        Verdict::Allow { rule }
    } else {
        Verdict::StepUp {
            rule,
            level: r.level,
        }
    }
}

#[cfg(test)]
mod tests;
