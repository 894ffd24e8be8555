//! Translations: Fluent catalogs compiled into the binary (`locales/{en,nl}/*.ftl`), and the
//! language of a request: the person's choice (cookie, then account), else `Accept-Language`.

use axum::extract::FromRequestParts;
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE};
use axum::http::request::Parts;
use axum_extra::extract::cookie::Cookie;
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};
use std::borrow::Cow;
use std::collections::HashMap;
use std::convert::Infallible;
use tessera_core::RequestLanguage;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Without this, Fluent wraps arguments in U+2068/U+2069, which end up in the HTML.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The languages with complete catalogs, in the order the language menu shows them.
pub const LANGUAGES: [(&str, &str); 2] = [("en", "English"), ("nl", "Nederlands")];

/// The cookie that keeps a person's language choice before (and besides) sign-in.
pub const LANG_COOKIE: &str = "tessera_lang";

/// A request's language, with lookups into its catalog.
#[derive(Debug, Clone)]
pub struct Tr {
    lang: LanguageIdentifier,
    code: &'static str,
}

impl Tr {
    /// The catalog for a tag like `nl`, `nl-BE` or `en-US`; English when unknown.
    pub fn for_tag(tag: &str) -> Self {
        let primary = tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let code = LANGUAGES
            .iter()
            .map(|(c, _)| *c)
            .find(|c| *c == primary)
            .unwrap_or("en");
        let lang = code.parse().unwrap_or_default();
        Self { lang, code }
    }

    pub fn english() -> Self {
        Self::for_tag("en")
    }

    /// The language code (`en`, `nl`), for `<html lang>`.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The message `key`.
    pub fn get(&self, key: &str) -> String {
        LOCALES.lookup(&self.lang, key)
    }

    /// The message `key` with one argument.
    pub fn with(&self, key: &str, name: &str, value: impl ToString) -> String {
        self.args(key, &[(name, value.to_string())])
    }

    /// The message `key` with arguments.
    pub fn args(&self, key: &str, args: &[(&str, String)]) -> String {
        let map: HashMap<Cow<'static, str>, FluentValue<'_>> = args
            .iter()
            .map(|(k, v)| (Cow::Owned(k.to_string()), FluentValue::from(v.clone())))
            .collect();
        LOCALES.lookup_with_args(&self.lang, key, &map)
    }

    /// Whether the catalog has `key` (for tests of completeness).
    pub fn has(&self, key: &str) -> bool {
        LOCALES.try_lookup(&self.lang, key).is_some()
    }

    /// The language from a `tessera_lang` cookie, else the best `Accept-Language` entry.
    pub fn from_parts(parts: &Parts) -> Self {
        if let Some(choice) = cookie_value(parts, LANG_COOKIE) {
            return Self::for_tag(&choice);
        }
        Self::for_tag(&best_accept_language(
            parts
                .headers
                .get(ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
        ))
    }
}

/// The language a request asks for, for the account's messages: a choice made in this
/// browser's language menu, else its `Accept-Language`; `None` when it says neither.
pub fn request_language(parts: &Parts) -> Option<RequestLanguage> {
    if let Some(choice) = cookie_value(parts, LANG_COOKIE)
        && let Some((code, _)) = LANGUAGES.iter().find(|(c, _)| *c == choice)
    {
        return Some(RequestLanguage::Chosen((*code).to_string()));
    }
    let header = parts.headers.get(ACCEPT_LANGUAGE)?.to_str().ok()?;
    let code = Tr::for_tag(&best_accept_language(header)).code();
    Some(RequestLanguage::Browser(code.to_string()))
}

/// The highest-weighted language in an `Accept-Language` header that we have, else `en`.
pub fn best_accept_language(header: &str) -> String {
    let mut best: Option<(f32, &str)> = None;
    for item in header.split(',') {
        let mut parts = item.trim().split(';');
        let tag = parts.next().unwrap_or("").trim();
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or("").to_ascii_lowercase();
        if LANGUAGES.iter().any(|(c, _)| *c == primary) && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, tag));
        }
    }
    best.map(|(_, t)| t.to_string())
        .unwrap_or_else(|| "en".into())
}

/// A cookie's value from the request's `Cookie` headers, as sent (not percent-decoded); the
/// first of several with the same name, as the most specific path comes first.
pub fn cookie_value(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

impl<S: Send + Sync> FromRequestParts<S> for Tr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Tr::from_parts(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_language_we_have() {
        assert_eq!(best_accept_language("nl-NL,nl;q=0.9,en;q=0.8"), "nl-NL");
        assert_eq!(best_accept_language("fr-FR,en;q=0.5,nl;q=0.7"), "nl");
        assert_eq!(best_accept_language("de"), "en");
        assert_eq!(Tr::for_tag("nl-BE").code(), "nl");
    }

    #[test]
    fn a_cookie_is_read_as_sent_and_the_first_of_a_name_wins() {
        let request = axum::http::Request::builder()
            .header(COOKIE, "a=1; tessera_lang=nl; tessera_lang=en")
            .header(COOKIE, "b=x%20y; broken; c=\"q\"")
            .body(())
            .unwrap();
        let (parts, ()) = request.into_parts();
        assert_eq!(cookie_value(&parts, LANG_COOKIE).as_deref(), Some("nl"));
        assert_eq!(cookie_value(&parts, "b").as_deref(), Some("x%20y"));
        assert_eq!(cookie_value(&parts, "c").as_deref(), Some("\"q\""));
        assert_eq!(cookie_value(&parts, "broken"), None);
        assert_eq!(cookie_value(&parts, "d"), None);
    }

    /// Every message in the English catalogs exists in Dutch too (each area may keep its own
    /// `.ftl` file; all of a language's files load together).
    #[test]
    fn dutch_catalog_is_complete() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
        let keys = |lang: &str| -> Vec<String> {
            let mut keys = Vec::new();
            for entry in std::fs::read_dir(root.join(lang))
                .into_iter()
                .flatten()
                .flatten()
            {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                keys.extend(
                    text.lines()
                        .filter(|l| !l.starts_with(['#', ' ', '\t', '.', '-']) && l.contains(" ="))
                        .filter_map(|l| l.split(" =").next())
                        .map(str::to_string),
                );
            }
            keys
        };
        let (en, nl) = (keys("en"), keys("nl"));
        assert!(en.len() > 20, "the English catalog was read");
        let missing: Vec<&String> = en.iter().filter(|k| !nl.contains(k)).collect();
        assert!(missing.is_empty(), "missing in nl: {missing:?}");
        let extra: Vec<&String> = nl.iter().filter(|k| !en.contains(k)).collect();
        assert!(extra.is_empty(), "in nl but not in en: {extra:?}");
        assert_eq!(
            Tr::for_tag("nl").get("error-invalid_code"),
            "Deze code klopt niet. Probeer het opnieuw."
        );
    }

    /// Every audit action has its words on the activity pages, in both languages: the
    /// actions are read from core's `AuditAction::as_str`.
    #[test]
    fn every_audit_action_is_in_the_catalogs() {
        let source = include_str!("../../core/src/audit.rs");
        let actions: Vec<&str> = source
            .lines()
            .filter(|l| l.trim_start().starts_with("AuditAction::") && l.contains("=> \""))
            .filter_map(|l| l.split('"').nth(1))
            .collect();
        assert!(actions.len() > 40, "the actions were read");
        for lang in ["en", "nl"] {
            let tr = Tr::for_tag(lang);
            let missing: Vec<&&str> = actions
                .iter()
                .filter(|a| !tr.has(&format!("action-{a}")))
                .collect();
            assert!(missing.is_empty(), "no words in {lang} for {missing:?}");
        }
    }

    /// The Dutch speaks to the person in one register, informal "je/jouw", and says
    /// "aanmelden", never "inloggen": the formal "u/uw" and "log in" read as another voice.
    #[test]
    fn dutch_says_je_and_aanmelden() {
        // Messages where a matched word is legitimately something else.
        const ALLOWED: [&str; 0] = [];
        const FORMAL: [&str; 3] = ["u", "uw", "log"];
        const LOGIN: [&str; 3] = ["inlog", "uitlog", "gelogd"];
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales/nl");
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
                // A message's key is no text; a continuation line is all text.
                let (key, value) = line.split_once(" =").unwrap_or(("", line));
                if ALLOWED.contains(&key.trim()) {
                    continue;
                }
                let lower = value.to_lowercase();
                let formal = lower
                    .split(|c: char| !c.is_alphanumeric())
                    .any(|w| FORMAL.contains(&w));
                if formal || LOGIN.iter().any(|w| lower.contains(w)) {
                    found.push(line.to_string());
                }
            }
        }
        assert!(found.is_empty(), "use je/jouw and aanmelden: {found:#?}");
    }
}
