//! Every target over its committed seed corpus (and over what `cargo fuzz` has added to it):
//! the targets' checks run on stable Rust, without libFuzzer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

fn each(target: &str, f: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        f(&std::fs::read(&path).unwrap());
        n += 1;
    }
    assert!(n > 0, "{} holds no seed", dir.display());
}

#[test]
fn typed_input() {
    each("typed_input", tessera_fuzz::typed_input);
}

#[test]
fn policy_set() {
    each("policy_set", tessera_fuzz::policy_set);
}

#[test]
fn key_file() {
    each("key_file", tessera_fuzz::key_file);
}

#[test]
fn csv_import() {
    each("csv_import", tessera_fuzz::csv_import);
}

#[test]
fn http_request() {
    each("http_request", tessera_fuzz::http_request);
}

#[test]
fn radius_packet() {
    each("radius_packet", tessera_fuzz::radius_packet);
}
