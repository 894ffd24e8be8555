//! The names of request fields as a person reads them. A `bad_request` keeps the API's name
//! in its `field` (`new_password`, for programs); its `message` names the field in words
//! (`the new password`, `het nieuwe wachtwoord`), from the catalog's `field-<name>`.

use crate::i18n::Tr;

/// The field's name in the request's language; the API's name if the catalogs lack one
/// (which the tests below refuse).
pub fn field_name(tr: &Tr, field: &str) -> String {
    let key = format!("field-{field}");
    if tr.has(&key) {
        tr.get(&key)
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::Path;

    /// Names that are not written where the scan below looks: the body or query string that
    /// did not parse (`error.rs`).
    const UNSCANNED: [&str; 2] = ["body", "query"];

    /// Calls that pass a field name on to `Error::bad` (`parse_id(&raw, "method_id")`); their
    /// literal arguments are field names. A new helper of that sort belongs here.
    const HELPERS: [&str; 8] = [
        "parse_id(",
        "base64(",
        "time_param(",
        "rename_field(",
        "required(",
        "invalid(",
        "read(",
        "Error::bad(",
    ];

    /// The field names written in the sources of `crate_dirs`: the literals in
    /// `Error::bad(…)` and the helpers above, and after `field: ` (a `BadRequest` or an
    /// import row's problem).
    fn fields_in_source(crate_dirs: &[&str]) -> BTreeSet<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut fields = BTreeSet::new();
        for dir in crate_dirs {
            for file in rust_files(&root.join(dir).join("src")) {
                // This file's own test text is made up.
                if file.ends_with("server/src/fields.rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&file).unwrap_or_default();
                fields.extend(fields_in(&text));
            }
        }
        fields
    }

    fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                files.extend(rust_files(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
        files
    }

    fn fields_in(text: &str) -> Vec<String> {
        let mut found = Vec::new();
        for helper in HELPERS {
            for (at, _) in text.match_indices(helper) {
                // `fs::read(` or `.read(` is another function of the same name.
                let before = text[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || "_.:".contains(c)) {
                    continue;
                }
                let args = call_arguments(&text[at + helper.len()..]);
                found.extend(literals(args).filter(|l| is_name(l)));
            }
        }
        for (at, _) in text.match_indices("field: \"") {
            let rest = &text[at + "field: \"".len()..];
            if let Some(end) = rest.find('"') {
                found.push(rest[..end].to_string());
            }
        }
        found
    }

    /// The text up to the parenthesis that closes the call.
    fn call_arguments(rest: &str) -> &str {
        let mut depth = 0usize;
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 => return &rest[..i],
                ')' => depth -= 1,
                _ => {}
            }
        }
        rest
    }

    fn literals(args: &str) -> impl Iterator<Item = String> + '_ {
        args.split('"').skip(1).step_by(2).map(str::to_string)
    }

    fn is_name(s: &str) -> bool {
        s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    }

    #[test]
    fn the_scan_finds_field_names_where_they_are_written() {
        let text = r#"
            Err(Error::bad("new_password", Problem::Banned));
            Err(Error::bad(
                "display_name",
                Problem::TooLong { max: DISPLAY_NAME_MAX },
            ));
            let id = parse_id(&req.method_id, "method_id")?;
            RowProblem::Field { field: "serial_number", problem };
            let bytes = std::fs::read("not_a_field")?;
        "#;
        let mut found = fields_in(text);
        found.sort();
        assert_eq!(
            found,
            ["display_name", "method_id", "new_password", "serial_number"]
        );
    }

    /// Every field that a `bad_request` can name is translated in English and Dutch, so that
    /// no person reads `new_password` in a message.
    #[test]
    fn every_field_has_a_name_in_every_language() {
        let mut fields = fields_in_source(&["core", "server", "cli"]);
        fields.extend(UNSCANNED.map(str::to_string));
        assert!(
            fields.contains("new_password") && fields.len() > 30,
            "the sources were read: {fields:?}"
        );
        for lang in ["en", "nl"] {
            let tr = Tr::for_tag(lang);
            let missing: Vec<&String> = fields
                .iter()
                .filter(|f| !tr.has(&format!("field-{f}")))
                .collect();
            assert!(
                missing.is_empty(),
                "add field-<name> to locales/{lang}/fields.ftl for {missing:?}"
            );
        }
    }

    #[test]
    fn messages_name_fields_in_words() {
        assert_eq!(
            field_name(&Tr::english(), "new_password"),
            "the new password"
        );
        assert_eq!(
            field_name(&Tr::for_tag("nl"), "new_password"),
            "het nieuwe wachtwoord"
        );
    }
}
