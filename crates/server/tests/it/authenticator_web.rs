//! The web authenticator (issue #17) as a browser fetches it: the page in the person's
//! language under the app's CSP, an installable manifest with real icons, a service worker
//! that keeps every file the app needs offline, and the scripts' words in both languages.

use crate::common::Harness;
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use serde_json::Value;
use tessera_server::i18n::Tr;

struct Got {
    status: u16,
    content_type: String,
    csp: String,
    cache: String,
    body: Vec<u8>,
}

impl Got {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body with HTML's escaped characters as a reader sees them.
    fn words(&self) -> String {
        self.text()
            .replace("&#39;", "'")
            .replace("&#x27;", "'")
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

async fn fetch(h: &Harness, path: &str, headers: &[(&str, &str)]) -> Got {
    let mut request = h.client().get(h.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    Got {
        status: response.status().as_u16(),
        content_type: header(CONTENT_TYPE),
        csp: header(CONTENT_SECURITY_POLICY),
        cache: header(CACHE_CONTROL),
        body: response.bytes().await.unwrap().to_vec(),
    }
}

/// The width and height a PNG's header states.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    (be(16), be(20))
}

#[tokio::test]
async fn the_app_page_is_served_in_the_persons_language_under_the_apps_csp() {
    let h = Harness::start(false).await.expect("a SQLite harness");
    let (en, nl) = (Tr::english(), Tr::for_tag("nl"));

    let page = fetch(
        &h,
        "/authenticator/",
        &[("accept-language", "en-GB,en;q=0.9")],
    )
    .await;
    assert_eq!(page.status, 200);
    assert_eq!(page.content_type, "text/html; charset=utf-8");
    assert_eq!(page.cache, "no-cache");
    let html = page.text();
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    assert!(html.contains(&format!("<title>{}</title>", en.get("webapp-title"))));
    assert!(html.contains("rel=\"manifest\" href=\"/authenticator/manifest.webmanifest?lang=en\""));
    assert!(html.contains("data-worker=\"/authenticator/sw.js?lang=en\""));
    // No inline script: every <script> names its file.
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    assert_eq!(scripts.len(), 2, "{html}");
    assert!(
        scripts
            .iter()
            .all(|s| s.trim_start().contains("src=\"/authenticator/"))
    );
    assert!(!html.contains(" style="), "no inline style");
    // The site's CSP, with what an installable app needs, and nothing inline.
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "connect-src 'self' https:",
        "frame-ancestors 'none'",
    ] {
        assert!(page.csp.contains(part), "{part} in {}", page.csp);
    }
    assert!(!page.csp.contains("unsafe"), "{}", page.csp);
    // Loopback http is the development setup: no warning about https.
    assert!(!page.words().contains(&en.get("webapp-insecure")));
    assert!(page.words().contains(&en.get("webapp-install-hint")));

    let dutch = fetch(
        &h,
        "/authenticator/",
        &[("accept-language", "nl-NL,nl;q=0.9")],
    )
    .await;
    let html = dutch.text();
    assert!(html.contains("<html lang=\"nl\">"), "{html}");
    assert!(html.contains(&nl.get("webapp-accounts-title")));
    assert!(html.contains(&nl.get("webapp-request-number")));
    assert!(html.contains("manifest.webmanifest?lang=nl"));
    // A language chosen in this browser wins over the one it asks for.
    let chosen = fetch(
        &h,
        "/authenticator/",
        &[("accept-language", "en"), ("cookie", "tessera_lang=nl")],
    )
    .await;
    assert!(chosen.text().contains("<html lang=\"nl\">"));

    // "/authenticator" leads to the app's scope.
    let response = h
        .client()
        .get(h.url("/authenticator"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 308);
    assert_eq!(response.headers()["location"], "/authenticator/");

    // The rest of the site keeps its own CSP and is never cached.
    let sign_in = fetch(&h, "/sign-in", &[]).await;
    assert!(!sign_in.csp.contains("manifest-src"), "{}", sign_in.csp);
    assert_eq!(sign_in.cache, "no-store");
    h.finish().await;
}

#[tokio::test]
async fn the_manifest_makes_the_app_installable_with_real_icons() {
    let h = Harness::start(false).await.expect("a SQLite harness");
    let got = fetch(&h, "/authenticator/manifest.webmanifest?lang=en", &[]).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.content_type, "application/manifest+json");
    let manifest = got.json();
    assert_eq!(manifest["name"], Tr::english().get("webapp-title"));
    assert_eq!(manifest["short_name"], "Tessera");
    assert_eq!(manifest["start_url"], "/authenticator/");
    assert_eq!(manifest["scope"], "/authenticator/");
    assert_eq!(manifest["id"], "/authenticator/");
    assert_eq!(manifest["display"], "standalone");
    assert_eq!(manifest["lang"], "en");
    let icons = manifest["icons"].as_array().unwrap();
    let mut sizes = Vec::new();
    for icon in icons {
        let src = icon["src"].as_str().unwrap();
        let file = fetch(&h, src, &[]).await;
        assert_eq!(file.status, 200, "{src}");
        assert_eq!(file.content_type, icon["type"].as_str().unwrap(), "{src}");
        if icon["type"] == "image/png" {
            let (w, hgt) = png_size(&file.body);
            assert_eq!(icon["sizes"], format!("{w}x{hgt}"), "{src}");
            sizes.push((w, icon["purpose"].as_str().unwrap().to_string()));
        } else {
            assert!(file.text().starts_with("<svg"), "{src}");
        }
    }
    for wanted in [(192, "any"), (512, "any"), (512, "maskable")] {
        assert!(
            sizes.contains(&(wanted.0, wanted.1.to_string())),
            "{wanted:?} in {sizes:?}"
        );
    }
    let dutch = fetch(
        &h,
        "/authenticator/manifest.webmanifest",
        &[("accept-language", "nl")],
    )
    .await;
    assert_eq!(dutch.json()["name"], Tr::for_tag("nl").get("webapp-title"));
    assert_eq!(dutch.json()["lang"], "nl");
    h.finish().await;
}

#[tokio::test]
async fn the_service_worker_keeps_every_file_the_app_needs_offline() {
    let h = Harness::start(false).await.expect("a SQLite harness");
    let worker = fetch(&h, "/authenticator/sw.js?lang=nl", &[]).await;
    assert_eq!(worker.status, 200);
    assert_eq!(worker.content_type, "text/javascript; charset=utf-8");
    assert_eq!(worker.cache, "no-cache", "a new version is seen at once");
    assert!(worker.csp.contains("worker-src 'self'"));
    let script = worker.text();
    assert!(
        !script.contains("__VERSION__") && !script.contains("__SHELL__"),
        "filled in"
    );
    assert!(script.contains("const LANG = \"nl\";"));
    let shell: Vec<String> = script
        .lines()
        .find_map(|l| l.strip_prefix("const SHELL = "))
        .map(|l| serde_json::from_str(l.trim_end_matches(';')).unwrap())
        .expect("the list of files");
    for wanted in [
        "/authenticator/",
        "/authenticator/app.js",
        "/authenticator/store.js",
        "/authenticator/protocol.js",
        "/authenticator/totp.js",
        "/authenticator/browser_name.js",
        "/authenticator/messages.json?lang=nl",
    ] {
        assert!(shell.iter().any(|s| s == wanted), "{wanted} in {shell:?}");
    }
    // Each file it keeps is there, and each module the scripts import is among them.
    for path in &shell {
        let got = fetch(&h, path, &[]).await;
        assert_eq!(got.status, 200, "{path}");
        if path.ends_with(".js") {
            assert_eq!(got.content_type, "text/javascript; charset=utf-8", "{path}");
            for import in got.text().split("from './").skip(1) {
                let name = import.split('\'').next().unwrap();
                let wanted = format!("/authenticator/{name}");
                assert!(
                    shell.contains(&wanted),
                    "{path} imports {wanted}, not kept offline"
                );
            }
        }
    }
    assert!(
        shell
            .iter()
            .any(|s| s.starts_with("/static/tessera.css?v="))
    );
    // The version follows the files: the page names the same one.
    let page = fetch(&h, "/authenticator/", &[]).await.text();
    let version = script
        .lines()
        .find_map(|l| l.strip_prefix("const VERSION = \""))
        .map(|l| l.trim_end_matches("\";").to_string())
        .unwrap();
    assert_eq!(version.len(), 16);
    assert!(page.contains(&format!("data-version=\"{version}\"")));

    let missing = fetch(&h, "/authenticator/nothing.js", &[]).await;
    assert_eq!(missing.status, 404);
    h.finish().await;
}

#[tokio::test]
async fn the_scripts_words_come_from_the_catalog_in_both_languages() {
    let h = Harness::start(false).await.expect("a SQLite harness");
    let keys: Vec<String> = include_str!("../../locales/en/authenticator_web.ftl")
        .lines()
        .filter_map(|l| l.split_once(" ="))
        .map(|(k, _)| k.trim().to_string())
        .filter(|k| k.starts_with("webapp-js-"))
        .collect();
    assert!(keys.len() > 20, "{keys:?}");
    for lang in ["en", "nl"] {
        let tr = Tr::for_tag(lang);
        let got = fetch(
            &h,
            &format!("/authenticator/messages.json?lang={lang}"),
            &[],
        )
        .await;
        assert_eq!(got.status, 200);
        assert_eq!(got.content_type, "application/json; charset=utf-8");
        assert!(got.cache.contains("max-age="), "cacheable: {}", got.cache);
        let words = got.json();
        assert_eq!(words["lang"], lang);
        for key in &keys {
            let short = key.trim_start_matches("webapp-js-");
            let text = words[short]
                .as_str()
                .unwrap_or_else(|| panic!("{short} in {lang}"));
            assert!(!text.is_empty() && text != key, "{lang} {key}: {text}");
            // Arguments stay as places for the script to fill.
            if !text.contains('$') {
                assert_eq!(text, tr.get(key), "{lang} {key}");
            }
        }
        assert_eq!(words["push-off"], tr.get("webapp-js-push-off"));
    }
    let (en, nl) = (
        fetch(&h, "/authenticator/messages.json?lang=en", &[])
            .await
            .json(),
        fetch(
            &h,
            "/authenticator/messages.json",
            &[("accept-language", "nl")],
        )
        .await
        .json(),
    );
    assert_ne!(en["approved"], nl["approved"]);
    assert_eq!(nl["lang"], "nl");
    assert!(
        nl["from"].as_str().unwrap().contains("$app")
            && nl["from"].as_str().unwrap().contains("$browser"),
        "{}",
        nl["from"]
    );
    h.finish().await;
}

/// Over plain http on a real host name, browsers keep WebCrypto, service workers and push
/// from the page: the app says why it cannot work, and what to ask for.
#[tokio::test]
async fn the_app_says_when_the_server_needs_an_https_address() {
    let h = Harness::start_with(false, |c| c.public_url = "http://mfa.example.org".into())
        .await
        .expect("a SQLite harness");
    for (lang, tr) in [("en", Tr::english()), ("nl", Tr::for_tag("nl"))] {
        let page = fetch(&h, "/authenticator/", &[("accept-language", lang)]).await;
        assert_eq!(page.status, 200);
        assert!(
            page.words().contains(&tr.get("webapp-insecure")),
            "{}",
            page.text()
        );
    }
    h.finish().await;
}
