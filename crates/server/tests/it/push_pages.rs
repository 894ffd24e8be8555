//! Issue #13 on the notification pages: what they say once the notification limit is used
//! up, and an app whose default way is its code.

use crate::common::{Harness, each_backend};
use crate::push::{enrolled, shown_number};
use crate::web::browser::Browser;
use serde_json::json;

#[tokio::test]
async fn a_used_up_notification_limit_says_when_another_can_be_sent() {
    each_backend(|h: Harness| async move {
        let (_, _, _device) = enrolled(&h, "cas@example.org", None).await;
        // The test notification of the activation was the first of two.
        h.set_policy("push_requests_max", "2").await;
        let b = Browser::new(&h);
        b.password("cas@example.org").await;
        let page_path = b.get("/sign-in/verify").await.location.unwrap();
        let page = b.get(&page_path).await;
        shown_number(&page.html);

        // A second sign-in within the window: no notification can go out.
        b.password("cas@example.org").await;
        let page = b.get(&page_path).await;
        page.shows(200, "as many notifications as allowed for now")
            .shows(200, "UTC");
        assert!(!page.html.contains("Send another request"), "{}", page.html);
        assert!(
            !page.html.contains("push-number"),
            "no number: {}",
            page.html
        );
    })
    .await;
}

#[tokio::test]
async fn an_app_whose_default_way_is_its_code_asks_for_the_code() {
    each_backend(|h: Harness| async move {
        let (token, method, _device) = enrolled(&h, "dee@example.org", None).await;
        let (status, body) = h
            .put(
                &h.client(),
                "/api/v1/me/security-info/default",
                &token,
                json!({"method_id": method, "way": "code"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let b = Browser::new(&h);
        b.password("dee@example.org").await;
        let page = b.get("/sign-in/verify").await;
        page.shows(200, "<input id=\"code\"")
            .shows(200, "Authenticator app");
        assert!(page.location.is_none(), "no notification is sent first");
    })
    .await;
}
