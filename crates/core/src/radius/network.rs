//! A RADIUS client's source: one address or a network (CIDR), IPv4 or IPv6.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    pub address: IpAddr,
    pub prefix: u8,
}

impl Network {
    /// Whether `ip` is inside. An IPv4 address that arrives mapped into IPv6 (a dual-stack
    /// socket) is compared as IPv4.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - self.prefix as u32).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - self.prefix as u32).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }

    fn max_prefix(address: IpAddr) -> u8 {
        if address.is_ipv4() { 32 } else { 128 }
    }
}

impl FromStr for Network {
    type Err = ();

    /// `192.0.2.10`, `10.0.0.0/8`, `2001:db8::/32`. Host bits must be zero, so that what
    /// an admin typed is what is matched.
    fn from_str(s: &str) -> Result<Self, ()> {
        let (address, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let address: IpAddr = address.parse().map_err(|_| ())?;
        let max = Self::max_prefix(address);
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().map_err(|_| ())?
            }
            Some(_) => return Err(()),
            None => max,
        };
        if prefix > max {
            return Err(());
        }
        let network = Network { address, prefix };
        if !network.contains(address) || network.masked() != address {
            return Err(());
        }
        Ok(network)
    }
}

impl Network {
    fn masked(&self) -> IpAddr {
        match self.address {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - self.prefix as u32).unwrap_or(0);
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX.checked_shl(128 - self.prefix as u32).unwrap_or(0);
                IpAddr::V6((u128::from(a) & mask).into())
            }
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix == Self::max_prefix(self.address) {
            write!(f, "{}", self.address)
        } else {
            write!(f, "{}/{}", self.address, self.prefix)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn addresses_and_networks_match_what_is_inside() {
        let one: Network = "192.0.2.10".parse().unwrap();
        assert!(one.contains(ip("192.0.2.10")));
        assert!(!one.contains(ip("192.0.2.11")));
        assert!(one.contains(ip("::ffff:192.0.2.10")));
        let net: Network = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains(ip("10.200.3.4")) && !net.contains(ip("11.0.0.1")));
        let all: Network = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")) && !all.contains(ip("2001:db8::1")));
        let v6: Network = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")) && !v6.contains(ip("2001:db9::1")));
        assert_eq!(net.to_string(), "10.0.0.0/8");
        assert_eq!(one.to_string(), "192.0.2.10");
    }

    #[test]
    fn nonsense_and_host_bits_are_refused() {
        for bad in [
            "",
            "10.0.0.1/8",
            "10.0.0.0/33",
            "10.0.0.0/",
            "example.org",
            "::/129",
            "1.2.3.4/+8",
        ] {
            assert!(bad.parse::<Network>().is_err(), "{bad}");
        }
    }
}
