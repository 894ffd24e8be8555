//! Phones and email in the API: the fields of `POST /me/security-info/methods` for them,
//! resending a registration's code, the region list, and the admins' view of the outbox.

use super::admin::AdminAccess;
use super::types::{AddMethodRequest, ChallengeResponse};
use crate::AppState;
use crate::error::{ApiError, ApiJson, ApiQuery, ErrorBody};
use crate::i18n::Tr;
use crate::session::{Authed, Context};
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use tessera_core::message::Channel;
use tessera_core::method::phone::{self, PhoneRequest};
use tessera_core::{Error, Kind, Problem};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// `sms` or `call` (also `voice`), as a request names the channel.
pub fn via(delivery: Option<&str>) -> Result<Option<Channel>, ApiError> {
    match delivery.map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(None),
        Some("sms") => Ok(Some(Channel::Sms)),
        Some("call" | "voice") => Ok(Some(Channel::Voice)),
        Some(_) => Err(Error::bad("delivery", Problem::Invalid).into()),
    }
}

/// The phone fields of an add-method request.
pub fn phone_request(kind: Kind, req: &AddMethodRequest) -> Result<PhoneRequest, ApiError> {
    Ok(PhoneRequest {
        kind,
        country: req.country.clone().unwrap_or_default(),
        number: req.number.clone().unwrap_or_default(),
        extension: req.extension.clone(),
        delivery: via(req.delivery.as_deref())?,
    })
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ResendRequest {
    /// `sms` or `call`, for a mobile phone.
    #[serde(default)]
    pub delivery: Option<String>,
}

/// Sends a pending phone or email registration a new code, once the cool-down has passed.
#[utoipa::path(post, path = "/me/security-info/methods/{id}/resend", tag = "me", request_body = ResendRequest,
    params(("id" = String, Path)),
    responses((status = 200, body = ChallengeResponse), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "`rate_limited`: the cool-down or a sending limit")),
    security(("bearer" = [])))]
pub async fn resend(
    State(state): State<AppState>,
    Context(ctx): Context,
    Authed(auth): Authed,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ResendRequest>,
) -> Result<ApiJson<ChallengeResponse>, ApiError> {
    let id = id.parse().map_err(|_| Error::NotFound)?;
    let challenge = state
        .tessera
        .register_resend(&auth, id, via(req.delivery.as_deref())?, &ctx)
        .await?;
    Ok(ApiJson(challenge.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Region {
    /// ISO 3166 (`NL`).
    pub region: String,
    pub calling_code: u16,
    /// In the request's language.
    pub name: String,
    /// Whether the policy's allow-list lets phones of this region be added.
    pub allowed: bool,
}

/// Regions and their calling codes, for choosing a phone's country; sorted by name.
#[utoipa::path(get, path = "/phone/regions", tag = "me", responses((status = 200, body = Vec<Region>)))]
pub async fn regions(
    State(state): State<AppState>,
    tr: Tr,
) -> Result<ApiJson<Vec<Region>>, ApiError> {
    let policy = state.tessera.policy().await?;
    Ok(ApiJson(region_list(&tr, &policy)))
}

/// Every region, named in `tr`'s language and sorted by that name.
pub fn region_list(tr: &Tr, policy: &tessera_core::Policy) -> Vec<Region> {
    let mut list: Vec<Region> = phone::regions()
        .into_iter()
        .map(|(region, calling_code)| {
            let key = format!("region-{region}");
            let name = if tr.has(&key) {
                tr.get(&key)
            } else {
                region.clone()
            };
            Region {
                allowed: policy.allows_country(&region),
                region,
                calling_code,
                name,
            }
        })
        .collect();
    list.sort_by_key(|r| sort_key(&r.name));
    list
}

/// Names sort without their accents (`Åland` with the A's, `België` with the B's).
fn sort_key(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'À'..='Å' => 'A',
            'à'..='å' => 'a',
            'È'..='Ë' => 'E',
            'è'..='ë' => 'e',
            'Ì'..='Ï' => 'I',
            'ì'..='ï' => 'i',
            'Ò'..='Ö' => 'O',
            'ò'..='ö' => 'o',
            'Ù'..='Ü' => 'U',
            'ù'..='ü' => 'u',
            'Ç' => 'C',
            'ç' => 'c',
            other => other,
        })
        .collect::<String>()
        .to_lowercase()
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct OutboxQuery {
    /// How many, newest first (at most 1000; 100 by default).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxMessage {
    pub id: String,
    /// `sms`, `voice` or `email`.
    pub channel: &'static str,
    /// `code` or `notification`.
    pub topic: &'static str,
    pub to: String,
    /// The extension a call dials once it connects (an office phone's).
    pub extension: Option<String>,
    /// `queued`, `sending`, `sent`, `kept` (the development outbox) or `failed`.
    pub status: &'static str,
    pub attempts: u32,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// The words, while the message still holds them (sent messages drop theirs).
    pub subject: Option<String>,
    pub text: Option<String>,
    /// The gateway's reference, or the last error.
    pub note: Option<String>,
    /// A call the development outbox kept that waits for #: no phone rang, so an admin may
    /// press it for the person (`POST /admin/outbox/{id}/press`).
    pub awaiting_pound: bool,
}

/// Outgoing texts, calls and emails, for admins: what the development `outbox` provider
/// keeps, and the state of every other message.
#[utoipa::path(get, path = "/admin/outbox", tag = "admin", params(OutboxQuery),
    responses((status = 200, body = Vec<OutboxMessage>), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn outbox(
    State(state): State<AppState>,
    access: AdminAccess,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> Result<ApiJson<Vec<OutboxMessage>>, ApiError> {
    let admin = access.admin(&state)?;
    Ok(ApiJson(
        outbox_view(&state, &admin, q.limit.unwrap_or(100)).await?,
    ))
}

/// What `/admin/outbox` shows: the newest `limit` messages, with their words.
pub async fn outbox_view(
    state: &AppState,
    admin: &tessera_core::admin::Admin<'_>,
    limit: u32,
) -> Result<Vec<OutboxMessage>, tessera_core::Error> {
    let messages = admin.recent_messages(limit).await?;
    let waiting = admin.calls_waiting(&messages).await?;
    Ok(messages
        .iter()
        .map(|m| {
            let words = crate::delivery::words(&state.tessera, m, &state.config.organization);
            OutboxMessage {
                id: m.id.to_string(),
                channel: m.channel.as_str(),
                topic: m.topic.as_str(),
                to: m.to.clone(),
                extension: m.extension.clone().filter(|e| !e.is_empty()),
                status: m.status.as_str(),
                attempts: m.attempts,
                created_at: m.created_at,
                subject: words
                    .as_ref()
                    .filter(|_| m.channel == Channel::Email)
                    .map(|w| w.subject.clone()),
                text: words.map(|w| w.text),
                note: m.note.clone(),
                awaiting_pound: waiting.contains(&m.id),
            }
        })
        .collect())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PressResponse {
    /// `confirmed`: the call is answered, and what placed it goes on; `ignored`: the call no
    /// longer waits (answered, expired, or replaced by a newer one).
    pub status: &'static str,
}

/// Presses # on a call the development outbox kept, as the person would on their phone (an
/// admin trying Tessera out has no phone that rings). Audited as the call's #, naming the
/// admin. `404` for anything but a call the outbox kept: one a gateway placed is answered
/// on the phone only.
#[utoipa::path(post, path = "/admin/outbox/{id}/press", tag = "admin",
    params(("id" = String, Path, description = "The outbox message of the call")),
    responses((status = 200, body = PressResponse), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn press(
    State(state): State<AppState>,
    access: AdminAccess,
    Path(id): Path<String>,
) -> Result<ApiJson<PressResponse>, ApiError> {
    let admin = access.admin(&state)?;
    let id = id.parse().map_err(|_| Error::NotFound)?;
    let confirmed = admin.press_pound(id).await?;
    Ok(ApiJson(PressResponse {
        status: if confirmed { "confirmed" } else { "ignored" },
    }))
}
