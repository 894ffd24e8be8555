//! Upgrades: a database written by release 0.1 (schema 18, before the directory's migration
//! 19) opens with this binary, migrates forward, and its accounts sign in with their
//! passwords and methods; the policy survives. A database a newer release migrated is refused
//! with a clear message and left as it was.

use crate::fixture::{self, account, schema_version};
use crate::harness::{Server, TempDir, run, tessera};
use serde_json::{Value, json};
use tessera_core::method::authenticator_code;
use tessera_core::{Clock, SystemClock};

async fn post(http: &reqwest::Client, base: &str, path: &str, body: Value) -> (u16, Value) {
    let r = http
        .post(format!("{base}/api/v1{path}"))
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Signs in with the password, then answers the second factor `method_id` with `code`.
async fn sign_in(
    http: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
    method_id: &str,
    code: &str,
) -> Value {
    let (status, flow) = post(
        http,
        base,
        "/sign-in",
        json!({"username": username, "password": password}),
    )
    .await;
    assert_eq!(status, 200, "{flow}");
    assert_eq!(flow["status"], "mfa_required", "{flow}");
    let methods = flow["methods"].as_array().expect("methods");
    assert!(
        methods.iter().any(|m| m["id"] == method_id),
        "the method registered under 0.1 is offered: {flow}"
    );
    let id = flow["flow"].as_str().expect("flow id");
    let (_, done) = post(
        http,
        base,
        &format!("/sign-in/{id}/verify"),
        json!({"method_id": method_id, "code": code}),
    )
    .await;
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_release_0_1_migrates_and_signs_in() {
    let dir = TempDir::new("upgrade");
    let data = dir.join("data");
    fixture::copy_to(&data);
    let facts = fixture::facts();
    let db = data.join("tessera.db");
    let before = schema_version(&db);
    assert_eq!(Value::from(before), facts["schema_version"]);
    assert!(
        before < 19,
        "the fixture predates migration 19 (the directory), so this test crosses it"
    );

    let data_arg = data.to_str().unwrap();
    let server = Server::start(
        tessera(
            &dir.path,
            &["serve", "--listen", "127.0.0.1:0", "--data-dir", data_arg],
        ),
        dir.join("serve.log"),
    );
    let base = format!("http://{}", server.addr);
    tessera_bench::scenario::install_crypto();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

    // alice: her password and a code from the seed 0.1 sealed.
    let alice = account(&facts, "alice@example.org");
    let totp = &alice["totp"];
    let method_id = totp["method_id"].as_str().unwrap();
    let seed = data_encoding::BASE32_NOPAD
        .decode(totp["secret"].as_str().unwrap().as_bytes())
        .unwrap();
    let now = u64::try_from(SystemClock.now().unix_timestamp()).unwrap();
    let code = authenticator_code::code_at(&seed, now).unwrap();
    let password = alice["password"].as_str().unwrap();
    let done = sign_in(
        &http,
        &base,
        "alice@example.org",
        password,
        method_id,
        &code,
    )
    .await;
    assert_eq!(done["status"], "signed_in", "{done}");
    let session = done["session"].as_str().unwrap();
    let info: Value = http
        .get(format!("{base}/api/v1/me/security-info"))
        .bearer_auth(session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = info["methods"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["status"] == "active")
        .filter_map(|m| m["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"authenticator_code") && kinds.contains(&"recovery_codes"),
        "{info}"
    );

    // A recovery code 0.1 generated (its hash) still signs in, once.
    if let Some(recovery) = alice["recovery_code"].as_str() {
        let recovery_id = info["methods"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["kind"] == "recovery_codes")
            .and_then(|m| m["id"].as_str())
            .unwrap()
            .to_string();
        let done = sign_in(
            &http,
            &base,
            "alice@example.org",
            password,
            &recovery_id,
            recovery,
        )
        .await;
        assert_eq!(done["status"], "signed_in", "{done}");
    }

    // bob never registered anything: his password still opens his account (registration).
    let bob = account(&facts, "bob@example.org");
    let (status, flow) = post(
        &http,
        &base,
        "/sign-in",
        json!({"username": "bob@example.org", "password": bob["password"]}),
    )
    .await;
    assert_eq!(status, 200, "{flow}");
    assert_eq!(flow["status"], "registration_required", "{flow}");
    assert_eq!(server.terminate().code(), Some(0));

    // Migrated forward across 19, to everything this binary ships.
    let after = schema_version(&db);
    assert!(after >= 19, "migrated from {before} to {after}");
    let applied = fixture::sqlite_scalar(&db, "SELECT COUNT(*) FROM _sqlx_migrations");
    assert_eq!(applied as usize, fixture::shipped_migrations());

    // The policy and the admin survived.
    let policy = run(
        tessera(&dir.path, &["policy", "show", "--data-dir", data_arg]),
        "",
    );
    assert_eq!(policy.code, Some(0), "{}", policy.stderr);
    let policy: Value = serde_json::from_str(&policy.stdout).unwrap();
    assert_eq!(
        policy["lockout_threshold"],
        facts["policy"]["lockout_threshold"]
    );
    assert_eq!(
        policy["phone_countries"],
        facts["policy"]["phone_countries"]
    );
    let admin = run(
        tessera(
            &dir.path,
            &[
                "user",
                "show",
                "admin@example.org",
                "--json",
                "--data-dir",
                data_arg,
            ],
        ),
        "",
    );
    assert_eq!(admin.code, Some(0), "{}", admin.stderr);
    let admin: Value = serde_json::from_str(&admin.stdout).unwrap();
    assert_eq!(admin["is_admin"], true, "{admin}");
}

#[test]
fn a_database_from_a_newer_release_is_refused_and_left_alone() {
    let dir = TempDir::new("upgrade-newer");
    let data = dir.join("data");
    fixture::copy_to(&data);
    let data_arg = data.to_str().unwrap();
    // Migrate to this binary's schema, then pretend a newer release added a migration.
    let ran = run(
        tessera(&dir.path, &["user", "list", "--data-dir", data_arg]),
        "",
    );
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let db = data.join("tessera.db");
    fixture::record_future_migration(&db);
    let before = std::fs::read(&db).unwrap();

    let served = run(
        tessera(
            &dir.path,
            &["serve", "--listen", "127.0.0.1:0", "--data-dir", data_arg],
        ),
        "",
    );
    assert_eq!(served.code, Some(1), "{}", served.stderr);
    assert!(
        served.stderr.contains("newer than this binary"),
        "a clear message: {}",
        served.stderr
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the database is left as the newer release wrote it"
    );
    assert_eq!(schema_version(&db), fixture::FUTURE_VERSION);
}
