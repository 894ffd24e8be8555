//! Phones: `phone_mobile` (a text or a call), `phone_alternate` and `phone_office` (a call;
//! an office phone may have an extension). The number is stored in E.164; labels mask it.
//!
//! Phones are *restricted* authenticators (NIST SP 800-63B §5.1.3.3): a text or call can be
//! redirected (SIM swap, number porting). The pages say so and suggest an app or a key.
//! A number is never edited: a new number is a new method, verified again.

use super::{Enrollment, Kind, KindContext, Method, MethodData, MethodStatus};
use crate::account::Account;
use crate::error::{Error, Problem, Result};
use crate::ids::MethodId;
use crate::message::{Channel, mask_phone};
use phonenumber::metadata::DATABASE;
use phonenumber::{Mode, PhoneNumber, country};
use std::str::FromStr;

pub const EXTENSION_MAX: usize = 10;

/// A number as typed, checked and normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    /// `+31612345678`.
    pub e164: String,
    /// The region it belongs to (`NL`), which the country allow-list checks.
    pub region: String,
    pub country_code: u16,
}

/// Parses a number typed for `region` (or in international form) and refuses impossible ones.
pub fn parse_number(region: &str, raw: &str) -> Result<Number> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(Error::bad("number", Problem::Required));
    }
    if raw.len() > 32 || raw.chars().any(char::is_control) {
        return Err(Error::bad("number", Problem::Invalid));
    }
    let region = region.trim().to_ascii_uppercase();
    let id = if region.is_empty() {
        None
    } else {
        Some(country::Id::from_str(&region).map_err(|_| Error::bad("country", Problem::Invalid))?)
    };
    if id.is_none() && !raw.starts_with('+') {
        return Err(Error::bad("country", Problem::Required));
    }
    let parsed: PhoneNumber =
        phonenumber::parse(id, raw).map_err(|_| Error::bad("number", Problem::Invalid))?;
    if !parsed.is_valid() {
        return Err(Error::bad("number", Problem::Invalid));
    }
    let actual = parsed
        .country()
        .id()
        .map(|id| id.as_ref().to_string())
        .ok_or(Error::bad("number", Problem::Invalid))?;
    Ok(Number {
        e164: parsed.format().mode(Mode::E164).to_string(),
        region: actual,
        country_code: parsed.code().value(),
    })
}

/// Regions and their calling codes, from the library's metadata (non-geographic codes left
/// out), sorted by region code; pages sort them by their translated names.
pub fn regions() -> Vec<(String, u16)> {
    let mut out: Vec<(String, u16)> = DATABASE
        .iter()
        .filter(|m| m.id().len() == 2 && m.id().chars().all(|c| c.is_ascii_uppercase()))
        .map(|m| (m.id().to_string(), m.country_code()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// What a person asks for when adding a phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneRequest {
    pub kind: Kind,
    pub country: String,
    pub number: String,
    pub extension: Option<String>,
    /// A text or a call; only mobiles can take texts.
    pub delivery: Option<Channel>,
}

pub fn register_begin(
    request: PhoneRequest,
    account: &Account,
    id: MethodId,
    ctx: &KindContext<'_>,
    pending_for: time::Duration,
) -> Result<(Method, Enrollment)> {
    let number = parse_number(&request.country, &request.number)?;
    let delivery = match (request.kind, request.delivery) {
        (Kind::PhoneMobile, None) => Channel::Sms,
        (Kind::PhoneMobile, Some(c @ (Channel::Sms | Channel::Voice))) => c,
        (Kind::PhoneAlternate | Kind::PhoneOffice, None | Some(Channel::Voice)) => Channel::Voice,
        _ => return Err(Error::bad("delivery", Problem::Invalid)),
    };
    let extension = match request.extension.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(_) if request.kind != Kind::PhoneOffice => {
            return Err(Error::bad("extension", Problem::Invalid));
        }
        Some(ext) if ext.len() > EXTENSION_MAX => {
            return Err(Error::bad(
                "extension",
                Problem::TooLong { max: EXTENSION_MAX },
            ));
        }
        Some(ext) if !ext.chars().all(|c| c.is_ascii_digit()) => {
            return Err(Error::bad("extension", Problem::Invalid));
        }
        Some(ext) => Some(ext.to_string()),
    };
    let method = Method {
        id,
        account_id: account.id,
        kind: request.kind,
        status: MethodStatus::Pending,
        name: None,
        data: MethodData::Phone {
            number: number.e164.clone(),
            region: number.region.clone(),
            country_code: number.country_code,
            extension,
            delivery,
        },
        sealed_secret: None,
        created_at: ctx.now,
        last_used_at: None,
        expires_at: Some(ctx.now + pending_for),
        last_step: None,
        failures: 0,
        locked_until: None,
        registered_by: None,
        way: None,
    };
    let enrollment = enrollment(&method)?;
    Ok((method, enrollment))
}

/// A pending phone waits for the code (or the #) that was sent to it.
pub fn enrollment(method: &Method) -> Result<Enrollment> {
    match &method.data {
        MethodData::Phone { delivery, .. } => Ok(Enrollment::Sent {
            sent_to: label(method).unwrap_or_default(),
            channel: *delivery,
        }),
        _ => Err(Error::bad("id", Problem::Invalid)),
    }
}

/// `+31 6•••••78`, for a phone.
pub fn label(method: &Method) -> Option<String> {
    match &method.data {
        MethodData::Phone {
            number,
            country_code,
            ..
        } => Some(mask_phone(number, *country_code)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_normalized_to_e164() {
        let n = parse_number("NL", "06 12345678");
        assert_eq!(
            n.as_ref()
                .ok()
                .map(|n| (n.e164.as_str(), n.region.as_str(), n.country_code)),
            Some(("+31612345678", "NL", 31))
        );
        let intl = parse_number("", "+32 470 12 34 56");
        assert_eq!(intl.ok().map(|n| n.region), Some("BE".to_string()));
    }

    #[test]
    fn impossible_numbers_are_refused_on_their_field() {
        for (region, raw, field) in [
            ("NL", "12", "number"),
            ("NL", "06 1234", "number"),
            ("NL", "not a number", "number"),
            ("ZZ", "0612345678", "country"),
            ("", "0612345678", "country"),
            ("NL", "", "number"),
        ] {
            match parse_number(region, raw) {
                Err(Error::BadRequest { field: f, .. }) => assert_eq!(f, field, "{raw:?}"),
                other => panic!("{region} {raw:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn regions_carry_calling_codes() {
        let regions = regions();
        assert!(regions.contains(&("NL".to_string(), 31)));
        assert!(regions.contains(&("US".to_string(), 1)));
        assert!(regions.len() > 200);
    }
}
