//! RADIUS clients administered over the API and on the admin page: the secret shown once,
//! bad input named by its field, the page in Dutch, and a normal person refused.

use crate::admin::admin;
use crate::admin_pages::{page_get, page_post};
use crate::common::{Harness, each_backend};
use serde_json::json;
use tessera_core::AuditAction;

#[tokio::test]
async fn admins_add_list_and_remove_radius_clients_over_the_api() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _) = admin(&h, &c, "ada@example.org").await;
        let path = "/api/v1/admin/radius/clients";
        let (status, created) = h
            .post(&c, path, Some(&token), json!({"name": "vpn", "address": "10.0.0.0/24"}))
            .await;
        assert_eq!(status, 201, "{created}");
        let secret = created["secret"].as_str().unwrap();
        assert_eq!(secret.len(), 32);
        assert_eq!(created["client"]["require_message_authenticator"], true);
        let id = created["client"]["id"].as_str().unwrap().to_string();

        for (body, field) in [
            (json!({"name": "wifi", "address": "10.0.0.1/24"}), "address"),
            (json!({"name": "wifi", "address": "wifi.example.org"}), "address"),
            (json!({"name": "vpn", "address": "10.2.0.0/24"}), "name"),
            (json!({"name": "", "address": "10.3.0.0/24"}), "name"),
        ] {
            let (status, refused) = h.post(&c, path, Some(&token), body).await;
            assert_eq!((status, refused["field"].as_str()), (400, Some(field)), "{refused}");
        }
        h.advance(1); // oldest first: a second later
        let (status, old) = h
            .post(
                &c,
                path,
                Some(&token),
                json!({"name": "old", "address": "2001:db8::5", "require_message_authenticator": false}),
            )
            .await;
        assert_eq!(status, 201, "{old}");

        let (status, list) = h.get(&c, path, Some(&token)).await;
        assert_eq!(status, 200);
        let clients = list["clients"].as_array().unwrap();
        assert_eq!(clients.len(), 2);
        assert_eq!(clients[1]["address"], "2001:db8::5");
        assert!(!list.to_string().contains(secret), "never listed again");

        let (status, _) = h.delete(&c, &format!("{path}/{id}"), &token).await;
        assert_eq!(status, 204);
        let (status, _) = h.delete(&c, &format!("{path}/{id}"), &token).await;
        assert_eq!(status, 404);
        let (status, _) = h.delete(&c, &format!("{path}/not-an-id"), &token).await;
        assert_eq!(status, 404);

        let (person, _, _) = h.enrolled_user(&c, "bob@example.org").await;
        let (status, body) = h.get(&c, path, Some(&person)).await;
        assert_eq!((status, body["error"].as_str()), (403, Some("not_allowed")));
        assert_eq!(crate::radius::audited(&h, AuditAction::RadiusClientCreated).await, 2);
        assert_eq!(crate::radius::audited(&h, AuditAction::RadiusClientDeleted).await, 1);
    })
    .await;
}

#[tokio::test]
async fn the_admin_page_adds_a_client_shows_its_secret_once_and_removes_it() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _) = admin(&h, &c, "ada@example.org").await;
        let page = page_get(&h, &c, &token, "/admin/radius")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("No RADIUS clients yet"), "{page}");
        assert!(
            page.contains("href=\"/admin/radius\""),
            "in the admin navigation"
        );

        let r = page_post(
            &h,
            &c,
            &token,
            "/admin/radius",
            &[
                ("name", "vpn"),
                ("address", "nonsense"),
                ("require_message_authenticator", "on"),
            ],
        )
        .await;
        assert_eq!(r.status(), 400);
        let r = page_post(
            &h,
            &c,
            &token,
            "/admin/radius",
            &[("name", "vpn"), ("address", "192.0.2.0/24")],
        )
        .await;
        assert_eq!(r.status(), 200);
        let shown = r.text().await.unwrap();
        let clients = h.tessera().local_admin().radius_clients().await.unwrap();
        assert_eq!(clients.len(), 1);
        assert!(
            !clients[0].require_message_authenticator,
            "the box was not ticked"
        );
        let secret = shown
            .split("id=\"secret\">")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .unwrap()
            .to_string();
        assert_eq!(secret.len(), 32, "{shown}");

        let list = page_get(&h, &c, &token, "/admin/radius")
            .await
            .text()
            .await
            .unwrap();
        assert!(list.contains("192.0.2.0/24") && !list.contains(&secret));
        let nl = c
            .get(h.url("/admin/radius"))
            .header(
                "cookie",
                format!(
                    "tessera_session={token}; tessera_csrf={}; tessera_lang=nl",
                    crate::admin_pages::CSRF
                ),
            )
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            nl.contains("RADIUS-clients") && nl.contains("Message-Authenticator niet vereist"),
            "{nl}"
        );

        let id = clients[0].id.to_string();
        let r = page_post(&h, &c, &token, &format!("/admin/radius/{id}/remove"), &[]).await;
        assert_eq!(r.status(), 303);
        assert!(
            h.tessera()
                .local_admin()
                .radius_clients()
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}
