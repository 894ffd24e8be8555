//! The flows as a person meets them, through the public [`Tessera`] API over the in-memory
//! store on a fake clock: no database, no server, no waiting, so the whole set runs in about
//! a second.
//!
//! Everything a person would hold is real: TOTP codes are computed from the secret the
//! enrolment showed, sent codes are read from the outbox the way the delivery worker reads
//! them (claimed, then opened with the key ring), notifications are answered with a signature
//! of the device's own key, and calls are answered with # through the gateway's path.
//!
//! Security keys are not here: core has no software authenticator (webauthn-authenticator-rs
//! is only a dependency of the server's suites, which cover them).

mod lockout;
mod radius;
mod registration;
mod reset;
mod sign_in;
mod step_up;

use crate::account::Account;
use crate::admin::NewAccount;
use crate::audit::RequestContext;
use crate::clock::{Clock, FakeClock};
use crate::error::Result;
use crate::flow::{FlowStatus, SignInOutcome};
use crate::ids::{ChallengeId, FlowId, MethodId};
use crate::message::{Body, Channel};
use crate::method::authenticator_app::device::{ActivationRequest, AppRegistration};
use crate::method::authenticator_app::push::SignedAnswer;
use crate::method::authenticator_app::{Decision, activation_message, answer_message};
use crate::method::phone::PhoneRequest;
use crate::method::{Enrollment, Kind, Method, RegisterRequest, authenticator_code};
use crate::password::Argon2Passwords;
use crate::random::OsRandom;
use crate::secret::KeyRing;
use crate::service::{Auth, Tessera};
use crate::store::Store;
use crate::store::memory::MemoryStore;
use crate::store::push::{KeyAlgorithm, PushStatus};
use data_encoding::BASE32_NOPAD;
use ed25519_dalek::{Signer, SigningKey};
use std::sync::{Arc, Mutex};
use time::Duration;
use zeroize::Zeroizing;

/// Everyone's password in these tests.
pub(super) const PASSWORD: &str = "correct horse battery";
/// A mobile phone (texts and calls) and a landline (calls only), as E.164.
pub(super) const MOBILE: &str = "+31612345678";
pub(super) const LANDLINE: &str = "+31201234567";

/// A message as it reached a phone.
#[derive(Debug, Clone)]
struct Delivered {
    to: String,
    challenge: Option<ChallengeId>,
    body: Body,
}

/// One organization: Tessera over a fresh memory store, its fake clock, and the phones'
/// inbox.
pub(super) struct World {
    pub t: Tessera,
    pub clock: Arc<FakeClock>,
    pub ctx: RequestContext,
    inbox: Mutex<Vec<Delivered>>,
}

/// An authenticator code method and the secret its app holds.
#[derive(Debug, Clone)]
pub(super) struct Totp {
    pub id: MethodId,
    pub secret: String,
}

/// An authenticator app on a phone: its key, its credential and the seed of its codes.
pub(super) struct Device {
    pub id: MethodId,
    key: SigningKey,
    credential: Zeroizing<String>,
    pub totp: Totp,
}

impl World {
    pub async fn new() -> World {
        let clock = Arc::new(FakeClock::at_epoch_2026());
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        // The smallest Argon2id the code allows: hashing is not what these tests are about.
        let passwords = Arc::new(Argon2Passwords::new(8, 1, 1).unwrap());
        let t = Tessera::new(
            store,
            clock.clone(),
            Arc::new(OsRandom),
            Arc::new(KeyRing::generate(&OsRandom)),
            passwords,
            "Tessera tests",
        );
        World {
            t,
            clock,
            ctx: RequestContext::default(),
            inbox: Mutex::new(Vec::new()),
        }
    }

    /// Applies `key=value` changes to the policy, as an admin would.
    pub async fn policy(&self, changes: &[(&str, &str)]) {
        let changes: Vec<(String, String)> = changes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.t
            .local_admin()
            .set_policy(&changes)
            .await
            .unwrap()
            .unwrap();
    }

    pub fn advance(&self, secs: i64) {
        self.clock.advance(Duration::seconds(secs));
    }

    /// On to the next TOTP step, so a code is not a replay of one used in the setup.
    pub fn next_step(&self) {
        self.advance(authenticator_code::STEP_SECS as i64);
    }

    pub async fn create(&self, username: &str) -> Account {
        self.t
            .local_admin()
            .create_account(NewAccount {
                username: username.into(),
                display_name: None,
                password: Zeroizing::new(PASSWORD.into()),
                is_admin: false,
                email: None,
            })
            .await
            .unwrap()
    }

    pub async fn sign_in_with(&self, username: &str, password: &str) -> Result<SignInOutcome> {
        self.t
            .sign_in(username, Zeroizing::new(password.into()), &self.ctx)
            .await
    }

    pub async fn sign_in(&self, username: &str) -> Result<SignInOutcome> {
        self.sign_in_with(username, PASSWORD).await
    }

    /// The password accepted, a second factor asked for: the flow.
    pub async fn mfa(&self, username: &str) -> FlowId {
        match self.sign_in(username).await.unwrap() {
            SignInOutcome::MfaRequired { flow, .. } => flow,
            other => panic!("expected a second factor to be asked, got {other:?}"),
        }
    }

    /// A new account sent to registration: its flow and its registration session.
    pub async fn registering(&self, username: &str) -> (FlowId, Auth) {
        match self.sign_in(username).await.unwrap() {
            SignInOutcome::RegistrationRequired { flow, session } => {
                (flow, self.auth(&session.token).await)
            }
            other => panic!("expected the registration interrupt, got {other:?}"),
        }
    }

    pub async fn auth(&self, token: &str) -> Auth {
        self.t.authenticate(token).await.unwrap()
    }

    pub async fn method(&self, id: MethodId) -> Method {
        self.t.store().method(id).await.unwrap().unwrap()
    }

    /// A new person who registered an authenticator code at the interrupt: the method and
    /// the full session it ended in. The clock is then one step on.
    pub async fn with_totp(&self, username: &str) -> (Totp, Zeroizing<String>) {
        self.create(username).await;
        let (flow, auth) = self.registering(username).await;
        let totp = self.add_totp(&auth).await;
        let token = self.finish_registration(flow, &auth).await;
        self.next_step();
        (totp, token)
    }

    /// The registration session's flow completes: the full session's token.
    pub async fn finish_registration(&self, flow: FlowId, auth: &Auth) -> Zeroizing<String> {
        match self.t.sign_in_status(flow, Some(auth), &self.ctx).await {
            Ok(FlowStatus::SignedIn(Some(session))) => session.token,
            other => panic!("expected the registration to complete, got {other:?}"),
        }
    }

    /// Registers an authenticator code and proves it with the code the app shows.
    pub async fn add_totp(&self, auth: &Auth) -> Totp {
        let proof = self.t.step_up_proof(auth).await.unwrap();
        let request = RegisterRequest::AuthenticatorCode { name: None };
        let (method, enrollment) = self
            .t
            .register_begin(auth, request, proof, &self.ctx)
            .await
            .unwrap();
        let Enrollment::Totp { secret_base32, .. } = enrollment else {
            panic!("an authenticator code enrols with a secret, got {enrollment:?}");
        };
        let totp = Totp {
            id: method.id,
            secret: secret_base32,
        };
        let code = self.code(&totp);
        self.t
            .register_finish(auth, method.id, &code, &self.ctx)
            .await
            .unwrap();
        totp
    }

    /// Registers a phone (`number` in E.164) of `kind`, taking texts or calls, and proves it
    /// with the code texted or the # pressed.
    pub async fn add_phone(
        &self,
        auth: &Auth,
        kind: Kind,
        number: &str,
        delivery: Channel,
    ) -> MethodId {
        let proof = self.t.step_up_proof(auth).await.unwrap();
        let request = RegisterRequest::Phone(PhoneRequest {
            kind,
            country: String::new(),
            number: number.into(),
            extension: None,
            delivery: Some(delivery),
        });
        let (method, _) = self
            .t
            .register_begin(auth, request, proof, &self.ctx)
            .await
            .unwrap();
        match delivery {
            Channel::Voice => assert!(self.press_pound(number).await, "the call waited for #"),
            _ => {
                let code = self.code_sent_to(number).await;
                self.t
                    .register_finish(auth, method.id, &code, &self.ctx)
                    .await
                    .unwrap();
            }
        }
        assert!(self.method(method.id).await.is_active());
        method.id
    }

    /// Registers an authenticator app: the phone activates with the code shown, and its test
    /// notification is approved with the number the page shows.
    pub async fn add_app(&self, auth: &Auth) -> Device {
        let proof = self.t.step_up_proof(auth).await.unwrap();
        let request = RegisterRequest::AuthenticatorApp {
            name: Some("Phone".into()),
        };
        let (method, enrollment) = self
            .t
            .register_begin(auth, request, proof, &self.ctx)
            .await
            .unwrap();
        let Enrollment::AppActivation { code, .. } = enrollment else {
            panic!("an app enrols with an activation code, got {enrollment:?}");
        };
        let key = SigningKey::from_bytes(&crate::random::bytes::<32>(&OsRandom));
        let activated = self
            .t
            .activate_device(
                ActivationRequest {
                    code: code.clone(),
                    algorithm: KeyAlgorithm::Ed25519,
                    public_key: key.verifying_key().to_bytes().to_vec(),
                    proof: key.sign(&activation_message(&code)).to_bytes().to_vec(),
                    device_name: "Pixel".into(),
                    wakeup_url: None,
                },
                &self.ctx,
            )
            .await
            .unwrap();
        let device = Device {
            id: method.id,
            key,
            credential: activated.credential,
            totp: Totp {
                id: method.id,
                secret: activated.totp_secret.to_string(),
            },
        };
        let number = match self.t.app_registration(auth, method.id).await.unwrap().1 {
            AppRegistration::WaitingForApproval {
                request: Some(request),
                ..
            } => request.number,
            other => panic!("expected the test notification, got {other:?}"),
        };
        let status = device.answer(self, Decision::Approve, Some(number)).await;
        assert_eq!(status.unwrap(), PushStatus::Approved);
        assert!(self.method(method.id).await.is_active());
        device
    }

    /// A new set of recovery codes.
    pub async fn add_recovery_codes(&self, auth: &Auth) -> (MethodId, Vec<String>) {
        let proof = self.t.step_up_proof(auth).await.unwrap();
        let (method, codes) = self
            .t
            .generate_recovery_codes(auth, proof, &self.ctx)
            .await
            .unwrap();
        (method.id, codes.iter().map(|c| c.to_string()).collect())
    }

    /// The code an authenticator app shows now.
    pub fn code(&self, totp: &Totp) -> String {
        let seed = BASE32_NOPAD.decode(totp.secret.as_bytes()).unwrap();
        let now = self.clock.now().unix_timestamp() as u64;
        authenticator_code::code_at(&seed, now).unwrap()
    }

    /// A code that is surely wrong now.
    pub fn wrong_code(&self, totp: &Totp) -> String {
        let right: u32 = self.code(totp).parse().unwrap();
        format!("{:06}", (right + 500_000) % 1_000_000)
    }

    /// What the delivery worker does with the outbox provider: claims every message due,
    /// opens it with the key ring and keeps it; here, it lands on the phone it was sent to.
    pub async fn deliver(&self) -> usize {
        let now = self.clock.now();
        let store = self.t.store();
        let claimed = store
            .claim_messages(now, now + Duration::minutes(1), 100)
            .await
            .unwrap();
        let count = claimed.len();
        for message in claimed {
            let body = self.t.open_message(&message).unwrap().unwrap();
            store
                .message_sent(message.id, now, true, None)
                .await
                .unwrap();
            let delivered = Delivered {
                to: message.to.clone(),
                challenge: message.challenge_id,
                body,
            };
            self.inbox.lock().unwrap().push(delivered);
        }
        count
    }

    /// The newest message to `to` that `pick` recognizes, after a delivery round.
    async fn newest_to<T>(&self, to: &str, pick: impl Fn(&Delivered) -> Option<T>) -> Option<T> {
        self.deliver().await;
        let inbox = self.inbox.lock().unwrap();
        inbox.iter().rev().filter(|d| d.to == to).find_map(pick)
    }

    /// The newest code texted (or read aloud, or emailed) to `to`.
    pub async fn code_sent_to(&self, to: &str) -> String {
        self.newest_to(to, |d| match &d.body {
            Body::Code { code, .. } => Some(code.clone()),
            _ => None,
        })
        .await
        .unwrap_or_else(|| panic!("no code reached {to}"))
    }

    /// The newest call to `to` that asks for #.
    pub async fn call_to(&self, to: &str) -> ChallengeId {
        self.newest_to(to, |d| match &d.body {
            Body::CallConfirm { .. } => d.challenge,
            _ => None,
        })
        .await
        .unwrap_or_else(|| panic!("no call reached {to}"))
    }

    /// The person answers the newest call to `to` with #; the gateway reports it.
    pub async fn press_pound(&self, to: &str) -> bool {
        let call = self.call_to(to).await;
        self.t.confirm_call(call, &self.ctx).await.unwrap()
    }
}

impl Device {
    /// Answers the newest request waiting on the device, signed with its key now.
    pub async fn answer(
        &self,
        w: &World,
        decision: Decision,
        number: Option<u8>,
    ) -> Result<PushStatus> {
        let auth = w.t.device_auth(&self.credential).await?;
        let requests = w.t.device_requests(&auth).await?;
        let request = requests.last().expect("a request waits on the device");
        let signed_at = w.clock.now().unix_timestamp();
        let message = answer_message(request.id, decision, number, signed_at);
        let answer = SignedAnswer {
            decision,
            number,
            signed_at,
            signature: self.key.sign(&message).to_bytes().to_vec(),
        };
        w.t.device_answer(&auth, request.id, &answer, &w.ctx).await
    }

    pub async fn approve(&self, w: &World, number: u8) -> Result<PushStatus> {
        self.answer(w, Decision::Approve, Some(number)).await
    }

    pub async fn deny(&self, w: &World) -> Result<PushStatus> {
        self.answer(w, Decision::Deny, None).await
    }
}
