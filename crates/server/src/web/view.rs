//! What pages show of the domain's values: methods, times, browsers, in the page's language.

use crate::i18n::Tr;
use tessera_core::{Kind, Method};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// A moment, for a `<time>` element: machine-readable and as shown.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub iso: String,
    pub text: String,
}

impl Stamp {
    pub fn new(at: OffsetDateTime) -> Self {
        let at = at.to_offset(time::UtcOffset::UTC);
        // Year-month-day reads the same in every language we have, and cannot be misread
        // as month/day.
        let text = at
            .format(format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .unwrap_or_default();
        Stamp {
            iso: at.format(&Rfc3339).unwrap_or_default(),
            text,
        }
    }
}

/// One method as lists show it.
#[derive(Debug, Clone)]
pub struct MethodView {
    pub id: String,
    /// The kind, translated.
    pub kind: String,
    /// The name the person gave it.
    pub name: Option<String>,
    /// The name, else the kind: how sentences refer to it.
    pub label: String,
    pub active: bool,
    /// For password reset alone (email, security questions): never a sign-in method.
    pub reset_only: bool,
    pub is_default: bool,
    pub created: Stamp,
    pub last_used: Option<Stamp>,
}

impl MethodView {
    pub fn new(method: &Method, default: Option<tessera_core::MethodId>, tr: &Tr) -> Self {
        let kind = kind_name(method.kind, tr);
        // A phone or address shows masked (`+31 6•••••78`) where a name would be.
        let name = method
            .name
            .clone()
            .or_else(|| tessera_core::method::detail(method));
        MethodView {
            id: method.id.to_string(),
            label: label(&kind, name.as_deref()),
            kind,
            name,
            active: method.is_active(),
            reset_only: !method.kind.is_sign_in_factor(),
            is_default: default == Some(method.id),
            created: Stamp::new(method.created_at),
            last_used: method.last_used_at.map(Stamp::new),
        }
    }
}

/// How sentences name a method: by its kind, with the person's name for it or its masked
/// detail ("Authenticator app (Bob phone)", "Phone (+31 6•••••78)"), so "Default sign-in
/// method: …" and "Open … and enter the number" say what kind of thing to reach for.
fn label(kind: &str, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{kind} ({name})"),
        None => kind.to_string(),
    }
}

/// The kind's name in the page's language; a kind added before its translation still has a
/// name.
pub fn kind_name(kind: Kind, tr: &Tr) -> String {
    let key = format!("kind-{}", kind.as_str());
    if tr.has(&key) {
        tr.get(&key)
    } else {
        kind.english_name().to_string()
    }
}

/// The path segment of a kind's pages (`authenticator_code` → `authenticator-code`).
pub fn kind_slug(kind: Kind) -> String {
    kind.as_str().replace('_', "-")
}

/// "Firefox on Linux" from a user agent; people recognize their browser, not the string.
pub fn browser(user_agent: Option<&str>, tr: &Tr) -> String {
    let Some(ua) = user_agent.filter(|ua| !ua.trim().is_empty()) else {
        return tr.get("activity-unknown");
    };
    // Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari", and
    // Android also says "Linux".
    const BROWSERS: [(&str, &str); 7] = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
        ("reqwest", "reqwest"),
    ];
    const SYSTEMS: [(&str, &str); 7] = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ];
    let browser = BROWSERS
        .iter()
        .find(|(needle, _)| ua.contains(needle))
        .map(|(_, name)| *name);
    let system = SYSTEMS
        .iter()
        .find(|(needle, _)| ua.contains(needle))
        .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => tr.args(
            "activity-browser-on",
            &[("browser", b.into()), ("system", s.into())],
        ),
        (Some(b), None) => b.to_string(),
        _ => {
            let short: String = ua.chars().take(60).collect();
            if short.len() < ua.len() {
                format!("{short}…")
            } else {
                short
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_are_named_for_people() {
        let tr = Tr::english();
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";
        assert_eq!(browser(Some(firefox), &tr), "Firefox on Linux");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                    Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0";
        assert_eq!(browser(Some(edge), &tr), "Edge on Windows");
        let android =
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/130.0 Mobile Safari/537.36";
        assert_eq!(browser(Some(android), &tr), "Chrome on Android");
        assert_eq!(browser(Some("TesseraTest/1"), &tr), "TesseraTest/1");
        assert_eq!(browser(None, &tr), tr.get("activity-unknown"));
    }

    #[test]
    fn stamps_are_utc() {
        let at = time::macros::datetime!(2026-11-21 15:04:05 +01:00);
        let s = Stamp::new(at);
        assert_eq!(s.text, "2026-11-21 14:04 UTC");
        assert_eq!(s.iso, "2026-11-21T14:04:05Z");
    }
}
