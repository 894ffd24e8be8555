//! The `[delivery]` section: which gateway carries texts, calls and email. Everything defaults
//! to `outbox` (messages kept for admins: `tessera outbox list`), so a fresh install works
//! without any gateway. Secrets may come from files (`secret_file`, `auth_token_file`,
//! `password_file`) so they stay out of the configuration file.

use crate::failure::{Failure, Outcome};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tessera_server::delivery::DeliveryConfig;
use tessera_server::delivery::config::{
    EmailGateway, PhoneGateway, Smtp, SmtpSecurity, Twilio, Webhook,
};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DeliveryFile {
    sms: Option<String>,
    voice: Option<String>,
    email: Option<String>,
    timeout_secs: Option<u64>,
    max_attempts: Option<u32>,
    retry_after_secs: Option<u64>,
    webhook: Option<WebhookFile>,
    twilio: Option<TwilioFile>,
    smtp: Option<SmtpFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookFile {
    url: String,
    secret: Option<String>,
    secret_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TwilioFile {
    base_url: Option<String>,
    account_sid: String,
    auth_token: Option<String>,
    auth_token_file: Option<PathBuf>,
    from: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SmtpFile {
    host: String,
    port: Option<u16>,
    security: Option<String>,
    username: Option<String>,
    password: Option<String>,
    password_file: Option<PathBuf>,
    from: String,
}

/// A secret given inline or in a file (its first line), never both.
fn secret(
    inline: Option<String>,
    file: Option<PathBuf>,
    key: &str,
    at: &dyn Fn(&str) -> String,
) -> Outcome<Option<String>> {
    match (inline, file) {
        (Some(_), Some(_)) => Err(Failure::Usage(format!(
            "{} and {}_file are both set; give only one",
            at(key),
            at(key)
        ))),
        (Some(v), None) => Ok(Some(v)),
        (None, Some(path)) => std::fs::read_to_string(&path)
            .map(|t| Some(t.lines().next().unwrap_or("").trim().to_string()))
            .map_err(|e| Failure::Usage(format!("{}_file ({}): {e}", at(key), path.display()))),
        (None, None) => Ok(None),
    }
}

fn required(value: Option<String>, key: &str, at: &dyn Fn(&str) -> String) -> Outcome<String> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| Failure::Usage(format!("{} is required", at(key))))
}

fn url(value: &str, key: &str, at: &dyn Fn(&str) -> String) -> Outcome<String> {
    let v = value.trim().trim_end_matches('/');
    if v.starts_with("https://") || v.starts_with("http://") {
        Ok(v.to_string())
    } else {
        Err(Failure::Usage(format!(
            "{}: `{value}` is not an http(s) URL",
            at(key)
        )))
    }
}

pub(super) fn resolve(file: Option<(DeliveryFile, PathBuf)>) -> Outcome<DeliveryConfig> {
    let mut config = DeliveryConfig::default();
    let Some((file, path)) = file else {
        return Ok(config);
    };
    let at = |key: &str| format!("`delivery.{key}` in {}", path_text(&path));
    let webhook = file
        .webhook
        .map(|w| -> Outcome<Webhook> {
            Ok(Webhook {
                url: url(&w.url, "webhook.url", &at)?,
                secret: required(
                    secret(w.secret, w.secret_file, "webhook.secret", &at)?,
                    "webhook.secret",
                    &at,
                )?,
            })
        })
        .transpose()?;
    let twilio = file
        .twilio
        .map(|t| -> Outcome<Twilio> {
            Ok(Twilio {
                base_url: url(
                    t.base_url.as_deref().unwrap_or("https://api.twilio.com"),
                    "twilio.base_url",
                    &at,
                )?,
                account_sid: required(Some(t.account_sid), "twilio.account_sid", &at)?,
                auth_token: required(
                    secret(t.auth_token, t.auth_token_file, "twilio.auth_token", &at)?,
                    "twilio.auth_token",
                    &at,
                )?,
                from: required(Some(t.from), "twilio.from", &at)?,
            })
        })
        .transpose()?;
    let smtp = file
        .smtp
        .map(|s| -> Outcome<Smtp> {
            let security = match s.security.as_deref().unwrap_or("starttls") {
                "starttls" => SmtpSecurity::Starttls,
                "tls" => SmtpSecurity::Tls,
                "plain" => SmtpSecurity::Plain,
                other => {
                    return Err(Failure::Usage(format!(
                        "{}: `{other}` is not starttls, tls or plain",
                        at("smtp.security")
                    )));
                }
            };
            let default_port = match security {
                SmtpSecurity::Starttls => 587,
                SmtpSecurity::Tls => 465,
                SmtpSecurity::Plain => 25,
            };
            Ok(Smtp {
                host: required(Some(s.host), "smtp.host", &at)?,
                port: s.port.unwrap_or(default_port),
                security,
                username: s.username,
                password: secret(s.password, s.password_file, "smtp.password", &at)?,
                from: required(Some(s.from), "smtp.from", &at)?,
            })
        })
        .transpose()?;
    let phone = |key: &str, choice: Option<String>| -> Outcome<PhoneGateway> {
        match choice.as_deref().unwrap_or("outbox") {
            "outbox" => Ok(PhoneGateway::Outbox),
            "webhook" => webhook.clone().map(PhoneGateway::Webhook).ok_or_else(|| {
                Failure::Usage(format!(
                    "{} is webhook, but [delivery.webhook] is missing",
                    at(key)
                ))
            }),
            "twilio" => twilio.clone().map(PhoneGateway::Twilio).ok_or_else(|| {
                Failure::Usage(format!(
                    "{} is twilio, but [delivery.twilio] is missing",
                    at(key)
                ))
            }),
            other => Err(Failure::Usage(format!(
                "{}: `{other}` is not outbox, webhook or twilio",
                at(key)
            ))),
        }
    };
    config.sms = phone("sms", file.sms)?;
    config.voice = phone("voice", file.voice)?;
    config.email = match file.email.as_deref().unwrap_or("outbox") {
        "outbox" => EmailGateway::Outbox,
        "webhook" => EmailGateway::Webhook(webhook.clone().ok_or_else(|| {
            Failure::Usage(format!(
                "{} is webhook, but [delivery.webhook] is missing",
                at("email")
            ))
        })?),
        "smtp" => EmailGateway::Smtp(smtp.ok_or_else(|| {
            Failure::Usage(format!(
                "{} is smtp, but [delivery.smtp] is missing",
                at("email")
            ))
        })?),
        other => {
            return Err(Failure::Usage(format!(
                "{}: `{other}` is not outbox, webhook or smtp",
                at("email")
            )));
        }
    };
    if let Some(t) = file.timeout_secs {
        if !(1..=120).contains(&t) {
            return Err(Failure::Usage(format!(
                "{}: must be 1 to 120",
                at("timeout_secs")
            )));
        }
        config.timeout = Duration::from_secs(t);
    }
    if let Some(n) = file.max_attempts {
        if !(1..=20).contains(&n) {
            return Err(Failure::Usage(format!(
                "{}: must be 1 to 20",
                at("max_attempts")
            )));
        }
        config.max_attempts = n;
    }
    if let Some(t) = file.retry_after_secs {
        if !(1..=3600).contains(&t) {
            return Err(Failure::Usage(format!(
                "{}: must be 1 to 3600",
                at("retry_after_secs")
            )));
        }
        config.retry_after = Duration::from_secs(t);
    }
    Ok(config)
}

fn path_text(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml: &str) -> Outcome<DeliveryConfig> {
        #[derive(Deserialize)]
        struct Wrapper {
            delivery: DeliveryFile,
        }
        let w: Wrapper = toml::from_str(toml).unwrap();
        resolve(Some((w.delivery, PathBuf::from("t.toml"))))
    }

    #[test]
    fn gateways_are_chosen_per_channel() {
        let c = parse(
            "[delivery]\nsms = \"twilio\"\nvoice = \"twilio\"\nemail = \"smtp\"\n\
             [delivery.twilio]\naccount_sid = \"AC1\"\nauth_token = \"t\"\nfrom = \"+15005550006\"\n\
             [delivery.smtp]\nhost = \"smtp.example.org\"\nfrom = \"mfa@example.org\"\n",
        )
        .unwrap();
        assert!(
            matches!(&c.sms, PhoneGateway::Twilio(t) if t.base_url == "https://api.twilio.com")
        );
        assert!(matches!(&c.email, EmailGateway::Smtp(s) if s.port == 587));
    }

    #[test]
    fn a_chosen_gateway_without_its_settings_is_an_error() {
        let e = parse("[delivery]\nsms = \"webhook\"\n").err().unwrap();
        assert!(
            e.to_string().contains("[delivery.webhook] is missing"),
            "{e}"
        );
        let e = parse("[delivery]\nemail = \"pigeon\"\n").err().unwrap();
        assert!(e.to_string().contains("pigeon"), "{e}");
    }
}
