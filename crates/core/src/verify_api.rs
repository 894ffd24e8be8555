//! The verification API for services: a PAM module, a RADIUS server or a legacy app asks
//! whether username + password + code, or username + app password, are good, and gets yes or
//! no with a reason code. Services authenticate with an API key an admin issued (a service
//! credential): 256 random bits behind a `tsk_` prefix, stored only as a SHA-256 hash, and
//! refused the moment it is revoked.
//!
//! The same rules as signing in apply: unknown usernames cost a hash and read as a wrong
//! password, and so does a disabled account (the audit says why); password guesses count
//! towards the same per-account wait as sign-in's ([`crate::password_guesses`]); codes count
//! towards the method's lock-out and a TOTP step is never accepted twice. Every answer is an
//! audit event. Each service and each username has a per-minute budget, counted in the
//! database so that every node shares it (under a keyed hash of the username, which may be a
//! mistyped password).

use crate::account::{Account, AccountStatus, normalize_username};
use crate::admin::Admin;
use crate::audit::{AuditAction, RequestContext};
use crate::error::{Error, Problem, Result};
use crate::ids::{AccountId, FlowId, ServiceCredentialId};
use crate::method::{Kind, Method, Purpose, Response};
use crate::password::PasswordCheck;
use crate::policy::Policy;
use crate::secret;
use crate::service::Tessera;
use time::OffsetDateTime;
use zeroize::Zeroizing;

pub const KEY_PREFIX: &str = "tsk_";
pub const NAME_MAX: usize = 64;
const WINDOW_SECS: i64 = 60;
/// Requests one service may make per minute: a busy RADIUS server, not a brute force.
const PER_SERVICE_PER_MINUTE: u64 = 600;
/// Requests about one username per minute, from all services together.
const PER_USERNAME_PER_MINUTE: u64 = 10;
/// Kinds whose code a service can pass on: they need nothing sent first.
const CODE_KINDS: [Kind; 4] = [
    Kind::AuthenticatorCode,
    Kind::AuthenticatorApp,
    Kind::RecoveryCodes,
    Kind::TemporaryAccessPass,
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceCredential {
    pub id: ServiceCredentialId,
    pub name: String,
    pub token_hash: Vec<u8>,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// A new credential and its key, shown to the admin once.
pub struct IssuedCredential {
    pub credential: ServiceCredential,
    pub key: Zeroizing<String>,
}

impl std::fmt::Debug for IssuedCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCredential")
            .field("credential", &self.credential.id)
            .finish()
    }
}

/// What a service asks.
#[derive(Debug, Clone)]
pub struct VerifyRequest {
    pub username: String,
    pub password: Option<Zeroizing<String>>,
    /// A code from the person's authenticator (or a recovery code, or a temporary access pass).
    pub code: Option<String>,
    /// Instead of password and code.
    pub app_password: Option<Zeroizing<String>>,
}

/// The answer: yes for [`Reason::Ok`] only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Ok,
    /// Wrong password or app password, or an unknown username: deliberately alike.
    InvalidCredentials,
    /// The password is right and the account has a second factor: send its code too.
    CodeRequired,
    InvalidCode,
    Locked {
        retry_after: u64,
    },
    /// For the audit only: the service is told [`Reason::InvalidCredentials`] (see
    /// [`Reason::answered`]).
    AccountDisabled,
    /// An admin set a temporary password; the person must choose their own first.
    PasswordChangeRequired,
    /// The policy requires security info the account has not registered yet.
    RegistrationRequired,
    AppPasswordsNotAllowed,
}

impl Reason {
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Ok => "ok",
            Reason::InvalidCredentials => "invalid_credentials",
            Reason::CodeRequired => "code_required",
            Reason::InvalidCode => "invalid_code",
            Reason::Locked { .. } => "locked",
            Reason::AccountDisabled => "account_disabled",
            Reason::PasswordChangeRequired => "password_change_required",
            Reason::RegistrationRequired => "registration_required",
            Reason::AppPasswordsNotAllowed => "app_passwords_not_allowed",
        }
    }

    pub fn is_ok(&self) -> bool {
        *self == Reason::Ok
    }

    /// What the service is told. A disabled account reads as a wrong password: telling it
    /// apart would confirm the password (or app password) to whoever typed it.
    pub fn answered(self) -> Reason {
        match self {
            Reason::AccountDisabled => Reason::InvalidCredentials,
            other => other,
        }
    }
}

impl Tessera {
    /// The service behind an API key; an unknown or revoked key is `unauthorized`.
    pub async fn service_credential(&self, key: &str) -> Result<ServiceCredential> {
        if !key.starts_with(KEY_PREFIX) {
            return Err(Error::Unauthorized);
        }
        let credential = self
            .store
            .service_credential_by_token_hash(&secret::token_hash(key))
            .await?
            .filter(|c| c.revoked_at.is_none())
            .ok_or(Error::Unauthorized)?;
        let now = self.now();
        if credential
            .last_used_at
            .is_none_or(|at| now - at >= time::Duration::minutes(1))
        {
            self.store
                .touch_service_credential(credential.id, now)
                .await?;
        }
        Ok(credential)
    }

    /// Answers a service's question. `Err` only for a malformed request, a spent budget
    /// (`rate_limited`) or a failure of the server.
    pub async fn service_verify(
        &self,
        service: &ServiceCredential,
        request: VerifyRequest,
        ctx: &RequestContext,
    ) -> Result<Reason> {
        let via = match (&request.password, &request.app_password) {
            (Some(_), None) => "password",
            (None, Some(_)) => "app_password",
            (None, None) => return Err(Error::bad("password", Problem::Required)),
            (Some(_), Some(_)) => return Err(Error::bad("app_password", Problem::Invalid)),
        };
        let username = normalize_username(&request.username)?;
        self.spend(&format!("service:{}", service.id), PER_SERVICE_PER_MINUTE)
            .await?;
        self.spend(
            &format!("username:{}", self.username_tag(&username)),
            PER_USERNAME_PER_MINUTE,
        )
        .await?;
        let account = self.store.account_by_username(&username).await?;
        let policy = self.policy().await?;
        let reason = match (request.password, request.app_password) {
            (Some(password), _) => {
                self.verify_password_and_code(
                    &username,
                    account.as_ref(),
                    password,
                    request.code,
                    ctx,
                    &policy,
                )
                .await?
            }
            (None, Some(app_password)) => {
                self.verify_app_password(account.as_ref(), &app_password, &policy)
                    .await?
            }
            (None, None) => Reason::InvalidCredentials,
        };
        // The audit keeps the reason; the service hears only what may be said.
        let answer = reason.answered();
        let action = if answer.is_ok() {
            AuditAction::ServiceVerifyAccepted
        } else {
            AuditAction::ServiceVerifyRejected
        };
        let mut detail = serde_json::json!({
            "service": service.id.to_string(),
            "service_name": service.name,
            "via": via,
            "reason": reason.code(),
        });
        // An unknown username may be a mistyped password: only a tag of it is kept.
        if account.is_none()
            && let Some(map) = detail.as_object_mut()
        {
            map.extend(self.typed_username_detail(&username, None));
        }
        let audit = self
            .audit(ctx, account.as_ref().map(|a| a.id), action)
            .detail(detail);
        self.store.append_audit(&audit).await?;
        Ok(answer)
    }

    /// Counts one request against a per-minute budget shared by every node.
    async fn spend(&self, key: &str, budget: u64) -> Result<()> {
        let now = self.now().unix_timestamp();
        let window = now - now.rem_euclid(WINDOW_SECS);
        let count = self.store.count_in_window(key, window).await?;
        if count > budget {
            return Err(Error::RateLimited {
                retry_after: (window + WINDOW_SECS - now).max(1) as u64,
            });
        }
        Ok(())
    }

    async fn verify_password_and_code(
        &self,
        username: &str,
        account: Option<&Account>,
        password: Zeroizing<String>,
        code: Option<String>,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<Reason> {
        // Counted before the check, as for sign-in; `rate_limited` unchecked while it waits.
        let guess = self.begin_password_guess(username).await?;
        // A directory account's password is the directory's (`flow::directory`): a bind.
        let matched = match account.filter(|a| a.is_directory()).zip(self.directory()) {
            Some((a, directory)) => match directory.check_password(&a.username, &password).await {
                Ok(person) => !person.disabled,
                Err(crate::directory::DirectoryError::Unavailable(detail)) => {
                    return Err(Error::DirectoryUnavailable { detail });
                }
                Err(_) => false,
            },
            // Unknown users cost one hash too, so the answer and its timing are the same.
            None => matches!(
                self.passwords
                    .verify(password, account.map(|a| a.password_hash.clone()))
                    .await,
                PasswordCheck::Match { .. }
            ),
        };
        let Some(account) = account.filter(|_| matched) else {
            return Ok(Reason::InvalidCredentials);
        };
        // A disabled account's right password stays a failure, as in sign-in: a cleared
        // count would tell that it was right.
        if account.status == AccountStatus::Active {
            self.password_was_right(&guess).await?;
        }
        if let Some(reason) = self.account_refuses(account).await? {
            return Ok(reason);
        }
        // Their groups may require two-step verification of them.
        if !self.two_step_for(policy, account).await? {
            return Ok(Reason::Ok);
        }
        let methods = self.store.methods_of(account.id).await?;
        let methods = self.without_lapsed_passes(methods).await?;
        let usable = Self::usable_for_sign_in(policy, &methods);
        if usable.is_empty() {
            return Ok(if policy.registration_required {
                Reason::RegistrationRequired
            } else {
                Reason::Ok
            });
        }
        let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
            return Ok(Reason::CodeRequired);
        };
        let mut candidates: Vec<&Method> = usable
            .into_iter()
            .filter(|m| CODE_KINDS.contains(&m.kind))
            .collect();
        // The default first: a right code for it costs the others nothing.
        candidates.sort_by_key(|m| Some(m.id) != account.default_method);
        self.check_code_on_any(account.id, &candidates, &code, ctx, policy)
            .await
    }

    /// Tries the code on each method in turn; a wrong code counts against each one tried.
    async fn check_code_on_any(
        &self,
        account: AccountId,
        candidates: &[&Method],
        code: &str,
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<Reason> {
        // A service's question is a sign-in of its own, bound to nothing else.
        let purpose = Purpose::SignIn(FlowId::new(self.rng.as_ref()));
        let response = Response::Code(code.to_string());
        let (mut wrong, mut locked) = (false, None);
        for method in candidates.iter().filter(|m| m.account_id == account) {
            let outcome = match self
                .check_response(method, purpose, &response, ctx, policy)
                .await
            {
                Ok(verified) => self.accept_code(method, verified, ctx, policy).await,
                Err(e) => Err(e),
            };
            match outcome {
                Ok(()) => return Ok(Reason::Ok),
                Err(Error::Locked { retry_after }) => locked = Some(retry_after),
                Err(
                    Error::InvalidCode
                    | Error::Expired
                    | Error::NotAllowed(_)
                    | Error::BadRequest { .. },
                ) => wrong = true,
                Err(e) => return Err(e),
            }
        }
        Ok(match locked {
            Some(retry_after) if !wrong => Reason::Locked { retry_after },
            _ => Reason::InvalidCode,
        })
    }

    async fn verify_app_password(
        &self,
        account: Option<&Account>,
        typed: &str,
        policy: &Policy,
    ) -> Result<Reason> {
        if !policy.app_passwords_allowed {
            return Ok(Reason::AppPasswordsNotAllowed);
        }
        let Some(account) = account else {
            let _ = self
                .passwords
                .verify(Zeroizing::new(typed.to_string()), None)
                .await;
            return Ok(Reason::InvalidCredentials);
        };
        if self.match_app_password(account, typed).await?.is_none() {
            return Ok(Reason::InvalidCredentials);
        }
        Ok(match account.status {
            AccountStatus::Active => Reason::Ok,
            AccountStatus::Disabled => Reason::AccountDisabled,
        })
    }

    /// Why an account whose password matched may not pass anyway.
    async fn account_refuses(&self, account: &Account) -> Result<Option<Reason>> {
        if account.status != AccountStatus::Active {
            return Ok(Some(Reason::AccountDisabled));
        }
        if self.store.password_change_required(account.id).await? {
            return Ok(Some(Reason::PasswordChangeRequired));
        }
        Ok(None)
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

impl Admin<'_> {
    /// Issues an API key for a service; the key is shown once.
    pub async fn create_service_credential(&self, name: &str) -> Result<IssuedCredential> {
        let t = self.tessera();
        let name = clean_name(name)?;
        let key = Zeroizing::new(format!(
            "{KEY_PREFIX}{}",
            secret::new_token(t.rng.as_ref()).as_str()
        ));
        let credential = ServiceCredential {
            id: ServiceCredentialId::new(t.rng.as_ref()),
            name,
            token_hash: secret::token_hash(&key),
            created_at: t.now(),
            last_used_at: None,
            revoked_at: None,
        };
        let audit = self.audit_about(
            AuditAction::ServiceCredentialCreated,
            serde_json::json!({ "service": credential.id.to_string(), "name": credential.name }),
        );
        t.store
            .insert_service_credential(&credential, &audit)
            .await?;
        Ok(IssuedCredential { credential, key })
    }

    pub async fn service_credentials(&self) -> Result<Vec<ServiceCredential>> {
        Ok(self.tessera().store.service_credentials().await?)
    }

    /// Revokes a key: the next request with it is refused.
    pub async fn revoke_service_credential(&self, id: ServiceCredentialId) -> Result<()> {
        let t = self.tessera();
        let audit = self.audit_about(
            AuditAction::ServiceCredentialRevoked,
            serde_json::json!({ "service": id.to_string() }),
        );
        if t.store
            .revoke_service_credential(id, t.now(), &audit)
            .await?
        {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }
}
