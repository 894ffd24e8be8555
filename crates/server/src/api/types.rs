//! The API's request and response bodies (API.md), with their OpenAPI schemas.

use serde::{Deserialize, Serialize};
use tessera_core::Method;
use time::OffsetDateTime;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct SignInRequest {
    pub username: String,
    pub password: String,
}

/// A method as sign-in lists it; labels mask details.
#[derive(Debug, Serialize, ToSchema)]
pub struct MethodSummary {
    pub id: String,
    #[schema(value_type = String, example = "authenticator_code")]
    pub kind: tessera_core::Kind,
    pub label: String,
}

impl From<&Method> for MethodSummary {
    fn from(m: &Method) -> Self {
        Self {
            id: m.id.to_string(),
            kind: m.kind,
            label: m.label(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SignInResponse {
    SignedIn {
        session: String,
    },
    MfaRequired {
        flow: String,
        default_method: String,
        /// How the default asks first, when its kind has a choice: `notification` or `code`
        /// (authenticator app), `text` or `call` (mobile phone).
        #[serde(skip_serializing_if = "Option::is_none")]
        default_way: Option<&'static str>,
        methods: Vec<MethodSummary>,
    },
    RegistrationRequired {
        flow: String,
        session: String,
    },
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChallengeRequest {
    pub method_id: String,
    /// For a mobile phone: `sms` (a text) or `call`; its registered choice when left out.
    #[serde(default)]
    pub delivery: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengeResponse {
    pub method_id: String,
    #[schema(value_type = String)]
    pub kind: tessera_core::Kind,
    /// Where a code was sent (masked), for texts, calls and emails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_to: Option<String>,
    /// The two-digit number to match in the app, for a push.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<u8>,
    /// WebAuthn request options, for a security key.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub webauthn: Option<serde_json::Value>,
    /// Security questions to answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub questions: Option<Vec<Question>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Question {
    pub id: String,
    pub text: String,
}

impl From<tessera_core::method::Challenge> for ChallengeResponse {
    fn from(c: tessera_core::method::Challenge) -> Self {
        Self {
            method_id: c.method_id.to_string(),
            kind: c.kind,
            sent_to: c.sent_to,
            number: c.number,
            webauthn: c.webauthn,
            questions: c.questions.map(|qs| {
                qs.into_iter()
                    .map(|(id, text)| Question { id, text })
                    .collect()
            }),
        }
    }
}

/// `{"method_id", "code"}`, or `{"method_id", "webauthn": {...}}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VerifyRequest {
    pub method_id: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub webauthn: Option<serde_json::Value>,
}

impl VerifyRequest {
    /// The response the body carries; exactly one of `code` and `webauthn`.
    pub fn response(&self) -> Result<tessera_core::method::Response, tessera_core::Error> {
        use tessera_core::method::Response;
        match (&self.code, &self.webauthn) {
            (Some(code), None) => Ok(Response::Code(code.clone())),
            (None, Some(w)) => Ok(Response::WebAuthn(w.clone())),
            (None, None) => Err(tessera_core::Error::bad(
                "code",
                tessera_core::Problem::Required,
            )),
            (Some(_), Some(_)) => Err(tessera_core::Error::bad(
                "code",
                tessera_core::Problem::Invalid,
            )),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignedIn {
    /// `signed_in`, or `registration_required` when the policy still requires security info:
    /// the session may then only register methods.
    pub status: &'static str,
    pub session: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlowStatusResponse {
    /// `mfa_required`, `registration_required`, `signed_in`, `denied` or `expired`.
    pub status: &'static str,
    /// A new full session, when this request completed a registration flow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MethodView {
    pub id: String,
    #[schema(value_type = String)]
    pub kind: tessera_core::Kind,
    pub label: String,
    /// `active` or `pending`.
    pub status: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<OffsetDateTime>,
}

impl From<&Method> for MethodView {
    fn from(m: &Method) -> Self {
        Self {
            id: m.id.to_string(),
            kind: m.kind,
            label: m.label(),
            status: m.status.as_str(),
            created_at: m.created_at,
            last_used_at: m.last_used_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityInfoResponse {
    pub default_method: Option<String>,
    /// How the default asks first, when its kind has a choice (see `SetDefaultRequest`).
    pub default_way: Option<&'static str>,
    pub methods: Vec<MethodView>,
    /// Contact info from the organization's directory the person could register (issue #19).
    pub directory_offers: Vec<super::directory_offers::DirectoryOfferView>,
}

/// `{"kind": "...", ...kind fields}`. For `authenticator_code`: an optional `name`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AddMethodRequest {
    pub kind: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Phones: the region the number belongs to (`NL`), unless the number starts with `+`.
    #[serde(default)]
    pub country: Option<String>,
    /// Phones: the number as the person types it (`06 12345678`); stored in E.164.
    #[serde(default)]
    pub number: Option<String>,
    /// `phone_office`: the extension to dial.
    #[serde(default)]
    pub extension: Option<String>,
    /// `phone_mobile`: `sms` or `call` (a text by default); other phones are called.
    #[serde(default)]
    pub delivery: Option<String>,
    /// `email`: the address.
    #[serde(default)]
    pub address: Option<String>,
    /// `security_questions`: the policy's number of `{"id", "answer"}` pairs.
    #[serde(default)]
    pub answers: Option<Vec<super::security_questions::AnswerItem>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AddMethodResponse {
    pub id: String,
    #[schema(value_type = String)]
    pub kind: tessera_core::Kind,
    /// `pending` until verified; `active` at once for security questions and recovery codes.
    pub status: &'static str,
    /// Base32, for typing into an app by hand (`authenticator_code`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otpauth_uri: Option<String>,
    /// The `otpauth://` URI as an SVG QR code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qr_svg: Option<String>,
    /// WebAuthn creation options for `navigator.credentials.create` (`security_key`); the
    /// attestation goes to `…/verify` as `{"webauthn": {...}}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub webauthn: Option<serde_json::Value>,
    /// What the app needs to activate (`authenticator_app`): the code and this server's URL,
    /// as a QR code or to type in. The method becomes active once the app has approved its
    /// test notification (`…/activation` tells).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation: Option<super::push::ActivationView>,
    /// Phones and email: where the code went (masked); verify with the code it carries.
    /// A call in `confirm` mode asks for # instead, and the method becomes active by itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_to: Option<String>,
    /// `sms`, `voice` or `email`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<&'static str>,
    /// `recovery_codes`: the ten codes, shown this once (the set is active at once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codes: Option<Vec<String>>,
    /// `security_questions`: the questions answered (active at once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub questions: Option<Vec<String>>,
}

impl From<&Method> for AddMethodResponse {
    /// The method as added, with nothing of its enrollment yet.
    fn from(method: &Method) -> Self {
        Self {
            id: method.id.to_string(),
            kind: method.kind,
            status: method.status.as_str(),
            secret: None,
            otpauth_uri: None,
            qr_svg: None,
            webauthn: None,
            activation: None,
            sent_to: None,
            delivery: None,
            codes: None,
            questions: None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CodeRequest {
    pub code: String,
}

/// What proves a pending method: `{"code": "..."}`, or `{"webauthn": {...}}` for a
/// security key (the attestation, as webauthn-rs's `RegisterPublicKeyCredential`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProofRequest {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub webauthn: Option<serde_json::Value>,
}

impl ProofRequest {
    /// The response the body carries; exactly one of `code` and `webauthn`.
    pub fn response(&self) -> Result<tessera_core::method::Response, tessera_core::Error> {
        use tessera_core::method::Response;
        match (&self.code, &self.webauthn) {
            (Some(code), None) => Ok(Response::Code(code.clone())),
            (None, Some(w)) => Ok(Response::WebAuthn(w.clone())),
            (None, None) => Err(tessera_core::Error::bad(
                "code",
                tessera_core::Problem::Required,
            )),
            (Some(_), Some(_)) => Err(tessera_core::Error::bad(
                "code",
                tessera_core::Problem::Invalid,
            )),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MethodStatusResponse {
    pub id: String,
    pub status: &'static str,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SetDefaultRequest {
    pub method_id: String,
    /// How it asks first: `notification` or `code` for an authenticator app, `text` or
    /// `call` for a mobile phone. Left out, the method keeps its way.
    #[serde(default)]
    pub way: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DefaultResponse {
    pub default_method: String,
    pub default_way: Option<&'static str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StepUpResponse {
    /// Always `verified`.
    pub status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub locale: Option<String>,
    pub is_admin: bool,
    /// `full`, or `registration` while security info must be set up first.
    pub session: &'static str,
    /// An admin set a temporary password: `POST /me/password` before anything else.
    pub password_change_required: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityEvent {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// What happened, e.g. `sign_in_succeeded`, `method_added`, `code_rejected`.
    pub action: &'static str,
    pub method_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityResponse {
    pub events: Vec<ActivityEvent>,
}
