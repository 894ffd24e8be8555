//! Contact info from the directory (issue #19, part C), on both stores: the directory's
//! mobile number and address offered on the security info page and in its API, masked; the
//! number registered once the code sent to it is verified; no offer once registered, for a
//! local account, or while the directory does not answer. The directory is
//! `directory_fake`'s stand-in.

use crate::common::{Harness, each_backend_with};
use crate::directory_fake::{FakeDirectory, directory, enrolled, entry};
use crate::gateway::{gateway, with_webhook};
use crate::web::browser::Browser;
use serde_json::{Value, json};
use std::sync::Arc;

/// A directory person with an authenticator code whose entry holds a mobile number and an
/// address: (directory, session token, secret, mobile in E.164, address).
async fn person_with_contacts(
    h: &Harness,
    username: &str,
) -> (Arc<FakeDirectory>, String, String, String, String) {
    let (typed, e164) = crate::phone::mobile();
    let address = crate::phone::address();
    let mut person = entry(username, &["staff"]);
    // As directories often hold it: international, with spaces.
    person.mobile = Some(format!("+31 {}", typed.trim_start_matches('0')));
    person.mail = Some(address.clone());
    let dir = directory(h, vec![person]);
    let (token, secret) = enrolled(h, username).await;
    (dir, token, secret, e164, address)
}

fn offers(body: &Value) -> Vec<(String, String, String)> {
    body["directory_offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["source"].as_str().unwrap().to_string(),
                o["kind"].as_str().unwrap().to_string(),
                o["label"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_directory_mobile_is_offered_masked_and_counts_once_verified() {
    each_backend_with(with_webhook, |h: Harness| async move {
        let (dir, token, _, e164, address) = person_with_contacts(&h, "dora").await;
        let c = h.client();
        let (status, body) = h.get(&c, "/api/v1/me/security-info", Some(&token)).await;
        assert_eq!(status, 200, "{body}");
        let masked = format!("+31 6•••••{}", &e164[e164.len() - 2..]);
        let domain = address.split_once('@').unwrap().1;
        assert_eq!(
            offers(&body),
            [
                ("mobile".into(), "phone_mobile".into(), masked.clone()),
                ("mail".into(), "email".into(), format!("u•••@{domain}")),
            ]
        );
        let text = body.to_string();
        assert!(
            !text.contains(&e164[3..]) && !text.contains(&address),
            "{text}"
        );

        // Accepting sends a code to the directory's number; nothing counts until it is typed.
        let (status, added) = h
            .post(
                &c,
                "/api/v1/me/security-info/directory-offers/mobile",
                Some(&token),
                json!({}),
            )
            .await;
        assert_eq!(status, 201, "{added}");
        assert_eq!(added["status"], "pending");
        assert_eq!(added["sent_to"], masked.as_str());
        let id = added["id"].as_str().unwrap();
        let (_, body) = h.get(&c, "/api/v1/me/security-info", Some(&token)).await;
        assert!(
            offers(&body).iter().any(|o| o.0 == "mobile"),
            "still offered while pending"
        );
        let code = gateway().nth(&e164, 1).await.code.unwrap();
        let (status, body) = crate::phone::verify(&h, &c, &token, id, &code).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("active")),
            "{body}"
        );
        let (_, body) = h.get(&c, "/api/v1/me/security-info", Some(&token)).await;
        assert_eq!(
            offers(&body)
                .iter()
                .map(|o| o.0.as_str())
                .collect::<Vec<_>>(),
            ["mail"],
            "registered: no longer offered"
        );
        assert!(
            body["methods"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["kind"] == "phone_mobile" && m["status"] == "active"),
            "{body}"
        );

        // A directory that does not answer: no offers, and no error.
        dir.set_down(true);
        let (status, body) = h.get(&c, "/api/v1/me/security-info", Some(&token)).await;
        assert_eq!(status, 200, "{body}");
        assert!(offers(&body).is_empty());
        let (status, body) = h
            .post(
                &c,
                "/api/v1/me/security-info/directory-offers/mail",
                Some(&token),
                json!({}),
            )
            .await;
        assert_eq!(status, 404, "{body}");
    })
    .await;
}

#[tokio::test]
async fn the_page_offers_the_directory_mobile_and_accepting_sends_a_code() {
    each_backend_with(with_webhook, |h: Harness| async move {
        let (dir, _, secret, e164, _) = person_with_contacts(&h, "dirk").await;
        let b = Browser::speaking(&h, "nl-NL,nl;q=0.9");
        b.sign_in("dirk", &secret).await;
        let masked = format!("+31 6•••••{}", &e164[e164.len() - 2..]);
        let page = b.get("/security-info").await;
        page.shows(
            200,
            &format!("{masked} uit de directory van je organisatie gebruiken"),
        )
        .shows(200, "/security-info/directory-offer/mobile");
        assert!(
            !page.html.contains(&e164[3..]),
            "the number itself is not shown"
        );

        let r = b
            .submit(
                "/security-info",
                "/security-info/directory-offer/mobile",
                &[],
            )
            .await;
        let sent = r.location.clone().unwrap();
        assert!(sent.starts_with("/security-info/sent-code/"), "{sent}");
        let code = gateway().nth(&e164, 1).await.code.unwrap();
        b.submit(&sent, &sent, &[("code", &code)])
            .await
            .redirects_to("/security-info?done=added");
        let page = b.get("/security-info").await;
        assert!(
            !page.html.contains("/security-info/directory-offer/mobile"),
            "registered: no longer offered"
        );

        // A directory that does not answer: the page, without offers.
        dir.set_down(true);
        let page = b.get("/security-info").await;
        assert_eq!(page.status, 200);
        assert!(!page.html.contains("directory-offer/"));

        // A local account is never offered anything.
        let (local, _, _) = h.enrolled_user(&h.client(), "lena@example.org").await;
        dir.set_down(false);
        let (_, body) = h
            .get(&h.client(), "/api/v1/me/security-info", Some(&local))
            .await;
        assert!(offers(&body).is_empty(), "{body}");
    })
    .await;
}
