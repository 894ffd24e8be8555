//! The request a reverse proxy asks about, as the rules see it: scheme, host and a normalized
//! path.
//!
//! A rule is only as good as the path it is matched against. The upstream decodes and
//! resolves a path in its own way, so a path whose meaning depends on who decodes it is
//! refused rather than guessed at: encoded slashes, backslashes, dots and percent signs
//! (`%2F`, `%5C`, `%2E`, `%25`) are how `/public/..%2Fadmin` reaches `/admin` behind a rule
//! that let `/public/*` through. Everything else is decoded, dot segments are resolved and
//! repeated slashes collapsed, so `/admin`, `//admin` and `/x/../admin` meet the same rule.

use std::fmt;

/// The longest URL the rules look at (a proxy's header; browsers stop near this too).
pub const URL_MAX: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requested {
    /// `https` or `http`.
    pub scheme: String,
    /// Lower case, without port; IDNA hosts in their `xn--` form.
    pub host: String,
    pub port: Option<u16>,
    /// Decoded and normalized, always starting with `/`; no query.
    pub path: String,
    /// The URL as the proxy gave it (scheme, host, port, raw path and query), to return to
    /// after a sign-in.
    pub url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("the proxy did not say which URL was requested")]
    Missing,
    #[error("the requested URL is not an absolute http(s) URL")]
    Malformed,
    #[error("the requested URL is longer than {URL_MAX} bytes")]
    TooLong,
    #[error("the path encodes a slash, backslash, dot or percent sign")]
    AmbiguousPath,
}

impl Requested {
    /// From a whole URL (`X-Original-URL`, nginx's way).
    pub fn from_url(raw: &str) -> Result<Requested, RequestError> {
        if raw.len() > URL_MAX {
            return Err(RequestError::TooLong);
        }
        if raw
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
        {
            return Err(RequestError::Malformed);
        }
        let url = url::Url::parse(raw).map_err(|_| RequestError::Malformed)?;
        if !matches!(url.scheme(), "https" | "http")
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(RequestError::Malformed);
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            None => return Err(RequestError::Malformed),
        };
        // The path as sent: `Url` has already resolved literal dot segments, which is what
        // the normalization does too; encoded ones are checked on the raw text.
        let raw_path = raw_path_of(raw);
        let path = normalize_path(raw_path)?;
        Ok(Requested {
            scheme: url.scheme().to_string(),
            host,
            port: url.port(),
            path,
            url: url.to_string(),
        })
    }

    /// From the parts Traefik and Caddy send (`X-Forwarded-Proto`, `-Host`, `-Uri`).
    pub fn from_parts(proto: &str, host: &str, uri: &str) -> Result<Requested, RequestError> {
        if proto.is_empty() || host.is_empty() || !uri.starts_with('/') || uri.starts_with("//") {
            return Err(if host.is_empty() {
                RequestError::Missing
            } else {
                RequestError::Malformed
            });
        }
        if host.contains(['/', '\\', '@', '?', '#']) {
            return Err(RequestError::Malformed);
        }
        Requested::from_url(&format!("{}://{host}{uri}", proto.to_ascii_lowercase()))
    }
}

impl fmt::Display for Requested {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// The path part of an absolute URL's text, before `?` or `#`.
fn raw_path_of(raw: &str) -> &str {
    let after_scheme = raw.split_once("://").map_or(raw, |(_, rest)| rest);
    let path_start = after_scheme.find('/').unwrap_or(after_scheme.len());
    let path = &after_scheme[path_start..];
    let end = path.find(['?', '#']).unwrap_or(path.len());
    &path[..end]
}

/// Decodes, resolves dot segments and collapses slashes; refuses what decodes ambiguously.
pub fn normalize_path(raw: &str) -> Result<String, RequestError> {
    let lower = raw.to_ascii_lowercase();
    if ["%2f", "%5c", "%2e", "%25"]
        .iter()
        .any(|e| lower.contains(e))
    {
        return Err(RequestError::AmbiguousPath);
    }
    let decoded = percent_decode(raw).ok_or(RequestError::Malformed)?;
    if decoded.chars().any(|c| c.is_control() || c == '\\') {
        return Err(RequestError::Malformed);
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut path = format!("/{}", segments.join("/"));
    if decoded.ends_with('/') && path != "/" {
        path.push('/');
    }
    Ok(path)
}

/// `None` for a malformed escape or bytes that are not UTF-8.
fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(raw: &str) -> Result<String, RequestError> {
        Requested::from_url(&format!("https://wiki.example.org{raw}")).map(|r| r.path)
    }

    #[test]
    fn paths_are_decoded_and_resolved_once() {
        assert_eq!(path("/").unwrap(), "/");
        assert_eq!(path("").unwrap(), "/");
        assert_eq!(path("/a//b/./c/../d?x=/admin").unwrap(), "/a/b/d");
        assert_eq!(path("/x/../admin/").unwrap(), "/admin/");
        assert_eq!(path("/../../admin").unwrap(), "/admin");
        assert_eq!(path("/caf%C3%A9/%61dmin").unwrap(), "/café/admin");
        assert_eq!(path("/a%20b").unwrap(), "/a b");
    }

    #[test]
    fn paths_that_decode_ambiguously_are_refused() {
        for raw in [
            "/public/..%2Fadmin",
            "/public/..%2fadmin",
            "/public/%2E%2E/admin",
            "/public/%2e./admin",
            "/public/..%5Cadmin",
            "/public/%252E%252E/admin",
        ] {
            assert_eq!(path(raw), Err(RequestError::AmbiguousPath), "{raw}");
        }
        assert_eq!(path("/bad%zz"), Err(RequestError::Malformed));
        assert_eq!(path("/bad%ff"), Err(RequestError::Malformed));
        assert_eq!(path("/nul%00"), Err(RequestError::Malformed));
    }

    #[test]
    fn hosts_are_lower_case_and_idna_encoded() {
        let r = Requested::from_url("https://WIKI.Example.org:8443/x?y=1").unwrap();
        assert_eq!((r.host.as_str(), r.port), ("wiki.example.org", Some(8443)));
        let r = Requested::from_url("https://еxample.org/").unwrap();
        assert!(r.host.starts_with("xn--"), "{}", r.host);
        assert_eq!(
            Requested::from_url("https://user@wiki.example.org/"),
            Err(RequestError::Malformed)
        );
        assert_eq!(
            Requested::from_url("ftp://wiki.example.org/"),
            Err(RequestError::Malformed)
        );
        assert_eq!(
            Requested::from_url("https://wiki.example.org\\@evil/"),
            Err(RequestError::Malformed)
        );
    }

    #[test]
    fn parts_from_traefik_and_caddy() {
        let r = Requested::from_parts("HTTPS", "wiki.example.org", "/a/b?c=d").unwrap();
        assert_eq!(r.url, "https://wiki.example.org/a/b?c=d");
        assert_eq!(r.path, "/a/b");
        assert_eq!(
            Requested::from_parts("https", "", "/"),
            Err(RequestError::Missing)
        );
        for (host, uri) in [
            ("evil.example/x", "/"),
            ("wiki.example.org", "//evil.example/"),
            ("wiki.example.org@evil.example", "/"),
            ("wiki.example.org", "x"),
        ] {
            assert!(
                Requested::from_parts("https", host, uri).is_err(),
                "{host} {uri}"
            );
        }
    }
}
