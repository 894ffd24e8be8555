//! Codes sent by text, call or email, and calls answered with #: the challenge side of the
//! `phone_*` and `email` kinds (see `challenge` for the states).
//!
//! Sending is refused, each with a clear error, when the country is not on the policy's
//! allow-list, during the resend cool-down, or past the per-account, per-destination and
//! global limits. A password reset's codes count on budgets of their own (see `flow::reset`),
//! so resets started by a stranger cannot use up the person's sign-in texts. The challenge and its outbox message commit together; the server's
//! delivery worker sends the message.

use super::{Challenge, Kind, Method, MethodData, Purpose, Verified, normalize_code};
use crate::account::Account;
use crate::audit::{AuditAction, AuditEvent, RequestContext, RequestLanguage};
use crate::challenge::{self, ChallengeState, ChallengeStatus, SentChallenge};
use crate::error::{Error, NotAllowed, Problem, Result};
use crate::flow::FlowState;
use crate::flow::effect::{Activation, Effect, FlowMove};
use crate::flow::sign_in::Event;
use crate::ids::{ChallengeId, MethodId};
use crate::message::{Body, Channel, Envelope, Message, MessageStatus, SecurityEvent, Topic};
use crate::policy::{Policy, VoiceMode};
use crate::random;
use crate::service::{Auth, Tessera};
use crate::store::delivery::SendCount;
use time::{Duration, OffsetDateTime};

/// Kinds whose challenges are sent.
pub fn sends_codes(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::PhoneMobile | Kind::PhoneAlternate | Kind::PhoneOffice | Kind::Email
    )
}

/// Where a method's messages go.
struct Destination {
    channel: Channel,
    to: String,
    extension: Option<String>,
    region: Option<String>,
}

fn destination(method: &Method, via: Option<Channel>) -> Result<Destination> {
    match &method.data {
        MethodData::Phone {
            number,
            region,
            extension,
            delivery,
            ..
        } => {
            // Asked for, else the way the person chose with their default, else what the
            // phone was registered for.
            let asked = via.or_else(|| method.way.and_then(|w| w.channel()));
            let channel = match (method.kind, asked.unwrap_or(*delivery)) {
                (Kind::PhoneMobile, c @ (Channel::Sms | Channel::Voice)) => c,
                (_, Channel::Voice) => Channel::Voice,
                _ => return Err(Error::bad("delivery", Problem::Invalid)),
            };
            Ok(Destination {
                channel,
                to: number.clone(),
                extension: extension.clone(),
                region: Some(region.clone()),
            })
        }
        MethodData::Email { address } => match via {
            None | Some(Channel::Email) => Ok(Destination {
                channel: Channel::Email,
                to: address.clone(),
                extension: None,
                region: None,
            }),
            Some(_) => Err(Error::bad("delivery", Problem::Invalid)),
        },
        _ => Err(Error::NotAllowed(NotAllowed::MethodNotUsable)),
    }
}

/// The language of a code's text, call or email, asked for by the person in front of the
/// browser that will type it: the one picked there, else their own choice, else that
/// browser's (a reset's codes come before any sign-in remembered it), else the one remembered.
fn code_locale(account: &Account, ctx: &RequestContext) -> String {
    match (&ctx.language, &account.locale) {
        (Some(RequestLanguage::Chosen(tag)), _) | (_, Some(tag)) => tag.clone(),
        (Some(RequestLanguage::Browser(tag)), None) => tag.clone(),
        (None, None) => account.message_locale(),
    }
}

/// Seconds until a window that began at `oldest` lets one more through.
fn wait(oldest: Option<OffsetDateTime>, window: Duration, now: OffsetDateTime) -> u64 {
    oldest
        .map(|o| (o + window - now).whole_seconds().max(1) as u64)
        .unwrap_or(window.whole_seconds() as u64)
}

fn over(count: SendCount, limit: u32) -> bool {
    count.count >= u64::from(limit)
}

impl Tessera {
    /// The challenge of a phone or an email address: a new code by the way it was
    /// registered for.
    pub(crate) async fn challenge_sent_code(
        &self,
        method: &Method,
        purpose: Purpose,
        ctx: &RequestContext,
    ) -> Result<Challenge> {
        self.send_code(method, purpose, None, ctx).await
    }

    /// Sends a new code (or places a call) for `purpose`, by `via` when the person chose.
    pub(crate) async fn send_code(
        &self,
        method: &Method,
        purpose: Purpose,
        via: Option<Channel>,
        ctx: &RequestContext,
    ) -> Result<Challenge> {
        let policy = self.policy().await?;
        let account = self
            .store
            .account(method.account_id)
            .await?
            .ok_or(Error::NotFound)?;
        let (challenge, message, audit) = self
            .prepare_challenge(method, &account, purpose, via, &policy, ctx)
            .await?;
        self.store
            .insert_challenge(&challenge, &message, &audit)
            .await?;
        Ok(Challenge {
            sent_to: super::detail(method),
            ..Challenge::nothing_sent(method)
        })
    }

    /// A new challenge and its message, after every limit agreed.
    async fn prepare_challenge(
        &self,
        method: &Method,
        account: &Account,
        purpose: Purpose,
        via: Option<Channel>,
        policy: &Policy,
        ctx: &RequestContext,
    ) -> Result<(SentChallenge, Message, AuditEvent)> {
        let dest = destination(method, via)?;
        if let Some(region) = &dest.region
            && !policy.allows_country(region)
        {
            return Err(Error::NotAllowed(NotAllowed::CountryNotAllowed));
        }
        let now = self.now();
        let binding = purpose.binding();
        if let Some(latest) = self
            .store
            .latest_challenge(method.id, purpose.as_str(), &binding)
            .await?
            && now < latest.challenge.resend_after
        {
            return Err(Error::RateLimited {
                retry_after: (latest.challenge.resend_after - now).whole_seconds().max(1) as u64,
            });
        }
        let hour = Duration::hours(1);
        let minute = Duration::minutes(1);
        let counts = self
            .store
            .send_counts(account.id, &dest.to, now - hour, now - minute)
            .await?;
        // A reset's codes have per-account and per-destination budgets of their own, which
        // the reset flow counts before it gets here (`flow::reset`); the store's counts are
        // the sign-in's and leave them out. The global limit is everyone's.
        let own_budget = matches!(purpose, Purpose::Reset(_));
        let refused = if over(counts.global, policy.sends_per_minute) {
            Some(wait(counts.global.oldest, minute, now))
        } else if own_budget {
            None
        } else if over(counts.account, policy.sends_per_account_hour) {
            Some(wait(counts.account.oldest, hour, now))
        } else if over(counts.destination, policy.sends_per_destination_hour) {
            Some(wait(counts.destination.oldest, hour, now))
        } else {
            None
        };
        if let Some(retry_after) = refused {
            return Err(Error::RateLimited { retry_after });
        }

        let id = ChallengeId::new(self.rng.as_ref());
        // A call reads no code when it can ask for # instead; a reset always needs a code,
        // since its flow has no one waiting to be told of an approval.
        let confirm = dest.channel == Channel::Voice
            && policy.voice_mode == VoiceMode::Confirm
            && !matches!(purpose, Purpose::Reset(_));
        let (code_mac, body) = if confirm {
            (
                None,
                Body::CallConfirm {
                    purpose: purpose.as_str().into(),
                },
            )
        } else {
            let code: String = (0..policy.code_length.clamp(6, 8))
                .map(|_| char::from(b'0' + random::below(self.rng.as_ref(), 10) as u8))
                .collect();
            let mac = self
                .keys
                .mac(challenge::MAC_CONTEXT, &challenge::mac_input(id, &code));
            let body = Body::Code {
                code,
                purpose: purpose.as_str().into(),
                minutes: policy.code_secs.div_ceil(60),
            };
            (Some(mac), body)
        };
        let message = Message::new(
            Envelope {
                account_id: Some(account.id),
                channel: dest.channel,
                topic: Topic::Code,
                to: dest.to,
                extension: dest.extension,
                locale: code_locale(account, ctx),
                challenge_id: Some(id),
            },
            &body,
            &self.keys,
            self.rng.as_ref(),
            now,
        )?;
        let challenge = SentChallenge {
            id,
            method_id: method.id,
            account_id: account.id,
            purpose: purpose.as_str().into(),
            binding,
            channel: dest.channel,
            code_mac,
            status: ChallengeStatus::Open,
            failures: 0,
            created_at: now,
            expires_at: now + Duration::seconds(policy.code_secs as i64),
            resend_after: now + Duration::seconds(policy.resend_cooldown_secs as i64),
            message_id: Some(message.id),
        };
        let audit = self
            .audit(ctx, Some(account.id), AuditAction::ChallengeSent)
            .method(method.id)
            .detail(serde_json::json!({
                "channel": dest.channel.as_str(),
                "purpose": purpose.as_str(),
            }));
        Ok((challenge, message, audit))
    }

    /// Stores a new pending method; a phone or email gets its first code in the same
    /// transaction.
    pub(crate) async fn insert_new_method(
        &self,
        method: &Method,
        audit: &AuditEvent,
        ctx: &RequestContext,
    ) -> Result<()> {
        if !sends_codes(method.kind) {
            return Ok(self.store.insert_method(method, audit).await?);
        }
        let policy = self.policy().await?;
        let account = self
            .store
            .account(method.account_id)
            .await?
            .ok_or(Error::NotFound)?;
        let (challenge, message, sent) = self
            .prepare_challenge(
                method,
                &account,
                Purpose::Register(method.id),
                None,
                &policy,
                ctx,
            )
            .await?;
        Ok(self
            .store
            .insert_method_with_challenge(method, audit, &challenge, &message, &sent)
            .await?)
    }

    /// Checks a typed code against the newest challenge sent for `purpose`.
    pub(crate) async fn check_sent_code(
        &self,
        method: &Method,
        purpose: Purpose,
        code: &str,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<Verified> {
        let now = self.now();
        let Some(ChallengeState {
            challenge,
            delivery,
        }) = self
            .store
            .latest_challenge(method.id, purpose.as_str(), &purpose.binding())
            .await?
        else {
            // Nothing was sent for this purpose: no code can be right.
            return Err(Error::InvalidCode);
        };
        if challenge.status != ChallengeStatus::Open || challenge.is_expired(now) {
            return Err(Error::Expired);
        }
        if delivery == Some(MessageStatus::Failed) {
            return Err(Error::DeliveryFailed);
        }
        self.reserve_attempt_for(method, purpose.into(), ctx, policy)
            .await?;
        let matches = match (&challenge.code_mac, normalize_code(code)) {
            (Some(mac), Some(code)) => self.keys.mac_matches(
                challenge::MAC_CONTEXT,
                &challenge::mac_input(challenge.id, &code),
                mac,
            ),
            _ => false,
        };
        if matches {
            if self.store.use_challenge(challenge.id, now).await? {
                return Ok(Verified {
                    step: None,
                    reserved: true,
                });
            }
            return Err(Error::Expired);
        }
        self.store
            .challenge_failed(challenge.id, policy.code_tries)
            .await?;
        Err(self
            .code_failed_for(
                method,
                purpose.into(),
                ctx,
                policy,
                AuditAction::CodeRejected,
            )
            .await)
    }

    /// The gateway reports that the person pressed # on a call: the challenge is approved,
    /// and with it the sign-in, step-up or registration that asked for it. False when the
    /// challenge is unknown, over, or not a call that asks for #.
    pub async fn confirm_call(&self, id: ChallengeId, ctx: &RequestContext) -> Result<bool> {
        self.approve_call(id, ctx, |challenge| {
            self.audit(ctx, Some(challenge.account_id), AuditAction::CallConfirmed)
        })
        .await
    }

    /// The challenge of a call that still waits for #, if `id` is one.
    pub(crate) async fn waiting_call(&self, id: ChallengeId) -> Result<Option<SentChallenge>> {
        let now = self.now();
        Ok(self
            .store
            .challenge(id)
            .await?
            .filter(|c| c.status == ChallengeStatus::Open && !c.is_expired(now) && c.is_confirm()))
    }

    /// Approves a call that waits for #, recorded with the audit event `audit` makes (the
    /// gateway's report, or an admin answering a call the development outbox kept).
    pub(crate) async fn approve_call(
        &self,
        id: ChallengeId,
        ctx: &RequestContext,
        audit: impl FnOnce(&SentChallenge) -> AuditEvent,
    ) -> Result<bool> {
        let Some(challenge) = self.waiting_call(id).await? else {
            return Ok(false);
        };
        let now = self.now();
        let Some(effects) = self.call_effects(&challenge, ctx).await? else {
            return Ok(false);
        };
        let mut audit = audit(&challenge).method(challenge.method_id);
        if let Some(detail) = audit.detail.as_object_mut() {
            detail.insert("purpose".into(), challenge.purpose.clone().into());
        } else {
            audit.detail = serde_json::json!({ "purpose": challenge.purpose });
        }
        Ok(self
            .store
            .approve_challenge(id, now, &effects, &audit)
            .await?)
    }

    /// What a call answered with # proves, by the purpose of its challenge: the sign-in flow
    /// approved, the step-up session marked, or the registration activated (the default when
    /// the account has none) with notes to the person's other channels. `None` when nothing
    /// can come of it (a reset's gates are not passed by calls; a method gone).
    async fn call_effects(
        &self,
        challenge: &SentChallenge,
        ctx: &RequestContext,
    ) -> Result<Option<Vec<Effect>>> {
        let now = self.now();
        let used = Effect::MethodUsed {
            method: challenge.method_id,
            at: now,
        };
        let purpose = Purpose::parse(&challenge.purpose, &challenge.binding);
        // The phone that answered is what the session records as its second factor.
        let answered =
            |purpose: &Purpose| matches!(purpose, Purpose::SignIn(_) | Purpose::StepUp(_));
        let kind = match &purpose {
            Some(p) if answered(p) => match self.store.method(challenge.method_id).await? {
                Some(method) => Some(method.kind),
                None => return Ok(None),
            },
            _ => None,
        };
        Ok(match (purpose, kind) {
            (Some(Purpose::SignIn(flow)), Some(kind)) => {
                FlowMove::new(flow, FlowState::MfaRequired, Event::ApprovedOutOfBand).map(
                    |approved| {
                        let approved = approved.if_current_at(now).approved_by(kind);
                        vec![Effect::MoveFlow(approved), used]
                    },
                )
            }
            (Some(Purpose::StepUp(session)), Some(kind)) => Some(vec![
                Effect::SecondFactor {
                    session,
                    at: now,
                    kind,
                },
                used,
            ]),
            (Some(Purpose::Register(_)), _) => {
                let (Some(method), Some(account)) = (
                    self.store.method(challenge.method_id).await?,
                    self.store.account(challenge.account_id).await?,
                ) else {
                    return Ok(None);
                };
                let notes = self
                    .notifications(&account, &method, SecurityEvent::MethodAdded, ctx)
                    .await?;
                let activation = Activation {
                    method: method.id,
                    step: None,
                    now,
                    make_default: account.default_method.is_none(),
                    by: None,
                };
                Some(vec![
                    Effect::Activate(activation),
                    used,
                    Effect::Notes(notes),
                ])
            }
            (Some(Purpose::Reset(_) | Purpose::SignIn(_) | Purpose::StepUp(_)), _) | (None, _) => {
                None
            }
        })
    }

    /// The newest challenge of one of the person's methods for `purpose`, so a page can
    /// say where it went and whether delivery failed.
    pub async fn sent_challenge(
        &self,
        method: MethodId,
        purpose: Purpose,
    ) -> Result<Option<ChallengeState>> {
        Ok(self
            .store
            .latest_challenge(method, purpose.as_str(), &purpose.binding())
            .await?)
    }

    /// Sends a pending phone or email registration a new code (after the cool-down).
    pub async fn register_resend(
        &self,
        auth: &Auth,
        id: MethodId,
        via: Option<Channel>,
        ctx: &RequestContext,
    ) -> Result<Challenge> {
        let method = self
            .store
            .method(id)
            .await?
            .filter(|m| m.account_id == auth.account.id)
            .ok_or(Error::NotFound)?;
        if method.is_active() {
            return Err(Error::bad("id", Problem::Invalid));
        }
        if method.expires_at.is_some_and(|e| e <= self.now()) {
            return Err(Error::Expired);
        }
        if !sends_codes(method.kind) {
            return Err(Error::bad("id", Problem::Invalid));
        }
        self.send_code(&method, Purpose::Register(method.id), via, ctx)
            .await
    }
}
