//! The admin policy page reads as words: every setting labelled and explained in the admin's
//! language, menus for choices, durations in minutes or hours, counts with their unit.

use crate::common::{Harness, each_backend};
use crate::reset_web::admin_browser;
use crate::web::browser::Resp;
use tessera_core::policy::VoiceMode;

/// The `<select>` named `name`, up to its end.
fn menu<'a>(page: &'a Resp, name: &str) -> &'a str {
    let start = page
        .html
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no menu {name} in:\n{}", page.html));
    let rest = &page.html[start..];
    &rest[..rest
        .find("</select>")
        .unwrap_or_else(|| panic!("{name} is not a menu"))]
}

#[tokio::test]
async fn the_policy_page_labels_every_setting_with_menus_and_units() {
    each_backend(|h: Harness| async move {
        let b = admin_browser(&h, "root@example.org").await;
        let page = b.get("/admin/policy").await;
        page.shows(200, "Wrong tries that end one sent code")
            .shows(200, "From 1 to 10. After that, the person asks for a new code.")
            .shows(200, "Notifications one account may be sent per period");
        let policy = serde_json::to_value(h.tessera().policy().await.unwrap()).unwrap();
        for key in policy.as_object().unwrap().keys() {
            for raw in [format!(">{key}</label>"), format!(">{key}</legend>"), format!("> {key}</label>")] {
                assert!(!page.html.contains(&raw), "{key} is shown as its key");
            }
        }

        // A choice is a menu of words, not a free text field.
        let voice = menu(&page, "voice_mode");
        assert!(
            voice.contains("<option value=\"confirm\" selected>Press # to approve</option>")
                && voice.contains("<option value=\"code\">Read a code aloud, to type in</option>"),
            "{voice}"
        );
        // Durations in the unit that reads best; counts with what they count.
        assert!(page.html.contains("name=\"code_secs\" type=\"number\" min=\"0\" step=\"1\" inputmode=\"numeric\" value=\"10\""));
        assert!(menu(&page, "code_secs-unit").contains("<option value=\"minutes\" selected>minutes</option>"));
        assert!(menu(&page, "session_max_secs-unit").contains("<option value=\"hours\" selected>hours</option>"));
        assert!(page.html.contains("<span class=\"unit\" id=\"unit-code_length\">digits</span>"));
        assert!(page.html.contains("<span class=\"unit\" id=\"unit-sends_per_account_hour\">per hour</span>"));

        // Saved from what the page posts: 20 minutes is 1200 seconds.
        let mut fields = form_fields(&page);
        set(&mut fields, "lockout_secs", "20");
        set(&mut fields, "lockout_secs-unit", "minutes");
        set(&mut fields, "voice_mode", "code");
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        b.submit("/admin/policy", "/admin/policy", &refs)
            .await
            .redirects_to("/admin/policy?done=saved");
        let saved = h.tessera().policy().await.unwrap();
        assert_eq!((saved.lockout_secs, saved.voice_mode), (1200, VoiceMode::Code));
        assert_eq!(saved.session_max_secs, 12 * 3600, "the rest kept");

        // A duration out of range is explained in its units.
        set(&mut fields, "code_secs", "2");
        set(&mut fields, "code_secs-unit", "hours");
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        b.submit("/admin/policy", "/admin/policy", &refs)
            .await
            .shows(400, "choose from 1 minute to 1 hour");
        assert_eq!(h.tessera().policy().await.unwrap().code_secs, 600);

        // In Dutch.
        let r = b
            .c
            .get(h.url("/admin/policy"))
            .header("accept-language", "nl")
            .send()
            .await
            .unwrap();
        let page = Resp::from(r).await;
        page.shows(200, "Wat een aanmeldoproep vraagt")
            .shows(200, "Druk op # om goed te keuren")
            .shows(200, "<option value=\"minutes\" selected>minuten</option>")
            .shows(200, "cijfers");
    })
    .await;
}

/// What the browser would post for the form as shown: each named field's value, the chosen
/// option of each menu, and the ticked boxes.
fn form_fields(page: &Resp) -> Vec<(String, String)> {
    let html = &page.html;
    let form = &html[html
        .find("<form method=\"post\" action=\"/admin/policy\"")
        .unwrap()..];
    let form = &form[..form.find("</form>").unwrap()];
    let attr = |tag: &str, name: &str| {
        let marker = format!(" {name}=\"");
        tag.find(&marker).map(|i| {
            let rest = &tag[i + marker.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
    };
    let mut out = Vec::new();
    for tag in form.split("<input").skip(1) {
        let tag = &tag[..tag.find('>').unwrap()];
        let (Some(name), Some(value)) = (attr(tag, "name"), attr(tag, "value")) else {
            continue;
        };
        if name == "csrf" || (tag.contains("type=\"checkbox\"") && !tag.contains(" checked")) {
            continue;
        }
        out.push((name, value.replace("&#44;", ",")));
    }
    for select in form.split("<select").skip(1) {
        let name = attr(&select[..select.find('>').unwrap()], "name").unwrap();
        let chosen = select
            .split("<option")
            .find(|o| o.contains(" selected>"))
            .and_then(|o| attr(o, "value"))
            .unwrap();
        out.push((name, chosen));
    }
    out
}

fn set(fields: &mut Vec<(String, String)>, key: &str, value: &str) {
    fields.retain(|(k, _)| k != key);
    fields.push((key.to_string(), value.to_string()));
}
