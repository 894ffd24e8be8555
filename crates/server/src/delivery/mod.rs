//! Delivery: texts, calls and emails leave through one [`Gateways`] value, whose providers
//! are chosen in configuration (`outbox`, `webhook`, `twilio`, SMTP).
//!
//! The core writes each message to the outbox in the same transaction as its challenge; the
//! worker here claims due messages with a lease (so several nodes never send one twice),
//! sends them, and records the outcome. A gateway that times out or answers 5xx is retried
//! with doubling back-off, measured on the service's clock; one that refuses (4xx), or that
//! is still failing after `max_attempts`, fails the message for good, and the person's next
//! step says so ("we couldn't send it, try another method"). No request ever waits for a
//! gateway. Outcomes are counted in `tessera_delivery_total{channel, provider, outcome}`.

pub mod callback;
pub mod config;
pub mod http;
pub mod render;
pub mod smtp;

pub use config::DeliveryConfig;

use config::{EmailGateway, PhoneGateway};
use render::Rendered;
use std::sync::Arc;
use std::time::Duration;
use tessera_core::Tessera;
use tessera_core::message::{Channel, Message};

/// The keypress callback's path under `/api/v1`.
pub const VOICE_CALLBACK: &str = "/delivery/voice/callback";

/// How long a worker holds a claimed message before another may take it over.
const LEASE: time::Duration = time::Duration::minutes(5);
/// Messages claimed at once; they are sent concurrently.
const BATCH: u32 = 16;
/// The longest wait between retries.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The gateway took it (with its id for it, when it gave one).
    Sent(Option<String>),
    /// Kept in the outbox for admins (the development provider).
    Kept,
    /// May pass later: a timeout, a 5xx, a lost connection.
    Retry(String),
    /// Will not pass: refused, or the message cannot be read.
    Refused(String),
}

/// rustls's ring provider, for reqwest and lettre; installing it twice is harmless.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The configured providers, ready to send.
pub struct Gateways {
    config: DeliveryConfig,
    client: reqwest::Client,
    smtp: Option<smtp::SmtpSender>,
    public_url: String,
    organization: String,
}

/// Why delivery cannot start with this configuration.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("the HTTP client cannot start: {0}")]
    Http(#[source] reqwest::Error),
    #[error(transparent)]
    Smtp(#[from] smtp::SmtpSetupError),
}

impl Gateways {
    pub fn new(
        config: DeliveryConfig,
        public_url: &str,
        organization: &str,
    ) -> Result<Self, SetupError> {
        install_crypto();
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(SetupError::Http)?;
        let smtp = match &config.email {
            EmailGateway::Smtp(s) => Some(smtp::SmtpSender::new(s, config.timeout)?),
            _ => None,
        };
        Ok(Gateways {
            config,
            client,
            smtp,
            public_url: public_url.trim_end_matches('/').to_string(),
            organization: organization.to_string(),
        })
    }

    /// The provider's name for a channel, for metrics and logs.
    fn provider(&self, channel: Channel) -> &'static str {
        let phone = |g: &PhoneGateway| match g {
            PhoneGateway::Outbox => "outbox",
            PhoneGateway::Webhook(_) => "webhook",
            PhoneGateway::Twilio(_) => "twilio",
        };
        match channel {
            Channel::Sms => phone(&self.config.sms),
            Channel::Voice => phone(&self.config.voice),
            Channel::Email => match &self.config.email {
                EmailGateway::Outbox => "outbox",
                EmailGateway::Webhook(_) => "webhook",
                EmailGateway::Smtp(_) => "smtp",
            },
        }
    }

    async fn send(&self, message: &Message, rendered: &Rendered) -> Outcome {
        let phone = match message.channel {
            Channel::Sms => Some(&self.config.sms),
            Channel::Voice => Some(&self.config.voice),
            Channel::Email => None,
        };
        match (phone, &self.config.email) {
            (Some(PhoneGateway::Outbox), _) | (None, EmailGateway::Outbox) => Outcome::Kept,
            (Some(PhoneGateway::Webhook(hook)), _) | (None, EmailGateway::Webhook(hook)) => {
                http::webhook(&self.client, hook, &self.public_url, message, rendered).await
            }
            (Some(PhoneGateway::Twilio(t)), _) => {
                http::twilio(&self.client, t, &self.public_url, message, rendered).await
            }
            (None, EmailGateway::Smtp(_)) => match &self.smtp {
                Some(smtp) => smtp.send(message, rendered).await,
                None => Outcome::Retry("SMTP is not set up".into()),
            },
        }
    }

    pub fn config(&self) -> &DeliveryConfig {
        &self.config
    }
}

/// A message's words, opened with the service's keys (for admins reading the outbox).
pub fn words(tessera: &Tessera, message: &Message, organization: &str) -> Option<Rendered> {
    let body = tessera.open_message(message).ok().flatten()?;
    Some(render::render(message, &body, organization))
}

/// The wait before retry number `attempt` (1 = after the first failure).
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
    base.saturating_mul(factor).min(MAX_BACKOFF)
}

/// Sends due messages until `stop` says so. Messages already handed to a gateway are
/// finished first (each within the gateway's timeout), so a shutdown does not leave them
/// `sending` until their lease runs out and a second copy goes out after the restart.
pub async fn run_worker(
    tessera: Arc<Tessera>,
    gateways: Arc<Gateways>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    while !*stop.borrow() {
        let now = tessera.now();
        let claimed = tessera
            .store()
            .claim_messages(now, now + LEASE, BATCH)
            .await;
        let batch = match claimed {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(error = ?e, "claiming outbox messages failed");
                Vec::new()
            }
        };
        if batch.is_empty() {
            tokio::select! {
                () = tessera.store().wait_for_messages(gateways.config.poll) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        let sends = batch.into_iter().map(|message| {
            let tessera = tessera.clone();
            let gateways = gateways.clone();
            tokio::spawn(async move { deliver(&tessera, &gateways, message).await })
        });
        for send in sends.collect::<Vec<_>>() {
            let _ = send.await;
        }
    }
}

/// The worker on the current runtime, and how to stop it.
pub struct Worker {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    /// How long the sends in flight may take: the gateway's timeout, and a little more.
    drain: Duration,
}

impl Worker {
    /// Claims nothing more and waits for the sends in flight; a gateway that hangs past its
    /// own timeout is cut off (its messages are sent again once their lease runs out).
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(self.drain, &mut self.task)
            .await
            .is_err()
        {
            tracing::warn!("messages still being sent at shutdown: stopped");
            self.task.abort();
        }
    }
}

/// Starts the worker on the current runtime.
pub fn spawn_worker(tessera: Arc<Tessera>, gateways: Arc<Gateways>) -> Worker {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let drain = gateways.config.timeout + Duration::from_secs(5);
    Worker {
        stop,
        task: tokio::spawn(run_worker(tessera, gateways, stopped)),
        drain,
    }
}

async fn deliver(tessera: &Tessera, gateways: &Gateways, message: Message) {
    let channel = message.channel;
    let provider = gateways.provider(channel);
    let outcome = match tessera.open_message(&message) {
        Ok(Some(body)) => {
            let rendered = render::render(&message, &body, &gateways.organization);
            gateways.send(&message, &rendered).await
        }
        Ok(None) => Outcome::Refused("the message has no body".into()),
        Err(_) => Outcome::Refused("the message does not open with this key ring".into()),
    };
    let store = tessera.store();
    let now = tessera.now();
    let (label, result) = match &outcome {
        Outcome::Sent(reference) => (
            "sent",
            store
                .message_sent(message.id, now, false, reference.as_deref())
                .await,
        ),
        Outcome::Kept => (
            "kept",
            store.message_sent(message.id, now, true, None).await,
        ),
        Outcome::Retry(why) if message.attempts < gateways.config.max_attempts => {
            let wait = backoff(gateways.config.retry_after, message.attempts);
            let next = now + time::Duration::try_from(wait).unwrap_or(LEASE);
            tracing::info!(message = %message.id, attempt = message.attempts, reason = %why, "delivery will be retried");
            ("retry", store.message_retry(message.id, next, why).await)
        }
        Outcome::Retry(why) | Outcome::Refused(why) => {
            tracing::warn!(message = %message.id, channel = channel.as_str(), provider, reason = %why, "delivery failed for good");
            ("failed", store.message_failed(message.id, why).await)
        }
    };
    if let Err(e) = result {
        // The lease runs out and another attempt follows: nothing is lost.
        tracing::warn!(error = ?e, message = %message.id, "recording a delivery outcome failed");
    }
    metrics::counter!("tessera_delivery_total", "channel" => channel.as_str(), "provider" => provider, "outcome" => label)
        .increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let base = Duration::from_secs(30);
        assert_eq!(backoff(base, 1), Duration::from_secs(30));
        assert_eq!(backoff(base, 2), Duration::from_secs(60));
        assert_eq!(backoff(base, 3), Duration::from_secs(120));
        assert_eq!(backoff(base, 30), MAX_BACKOFF);
    }
}
