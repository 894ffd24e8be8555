//! TLS in `tessera serve` (issue #21): a test CA's certificates, HTTP/2 through ALPN, a
//! SIGHUP reload that new connections see while open ones carry on, `__Host-` + `Secure`
//! cookies, and a clear start error for a misconfigured pair.

use crate::harness::{Server, TempDir, run, tessera};
use reqwest::Version;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

/// PEM certificates and keys: `a` and `b` signed by one test CA (for `localhost`), and a
/// key that belongs to neither.
struct Pki {
    ca: String,
    a: (String, String),
    b: (String, String),
    stray_key: String,
}

fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "Tessera test CA");
    let ca = params.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(params, ca_key);
    let leaf = |name: &str| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.signed_by(&key, &issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    Pki {
        ca,
        a: leaf("certificate A"),
        b: leaf("certificate B"),
        stray_key: KeyPair::generate().unwrap().serialize_pem(),
    }
}

/// The DER of a PEM certificate, to compare with what a client was shown.
fn der(pem: &str) -> Vec<u8> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

fn install(dir: &TempDir, (cert, key): &(String, String)) {
    // Written beside and renamed, as certbot and friends do: a reader never sees half a file.
    for (name, text) in [("cert.pem", cert), ("key.pem", key)] {
        let tmp = dir.join(&format!("{name}.new"));
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, dir.join(name)).unwrap();
    }
}

fn serve_tls(dir: &TempDir, log: &str, env: &[(&str, &str)]) -> Server {
    let mut command = tessera(
        &dir.path,
        &["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"],
    );
    command
        .env("TESSERA_TLS_CERT_FILE", dir.join("cert.pem"))
        .env("TESSERA_TLS_KEY_FILE", dir.join("key.pem"));
    for (name, value) in env {
        command.env(name, value);
    }
    Server::start(command, dir.join(log))
}

/// A client that trusts only the test CA and reaches `localhost` at the server's address.
/// Each client has its own connection pool, so a new client means a new connection.
fn client(ca: &str, addr: SocketAddr, http1_only: bool) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.as_bytes()).unwrap()])
        .tls_info(true)
        .resolve("localhost", addr)
        .timeout(Duration::from_secs(30));
    if http1_only {
        builder = builder.http1_only();
    }
    builder.build().unwrap()
}

fn url(addr: SocketAddr, path: &str) -> String {
    format!("https://localhost:{}{path}", addr.port())
}

/// The certificate the server showed on the connection that carried `response`.
fn shown(response: &reqwest::Response) -> Vec<u8> {
    response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .expect("TLS info on the response")
        .to_vec()
}

async fn healthz(client: &reqwest::Client, addr: SocketAddr) -> reqwest::Response {
    let response = client.get(url(addr, "/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response
}

/// Polls (a new connection each time) until the server shows `want`.
async fn until_shown(ca: &str, server: &Server, want: &[u8], what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let response = healthz(&client(ca, server.addr, false), server.addr).await;
        if shown(&response) == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: never shown\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls the server's log until it holds `text`.
async fn until_logged(server: &Server, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !server.log().contains(text) {
        assert!(
            Instant::now() < deadline,
            "never logged {text:?}:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// Several threads: the clients' connections must answer the server (HTTP/2's GOAWAY at
// shutdown) while the test thread waits for the process to stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_certificate_for_new_connections_and_keeps_open_ones() {
    let dir = TempDir::new("tls-reload");
    let pki = pki();
    install(&dir, &pki.a);
    let server = serve_tls(&dir, "serve.log", &[]);
    assert!(
        server
            .lines
            .iter()
            .any(|l| l.starts_with("tessera listening on https://")),
        "{:?}",
        server.lines
    );

    // HTTP/2, chosen through ALPN; and HTTP/1.1 for a client that offers only that.
    let kept = client(&pki.ca, server.addr, false);
    let response = healthz(&kept, server.addr).await;
    assert_eq!(response.version(), Version::HTTP_2);
    assert_eq!(shown(&response), der(&pki.a.0));
    let old_h1 = client(&pki.ca, server.addr, true);
    let response = healthz(&old_h1, server.addr).await;
    assert_eq!(response.version(), Version::HTTP_11);

    install(&dir, &pki.b);
    server.signal("HUP");
    until_shown(
        &pki.ca,
        &server,
        &der(&pki.b.0),
        "certificate B after SIGHUP",
    )
    .await;

    // The connections opened before the reload are still up, still on certificate A: had
    // the server dropped them, the clients would have connected again and seen B.
    for (client, version) in [(&kept, Version::HTTP_2), (&old_h1, Version::HTTP_11)] {
        let response = healthz(client, server.addr).await;
        assert_eq!(response.version(), version);
        assert_eq!(shown(&response), der(&pki.a.0), "{version:?}");
    }

    // A bad file at the next reload: logged, and certificate B stays in force.
    std::fs::write(dir.join("key.pem"), &pki.stray_key).unwrap();
    server.signal("HUP");
    until_logged(&server, "reload failed").await;
    let response = healthz(&client(&pki.ca, server.addr, false), server.addr).await;
    assert_eq!(shown(&response), der(&pki.b.0));

    // Graceful shutdown over TLS too.
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn over_tls_cookies_are_host_prefixed_and_secure_and_the_peer_address_is_seen() {
    let dir = TempDir::new("tls-cookies");
    let pki = pki();
    install(&dir, &pki.a);
    // No public_url: TLS makes the default one https. A limit of 2 sign-ins a minute shows
    // the rate limit still sees each peer's address through the TLS listener.
    let server = serve_tls(
        &dir,
        "serve.log",
        &[("TESSERA_SIGN_IN_LIMIT_PER_MINUTE", "2")],
    );
    let client = client(&pki.ca, server.addr, false);

    let page = client
        .get(url(server.addr, "/sign-in"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers().contains_key("strict-transport-security"),
        "HSTS over https: {:?}",
        page.headers()
    );
    let cookies: Vec<String> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(!cookies.is_empty(), "the sign-in page sets its CSRF cookie");
    for cookie in &cookies {
        assert!(cookie.starts_with("__Host-"), "{cookie}");
        assert!(cookie.contains("; Secure"), "{cookie}");
        assert!(!cookie.contains("Domain="), "{cookie}");
    }

    let mut statuses = Vec::new();
    for _ in 0..3 {
        let response = client
            .post(url(server.addr, "/api/v1/sign-in"))
            .json(&serde_json::json!({"username": "nobody@example.org", "password": "wrong wrong wrong"}))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses[2], 429, "{statuses:?}\n{}", server.log());
    assert_ne!(statuses[0], 429, "{statuses:?}");
}

fn start_error(dir: &TempDir, cert: &Path, key: Option<&Path>) -> (Option<i32>, String) {
    let mut command = tessera(
        &dir.path,
        &["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"],
    );
    command.env("TESSERA_TLS_CERT_FILE", cert);
    if let Some(key) = key {
        command.env("TESSERA_TLS_KEY_FILE", key);
    }
    let ran = run(command, "");
    (ran.code, ran.stderr)
}

#[test]
fn a_misconfigured_certificate_is_a_clear_error_at_start() {
    let dir = TempDir::new("tls-misconfigured");
    let pki = pki();
    install(&dir, &pki.a);
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");

    let (code, stderr) = start_error(&dir, &cert, None);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("tls_key_file"), "{stderr}");

    let (code, stderr) = start_error(&dir, &dir.join("absent.pem"), Some(&key));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot read") && stderr.contains("absent.pem"),
        "{stderr}"
    );

    // The key where the certificate should be.
    let (code, stderr) = start_error(&dir, &key, Some(&key));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("holds no certificate"), "{stderr}");

    let stray = dir.join("stray.pem");
    std::fs::write(&stray, &pki.stray_key).unwrap();
    let (code, stderr) = start_error(&dir, &cert, Some(&stray));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("does not belong to the certificate"),
        "{stderr}"
    );

    assert!(
        !dir.join("data").exists(),
        "nothing was created before the check"
    );
}
