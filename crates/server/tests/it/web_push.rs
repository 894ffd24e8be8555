//! Standard Web Push to the authenticator web app, with a push service and a browser in the
//! test (`web_push_service`): subscribing, a sign-in's request arriving encrypted and signed,
//! nothing secret in it, the message that closes it, refused subscriptions, a gone
//! subscription, unsubscribing, CORS on the device API only, and one sender among two nodes.

use crate::common::{Harness, each_backend, each_backend_with};
use crate::push::{Device, enrolled};
use crate::web_push_service::{Browser, PushService, Received, check_vapid};
use serde_json::{Value, json};
use std::time::Duration;
use tessera_core::{Clock, MethodId};

/// The VAPID key the server publishes.
async fn vapid_key(h: &Harness) -> String {
    let (status, info) = h.get(&h.client(), "/api/v1/device/webpush", None).await;
    assert_eq!(status, 200, "{info}");
    info["vapid_public_key"].as_str().unwrap().to_string()
}

async fn subscribe(h: &Harness, device: &Device, browser: &Browser, endpoint: &str) {
    let (status, body) = h
        .put(
            &h.client(),
            "/api/v1/device/webpush",
            &device.credential,
            browser.subscription(endpoint),
        )
        .await;
    assert_eq!(status, 204, "{body}");
}

/// Starts a sign-in by notification for `username`; the number the sign-in page shows.
async fn sign_in(h: &Harness, username: &str) -> u64 {
    let c = h.client();
    let body = h.api_sign_in(&c, username).await;
    let flow = body["flow"].as_str().unwrap();
    let (status, challenge) = h
        .post(
            &c,
            &format!("/api/v1/sign-in/{flow}/challenge"),
            None,
            json!({"method_id": body["default_method"]}),
        )
        .await;
    assert_eq!(status, 200, "{challenge}");
    challenge["number"].as_u64().unwrap()
}

/// Every key anywhere in `v`.
fn keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, v)| {
            out.push(k.clone());
            keys(v, out);
        }),
        Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

/// Every scalar anywhere in `v`.
fn values(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => m.values().for_each(|v| values(v, out)),
        Value::Array(a) => a.iter().for_each(|v| values(v, out)),
        scalar => out.push(scalar.clone()),
    }
}

fn method_id(method: &str) -> MethodId {
    method.parse().unwrap()
}

#[tokio::test]
async fn a_sign_in_request_arrives_encrypted_signed_and_without_secrets() {
    each_backend(|h: Harness| async move {
        let mut service = PushService::start().await;
        let browser = Browser::new();
        let user = "winnie@example.org";
        let (_, method, device) = enrolled(&h, user, None).await;
        let (status, info) = h.get(&h.client(), "/api/v1/device/webpush", None).await;
        assert_eq!(status, 200);
        assert_eq!(
            (info["available"].as_bool(), &info["reason"]),
            (Some(true), &Value::Null)
        );
        let key = info["vapid_public_key"].as_str().unwrap().to_string();
        let raw = data_encoding::BASE64URL_NOPAD
            .decode(key.as_bytes())
            .unwrap();
        assert_eq!((raw.len(), raw[0]), (65, 4), "an uncompressed P-256 point");
        subscribe(&h, &device, &browser, &service.endpoint("winnie")).await;

        let number = sign_in(&h, user).await;
        let message = service.next().await;
        assert_eq!(message.path, "/push/winnie");
        assert_eq!(message.header("urgency"), "high");
        let ttl: i64 = message.header("ttl").parse().unwrap();
        assert!(ttl > 0 && ttl <= 90, "TTL {ttl}");
        check_vapid(&message, &key, service.origin(), h.clock().now());
        let payload = browser.read(&message);
        assert_eq!(payload["v"], 1);
        assert_eq!(payload["type"], "request");
        assert_eq!(payload["server"], h.origin());
        assert_eq!(payload["device_id"], method.as_str());
        // The same object the device's own API lists.
        let pending = device.pending(&h).await;
        assert_eq!(pending.len(), 1);
        assert_eq!(payload["request"], pending[0]);
        assert_eq!(payload["request"]["purpose"], "sign_in");
        assert_eq!(payload["request"]["account"]["username"], user);
        // Nothing that would approve anything: no number, no credential, no code or seed.
        let mut names = Vec::new();
        keys(&payload, &mut names);
        for secret in ["number", "credential", "code", "secret", "totp"] {
            assert!(!names.iter().any(|n| n == secret), "{secret} in {payload}");
        }
        let text = payload.to_string();
        assert!(!text.contains(&device.credential));
        // The number is nowhere as a value (a string of it could be part of a time).
        let mut numbers = Vec::new();
        values(&payload, &mut numbers);
        assert!(
            !numbers
                .iter()
                .any(|v| v.as_u64() == Some(number)
                    || v.as_str() == Some(number.to_string().as_str())),
            "{text}"
        );

        // Approved on the device: the notification is closed, under the request's topic.
        let id = pending[0]["id"].as_str().unwrap();
        device.approve(&h, id, number).await;
        let closed = service.next().await;
        let closing = browser.read(&closed);
        assert_eq!(
            closing,
            json!({"v": 1, "type": "closed", "server": h.origin(),
                   "device_id": method, "request_id": id})
        );
        assert_eq!(closed.header("topic"), message.header("topic"));
        assert!(
            service
                .quiet_for(Duration::from_millis(500))
                .await
                .is_none()
        );
    })
    .await;
}

#[tokio::test]
async fn the_activation_names_the_vapid_key_and_an_insecure_server_says_web_push_is_off() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        h.add_user("vera@example.org").await;
        let token = h.api_sign_in(&c, "vera@example.org").await["session"]
            .as_str()
            .unwrap()
            .to_string();
        let (_, added) = h
            .post(
                &c,
                "/api/v1/me/security-info/methods",
                Some(&token),
                json!({"kind": "authenticator_app"}),
            )
            .await;
        let code = added["activation"]["code"].as_str().unwrap();
        let (_, activated) = Device::activate(&h, code, None).await;
        assert_eq!(activated["vapid_public_key"], vapid_key(&h).await.as_str());
        // Another node of the deployment publishes the same key.
        let other = h.another_node().await;
        assert_eq!(vapid_key(&other).await, vapid_key(&h).await);
    })
    .await;
    each_backend_with(
        |config| config.public_url = "http://mfa.example.org".into(),
        |h: Harness| async move {
            let (status, info) = h.get(&h.client(), "/api/v1/device/webpush", None).await;
            assert_eq!(status, 200);
            assert_eq!(info["available"], false);
            assert!(info["reason"].as_str().unwrap().contains("https"), "{info}");
            assert_eq!(info["vapid_public_key"].as_str().map(str::len), Some(87));
        },
    )
    .await;
}

#[tokio::test]
async fn bad_subscriptions_are_refused_and_change_nothing() {
    each_backend(|h: Harness| async move {
        let service = PushService::start().await;
        let browser = Browser::new();
        let (_, method, device) = enrolled(&h, "bart@example.org", None).await;
        let endpoint = service.endpoint("bart");
        subscribe(&h, &device, &browser, &endpoint).await;
        let good = browser.subscription(&endpoint);
        let with = |path: &[&str], value: Value| {
            let mut body = good.clone();
            let mut at = &mut body;
            for p in &path[..path.len() - 1] {
                at = &mut at[*p];
            }
            at[path[path.len() - 1]] = value;
            body
        };
        let mut off_curve = data_encoding::BASE64URL_NOPAD
            .decode(good["keys"]["p256dh"].as_str().unwrap().as_bytes())
            .unwrap();
        off_curve[64] ^= 1;
        let b64 = |b: &[u8]| data_encoding::BASE64URL_NOPAD.encode(b);
        let long = format!("https://push.example.net/{}", "a".repeat(2048));
        let cases = [
            (
                with(&["endpoint"], json!("http://push.example.net/w/1")),
                "endpoint",
            ),
            (with(&["endpoint"], json!(long)), "endpoint"),
            (
                with(&["endpoint"], json!("ftp://push.example.net/w")),
                "endpoint",
            ),
            (
                with(&["keys", "p256dh"], json!(b64(&off_curve))),
                "keys.p256dh",
            ),
            (
                with(&["keys", "p256dh"], json!(b64(&off_curve[..33]))),
                "keys.p256dh",
            ),
            (
                with(&["keys", "p256dh"], json!("not base64!")),
                "keys.p256dh",
            ),
            (with(&["keys", "auth"], json!(b64(&[1u8; 15]))), "keys.auth"),
        ];
        for (body, field) in cases {
            let (status, refused) = h
                .put(
                    &h.client(),
                    "/api/v1/device/webpush",
                    &device.credential,
                    body,
                )
                .await;
            assert_eq!(
                (status, refused["error"].as_str(), refused["field"].as_str()),
                (400, Some("bad_request"), Some(field)),
                "{refused}"
            );
        }
        let (status, refused) = h
            .put(
                &h.client(),
                "/api/v1/device/webpush",
                "not-a-credential",
                good.clone(),
            )
            .await;
        assert_eq!(
            (status, refused["error"].as_str()),
            (401, Some("unauthorized"))
        );
        let anonymous = h
            .client()
            .put(h.url("/api/v1/device/webpush"))
            .json(&good)
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 401);
        // The first subscription stands.
        let kept = h
            .store()
            .web_push(method_id(&method))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(kept.endpoint, endpoint);
    })
    .await;
}

#[tokio::test]
async fn a_gone_subscription_is_forgotten_and_unsubscribing_stops_messages() {
    each_backend(|h: Harness| async move {
        let mut service = PushService::start().await;
        let browser = Browser::new();
        let user = "gina@example.org";
        let (_, method, device) = enrolled(&h, user, None).await;
        subscribe(&h, &device, &browser, &service.endpoint("gina")).await;
        service.answer_with(410);
        sign_in(&h, user).await;
        service.next().await;
        let mut forgotten = false;
        for _ in 0..100 {
            if h.store()
                .web_push(method_id(&method))
                .await
                .unwrap()
                .is_none()
            {
                forgotten = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            forgotten,
            "a 410 from the push service drops the subscription"
        );
        let (_, metrics) = h.get(&h.client(), "/metrics", None).await;
        let counted = metrics.as_str().unwrap().lines().any(|l| {
            l.starts_with("tessera_push_wakeups_total")
                && l.contains(r#"channel="web_push""#)
                && l.contains(r#"outcome="gone""#)
        });
        assert!(counted, "{metrics}");

        // Subscribed again, then unsubscribed: no message, but the app still finds the
        // request when it asks.
        service.answer_with(201);
        subscribe(&h, &device, &browser, &service.endpoint("gina")).await;
        let (status, _) = h
            .delete(&h.client(), "/api/v1/device/webpush", &device.credential)
            .await;
        assert_eq!(status, 204);
        assert_eq!(h.store().web_push(method_id(&method)).await.unwrap(), None);
        h.advance(120);
        sign_in(&h, user).await;
        assert!(service.quiet_for(Duration::from_secs(2)).await.is_none());
        assert_eq!(device.pending(&h).await.len(), 1);
        // A wake-up URL and a subscription replace each other: one path per device.
        subscribe(&h, &device, &browser, &service.endpoint("gina")).await;
        let (status, _) = h
            .put(
                &h.client(),
                "/api/v1/device/wakeup",
                &device.credential,
                json!({"url": "https://up.example.org/u"}),
            )
            .await;
        assert_eq!(status, 204);
        assert_eq!(h.store().web_push(method_id(&method)).await.unwrap(), None);
    })
    .await;
}

/// A request the browser sends from another origin, as the installed app does.
fn cross_origin(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request
        .header("origin", "https://authenticator.example.net")
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", "cors")
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn the_device_api_allows_any_origin_and_the_rest_does_not() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let preflight = |path: &str, method: &str| {
            cross_origin(c.request(reqwest::Method::OPTIONS, h.url(path)))
                .header("access-control-request-method", method)
                .header(
                    "access-control-request-headers",
                    "authorization, content-type",
                )
                .send()
        };
        let r = preflight("/api/v1/device/webpush", "PUT").await.unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(header(&r, "access-control-allow-origin"), Some("*"));
        assert_eq!(
            header(&r, "access-control-allow-methods"),
            Some("GET, POST, PUT, DELETE")
        );
        assert_eq!(
            header(&r, "access-control-allow-headers"),
            Some("authorization, content-type")
        );
        assert_eq!(header(&r, "access-control-max-age"), Some("600"));
        assert_eq!(header(&r, "access-control-allow-credentials"), None);
        let r = preflight("/api/v1/device/requests/x/answer", "POST")
            .await
            .unwrap();
        assert_eq!(header(&r, "access-control-allow-origin"), Some("*"));
        // Other API routes and pages keep the same-origin policy.
        for path in ["/api/v1/me", "/api/v1/sign-in", "/sign-in"] {
            let r = preflight(path, "POST").await.unwrap();
            assert_eq!(header(&r, "access-control-allow-origin"), None, "{path}");
        }
        let r = cross_origin(c.get(h.url("/api/v1/me")))
            .send()
            .await
            .unwrap();
        assert_eq!(header(&r, "access-control-allow-origin"), None);

        // The app's calls from its own origin go through, errors included (readable too).
        let r = cross_origin(c.get(h.url("/api/v1/device/webpush")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            (
                r.status().as_u16(),
                header(&r, "access-control-allow-origin")
            ),
            (200, Some("*"))
        );
        let (_, _, device) = enrolled(&h, "cora@example.org", None).await;
        let browser = Browser::new();
        let service = PushService::start().await;
        let r = cross_origin(c.put(h.url("/api/v1/device/webpush")))
            .bearer_auth(&device.credential)
            .json(&browser.subscription(&service.endpoint("cora")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            (
                r.status().as_u16(),
                header(&r, "access-control-allow-origin")
            ),
            (204, Some("*"))
        );
        let r = cross_origin(c.get(h.url("/api/v1/device/requests")))
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap();
        assert_eq!(
            (
                r.status().as_u16(),
                header(&r, "access-control-allow-origin")
            ),
            (401, Some("*"))
        );
        let r = cross_origin(c.delete(h.url("/api/v1/device/webpush")))
            .bearer_auth(&device.credential)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        // The cross-site check still guards the rest of the API.
        let r = cross_origin(c.post(h.url("/api/v1/sign-in")))
            .json(&json!({"username": "cora@example.org", "password": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    })
    .await;
}

#[tokio::test]
async fn of_two_nodes_only_one_sends_each_message() {
    each_backend(|h: Harness| async move {
        let other = h.another_node().await;
        let mut service = PushService::start().await;
        let browser = Browser::new();
        let user = "otto@example.org";
        let (_, _, device) = enrolled(&h, user, None).await;
        subscribe(&other, &device, &browser, &service.endpoint("otto")).await;
        let mut ids = Vec::new();
        for node in [&h, &other, &h] {
            sign_in(node, user).await;
            let message: Received = service.next().await;
            let payload = browser.read(&message);
            assert_eq!(payload["type"], "request", "{payload}");
            ids.push(payload["request"]["id"].as_str().unwrap().to_string());
        }
        ids.dedup();
        assert_eq!(ids.len(), 3, "three requests, three messages");
        assert!(
            service.quiet_for(Duration::from_secs(2)).await.is_none(),
            "no second copy from the other node"
        );
    })
    .await;
}
