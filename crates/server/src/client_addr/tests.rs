use super::*;
use axum::http::HeaderValue;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn proxies(list: &[&str]) -> TrustedProxies {
    TrustedProxies::parse(list.iter().copied()).unwrap()
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}

#[test]
fn ranges_parse_and_match() {
    let range = Cidr::parse("10.1.2.3/8").unwrap();
    assert_eq!(range.to_string(), "10.0.0.0/8");
    assert!(range.contains(ip("10.200.0.1")));
    assert!(!range.contains(ip("11.0.0.1")));
    assert!(range.contains(ip("::ffff:10.0.0.9")), "IPv4-mapped IPv6");
    assert!(Cidr::parse("::1").unwrap().contains(ip("::1")));
    assert!(Cidr::parse("fd00::/8").unwrap().contains(ip("fd12::1")));
    assert!(!Cidr::parse("fd00::/8").unwrap().contains(ip("10.0.0.1")));
    assert!(
        Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains(ip("203.0.113.9"))
    );
    for bad in [
        "",
        "10.0.0.0/33",
        "::/129",
        "10.0.0.0/",
        "10.0.0.0/x",
        "proxy.local",
        "10.0.0.0/-1",
    ] {
        assert_eq!(Cidr::parse(bad), None, "{bad:?}");
    }
    assert_eq!(
        TrustedProxies::parse(["10.0.0.1", "nonsense"]).unwrap_err(),
        "nonsense"
    );
}

#[test]
fn an_untrusted_peer_cannot_move_its_address() {
    let none = TrustedProxies::default();
    let spoofed = headers(&[
        ("x-forwarded-for", "198.51.100.1"),
        ("forwarded", "for=198.51.100.2"),
    ]);
    assert_eq!(
        none.client_ip(ip("203.0.113.5"), &spoofed),
        ip("203.0.113.5")
    );
    let some = proxies(&["10.0.0.0/8"]);
    assert_eq!(
        some.client_ip(ip("203.0.113.5"), &spoofed),
        ip("203.0.113.5")
    );
}

#[test]
fn behind_a_trusted_proxy_the_right_most_untrusted_address_wins() {
    let trusted = proxies(&["10.0.0.0/8", "::1"]);
    // The client wrote the first entry itself; the proxy appended what it saw.
    let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.7")]);
    assert_eq!(trusted.client_ip(ip("10.0.0.2"), &h), ip("203.0.113.7"));
    // Two proxies in a row, and headers split over two lines.
    let h = headers(&[
        ("x-forwarded-for", "1.2.3.4, 203.0.113.7"),
        ("x-forwarded-for", "10.0.0.9"),
    ]);
    assert_eq!(trusted.client_ip(ip("::1"), &h), ip("203.0.113.7"));
    // Ports and brackets.
    let h = headers(&[("x-forwarded-for", "[2001:db8::5]:4711")]);
    assert_eq!(trusted.client_ip(ip("10.0.0.2"), &h), ip("2001:db8::5"));
    let h = headers(&[("x-forwarded-for", "203.0.113.8:1234")]);
    assert_eq!(trusted.client_ip(ip("10.0.0.2"), &h), ip("203.0.113.8"));
    // IPv4-mapped peers, as a dual-stack socket reports them.
    let h = headers(&[("x-forwarded-for", "203.0.113.7")]);
    assert_eq!(
        trusted.client_ip(ip("::ffff:10.0.0.2"), &h),
        ip("203.0.113.7")
    );
}

#[test]
fn forwarded_is_read_when_there_is_no_x_forwarded_for() {
    let trusted = proxies(&["10.0.0.0/8"]);
    let h = headers(&[(
        "forwarded",
        "for=1.2.3.4, for=\"[2001:db8::1]:4711\";proto=https;by=10.0.0.1",
    )]);
    assert_eq!(trusted.client_ip(ip("10.0.0.2"), &h), ip("2001:db8::1"));
    let h = headers(&[("forwarded", "proto=https;For=203.0.113.3")]);
    assert_eq!(trusted.client_ip(ip("10.0.0.2"), &h), ip("203.0.113.3"));
    let both = headers(&[
        ("forwarded", "for=198.51.100.1"),
        ("x-forwarded-for", "203.0.113.4"),
    ]);
    assert_eq!(trusted.client_ip(ip("10.0.0.2"), &both), ip("203.0.113.4"));
}

#[test]
fn what_cannot_be_read_stops_at_the_last_trusted_hop() {
    let trusted = proxies(&["10.0.0.0/8"]);
    let h = headers(&[("x-forwarded-for", "203.0.113.7, garbage, 10.0.0.3")]);
    assert_eq!(trusted.client_ip(ip("10.0.0.2"), &h), ip("10.0.0.3"));
    let h = headers(&[("forwarded", "for=unknown")]);
    assert_eq!(trusted.client_ip(ip("10.0.0.2"), &h), ip("10.0.0.2"));
    let h = headers(&[("forwarded", "for=_hidden, for=10.0.0.4")]);
    assert_eq!(trusted.client_ip(ip("10.0.0.2"), &h), ip("10.0.0.4"));
    // No header at all: the proxy itself.
    assert_eq!(
        trusted.client_ip(ip("10.0.0.2"), &HeaderMap::new()),
        ip("10.0.0.2")
    );
    // Every hop trusted: the left-most.
    let h = headers(&[("x-forwarded-for", "10.0.0.5, 10.0.0.6")]);
    assert_eq!(trusted.client_ip(ip("10.0.0.2"), &h), ip("10.0.0.5"));
}
