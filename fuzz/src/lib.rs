//! The fuzz targets, as plain functions: `fuzz_targets/*.rs` hand them libFuzzer's input,
//! and `tests/corpus.rs` runs them over the committed seed corpus on stable Rust. Each one
//! feeds outside input to a parser and checks what must hold for any input: no panic, and
//! where a parser normalizes, that its output is a fixed point.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;
use tessera_core::account::{normalize_username, validate_display_name, validate_email};
use tessera_core::method::{authenticator_app, normalize_code, phone};
use tessera_core::{KeyRing, OsRandom, Policy, import, secret};

/// Codes, usernames, emails, names, activation codes and URIs, phone numbers, Base32
/// secrets, Accept-Language headers: what people type or scan.
pub fn typed_input(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(code) = normalize_code(text) {
        assert!((6..=8).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(normalize_code(&code).as_deref(), Some(code.as_str()));
    }
    if let Ok(name) = normalize_username(text) {
        assert_eq!(
            normalize_username(&name).ok().as_deref(),
            Some(name.as_str())
        );
    }
    if let Ok(email) = validate_email(text) {
        assert_eq!(validate_email(&email).ok().as_deref(), Some(email.as_str()));
    }
    let _ = validate_display_name(text);
    if let Some(code) = authenticator_app::normalize_activation_code(text) {
        assert_eq!(
            authenticator_app::normalize_activation_code(&code).as_deref(),
            Some(code.as_str())
        );
    }
    if let Some((url, code)) = authenticator_app::parse_activation_uri(text) {
        let again = authenticator_app::parse_activation_uri(&authenticator_app::activation_uri(
            &url, &code,
        ));
        assert_eq!(
            again,
            Some((url, code)),
            "an activation URI must round-trip"
        );
    }
    let (region, number) = text.split_once('|').unwrap_or(("NL", text));
    let _ = phone::parse_number(region, number);
    let _ = import::decode_base32(text);
    let _ = tessera_server::i18n::best_accept_language(text);
}

/// `tessera policy set KEY=VALUE`: whatever it accepts is a valid policy that survives the
/// trip through the store's JSON.
pub fn policy_set(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (key, value) = text.split_once('=').unwrap_or((text, ""));
    let mut policy = Policy::default();
    if policy.set(key, value).is_ok() {
        assert!(policy.validate().is_ok());
        let json = serde_json::to_string(&policy).unwrap();
        let back: Policy = serde_json::from_str(&json).unwrap();
        assert_eq!(back, policy);
    } else {
        assert_eq!(
            policy,
            Policy::default(),
            "a refused change changes nothing"
        );
    }
}

/// The master key file, and sealed values as read from the database.
pub fn key_file(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(ring) = KeyRing::parse(text)
    {
        let again = KeyRing::parse(&ring.to_file_text()).unwrap();
        assert_eq!(again.current_id(), ring.current_id());
    }
    static RING: OnceLock<KeyRing> = OnceLock::new();
    let ring = RING.get_or_init(|| KeyRing::generate(&OsRandom));
    let aad = secret::Aad {
        table: "methods",
        column: "secret",
        row: "r",
    };
    assert!(
        ring.open(data, aad).is_err(),
        "only what the ring sealed opens"
    );
}

/// Hardware token and account CSV imports.
pub fn csv_import(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = import::parse_tokens(text);
    let _ = import::parse_accounts(text);
}

mod http;
mod radius;
pub use radius::radius_packet;
pub use http::http_request;
