//! RADIUS asked by the real counterparts: FreeRADIUS's `radclient` (Debian's
//! `freeradius-utils`) and a PAM stack with `pam_radius_auth` (`libpam-radius-auth`), driven
//! by `pamtester`, as an SSH login would ask. Without the tools the tests say so and pass,
//! except under CI, which installs them (`.ci/run`) and must run them.

use crate::common::{Harness, PASSWORD, TempDir, each_backend};
use crate::radius::{add_client, audited, number_in, start};
use std::net::SocketAddr;
use std::process::Stdio;
use tessera_core::AuditAction;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// Whether `tool` is on the PATH; under CI its absence fails the test.
fn have(tool: &str) -> bool {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("CI runs the RADIUS tests: install {tool} (see .ci/run)");
        }
        eprintln!(
            "{tool} not installed: skipping (apt-get install freeradius-utils libpam-radius-auth pamtester)"
        );
    }
    found
}

/// What `radclient` printed for one request made of `attributes`, waiting `timeout` seconds
/// for an answer (one try: a retransmission would hide what the first try got).
async fn radclient(server: SocketAddr, secret: &str, attributes: &str, timeout: u32) -> String {
    let mut child = Command::new("radclient")
        .args([
            "-x",
            "-r",
            "1",
            "-t",
            &timeout.to_string(),
            &server.to_string(),
            "auth",
            secret,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(attributes.as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The attributes of a request, with a Message-Authenticator for radclient to fill in.
fn request(username: &str, password: &str, state: Option<&str>) -> String {
    let mut lines = format!(
        "User-Name = \"{username}\"\nUser-Password = \"{password}\"\nCalling-Station-Id = \"10.9.8.7\"\nMessage-Authenticator = 0x00\n"
    );
    if let Some(state) = state {
        lines.push_str(&format!("State = {state}\n"));
    }
    lines
}

/// The value of `name` in radclient's output (`State = 0x…`, `Reply-Message = "…"`).
fn attribute(output: &str, name: &str) -> Option<String> {
    output.lines().find_map(|l| {
        let (k, v) = l.trim().split_once(" = ")?;
        (k == name).then(|| v.trim_matches('"').to_string())
    })
}

fn received(output: &str) -> &'static str {
    for answer in ["Access-Accept", "Access-Reject", "Access-Challenge"] {
        if output.contains(&format!("Received {answer}")) {
            return answer;
        }
    }
    "nothing"
}

#[tokio::test]
async fn radclient_signs_in_with_password_then_code_and_a_replayed_code_is_refused() {
    if !have("radclient") {
        return;
    }
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, _, secret) = h.enrolled_user(&c, "vera@example.org").await;
        let server = start(&h).await;
        let shared = add_client(&h, "vpn", "127.0.0.1", true).await;
        let user = "vera@example.org";

        let wrong = radclient(
            server.addr,
            &shared,
            &request(user, "wrong password", None),
            10,
        )
        .await;
        assert_eq!(received(&wrong), "Access-Reject", "{wrong}");

        let first = radclient(server.addr, &shared, &request(user, PASSWORD, None), 10).await;
        assert_eq!(received(&first), "Access-Challenge", "{first}");
        assert_eq!(
            attribute(&first, "Reply-Message").as_deref(),
            Some("Enter the code from your authenticator app"),
            "{first}"
        );
        let state = attribute(&first, "State").expect("a State");
        let code = h.code(&secret, 0);
        let second = radclient(
            server.addr,
            &shared,
            &request(user, &code, Some(&state)),
            10,
        )
        .await;
        assert_eq!(received(&second), "Access-Accept", "{second}");

        // The same code in a new exchange: a replay.
        let first = radclient(server.addr, &shared, &request(user, PASSWORD, None), 10).await;
        let state = attribute(&first, "State").expect("a State");
        let replay = radclient(
            server.addr,
            &shared,
            &request(user, &code, Some(&state)),
            10,
        )
        .await;
        assert_eq!(received(&replay), "Access-Reject", "{replay}");
        assert_eq!(audited(&h, AuditAction::RadiusAccepted).await, 1);
    })
    .await;
}

#[tokio::test]
async fn radclient_without_message_authenticator_or_from_elsewhere_hears_nothing() {
    if !have("radclient") {
        return;
    }
    each_backend(|h: Harness| async move {
        let c = h.client();
        h.enrolled_user(&c, "walt@example.org").await;
        let server = start(&h).await;
        let shared = add_client(&h, "vpn", "127.0.0.1", true).await;
        let bare = "User-Name = \"walt@example.org\"\nUser-Password = \"x\"\n";
        let out = radclient(server.addr, &shared, bare, 2).await;
        assert_eq!(received(&out), "nothing", "{out}");
        assert!(out.contains("No reply"), "{out}");
        assert_eq!(audited(&h, AuditAction::RadiusRefused).await, 1);

        // Once the client is removed, and only 127.0.0.2 may ask, 127.0.0.1 hears nothing.
        let admin = h.tessera().local_admin();
        let vpn = admin.radius_clients().await.unwrap()[0].id;
        admin.remove_radius_client(vpn).await.unwrap();
        let other = add_client(&h, "elsewhere", "127.0.0.2", true).await;
        // The listener holds the clients for a second.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let out = radclient(
            server.addr,
            &other,
            &request("walt@example.org", PASSWORD, None),
            2,
        )
        .await;
        assert_eq!(received(&out), "nothing", "{out}");
        // Dropped as from an unknown address, not as a bad Message-Authenticator.
        assert_eq!(audited(&h, AuditAction::RadiusRefused).await, 1);
    })
    .await;
}

#[tokio::test]
async fn radclient_app_password_alone_is_enough_where_the_policy_allows_it() {
    if !have("radclient") {
        return;
    }
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _, _) = h.enrolled_user(&c, "xena@example.org").await;
        h.set_policy("app_passwords_allowed", "true").await;
        let (status, made) = h
            .post(
                &c,
                "/api/v1/me/app-passwords",
                Some(&token),
                serde_json::json!({"name": "VPN"}),
            )
            .await;
        assert_eq!(status, 201, "{made}");
        let app_password = made["password"].as_str().unwrap().to_string();
        let server = start(&h).await;
        let shared = add_client(&h, "vpn", "127.0.0.1", true).await;
        let out = radclient(
            server.addr,
            &shared,
            &request("xena@example.org", &app_password, None),
            10,
        )
        .await;
        assert_eq!(received(&out), "Access-Accept", "{out}");
        h.set_policy("app_passwords_allowed", "false").await;
        h.advance(10);
        let out = radclient(
            server.addr,
            &shared,
            &request("xena@example.org", &app_password, None),
            10,
        )
        .await;
        assert_eq!(received(&out), "Access-Reject", "{out}");
    })
    .await;
}

#[tokio::test]
async fn radclient_waits_while_the_notification_is_approved() {
    if !have("radclient") {
        return;
    }
    each_backend(|h: Harness| async move {
        let (_, _, device) = crate::push::enrolled(&h, "yuri@example.org", None).await;
        let server = start(&h).await;
        let shared = add_client(&h, "vpn", "127.0.0.1", true).await;
        let user = "yuri@example.org";
        let first = radclient(server.addr, &shared, &request(user, PASSWORD, None), 10).await;
        assert_eq!(received(&first), "Access-Challenge", "{first}");
        let number = number_in(&attribute(&first, "Reply-Message").unwrap());
        let state = attribute(&first, "State").unwrap();
        let addr = server.addr;
        let waiting = tokio::spawn(async move {
            radclient(addr, &shared, &request(user, "", Some(&state)), 30).await
        });
        let id = loop {
            let pending = device.pending(&h).await;
            if let Some(first) = pending.first() {
                break first["id"].as_str().unwrap().to_string();
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        device.approve(&h, &id, number).await;
        let out = waiting.await.unwrap();
        assert_eq!(received(&out), "Access-Accept", "{out}");
    })
    .await;
}

/// A PAM service file in /etc/pam.d (where PAM looks; pamtester takes no path), removed
/// when dropped.
struct PamService {
    name: String,
}

impl Drop for PamService {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(format!("/etc/pam.d/{}", self.name));
    }
}

#[tokio::test]
async fn pam_radius_auth_signs_in_with_password_then_code_as_ssh_would() {
    let module = [
        "/lib/x86_64-linux-gnu/security/pam_radius_auth.so",
        "/lib/aarch64-linux-gnu/security/pam_radius_auth.so",
        "/usr/lib/security/pam_radius_auth.so",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists());
    if !have("pamtester") {
        return;
    }
    let Some(module) = module else {
        if std::env::var_os("CI").is_some() {
            panic!("CI runs the PAM test: install libpam-radius-auth (see .ci/run)");
        }
        eprintln!("pam_radius_auth.so not installed: skipping");
        return;
    };
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (_, _, secret) = h.enrolled_user(&c, "zoe@example.org").await;
        let server = start(&h).await;
        // Debian 12's pam_radius_auth 2.0 sends no Message-Authenticator (3.0 does).
        let shared = add_client(&h, "ssh server", "127.0.0.1", false).await;
        let dir = TempDir::new();
        let conf = dir.0.join("pam_radius_auth.conf");
        std::fs::write(&conf, format!("{} {} 10\n", server.addr, shared)).unwrap();
        let service = PamService {
            name: format!("tessera-it-{}", uuid::Uuid::new_v4().simple()),
        };
        std::fs::write(
            format!("/etc/pam.d/{}", service.name),
            format!(
                "auth required {module} conf={} prompt=Password\naccount required pam_permit.so\n",
                conf.display()
            ),
        )
        .unwrap();
        let run = |answers: String| {
            let name = service.name.clone();
            async move {
                let mut child = Command::new("pamtester")
                    .args(["-v", &name, "zoe@example.org", "authenticate"])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                let mut stdin = child.stdin.take().unwrap();
                stdin.write_all(answers.as_bytes()).await.unwrap();
                drop(stdin);
                let out = child.wait_with_output().await.unwrap();
                (
                    out.status.success(),
                    format!(
                        "{}{}",
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    ),
                )
            }
        };
        let (ok, out) = run(format!("{PASSWORD}\n{}\n", h.code(&secret, 0))).await;
        assert!(ok, "{out}");
        assert!(out.contains("successfully authenticated"), "{out}");
        assert!(
            out.contains("Enter the code from your authenticator app"),
            "the challenge's prompt is shown: {out}"
        );
        // The same code again: refused, as is a wrong password.
        let (ok, out) = run(format!("{PASSWORD}\n{}\n", h.code(&secret, 0))).await;
        assert!(!ok, "{out}");
        let (ok, out) = run("wrong password\n000000\n".into()).await;
        assert!(!ok, "{out}");
        assert_eq!(audited(&h, AuditAction::RadiusAccepted).await, 1);
    })
    .await;
}
