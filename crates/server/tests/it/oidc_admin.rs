//! The admin API for OpenID Connect clients and keys (`/api/v1/admin/oidc/…`): a client's
//! secret is shown once and works at the token endpoint, answers never hold its hash, a bad
//! URI is refused naming its field, a normal person is refused, and a key rotation publishes
//! the new keys next to the old.

use crate::admin::admin;
use crate::common::{Harness, each_backend};
use serde_json::{Value, json};

const CLIENTS: &str = "/api/v1/admin/oidc/clients";

fn wiki() -> Value {
    json!({
        "name": "Wiki",
        "redirect_uris": ["https://wiki.example/cb"],
        "post_logout_redirect_uris": ["https://wiki.example/bye"],
        "offline_access": true,
    })
}

/// The token endpoint's answer to a made-up code, with the client's id and secret: a right
/// secret gets as far as the code (`invalid_grant`), a wrong one not (`invalid_client`).
async fn token_error(h: &Harness, id: &str, secret: &str) -> (u16, String) {
    let r = h
        .client()
        .post(h.url("/oidc/token"))
        .basic_auth(id, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "not-a-code"),
            ("redirect_uri", "https://wiki.example/cb"),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_string(),
    )
}

fn no_hash(body: &Value) {
    let text = body.to_string();
    assert!(!text.contains("secret_hash"), "{text}");
}

#[tokio::test]
async fn an_admin_registers_changes_and_removes_clients() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _) = admin(&h, &c, "ada@example.org").await;

        // A confidential client: its secret once, and it works.
        let (status, body) = h.post(&c, CLIENTS, Some(&token), wiki()).await;
        assert_eq!(status, 201, "{body}");
        no_hash(&body);
        let client = &body["client"];
        let id = client["client_id"].as_str().unwrap().to_string();
        let secret = body["client_secret"].as_str().unwrap().to_string();
        assert_eq!(client["confidential"], true);
        assert_eq!(client["first_party"], true, "the default");
        assert_eq!(client["requirement"], "two_step");
        assert_eq!(client["id_token_alg"], "ES256");
        assert_eq!(client["offline_access"], true);
        assert_eq!(
            client["post_logout_redirect_uris"],
            json!(["https://wiki.example/bye"])
        );
        let stored = h.tessera().local_admin().oidc_client(&id).await.unwrap();
        assert!(stored.secret_matches(&secret));
        assert_eq!(
            token_error(&h, &id, &secret).await,
            (400, "invalid_grant".into())
        );
        assert_eq!(
            token_error(&h, &id, "not-the-secret").await,
            (401, "invalid_client".into())
        );

        // A public client has no secret.
        let (status, body) = h
            .post(
                &c,
                CLIENTS,
                Some(&token),
                json!({
                    "name": "Phone app",
                    "confidential": false,
                    "redirect_uris": ["http://127.0.0.1:7000/cb"],
                    "first_party": false,
                    "requirement": "phishing_resistant",
                    "id_token_alg": "RS256",
                }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["client_secret"], Value::Null);
        assert_eq!(body["client"]["confidential"], false);
        assert_eq!(body["client"]["requirement"], "phishing_resistant");
        let public_id = body["client"]["client_id"].as_str().unwrap().to_string();
        let (status, body) = h
            .post(
                &c,
                &format!("{CLIENTS}/{public_id}/secret"),
                Some(&token),
                json!({}),
            )
            .await;
        assert_eq!((status, body["field"].as_str()), (400, Some("client_id")));

        // Listed by name, shown, never with a secret or its hash.
        let (status, body) = h.get(&c, CLIENTS, Some(&token)).await;
        assert_eq!(status, 200, "{body}");
        no_hash(&body);
        assert!(!body.to_string().contains(&secret));
        let names: Vec<&str> = body["clients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Phone app", "Wiki"]);
        let (status, body) = h.get(&c, &format!("{CLIENTS}/{id}"), Some(&token)).await;
        assert_eq!((status, body["name"].as_str()), (200, Some("Wiki")));
        no_hash(&body);

        // A change replaces the settings; the secret stays.
        let (status, body) = h
            .put(
                &c,
                &format!("{CLIENTS}/{id}"),
                &token,
                json!({
                    "name": "  Team wiki ",
                    "redirect_uris": ["https://wiki.example/cb2"],
                    "first_party": false,
                    "id_token_alg": "RS256",
                }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["name"], "Team wiki");
        assert_eq!(body["redirect_uris"], json!(["https://wiki.example/cb2"]));
        assert_eq!(body["post_logout_redirect_uris"], json!([]));
        assert_eq!(body["first_party"], false);
        assert_eq!(body["offline_access"], false);
        assert_eq!(body["id_token_alg"], "RS256");
        assert_eq!(body["confidential"], true);
        let stored = h.tessera().local_admin().oidc_client(&id).await.unwrap();
        assert!(stored.secret_matches(&secret));

        // A new secret: the old one stops working.
        let (status, body) = h
            .post(
                &c,
                &format!("{CLIENTS}/{id}/secret"),
                Some(&token),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let new_secret = body["client_secret"].as_str().unwrap().to_string();
        assert_ne!(new_secret, secret);
        assert_eq!(
            token_error(&h, &id, &secret).await,
            (401, "invalid_client".into())
        );
        assert_eq!(
            token_error(&h, &id, &new_secret).await,
            (400, "invalid_grant".into())
        );

        // Removed: gone, and its secret with it.
        let (status, _) = h.delete(&c, &format!("{CLIENTS}/{id}"), &token).await;
        assert_eq!(status, 204);
        let (status, body) = h.get(&c, &format!("{CLIENTS}/{id}"), Some(&token)).await;
        assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
        let (status, _) = h.delete(&c, &format!("{CLIENTS}/{id}"), &token).await;
        assert_eq!(status, 404);
        assert_eq!(
            token_error(&h, &id, &new_secret).await,
            (401, "invalid_client".into())
        );
        for path in [format!("{CLIENTS}/{id}"), format!("{CLIENTS}/no%00pe")] {
            let (status, _) = h.put(&c, &path, &token, wiki()).await;
            assert_eq!(status, 404, "{path}");
        }
    })
    .await;
}

#[tokio::test]
async fn bad_descriptions_are_refused_naming_the_field() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _) = admin(&h, &c, "ada@example.org").await;
        let cases = [
            (
                json!({"redirect_uris": ["http://wiki.example/cb"]}),
                "redirect_uris",
            ),
            (
                json!({"redirect_uris": ["https://wiki.example/cb#x"]}),
                "redirect_uris",
            ),
            (json!({"redirect_uris": []}), "redirect_uris"),
            (json!({"name": " "}), "name"),
            (json!({"name": "a\u{0}b"}), "name"),
            (json!({"name": "x".repeat(101)}), "name"),
            (
                json!({"post_logout_redirect_uris": ["/bye"]}),
                "post_logout_redirect_uris",
            ),
            (
                json!({"backchannel_logout_uri": "ftp://wiki.example/bc"}),
                "backchannel_logout_uri",
            ),
            (json!({"requirement": "none"}), "body"),
            (json!({"id_token_alg": "HS256"}), "body"),
        ];
        for (change, field) in cases {
            let mut body = wiki();
            for (k, v) in change.as_object().unwrap() {
                body[k] = v.clone();
            }
            let (status, answer) = h.post(&c, CLIENTS, Some(&token), body.clone()).await;
            assert_eq!(
                (status, answer["error"].as_str(), answer["field"].as_str()),
                (400, Some("bad_request"), Some(field)),
                "{body}: {answer}"
            );
        }
        let (_, answer) = h
            .post(
                &c,
                CLIENTS,
                Some(&token),
                json!({"name": "W", "redirect_uris": ["http://w.example/cb"]}),
            )
            .await;
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .contains("return addresses"),
            "the field in words: {answer}"
        );
        let (_, body) = h.get(&c, CLIENTS, Some(&token)).await;
        assert_eq!(body["clients"], json!([]), "nothing was made");
    })
    .await;
}

#[tokio::test]
async fn a_normal_person_may_not_manage_clients_or_keys() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (admin_token, _) = admin(&h, &c, "ada@example.org").await;
        let (_, body) = h.post(&c, CLIENTS, Some(&admin_token), wiki()).await;
        let id = body["client"]["client_id"].as_str().unwrap().to_string();
        let (token, _, _) = h.enrolled_user(&c, "nora@example.org").await;
        let one = format!("{CLIENTS}/{id}");
        for (status, body) in [
            h.get(&c, CLIENTS, Some(&token)).await,
            h.get(&c, &one, Some(&token)).await,
            h.post(&c, CLIENTS, Some(&token), wiki()).await,
            h.put(&c, &one, &token, wiki()).await,
            h.delete(&c, &one, &token).await,
            h.post(&c, &format!("{one}/secret"), Some(&token), json!({}))
                .await,
            h.post(
                &c,
                "/api/v1/admin/oidc/keys/rotate",
                Some(&token),
                json!({}),
            )
            .await,
        ] {
            assert_eq!(
                (status, body["error"].as_str()),
                (403, Some("not_allowed")),
                "{body}"
            );
        }
        let (status, _) = h.get(&c, CLIENTS, None).await;
        assert_eq!(status, 401);
        let (_, body) = h.get(&c, &one, Some(&admin_token)).await;
        assert_eq!(body["name"], "Wiki", "unchanged");
    })
    .await;
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_key_rotation_publishes_the_new_keys_next_to_the_old() {
    each_backend(|h: Harness| async move {
        let c = h.client();
        let (token, _) = admin(&h, &c, "ada@example.org").await;
        let (_, jwks) = h.get(&c, "/oidc/jwks", None).await;
        let before = kids(&jwks);
        assert_eq!(before.len(), 2, "one per algorithm: {jwks}");

        let (status, body) = h
            .post(
                &c,
                "/api/v1/admin/oidc/keys/rotate",
                Some(&token),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["old_keys_published_for_minutes"], 65);
        let new: Vec<String> = body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect();
        let algs: Vec<&str> = body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["alg"].as_str().unwrap())
            .collect();
        assert_eq!(algs, ["ES256", "RS256"]);

        let (_, jwks) = h.get(&c, "/oidc/jwks", None).await;
        let now = kids(&jwks);
        for kid in before.iter().chain(&new) {
            assert!(now.contains(kid), "{kid} in {now:?}");
        }
        assert_eq!(now.len(), 4);

        // Once every token the old keys signed has expired, only the new ones are left.
        h.advance(66 * 60);
        let (_, jwks) = h.get(&c, "/oidc/jwks", None).await;
        let mut later = kids(&jwks);
        later.sort();
        let mut new = new;
        new.sort();
        assert_eq!(later, new);
    })
    .await;
}
