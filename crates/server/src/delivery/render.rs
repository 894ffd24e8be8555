//! A message put into words, in the person's language, when it is sent (or shown to an
//! admin from the development outbox).

use crate::i18n::Tr;
use crate::web::{Stamp, browser};
use tessera_core::message::{Body, Channel, Message, SecurityEvent};

/// A message's words for its channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Email only.
    pub subject: String,
    /// What a text or email says, or what a call says aloud.
    pub text: String,
    /// A call that waits for # (and reports it to the callback URL).
    pub confirm: bool,
    /// What a call says when no key was pressed.
    pub goodbye: String,
}

/// `1 2 3 4 5 6`, read one digit at a time.
fn spoken(code: &str) -> String {
    code.chars()
        .map(String::from)
        .collect::<Vec<_>>()
        .join(", ")
}

fn purpose_text(tr: &Tr, purpose: &str) -> String {
    let key = match purpose {
        "register" => "msg-purpose-register",
        "reset" => "msg-purpose-reset",
        "step_up" => "msg-purpose-step_up",
        _ => "msg-purpose-sign_in",
    };
    tr.get(key)
}

pub fn render(message: &Message, body: &Body, org: &str) -> Rendered {
    let tr = Tr::for_tag(&message.locale);
    let org = org.to_string();
    let goodbye = tr.get("msg-call-goodbye");
    match body {
        Body::Code {
            code,
            purpose,
            minutes,
        } => {
            let args = [
                ("org", org.clone()),
                ("code", code.clone()),
                ("digits", spoken(code)),
                ("minutes", minutes.to_string()),
                ("purpose", purpose_text(&tr, purpose)),
            ];
            let key = match message.channel {
                Channel::Sms => "msg-code-sms",
                Channel::Voice => "msg-code-voice",
                Channel::Email => "msg-code-email",
            };
            Rendered {
                subject: tr.args("msg-code-email-subject", &args),
                text: tr.args(key, &args),
                confirm: false,
                goodbye,
            }
        }
        Body::CallConfirm { purpose } => {
            let args = [("org", org), ("purpose", purpose_text(&tr, purpose))];
            Rendered {
                subject: String::new(),
                text: tr.args("msg-call-confirm", &args),
                confirm: true,
                goodbye,
            }
        }
        Body::Notification {
            event,
            kind,
            at,
            ip,
            user_agent,
        } => {
            let when = time::OffsetDateTime::from_unix_timestamp(*at)
                .map(|t| Stamp::new(t).text)
                .unwrap_or_default();
            let unknown = tr.get("activity-unknown");
            let args = [
                ("org", org),
                ("kind", tr.get(&format!("kind-{}", kind.as_str()))),
                ("when", when),
                ("ip", ip.clone().unwrap_or_else(|| unknown.clone())),
                // "Chrome on Linux", as the activity page names it.
                ("browser", browser(user_agent.as_deref(), &tr)),
            ];
            let what = tr.args(&format!("msg-note-{}", event_key(*event)), &args);
            let text = match message.channel {
                Channel::Email => [
                    what,
                    String::new(),
                    tr.args("msg-note-when", &args),
                    tr.args("msg-note-where", &args),
                    String::new(),
                    tr.args("msg-note-not-you", &args),
                ]
                .join("\n"),
                _ => tr.args(
                    "msg-note-sms",
                    &[("what", what), ("org", args[0].1.clone())],
                ),
            };
            Rendered {
                subject: tr.args("msg-note-subject", &args),
                text,
                confirm: false,
                goodbye,
            }
        }
    }
}

fn event_key(event: SecurityEvent) -> &'static str {
    event.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_one_digit_at_a_time() {
        assert_eq!(spoken("123"), "1, 2, 3");
    }
}
