//! Where a person goes back to after signing in for a protected site: only a URL on a domain
//! Tessera protects, so the sign-in page can never become an open redirect.
//!
//! The URL must be absolute, `https` (or `http` on a loopback host, for trying things out),
//! without user info, and its host (after IDNA, so a Cyrillic look-alike is a different
//! `xn--` host) must match a domain an access rule or the configuration names. Anything
//! else — `//evil.example`, `https://example.org.evil.example`, `\\evil`,
//! `https://example.org@evil.example`, percent-encoded tricks — is refused, and the caller
//! sends the person to their security info instead.

use super::DomainPattern;
use super::request::URL_MAX;

/// The URL to send the person back to, as Tessera re-serialized it; `None` when it is not
/// one of `domains`'.
pub fn safe_return_url(raw: &str, domains: &[DomainPattern]) -> Option<String> {
    if raw.is_empty() || raw.len() > URL_MAX {
        return None;
    }
    // Browsers read `\` as `/` and skip tabs and newlines; the parser here need not agree.
    if raw
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return None;
    }
    let url = url::Url::parse(raw).ok()?;
    if !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    let host = match url.host()? {
        url::Host::Domain(d) => d.to_ascii_lowercase(),
        url::Host::Ipv4(ip) if ip.is_loopback() => ip.to_string(),
        url::Host::Ipv6(ip) if ip.is_loopback() => format!("[{ip}]"),
        _ => return None,
    };
    let loopback = host == "localhost" || host == "127.0.0.1" || host == "[::1]";
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return None,
    }
    domains
        .iter()
        .any(|d| d.matches(&host))
        .then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domains() -> Vec<DomainPattern> {
        ["example.org", "*.example.org", "localhost"]
            .iter()
            .map(|d| DomainPattern::parse(d).unwrap())
            .collect()
    }

    #[test]
    fn a_url_on_a_protected_domain_comes_back() {
        let d = domains();
        assert_eq!(
            safe_return_url("https://wiki.example.org/page?x=1#top", &d).as_deref(),
            Some("https://wiki.example.org/page?x=1#top")
        );
        assert!(safe_return_url("https://example.org/", &d).is_some());
        assert!(safe_return_url("https://WIKI.EXAMPLE.ORG/", &d).is_some());
        assert!(safe_return_url("http://localhost:3000/", &d).is_some());
    }

    #[test]
    fn the_usual_tricks_are_refused() {
        let d = domains();
        for raw in [
            "//evil.example",
            "//evil.example/https://wiki.example.org/",
            "/relative/path",
            "https://example.org.evil.example/",
            "https://evil.example/?https://wiki.example.org/",
            "https://wiki.example.org@evil.example/",
            "https://evil.example@wiki.example.org/",
            "https://wiki.example.org%40evil.example/",
            "https://evil.example%2F@wiki.example.org/",
            "\\\\evil.example",
            "https:\\\\evil.example",
            "https://wiki.example.org\\@evil.example/",
            "/\\evil.example",
            "https://еxample.org/",
            "https://wiki.еxample.org/",
            "https://example.org./",
            "http://wiki.example.org/",
            "javascript:alert(1)",
            "data:text/html,hi",
            "https://evilexample.org/",
            "https://example.org\t.evil.example/",
            "https://example.org\n/",
            "http://127.0.0.1.evil.example/",
            "https://192.0.2.1/",
            "",
        ] {
            assert_eq!(safe_return_url(raw, &d), None, "{raw:?}");
        }
        assert_eq!(
            safe_return_url(
                &format!("https://wiki.example.org/{}", "a".repeat(URL_MAX)),
                &d
            ),
            None
        );
    }
}
