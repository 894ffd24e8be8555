//! RADIUS clients, read oldest first as the SQL store orders them.

use async_trait::async_trait;

use super::MemoryStore;
use super::rows::secs;
use crate::audit::AuditEvent;
use crate::error::StoreError;
use crate::ids::RadiusClientId;
use crate::radius::RadiusClient;
use crate::store::StoreResult;
use crate::store::radius::RadiusStore;

#[async_trait]
impl RadiusStore for MemoryStore {
    async fn radius_clients(&self) -> StoreResult<Vec<RadiusClient>> {
        self.read(|s| {
            let mut clients = s.radius_clients.clone();
            clients.sort_by(|a, b| (a.created_at, &a.name).cmp(&(b.created_at, &b.name)));
            clients
        })
    }

    async fn insert_radius_client(
        &self,
        client: &RadiusClient,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        self.write(|s| {
            if s.radius_clients.iter().any(|c| c.id == client.id) {
                return Err(StoreError::Conflict("radius_clients.id"));
            }
            if s.radius_clients.iter().any(|c| c.name == client.name) {
                return Err(StoreError::Conflict("unique"));
            }
            s.check_audit([audit])?;
            s.radius_clients.push(RadiusClient {
                created_at: secs(client.created_at),
                ..client.clone()
            });
            s.append_audit([audit]);
            Ok(())
        })
    }

    async fn delete_radius_client(
        &self,
        id: RadiusClientId,
        audit: &AuditEvent,
    ) -> StoreResult<bool> {
        self.write(|s| {
            s.check_audit([audit])?;
            let before = s.radius_clients.len();
            s.radius_clients.retain(|c| c.id != id);
            if s.radius_clients.len() == before {
                return Ok(false);
            }
            s.append_audit([audit]);
            Ok(true)
        })
    }
}
