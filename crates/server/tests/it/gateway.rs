//! A local fake SMS/voice gateway speaking the webhook and Twilio shapes over real HTTP
//! (including a call's keypress callback, signed as a real gateway signs it), and a local SMTP
//! server speaking real SMTP. One of each serves the whole test binary, on a thread of its own
//! (tests each have their own runtime); tests keep apart by using their own numbers and
//! addresses.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tessera_server::ServerConfig;
use tessera_server::delivery::DeliveryConfig;
use tessera_server::delivery::config::{
    EmailGateway, PhoneGateway, Smtp, SmtpSecurity, Twilio, Webhook,
};
use tessera_server::delivery::http::{twilio_signature, webhook_signature};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

pub const SECRET: &str = "webhook-shared-secret";
pub const SID: &str = "AC0123456789";
pub const TOKEN: &str = "twilio-auth-token";

/// One message as the gateway received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// `sms`, `voice` or `email`.
    pub channel: String,
    pub to: String,
    pub text: String,
    /// The 6–8 digit code in it, if any.
    pub code: Option<String>,
}

/// What the gateway does with the next requests for one destination.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Answer 500 to this many requests first.
    pub fail: u32,
    /// Hang (longer than the server's timeout) on this many requests first.
    pub hang: u32,
    /// Answer calls that ask for # without pressing it.
    pub silent: bool,
    /// Press # on a call only when the test says so ([`Gateway::press`]); webhook only.
    pub hold: bool,
}

#[derive(Default)]
struct Shared {
    received: Vec<Received>,
    plans: HashMap<String, Plan>,
    /// Callback URLs of held calls, by destination.
    held: HashMap<String, String>,
}

pub struct Gateway {
    http: String,
    smtp_port: u16,
    shared: Arc<Mutex<Shared>>,
}

static GATEWAY: OnceLock<Gateway> = OnceLock::new();

/// The gateway and SMTP server, started on first use.
pub fn gateway() -> &'static Gateway {
    GATEWAY.get_or_init(|| {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (tx, rx) = std::sync::mpsc::channel();
        let for_thread = shared.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let smtp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send((
                    http.local_addr().unwrap(),
                    smtp.local_addr().unwrap().port(),
                ))
                .unwrap();
                tokio::spawn(smtp_server(smtp, for_thread.clone()));
                let app = Router::new()
                    .route("/webhook", post(webhook))
                    .route("/2010-04-01/Accounts/{sid}/{resource}", post(twilio))
                    .with_state(for_thread);
                axum::serve(http, app).await.unwrap();
            });
        });
        let (http, smtp_port) = rx.recv().unwrap();
        Gateway {
            http: format!("http://{http}"),
            smtp_port,
            shared,
        }
    })
}

fn code_in(text: &str) -> Option<String> {
    let digits: Vec<String> = text
        .split(|c: char| !c.is_ascii_digit() && c != ',' && c != ' ')
        .map(|part| {
            part.chars()
                .filter(char::is_ascii_digit)
                .collect::<String>()
        })
        .filter(|d| (6..=8).contains(&d.len()))
        .collect();
    digits.into_iter().next()
}

impl Gateway {
    pub fn plan(&self, to: &str, plan: Plan) {
        self.shared.lock().unwrap().plans.insert(to.into(), plan);
    }

    pub fn received(&self, to: &str) -> Vec<Received> {
        let shared = self.shared.lock().unwrap();
        shared
            .received
            .iter()
            .filter(|r| r.to == to)
            .cloned()
            .collect()
    }

    /// Presses # on the held call to `to` (see [`Plan::hold`]).
    pub async fn press(&self, to: &str) {
        let url = self.shared.lock().unwrap().held.remove(to);
        press_pound(url.unwrap_or_else(|| panic!("no call held for {to}"))).await;
    }

    /// Waits until `to` has received `n` messages; returns the last one.
    pub async fn nth(&self, to: &str, n: usize) -> Received {
        for _ in 0..500 {
            let got = self.received(to);
            if got.len() >= n {
                return got[n - 1].clone();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{to} never received message {n}: {:?}", self.received(to));
    }

    /// Webhook for texts and calls, SMTP (plain, local) for email.
    pub fn webhook_config(&self) -> DeliveryConfig {
        let hook = Webhook {
            url: format!("{}/webhook", self.http),
            secret: SECRET.into(),
        };
        DeliveryConfig {
            sms: PhoneGateway::Webhook(hook.clone()),
            voice: PhoneGateway::Webhook(hook),
            email: EmailGateway::Smtp(Smtp {
                host: "127.0.0.1".into(),
                port: self.smtp_port,
                security: SmtpSecurity::Plain,
                username: None,
                password: None,
                from: "Example Org <mfa@example.org>".into(),
            }),
            timeout: Duration::from_millis(1500),
            max_attempts: 3,
            retry_after: Duration::from_secs(30),
            poll: Duration::from_millis(50),
        }
    }

    /// Twilio's shapes for texts and calls.
    pub fn twilio_config(&self) -> DeliveryConfig {
        let twilio = Twilio {
            base_url: self.http.clone(),
            account_sid: SID.into(),
            auth_token: TOKEN.into(),
            from: "+15005550006".into(),
        };
        DeliveryConfig {
            sms: PhoneGateway::Twilio(twilio.clone()),
            voice: PhoneGateway::Twilio(twilio),
            ..self.webhook_config()
        }
    }
}

pub fn with_webhook(config: &mut ServerConfig) {
    config.delivery = gateway().webhook_config();
}

pub fn with_twilio(config: &mut ServerConfig) {
    config.delivery = gateway().twilio_config();
}

/// Applies the destination's plan: `Some(status)` to answer instead of taking the message.
async fn obey(shared: &Mutex<Shared>, to: &str) -> Option<StatusCode> {
    let action = {
        let mut shared = shared.lock().unwrap();
        let plan = shared.plans.entry(to.to_string()).or_default();
        if plan.hang > 0 {
            plan.hang -= 1;
            Some(true)
        } else if plan.fail > 0 {
            plan.fail -= 1;
            Some(false)
        } else {
            None
        }
    };
    match action {
        Some(true) => {
            tokio::time::sleep(Duration::from_secs(4)).await;
            Some(StatusCode::OK)
        }
        Some(false) => Some(StatusCode::INTERNAL_SERVER_ERROR),
        None => None,
    }
}

fn silent(shared: &Mutex<Shared>, to: &str) -> bool {
    shared
        .lock()
        .unwrap()
        .plans
        .get(to)
        .is_some_and(|p| p.silent)
}

fn record(shared: &Mutex<Shared>, channel: &str, to: &str, text: &str) {
    shared.lock().unwrap().received.push(Received {
        channel: channel.into(),
        to: to.into(),
        text: text.into(),
        code: code_in(text),
    });
}

/// The callback URL as the test machine reaches it.
fn reachable(url: &str) -> String {
    url.replace("//localhost:", "//127.0.0.1:")
}

async fn webhook(
    State(shared): State<Arc<Mutex<Shared>>>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let signature = headers
        .get("x-tessera-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if signature != webhook_signature(SECRET, &body) {
        return StatusCode::UNAUTHORIZED;
    }
    let msg: Value = serde_json::from_slice(&body).unwrap();
    let to = msg["to"].as_str().unwrap().to_string();
    if let Some(status) = obey(&shared, &to).await {
        return status;
    }
    let channel = msg["channel"].as_str().unwrap();
    record(&shared, channel, &to, msg["text"].as_str().unwrap());
    if msg["voice"]["confirm"] == json!(true) && !silent(&shared, &to) {
        let url = msg["voice"]["callback_url"].as_str().unwrap().to_string();
        let mut shared = shared.lock().unwrap();
        if shared.plans.get(&to).is_some_and(|p| p.hold) {
            shared.held.insert(to, url);
        } else {
            tokio::spawn(press_pound(url));
        }
    }
    StatusCode::OK
}

/// The person on the phone presses #: the webhook gateway's signed keypress report.
async fn press_pound(url: String) {
    let report = json!({"digits": "#"}).to_string().into_bytes();
    reqwest::Client::new()
        .post(reachable(&url))
        .header("content-type", "application/json")
        .header("x-tessera-signature", webhook_signature(SECRET, &report))
        .body(report)
        .send()
        .await
        .unwrap();
}

/// The text inside `<Say>…</Say>`, and the `action` of a `<Gather>`.
fn twiml_parts(twiml: &str) -> (String, Option<String>) {
    let say = twiml
        .split("<Say")
        .nth(1)
        .and_then(|s| s.split_once('>'))
        .and_then(|(_, s)| s.split_once("</Say>"))
        .map(|(s, _)| s.replace("&amp;", "&"))
        .unwrap_or_default();
    let action = twiml
        .split("action=\"")
        .nth(1)
        .and_then(|s| s.split_once('"'))
        .map(|(a, _)| a.replace("&amp;", "&"));
    (say, action)
}

async fn twilio(
    State(shared): State<Arc<Mutex<Shared>>>,
    Path((sid, resource)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let expected = format!(
        "Basic {}",
        data_encoding::BASE64.encode(format!("{SID}:{TOKEN}").as_bytes())
    );
    if sid != SID || headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&expected) {
        return (StatusCode::UNAUTHORIZED, String::new());
    }
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap();
    let to = form["To"].clone();
    if let Some(status) = obey(&shared, &to).await {
        return (status, String::new());
    }
    match resource.as_str() {
        "Messages.json" => record(&shared, "sms", &to, &form["Body"]),
        "Calls.json" => {
            let (say, action) = twiml_parts(&form["Twiml"]);
            record(&shared, "voice", &to, &say);
            if let Some(action) = action.filter(|_| !silent(&shared, &to)) {
                tokio::spawn(async move {
                    let params = vec![
                        ("CallSid".to_string(), "CA0001".to_string()),
                        ("Digits".to_string(), "#".to_string()),
                        ("To".to_string(), to),
                    ];
                    let signature = twilio_signature(TOKEN, &action, &params);
                    reqwest::Client::new()
                        .post(reachable(&action))
                        .header("x-twilio-signature", signature)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(serde_urlencoded::to_string(&params).unwrap())
                        .send()
                        .await
                        .unwrap();
                });
            }
        }
        _ => return (StatusCode::NOT_FOUND, String::new()),
    }
    (
        StatusCode::CREATED,
        json!({"sid": format!("SM{}", uuid::Uuid::new_v4().simple())}).to_string(),
    )
}

/// A minimal SMTP server: enough of RFC 5321 for a client to hand over a message.
async fn smtp_server(listener: tokio::net::TcpListener, shared: Arc<Mutex<Shared>>) {
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let (read, mut write) = socket.into_split();
            let mut lines = BufReader::new(read).lines();
            write.write_all(b"220 sink ESMTP\r\n").await.ok();
            let (mut to, mut data, mut in_data) = (String::new(), String::new(), false);
            while let Ok(Some(line)) = lines.next_line().await {
                if in_data {
                    if line == "." {
                        in_data = false;
                        let text = decode_body(&data);
                        let body = text.split_once("\n\n").map_or(text.as_str(), |(_, b)| b);
                        record(&shared, "email", &to, body.trim());
                        data.clear();
                        write.write_all(b"250 queued\r\n").await.ok();
                    } else {
                        data.push_str(line.strip_prefix('.').unwrap_or(&line));
                        data.push('\n');
                    }
                    continue;
                }
                let upper = line.to_ascii_uppercase();
                let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                    b"250-sink\r\n250 8BITMIME\r\n"
                } else if upper.starts_with("RCPT TO:") {
                    to = line[8..].trim().trim_matches(['<', '>']).to_string();
                    b"250 ok\r\n"
                } else if upper.starts_with("DATA") {
                    in_data = true;
                    b"354 go ahead\r\n"
                } else if upper.starts_with("QUIT") {
                    write.write_all(b"221 bye\r\n").await.ok();
                    break;
                } else {
                    b"250 ok\r\n"
                };
                write.write_all(reply).await.ok();
            }
        });
    }
}

/// The message's headers (for the subject) and body, with soft line breaks of
/// quoted-printable undone.
fn decode_body(data: &str) -> String {
    let text = data.replace("=\n", "");
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut raw = Vec::new();
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            raw.push(b);
            i += 3;
            continue;
        }
        raw.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&raw).into_owned()
}
