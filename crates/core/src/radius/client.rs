//! RADIUS clients (the VPN gateways, Wi-Fi controllers and servers that ask): registered by
//! an admin with a name, the address or network they send from, and a shared secret that
//! Tessera generates, shows once and keeps sealed (it must be read back to check and sign
//! packets, so it cannot be a hash).

use super::network::Network;
use crate::admin::Admin;
use crate::audit::AuditAction;
use crate::error::{Error, Internal, Problem, Result};
use crate::ids::RadiusClientId;
use crate::random;
use crate::secret::Aad;
use crate::service::Tessera;
use std::net::IpAddr;
use time::OffsetDateTime;
use zeroize::Zeroizing;

pub const NAME_MAX: usize = 64;
/// Letters and digits only, so the secret survives any configuration file and command line
/// (no leading '-', no quoting): 32 of 62 symbols, about 190 bits.
const SECRET_LEN: usize = 32;
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RadiusClient {
    pub id: RadiusClientId,
    pub name: String,
    pub network: Network,
    /// The shared secret, sealed for `radius_clients.secret` of this row.
    pub sealed_secret: Vec<u8>,
    /// Requests without a valid Message-Authenticator are refused (BlastRADIUS); the default.
    pub require_message_authenticator: bool,
    pub created_at: OffsetDateTime,
}

/// A client and its secret, opened: what the listener needs for one packet.
pub struct OpenClient {
    pub client: RadiusClient,
    pub secret: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for OpenClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenClient")
            .field("client", &self.client.id)
            .finish()
    }
}

/// A new client and its secret, shown to the admin once.
pub struct NewRadiusClient {
    pub client: RadiusClient,
    pub secret: Zeroizing<String>,
}

impl std::fmt::Debug for NewRadiusClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewRadiusClient")
            .field("client", &self.client.id)
            .finish()
    }
}

fn aad(id: &str) -> Aad<'_> {
    Aad {
        table: "radius_clients",
        column: "secret",
        row: id,
    }
}

fn clean_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Error::bad("name", Problem::Required));
    }
    if name.chars().count() > NAME_MAX {
        return Err(Error::bad("name", Problem::TooLong { max: NAME_MAX }));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::bad("name", Problem::Invalid));
    }
    Ok(name.to_string())
}

/// A client's shared secret sealed for its row, as the store keeps it (for the admin's add,
/// and for tools that seed a store directly, as the bench does).
pub fn seal_secret(
    keys: &crate::secret::KeyRing,
    rng: &dyn crate::random::Random,
    id: RadiusClientId,
    secret: &[u8],
) -> Vec<u8> {
    keys.seal(rng, secret, aad(&id.to_string()))
}

/// The client a packet from `ip` belongs to: the one with the narrowest network holding it
/// (so a single address may carve an exception out of a network with another secret).
pub fn client_for(clients: &[RadiusClient], ip: IpAddr) -> Option<&RadiusClient> {
    clients
        .iter()
        .filter(|c| c.network.contains(ip))
        .max_by_key(|c| c.network.prefix)
}

impl Admin<'_> {
    /// Registers a client; its secret is shown once. `require_message_authenticator` is on
    /// unless the admin turns it off (for an old client that cannot send it).
    pub async fn add_radius_client(
        &self,
        name: &str,
        network: &str,
        require_message_authenticator: bool,
    ) -> Result<NewRadiusClient> {
        let t = self.tessera();
        let name = clean_name(name)?;
        let network: Network = network
            .parse()
            .map_err(|_| Error::bad("address", Problem::Invalid))?;
        let existing = t.store.radius_clients().await?;
        if existing.iter().any(|c| c.name == name) {
            return Err(Error::bad("name", Problem::Taken));
        }
        if existing.iter().any(|c| c.network == network) {
            return Err(Error::bad("address", Problem::Taken));
        }
        let secret: Zeroizing<String> = Zeroizing::new(
            (0..SECRET_LEN)
                .map(|_| {
                    let i = random::below(t.rng.as_ref(), SECRET_ALPHABET.len() as u32);
                    char::from(SECRET_ALPHABET[i as usize])
                })
                .collect(),
        );
        let id = RadiusClientId::new(t.rng.as_ref());
        let row = id.to_string();
        let client = RadiusClient {
            id,
            name,
            network,
            sealed_secret: seal_secret(&t.keys, t.rng.as_ref(), id, secret.as_bytes()),
            require_message_authenticator,
            created_at: t.now(),
        };
        let audit = self.audit_about(
            AuditAction::RadiusClientCreated,
            serde_json::json!({
                "client": row,
                "name": client.name,
                "address": client.network.to_string(),
                "require_message_authenticator": require_message_authenticator,
            }),
        );
        t.store.insert_radius_client(&client, &audit).await?;
        Ok(NewRadiusClient { client, secret })
    }

    pub async fn radius_clients(&self) -> Result<Vec<RadiusClient>> {
        Ok(self.tessera().store.radius_clients().await?)
    }

    /// Removes a client: its packets are dropped as from an unknown address (within the
    /// second a listener holds the clients).
    pub async fn remove_radius_client(&self, id: RadiusClientId) -> Result<()> {
        let t = self.tessera();
        let audit = self.audit_about(
            AuditAction::RadiusClientDeleted,
            serde_json::json!({ "client": id.to_string() }),
        );
        if t.store.delete_radius_client(id, &audit).await? {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }
}

impl Tessera {
    /// Every registered client, for a listener to hold for a moment (it looks up each
    /// packet's source among them, so a flood from elsewhere costs the database nothing).
    pub async fn radius_client_list(&self) -> Result<Vec<RadiusClient>> {
        Ok(self.store.radius_clients().await?)
    }

    /// The client a packet from `ip` comes from, among `clients`, with its secret opened;
    /// `None` for any other address (the packet is dropped).
    pub fn radius_client_among(
        &self,
        clients: &[RadiusClient],
        ip: IpAddr,
    ) -> Result<Option<OpenClient>> {
        let Some(client) = client_for(clients, ip) else {
            return Ok(None);
        };
        let row = client.id.to_string();
        let secret = self
            .keys
            .open(&client.sealed_secret, aad(&row))
            .map_err(|_| Error::Internal(Internal::Unseal))?;
        Ok(Some(OpenClient {
            client: client.clone(),
            secret,
        }))
    }

    /// As [`Tessera::radius_client_among`], reading the clients now.
    pub async fn radius_client(&self, ip: IpAddr) -> Result<Option<OpenClient>> {
        let clients = self.radius_client_list().await?;
        self.radius_client_among(&clients, ip)
    }
}
