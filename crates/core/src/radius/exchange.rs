//! One RADIUS exchange, as core sees it: the password (PAP) through the sign-in's own check
//! (the same Argon2id, the same per-account wait on guesses), then the second factor by
//! Access-Challenge, answered with a code, or by a notification approved in the app.
//!
//! The challenge's state is a sign-in flow in the store, so any node can take the second
//! round; the RADIUS `State` names the flow and the method challenged, under a MAC that
//! binds them to the client, so a State is worth nothing from another client or forged. The
//! flow completes in the commit that accepts the code: a second use of the State finds it
//! completed and is refused.

use super::client::RadiusClient;
use crate::account::{Account, normalize_username};
use crate::audit::{AuditAction, RequestContext};
use crate::error::{Error, Result};
use crate::flow::effect::{Effect, FlowMove};
use crate::flow::sign_in::{Event, PasswordProof};
use crate::flow::{FlowState, SignInFlow};
use crate::ids::{FlowId, MethodId};
use crate::message::Channel;
use crate::method::way::Way;
use crate::method::{Kind, Method, Purpose, Response};
use crate::service::Tessera;
use crate::store::push::PushStatus;
use std::net::IpAddr;
use time::Duration;
use uuid::Uuid;
use zeroize::Zeroizing;

/// The MAC's context in the key ring.
const STATE_MAC: &str = "radius state v1";
/// Kinds whose code can be typed at a RADIUS prompt; the rest (a security key, a call, an
/// email) cannot be used over RADIUS and are never offered.
const ANSWERABLE: [Kind; 5] = [
    Kind::AuthenticatorApp,
    Kind::AuthenticatorCode,
    Kind::PhoneMobile,
    Kind::RecoveryCodes,
    Kind::TemporaryAccessPass,
];
/// Kinds whose code needs nothing sent first.
const CODE_KINDS: [Kind; 4] = [
    Kind::AuthenticatorCode,
    Kind::AuthenticatorApp,
    Kind::RecoveryCodes,
    Kind::TemporaryAccessPass,
];

/// Who asks: the client and what the request says of where the person is.
#[derive(Debug, Clone)]
pub struct RadiusAsker<'a> {
    pub client: &'a RadiusClient,
    /// The packet's source address.
    pub source: IpAddr,
    pub calling_station_id: Option<String>,
}

impl RadiusAsker<'_> {
    /// The audit's context: the client's address, and as "user agent" the client's name and
    /// `Calling-Station-Id` (the person's address or MAC, as the client sees it).
    fn ctx(&self) -> RequestContext {
        let mut agent = format!("RADIUS {}", self.client.name);
        if let Some(id) = &self.calling_station_id {
            agent.push_str(&format!("; Calling-Station-Id {id}"));
        }
        RequestContext {
            ip: Some(self.source),
            user_agent: Some(agent),
            language: None,
        }
    }
}

/// What the person is asked at the challenge (the server words it in their language).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// A code from the authenticator app (or a hardware token).
    AppCode,
    /// A code just texted to the phone (masked number).
    TextedCode { sent_to: Option<String> },
    /// A recovery code or a temporary access pass.
    OtherCode,
    /// A notification went to the app: approve it with this number, then press Enter (or
    /// type a code instead).
    Push { number: u8 },
}

/// Why a request was refused (the audit's `reason`; the person may see a message for some).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    InvalidCredentials,
    InvalidCode,
    Locked,
    RateLimited,
    /// The State names no open flow of this client and user: used, expired or forged.
    StaleState,
    /// The policy requires security info the account lacks, or one only the web can do.
    RegistrationRequired,
    PasswordChangeRequired,
    /// No method the person has can be answered over RADIUS.
    NoUsableMethod,
    PushDenied,
    PushExpired,
}

impl Refusal {
    pub fn as_str(&self) -> &'static str {
        match self {
            Refusal::InvalidCredentials => "invalid_credentials",
            Refusal::InvalidCode => "invalid_code",
            Refusal::Locked => "locked",
            Refusal::RateLimited => "rate_limited",
            Refusal::StaleState => "stale_state",
            Refusal::RegistrationRequired => "registration_required",
            Refusal::PasswordChangeRequired => "password_change_required",
            Refusal::NoUsableMethod => "no_usable_method",
            Refusal::PushDenied => "push_denied",
            Refusal::PushExpired => "push_expired",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Accept,
    Reject(Refusal),
    Challenge {
        state: Vec<u8>,
        prompt: Prompt,
        /// The person's language for the prompt: their saved choice, else English.
        language: String,
    },
    /// The second round of a notification: hold the request until the flow moves (or
    /// `until`), then ask [`Tessera::radius_push_outcome`].
    AwaitPush {
        flow: FlowId,
        until: time::OffsetDateTime,
    },
}

/// The State's bytes: flow id, method id, MAC over both and the client.
fn encode_state(t: &Tessera, client: &RadiusClient, flow: FlowId, method: MethodId) -> Vec<u8> {
    let mut state = Vec::with_capacity(68);
    state.extend_from_slice(flow.0.as_bytes());
    state.extend_from_slice(method.0.as_bytes());
    let mac = t.keys.mac(STATE_MAC, &state_data(client, &state));
    state.extend_from_slice(&mac);
    state
}

fn state_data(client: &RadiusClient, ids: &[u8]) -> Vec<u8> {
    [client.id.0.as_bytes().as_slice(), ids].concat()
}

fn decode_state(t: &Tessera, client: &RadiusClient, state: &[u8]) -> Option<(FlowId, MethodId)> {
    if state.len() <= 32 {
        return None;
    }
    let (ids, mac) = state.split_at(32);
    if !t.keys.mac_matches(STATE_MAC, &state_data(client, ids), mac) {
        return None;
    }
    let flow = Uuid::from_slice(&ids[..16]).ok()?;
    let method = Uuid::from_slice(&ids[16..]).ok()?;
    Some((FlowId(flow), MethodId(method)))
}

impl Tessera {
    /// The first round: `User-Name` and `User-Password`. Every final answer is audited.
    pub async fn radius_password(
        &self,
        asker: &RadiusAsker<'_>,
        username: &str,
        password: Zeroizing<String>,
    ) -> Result<Answer> {
        let answer = self.radius_first_round(asker, username, password).await;
        self.radius_audit(asker, username, None, answer).await
    }

    async fn radius_first_round(
        &self,
        asker: &RadiusAsker<'_>,
        username: &str,
        password: Zeroizing<String>,
    ) -> Result<(Answer, Option<Account>)> {
        let ctx = asker.ctx();
        let policy = self.policy().await?;
        let proof = self
            .check_sign_in_password(username, password, &ctx, policy.app_passwords_allowed)
            .await;
        let account = match proof {
            Ok(PasswordProof::AppPassword(account)) => return Ok((Answer::Accept, Some(account))),
            Ok(PasswordProof::Password(account)) => account,
            Err(e) => return refusal(e).map(|r| (Answer::Reject(r), None)),
        };
        let reject = |r| Ok((Answer::Reject(r), Some(account.clone())));
        // As it applies to this person: their groups may require two-step verification.
        let policy = self.policy_for(&account).await?;
        if self.store.password_change_required(account.id).await? {
            return reject(Refusal::PasswordChangeRequired);
        }
        let methods = self.store.methods_of(account.id).await?;
        let methods = self.without_lapsed_passes(methods).await?;
        let usable: Vec<&Method> = Self::usable_for_sign_in(&policy, &methods);
        let needs = self.needs(&policy, &methods);
        // As the web sign-in: no second factor asked when the policy requires none and the
        // account needs nothing more; but RADIUS cannot walk anyone through registration.
        if !needs.met() {
            return reject(Refusal::RegistrationRequired);
        }
        if usable.is_empty() || !policy.two_step_required {
            return Ok((Answer::Accept, Some(account)));
        }
        let answerable: Vec<&Method> = usable
            .into_iter()
            .filter(|m| ANSWERABLE.contains(&m.kind))
            .collect();
        let Some(first) = answerable.first() else {
            return reject(Refusal::NoUsableMethod);
        };
        let chosen = account
            .default_method
            .and_then(|d| answerable.iter().find(|m| m.id == d))
            .unwrap_or(first);
        let now = self.now();
        let flow = SignInFlow {
            id: FlowId::new(self.rng.as_ref()),
            account_id: account.id,
            state: FlowState::MfaRequired,
            created_at: now,
            expires_at: now + Duration::seconds(policy.flow_secs as i64),
            approved_kind: None,
        };
        self.store.insert_flow(&flow).await?;
        let audit = self.audit(&ctx, Some(account.id), AuditAction::SignInPasswordAccepted);
        self.store.append_audit(&audit).await?;
        let purpose = Purpose::SignIn(flow.id);
        // The app asks by notification unless the person chose its code as the way (a phone
        // always texts here: a call that asks for # cannot be heard over RADIUS).
        let by_code = crate::method::way::first_way(chosen, &policy) == Some(Way::Code);
        let (method, prompt) = match chosen.kind {
            Kind::AuthenticatorApp if by_code => (*chosen, Prompt::AppCode),
            Kind::AuthenticatorApp => match self
                .start_challenge_via(chosen, purpose, None, &ctx)
                .await
            {
                Ok(challenge) => match challenge.number {
                    Some(number) => (*chosen, Prompt::Push { number }),
                    None => (*chosen, Prompt::AppCode),
                },
                // No notification (a limit on them): the app's code still works.
                Err(Error::RateLimited { .. } | Error::NotAllowed(_)) => (*chosen, Prompt::AppCode),
                Err(e) => return Err(e),
            },
            Kind::PhoneMobile => {
                match self
                    .start_challenge_via(chosen, purpose, Some(Channel::Sms), &ctx)
                    .await
                {
                    Ok(challenge) => (
                        *chosen,
                        Prompt::TextedCode {
                            sent_to: challenge.sent_to,
                        },
                    ),
                    // No text now (a send limit): another code method if there is one.
                    Err(e @ (Error::RateLimited { .. } | Error::DeliveryFailed)) => {
                        match answerable.iter().find(|m| CODE_KINDS.contains(&m.kind)) {
                            Some(other) => (*other, prompt_for(other.kind)),
                            None => {
                                return refusal(e)
                                    .map(|r| (Answer::Reject(r), Some(account.clone())));
                            }
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            kind => (*chosen, prompt_for(kind)),
        };
        let state = encode_state(self, asker.client, flow.id, method.id);
        let language = account.locale.clone().unwrap_or_else(|| "en".into());
        Ok((
            Answer::Challenge {
                state,
                prompt,
                language,
            },
            Some(account),
        ))
    }

    /// The second round: the State of the challenge and what the person typed (a code, or
    /// nothing to wait for the notification).
    pub async fn radius_response(
        &self,
        asker: &RadiusAsker<'_>,
        username: &str,
        state: &[u8],
        typed: Zeroizing<String>,
    ) -> Result<Answer> {
        let answer = self
            .radius_second_round(asker, username, state, typed)
            .await;
        self.radius_audit(asker, username, Some(state), answer)
            .await
    }

    /// The open flow a State names, for this client and this user.
    async fn radius_flow(
        &self,
        asker: &RadiusAsker<'_>,
        username: &str,
        state: &[u8],
    ) -> Result<Option<(SignInFlow, MethodId, Account)>> {
        let Some((flow_id, method)) = decode_state(self, asker.client, state) else {
            return Ok(None);
        };
        let Some(flow) = self.store.flow(flow_id).await? else {
            return Ok(None);
        };
        let Some(account) = self.store.account(flow.account_id).await? else {
            return Ok(None);
        };
        let same_user = normalize_username(username).is_ok_and(|u| u == account.username);
        if !same_user || flow.is_expired(self.now()) {
            return Ok(None);
        }
        Ok(Some((flow, method, account)))
    }

    async fn radius_second_round(
        &self,
        asker: &RadiusAsker<'_>,
        username: &str,
        state: &[u8],
        typed: Zeroizing<String>,
    ) -> Result<(Answer, Option<Account>)> {
        let Some((flow, challenged, account)) = self.radius_flow(asker, username, state).await?
        else {
            return Ok((Answer::Reject(Refusal::StaleState), None));
        };
        let typed = typed.trim();
        match flow.state {
            FlowState::MfaRequired => {}
            FlowState::Approved => {
                let answer = self.radius_complete_approved(asker, &flow).await?;
                return Ok((answer, Some(account)));
            }
            _ => return Ok((Answer::Reject(Refusal::StaleState), Some(account))),
        }
        if typed.is_empty() {
            // Waiting for the notification, while it may still be answered (or was just
            // approved, after the flow above was read: the wait then finds the flow moved).
            let push = self.sign_in_push(flow.id).await?;
            let waiting = |s| matches!(s, PushStatus::Pending | PushStatus::Approved);
            return Ok(match push {
                Some(p) if waiting(p.status_at(self.now())) => (
                    Answer::AwaitPush {
                        flow: flow.id,
                        until: p.expires_at,
                    },
                    Some(account),
                ),
                Some(_) => (Answer::Reject(Refusal::PushExpired), Some(account)),
                None => (Answer::Reject(Refusal::InvalidCode), Some(account)),
            });
        }
        let answer = self
            .radius_check_code(asker, &flow, challenged, typed)
            .await?;
        Ok((answer, Some(account)))
    }

    /// Tries the code on the challenged method first, then on the other methods whose codes
    /// need nothing sent; a wrong code counts against each one tried, as the verification
    /// API does. The first that takes it completes the flow in the same commit.
    async fn radius_check_code(
        &self,
        asker: &RadiusAsker<'_>,
        flow: &SignInFlow,
        challenged: MethodId,
        code: &str,
    ) -> Result<Answer> {
        let ctx = asker.ctx();
        let policy = self.policy().await?;
        let methods = self.store.methods_of(flow.account_id).await?;
        let methods = self.without_lapsed_passes(methods).await?;
        let mut candidates: Vec<&Method> = Self::usable_for_sign_in(&policy, &methods)
            .into_iter()
            .filter(|m| m.id == challenged || CODE_KINDS.contains(&m.kind))
            .collect();
        candidates.sort_by_key(|m| m.id != challenged);
        let purpose = Purpose::SignIn(flow.id);
        let response = Response::Code(code.to_string());
        let (mut wrong, mut locked) = (false, false);
        for method in candidates {
            let verified = match self
                .check_response(method, purpose, &response, &ctx, &policy)
                .await
            {
                Ok(verified) => verified,
                Err(Error::Locked { .. }) => {
                    locked = true;
                    continue;
                }
                Err(
                    Error::InvalidCode
                    | Error::Expired
                    | Error::NotAllowed(_)
                    | Error::BadRequest { .. },
                ) => {
                    wrong = true;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let done = FlowMove::new(
                flow.id,
                FlowState::MfaRequired,
                Event::SecondFactorProven { needs_met: true },
            )
            .ok_or(Error::Expired)?;
            let audit = self
                .audit(&ctx, Some(flow.account_id), AuditAction::SignInSucceeded)
                .method(method.id);
            return match self
                .accept_response(
                    method,
                    verified,
                    &[Effect::MoveFlow(done)],
                    vec![audit],
                    &ctx,
                    &policy,
                )
                .await
            {
                Ok(()) => Ok(Answer::Accept),
                // The flow completed meanwhile: this State was used.
                Err(Error::Expired) => Ok(Answer::Reject(Refusal::StaleState)),
                Err(Error::Locked { .. }) => Ok(Answer::Reject(Refusal::Locked)),
                Err(Error::InvalidCode) => Ok(Answer::Reject(Refusal::InvalidCode)),
                Err(e) => Err(e),
            };
        }
        Ok(Answer::Reject(if locked && !wrong {
            Refusal::Locked
        } else {
            Refusal::InvalidCode
        }))
    }

    /// Where a flow awaiting its notification stands: `None` while it still waits.
    pub async fn radius_push_outcome(
        &self,
        asker: &RadiusAsker<'_>,
        username: &str,
        flow: FlowId,
    ) -> Result<Option<Answer>> {
        let Some(found) = self.store.flow(flow).await? else {
            return Ok(Some(Answer::Reject(Refusal::StaleState)));
        };
        let answer = match found.state {
            FlowState::Approved => self.radius_complete_approved(asker, &found).await?,
            FlowState::Denied => Answer::Reject(Refusal::PushDenied),
            FlowState::MfaRequired => {
                let push = self.sign_in_push(flow).await?;
                match push.map(|p| p.status_at(self.now())) {
                    // Approved moves the flow in the same commit; a flow read just before
                    // it and the request just after is a look to make again, not an expiry.
                    Some(PushStatus::Pending | PushStatus::Approved) => return Ok(None),
                    Some(PushStatus::Failed) => Answer::Reject(Refusal::InvalidCode),
                    Some(PushStatus::Denied | PushStatus::Reported) => {
                        Answer::Reject(Refusal::PushDenied)
                    }
                    _ => Answer::Reject(Refusal::PushExpired),
                }
            }
            _ => Answer::Reject(Refusal::StaleState),
        };
        let account = self.store.account(found.account_id).await?;
        let answer = Ok((answer, account));
        self.radius_audit(asker, username, None, answer)
            .await
            .map(Some)
    }

    /// A flow approved by notification completes (without a session: RADIUS has none).
    async fn radius_complete_approved(
        &self,
        asker: &RadiusAsker<'_>,
        flow: &SignInFlow,
    ) -> Result<Answer> {
        let done = FlowMove::new(
            flow.id,
            FlowState::Approved,
            Event::HandedOver { needs_met: true },
        )
        .ok_or(Error::Expired)?;
        let audit = self.audit(
            &asker.ctx(),
            Some(flow.account_id),
            AuditAction::SignInSucceeded,
        );
        Ok(if self.store.move_flow(&done, &audit).await? {
            Answer::Accept
        } else {
            Answer::Reject(Refusal::StaleState)
        })
    }

    /// Audits a final answer (a challenge or a wait is not one) naming the client and
    /// `Calling-Station-Id`.
    async fn radius_audit(
        &self,
        asker: &RadiusAsker<'_>,
        username: &str,
        state: Option<&[u8]>,
        answer: Result<(Answer, Option<Account>)>,
    ) -> Result<Answer> {
        let (answer, account) = answer?;
        let (action, reason) = match &answer {
            Answer::Accept => (AuditAction::RadiusAccepted, None),
            Answer::Reject(r) => (AuditAction::RadiusRejected, Some(r.as_str())),
            Answer::Challenge { .. } | Answer::AwaitPush { .. } => return Ok(answer),
        };
        let mut detail = serde_json::json!({
            "client": asker.client.id.to_string(),
            "client_name": asker.client.name,
            "calling_station_id": asker.calling_station_id,
            "round": if state.is_some() { 2 } else { 1 },
        });
        if let Some(map) = detail.as_object_mut() {
            if let Some(reason) = reason {
                map.insert("reason".into(), reason.into());
            }
            if account.is_none() {
                map.extend(self.typed_username_detail(username, None));
            }
        }
        let audit = self
            .audit(&asker.ctx(), account.as_ref().map(|a| a.id), action)
            .detail(detail);
        self.store.append_audit(&audit).await?;
        Ok(answer)
    }

    /// A request refused before it was looked at: no valid Message-Authenticator from a
    /// client that requires one (BlastRADIUS). Audited, then dropped.
    pub async fn radius_refused(&self, asker: &RadiusAsker<'_>, why: &str) -> Result<()> {
        let detail = serde_json::json!({
            "client": asker.client.id.to_string(),
            "client_name": asker.client.name,
            "calling_station_id": asker.calling_station_id,
            "reason": why,
        });
        let audit = self
            .audit(&asker.ctx(), None, AuditAction::RadiusRefused)
            .detail(detail);
        Ok(self.store.append_audit(&audit).await?)
    }
}

fn prompt_for(kind: Kind) -> Prompt {
    match kind {
        Kind::AuthenticatorApp | Kind::AuthenticatorCode => Prompt::AppCode,
        _ => Prompt::OtherCode,
    }
}

/// The refusal an error of the password step is, or the error itself.
fn refusal(e: Error) -> Result<Refusal> {
    match e {
        Error::InvalidCredentials => Ok(Refusal::InvalidCredentials),
        Error::RateLimited { .. } => Ok(Refusal::RateLimited),
        Error::Locked { .. } => Ok(Refusal::Locked),
        Error::DeliveryFailed => Ok(Refusal::NoUsableMethod),
        // Locked, disabled or expired in the directory. An outage stays an error: unanswered,
        // so the client retries or fails over.
        Error::DirectoryRefused { .. } => Ok(Refusal::Locked),
        e => Err(e),
    }
}
