//! Email over SMTP (`lettre`): STARTTLS, TLS from the first byte, or plain for a relay on the
//! same host. The connection pool is kept for the worker's life.

use super::Outcome;
use super::config::{Smtp, SmtpSecurity};
use super::render::Rendered;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;
use tessera_core::message::Message;

pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: lettre::message::Mailbox,
}

/// Why the SMTP settings cannot work; reported once at start.
#[derive(Debug, thiserror::Error)]
pub enum SmtpSetupError {
    #[error("the SMTP host is not usable: {0}")]
    Host(#[source] lettre::transport::smtp::Error),
    #[error("`from` is not an address: {0}")]
    From(#[source] lettre::address::AddressError),
}

impl SmtpSender {
    pub fn new(config: &Smtp, timeout: Duration) -> Result<Self, SmtpSetupError> {
        let builder = match config.security {
            SmtpSecurity::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)
                    .map_err(SmtpSetupError::Host)?
            }
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host)
                .map_err(SmtpSetupError::Host)?,
            SmtpSecurity::Plain => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            }
        };
        let mut builder = builder.port(config.port).timeout(Some(timeout));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(SmtpSender {
            transport: builder.build(),
            from: config.from.parse().map_err(SmtpSetupError::From)?,
        })
    }

    pub async fn send(&self, message: &Message, rendered: &Rendered) -> Outcome {
        let to = match message.to.parse::<lettre::message::Mailbox>() {
            Ok(to) => to,
            Err(e) => return Outcome::Refused(format!("not an address: {e}")),
        };
        let email = match lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(rendered.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(rendered.text.clone())
        {
            Ok(email) => email,
            Err(e) => return Outcome::Refused(format!("cannot build the email: {e}")),
        };
        match self.transport.send(email).await {
            Ok(response) => Outcome::Sent(response.message().next().map(str::to_string)),
            // A 5xx reply will not change on a retry; anything else (4xx, a timeout, a lost
            // connection) may.
            Err(e) if e.is_permanent() => Outcome::Refused(format!("SMTP refused: {e}")),
            Err(e) => Outcome::Retry(format!("SMTP failed: {e}")),
        }
    }
}
