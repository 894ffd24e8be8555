//! The OpenID Connect tables.

use std::collections::BTreeMap;

use async_trait::async_trait;
use time::OffsetDateTime;

use super::MemoryStore;
use super::rows::{secs, secs_opt};
use super::state::State;
use crate::audit::AuditEvent;
use crate::error::StoreError;
use crate::ids::AccountId;
use crate::oidc::token::{CodeUse, Family, RefreshUse, TokenRecord};
use crate::oidc::{
    AuthorizationCode, AuthorizationRequest, Client, Consent, FamilyId, KEY_RETENTION, OidcToken,
    REFRESH_TOKEN_TTL, RequestId, StoredKey, TokenKind,
};
use crate::store::StoreResult;
use crate::store::oidc::OidcStore;

#[derive(Debug, Default)]
pub(super) struct Tables {
    clients: BTreeMap<String, Client>,
    pub(super) keys: BTreeMap<String, StoredKey>,
    requests: BTreeMap<RequestId, AuthorizationRequest>,
    /// By hash: the code, when it was used, and the family its first use created.
    codes: BTreeMap<Vec<u8>, CodeRow>,
    families: BTreeMap<FamilyId, Family>,
    tokens: BTreeMap<Vec<u8>, OidcToken>,
    consents: BTreeMap<(AccountId, String), Consent>,
}

#[derive(Debug, Clone)]
struct CodeRow {
    code: AuthorizationCode,
    used_at: Option<OffsetDateTime>,
    family: Option<FamilyId>,
}

impl Tables {
    fn revoke(&mut self, family: FamilyId, at: OffsetDateTime) -> bool {
        match self.families.get_mut(&family) {
            Some(f) if f.revoked_at.is_none() => {
                f.revoked_at = Some(secs(at));
                true
            }
            _ => false,
        }
    }

    fn check_tokens(&self, tokens: &[OidcToken]) -> StoreResult<()> {
        for t in tokens {
            if !self.families.contains_key(&t.family) {
                return Err(super::foreign_key("oidc_tokens.family_id"));
            }
            if self.tokens.contains_key(&t.hash) {
                return Err(StoreError::Conflict("token_hash"));
            }
        }
        Ok(())
    }

    fn put_tokens(&mut self, tokens: &[OidcToken]) {
        for t in tokens {
            self.tokens.insert(t.hash.clone(), stored_token(t));
        }
    }
}

fn stored_token(t: &OidcToken) -> OidcToken {
    OidcToken {
        created_at: secs(t.created_at),
        expires_at: secs(t.expires_at),
        used_at: secs_opt(t.used_at),
        ..t.clone()
    }
}

fn stored_client(c: &Client) -> Client {
    Client {
        created_at: secs(c.created_at),
        ..c.clone()
    }
}

fn stored_key(k: &StoredKey) -> StoredKey {
    StoredKey {
        created_at: secs(k.created_at),
        retired_at: secs_opt(k.retired_at),
        ..k.clone()
    }
}

fn stored_code(c: &AuthorizationCode) -> AuthorizationCode {
    AuthorizationCode {
        auth_time: secs(c.auth_time),
        created_at: secs(c.created_at),
        expires_at: secs(c.expires_at),
        ..c.clone()
    }
}

fn audited<T>(
    s: &mut State,
    audit: &AuditEvent,
    op: impl FnOnce(&mut State) -> StoreResult<T>,
) -> StoreResult<T> {
    s.check_audit([audit])?;
    let out = op(s)?;
    s.append_audit([audit]);
    Ok(out)
}

#[async_trait]
impl OidcStore for MemoryStore {
    async fn insert_oidc_client(&self, client: &Client, audit: &AuditEvent) -> StoreResult<()> {
        self.write(|s| {
            audited(s, audit, |s| {
                if s.oidc.clients.contains_key(&client.client_id) {
                    return Err(StoreError::Conflict("oidc_client"));
                }
                s.oidc
                    .clients
                    .insert(client.client_id.clone(), stored_client(client));
                Ok(())
            })
        })
    }

    async fn update_oidc_client(&self, client: &Client, audit: &AuditEvent) -> StoreResult<bool> {
        self.write(|s| {
            s.check_audit([audit])?;
            let Some(old) = s.oidc.clients.get_mut(&client.client_id) else {
                return Ok(false);
            };
            *old = Client {
                created_at: old.created_at,
                ..client.clone()
            };
            s.append_audit([audit]);
            Ok(true)
        })
    }

    async fn delete_oidc_client(&self, client_id: &str, audit: &AuditEvent) -> StoreResult<bool> {
        self.write(|s| {
            s.check_audit([audit])?;
            let t = &mut s.oidc;
            if t.clients.remove(client_id).is_none() {
                return Ok(false);
            }
            t.requests.retain(|_, r| r.client_id != client_id);
            t.codes.retain(|_, c| c.code.client_id != client_id);
            let gone: Vec<FamilyId> = t
                .families
                .values()
                .filter(|f| f.client_id == client_id)
                .map(|f| f.id)
                .collect();
            t.families.retain(|_, f| f.client_id != client_id);
            t.tokens.retain(|_, tok| !gone.contains(&tok.family));
            t.consents.retain(|(_, c), _| c != client_id);
            s.append_audit([audit]);
            Ok(true)
        })
    }

    async fn oidc_client(&self, client_id: &str) -> StoreResult<Option<Client>> {
        self.read(|s| s.oidc.clients.get(client_id).cloned())
    }

    async fn oidc_clients(&self) -> StoreResult<Vec<Client>> {
        self.read(|s| {
            let mut all: Vec<Client> = s.oidc.clients.values().cloned().collect();
            all.sort_by(|a, b| (&a.name, &a.client_id).cmp(&(&b.name, &b.client_id)));
            all
        })
    }

    async fn insert_oidc_key(&self, key: &StoredKey) -> StoreResult<()> {
        self.write(|s| {
            if s.oidc.keys.contains_key(&key.kid) {
                return Err(StoreError::Conflict("oidc_key"));
            }
            s.oidc.keys.insert(key.kid.clone(), stored_key(key));
            Ok(())
        })
    }

    async fn rotate_oidc_keys(
        &self,
        new: &[StoredKey],
        at: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        self.write(|s| {
            audited(s, audit, |s| {
                if new.iter().any(|k| s.oidc.keys.contains_key(&k.kid)) {
                    return Err(StoreError::Conflict("oidc_key"));
                }
                for key in s.oidc.keys.values_mut() {
                    if key.retired_at.is_none() && new.iter().any(|n| n.alg == key.alg) {
                        key.retired_at = Some(secs(at));
                    }
                }
                for key in new {
                    s.oidc.keys.insert(key.kid.clone(), stored_key(key));
                }
                Ok(())
            })
        })
    }

    async fn oidc_keys(&self) -> StoreResult<Vec<StoredKey>> {
        self.read(|s| {
            let mut all: Vec<StoredKey> = s.oidc.keys.values().cloned().collect();
            all.sort_by(|a, b| (a.created_at, &a.kid).cmp(&(b.created_at, &b.kid)));
            all
        })
    }

    async fn insert_oidc_request(&self, request: &AuthorizationRequest) -> StoreResult<()> {
        self.write(|s| {
            if !s.oidc.clients.contains_key(&request.client_id) {
                return Err(super::foreign_key("oidc_requests.client_id"));
            }
            let stored = AuthorizationRequest {
                created_at: secs(request.created_at),
                expires_at: secs(request.expires_at),
                ..request.clone()
            };
            s.oidc.requests.insert(request.id, stored);
            Ok(())
        })
    }

    async fn oidc_request(&self, id: RequestId) -> StoreResult<Option<AuthorizationRequest>> {
        self.read(|s| s.oidc.requests.get(&id).cloned())
    }

    async fn delete_oidc_request(&self, id: RequestId) -> StoreResult<()> {
        self.write(|s| {
            s.oidc.requests.remove(&id);
            Ok(())
        })
    }

    async fn insert_oidc_code(
        &self,
        code: &AuthorizationCode,
        request: RequestId,
        audit: &AuditEvent,
    ) -> StoreResult<bool> {
        self.write(|s| {
            s.check_audit([audit])?;
            s.require_account(code.account, "oidc_codes.account_id")?;
            if !s.oidc.clients.contains_key(&code.client_id) {
                return Err(super::foreign_key("oidc_codes.client_id"));
            }
            if s.oidc.codes.contains_key(&code.hash) {
                return Err(StoreError::Conflict("code_hash"));
            }
            if s.oidc.requests.remove(&request).is_none() {
                return Ok(false);
            }
            let row = CodeRow {
                code: stored_code(code),
                used_at: None,
                family: None,
            };
            s.oidc.codes.insert(code.hash.clone(), row);
            s.append_audit([audit]);
            Ok(true)
        })
    }

    async fn use_oidc_code(
        &self,
        hash: &[u8],
        family: FamilyId,
        now: OffsetDateTime,
    ) -> StoreResult<CodeUse> {
        self.write(|s| {
            let t = &mut s.oidc;
            let Some(row) = t.codes.get_mut(hash) else {
                return Ok(CodeUse::Unknown);
            };
            if row.used_at.is_some() {
                let reused = CodeUse::Reused {
                    account: row.code.account,
                    client_id: row.code.client_id.clone(),
                    family: row.family,
                };
                if let Some(f) = row.family {
                    t.revoke(f, now);
                }
                return Ok(reused);
            }
            row.used_at = Some(secs(now));
            row.family = Some(family);
            let code = row.code.clone();
            t.families.insert(
                family,
                Family {
                    id: family,
                    client_id: code.client_id.clone(),
                    account: code.account,
                    session: code.session,
                    scope: code.scope.clone(),
                    auth_time: code.auth_time,
                    amr: code.amr.clone(),
                    acr: code.acr,
                    created_at: secs(now),
                    revoked_at: None,
                },
            );
            Ok(CodeUse::Fresh(code))
        })
    }

    async fn insert_oidc_tokens(
        &self,
        tokens: &[OidcToken],
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        self.write(|s| {
            audited(s, audit, |s| {
                s.oidc.check_tokens(tokens)?;
                s.oidc.put_tokens(tokens);
                Ok(())
            })
        })
    }

    async fn oidc_token(&self, hash: &[u8]) -> StoreResult<Option<TokenRecord>> {
        self.read(|s| {
            let token = s.oidc.tokens.get(hash)?;
            let family = s.oidc.families.get(&token.family)?;
            Some(TokenRecord {
                token: token.clone(),
                family: family.clone(),
            })
        })
    }

    async fn rotate_oidc_refresh(
        &self,
        old: &[u8],
        new: &[OidcToken],
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<RefreshUse> {
        self.write(|s| {
            s.check_audit([audit])?;
            let t = &mut s.oidc;
            let Some(token) = t.tokens.get(old).filter(|x| x.kind == TokenKind::Refresh) else {
                return Ok(RefreshUse::Unknown);
            };
            let family = token.family;
            let revoked = t
                .families
                .get(&family)
                .is_none_or(|f| f.revoked_at.is_some());
            if token.used_at.is_some() || revoked {
                t.revoke(family, now);
                return Ok(RefreshUse::Reused);
            }
            t.check_tokens(new)?;
            if let Some(token) = t.tokens.get_mut(old) {
                token.used_at = Some(secs(now));
            }
            t.put_tokens(new);
            s.append_audit([audit]);
            Ok(RefreshUse::Rotated)
        })
    }

    async fn revoke_oidc_family(&self, family: FamilyId, at: OffsetDateTime) -> StoreResult<bool> {
        self.write(|s| Ok(s.oidc.revoke(family, at)))
    }

    async fn claim_oidc_backchannel_logouts(
        &self,
        at: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Family>> {
        self.write(|s| {
            let at = secs(at);
            let sessions = &s.sessions;
            let t = &mut s.oidc;
            let clients = &t.clients;
            let mut ended: Vec<&mut Family> = t
                .families
                .values_mut()
                .filter(|f| {
                    f.revoked_at.is_none()
                        && !sessions.contains_key(&f.session)
                        && clients
                            .get(&f.client_id)
                            .is_some_and(|c| c.backchannel_logout_uri.is_some())
                })
                .collect();
            ended.sort_by_key(|f| (f.created_at, f.id.to_string()));
            Ok(ended
                .into_iter()
                .take(limit as usize)
                .map(|f| {
                    f.revoked_at = Some(at);
                    f.clone()
                })
                .collect())
        })
    }

    async fn delete_oidc_token(&self, hash: &[u8]) -> StoreResult<bool> {
        self.write(|s| Ok(s.oidc.tokens.remove(hash).is_some()))
    }

    async fn oidc_consent(
        &self,
        account: AccountId,
        client_id: &str,
    ) -> StoreResult<Option<Consent>> {
        self.read(|s| {
            s.oidc
                .consents
                .get(&(account, client_id.to_string()))
                .cloned()
        })
    }

    async fn save_oidc_consent(&self, consent: &Consent, audit: &AuditEvent) -> StoreResult<()> {
        self.write(|s| {
            s.require_account(consent.account, "oidc_consents.account_id")?;
            if !s.oidc.clients.contains_key(&consent.client_id) {
                return Err(super::foreign_key("oidc_consents.client_id"));
            }
            audited(s, audit, |s| {
                let stored = Consent {
                    granted_at: secs(consent.granted_at),
                    ..consent.clone()
                };
                s.oidc
                    .consents
                    .insert((consent.account, consent.client_id.clone()), stored);
                Ok(())
            })
        })
    }

    async fn oidc_consents_of(&self, account: AccountId) -> StoreResult<Vec<Consent>> {
        self.read(|s| {
            s.oidc
                .consents
                .values()
                .filter(|c| c.account == account)
                .cloned()
                .collect()
        })
    }

    async fn revoke_oidc_consent(
        &self,
        account: AccountId,
        client_id: &str,
        at: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<bool> {
        self.write(|s| {
            s.check_audit([audit])?;
            let t = &mut s.oidc;
            if t.consents
                .remove(&(account, client_id.to_string()))
                .is_none()
            {
                return Ok(false);
            }
            for f in t.families.values_mut() {
                if f.account == account && f.client_id == client_id && f.revoked_at.is_none() {
                    f.revoked_at = Some(secs(at));
                }
            }
            s.append_audit([audit]);
            Ok(true)
        })
    }

    async fn purge_oidc(&self, now: OffsetDateTime) -> StoreResult<u64> {
        let now = secs(now);
        self.write(|s| {
            let t = &mut s.oidc;
            let mut purged = super::drain(&mut t.requests, |r| r.expires_at <= now);
            // Kept a day past expiry, so a replay in that time still revokes what the code issued.
            purged += super::drain(&mut t.codes, |c| {
                c.code.expires_at + time::Duration::days(1) <= now
            });
            purged += super::drain(&mut t.tokens, |x| x.expires_at <= now);
            let tokens = &t.tokens;
            purged += super::drain(&mut t.families, |f| {
                f.created_at + REFRESH_TOKEN_TTL <= now
                    && !tokens.values().any(|x| x.family == f.id)
            });
            purged += super::drain(&mut t.keys, |k| {
                k.retired_at
                    .is_some_and(|r| r + KEY_RETENTION + time::Duration::days(1) <= now)
            });
            Ok(purged)
        })
    }
}
