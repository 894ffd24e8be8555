//! The RADIUS scenario: what a VPN gateway asks for one person's sign-in. An Access-Request
//! with the password (one Argon2id check) is answered by an Access-Challenge; a second
//! Access-Request with the challenge's State and a TOTP code is answered Access-Accept. One
//! request of the scenario is both round trips, so its bound is Argon2id's.
//!
//! The seed registers one client for 127.0.0.1 straight in the store (its secret sealed as
//! the admin's add would); each node listens for RADIUS on a UDP port the bench picks.

use crate::load::Step;
use crate::scenario::Target;
use crate::seed;
use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tessera_core::audit::{AuditAction, AuditEvent, RequestContext};
use tessera_core::ids::RadiusClientId;
use tessera_core::radius::RadiusClient;
use tessera_core::radius::client::seal_secret;
use tessera_core::radius::packet::{self, Packet};
use tessera_core::store::radius::RadiusStore;
use tessera_core::{Clock, KeyRing, OsRandom, SystemClock};
use tessera_store::SqlStore;
use tokio::net::UdpSocket;

/// The bench's shared secret (letters and digits, as Tessera generates them).
pub const SECRET: &str = "BenchRadiusSharedSecret0123456789";
/// How long one answer may take before the round counts as lost (a client would retry).
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// Registers the bench's client for 127.0.0.1.
pub async fn seed(store: &SqlStore, keys: &KeyRing) -> Result<()> {
    let rng = OsRandom;
    let now = SystemClock.now();
    let id = RadiusClientId::new(&rng);
    let client = RadiusClient {
        id,
        name: "bench".into(),
        network: "127.0.0.1"
            .parse()
            .map_err(|_| anyhow::anyhow!("address"))?,
        sealed_secret: seal_secret(keys, &rng, id, SECRET.as_bytes()),
        require_message_authenticator: true,
        created_at: now,
    };
    let audit = AuditEvent::new(
        &rng,
        now,
        &RequestContext::default(),
        None,
        AuditAction::RadiusClientCreated,
    );
    store
        .insert_radius_client(&client, &audit)
        .await
        .map_err(|e| anyhow::anyhow!("adding the bench's RADIUS client: {e:?}"))
}

/// A free UDP port on loopback for a node's RADIUS listener.
pub fn free_port() -> Result<SocketAddr> {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").context("a UDP port")?;
    Ok(socket.local_addr()?)
}

/// One sign-in: password, challenge, code, accept.
pub async fn round(t: &Target, client: usize, cursor: &AtomicU64) -> Step {
    match try_round(t, client, cursor).await {
        Ok(step) => step,
        Err(e) => Step::Unexpected(format!("{e:#}")),
    }
}

async fn try_round(t: &Target, client: usize, cursor: &AtomicU64) -> Result<Step> {
    let now = SystemClock.now().unix_timestamp();
    // The next hot account with a TOTP step left to use.
    let mut found = None;
    for _ in 0..t.org.hot.len() {
        let n = cursor.fetch_add(1, Ordering::Relaxed);
        let h = &t.org.hot[(n % t.org.hot.len() as u64) as usize];
        if let Some(step) = h.claim_step(now) {
            found = Some((h, step));
            break;
        }
    }
    let Some((hot, step)) = found else {
        return Ok(Step::Exhausted);
    };
    let server = t.radius[client % t.radius.len()];
    let socket = UdpSocket::bind("127.0.0.1:0").await?;
    let username = seed::username(hot.index);
    let first = ask(&socket, server, 1, &username, seed::PASSWORD, None).await?;
    if first.code != packet::ACCESS_CHALLENGE {
        return Ok(Step::Unexpected(format!(
            "round 1 answered code {}",
            first.code
        )));
    }
    let state = first.get(packet::STATE).context("no State")?.to_vec();
    let code = hot.code(step)?;
    let second = ask(&socket, server, 2, &username, &code, Some(&state)).await?;
    Ok(if second.code == packet::ACCESS_ACCEPT {
        Step::Ok
    } else {
        Step::Unexpected(format!("round 2 answered code {}", second.code))
    })
}

async fn ask(
    socket: &UdpSocket,
    server: SocketAddr,
    identifier: u8,
    username: &str,
    password: &str,
    state: Option<&[u8]>,
) -> Result<Packet> {
    let secret = SECRET.as_bytes();
    let authenticator = tessera_core::random::bytes::<16>(&OsRandom);
    let mut attributes = vec![
        (packet::USER_NAME, username.as_bytes().to_vec()),
        (
            packet::USER_PASSWORD,
            packet::hide_password(password.as_bytes(), secret, &authenticator),
        ),
    ];
    if let Some(state) = state {
        attributes.push((packet::STATE, state.to_vec()));
    }
    let request = Packet::signed_request(identifier, authenticator, attributes, secret);
    socket.send_to(&request.encode(), server).await?;
    let mut buf = vec![0u8; packet::MAX_LEN];
    let (len, _) = tokio::time::timeout(ANSWER_WITHIN, socket.recv_from(&mut buf))
        .await
        .context("no answer in time")??;
    let reply = Packet::parse(&buf[..len]).map_err(|e| anyhow::anyhow!("answer: {e}"))?;
    if !reply.reply_authentic(&authenticator, secret) {
        anyhow::bail!("an answer not signed with the shared secret");
    }
    Ok(reply)
}
