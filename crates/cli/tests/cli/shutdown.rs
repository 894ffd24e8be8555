//! Graceful shutdown (issue #21): after SIGTERM a request in flight is answered, new
//! connections are refused, and a text queued before or during the shutdown is in the
//! outbox afterwards (sent, or queued for the next start): never lost. A text already handed
//! to a gateway is finished before the server exits, so it is not sent twice.

use crate::harness::{Server, TempDir, add_user, run, tessera};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect to the server");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream
}

fn head(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, len: usize) -> String {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {len}\r\n"
    )
}

/// Reads a whole response up to the end of the connection: its status and JSON body.
fn response(stream: &mut TcpStream) -> (u16, Value) {
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read the response");
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn post(addr: SocketAddr, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let body = body.to_string();
    let mut stream = connect(addr);
    let request = head(addr, "POST", path, token, body.len());
    write!(stream, "{request}Connection: close\r\n\r\n{body}").unwrap();
    response(&mut stream)
}

fn phone(number: &str, kind: &str, delivery: &str) -> Value {
    json!({"kind": kind, "country": "NL", "number": number, "delivery": delivery})
}

#[test]
fn sigterm_answers_the_request_in_flight_refuses_new_ones_and_loses_no_message() {
    let dir = TempDir::new("shutdown");
    let data = dir.join("data");
    let added = add_user(&dir.path, &data, "alice@example.org", PASSWORD, &[]);
    assert_eq!(added.code, Some(0), "{added:?}");
    let command = tessera(
        &dir.path,
        &["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"],
    );
    let server = Server::start(command, dir.join("serve.log"));
    let addr = server.addr;

    let (status, signed_in) = post(
        addr,
        "/api/v1/sign-in",
        None,
        &json!({"username": "alice@example.org", "password": PASSWORD}),
    );
    assert_eq!(status, 200, "{signed_in}\n{}", server.log());
    let token = signed_in["session"]
        .as_str()
        .expect("a session")
        .to_string();

    // A text queued before SIGTERM.
    let methods = "/api/v1/me/security-info/methods";
    let (status, body) = post(
        addr,
        methods,
        Some(&token),
        &phone("0612345678", "phone_mobile", "sms"),
    );
    assert_eq!(status, 201, "{body}\n{}", server.log());

    // A request in flight: the server has read its head and waits for the body
    // (`100 Continue` says the handler is reading it).
    let body = phone("0687654321", "phone_alternate", "call").to_string();
    let mut in_flight = connect(addr);
    let request = head(addr, "POST", methods, Some(&token), body.len());
    write!(in_flight, "{request}Expect: 100-continue\r\n\r\n").unwrap();
    let mut interim = [0u8; 25];
    in_flight.read_exact(&mut interim).unwrap();
    assert!(
        String::from_utf8_lossy(&interim).starts_with("HTTP/1.1 100 Continue\r\n\r\n"),
        "{:?}",
        String::from_utf8_lossy(&interim)
    );

    server.signal("TERM");
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(addr).is_ok() {
        assert!(
            Instant::now() < deadline,
            "still accepting connections after SIGTERM\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    in_flight.write_all(body.as_bytes()).unwrap();
    let (status, answer) = response(&mut in_flight);
    assert_eq!(status, 201, "the request in flight is answered: {answer}");
    let status = server.wait();
    assert!(status.success(), "a clean exit after SIGTERM: {status:?}");

    let listed = run(
        tessera(
            &dir.path,
            &["outbox", "list", "--json", "--data-dir", "data"],
        ),
        "",
    );
    assert_eq!(listed.code, Some(0), "{listed:?}");
    let messages: Vec<Value> = serde_json::from_str(&listed.stdout).unwrap();
    for number in ["+31612345678", "+31687654321"] {
        let message = messages
            .iter()
            .find(|m| m["to"] == number)
            .unwrap_or_else(|| panic!("the text to {number} was lost: {messages:?}"));
        assert!(
            ["queued", "sending", "kept", "sent"].contains(&message["status"].as_str().unwrap()),
            "{message}"
        );
    }
}

/// A gateway that takes its time: it tells the test when a text has reached it, and answers
/// only when the test lets it.
fn slow_gateway() -> (
    SocketAddr,
    std::sync::mpsc::Receiver<()>,
    std::sync::mpsc::Sender<()>,
) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (reached, reached_rx) = std::sync::mpsc::channel();
    let (answer_tx, answer) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        // The head, then as many body bytes as it announced.
        loop {
            let n = stream.read(&mut buf).unwrap();
            seen.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&seen).to_ascii_lowercase();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if body.len() >= len {
                    break;
                }
            }
        }
        reached.send(()).unwrap();
        let _ = answer.recv();
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .unwrap();
    });
    (addr, reached_rx, answer_tx)
}

#[test]
fn sigterm_lets_a_text_being_sent_finish_so_it_is_sent_once() {
    let dir = TempDir::new("shutdown-drain");
    let data = dir.join("data");
    let added = add_user(&dir.path, &data, "alice@example.org", PASSWORD, &[]);
    assert_eq!(added.code, Some(0), "{added:?}");
    let (gateway, reached, answer) = slow_gateway();
    std::fs::write(dir.join("webhook-secret"), "a webhook secret\n").unwrap();
    std::fs::write(
        dir.join("tessera.toml"),
        format!(
            "[delivery]\nsms = \"webhook\"\ntimeout_secs = 60\n\n[delivery.webhook]\n\
             url = \"http://{gateway}/send\"\nsecret_file = \"{}\"\n",
            dir.join("webhook-secret").display()
        ),
    )
    .unwrap();
    let command = tessera(
        &dir.path,
        &[
            "serve",
            "--config",
            "tessera.toml",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            "data",
        ],
    );
    let server = Server::start(command, dir.join("serve.log"));
    let (status, signed_in) = post(
        server.addr,
        "/api/v1/sign-in",
        None,
        &json!({"username": "alice@example.org", "password": PASSWORD}),
    );
    assert_eq!(status, 200, "{signed_in}\n{}", server.log());
    let token = signed_in["session"].as_str().expect("a session");
    let (status, body) = post(
        server.addr,
        "/api/v1/me/security-info/methods",
        Some(token),
        &phone("0612345678", "phone_mobile", "sms"),
    );
    assert_eq!(status, 201, "{body}\n{}", server.log());

    reached
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("the text never reached the gateway\n{}", server.log()));
    server.signal("TERM");
    // The server has stopped listening, so the shutdown is under way while the gateway still
    // holds the text; only then does the gateway answer.
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(server.addr).is_ok() {
        assert!(
            Instant::now() < deadline,
            "still listening\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    answer.send(()).unwrap();
    let status = server.wait();
    assert!(status.success(), "a clean exit after SIGTERM: {status:?}");

    let listed = run(
        tessera(
            &dir.path,
            &["outbox", "list", "--json", "--data-dir", "data"],
        ),
        "",
    );
    let messages: Vec<Value> = serde_json::from_str(&listed.stdout).unwrap();
    let text = messages
        .iter()
        .find(|m| m["to"] == "+31612345678")
        .unwrap_or_else(|| panic!("the text was lost: {messages:?}"));
    assert_eq!(
        text["status"], "sent",
        "the send in flight was finished, not left `sending` to go out twice: {text}"
    );
}
