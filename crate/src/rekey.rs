//! The policy of a `changeKey` step over records: every record must hold a valid key at the new
//! key path, and no two the same one; the first record that does not is named. The in-memory
//! backend evaluates keys of JSON records here; the IndexedDB adapter evaluates them with
//! IndexedDB's own comparison, in the same order (the old key's), with the same messages.

use crate::key_order::{KeyRef, Units};
use crate::schema::KeyPath;
use serde_json::Value;
use std::cmp::Ordering;

/// Why a record cannot move to the store with the new key path.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyProblem {
    /// No value at the key path (or at one part of a compound one).
    Missing,
    /// A value that is not an IndexedDB key (described).
    NotAKey(String),
    /// The same key as an earlier record (described).
    Duplicate(String),
}

/// Longest description of a value a message quotes.
const QUOTE_MAX: usize = 80;

/// A value's description, shortened for a message.
pub fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// The reason a `changeKey` step fails at record `n` (1-based, in the order of the old keys),
/// whose old key is described by `old_key`.
pub fn key_problem(n: u64, old_key: &str, key_path: &KeyPath, problem: &KeyProblem) -> String {
    let old_key = quote(old_key);
    match problem {
        KeyProblem::Missing => format!(
            "record {n} (key {old_key}) has no value at the new key path {key_path}: give every \
             record one first (a transform step before this one), or delete the records without \
             one"
        ),
        KeyProblem::NotAKey(value) => format!(
            "record {n} (key {old_key}) holds {} at the new key path {key_path}, which is not a \
             valid IndexedDB key (a number, string, date, binary value or an array of them): \
             change it first (a transform step before this one)",
            quote(value)
        ),
        KeyProblem::Duplicate(key) => format!(
            "record {n} (key {old_key}) has the new key {}, as an earlier record has: new keys \
             must be unique; make them unique first (a transform step before this one)",
            quote(key)
        ),
    }
}

/// An IndexedDB key among those JSON can hold, ordered as IndexedDB orders keys (numbers before
/// strings before arrays).
#[derive(Debug, Clone)]
pub enum JsonKey {
    Number(f64),
    String(String),
    Array(Vec<JsonKey>),
}

impl JsonKey {
    /// The key `value` is, or `None` when it is not one (booleans, null, objects, arrays
    /// holding those).
    pub fn of(value: &Value) -> Option<JsonKey> {
        Some(match value {
            Value::Number(n) => JsonKey::Number(n.as_f64()?),
            Value::String(s) => JsonKey::String(s.clone()),
            Value::Array(items) => {
                JsonKey::Array(items.iter().map(JsonKey::of).collect::<Option<_>>()?)
            }
            _ => return None,
        })
    }

    /// The key as IndexedDB compares it (`key_order.rs`).
    fn view(&self) -> KeyRef<'_> {
        match self {
            JsonKey::Number(n) => KeyRef::Number(*n),
            JsonKey::String(s) => KeyRef::String(Units::Str(s)),
            JsonKey::Array(items) => KeyRef::Array(items.iter().map(JsonKey::view).collect()),
        }
    }
}

impl Ord for JsonKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.view().cmp(&other.view())
    }
}

impl PartialOrd for JsonKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for JsonKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for JsonKey {}

fn at_path<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    if path.is_empty() {
        return Some(value);
    }
    let mut v = value;
    for part in path.split('.') {
        v = v.as_object()?.get(part)?;
    }
    Some(v)
}

/// The key a JSON record holds at `key_path` (as JSON, and as a key), or why it holds none.
pub fn json_key_at(record: &Value, key_path: &KeyPath) -> Result<(Value, JsonKey), KeyProblem> {
    let value = match key_path {
        KeyPath::Single(p) => at_path(record, p).cloned().ok_or(KeyProblem::Missing)?,
        KeyPath::Compound(ps) => Value::Array(
            ps.iter()
                .map(|p| at_path(record, p).cloned().ok_or(KeyProblem::Missing))
                .collect::<Result<_, _>>()?,
        ),
    };
    match JsonKey::of(&value) {
        Some(key) => Ok((value, key)),
        None => Err(KeyProblem::NotAKey(value.to_string())),
    }
}

/// The records of a store re-keyed by `key_path`: `(new key, value)` in the new keys' order,
/// or the reason the first record (in the old keys' order) that cannot move fails.
pub fn rekey_json(
    rows: &[(Value, Value)],
    key_path: &KeyPath,
) -> Result<Vec<(Value, Value)>, String> {
    let mut order: Vec<&(Value, Value)> = rows.iter().collect();
    order.sort_by(|a, b| match (JsonKey::of(&a.0), JsonKey::of(&b.0)) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => Ordering::Equal,
    });
    let mut moved: std::collections::BTreeMap<JsonKey, (Value, Value)> = Default::default();
    for (n, (old_key, value)) in order.into_iter().enumerate() {
        let fail = |p: KeyProblem| key_problem(n as u64 + 1, &old_key.to_string(), key_path, &p);
        let (new_value, new_key) = json_key_at(value, key_path).map_err(fail)?;
        if moved.contains_key(&new_key) {
            return Err(fail(KeyProblem::Duplicate(new_value.to_string())));
        }
        moved.insert(new_key, (new_value, value.clone()));
    }
    Ok(moved.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(values: Vec<Value>) -> Vec<(Value, Value)> {
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| (json!(i + 1), v))
            .collect()
    }

    #[test]
    fn keys_order_as_indexeddb_orders_them() {
        let k = |v: Value| JsonKey::of(&v).unwrap();
        assert!(k(json!(2)) < k(json!(10)));
        assert!(k(json!(10)) < k(json!("1")));
        assert!(k(json!("b")) < k(json!([])));
        assert!(k(json!([1, "a"])) < k(json!([1, "b"])));
        assert!(k(json!([1])) < k(json!([1, 0])));
        assert_eq!(k(json!(1)), k(json!(1.0)), "one number, however written");
        for not_a_key in [json!(true), json!(null), json!({"a": 1}), json!([1, null])] {
            assert!(JsonKey::of(&not_a_key).is_none(), "{not_a_key}");
        }
    }

    #[test]
    fn records_move_in_the_new_keys_order() {
        let moved = rekey_json(
            &rows(vec![
                json!({"id": 1, "uuid": "b"}),
                json!({"id": 2, "uuid": "a"}),
            ]),
            &KeyPath::single("uuid"),
        )
        .unwrap();
        assert_eq!(
            moved,
            vec![
                (json!("a"), json!({"id": 2, "uuid": "a"})),
                (json!("b"), json!({"id": 1, "uuid": "b"})),
            ]
        );
        let compound = rekey_json(
            &rows(vec![json!({"a": {"x": 2}, "b": "q"})]),
            &KeyPath::compound(["a.x", "b"]),
        )
        .unwrap();
        assert_eq!(compound[0].0, json!([2, "q"]));
    }

    #[test]
    fn the_first_record_that_cannot_move_is_named() {
        let kp = KeyPath::single("uuid");
        let missing = rekey_json(
            &rows(vec![json!({"uuid": "a"}), json!({"title": "no uuid"})]),
            &kp,
        )
        .unwrap_err();
        assert!(
            missing.starts_with("record 2 (key 2) has no value at the new key path \"uuid\""),
            "{missing}"
        );
        let not_a_key = rekey_json(&rows(vec![json!({"uuid": true})]), &kp).unwrap_err();
        assert!(
            not_a_key.starts_with("record 1 (key 1) holds true at the new key path"),
            "{not_a_key}"
        );
        let duplicate = rekey_json(
            &rows(vec![
                json!({"uuid": "a"}),
                json!({"uuid": "b"}),
                json!({"uuid": "a"}),
            ]),
            &kp,
        )
        .unwrap_err();
        assert!(
            duplicate
                .starts_with("record 3 (key 3) has the new key \"a\", as an earlier record has"),
            "{duplicate}"
        );
    }

    #[test]
    fn long_values_are_shortened() {
        let long = "x".repeat(200);
        let q = quote(&long);
        assert_eq!(q.chars().count(), QUOTE_MAX + 1);
        assert!(q.ends_with('…'));
    }
}
