//! A RADIUS request waiting for a notification, as the server's wait loop looks at it.

use super::World;
use crate::ids::{FlowId, RadiusClientId};
use crate::radius::{Answer, RadiusAsker, RadiusClient};
use crate::store::push::{PushAnswer, PushStatus};
use time::OffsetDateTime;

fn vpn() -> RadiusClient {
    RadiusClient {
        id: RadiusClientId(uuid::Uuid::new_v4()),
        name: "vpn".into(),
        network: "127.0.0.1".parse().unwrap(),
        sealed_secret: Vec::new(),
        require_message_authenticator: true,
        created_at: OffsetDateTime::UNIX_EPOCH,
    }
}

/// Uma, whose sign-in flow waits for the notification just sent to her app: the world, the
/// flow, the app, and the number it shows.
async fn waiting() -> (World, FlowId, super::Device, u8) {
    let w = World::new().await;
    let (_, token) = w.with_totp("uma@example.org").await;
    let device = w.add_app(&w.auth(&token).await).await;
    let flow = w.mfa("uma@example.org").await;
    let challenge =
        w.t.sign_in_challenge(flow, device.id, &w.ctx)
            .await
            .unwrap();
    let number = challenge.number.expect("a number to match");
    (w, flow, device, number)
}

/// What the server's wait loop finds when it looks.
async fn look(w: &World, flow: FlowId) -> Option<Answer> {
    let client = vpn();
    let asker = RadiusAsker {
        client: &client,
        source: "127.0.0.1".parse().unwrap(),
        calling_station_id: None,
    };
    w.t.radius_push_outcome(&asker, "uma@example.org", flow)
        .await
        .unwrap()
}

/// The approval moves the request and the flow in one commit, but the wait reads them one
/// after the other: between the two reads it sees an approved request on a flow not yet
/// approved. That is a look to make again, never a refusal (seen on PostgreSQL in CI).
#[tokio::test]
async fn an_approval_seen_between_its_two_rows_is_waited_for_not_refused() {
    let (w, flow, _, _) = waiting().await;
    assert!(look(&w, flow).await.is_none(), "still pending");

    // The request's half of the commit alone: what the first read missed.
    let request = w.t.sign_in_push(flow).await.unwrap().unwrap();
    let half = PushAnswer {
        request: request.id,
        status: PushStatus::Approved,
        at: w.t.now(),
        effects: Vec::new(),
    };
    assert!(w.t.store().answer_push_request(&half, &[]).await.unwrap());
    assert!(
        look(&w, flow).await.is_none(),
        "an approved request on a waiting flow is looked at again"
    );
}

/// Once the whole approval is seen, the waiting request is accepted, once.
#[tokio::test]
async fn an_approved_notification_accepts_the_waiting_request_once() {
    let (w, flow, device, number) = waiting().await;
    device.approve(&w, number).await.unwrap();
    assert!(matches!(look(&w, flow).await, Some(Answer::Accept)));
    assert!(matches!(look(&w, flow).await, Some(Answer::Reject(_))));
}
