//! `email`: an address proven with a code sent to it. It serves password reset and
//! notifications only: never a sign-in factor, never the default (NIST SP 800-63B does not
//! accept email as an out-of-band authenticator).

use super::{Enrollment, Kind, KindContext, Method, MethodData, MethodStatus};
use crate::account::{Account, validate_email};
use crate::error::{Error, Problem, Result};
use crate::ids::MethodId;
use crate::message::{Channel, mask_email};

pub fn register_begin(
    address: &str,
    account: &Account,
    id: MethodId,
    ctx: &KindContext<'_>,
    pending_for: time::Duration,
) -> Result<(Method, Enrollment)> {
    if address.trim().is_empty() {
        return Err(Error::bad("address", Problem::Required));
    }
    let address = validate_email(address).map_err(|_| Error::bad("address", Problem::Invalid))?;
    let method = Method {
        id,
        account_id: account.id,
        kind: Kind::Email,
        status: MethodStatus::Pending,
        name: None,
        data: MethodData::Email { address },
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

pub fn enrollment(method: &Method) -> Result<Enrollment> {
    Ok(Enrollment::Sent {
        sent_to: label(method).ok_or(Error::bad("id", Problem::Invalid))?,
        channel: Channel::Email,
    })
}

/// `a•••@example.org`.
pub fn label(method: &Method) -> Option<String> {
    match &method.data {
        MethodData::Email { address } => Some(mask_email(address)),
        _ => None,
    }
}
