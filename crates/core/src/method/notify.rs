//! Notifications of changes to security info: sent through every channel the person has
//! other than the one that changed (their email addresses; a text when they have no email),
//! so that someone who took over one channel cannot hide what they did with it.

use super::{Kind, Method, MethodData};
use crate::account::Account;
use crate::audit::RequestContext;
use crate::error::Result;
use crate::message::{Body, Channel, Envelope, Message, SecurityEvent, Topic};
use crate::service::Tessera;

/// Where `method` itself sends (its number or address), lowercased for comparison.
fn own_destination(method: &Method) -> Option<String> {
    match &method.data {
        MethodData::Phone { number, .. } => Some(number.clone()),
        MethodData::Email { address } => Some(address.to_lowercase()),
        _ => None,
    }
}

impl Tessera {
    /// The messages telling `account` that `changed` was added, removed or made default.
    pub(crate) async fn notifications(
        &self,
        account: &Account,
        changed: &Method,
        event: SecurityEvent,
        ctx: &RequestContext,
    ) -> Result<Vec<Message>> {
        let methods = self.store.methods_of(account.id).await?;
        let skip = own_destination(changed);
        let others = methods
            .iter()
            .filter(|m| m.is_active() && m.id != changed.id);
        let mut emails: Vec<String> = account.email.iter().map(|e| e.to_lowercase()).collect();
        emails.extend(others.clone().filter_map(|m| match &m.data {
            MethodData::Email { address } => Some(address.to_lowercase()),
            _ => None,
        }));
        emails.retain(|e| Some(e) != skip.as_ref());
        emails.sort();
        emails.dedup();
        let mut targets: Vec<(Channel, String)> =
            emails.into_iter().map(|e| (Channel::Email, e)).collect();
        if targets.is_empty() {
            let mut phones: Vec<String> = others
                .filter(|m| m.kind == Kind::PhoneMobile)
                .filter_map(own_destination)
                .filter(|n| Some(n) != skip.as_ref())
                .collect();
            phones.sort();
            phones.dedup();
            targets.extend(phones.into_iter().map(|p| (Channel::Sms, p)));
        }
        let now = self.now();
        let body = Body::Notification {
            event,
            kind: changed.kind,
            at: now.unix_timestamp(),
            ip: ctx.ip.map(|ip| ip.to_string()),
            user_agent: ctx
                .user_agent
                .as_ref()
                .map(|ua| ua.chars().take(200).collect()),
        };
        targets
            .into_iter()
            .map(|(channel, to)| {
                Message::new(
                    Envelope {
                        account_id: Some(account.id),
                        channel,
                        topic: Topic::Notification,
                        to,
                        extension: None,
                        // The person's own, not that of whoever made the change (an
                        // admin issuing a pass, say).
                        locale: account.message_locale(),
                        challenge_id: None,
                    },
                    &body,
                    &self.keys,
                    self.rng.as_ref(),
                    now,
                )
            })
            .collect()
    }
}

impl Tessera {
    /// What a queued message says, while it still holds its sealed body.
    pub fn open_message(&self, message: &Message) -> Result<Option<Body>> {
        message.body(&self.keys)
    }
}
