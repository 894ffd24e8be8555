//! The HTTP gateways: a generic signed webhook, and Twilio's Messages and Calls.
//!
//! Webhook request: `POST <url>` with `X-Tessera-Signature: sha256=<hex HMAC-SHA256 of the
//! body under the shared secret>` and a JSON body:
//! `{"id", "channel": "sms"|"voice"|"email", "to", "extension", "locale", "subject", "text",
//!   "voice": {"confirm": bool, "callback_url", "goodbye"}}`.
//! A call that asks for # is confirmed by the gateway POSTing
//! `{"digits": "#"}` to `callback_url`, signed the same way.

use super::config::{Twilio, Webhook};
use super::render::Rendered;
use super::{Outcome, VOICE_CALLBACK};
use hmac::{KeyInit, Mac};
use reqwest::StatusCode;
use sha2::Sha256;
use tessera_core::message::{Channel, Message};

/// `sha256=<hex>` of `body` under `secret`.
pub fn webhook_signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    format!(
        "sha256={}",
        data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
    )
}

/// Twilio's `X-Twilio-Signature`: base64 of HMAC-SHA1 over the full URL followed by the
/// POST parameters, sorted by name, each name then value.
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut data = url.to_string();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let Ok(mut mac) = hmac::Hmac::<sha1::Sha1>::new_from_slice(auth_token.as_bytes()) else {
        return String::new();
    };
    mac.update(data.as_bytes());
    data_encoding::BASE64.encode(&mac.finalize().into_bytes())
}

/// Where a call reports its keypress.
pub fn callback_url(public_url: &str, message: &Message) -> String {
    let challenge = message
        .challenge_id
        .map(|c| c.to_string())
        .unwrap_or_default();
    format!(
        "{}/api/v1{VOICE_CALLBACK}?challenge={challenge}",
        public_url.trim_end_matches('/')
    )
}

/// A status that may pass if tried again (the gateway is busy or broken) or not.
fn outcome(status: StatusCode, reference: Option<String>) -> Outcome {
    if status.is_success() {
        Outcome::Sent(reference)
    } else if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        Outcome::Retry(format!("gateway answered {status}"))
    } else {
        Outcome::Refused(format!("gateway refused with {status}"))
    }
}

fn transport_error(e: &reqwest::Error) -> Outcome {
    if e.is_timeout() {
        Outcome::Retry("gateway timed out".into())
    } else {
        Outcome::Retry(format!("gateway unreachable: {e}"))
    }
}

pub async fn webhook(
    client: &reqwest::Client,
    hook: &Webhook,
    public_url: &str,
    message: &Message,
    rendered: &Rendered,
) -> Outcome {
    let voice = (message.channel == Channel::Voice).then(|| {
        serde_json::json!({
            "confirm": rendered.confirm,
            "callback_url": callback_url(public_url, message),
            "goodbye": rendered.goodbye,
        })
    });
    let body = serde_json::json!({
        "id": message.id.to_string(),
        "channel": message.channel.as_str(),
        "to": message.to,
        "extension": message.extension,
        "locale": message.locale,
        "subject": (message.channel == Channel::Email).then_some(&rendered.subject),
        "text": rendered.text,
        "voice": voice,
    });
    let bytes = body.to_string().into_bytes();
    let signature = webhook_signature(&hook.secret, &bytes);
    match client
        .post(&hook.url)
        .header("content-type", "application/json")
        .header("x-tessera-signature", signature)
        .body(bytes)
        .send()
        .await
    {
        Ok(response) => outcome(response.status(), None),
        Err(e) => transport_error(&e),
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Twilio's voice for a language: `nl-NL` for Dutch, `en-US` otherwise.
fn say_language(locale: &str) -> &'static str {
    if locale.starts_with("nl") {
        "nl-NL"
    } else {
        "en-US"
    }
}

/// The TwiML a call runs: say the code twice, or ask for # and report it to the callback.
pub fn twiml(public_url: &str, message: &Message, rendered: &Rendered) -> String {
    let lang = say_language(&message.locale);
    let text = xml_escape(&rendered.text);
    if rendered.confirm {
        format!(
            "<Response><Gather numDigits=\"1\" finishOnKey=\"\" timeout=\"15\" method=\"POST\" \
             action=\"{}\"><Say language=\"{lang}\">{text}</Say></Gather>\
             <Say language=\"{lang}\">{}</Say></Response>",
            xml_escape(&callback_url(public_url, message)),
            xml_escape(&rendered.goodbye)
        )
    } else {
        format!("<Response><Say language=\"{lang}\">{text}</Say></Response>")
    }
}

pub async fn twilio(
    client: &reqwest::Client,
    gateway: &Twilio,
    public_url: &str,
    message: &Message,
    rendered: &Rendered,
) -> Outcome {
    let base = format!(
        "{}/2010-04-01/Accounts/{}",
        gateway.base_url.trim_end_matches('/'),
        gateway.account_sid
    );
    let (url, mut form) = match message.channel {
        Channel::Voice => (
            format!("{base}/Calls.json"),
            vec![("Twiml", twiml(public_url, message, rendered))],
        ),
        _ => (
            format!("{base}/Messages.json"),
            vec![("Body", rendered.text.clone())],
        ),
    };
    form.push(("To", message.to.clone()));
    form.push(("From", gateway.from.clone()));
    if let Some(ext) = &message.extension {
        // Wait a moment after the call connects, then dial the extension.
        form.push(("SendDigits", format!("ww{ext}")));
    }
    let body = serde_urlencoded::to_string(&form).unwrap_or_default();
    let response = client
        .post(&url)
        .basic_auth(&gateway.account_sid, Some(&gateway.auth_token))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await;
    match response {
        Ok(response) => {
            let status = response.status();
            let sid = response
                .json::<serde_json::Value>()
                .await
                .ok()
                .and_then(|v| v.get("sid").and_then(|s| s.as_str()).map(str::to_string));
            outcome(status, sid)
        }
        Err(e) => transport_error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of Twilio's security documentation.
    #[test]
    fn twilio_signatures_match_the_documented_example() {
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            twilio_signature(
                "12345",
                "https://mycompany.com/myapp.php?foo=1&bar=2",
                &params
            ),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
    }

    #[test]
    fn twiml_escapes_what_it_says() {
        let r = Rendered {
            subject: String::new(),
            text: "a < b & \"c\"".into(),
            confirm: false,
            goodbye: String::new(),
        };
        let m = tessera_core::message::Message {
            id: tessera_core::MessageId(uuid::Uuid::nil()),
            account_id: None,
            channel: Channel::Voice,
            topic: tessera_core::message::Topic::Code,
            to: "+31612345678".into(),
            extension: None,
            locale: "nl".into(),
            payload: None,
            challenge_id: None,
            status: tessera_core::message::MessageStatus::Sending,
            attempts: 1,
            next_attempt_at: time::OffsetDateTime::UNIX_EPOCH,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            sent_at: None,
            note: None,
        };
        assert_eq!(
            twiml("http://x", &m, &r),
            "<Response><Say language=\"nl-NL\">a &lt; b &amp; &quot;c&quot;</Say></Response>"
        );
    }
}
