//! One Access-Request answered: Message-Authenticator checked, the password or the
//! challenge's response handed to core, and the answer signed with Message-Authenticator
//! first. A prompt is worded in the person's language.

use super::dropped;
use crate::i18n::Tr;
use std::net::SocketAddr;
use std::time::Duration;
use tessera_core::Tessera;
use tessera_core::radius::packet::{self, Packet};
use tessera_core::radius::{Answer, OpenClient, Prompt, RadiusAsker};
use zeroize::Zeroizing;

/// The longest a request waits for a notification's answer, whatever the clock says: the
/// notification itself lives 90 s.
const PUSH_WAIT_MAX: Duration = Duration::from_secs(100);
/// How often a waiting request looks again when no wake-up came.
const PUSH_LOOK_EVERY: Duration = Duration::from_millis(500);
/// Session-Timeout on a challenge: how long the client may take to answer it.
const CHALLENGE_SECS: u32 = 300;

/// The answer to `request`, or `None` to drop it.
pub(super) async fn answer(
    tessera: &Tessera,
    open: &OpenClient,
    source: SocketAddr,
    request: &Packet,
) -> tessera_core::Result<Option<Packet>> {
    let client = &open.client;
    let secret = open.secret.as_slice();
    let asker = RadiusAsker {
        client,
        source: source.ip(),
        calling_station_id: request
            .text(packet::CALLING_STATION_ID)
            .map(|s| s.chars().take(64).collect()),
    };
    // BlastRADIUS: a wrong Message-Authenticator is always dropped (RFC 3579 §3.2); a
    // missing one only where the client may do without.
    if request.has_message_authenticator() {
        if !request.request_authenticated(secret) {
            dropped("bad_message_authenticator");
            tessera
                .radius_refused(&asker, "bad_message_authenticator")
                .await?;
            return Ok(None);
        }
    } else if client.require_message_authenticator {
        dropped("no_message_authenticator");
        tessera
            .radius_refused(&asker, "no_message_authenticator")
            .await?;
        return Ok(None);
    }
    let reject = || Packet::reply(request, packet::ACCESS_REJECT, Vec::new(), secret);
    let Some(username) = request.text(packet::USER_NAME) else {
        return Ok(Some(reject()));
    };
    let state = request.get(packet::STATE);
    let typed = match (request.get(packet::USER_PASSWORD), state) {
        (Some(hidden), _) => {
            match packet::reveal_password(hidden, secret, &request.authenticator) {
                Some(typed) => typed,
                None => return Ok(Some(reject())),
            }
        }
        // An empty answer to a challenge, which some clients (radclient) send without
        // User-Password at all: waiting for the notification.
        (None, Some(_)) => Zeroizing::new(Vec::new()),
        // CHAP, EAP and the like: only PAP carries what a password check needs.
        (None, None) => return Ok(Some(reject())),
    };
    let Ok(typed) = String::from_utf8(typed.to_vec()) else {
        return Ok(Some(reject()));
    };
    let typed = Zeroizing::new(typed);
    let mut answer = match state {
        None => tessera.radius_password(&asker, username, typed).await?,
        Some(state) => {
            tessera
                .radius_response(&asker, username, state, typed)
                .await?
        }
    };
    if let Answer::AwaitPush { flow, until } = answer {
        answer = wait_for_push(tessera, &asker, username, flow, until).await?;
    }
    metrics::counter!("tessera_radius_answers_total", "answer" => label(&answer)).increment(1);
    Ok(Some(match answer {
        // The person's groups, for the client to map to its own roles.
        Answer::Accept => {
            let classes = tessera.radius_classes(username).await?;
            let attributes = classes.into_iter().map(|c| (packet::CLASS, c)).collect();
            Packet::reply(request, packet::ACCESS_ACCEPT, attributes, secret)
        }
        Answer::Challenge {
            state,
            prompt,
            language,
        } => {
            let mut attributes = Packet {
                code: 0,
                identifier: 0,
                authenticator: [0; 16],
                attributes: Vec::new(),
            };
            attributes.push_text(packet::REPLY_MESSAGE, &wording(&prompt, &language));
            attributes.attributes.push((packet::STATE, state));
            attributes.attributes.push((
                packet::SESSION_TIMEOUT,
                CHALLENGE_SECS.to_be_bytes().to_vec(),
            ));
            Packet::reply(
                request,
                packet::ACCESS_CHALLENGE,
                attributes.attributes,
                secret,
            )
        }
        Answer::Reject(_) | Answer::AwaitPush { .. } => reject(),
    }))
}

/// Holds the request until the notification is answered, or its time is over.
async fn wait_for_push(
    tessera: &Tessera,
    asker: &RadiusAsker<'_>,
    username: &str,
    flow: tessera_core::FlowId,
    until: time::OffsetDateTime,
) -> tessera_core::Result<Answer> {
    let key = tessera_core::store::push::binding_key(&flow.to_string());
    let started = tokio::time::Instant::now();
    metrics::gauge!("tessera_radius_push_waiting").increment(1.0);
    let outcome = async {
        loop {
            // Listening before looking, so an answer in between still wakes the wait.
            let mut subscription = tessera.store().push_subscribe();
            if let Some(answer) = tessera.radius_push_outcome(asker, username, flow).await? {
                return Ok(answer);
            }
            if started.elapsed() > PUSH_WAIT_MAX
                || tessera.now() > until + time::Duration::seconds(1)
            {
                // Past its time: the outcome reads the request as expired and says so.
                return tessera
                    .radius_push_outcome(asker, username, flow)
                    .await
                    .map(|a| {
                        a.unwrap_or(Answer::Reject(tessera_core::radius::Refusal::PushExpired))
                    });
            }
            let _ = tokio::time::timeout(PUSH_LOOK_EVERY, async {
                loop {
                    match subscription.next().await {
                        tessera_core::store::push::Wake::Key(k) if k == key => return,
                        tessera_core::store::push::Wake::Missed => return,
                        tessera_core::store::push::Wake::Key(_) => {}
                    }
                }
            })
            .await;
        }
    }
    .await;
    metrics::gauge!("tessera_radius_push_waiting").decrement(1.0);
    outcome
}

fn label(answer: &Answer) -> &'static str {
    match answer {
        Answer::Accept => "accept",
        Answer::Reject(_) => "reject",
        Answer::Challenge { .. } => "challenge",
        Answer::AwaitPush { .. } => "reject",
    }
}

/// The Reply-Message of a challenge, in `language`.
fn wording(prompt: &Prompt, language: &str) -> String {
    let tr = Tr::for_tag(language);
    match prompt {
        Prompt::AppCode => tr.get("radius-prompt-app-code"),
        Prompt::TextedCode { sent_to: Some(to) } => {
            tr.with("radius-prompt-texted-code", "phone", to)
        }
        Prompt::TextedCode { sent_to: None } => tr.get("radius-prompt-texted"),
        Prompt::OtherCode => tr.get("radius-prompt-other-code"),
        Prompt::Push { number } => tr.with("radius-prompt-push", "number", number),
    }
}
