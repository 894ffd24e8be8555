//! "Recent activity" on the pages: each line names the method used, a deleted one by its
//! kind, and a long history is paged.

use crate::common::{Harness, each_backend};
use crate::web::browser::signed_in;
use tessera_core::{AuditAction, AuditEvent, Clock, OsRandom, RequestContext};

#[tokio::test]
async fn activity_names_the_method_used_even_once_it_is_deleted() {
    each_backend(|h: Harness| async move {
        let (b, first, _) = signed_in(&h, "ivy@example.org").await;
        let page = b.get("/activity").await;
        page.shows(200, "Signed in — Authenticator app or hardware token</td>");
        b.add_authenticator("Work phone").await;
        b.get("/activity").await.shows(
            200,
            "Sign-in method set up — Authenticator app or hardware token (Work phone)",
        );

        // The first app deleted: its sign-in still says what it was.
        let delete = format!("/security-info/methods/{first}/delete");
        let deleted = b.submit(&delete, &delete, &[]).await;
        assert_eq!(deleted.status, 303, "{}", deleted.html);
        let page = b.get("/activity").await;
        page.shows(200, "Signed in — Authenticator app or hardware token</td>")
            .shows(
                200,
                "Sign-in method deleted — Authenticator app or hardware token</td>",
            );
    })
    .await;
}

#[tokio::test]
async fn a_long_history_is_paged_twenty_at_a_time() {
    each_backend(|h: Harness| async move {
        let (b, _, _) = signed_in(&h, "max@example.org").await;
        let account = h
            .store()
            .account_by_username("max@example.org")
            .await
            .unwrap()
            .unwrap();
        // 45 older language changes, a minute apart, below the sign-in.
        let start = h.clock().now() - time::Duration::days(1);
        for i in 0..45 {
            let event = AuditEvent::new(
                &OsRandom,
                start + time::Duration::minutes(i),
                &RequestContext::default(),
                Some(account.id),
                AuditAction::LocaleChanged,
            );
            h.store().append_audit(&event).await.unwrap();
        }
        let rows = |html: &str| html.matches("<tr>").count() - 1;
        let first = b.get("/activity").await;
        first
            .shows(200, "Page 1 of 3")
            .shows(200, "href=\"/activity?page=2\" rel=\"next\"");
        assert_eq!(rows(&first.html), 20);
        assert!(first.html.contains("Signed in"), "newest first");
        assert!(!first.html.contains("rel=\"prev\""));
        let second = b.get("/activity?page=2").await;
        second
            .shows(200, "Page 2 of 3")
            .shows(200, "href=\"/activity?page=1\" rel=\"prev\"")
            .shows(200, "href=\"/activity?page=3\" rel=\"next\"");
        assert_eq!(rows(&second.html), 20);
        let last = b.get("/activity?page=9").await;
        last.shows(200, "Page 3 of 3");
        assert!(!last.html.contains("rel=\"next\""));
        assert!(rows(&last.html) >= 5, "the rest: {}", last.html);
        b.get("/activity?page=x").await.shows(200, "Page 1 of 3");
    })
    .await;
}
