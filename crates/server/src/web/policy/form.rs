//! The policy as a form, and the form back as a policy.
//!
//! The form is drawn from the policy's JSON, so a key another area adds appears here without
//! a change: a flag is a checkbox, a number a number field, a list of kinds a set of
//! checkboxes, a list of words a comma-separated field. Each key has a label and a hint in
//! the catalog (`policy-key-<key>`, `policy-hint-<key>`; a test holds every key to it), and a
//! count its unit (`policy-unit-<key>`). Durations (`*_secs`) are typed in the unit that
//! reads best (10 minutes, not 600 seconds), chosen next to the number; a word with a fixed
//! set of values is a menu.

use crate::i18n::Tr;
use serde_json::{Map, Value};
use tessera_core::Kind;

/// The sections of the form, by key; keys not listed here go under "other".
const SECTIONS: [(&str, &[&str]); 7] = [
    (
        "sign-in",
        &[
            "two_step_required",
            "mfa_kinds",
            "registration_required",
            "registration_skips",
            "recommend_backup_method",
            "authenticator_app_url",
            "code_instead_of_notification",
            "report_blocks_account",
            "app_passwords_allowed",
            "passkey_sign_in",
            "security_key_aaguids",
        ],
    ),
    (
        "reset",
        &[
            "reset_enabled",
            "reset_kinds",
            "reset_methods_required",
            "security_questions_to_register",
            "security_questions_to_answer",
            "reset_attempts_per_account",
            "reset_attempts_per_ip",
            "reset_window_secs",
        ],
    ),
    (
        "codes",
        &[
            "code_secs",
            "code_length",
            "code_tries",
            "lockout_threshold",
            "lockout_secs",
            "phone_countries",
        ],
    ),
    (
        "sending",
        &[
            "voice_mode",
            "resend_cooldown_secs",
            "sends_per_account_hour",
            "sends_per_destination_hour",
            "sends_per_minute",
        ],
    ),
    ("push", &["push_requests_max", "push_window_secs"]),
    ("groups", &["admin_groups", "two_step_groups"]),
    (
        "sessions",
        &[
            "flow_secs",
            "step_up_window_secs",
            "session_idle_secs",
            "session_max_secs",
            "max_methods",
        ],
    ),
];

/// Words with a fixed set of values: a menu, each value labelled `policy-choice-<key>-<value>`.
pub(super) const CHOICES: [(&str, &[&str]); 1] = [("voice_mode", &["confirm", "code"])];

/// The units a duration may be typed in, largest first, with their seconds.
const UNITS: [(&str, u64); 4] = [
    ("days", 86_400),
    ("hours", 3600),
    ("minutes", 60),
    ("seconds", 1),
];

/// The field that carries a duration's unit: `code_secs` and `code_secs-unit`.
const UNIT_FIELD: &str = "-unit";

/// How a key is edited.
pub enum Input {
    Flag(bool),
    /// A count, with what it counts ("digits", "per hour").
    Number {
        value: String,
        unit: Option<String>,
    },
    /// A number of `unit`s; `units` are (unit, label, chosen). The menu of units posts as
    /// `unit_field`, and screen readers call it `unit_label`.
    Duration {
        value: String,
        units: Vec<(String, String, bool)>,
        unit_field: String,
        unit_label: String,
    },
    /// One of a fixed set: (value, label, chosen).
    Choice(Vec<(String, String, bool)>),
    /// Every kind it may hold: (kind, label, checked).
    Kinds(Vec<(String, String, bool)>),
    Words(String),
}

pub struct Field {
    pub key: String,
    pub label: String,
    pub hint: Option<String>,
    pub input: Input,
}

pub struct Section {
    pub title: String,
    pub fields: Vec<Field>,
}

pub fn label(tr: &Tr, key: &str) -> String {
    let id = format!("policy-key-{key}");
    if tr.has(&id) {
        tr.get(&id)
    } else {
        key.to_string()
    }
}

fn optional(tr: &Tr, id: &str) -> Option<String> {
    tr.has(id).then(|| tr.get(id))
}

fn is_duration(key: &str) -> bool {
    key.ends_with("_secs")
}

/// A duration in the largest unit that holds it whole: 600 → (10, "minutes").
fn whole_unit(secs: u64) -> (u64, &'static str) {
    UNITS
        .iter()
        .find(|(_, size)| secs >= *size && secs.is_multiple_of(*size))
        .map_or((secs, "seconds"), |(unit, size)| (secs / size, *unit))
}

/// A duration in words: "10 minutes", "1 hour", "90 seconds".
pub fn duration_text(secs: u64, tr: &Tr) -> String {
    let (n, unit) = whole_unit(secs);
    if n == 1 {
        tr.get(&format!("policy-duration-{}", unit.trim_end_matches('s')))
    } else {
        tr.with(&format!("policy-duration-{unit}"), "n", n)
    }
}

fn field(tr: &Tr, key: &str, value: &Value) -> Field {
    let choices = CHOICES.iter().find(|(k, _)| *k == key).map(|(_, c)| *c);
    let input = match (value, choices) {
        (Value::String(s), Some(choices)) => {
            // A value the menu doesn't know yet stays chosen, so saving keeps it.
            let unknown = (!choices.contains(&s.as_str())).then_some(s.as_str());
            Input::Choice(
                choices
                    .iter()
                    .chain(unknown.iter())
                    .map(|c| {
                        let id = format!("policy-choice-{key}-{c}");
                        let label = optional(tr, &id).unwrap_or_else(|| c.to_string());
                        (c.to_string(), label, s == c)
                    })
                    .collect(),
            )
        }
        (Value::Bool(b), _) => Input::Flag(*b),
        (Value::Number(n), _) if is_duration(key) => {
            let (value, chosen) = whole_unit(n.as_u64().unwrap_or_default());
            Input::Duration {
                value: value.to_string(),
                units: UNITS
                    .iter()
                    .map(|(unit, _)| {
                        let label = tr.get(&format!("policy-unit-{unit}"));
                        (unit.to_string(), label, *unit == chosen)
                    })
                    .collect(),
                unit_field: format!("{key}{UNIT_FIELD}"),
                unit_label: tr.with("policy-unit-label", "setting", label(tr, key)),
            }
        }
        (Value::Number(n), _) => Input::Number {
            value: n.to_string(),
            unit: optional(tr, &format!("policy-unit-{key}")),
        },
        (Value::Array(items), _) if key.ends_with("_kinds") => {
            let held: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            let kinds = Kind::ALL
                .into_iter()
                .filter(|k| key != "mfa_kinds" || k.is_sign_in_factor())
                .map(|k| {
                    (
                        k.as_str().to_string(),
                        tr.get(&format!("kind-{}", k.as_str())),
                        held.contains(&k.as_str()),
                    )
                })
                .collect();
            Input::Kinds(kinds)
        }
        (Value::Array(items), _) => Input::Words(
            items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (Value::String(s), None) => Input::Words(s.clone()),
        (other, _) => Input::Words(other.to_string()),
    };
    Field {
        key: key.to_string(),
        label: label(tr, key),
        hint: optional(tr, &format!("policy-hint-{key}")),
        input,
    }
}

pub fn sections(tr: &Tr, policy: &Map<String, Value>) -> Vec<Section> {
    let mut out: Vec<Section> = SECTIONS
        .iter()
        .map(|(name, keys)| Section {
            title: tr.get(&format!("policy-section-{name}")),
            fields: keys
                .iter()
                .filter_map(|k| policy.get(*k).map(|v| field(tr, k, v)))
                .collect(),
        })
        .collect();
    let other: Vec<Field> = policy
        .iter()
        .filter(|(k, _)| !SECTIONS.iter().any(|(_, keys)| keys.contains(&k.as_str())))
        .map(|(k, v)| field(tr, k, v))
        .collect();
    if !other.is_empty() {
        out.push(Section {
            title: tr.get("policy-section-other"),
            fields: other,
        });
    }
    out
}

/// The policy as the form describes it: every key of `current`, from the posted pairs (a
/// missing checkbox is off, a list without ticks is empty, a missing field keeps its value,
/// a duration is its number times its unit). `Err` names a key whose value is not a number.
pub fn from_form(
    current: &Map<String, Value>,
    pairs: &[(String, String)],
) -> Result<Map<String, Value>, String> {
    fn values<'a>(pairs: &'a [(String, String)], key: &'a str) -> impl Iterator<Item = &'a str> {
        pairs
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.trim())
    }
    let mut next = Map::new();
    for (key, old) in current {
        let value = match old {
            Value::Bool(_) => Value::Bool(values(pairs, key).any(|v| v == "true")),
            Value::Number(_) => match values(pairs, key).next() {
                Some(text) => {
                    let n = text.parse::<u64>().map_err(|_| key.clone())?;
                    let unit_field = format!("{key}{UNIT_FIELD}");
                    let size = match values(pairs, &unit_field).next() {
                        Some(unit) => UNITS
                            .iter()
                            .find(|(u, _)| *u == unit)
                            .map(|(_, size)| *size)
                            .ok_or_else(|| key.clone())?,
                        None => 1,
                    };
                    Value::from(n.checked_mul(size).ok_or_else(|| key.clone())?)
                }
                None => old.clone(),
            },
            Value::Array(_) if key.ends_with("_kinds") => Value::Array(
                values(pairs, key)
                    .map(|v| Value::String(v.to_string()))
                    .collect(),
            ),
            Value::Array(_) => Value::Array(
                values(pairs, key)
                    .flat_map(|v| v.split(','))
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(|v| Value::String(v.to_string()))
                    .collect(),
            ),
            Value::String(_) => values(pairs, key)
                .next()
                .map_or_else(|| old.clone(), |v| Value::String(v.to_string())),
            other => other.clone(),
        };
        next.insert(key.clone(), value);
    }
    Ok(next)
}

/// The validator's reason for `key` in the admin's language, a duration's range in its
/// units ("choose from 1 minute to 1 hour", not "60 to 3600").
pub fn problem(key: &str, reason: &str, tr: &Tr) -> String {
    let range = reason
        .strip_prefix("must be ")
        .and_then(|r| r.split_once(" to "))
        .and_then(|(lo, hi)| Some((lo.parse::<u64>().ok()?, hi.parse::<u64>().ok()?)));
    match range {
        Some((lo, hi)) if is_duration(key) => tr.args(
            "policy-problem-range",
            &[
                ("min", duration_text(lo, tr)),
                ("max", duration_text(hi, tr)),
            ],
        ),
        _ => crate::api::policy::policy_problem(reason, tr),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::policy::Policy;

    fn as_map(policy: &Policy) -> Map<String, Value> {
        match serde_json::to_value(policy) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_form_maps_back_onto_every_key() {
        let current = as_map(&Policy::default());
        let mut pairs = pairs(&[
            ("reset_kinds", "email"),
            ("reset_kinds", "security_questions"),
            ("reset_methods_required", "2"),
            ("phone_countries", "NL, BE"),
            ("reset_enabled", "true"),
        ]);
        for (k, v) in &current {
            if let Value::Number(n) = v
                && k != "reset_methods_required"
            {
                pairs.push((k.clone(), n.to_string()));
            }
        }
        let next = from_form(&current, &pairs).unwrap_or_default();
        let policy: Result<Policy, _> = serde_json::from_value(Value::Object(next));
        assert!(policy.is_ok(), "{policy:?}");
        let policy = policy.unwrap_or_default();
        assert_eq!(
            policy.reset_kinds,
            vec![Kind::Email, Kind::SecurityQuestions]
        );
        assert_eq!(policy.reset_methods_required, 2);
        assert_eq!(
            policy.phone_countries,
            vec!["NL".to_string(), "BE".to_string()]
        );
        assert!(!policy.registration_required, "an unchecked box is off");
        assert!(policy.mfa_kinds.is_empty(), "no kind ticked");
    }

    #[test]
    fn a_number_that_is_not_one_is_named() {
        let current = as_map(&Policy::default());
        let pairs = pairs(&[("lockout_threshold", "ten")]);
        assert!(from_form(&current, &pairs).is_err());
        let pairs = pairs_with_unit("lockout_secs", "15", "fortnights");
        assert_eq!(from_form(&current, &pairs), Err("lockout_secs".into()));
    }

    fn pairs_with_unit(key: &str, n: &str, unit: &str) -> Vec<(String, String)> {
        vec![
            (key.to_string(), n.to_string()),
            (format!("{key}{UNIT_FIELD}"), unit.to_string()),
        ]
    }

    #[test]
    fn durations_are_shown_and_typed_in_the_unit_that_reads_best() {
        assert_eq!(whole_unit(600), (10, "minutes"));
        assert_eq!(whole_unit(90), (90, "seconds"));
        assert_eq!(whole_unit(43_200), (12, "hours"));
        assert_eq!(whole_unit(86_400), (1, "days"));
        assert_eq!(whole_unit(0), (0, "seconds"));
        let tr = Tr::english();
        assert_eq!(duration_text(3600, &tr), "1 hour");
        assert_eq!(duration_text(900, &tr), "15 minutes");
        assert_eq!(duration_text(10, &tr), "10 seconds");
        assert_eq!(duration_text(86_400, &Tr::for_tag("nl")), "1 dag");
        let current = as_map(&Policy::default());
        let next = from_form(&current, &pairs_with_unit("lockout_secs", "15", "minutes"));
        assert_eq!(next.unwrap_or_default()["lockout_secs"], 900);
        assert_eq!(
            problem("code_secs", "must be 60 to 3600", &tr),
            "choose from 1 minute to 1 hour."
        );
        assert_eq!(
            problem("code_length", "must be 6 to 8", &tr),
            "choose from 6 to 8."
        );
    }

    /// Every setting reads as words in both languages: a label, a hint, a unit for a count,
    /// a label for each choice; never the raw key.
    #[test]
    fn every_setting_has_a_label_a_hint_and_a_unit() {
        let policy = as_map(&Policy::default());
        for tr in [Tr::english(), Tr::for_tag("nl")] {
            let mut missing = Vec::new();
            for (key, value) in &policy {
                let mut needs = vec![format!("policy-key-{key}"), format!("policy-hint-{key}")];
                if value.is_number() && !is_duration(key) {
                    needs.push(format!("policy-unit-{key}"));
                }
                if let Some((_, choices)) = CHOICES.iter().find(|(k, _)| k == key) {
                    needs.extend(choices.iter().map(|c| format!("policy-choice-{key}-{c}")));
                }
                missing.extend(needs.into_iter().filter(|id| !tr.has(id)));
            }
            let titles = SECTIONS
                .iter()
                .map(|(name, _)| format!("policy-section-{name}"));
            missing.extend(titles.filter(|id| !tr.has(id)));
            assert!(missing.is_empty(), "{}: missing {missing:?}", tr.code());
        }
    }

    /// Each choice the menu offers is one the policy accepts.
    #[test]
    fn every_choice_is_a_value_the_policy_takes() {
        for (key, choices) in CHOICES {
            for choice in choices {
                let mut map = as_map(&Policy::default());
                map.insert(key.to_string(), Value::String(choice.to_string()));
                let policy: Result<Policy, _> = serde_json::from_value(Value::Object(map));
                assert!(policy.is_ok(), "{key} = {choice}: {policy:?}");
            }
        }
    }
}
