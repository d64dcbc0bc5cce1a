//! Compares a real response with a seed document's example response: the same keys and the
//! same JSON types, recursively.
//!
//! The examples live in `tests/fixtures/`, copied verbatim (as JSON) from the documents in
//! `../shared/seeds/`.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// What the documents leave open, per path (`a.b[].c`, `*` for any key of a map).
#[derive(Default)]
pub struct Rules {
    /// Objects keyed by ids (metric codes): any keys, each value shaped like the example's.
    pub maps: &'static [&'static str],
    /// Where a number of the example may be null, as documented in the API reference.
    pub nullable: &'static [&'static str],
    /// Fields quotaboard adds to the document's (`a.b.c`): allowed, all others must match.
    pub added: &'static [&'static str],
}

/// The example response `name` from `tests/fixtures/`.
pub fn example(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Panics, naming the path, unless `actual` has `expected`'s structure.
///
/// The elements of an example array are merged into one template: the union of their keys,
/// where a key null in one element and set in another may be null. A value null in the
/// example may be null or a string in the response.
pub fn assert_same_shape(expected: &Value, actual: &Value, rules: &Rules) {
    let mut nullable: BTreeSet<String> = rules.nullable.iter().map(|p| p.to_string()).collect();
    let template = merged(&[expected], "", &mut nullable);
    check(&template, actual, "", rules, &nullable);
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// One template from several example values of the same place.
fn merged(values: &[&Value], path: &str, nullable: &mut BTreeSet<String>) -> Value {
    let present: Vec<&Value> = values.iter().copied().filter(|v| !v.is_null()).collect();
    if present.len() < values.len() && !present.is_empty() {
        nullable.insert(path.to_string());
    }
    match present.first() {
        None => Value::Null,
        Some(Value::Object(_)) => {
            let mut keys: Vec<&String> = Vec::new();
            for value in &present {
                for key in value.as_object().into_iter().flat_map(Map::keys) {
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
            }
            let mut object = Map::new();
            for key in keys {
                let at: Vec<&Value> = present
                    .iter()
                    .filter_map(|value| value.get(key.as_str()))
                    .collect();
                object.insert(key.clone(), merged(&at, &join(path, key), nullable));
            }
            Value::Object(object)
        }
        Some(Value::Array(_)) => {
            let elements: Vec<&Value> = present
                .iter()
                .filter_map(|value| value.as_array())
                .flatten()
                .collect();
            let element = merged(&elements, &format!("{path}[]"), nullable);
            Value::Array(if elements.is_empty() {
                Vec::new()
            } else {
                vec![element]
            })
        }
        Some(scalar) => (*scalar).clone(),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn check(template: &Value, actual: &Value, path: &str, rules: &Rules, nullable: &BTreeSet<String>) {
    let at = if path.is_empty() { "(root)" } else { path };
    match (template, actual) {
        (_, Value::Null) => assert!(
            template.is_null() || nullable.contains(path),
            "{at}: null where the document has a {}",
            type_name(template)
        ),
        (Value::Null, actual) => assert!(
            actual.is_string(),
            "{at}: the document has null, the response a {}",
            type_name(actual)
        ),
        (Value::Object(expected), Value::Object(actual)) => {
            if rules.maps.contains(&path) {
                let Some(value_template) = expected.values().next() else {
                    return;
                };
                for value in actual.values() {
                    check(value_template, value, &join(path, "*"), rules, nullable);
                }
                return;
            }
            let want: BTreeSet<&String> = expected.keys().collect();
            let have: BTreeSet<&String> = actual
                .keys()
                .filter(|key| !rules.added.contains(&join(path, key).as_str()))
                .collect();
            assert_eq!(have, want, "{at}: keys differ from the document's");
            for (key, value) in actual {
                if let Some(expected) = expected.get(key) {
                    check(expected, value, &join(path, key), rules, nullable);
                }
            }
        }
        (Value::Array(expected), Value::Array(actual)) => {
            if let Some(element) = expected.first() {
                for value in actual {
                    check(element, value, &format!("{path}[]"), rules, nullable);
                }
            }
        }
        (expected, actual) => assert_eq!(
            type_name(actual),
            type_name(expected),
            "{at}: the response's type differs from the document's ({actual})"
        ),
    }
}

#[test]
fn the_checker_catches_a_missing_key_a_wrong_type_and_an_undocumented_null() {
    use serde_json::json;
    let expected =
        json!({"total": 1, "items": [{"id": "1", "price": 1}, {"id": "2", "note": null}]});
    let rules = Rules::default();
    let good = json!({"total": 2, "items": [{"id": "9", "price": 3.5, "note": "x"}]});
    assert_same_shape(&expected, &good, &rules);
    let bad = [
        json!({"total": 2}),
        json!({"total": "2", "items": []}),
        json!({"total": 2, "items": [{"id": 9, "price": 3, "note": null}]}),
        json!({"total": 2, "items": [{"id": "9", "price": null, "note": null}]}),
        json!({"total": 2, "items": [{"id": "9", "price": 3, "note": null, "extra": 1}]}),
    ];
    for actual in bad {
        let caught = std::panic::catch_unwind(|| assert_same_shape(&expected, &actual, &rules));
        assert!(caught.is_err(), "accepted {actual}");
    }
    // A field quotaboard adds on purpose is allowed where it is declared, and only there.
    let added = Rules {
        added: &["items[].extra"],
        ..Rules::default()
    };
    let with_extra =
        json!({"total": 2, "items": [{"id": "9", "price": 3, "note": null, "extra": 1}]});
    assert_same_shape(&expected, &with_extra, &added);
    let elsewhere = json!({"total": 2, "extra": 1, "items": []});
    let caught = std::panic::catch_unwind(|| assert_same_shape(&expected, &elsewhere, &added));
    assert!(caught.is_err(), "accepted {elsewhere}");
}
