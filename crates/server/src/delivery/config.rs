//! Which gateway carries each channel, chosen in configuration. `outbox` is the default: a
//! fresh install works without any gateway, and an admin reads the messages it keeps with
//! `tessera outbox list` or on `/admin/outbox`.

use std::time::Duration;

/// A gateway for texts or calls.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PhoneGateway {
    /// Kept in the outbox for admins to read (development).
    #[default]
    Outbox,
    /// A JSON POST, signed with HMAC-SHA256 (see `http`).
    Webhook(Webhook),
    /// Twilio's REST API (Messages and Calls), or a service with the same shapes.
    Twilio(Twilio),
}

/// A gateway for email.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum EmailGateway {
    #[default]
    Outbox,
    Webhook(Webhook),
    Smtp(Smtp),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: String,
    /// Signs each request (`X-Tessera-Signature`) and checks the call's keypress callback.
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Twilio {
    /// `https://api.twilio.com`, or a compatible service.
    pub base_url: String,
    pub account_sid: String,
    /// The basic-auth password, and the key of `X-Twilio-Signature` on callbacks.
    pub auth_token: String,
    /// The number (or messaging service) texts and calls come from.
    pub from: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmtpSecurity {
    /// Plain SMTP upgraded with STARTTLS (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or network.
    Plain,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `Tessera <mfa@example.org>`.
    pub from: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryConfig {
    pub sms: PhoneGateway,
    pub voice: PhoneGateway,
    pub email: EmailGateway,
    /// A gateway that has not answered by then has failed this attempt (it is retried).
    pub timeout: Duration,
    /// Attempts before a message fails for good.
    pub max_attempts: u32,
    /// The first retry waits this long; each next one twice as long (at most an hour).
    pub retry_after: Duration,
    /// How often the worker looks for due messages queued on other nodes or retried.
    pub poll: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            sms: PhoneGateway::Outbox,
            voice: PhoneGateway::Outbox,
            email: EmailGateway::Outbox,
            timeout: Duration::from_secs(10),
            max_attempts: 5,
            retry_after: Duration::from_secs(30),
            poll: Duration::from_secs(2),
        }
    }
}

impl DeliveryConfig {
    /// The secrets that may sign a call's keypress callback, with how to check them.
    pub fn callback_keys(&self) -> Vec<CallbackKey> {
        let mut keys = Vec::new();
        for gateway in [&self.voice, &self.sms] {
            match gateway {
                PhoneGateway::Webhook(w) => keys.push(CallbackKey::Webhook(w.secret.clone())),
                PhoneGateway::Twilio(t) => keys.push(CallbackKey::Twilio(t.auth_token.clone())),
                PhoneGateway::Outbox => {}
            }
        }
        keys
    }
}

/// A key a keypress callback may be signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackKey {
    Webhook(String),
    Twilio(String),
}
