//! Contact info offered from the organization's directory (issue #19): a directory person
//! whose entry has a `mobile`, `telephoneNumber` or `mail` they have not registered is asked
//! "Use +31 6•••••78 from your organization's directory?". Accepting starts the ordinary
//! phone or email registration with that value, so it counts only after the code sent to it
//! is typed back, like any phone or address.
//!
//! The value itself never goes to the browser: the offer shows it masked, and accepting names
//! only the attribute ([`OfferSource`]); the value is read from the directory again. So a
//! registration session (a password alone) learns no more than the mask, and a client cannot
//! make Tessera register a value the directory does not hold.
//!
//! The directory is asked on the security info page, not on a hot path, and any failure
//! (down, slow past its timeout, no such entry) means no offer rather than an error.

use crate::audit::RequestContext;
use crate::directory::DirectoryPerson;
use crate::error::{Error, Result};
use crate::flow::step_up::StepUpProof;
use crate::message::{mask_email, mask_phone};
use crate::method::phone::{Number, PhoneRequest, parse_number};
use crate::method::{Enrollment, Kind, Method, MethodData, MethodStatus, RegisterRequest};
use crate::policy::Policy;
use crate::service::{Auth, Tessera};

/// Which of the entry's attributes an offer comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferSource {
    /// `mobile`: a mobile phone (a text or a call).
    Mobile,
    /// `telephoneNumber`: an office phone (a call).
    Telephone,
    /// `mail`: an email address.
    Mail,
}

impl OfferSource {
    pub const ALL: [OfferSource; 3] = [
        OfferSource::Mobile,
        OfferSource::Telephone,
        OfferSource::Mail,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            OfferSource::Mobile => "mobile",
            OfferSource::Telephone => "telephone",
            OfferSource::Mail => "mail",
        }
    }

    pub fn parse(s: &str) -> Option<OfferSource> {
        OfferSource::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// The kind of method accepting it registers.
    pub fn kind(&self) -> Kind {
        match self {
            OfferSource::Mobile => Kind::PhoneMobile,
            OfferSource::Telephone => Kind::PhoneOffice,
            OfferSource::Mail => Kind::Email,
        }
    }

    fn value<'a>(&self, person: &'a DirectoryPerson) -> Option<&'a str> {
        match self {
            OfferSource::Mobile => person.mobile.as_deref(),
            OfferSource::Telephone => person.telephone.as_deref(),
            OfferSource::Mail => person.mail.as_deref(),
        }
        .map(str::trim)
        .filter(|v| !v.is_empty())
    }
}

/// One offer as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryOffer {
    pub source: OfferSource,
    pub kind: Kind,
    /// Masked as method labels are: `+31 6•••••78`, `a•••@example.org`.
    pub label: String,
}

/// What accepting an offer would register: a phone request or an address.
enum Value {
    Phone(Number),
    Email(String),
}

/// A directory phone number in E.164, or national for one of the policy's regions (tried in
/// order): directories hold numbers written every way.
fn phone_value(raw: &str, policy: &Policy) -> Option<Number> {
    parse_number("", raw).ok().or_else(|| {
        policy
            .phone_countries
            .iter()
            .find_map(|region| parse_number(region, raw).ok())
    })
}

/// The value `source` would register, if the entry has one the policy accepts.
fn offered(source: OfferSource, person: &DirectoryPerson, policy: &Policy) -> Option<Value> {
    let raw = source.value(person)?;
    match source {
        OfferSource::Mail => crate::account::validate_email(raw).ok().map(Value::Email),
        OfferSource::Mobile | OfferSource::Telephone => phone_value(raw, policy)
            .filter(|n| policy.allows_country(&n.region))
            .map(Value::Phone),
    }
}

/// Whether the person already has an active method holding `value`.
fn registered(value: &Value, methods: &[Method]) -> bool {
    methods
        .iter()
        .filter(|m| m.status == MethodStatus::Active)
        .any(|m| match (&m.data, value) {
            (MethodData::Phone { number, .. }, Value::Phone(n)) => *number == n.e164,
            (MethodData::Email { address }, Value::Email(e)) => address.eq_ignore_ascii_case(e),
            _ => false,
        })
}

impl Tessera {
    /// The directory's contact info the person could register and has not: none for a local
    /// account, without a directory, or when the directory does not answer.
    pub async fn directory_offers(&self, auth: &Auth) -> Result<Vec<DirectoryOffer>> {
        let Some(person) = self.directory_person(auth).await else {
            return Ok(Vec::new());
        };
        let policy = self.policy().await?;
        let methods = self.store.methods_of(auth.account.id).await?;
        let mut offers = Vec::new();
        for source in OfferSource::ALL {
            let kind = source.kind();
            if !policy.allows_kind(kind) || !self.can_register(kind) {
                continue;
            }
            let Some(value) = offered(source, &person, &policy) else {
                continue;
            };
            if registered(&value, &methods) {
                continue;
            }
            let label = match &value {
                Value::Phone(n) => mask_phone(&n.e164, n.country_code),
                Value::Email(e) => mask_email(e),
            };
            // `mobile` and `telephoneNumber` may hold the same number: one offer.
            if offers.iter().any(|o: &DirectoryOffer| o.label == label) {
                continue;
            }
            offers.push(DirectoryOffer {
                source,
                kind,
                label,
            });
        }
        Ok(offers)
    }

    /// Starts registering what the directory holds for `source`, read again now, as
    /// `register_begin` would with the value typed in: pending until the code sent to it is
    /// verified. `NotFound` when the directory no longer offers it (or does not answer).
    pub async fn accept_directory_offer(
        &self,
        auth: &Auth,
        source: OfferSource,
        proof: StepUpProof,
        ctx: &RequestContext,
    ) -> Result<(Method, Enrollment)> {
        // `register_begin` checks the proof.
        let person = self.directory_person(auth).await.ok_or(Error::NotFound)?;
        let policy = self.policy().await?;
        let request = match offered(source, &person, &policy).ok_or(Error::NotFound)? {
            Value::Phone(n) => RegisterRequest::Phone(PhoneRequest {
                kind: source.kind(),
                country: n.region,
                number: n.e164,
                extension: None,
                delivery: None,
            }),
            Value::Email(address) => RegisterRequest::Email { address },
        };
        self.register_begin(auth, request, proof, ctx).await
    }

    /// The person's directory entry, for a directory account; `None` on any failure.
    async fn directory_person(&self, auth: &Auth) -> Option<DirectoryPerson> {
        if !auth.account.is_directory() {
            return None;
        }
        self.directory()?.find(&auth.account.username).await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person() -> DirectoryPerson {
        DirectoryPerson {
            dn: "uid=alice,ou=people,dc=example,dc=org".into(),
            username: "alice".into(),
            external_id: None,
            display_name: None,
            mail: Some(" alice@example.org ".into()),
            mobile: Some("+31 6 12345678".into()),
            telephone: Some("020 123 4567".into()),
            groups: Vec::new(),
            disabled: false,
        }
    }

    #[test]
    fn directory_numbers_are_read_in_either_form_and_the_policy_applies() {
        let mut policy = Policy::default();
        let p = person();
        assert!(matches!(
            offered(OfferSource::Mobile, &p, &policy),
            Some(Value::Phone(n)) if n.e164 == "+31612345678"
        ));
        assert!(
            offered(OfferSource::Telephone, &p, &policy).is_none(),
            "a national number needs a region from the policy"
        );
        assert!(policy.set("phone_countries", "NL").is_ok());
        assert!(matches!(
            offered(OfferSource::Telephone, &p, &policy),
            Some(Value::Phone(n)) if n.e164 == "+31201234567"
        ));
        assert!(matches!(
            offered(OfferSource::Mail, &p, &policy),
            Some(Value::Email(e)) if e == "alice@example.org"
        ));
        assert!(policy.set("phone_countries", "BE").is_ok());
        assert!(
            offered(OfferSource::Mobile, &p, &policy).is_none(),
            "a region the policy does not allow is not offered"
        );
    }

    #[test]
    fn sources_round_trip() {
        for s in OfferSource::ALL {
            assert_eq!(OfferSource::parse(s.as_str()), Some(s));
        }
        assert_eq!(OfferSource::parse("pager"), None);
    }
}
