//! The audit log: an append-only record of every sign-in attempt and every change to security
//! info, with time, address and browser. It commits in the same transaction as the change.

use crate::ids::{AccountId, AuditId, MethodId};
use crate::random::Random;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use time::OffsetDateTime;

/// Where a request came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    /// The language the request's pages are in, when the request says; codes it asks for
    /// are written in it, and a sign-in or a reset remembers it for the account's messages.
    pub language: Option<RequestLanguage>,
}

/// A language a request asks for, and how firmly (a tag with a complete catalog: `en`, `nl`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestLanguage {
    /// Picked in this browser's language menu.
    Chosen(String),
    /// The browser's preference (`Accept-Language`), which a choice overrides.
    Browser(String),
}

impl RequestLanguage {
    pub fn tag(&self) -> &str {
        match self {
            RequestLanguage::Chosen(tag) | RequestLanguage::Browser(tag) => tag,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    SignInPasswordFailed,
    SignInPasswordAccepted,
    SignInRefusedDisabled,
    SignInSucceeded,
    RegistrationCompleted,
    CodeAccepted,
    CodeRejected,
    CodeReplayed,
    MethodLocked,
    StepUpSucceeded,
    MethodAdded,
    MethodVerified,
    MethodDeleted,
    DefaultMethodChanged,
    SignedOut,
    AccountCreated,
    AccountDisabled,
    AccountEnabled,
    PasswordChanged,
    LocaleChanged,
    SessionsEnded,
    PolicyChanged,
    /// A code went out by text, call or email (or a call asks for #).
    ChallengeSent,
    /// The person pressed # on a sign-in call.
    CallConfirmed,
    /// A security key's signature counter did not move forward: it may have been cloned.
    SecurityKeyCloneWarning,
    /// A password reset began (for an unknown username too, without an account).
    ResetStarted,
    ResetGatePassed,
    /// Too many wrong answers in a password reset: that reset, or every reset of the account,
    /// waits (sign-in is not affected).
    ResetLocked,
    PasswordReset,
    RecoveryCodesGenerated,
    RecoveryCodeUsed,
    SecurityQuestionsRegistered,
    RegistrationSkipped,
    /// Signed in with a second factor, then sent to add the security info the policy needs.
    RegistrationRequired,
    SecurityQuestionAdded,
    SecurityQuestionRemoved,
    /// An authenticator app activated for notifications (its device key registered).
    DeviceActivated,
    /// A notification (push request) was sent to an authenticator app.
    PushSent,
    PushApproved,
    PushDenied,
    /// Denied and reported as not the person's own sign-in.
    PushReported,
    /// The number typed in the app did not match: counts as a wrong code.
    PushNumberWrong,
    /// An answer whose signature did not verify with the device's key.
    PushSignatureRejected,
    AppPasswordCreated,
    AppPasswordDeleted,
    /// An admin set a password that must be changed at the next sign-in.
    TemporaryPasswordSet,
    /// An admin revoked every method: the person registers again.
    MethodsRevoked,
    TemporaryAccessPassIssued,
    TemporaryAccessPassRevoked,
    /// An admin imported a hardware token for the person; it is pending until a code from it.
    HardwareTokenAssigned,
    ServiceCredentialCreated,
    ServiceCredentialRevoked,
    /// A service asked `POST /api/v1/verify` and the answer was yes.
    ServiceVerifyAccepted,
    ServiceVerifyRejected,
    AuditExported,
    /// OpenID Connect: an admin registered a client (`detail.client_id`).
    OidcClientCreated,
    OidcClientChanged,
    OidcClientDeleted,
    /// New signing keys; the old ones retire.
    OidcKeysRotated,
    /// A person was sent back to a client with an authorization code.
    OidcAuthorized,
    /// The token endpoint issued tokens (a code exchanged or a refresh token rotated).
    OidcTokensIssued,
    /// A used code or refresh token came back: what it issued was revoked.
    OidcTokenReused,
    /// A person granted a third-party client scopes, or took them back.
    OidcConsentGranted,
    OidcConsentRevoked,
    /// A person signed out through a client's logout request (`detail.client_id`, if known).
    OidcLoggedOut,
    /// A client's back-channel logout endpoint could not be told (`detail.client_id`, `error`).
    OidcBackchannelLogoutFailed,
    /// Forward authentication: an admin added, changed or removed an access rule
    /// (`detail.rule`).
    ForwardAuthRuleCreated,
    ForwardAuthRuleChanged,
    ForwardAuthRuleDeleted,
    /// A session was let into a protected site's domain (`detail.domain`), once per
    /// forward-auth cookie issued.
    ForwardAuthAllowed,
    /// The proxy was told no: not in the rule's groups, one factor not allowed, or no rule.
    ForwardAuthDenied,
    /// RADIUS: an admin registered a client (`detail.client`, `name`, `address`).
    RadiusClientCreated,
    RadiusClientDeleted,
    /// A RADIUS client was answered Access-Accept (`detail.client`, `calling_station_id`).
    RadiusAccepted,
    /// A RADIUS client was answered Access-Reject (`detail.reason`).
    RadiusRejected,
    /// A request from a client that requires Message-Authenticator came without a valid one:
    /// dropped unanswered (BlastRADIUS).
    RadiusRefused,
    /// The first sign-in of a directory person created their account (`detail.external_id`).
    AccountCreatedFromDirectory,
    /// The directory refused a person's sign-in: locked, disabled or expired there
    /// (`detail.reason`, the directory's own text).
    SignInRefusedByDirectory,
    /// The directory refused the new password of a reset (`detail.reason`); nothing changed.
    PasswordResetRefused,
    /// The directory refused the new password of a change (`detail.reason`); nothing changed.
    PasswordChangeRefused,
    /// `tessera key add` put a new master key in the key file (`detail.key`); it opens only.
    MasterKeyAdded,
    /// Every node seals with another master key from now on (`detail.key`, `detail.was`).
    SealingKeyChanged,
    /// `tessera key retire` took a master key out of the key file (`detail.key`).
    MasterKeyRetired,
}

impl AuditAction {
    pub fn as_str(&self) -> &'static str {
        match self {
            AuditAction::SignInPasswordFailed => "sign_in_password_failed",
            AuditAction::SignInPasswordAccepted => "sign_in_password_accepted",
            AuditAction::SignInRefusedDisabled => "sign_in_refused_disabled",
            AuditAction::SignInSucceeded => "sign_in_succeeded",
            AuditAction::RegistrationCompleted => "registration_completed",
            AuditAction::CodeAccepted => "code_accepted",
            AuditAction::CodeRejected => "code_rejected",
            AuditAction::CodeReplayed => "code_replayed",
            AuditAction::MethodLocked => "method_locked",
            AuditAction::StepUpSucceeded => "step_up_succeeded",
            AuditAction::MethodAdded => "method_added",
            AuditAction::MethodVerified => "method_verified",
            AuditAction::MethodDeleted => "method_deleted",
            AuditAction::DefaultMethodChanged => "default_method_changed",
            AuditAction::SignedOut => "signed_out",
            AuditAction::AccountCreated => "account_created",
            AuditAction::AccountDisabled => "account_disabled",
            AuditAction::AccountEnabled => "account_enabled",
            AuditAction::PasswordChanged => "password_changed",
            AuditAction::LocaleChanged => "locale_changed",
            AuditAction::SessionsEnded => "sessions_ended",
            AuditAction::PolicyChanged => "policy_changed",
            AuditAction::SecurityKeyCloneWarning => "security_key_clone_warning",
            AuditAction::ChallengeSent => "challenge_sent",
            AuditAction::CallConfirmed => "call_confirmed",
            AuditAction::ResetStarted => "reset_started",
            AuditAction::ResetGatePassed => "reset_gate_passed",
            AuditAction::ResetLocked => "reset_locked",
            AuditAction::PasswordReset => "password_reset",
            AuditAction::RecoveryCodesGenerated => "recovery_codes_generated",
            AuditAction::RecoveryCodeUsed => "recovery_code_used",
            AuditAction::SecurityQuestionsRegistered => "security_questions_registered",
            AuditAction::RegistrationSkipped => "registration_skipped",
            AuditAction::RegistrationRequired => "registration_required",
            AuditAction::SecurityQuestionAdded => "security_question_added",
            AuditAction::SecurityQuestionRemoved => "security_question_removed",
            AuditAction::DeviceActivated => "device_activated",
            AuditAction::PushSent => "push_sent",
            AuditAction::PushApproved => "push_approved",
            AuditAction::PushDenied => "push_denied",
            AuditAction::PushReported => "push_reported",
            AuditAction::PushNumberWrong => "push_number_wrong",
            AuditAction::PushSignatureRejected => "push_signature_rejected",
            AuditAction::AppPasswordCreated => "app_password_created",
            AuditAction::AppPasswordDeleted => "app_password_deleted",
            AuditAction::TemporaryPasswordSet => "temporary_password_set",
            AuditAction::MethodsRevoked => "methods_revoked",
            AuditAction::TemporaryAccessPassIssued => "temporary_access_pass_issued",
            AuditAction::TemporaryAccessPassRevoked => "temporary_access_pass_revoked",
            AuditAction::HardwareTokenAssigned => "hardware_token_assigned",
            AuditAction::ServiceCredentialCreated => "service_credential_created",
            AuditAction::ServiceCredentialRevoked => "service_credential_revoked",
            AuditAction::ServiceVerifyAccepted => "service_verify_accepted",
            AuditAction::ServiceVerifyRejected => "service_verify_rejected",
            AuditAction::AuditExported => "audit_exported",
            AuditAction::OidcClientCreated => "oidc_client_created",
            AuditAction::OidcClientChanged => "oidc_client_changed",
            AuditAction::OidcClientDeleted => "oidc_client_deleted",
            AuditAction::OidcKeysRotated => "oidc_keys_rotated",
            AuditAction::OidcAuthorized => "oidc_authorized",
            AuditAction::OidcTokensIssued => "oidc_tokens_issued",
            AuditAction::OidcTokenReused => "oidc_token_reused",
            AuditAction::OidcConsentGranted => "oidc_consent_granted",
            AuditAction::OidcConsentRevoked => "oidc_consent_revoked",
            AuditAction::OidcLoggedOut => "oidc_logged_out",
            AuditAction::OidcBackchannelLogoutFailed => "oidc_backchannel_logout_failed",
            AuditAction::ForwardAuthRuleCreated => "forward_auth_rule_created",
            AuditAction::ForwardAuthRuleChanged => "forward_auth_rule_changed",
            AuditAction::ForwardAuthRuleDeleted => "forward_auth_rule_deleted",
            AuditAction::ForwardAuthAllowed => "forward_auth_allowed",
            AuditAction::ForwardAuthDenied => "forward_auth_denied",
            AuditAction::RadiusClientCreated => "radius_client_created",
            AuditAction::RadiusClientDeleted => "radius_client_deleted",
            AuditAction::RadiusAccepted => "radius_accepted",
            AuditAction::RadiusRejected => "radius_rejected",
            AuditAction::RadiusRefused => "radius_refused",
            AuditAction::AccountCreatedFromDirectory => "account_created_from_directory",
            AuditAction::SignInRefusedByDirectory => "sign_in_refused_by_directory",
            AuditAction::PasswordResetRefused => "password_reset_refused",
            AuditAction::PasswordChangeRefused => "password_change_refused",
            AuditAction::MasterKeyAdded => "master_key_added",
            AuditAction::SealingKeyChanged => "sealing_key_changed",
            AuditAction::MasterKeyRetired => "master_key_retired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub id: AuditId,
    pub at: OffsetDateTime,
    /// `None` for attempts on unknown usernames.
    pub account_id: Option<AccountId>,
    pub action: AuditAction,
    pub method_id: Option<MethodId>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Small structured facts (the username tried, the kind added); never a secret.
    pub detail: serde_json::Value,
}

impl AuditEvent {
    pub fn new(
        rng: &dyn Random,
        at: OffsetDateTime,
        ctx: &RequestContext,
        account_id: Option<AccountId>,
        action: AuditAction,
    ) -> Self {
        Self {
            id: AuditId::ordered(rng, at),
            at,
            account_id,
            action,
            method_id: None,
            ip: ctx.ip.map(|ip| ip.to_string()),
            user_agent: ctx
                .user_agent
                .as_ref()
                .map(|ua| ua.chars().take(512).collect()),
            detail: serde_json::Value::Null,
        }
    }

    pub fn method(mut self, id: MethodId) -> Self {
        self.method_id = Some(id);
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}
