//! The whole journey with `tessera authenticator` as a separate process: activation (QR
//! payload, or code and URL typed in), the test notification, sign-ins approved, denied,
//! reported, mistyped and expired, a replayed answer, a credential without its key, a code
//! instead of a notification, and deleting the method.

use super::harness::{Push, each_backend};
use data_encoding::BASE64URL_NOPAD;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};
use tessera_core::method::authenticator_app::{Decision, answer_message};
use tessera_core::store::audit::AuditStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_by_qr_payload_then_a_sign_in_approved_with_the_number() {
    each_backend("auth-qr", |h: Push| async move {
        let (token, flow, method, activation) =
            h.start_app_registration("alice@example.org", 0).await;
        // The QR code opens the web app; the reference authenticator reads it too.
        assert_eq!(
            activation["uri"],
            json!(format!(
                "{}#activate={}",
                h.url("/authenticator/"),
                activation["code"].as_str().unwrap()
            ))
        );
        assert!(activation["qr_svg"].as_str().unwrap().contains("<svg"));
        let out = h
            .cli_ok(&[
                "add",
                activation["uri"].as_str().unwrap(),
                "--name",
                "Test phone",
            ])
            .await;
        assert!(out.contains("Example Org: alice@example.org"), "{out}");
        #[cfg(unix)]
        assert_eq!(
            crate::harness::mode(&h.state_file()),
            0o600,
            "the state file holds secrets"
        );

        // The test notification waits, and the method stays pending until it is approved.
        let number = h.test_number(&token, &method).await;
        let pending = h.pending().await;
        assert_eq!(pending.len(), 1, "{pending:?}");
        assert_eq!(pending[0]["purpose"], "register");
        assert_eq!(pending[0]["account"]["username"], "alice@example.org");
        // Each key once per line: the authenticator's own account is `local_account`.
        assert_eq!(pending[0]["local_account"], "1");
        let raw = h.cli_ok(&["pending"]).await;
        for line in raw.lines() {
            let keys = super::harness::top_level_keys(line);
            let mut unique = keys.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(keys.len(), unique.len(), "a key twice in {line}");
        }
        let (_, info) = h.get("/api/v1/me/security-info", Some(&token)).await;
        assert_eq!(info["methods"][0]["status"], "pending", "{info}");
        let id = pending[0]["id"].as_str().unwrap();
        assert_eq!(
            h.cli_ok(&["respond", id, "approve", "--number", &number.to_string()])
                .await
                .trim(),
            "approved"
        );

        // The registration interrupt completes: a full session, the app as the default.
        let (_, done) = h
            .get(&format!("/api/v1/sign-in/{flow}"), Some(&token))
            .await;
        assert_eq!(done["status"], "signed_in", "{done}");
        let session = done["session"].as_str().unwrap();
        let (_, info) = h.get("/api/v1/me/security-info", Some(session)).await;
        assert_eq!(info["methods"][0]["status"], "active", "{info}");
        assert_eq!(info["default_method"], method.as_str());
        assert_eq!(info["methods"][0]["label"], "Test phone");

        // Signing in: the page shows a number; the device sees the request and who asks.
        let (flow, number) = h.push_sign_in("alice@example.org").await;
        assert!((10..=99).contains(&number));
        let pending = h.pending().await;
        assert_eq!(pending[0]["purpose"], "sign_in");
        assert_eq!(pending[0]["app"], "Example Org");
        assert_eq!(pending[0]["ip"], "127.0.0.1");
        assert!(
            pending[0].get("number").is_none(),
            "the device never learns the number"
        );
        assert_eq!(h.flow_status(&flow).await["status"], "mfa_required");
        let id = pending[0]["id"].as_str().unwrap();
        h.cli_ok(&["respond", id, "approve", "--number", &number.to_string()])
            .await;
        let signed_in = h.flow_status(&flow).await;
        assert_eq!(signed_in["status"], "signed_in", "{signed_in}");
        let session = signed_in["session"].as_str().unwrap();
        let (status, me) = h.get("/api/v1/me", Some(session)).await;
        assert_eq!(
            (status, me["username"].as_str()),
            (200, Some("alice@example.org"))
        );
        // The session goes to the first poller only.
        assert!(h.flow_status(&flow).await.get("session").is_none());
        h
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_by_typed_code_and_url_and_a_wrong_number_is_refused() {
    each_backend("auth-typed", |h: Push| async move {
        let (token, _, method, activation) = h.start_app_registration("bob@example.org", 0).await;
        let code = activation["code"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .replace('-', " ");
        let url = activation["url"].as_str().unwrap();
        h.cli_ok(&["add", "--code", &code, "--url", url, "--algorithm", "es256"])
            .await;
        // The code works once.
        let again = h.cli(&["add", "--code", &code, "--url", url]).await;
        assert_eq!(again.code, Some(2), "{again:?}");

        // A wrong number on the test notification: refused, and the method stays pending.
        let number = h.test_number(&token, &method).await;
        let wrong = (number % 89 + 11).to_string();
        let id = h.only_request().await;
        let ran = h
            .cli(&["respond", &id, "approve", "--number", &wrong])
            .await;
        assert_eq!(ran.code, Some(2), "{ran:?}");
        assert!(ran.stderr.contains("invalid_code"), "{ran:?}");
        let (_, state) = h
            .get(
                &format!("/api/v1/me/security-info/methods/{method}/activation"),
                Some(&token),
            )
            .await;
        assert_eq!(state["test_notification"]["status"], "failed", "{state}");
        assert!(
            h.pending().await.is_empty(),
            "a wrong number ends the request"
        );

        // Another test notification, approved with its number.
        let (status, again) = h
            .post(
                &format!("/api/v1/me/security-info/methods/{method}/test-notification"),
                Some(&token),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{again}");
        let id = h.only_request().await;
        let number = again["number"].as_u64().unwrap().to_string();
        h.cli_ok(&["respond", &id, "approve", "--number", &number])
            .await;
        let (_, state) = h
            .get(
                &format!("/api/v1/me/security-info/methods/{method}/activation"),
                Some(&token),
            )
            .await;
        assert_eq!(state["status"], "active", "{state}");

        // A sign-in answered with a wrong number stays unsigned; another request works.
        let (flow, number) = h.push_sign_in("bob@example.org").await;
        let id = h.only_request().await;
        let ran = h
            .cli(&[
                "respond",
                &id,
                "approve",
                "--number",
                &(number % 89 + 11).to_string(),
            ])
            .await;
        assert_eq!(ran.code, Some(2), "{ran:?}");
        assert_eq!(h.flow_status(&flow).await["status"], "mfa_required");
        let (_, push) = h.get(&format!("/api/v1/sign-in/{flow}/push"), None).await;
        assert_eq!(push["status"], "failed", "{push}");
        h
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_ends_the_sign_in_and_report_blocks_the_account_by_policy() {
    each_backend("auth-deny", |h: Push| async move {
        h.enrolled("carol@example.org").await;
        let (flow, _) = h.push_sign_in("carol@example.org").await;
        let id = h.only_request().await;
        assert_eq!(h.cli_ok(&["respond", &id, "deny"]).await.trim(), "denied");
        assert_eq!(h.flow_status(&flow).await["status"], "denied");

        // Reported, under a policy that blocks: the account is disabled until an admin acts.
        h.set_policy("report_blocks_account", "true").await;
        let (flow, _) = h.push_sign_in("carol@example.org").await;
        let id = h.only_request().await;
        assert_eq!(
            h.cli_ok(&["respond", &id, "report"]).await.trim(),
            "reported"
        );
        assert_eq!(h.flow_status(&flow).await["status"], "denied");
        let (status, body) = h
            .post(
                "/api/v1/sign-in",
                None,
                json!({"username": "carol@example.org", "password": super::harness::PASSWORD}),
            )
            .await;
        // Disabled, and answered as a wrong password would be.
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_credentials")),
            "{body}"
        );
        let node = h.node(0);
        let admin = node.tessera.local_admin();
        let account = admin.account("carol@example.org").await.unwrap();
        let actions: Vec<&str> = node
            .store
            .as_ref()
            .audit_of(account.id, 100)
            .await
            .unwrap()
            .iter()
            .map(|e| e.action.as_str())
            .collect();
        assert!(actions.contains(&"push_reported"), "{actions:?}");
        assert!(actions.contains(&"account_disabled"), "{actions:?}");
        // The admin enables the account again: signing in works.
        admin
            .set_status("carol@example.org", tessera_core::AccountStatus::Active)
            .await
            .unwrap();
        assert_eq!(
            h.sign_in("carol@example.org").await["status"],
            "mfa_required"
        );
        h
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_request_expires_after_90_seconds() {
    each_backend("auth-expiry", |h: Push| async move {
        h.enrolled("dave@example.org").await;
        let (flow, number) = h.push_sign_in("dave@example.org").await;
        let id = h.only_request().await;
        h.advance(91);
        assert!(
            h.pending().await.is_empty(),
            "an expired request is not shown"
        );
        let ran = h
            .cli(&["respond", &id, "approve", "--number", &number.to_string()])
            .await;
        assert_eq!(ran.code, Some(2), "{ran:?}");
        assert!(ran.stderr.contains("expired"), "{ran:?}");
        assert_eq!(h.flow_status(&flow).await["status"], "mfa_required");
        let (_, push) = h.get(&format!("/api/v1/sign-in/{flow}/push"), None).await;
        assert_eq!(push["status"], "expired", "{push}");
        h
    })
    .await;
}

/// The device's credential and key, from the authenticator's state file.
fn device(h: &Push) -> (String, String, SigningKey) {
    let state = h.state();
    let push = &state["accounts"][0]["push"];
    let seed: [u8; 32] = BASE64URL_NOPAD
        .decode(push["private_key"].as_str().unwrap().as_bytes())
        .unwrap()
        .try_into()
        .unwrap();
    (
        push["server"].as_str().unwrap().to_string(),
        push["credential"].as_str().unwrap().to_string(),
        SigningKey::from_bytes(&seed),
    )
}

fn answer(key: &SigningKey, id: &str, number: u64, at: i64) -> Value {
    let message = answer_message(
        id.parse().unwrap(),
        Decision::Approve,
        Some(number as u8),
        at,
    );
    json!({
        "decision": "approve",
        "number": number,
        "signed_at": at,
        "signature": BASE64URL_NOPAD.encode(&key.sign(&message).to_bytes()),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_approval_and_a_credential_without_its_key_approve_nothing() {
    each_backend("auth-replay", |h: Push| async move {
        h.enrolled("erin@example.org").await;
        let (server, credential, key) = device(&h);
        let now = h.clock.now_unix();
        let (flow, number) = h.push_sign_in("erin@example.org").await;
        let id = h.only_request().await;
        let path = |id: &str| format!("{server}/api/v1/device/requests/{id}/answer");

        // The credential alone, with another key's signature: refused.
        let stranger = SigningKey::from_bytes(&[7u8; 32]);
        let (status, body) = h
            .call(
                reqwest::Method::POST,
                path(&id),
                Some(&credential),
                Some(answer(&stranger, &id, number, now)),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("unauthorized")),
            "{body}"
        );
        assert_eq!(h.flow_status(&flow).await["status"], "mfa_required");

        // The right signature approves once; the same message again finds nothing to answer.
        let signed = answer(&key, &id, number, now);
        let (status, body) = h
            .call(
                reqwest::Method::POST,
                path(&id),
                Some(&credential),
                Some(signed.clone()),
            )
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("approved")),
            "{body}"
        );
        let (status, body) = h
            .call(
                reqwest::Method::POST,
                path(&id),
                Some(&credential),
                Some(signed.clone()),
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (410, Some("expired")),
            "{body}"
        );
        assert_eq!(h.flow_status(&flow).await["status"], "signed_in");

        // Nor does it answer the next request, which it did not sign.
        let (flow, _) = h.push_sign_in("erin@example.org").await;
        let next = h.only_request().await;
        let (status, _) = h
            .call(
                reqwest::Method::POST,
                path(&next),
                Some(&credential),
                Some(signed),
            )
            .await;
        assert_eq!(status, 401);
        assert_eq!(h.flow_status(&flow).await["status"], "mfa_required");

        // An old signature is stale even for the right request.
        let stale = answer(&key, &next, 0, now - 600);
        let (status, _) = h
            .call(
                reqwest::Method::POST,
                path(&next),
                Some(&credential),
                Some(stale),
            )
            .await;
        assert_ne!(status, 200);
        h
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apps_code_signs_in_when_the_policy_allows_it() {
    each_backend("auth-code", |h: Push| async move {
        h.enrolled("frank@example.org").await;
        // Codes follow the server's clock, as the authenticator last saw it.
        h.advance(60);
        h.pending().await;
        let code = h.cli_ok(&["code"]).await.trim().to_string();
        assert_eq!(code.len(), 6, "{code}");

        h.set_policy("code_instead_of_notification", "false").await;
        let body = h.sign_in("frank@example.org").await;
        let flow = body["flow"].as_str().unwrap();
        let method = body["default_method"].as_str().unwrap();
        let verify = format!("/api/v1/sign-in/{flow}/verify");
        let (status, refused) = h
            .post(&verify, None, json!({"method_id": method, "code": code}))
            .await;
        assert_eq!(
            (status, refused["error"].as_str()),
            (403, Some("not_allowed")),
            "{refused}"
        );

        h.set_policy("code_instead_of_notification", "true").await;
        let (status, done) = h
            .post(&verify, None, json!({"method_id": method, "code": code}))
            .await;
        assert_eq!(
            (status, done["status"].as_str()),
            (200, Some("signed_in")),
            "{done}"
        );
        h
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_method_cuts_the_device_off() {
    each_backend("auth-delete", |h: Push| async move {
        let (session, method) = h.enrolled("grace@example.org").await;
        assert!(h.pending().await.is_empty());
        let (status, body) = h
            .call(
                reqwest::Method::DELETE,
                h.url(&format!("/api/v1/me/security-info/methods/{method}")),
                Some(&session),
                None,
            )
            .await;
        assert_eq!(status, 204, "{body}");
        let ran = h.cli(&["pending"]).await;
        assert_eq!(ran.code, Some(2), "{ran:?}");
        assert!(ran.stderr.contains("unauthorized"), "{ran:?}");
        // The authenticator forgets it; the server had already revoked it.
        let out = h.cli_ok(&["remove", "1"]).await;
        assert!(out.contains("already revoked"), "{out}");
        assert_eq!(h.state()["accounts"].as_array().unwrap().len(), 0);
        h
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_asks_for_the_number_and_removing_the_app_revokes_it() {
    each_backend("auth-watch", |h: Push| async move {
        h.enrolled("heidi@example.org").await;
        let mut watch = h.watch();
        let (flow, number) = h.push_sign_in("heidi@example.org").await;
        // `watch` shows the request, asks for the number, and answers with what is typed.
        watch.until("Type the number").await;
        let shown = watch.seen();
        assert!(
            shown.contains("Sign-in request for heidi@example.org"),
            "{shown}"
        );
        assert!(shown.contains("127.0.0.1"), "{shown}");
        watch.type_line(&number.to_string());
        watch.until("Approved.").await;
        drop(watch);
        assert_eq!(h.flow_status(&flow).await["status"], "signed_in");

        // An otpauth account sits beside it and shows codes.
        h.cli_ok(&[
            "add-otpauth",
            "otpauth://totp/Other:heidi?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Other",
        ])
        .await;
        let listed: Value = serde_json::from_str(&h.cli_ok(&["list", "--json"]).await).unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
        assert_eq!(h.cli_ok(&["code", "Other"]).await.trim().len(), 6);

        // Removing the app revokes it on the server: the person's method is gone.
        h.cli_ok(&["remove", "Example Org"]).await;
        let body = h.sign_in("heidi@example.org").await;
        assert_eq!(body["status"], "registration_required", "{body}");
        h
    })
    .await;
}

trait UnixNow {
    fn now_unix(&self) -> i64;
}

impl UnixNow for tessera_core::FakeClock {
    fn now_unix(&self) -> i64 {
        use tessera_core::Clock;
        self.now().unix_timestamp()
    }
}
