//! The UDP socket: one task per request, so a request waiting for a notification holds up
//! nobody else.

use super::dedup::{Key, Recent, Seen};
use super::{dropped, exchange};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tessera_core::Tessera;
use tessera_core::radius::RadiusClient;
use tessera_core::radius::packet::{self, Packet};
use tokio::net::UdpSocket;

/// How long the registered clients are held before they are read again: a client added or
/// removed on any node is heard from (or dropped) within this.
const CLIENTS_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// The registered clients, read at most once per [`CLIENTS_FOR`]: every packet's source is
/// looked up among them, so a flood from an unknown address never reaches the database.
#[derive(Default)]
struct Clients {
    held: tokio::sync::Mutex<Option<(Instant, Arc<Vec<RadiusClient>>)>>,
}

impl Clients {
    async fn get(&self, tessera: &Tessera) -> tessera_core::Result<Arc<Vec<RadiusClient>>> {
        let mut held = self.held.lock().await;
        if let Some((at, clients)) = held.as_ref()
            && at.elapsed() < CLIENTS_FOR
        {
            return Ok(clients.clone());
        }
        let clients = Arc::new(tessera.radius_client_list().await?);
        *held = Some((Instant::now(), clients.clone()));
        Ok(clients)
    }
}

/// Binds the RADIUS socket (e.g. `0.0.0.0:1812`).
pub async fn bind(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    UdpSocket::bind(addr).await
}

/// Answers Access-Requests on `socket` until `shutdown`.
pub async fn serve(
    socket: UdpSocket,
    tessera: Arc<Tessera>,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let socket = Arc::new(socket);
    let recent = Arc::new(Recent::default());
    let clients = Arc::new(Clients::default());
    let mut buf = vec![0u8; packet::MAX_LEN];
    tokio::pin!(shutdown);
    loop {
        let (len, source) = tokio::select! {
            received = socket.recv_from(&mut buf) => match received {
                Ok(got) => got,
                // A previous send's ICMP error surfaces here on some systems: not fatal.
                Err(e) => {
                    tracing::debug!(error = %e, "radius receive failed");
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let datagram = buf[..len].to_vec();
        tokio::spawn(one(
            socket.clone(),
            tessera.clone(),
            clients.clone(),
            recent.clone(),
            datagram,
            source,
        ));
    }
}

async fn one(
    socket: Arc<UdpSocket>,
    tessera: Arc<Tessera>,
    clients: Arc<Clients>,
    recent: Arc<Recent>,
    datagram: Vec<u8>,
    source: SocketAddr,
) {
    let Ok(request) = Packet::parse(&datagram) else {
        dropped("malformed");
        return;
    };
    if request.code != packet::ACCESS_REQUEST {
        dropped("not_access_request");
        return;
    }
    let client = match clients
        .get(&tessera)
        .await
        .and_then(|all| tessera.radius_client_among(&all, source.ip()))
    {
        Ok(Some(client)) => client,
        Ok(None) => {
            dropped("unknown_client");
            tracing::info!(%source, "radius request from an unknown address dropped");
            return;
        }
        Err(e) => {
            tracing::error!(error = %e, "radius client lookup failed");
            return;
        }
    };
    let key = Key {
        source,
        identifier: request.identifier,
        authenticator: request.authenticator,
    };
    match recent.begin(key.clone(), Instant::now()) {
        Seen::New => {}
        Seen::InFlight => {
            dropped("duplicate_in_flight");
            return;
        }
        Seen::Answered(bytes) => {
            metrics::counter!("tessera_radius_duplicates_answered_total").increment(1);
            let _ = socket.send_to(&bytes, source).await;
            return;
        }
    }
    match exchange::answer(&tessera, &client, source, &request).await {
        Ok(Some(reply)) => {
            let bytes = reply.encode();
            if let Err(e) = socket.send_to(&bytes, source).await {
                tracing::warn!(error = %e, %source, "radius answer not sent");
            }
            recent.answered(key, bytes, Instant::now());
        }
        Ok(None) => recent.forget(&key),
        Err(e) => {
            // Unanswered, so the client retries (or fails over to another server).
            tracing::error!(error = %e, client = %client.client.name, "radius request failed");
            recent.forget(&key);
        }
    }
}
