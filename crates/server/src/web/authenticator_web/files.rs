//! The app's files, compiled into the binary: its scripts, its stylesheet and its icons, and
//! the service worker with its version and the list of files it keeps for offline use.

use super::SCOPE;

const JS: &str = "text/javascript; charset=utf-8";

/// One of the app's files in static/authenticator/: name, body, content type.
macro_rules! file {
    ($name:literal, $kind:expr) => {
        (
            $name,
            include_bytes!(concat!("../../../static/authenticator/", $name)),
            $kind,
        )
    };
}

/// Name, body, content type. The PNG icons are drawn by scripts/authenticator_icons.py.
const FILES: [(&str, &[u8], &str); 16] = [
    file!("app.js", JS),
    file!("state.js", JS),
    file!("screens.js", JS),
    file!("accounts.js", JS),
    file!("requests.js", JS),
    file!("push.js", JS),
    file!("store.js", JS),
    file!("protocol.js", JS),
    file!("totp.js", JS),
    file!("activation.js", JS),
    file!("browser_name.js", JS),
    file!("app.css", "text/css; charset=utf-8"),
    // The site's icon, as the app's scalable one.
    (
        "icon.svg",
        include_bytes!("../../../static/favicon.svg"),
        "image/svg+xml",
    ),
    file!("icon-192.png", "image/png"),
    file!("icon-512.png", "image/png"),
    file!("icon-maskable-512.png", "image/png"),
];

const SERVICE_WORKER: &str = include_str!("../../../static/authenticator/sw.js");
const CATALOG_EN: &str = include_str!("../../../locales/en/authenticator_web.ftl");
const CATALOG_NL: &str = include_str!("../../../locales/nl/authenticator_web.ftl");
const PAGE: &str = include_str!("../../../templates/authenticator_web.html");

/// A file of the app, with its content type.
pub fn find(name: &str) -> Option<(&'static [u8], &'static str)> {
    FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, body, kind)| (*body, *kind))
}

/// A hash of everything the app is made of: a new one makes a new service worker, which
/// fetches the new files and drops the old cache.
pub fn version() -> String {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(compute_version).clone()
}

fn compute_version() -> String {
    let mut hash = Fnv::new();
    for (name, body, _) in FILES {
        hash.add(name.as_bytes());
        hash.add(body);
    }
    for text in [SERVICE_WORKER, CATALOG_EN, CATALOG_NL, PAGE] {
        hash.add(text.as_bytes());
    }
    hash.add(&super::super::assets::CSS_HASH.to_le_bytes());
    format!("{:016x}", hash.0)
}

/// The service worker for the app in `lang`: its version, its language (for the words of
/// its notifications) and the files it keeps.
pub fn service_worker(lang: &str) -> String {
    let mut shell: Vec<String> = vec![SCOPE.into()];
    shell.extend(
        FILES
            .iter()
            .filter(|(name, _, _)| !name.starts_with("icon-512") && !name.contains("maskable"))
            .map(|(name, _, _)| format!("{SCOPE}{name}")),
    );
    shell.push(format!(
        "/static/tessera.css?v={:016x}",
        super::super::assets::CSS_HASH
    ));
    shell.push(format!("{SCOPE}messages.json?lang={lang}"));
    shell.push(format!("{SCOPE}manifest.webmanifest?lang={lang}"));
    let shell = serde_json::to_string(&shell).unwrap_or_else(|_| "[]".into());
    SERVICE_WORKER
        .replace("\"__VERSION__\"", &format!("\"{}\"", version()))
        .replace("\"__LANG__\"", &format!("\"{lang}\""))
        .replace("[\"__SHELL__\"]", &shell)
}

/// FNV-1a, as for the site's static files.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn add(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}
