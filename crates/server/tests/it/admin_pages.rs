//! The admin pages and the pages a person with a temporary password sees, driven like a
//! browser that keeps its session and CSRF cookies.

use crate::admin::{admin, sign_in};
use crate::common::{Harness, PASSWORD, each_backend};

/// A browser's request with the session and a known CSRF token in its cookies.
pub const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789a";

pub async fn page_post(
    h: &Harness,
    c: &reqwest::Client,
    token: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut all = vec![("csrf", CSRF)];
    all.extend_from_slice(fields);
    c.post(h.url(path))
        .header(
            "cookie",
            format!("tessera_session={token}; tessera_csrf={CSRF}"),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&all).unwrap())
        .send()
        .await
        .unwrap()
}

pub async fn page_get(
    h: &Harness,
    c: &reqwest::Client,
    token: &str,
    path: &str,
) -> reqwest::Response {
    c.get(h.url(path))
        .header(
            "cookie",
            format!("tessera_session={token}; tessera_csrf={CSRF}"),
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_admin_pages_create_an_account_whose_person_then_chooses_a_password() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (admin_token, _) = admin(&h, &c, "ada@example.org").await;
        let r = page_get(&h, &c, &admin_token, "/security-info").await;
        assert!(
            r.text().await.unwrap().contains("href=\"/admin\""),
            "admins see the way in"
        );
        let r = page_get(&h, &c, &admin_token, "/admin").await;
        assert_eq!(r.headers()["location"], "/admin/accounts");

        let r = page_post(
            &h,
            &c,
            &admin_token,
            "/admin/accounts/new",
            &[("username", "bad name"), ("display_name", "")],
        )
        .await;
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("Check the username"));
        let r = page_post(
            &h,
            &c,
            &admin_token,
            "/admin/accounts/new",
            &[
                ("username", "mia@example.org"),
                ("display_name", "Mia Mol"),
                ("email", ""),
                ("is_admin", "yes"),
            ],
        )
        .await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("Account created"), "{html}");
        let temporary = html
            .split("id=\"secret\">")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string();
        let mia = h
            .store()
            .account_by_username("mia@example.org")
            .await
            .unwrap()
            .unwrap();
        assert!(mia.is_admin);

        let r = page_get(&h, &c, &admin_token, "/admin/accounts?q=mol").await;
        let html = r.text().await.unwrap();
        assert!(
            html.contains("mia@example.org")
                && html.matches("data-label=\"Username\"").count() == 1,
            "{html}"
        );
        let r = page_get(&h, &c, &admin_token, &format!("/admin/accounts/{}", mia.id)).await;
        let html = r.text().await.unwrap();
        assert!(html.contains("must choose a new password"), "{html}");

        // Mia signs in (registration is due) and is sent to choose her own password first.
        let body = sign_in(&h, &c, "mia@example.org", &temporary).await;
        let token = body["session"].as_str().unwrap().to_string();
        let r = page_get(&h, &c, &token, "/security-info").await;
        assert_eq!(
            (
                r.status().as_u16(),
                r.headers()["location"].to_str().unwrap()
            ),
            (303, "/password/change")
        );
        let r = page_get(&h, &c, &token, "/password/change").await;
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("Your administrator set a temporary password")
        );
        let r = page_post(
            &h,
            &c,
            &token,
            "/password/change",
            &[
                ("current_password", &temporary),
                ("new_password", PASSWORD),
                ("confirm_password", "something else"),
            ],
        )
        .await;
        assert_eq!(r.status(), 400);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("The two new passwords are not the same.")
        );
        let r = page_post(
            &h,
            &c,
            &token,
            "/password/change",
            &[
                ("current_password", &temporary),
                ("new_password", PASSWORD),
                ("confirm_password", PASSWORD),
            ],
        )
        .await;
        assert_eq!(r.headers()["location"], "/security-info?done=password");
        let r = page_get(&h, &c, &token, "/security-info").await;
        assert_eq!(
            (
                r.status().as_u16(),
                r.headers()["location"].to_str().unwrap()
            ),
            (303, "/sign-in/register"),
            "on to registering security info"
        );

        // The admin disables her from her page; the log says who did.
        let r = page_post(
            &h,
            &c,
            &admin_token,
            &format!("/admin/accounts/{}/disable", mia.id),
            &[],
        )
        .await;
        assert_eq!(
            r.headers()["location"].to_str().unwrap(),
            format!("/admin/accounts/{}?done=disabled", mia.id)
        );
        let r = page_get(
            &h,
            &c,
            &admin_token,
            "/admin/audit?account=mia@example.org&action=account_disabled",
        )
        .await;
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Account disabled") && html.contains("by: "),
            "{html}"
        );
    })
    .await;
}
