//! How `tessera oidc` shows clients and keys: a table, a client's details, or JSON for
//! scripts; never a secret's hash.

use crate::output::{table, timestamp};
use serde::Serialize;
use tessera_core::oidc::Client;

/// A client as scripts see it: no secret, no hash of one.
#[derive(Debug, Serialize)]
pub(super) struct ClientView {
    client_id: String,
    name: String,
    confidential: bool,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    backchannel_logout_uri: Option<String>,
    first_party: bool,
    requirement: &'static str,
    offline_access: bool,
    id_token_alg: &'static str,
    created_at: String,
}

impl From<&Client> for ClientView {
    fn from(c: &Client) -> Self {
        ClientView {
            client_id: c.client_id.clone(),
            name: c.name.clone(),
            confidential: !c.is_public(),
            redirect_uris: c.redirect_uris.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            backchannel_logout_uri: c.backchannel_logout_uri.clone(),
            first_party: c.first_party,
            requirement: c.requirement.as_str(),
            offline_access: c.offline_access,
            id_token_alg: c.id_token_alg.as_str(),
            created_at: timestamp(c.created_at),
        }
    }
}

impl ClientView {
    pub(super) fn text(&self) -> String {
        let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
        let list = |l: &[String]| {
            if l.is_empty() {
                "-".to_string()
            } else {
                l.join(" ")
            }
        };
        let rows = [
            ["name", &self.name],
            ["client_id", &self.client_id],
            ["type", kind(self.confidential)],
            ["redirect URIs", &list(&self.redirect_uris)],
            [
                "post-logout redirect URIs",
                &list(&self.post_logout_redirect_uris),
            ],
            [
                "back-channel logout URI",
                self.backchannel_logout_uri.as_deref().unwrap_or("-"),
            ],
            ["first party (no consent)", &yes_no(self.first_party)],
            ["requires", self.requirement],
            ["refresh tokens", &yes_no(self.offline_access)],
            ["ID token algorithm", self.id_token_alg],
            ["created", &self.created_at],
        ]
        .map(|[k, v]| vec![k.to_string(), v.to_string()]);
        table(&rows)
    }
}

pub(super) fn kind(confidential: bool) -> &'static str {
    if confidential {
        "confidential"
    } else {
        "public"
    }
}

#[derive(Debug, Serialize)]
pub(super) struct Created {
    pub(super) client: ClientView,
    /// Shown this once; `null` for a public client.
    pub(super) client_secret: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct KeyView {
    pub(super) kid: String,
    pub(super) alg: &'static str,
    pub(super) created_at: String,
}

pub(super) fn client_table(clients: &[Client]) -> String {
    let mut rows = vec![
        ["CLIENT ID", "NAME", "TYPE", "PARTY", "REQUIRES", "CREATED"]
            .map(String::from)
            .to_vec(),
    ];
    for c in clients {
        rows.push(vec![
            c.client_id.clone(),
            c.name.clone(),
            kind(!c.is_public()).to_string(),
            if c.first_party { "first" } else { "third" }.to_string(),
            c.requirement.as_str().to_string(),
            timestamp(c.created_at),
        ]);
    }
    table(&rows)
}
