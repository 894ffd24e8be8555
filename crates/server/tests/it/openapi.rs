//! The OpenAPI document is committed (`docs/openapi.json`), so an API change shows in review.

use crate::common::Harness;
use serde_json::Value;
use std::path::PathBuf;

const UPDATE: &str = "TESSERA_UPDATE_OPENAPI";

#[tokio::test]
async fn the_served_openapi_document_is_the_committed_one() {
    let h = Harness::start(false).await.expect("a SQLite harness");
    let (status, served) = h.get(&h.client(), "/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    if std::env::var(UPDATE).as_deref() == Ok("1") {
        let text = serde_json::to_string_pretty(&served).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
        return;
    }
    let committed: Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null);
    if let Some(at) = first_difference(&committed, &served, String::new()) {
        panic!(
            "docs/openapi.json is not the document served at /api/v1/openapi.json (first \
             difference at `{at}`). If the API change is intended, run\n  \
             {UPDATE}=1 cargo test -p tessera-server --test it openapi\nand commit \
             docs/openapi.json with it."
        );
    }
}

/// The JSON pointer of the first place where the two documents differ.
fn first_difference(committed: &Value, served: &Value, at: String) -> Option<String> {
    match (committed, served) {
        (Value::Object(a), Value::Object(b)) => {
            let keys = a.keys().chain(b.keys().filter(|k| !a.contains_key(*k)));
            keys.map(|k| {
                let pointer = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => first_difference(x, y, pointer),
                    _ => Some(pointer),
                }
            })
            .find_map(|d| d)
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, format!("{at}/{i}"))),
        _ if committed == served => None,
        _ => Some(if at.is_empty() { "/".into() } else { at }),
    }
}

#[test]
fn a_difference_is_named_by_its_pointer() {
    let committed = serde_json::json!({"paths": {"/a/b": {"get": 1}}, "x": [1, 2]});
    assert_eq!(
        first_difference(&committed, &committed, String::new()),
        None
    );
    let served = serde_json::json!({"paths": {"/a/b": {"get": 2}}, "x": [1, 2]});
    assert_eq!(
        first_difference(&committed, &served, String::new()).as_deref(),
        Some("/paths/~1a~1b/get")
    );
    let served = serde_json::json!({"paths": {"/a/b": {"get": 1}}, "x": [1, 2], "y": 0});
    assert_eq!(
        first_difference(&committed, &served, String::new()).as_deref(),
        Some("/y")
    );
    assert_eq!(
        first_difference(&Value::Null, &served, String::new()).as_deref(),
        Some("/")
    );
}
