//! Per-address limits on the requests that check credentials (passwords, codes, answers) or
//! send something (texts, calls): a flood from one address is answered `rate_limited` while
//! every other address is served as before.
//!
//! The count lives in this node's memory (GCRA, `governor`), keyed on the client address: an
//! IPv4 address, or the /64 of an IPv6 one (one host holds a whole /64). Several nodes each
//! count their own share, which is fine for a flood; the rules that must hold across nodes
//! (a method's lock-out, sending limits) are counters in the database. Behind a reverse proxy
//! the key is the proxy's address unless the proxy is in `trusted_proxies` (`client_addr`).
//!
//! Why not `tower_governor`: its layer limits every route of a router and answers in its own
//! format; here only the credential endpoints count, and the answer is the API's error (or
//! the error page) in the person's language.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use tessera_core::Error;

/// Requests per minute per address when the configuration says nothing. An office behind
/// one NAT address signs in through it: 120 is two sign-ins a second sustained, with a burst
/// of 120, while a guesser from one address gets 120 tries a minute at most.
pub const DEFAULT_PER_MINUTE: u32 = 120;

/// How often the table forgets addresses that are back to a full allowance, so a sweep over
/// many addresses cannot grow it without bound.
const FORGET_EVERY: u64 = 4096;

pub struct IpLimits {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

impl std::fmt::Debug for IpLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IpLimits")
            .field("addresses", &self.limiter.len())
            .finish()
    }
}

impl IpLimits {
    /// `None` when `per_minute` is 0 (no limit).
    pub fn new(per_minute: u32) -> Option<IpLimits> {
        let n = NonZeroU32::new(per_minute)?;
        Some(IpLimits {
            limiter: RateLimiter::keyed(Quota::per_minute(n)),
            checks: AtomicU64::new(0),
        })
    }

    /// `Err(seconds to wait)` when `ip` has used up its allowance.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter.check_key(&key(ip)).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

/// The address an allowance belongs to.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Whether a request checks a credential or sends something: a POST under sign-in or reset,
/// in the API (nested, so its `/api/v1` prefix may already be stripped) or on the pages.
pub fn counts(method: &Method, path: &str) -> bool {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    // The passkey page starts a ceremony, a row in the store, at every visit.
    if method == Method::GET {
        return path == "/sign-in/passkey";
    }
    if method != Method::POST {
        return false;
    }
    ["/sign-in", "/reset"]
        .iter()
        .any(|p| path == *p || path.strip_prefix(p).is_some_and(|r| r.starts_with('/')))
}

/// The limit as a check: `Err(seconds)` when this request must be refused.
fn refused(state: &AppState, request: &Request) -> Result<(), u64> {
    let Some(limits) = state.limits.as_deref() else {
        return Ok(());
    };
    if !counts(request.method(), request.uri().path()) {
        return Ok(());
    }
    let Some(client) = crate::client_addr::of(request.extensions()) else {
        return Ok(());
    };
    let refused = limits.check(client);
    if refused.is_err() {
        metrics::counter!("tessera_rate_limited_total").increment(1);
    }
    refused
}

/// For the API: `429 rate_limited` with `retry_after`, in the API's error format.
pub async fn api(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match refused(&state, &request) {
        Ok(()) => next.run(request).await,
        Err(retry_after) => ApiError::Domain(Error::RateLimited { retry_after }).into_response(),
    }
}

/// For the pages: the error page, in the person's language.
pub async fn pages(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match refused(&state, &request) {
        Ok(()) => next.run(request).await,
        Err(retry_after) => {
            let (mut parts, _) = request.into_parts();
            crate::web::error_page(&mut parts, &state, Error::RateLimited { retry_after }).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_credential_checks_count() {
        assert!(counts(&Method::POST, "/api/v1/sign-in"));
        assert!(counts(&Method::POST, "/sign-in"));
        assert!(counts(&Method::POST, "/sign-in/abc/verify"));
        assert!(counts(&Method::POST, "/api/v1/reset/abc/verify"));
        assert!(!counts(&Method::GET, "/sign-in"));
        assert!(
            counts(&Method::GET, "/sign-in/passkey"),
            "a ceremony per visit"
        );
        assert!(!counts(&Method::POST, "/sign-out"));
        assert!(!counts(&Method::POST, "/sign-inx"));
        assert!(!counts(&Method::POST, "/api/v1/me/step-up/verify"));
    }

    #[test]
    fn an_ipv6_host_is_one_address_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(key(a), key(b));
        assert_ne!(key(a), key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(key(mapped), IpAddr::V4([192, 0, 2, 7].into()));
    }

    #[test]
    fn a_flood_from_one_address_is_refused_and_others_are_not() {
        let limits = IpLimits::new(3).unwrap();
        let one: IpAddr = [192, 0, 2, 1].into();
        let other: IpAddr = [192, 0, 2, 2].into();
        for _ in 0..3 {
            assert_eq!(limits.check(one), Ok(()));
        }
        let wait = limits.check(one);
        assert!(matches!(wait, Err(s) if (1..=60).contains(&s)), "{wait:?}");
        assert_eq!(limits.check(other), Ok(()));
        assert!(IpLimits::new(0).is_none(), "0 turns the limit off");
    }
}
