//! Storage for RADIUS: the clients an admin registered. An exchange's state is a sign-in
//! flow (`flows`), so it needs nothing here.

use super::StoreResult;
use crate::audit::AuditEvent;
use crate::ids::RadiusClientId;
use crate::radius::RadiusClient;
use async_trait::async_trait;

#[async_trait]
pub trait RadiusStore: Send + Sync {
    /// Every client, oldest first (by name within the same second).
    async fn radius_clients(&self) -> StoreResult<Vec<RadiusClient>>;
    async fn insert_radius_client(
        &self,
        client: &RadiusClient,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// False when there is no such client.
    async fn delete_radius_client(
        &self,
        id: RadiusClientId,
        audit: &AuditEvent,
    ) -> StoreResult<bool>;
}
