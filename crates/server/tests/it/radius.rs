//! RADIUS (issue #18) with a client of our own over UDP, for what the Debian tools cannot
//! show: Message-Authenticator first in every answer, retransmissions answered once, a State
//! used twice, requests without Message-Authenticator and from unknown addresses dropped,
//! and a notification answering a request that waits. `radius_tools.rs` asks with
//! `radclient` and through PAM.

use crate::common::{Harness, PASSWORD, each_backend};
use std::net::SocketAddr;
use std::time::Duration;
use tessera_core::AuditAction;
use tessera_core::radius::packet::{self, Packet};
use tessera_core::store::admin::{AuditFilter, AuditPage};
use tokio::net::UdpSocket;
use tokio::sync::oneshot;

/// Tessera's RADIUS listener on a port of its own, stopped on drop.
pub(crate) struct RadiusServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for RadiusServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub(crate) async fn start(h: &Harness) -> RadiusServer {
    let socket = tessera_server::radius::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = socket.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let tessera = h.tessera().clone();
    tokio::spawn(async move {
        let _ = tessera_server::radius::serve(socket, tessera, async move {
            let _ = rx.await;
        })
        .await;
    });
    RadiusServer {
        addr,
        stop: Some(tx),
    }
}

/// Registers a client for `address`; its secret.
pub(crate) async fn add_client(h: &Harness, name: &str, address: &str, require_ma: bool) -> String {
    let added = h
        .tessera()
        .local_admin()
        .add_radius_client(name, address, require_ma)
        .await
        .unwrap();
    added.secret.to_string()
}

/// How many audit events of `action` there are.
pub(crate) async fn audited(h: &Harness, action: AuditAction) -> usize {
    let filter = AuditFilter {
        action: Some(action),
        ..AuditFilter::default()
    };
    let page = AuditPage::NewestFirst { before: None };
    h.store()
        .audit_page(&filter, page, 500)
        .await
        .unwrap()
        .len()
}

/// A network access server, as far as the tests need one.
pub(crate) struct Nas {
    socket: UdpSocket,
    server: SocketAddr,
    secret: Vec<u8>,
    next_id: u8,
}

impl Nas {
    pub async fn new(from: &str, server: SocketAddr, secret: &str) -> Nas {
        Nas {
            socket: UdpSocket::bind(format!("{from}:0")).await.unwrap(),
            server,
            secret: secret.as_bytes().to_vec(),
            next_id: 1,
        }
    }

    /// An Access-Request for `username` with `password` (and a challenge's `state`), with
    /// Message-Authenticator unless `with_ma` is false.
    pub fn request(
        &mut self,
        username: &str,
        password: &str,
        state: Option<&[u8]>,
        with_ma: bool,
    ) -> Packet {
        let authenticator = tessera_core::random::bytes::<16>(&tessera_core::OsRandom);
        let mut attributes = vec![
            (packet::USER_NAME, username.as_bytes().to_vec()),
            (
                packet::USER_PASSWORD,
                packet::hide_password(password.as_bytes(), &self.secret, &authenticator),
            ),
            (packet::CALLING_STATION_ID, b"02-00-00-00-00-01".to_vec()),
        ];
        if let Some(state) = state {
            attributes.push((packet::STATE, state.to_vec()));
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        if with_ma {
            Packet::signed_request(id, authenticator, attributes, &self.secret)
        } else {
            Packet {
                code: packet::ACCESS_REQUEST,
                identifier: id,
                authenticator,
                attributes,
            }
        }
    }

    pub async fn send(&self, request: &Packet) {
        self.socket
            .send_to(&request.encode(), self.server)
            .await
            .unwrap();
    }

    /// The next answer to `request` within `wait`, checked as a client checks it; its bytes.
    pub async fn receive(&self, request: &Packet, wait: Duration) -> Option<(Packet, Vec<u8>)> {
        let mut buf = vec![0u8; 4096];
        let (len, _) = tokio::time::timeout(wait, self.socket.recv_from(&mut buf))
            .await
            .ok()?
            .unwrap();
        let bytes = buf[..len].to_vec();
        let reply = Packet::parse(&bytes).unwrap();
        assert_eq!(reply.identifier, request.identifier);
        assert!(
            reply.reply_authentic(&request.authenticator, &self.secret),
            "the answer is signed with the shared secret"
        );
        assert_eq!(
            reply.attributes.first().map(|(k, v)| (*k, v.len())),
            Some((packet::MESSAGE_AUTHENTICATOR, 16)),
            "Message-Authenticator comes first (BlastRADIUS)"
        );
        Some((reply, bytes))
    }

    pub async fn ask(&mut self, username: &str, password: &str, state: Option<&[u8]>) -> Packet {
        let request = self.request(username, password, state, true);
        self.send(&request).await;
        self.receive(&request, Duration::from_secs(20))
            .await
            .expect("an answer")
            .0
    }
}

pub(crate) fn reply_message(reply: &Packet) -> String {
    let bytes: Vec<u8> = reply
        .attributes
        .iter()
        .filter(|(k, _)| *k == packet::REPLY_MESSAGE)
        .flat_map(|(_, v)| v.clone())
        .collect();
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn a_code_answers_the_challenge_and_its_state_works_once() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, _, secret) = h.enrolled_user(&c, "rita@example.org").await;
        let server = start(&h).await;
        let shared = add_client(&h, "vpn", "127.0.0.1", true).await;
        let mut nas = Nas::new("127.0.0.1", server.addr, &shared).await;

        let challenge = nas.ask("rita@example.org", PASSWORD, None).await;
        assert_eq!(challenge.code, packet::ACCESS_CHALLENGE);
        assert_eq!(
            reply_message(&challenge),
            "Enter the code from your authenticator app"
        );
        let state = challenge.get(packet::STATE).unwrap().to_vec();
        let wrong_user = nas
            .ask("someone@example.org", &h.code(&secret, 0), Some(&state))
            .await;
        assert_eq!(
            wrong_user.code,
            packet::ACCESS_REJECT,
            "the State is rita's"
        );
        let accept = nas
            .ask("rita@example.org", &h.code(&secret, 0), Some(&state))
            .await;
        assert_eq!(accept.code, packet::ACCESS_ACCEPT);
        // The same State again, with the next code: the flow is over.
        h.advance(30);
        let again = nas
            .ask("rita@example.org", &h.code(&secret, 0), Some(&state))
            .await;
        assert_eq!(again.code, packet::ACCESS_REJECT);
        // A State from another client is worth nothing.
        let other = add_client(&h, "wifi", "127.0.0.2", true).await;
        // A new client is heard from once the listener reads the clients again (a second).
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let mut wifi = Nas::new("127.0.0.2", server.addr, &other).await;
        let challenge = nas.ask("rita@example.org", PASSWORD, None).await;
        let state = challenge.get(packet::STATE).unwrap().to_vec();
        let stolen = wifi
            .ask("rita@example.org", &h.code(&secret, 0), Some(&state))
            .await;
        assert_eq!(stolen.code, packet::ACCESS_REJECT);
        assert_eq!(audited(&h, AuditAction::RadiusAccepted).await, 1);
        let wrong = nas.ask("rita@example.org", "not the password", None).await;
        assert_eq!(wrong.code, packet::ACCESS_REJECT);
        assert!(audited(&h, AuditAction::RadiusRejected).await >= 4);
    })
    .await;
}

#[tokio::test]
async fn a_retransmission_gets_the_same_answer_without_a_second_password_check() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        h.enrolled_user(&c, "sven@example.org").await;
        let server = start(&h).await;
        let shared = add_client(&h, "vpn", "127.0.0.1", true).await;
        let mut nas = Nas::new("127.0.0.1", server.addr, &shared).await;
        let checks = h.password_checks();
        let request = nas.request("sven@example.org", PASSWORD, None, true);
        nas.send(&request).await;
        let (first, bytes) = nas
            .receive(&request, Duration::from_secs(20))
            .await
            .unwrap();
        assert_eq!(first.code, packet::ACCESS_CHALLENGE);
        nas.send(&request).await;
        let (_, again) = nas
            .receive(&request, Duration::from_secs(20))
            .await
            .unwrap();
        assert_eq!(again, bytes, "the cached answer, byte for byte");
        assert_eq!(h.password_checks(), checks + 1, "one password check");
    })
    .await;
}

#[tokio::test]
async fn requests_without_message_authenticator_are_dropped_where_it_is_required() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        h.enrolled_user(&c, "tom@example.org").await;
        let server = start(&h).await;
        let strict = add_client(&h, "vpn", "127.0.0.1", true).await;
        let lenient = add_client(&h, "old switch", "127.0.0.3", false).await;
        let mut nas = Nas::new("127.0.0.1", server.addr, &strict).await;
        let bare = nas.request("tom@example.org", PASSWORD, None, false);
        nas.send(&bare).await;
        assert!(nas.receive(&bare, Duration::from_secs(2)).await.is_none());
        // A Message-Authenticator made with another secret is dropped too.
        let mut forger = Nas::new("127.0.0.1", server.addr, "not-the-secret").await;
        let forged = forger.request("tom@example.org", PASSWORD, None, true);
        forger.send(&forged).await;
        let mut buf = [0u8; 4096];
        let heard =
            tokio::time::timeout(Duration::from_secs(2), forger.socket.recv_from(&mut buf)).await;
        assert!(heard.is_err(), "no answer to a forged request");
        assert_eq!(audited(&h, AuditAction::RadiusRefused).await, 2);
        // A client an admin marked as unable to send it is answered.
        let mut old = Nas::new("127.0.0.3", server.addr, &lenient).await;
        let bare = old.request("tom@example.org", PASSWORD, None, false);
        old.send(&bare).await;
        let (answer, _) = old
            .receive(&bare, Duration::from_secs(20))
            .await
            .expect("an answer");
        assert_eq!(answer.code, packet::ACCESS_CHALLENGE);
    })
    .await;
}

#[tokio::test]
async fn a_request_from_an_unknown_address_is_dropped_and_counted() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let server = start(&h).await;
        let shared = add_client(&h, "vpn", "127.0.0.2", true).await;
        let mut nas = Nas::new("127.0.0.1", server.addr, &shared).await;
        let request = nas.request("anyone@example.org", PASSWORD, None, true);
        nas.send(&request).await;
        assert!(
            nas.receive(&request, Duration::from_secs(2))
                .await
                .is_none()
        );
        let (_, metrics) = h.get(&c, "/metrics", None).await;
        let metrics = metrics.as_str().unwrap_or_default().to_string();
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with("tessera_radius_dropped_total{reason=\"unknown_client\"}")),
            "{metrics}"
        );
    })
    .await;
}

/// The number a push challenge asks the person to enter in the app.
pub(crate) fn number_in(message: &str) -> u64 {
    message
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 2)
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn an_approved_notification_answers_the_waiting_request_once() {
    each_backend(|h: Harness| async move {
        let (_, _, device) = crate::push::enrolled(&h, "uma@example.org", None).await;
        let server = start(&h).await;
        let shared = add_client(&h, "vpn", "127.0.0.1", true).await;
        let mut nas = Nas::new("127.0.0.1", server.addr, &shared).await;
        let challenge = nas.ask("uma@example.org", PASSWORD, None).await;
        assert_eq!(challenge.code, packet::ACCESS_CHALLENGE);
        let message = reply_message(&challenge);
        assert!(message.contains("notification"), "{message}");
        let number = number_in(&message);
        let state = challenge.get(packet::STATE).unwrap().to_vec();

        // Enter without a code: the request waits for the notification's answer.
        let request = nas.request("uma@example.org", "", Some(&state), true);
        nas.send(&request).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        nas.send(&request).await; // the client's retransmission, while it waits
        assert!(
            nas.receive(&request, Duration::from_millis(500))
                .await
                .is_none()
        );
        let id = device.only(&h).await;
        device.approve(&h, &id, number).await;
        let (accept, bytes) = nas
            .receive(&request, Duration::from_secs(20))
            .await
            .expect("answered once approved");
        assert_eq!(accept.code, packet::ACCESS_ACCEPT);
        assert!(
            nas.receive(&request, Duration::from_millis(800))
                .await
                .is_none(),
            "the copy that arrived while waiting is not answered again"
        );
        nas.send(&request).await;
        let (_, again) = nas
            .receive(&request, Duration::from_secs(5))
            .await
            .expect("a later copy gets the cached answer");
        assert_eq!(again, bytes);
        assert_eq!(audited(&h, AuditAction::RadiusAccepted).await, 1);
    })
    .await;
}

#[tokio::test]
async fn the_challenge_speaks_the_persons_saved_language() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _, _) = h.enrolled_user(&c, "vincent@example.org").await;
        let auth = h.tessera().authenticate(&token).await.unwrap();
        h.tessera()
            .set_locale(&auth, Some("nl".into()), &Default::default())
            .await
            .unwrap();
        let server = start(&h).await;
        let shared = add_client(&h, "vpn", "127.0.0.1", true).await;
        let mut nas = Nas::new("127.0.0.1", server.addr, &shared).await;
        let challenge = nas.ask("vincent@example.org", PASSWORD, None).await;
        assert_eq!(
            reply_message(&challenge),
            "Voer de code uit je authenticator-app in"
        );
    })
    .await;
}

#[tokio::test]
async fn a_method_the_policy_does_not_allow_is_never_offered() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        h.enrolled_user(&c, "wim@example.org").await;
        // The person's only method is an authenticator code; once the policy stops allowing
        // it for sign-in, RADIUS has nothing to ask and says no rather than offer it.
        h.set_policy("mfa_kinds", "phone_mobile").await;
        let server = start(&h).await;
        let shared = add_client(&h, "vpn", "127.0.0.1", true).await;
        let mut nas = Nas::new("127.0.0.1", server.addr, &shared).await;
        let answer = nas.ask("wim@example.org", PASSWORD, None).await;
        assert_eq!(answer.code, packet::ACCESS_REJECT);
    })
    .await;
}

#[tokio::test]
async fn another_node_answers_the_second_round() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, _, secret) = h.enrolled_user(&c, "xavi@example.org").await;
        let other = h.another_node().await;
        let (first, second) = (start(&h).await, start(&other).await);
        let shared = add_client(&h, "vpn", "127.0.0.1", true).await;
        let mut nas = Nas::new("127.0.0.1", first.addr, &shared).await;
        let challenge = nas.ask("xavi@example.org", PASSWORD, None).await;
        let state = challenge.get(packet::STATE).unwrap().to_vec();
        let mut failover = Nas::new("127.0.0.1", second.addr, &shared).await;
        let accept = failover
            .ask("xavi@example.org", &h.code(&secret, 0), Some(&state))
            .await;
        assert_eq!(accept.code, packet::ACCESS_ACCEPT);
    })
    .await;
}

#[tokio::test]
async fn wrong_codes_lock_the_method_as_at_the_web_sign_in() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, _, secret) = h.enrolled_user(&c, "yara@example.org").await;
        h.set_policy("lockout_threshold", "3").await;
        let server = start(&h).await;
        let shared = add_client(&h, "vpn", "127.0.0.1", true).await;
        let mut nas = Nas::new("127.0.0.1", server.addr, &shared).await;
        for _ in 0..3 {
            let challenge = nas.ask("yara@example.org", PASSWORD, None).await;
            let state = challenge.get(packet::STATE).unwrap().to_vec();
            let wrong = nas
                .ask("yara@example.org", &h.wrong_code(&secret), Some(&state))
                .await;
            assert_eq!(wrong.code, packet::ACCESS_REJECT);
        }
        let challenge = nas.ask("yara@example.org", PASSWORD, None).await;
        let state = challenge.get(packet::STATE).unwrap().to_vec();
        let right = nas
            .ask("yara@example.org", &h.code(&secret, 0), Some(&state))
            .await;
        assert_eq!(
            right.code,
            packet::ACCESS_REJECT,
            "locked: even the right code"
        );
        assert!(audited(&h, AuditAction::MethodLocked).await >= 1);
    })
    .await;
}

#[tokio::test]
async fn the_challenge_texts_a_code_to_a_person_whose_default_is_their_phone() {
    crate::common::each_backend_with(crate::gateway::with_webhook, |h: Harness| async move {
        let c = h.client();
        let (_, _, e164) = crate::phone::with_phone(&h, &c, "zara@example.org").await;
        let server = start(&h).await;
        let shared = add_client(&h, "vpn", "127.0.0.1", true).await;
        let mut nas = Nas::new("127.0.0.1", server.addr, &shared).await;
        let challenge = nas.ask("zara@example.org", PASSWORD, None).await;
        assert_eq!(challenge.code, packet::ACCESS_CHALLENGE);
        let message = reply_message(&challenge);
        assert!(
            message.starts_with("Enter the code we texted to +31 6"),
            "{message}"
        );
        let text = crate::gateway::gateway().nth(&e164, 2).await;
        assert_eq!(text.channel, "sms");
        let state = challenge.get(packet::STATE).unwrap().to_vec();
        let accept = nas
            .ask("zara@example.org", &text.code.unwrap(), Some(&state))
            .await;
        assert_eq!(accept.code, packet::ACCESS_ACCEPT);
    })
    .await;
}

#[tokio::test]
async fn a_temporary_access_pass_answers_the_challenge_once() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        h.enrolled_user(&c, "abel@example.org").await;
        let account = h
            .store()
            .account_by_username("abel@example.org")
            .await
            .unwrap()
            .unwrap();
        let issued = h
            .tessera()
            .local_admin()
            .issue_temporary_access_pass(account.id, Some(60))
            .await
            .unwrap();
        let server = start(&h).await;
        let shared = add_client(&h, "vpn", "127.0.0.1", true).await;
        let mut nas = Nas::new("127.0.0.1", server.addr, &shared).await;
        for expected in [packet::ACCESS_ACCEPT, packet::ACCESS_REJECT] {
            let challenge = nas.ask("abel@example.org", PASSWORD, None).await;
            let state = challenge.get(packet::STATE).unwrap().to_vec();
            let answer = nas
                .ask("abel@example.org", issued.pass.as_str(), Some(&state))
                .await;
            assert_eq!(answer.code, expected, "accepted once, then used");
        }
    })
    .await;
}

#[tokio::test]
async fn an_app_whose_chosen_way_is_its_code_sends_no_notification() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (session, method, device) = crate::push::enrolled(&h, "bram@example.org", None).await;
        let (status, body) = h
            .put(
                &c,
                "/api/v1/me/security-info/default",
                &session,
                serde_json::json!({"method_id": method, "way": "code"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let server = start(&h).await;
        let shared = add_client(&h, "vpn", "127.0.0.1", true).await;
        let mut nas = Nas::new("127.0.0.1", server.addr, &shared).await;
        let challenge = nas.ask("bram@example.org", PASSWORD, None).await;
        assert_eq!(
            reply_message(&challenge),
            "Enter the code from your authenticator app"
        );
        assert!(device.pending(&h).await.is_empty(), "no notification");
    })
    .await;
}
