//! Back-channel logout: the token families whose session has ended, each claimed once.

use tessera_core::oidc::FamilyId;
use tessera_core::oidc::token::Family;
use tessera_core::store::StoreResult;
use time::OffsetDateTime;

use crate::oidc_tokens::{acr, amr, revoke_family, scopes};
use crate::rows::{id, secs, time};
use crate::{SqlStore, db_err};

/// Unrevoked families of back-channel clients whose session row is gone (signed out, ended
/// by an admin, expired and deleted): a session is never revived, so such a family can only
/// be logged out.
const ENDED: &str = "SELECT f.id, f.client_id, f.account_id, f.session_id, f.scope, \
     f.auth_time, f.amr, f.acr, f.created_at FROM oidc_families f \
     WHERE f.revoked_at IS NULL \
     AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = f.session_id) \
     AND EXISTS (SELECT 1 FROM oidc_clients c WHERE c.client_id = f.client_id \
     AND c.backchannel_logout_uri IS NOT NULL) \
     ORDER BY f.created_at, f.id LIMIT $1";

#[derive(sqlx::FromRow)]
struct FamilyRow {
    id: String,
    client_id: String,
    account_id: String,
    session_id: String,
    scope: String,
    auth_time: i64,
    amr: String,
    acr: Option<String>,
    created_at: i64,
}

impl FamilyRow {
    fn family(self, revoked_at: OffsetDateTime) -> StoreResult<Family> {
        Ok(Family {
            id: id::<FamilyId>(&self.id, "oidc_families.id")?,
            client_id: self.client_id,
            account: id(&self.account_id, "oidc_families.account_id")?,
            session: id(&self.session_id, "oidc_families.session_id")?,
            scope: scopes(&self.scope, "oidc_families.scope")?,
            auth_time: time(self.auth_time, "oidc_families.auth_time")?,
            amr: amr(&self.amr, "oidc_families.amr")?,
            acr: acr(self.acr.as_deref(), "oidc_families.acr")?,
            created_at: time(self.created_at, "oidc_families.created_at")?,
            revoked_at: Some(revoked_at),
        })
    }
}

/// The conditional `UPDATE` of each family decides which node claims it: on PostgreSQL a
/// second node's update waits for the first's row lock and then finds it revoked.
pub(crate) async fn claim_backchannel_logouts(
    store: &SqlStore,
    at: OffsetDateTime,
    limit: u32,
) -> StoreResult<Vec<Family>> {
    let mut tx = store.begin_write().await?;
    let rows = sqlx::query_as::<_, FamilyRow>(ENDED)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
    let at = time(secs(at), "oidc_families.revoked_at")?;
    let mut ended = Vec::with_capacity(rows.len());
    for row in rows {
        let family = row.family(at)?;
        if revoke_family(&mut *tx, family.id, at).await? {
            ended.push(family);
        }
    }
    tx.commit().await.map_err(db_err)?;
    Ok(ended)
}
