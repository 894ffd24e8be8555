//! How a method asks first at sign-in, as the person chose it with their default: an
//! authenticator app by notification or by its code; a mobile phone by text or by call.
//! Microsoft's pages offer the same choice ("Authenticator app – notification").

use crate::message::Channel;
use crate::method::{Kind, Method, MethodData};
use crate::policy::Policy;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    Notification,
    Code,
    Text,
    Call,
}

impl Way {
    pub fn as_str(&self) -> &'static str {
        match self {
            Way::Notification => "notification",
            Way::Code => "code",
            Way::Text => "text",
            Way::Call => "call",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "notification" => Some(Way::Notification),
            "code" => Some(Way::Code),
            "text" => Some(Way::Text),
            "call" => Some(Way::Call),
            _ => None,
        }
    }

    /// The channel a phone's code goes out by.
    pub fn channel(&self) -> Option<Channel> {
        match self {
            Way::Text => Some(Channel::Sms),
            Way::Call => Some(Channel::Voice),
            Way::Notification | Way::Code => None,
        }
    }
}

/// The ways a method can ask, in the order pages offer them. Empty for a kind that has one
/// way only (a security key, a code app).
pub fn ways(kind: Kind, policy: &Policy) -> Vec<Way> {
    match kind {
        Kind::AuthenticatorApp if policy.code_instead_of_notification => {
            vec![Way::Notification, Way::Code]
        }
        Kind::PhoneMobile => vec![Way::Text, Way::Call],
        _ => Vec::new(),
    }
}

/// How `method` asks first: the way the person chose, while the policy still offers it,
/// else the first the kind has (a phone: what it was registered for).
pub fn first_way(method: &Method, policy: &Policy) -> Option<Way> {
    let offered = ways(method.kind, policy);
    if let Some(way) = method.way.filter(|w| offered.contains(w)) {
        return Some(way);
    }
    match &method.data {
        MethodData::Phone { delivery, .. } if !offered.is_empty() => Some(match delivery {
            Channel::Voice => Way::Call,
            _ => Way::Text,
        }),
        _ => offered.first().copied(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_way_reads_back_and_each_kind_offers_its_own() {
        for way in [Way::Notification, Way::Code, Way::Text, Way::Call] {
            assert_eq!(Way::parse(way.as_str()), Some(way));
        }
        let mut policy = Policy::default();
        assert_eq!(
            ways(Kind::AuthenticatorApp, &policy),
            [Way::Notification, Way::Code]
        );
        assert_eq!(ways(Kind::PhoneMobile, &policy), [Way::Text, Way::Call]);
        assert!(ways(Kind::PhoneOffice, &policy).is_empty(), "calls only");
        assert!(ways(Kind::SecurityKey, &policy).is_empty());
        policy.code_instead_of_notification = false;
        assert!(ways(Kind::AuthenticatorApp, &policy).is_empty());
    }
}
