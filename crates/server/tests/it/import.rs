//! Importing hardware OATH tokens and accounts from CSV, with a report per row; an imported
//! token is activated by the person with one code and then signs in like any authenticator.

use crate::admin::{admin, id_of, sign_in};
use crate::common::{Harness, PASSWORD, each_backend, response};
use serde_json::{Value, json};
use tessera_core::Clock;
use tessera_core::import::decode_base32;
use tessera_core::method::authenticator_code::code_with_step;

/// 26 Base32 characters (130 bits), as vendors ship them.
const SECRET: &str = "2234567abcdef2234567abcdef";
const OTHER_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

async fn import(
    h: &Harness,
    c: &reqwest::Client,
    token: &str,
    what: &str,
    csv: &str,
) -> (u16, Value) {
    let r = c
        .post(h.url(&format!("/api/v1/admin/import/{what}")))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .unwrap();
    response(r).await
}

/// What the token shows now.
fn token_code(h: &Harness, secret: &str, step: u64) -> String {
    let seed = decode_base32(secret).unwrap();
    code_with_step(&seed, step, h.clock().now().unix_timestamp() as u64).unwrap()
}

#[tokio::test]
async fn tokens_import_row_by_row_and_the_person_activates_theirs_with_a_code() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (admin_token, _) = admin(&h, &c, "ada@example.org").await;
        h.set_policy("registration_required", "false").await;
        h.add_user("helga@example.org").await;
        h.add_user("ivo@example.org").await;
        let csv = format!(
            "upn,serial number,secret key,time interval,manufacturer,model\n\
             Helga@example.org,1234567,{SECRET},60,Contoso,HardwareKey\n\
             ivo@example.org,7654321,{OTHER_SECRET},30,Contoso,HardwareKey\n\
             nobody@example.org,1111111,{OTHER_SECRET},30,Contoso,HardwareKey\n\
             ivo@example.org,2222222,not base32!,30,Contoso,HardwareKey\n\
             ivo@example.org,3333333,{OTHER_SECRET},45,Contoso,HardwareKey\n\
             ivo@example.org,4444444,GEZDGNBV,30,Contoso,HardwareKey\n\
             ivo@example.org,1234567,{OTHER_SECRET},30,Contoso,HardwareKey\n\
             ivo@example.org,5555555\n"
        );
        let (status, report) = import(&h, &c, &admin_token, "tokens", &csv).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(
            (report["imported"].as_u64(), report["failed"].as_u64()),
            (Some(2), Some(6)),
            "{report}"
        );
        let row = |line: u64| {
            report["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["line"] == line)
                .unwrap()
                .clone()
        };
        assert_eq!(row(2)["status"], "imported");
        assert_eq!(row(4)["error"], "unknown_account");
        assert_eq!(row(4)["message"], "There is no account with this username.");
        assert_eq!(
            (row(5)["error"].as_str(), row(5)["field"].as_str()),
            (Some("bad_field"), Some("secret_key"))
        );
        assert_eq!(row(6)["field"], "time_interval");
        assert_eq!(row(7)["field"], "secret_key", "40 bits is too short a seed");
        assert_eq!(row(8)["error"], "serial_taken");
        assert_eq!(row(9)["error"], "unreadable");

        // Refused whole: a file without the columns.
        let (status, body) = import(&h, &c, &admin_token, "tokens", "user,serial\nx,1\n").await;
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some("secret_key")),
            "{body}"
        );

        // Helga finds the token pending on her security info, with no secret to see.
        let token = h.api_sign_in(&c, "helga@example.org").await["session"]
            .as_str()
            .unwrap()
            .to_string();
        let (_, info) = h.get(&c, "/api/v1/me/security-info", Some(&token)).await;
        let pending = &info["methods"][0];
        assert_eq!(
            (pending["status"].as_str(), pending["label"].as_str()),
            (Some("pending"), Some("Contoso HardwareKey 1234567")),
            "{info}"
        );
        let id = pending["id"].as_str().unwrap().to_string();
        // A 30-second code from the 60-second token does not activate it; its own code does.
        h.advance(30);
        let wrong = token_code(&h, SECRET, 30);
        let right = token_code(&h, SECRET, 60);
        if wrong != right {
            let (status, _) = h
                .post(
                    &c,
                    &format!("/api/v1/me/security-info/methods/{id}/verify"),
                    Some(&token),
                    json!({"code": wrong}),
                )
                .await;
            assert_eq!(status, 400);
        }
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/me/security-info/methods/{id}/verify"),
                Some(&token),
                json!({"code": right}),
            )
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("active")),
            "{body}"
        );

        // Now it is a second factor like any authenticator.
        h.advance(60);
        let body = h.api_sign_in(&c, "helga@example.org").await;
        assert_eq!(body["status"], "mfa_required", "{body}");
        let flow = body["flow"].as_str().unwrap();
        let (status, body) = h
            .post(
                &c,
                &format!("/api/v1/sign-in/{flow}/verify"),
                None,
                json!({"method_id": id, "code": token_code(&h, SECRET, 60)}),
            )
            .await;
        assert_eq!(status, 200, "{body}");

        let (_, log) = h
            .get(
                &c,
                "/api/v1/admin/audit?action=hardware_token_assigned",
                Some(&admin_token),
            )
            .await;
        assert_eq!(log["events"].as_array().unwrap().len(), 2);
    })
    .await;
}

#[tokio::test]
async fn the_hardware_token_page_activates_a_token_without_showing_its_secret() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (admin_token, _) = admin(&h, &c, "ada@example.org").await;
        h.add_user("jo@example.org").await;
        let csv = format!("upn,serial number,secret key\njo@example.org,99,{OTHER_SECRET}\n");
        let (_, report) = import(&h, &c, &admin_token, "tokens", &csv).await;
        let id = report["rows"][0]["method_id"].as_str().unwrap().to_string();
        // Jo signs in; the token counts for nothing until it is activated.
        let body = h.api_sign_in(&c, "jo@example.org").await;
        assert_eq!(body["status"], "registration_required", "{body}");
        let token = body["session"].as_str().unwrap().to_string();
        let cookie = format!(
            "tessera_session={token}; tessera_csrf=0123456789abcdef0123456789abcdef0123456789a"
        );
        let r = c
            .get(h.url(&format!("/security-info/methods/{id}/verify")))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(
            r.headers()["location"],
            format!("/security-info/hardware-tokens/{id}").as_str()
        );
        let r = c
            .get(h.url(&format!("/security-info/hardware-tokens/{id}")))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Activate your hardware token") && html.contains("99"),
            "{html}"
        );
        assert!(
            !html.contains(OTHER_SECRET) && !html.contains("otpauth"),
            "no secret on the page"
        );
        let post = |code: String| {
            let body = serde_urlencoded::to_string([
                ("csrf", "0123456789abcdef0123456789abcdef0123456789a"),
                ("code", code.as_str()),
            ])
            .unwrap();
            c.post(h.url(&format!("/security-info/hardware-tokens/{id}")))
                .header("cookie", &cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
        };
        let r = post("000000".into()).await.unwrap();
        assert_eq!(r.status(), 400);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("That code isn&#39;t right.")
        );
        let r = post(token_code(&h, OTHER_SECRET, 30)).await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(
            r.headers()["location"],
            "/sign-in/register",
            "on through the registration wizard"
        );
        let methods = h
            .store()
            .methods_of(id_of(&h, "jo@example.org").await.parse().unwrap())
            .await
            .unwrap();
        assert!(methods[0].is_active(), "{methods:?}");
    })
    .await;
}

#[tokio::test]
async fn accounts_import_row_by_row_with_temporary_passwords() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (admin_token, _) = admin(&h, &c, "ada@example.org").await;
        h.add_user("taken@example.org").await;
        let csv = "username,display name,email,admin,password\n\
                   ann@example.org,Ann Smith,ann@home.example,no,\n\
                   bob@example.org,,,yes,a long given passphrase\n\
                   taken@example.org,,,,\n\
                   cy@example.org,,not an address,,\n\
                   dee@example.org,,,maybe,\n\
                   eli@example.org,,,,short\n\
                   \"broken,row\n";
        let (status, report) = import(&h, &c, &admin_token, "accounts", csv).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!((report["imported"].as_u64(), report["failed"].as_u64()), (Some(2), Some(5)), "{report}");
        let rows = report["rows"].as_array().unwrap();
        let ann = &rows[0];
        let generated = ann["temporary_password"].as_str().unwrap();
        assert_eq!(generated.len(), 19);
        assert_eq!(rows[1]["temporary_password"], "a long given passphrase");
        assert_eq!(rows[2]["error"], "username_taken");
        assert_eq!(rows[3]["field"], "email");
        assert_eq!(rows[4]["field"], "admin");
        assert_eq!(rows[5]["field"], "password");
        assert_eq!(rows[6]["error"], "unreadable");

        let bob = h.store().account_by_username("bob@example.org").await.unwrap().unwrap();
        assert!(bob.is_admin);
        let ann = h.store().account_by_username("ann@example.org").await.unwrap().unwrap();
        assert_eq!((ann.display_name.as_str(), ann.email.as_deref()), ("Ann Smith", Some("ann@home.example")));
        // Every imported account changes its password first.
        let body = sign_in(&h, &c, "ann@example.org", generated).await;
        let token = body["session"].as_str().unwrap();
        let (_, me) = h.get(&c, "/api/v1/me", Some(token)).await;
        assert_eq!(me["password_change_required"], true);
        let (status, _) = h
            .post(&c, "/api/v1/me/password", Some(token), json!({"current_password": generated, "new_password": PASSWORD}))
            .await;
        assert_eq!(status, 204);

        // The same through the admin page: paste, import, read the report.
        let cookie = format!("tessera_session={admin_token}; tessera_csrf=0123456789abcdef0123456789abcdef0123456789a");
        let body = serde_urlencoded::to_string([
            ("csrf", "0123456789abcdef0123456789abcdef0123456789a"),
            ("csv", "username\nfin@example.org\ntaken@example.org\n"),
        ])
        .unwrap();
        let r = c
            .post(h.url("/admin/import/accounts"))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("1 imported, 1 not imported."), "{html}");
        assert!(html.contains("An account with this username already exists."), "{html}");
        assert!(h.store().account_by_username("fin@example.org").await.unwrap().is_some());
    })
    .await;
}
