//! Applying steps to a schema, without any database: the schema each version implies, and a
//! check of every step before anything real runs.

use crate::migration::Step;
use crate::schema::{DatabaseSchema, IndexSchema, KeyPath, StoreSchema};

/// Stores whose names start with this belong to Rewind (metadata, staging) and are not part of
/// an app's schema.
pub const RESERVED_PREFIX: &str = "__rewind";

fn check_name(kind: &str, name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("the {kind} name is empty"));
    }
    if name.starts_with(RESERVED_PREFIX) {
        return Err(format!(
            "{kind} names starting with {RESERVED_PREFIX:?} are reserved for Rewind"
        ));
    }
    Ok(())
}

fn check_field(field: &str) -> Result<(), String> {
    if field.is_empty() || field.split('.').any(str::is_empty) {
        return Err(format!(
            "{field:?} is not a field path (use names separated by dots)"
        ));
    }
    Ok(())
}

fn store_mut<'a>(
    schema: &'a mut DatabaseSchema,
    store: &str,
) -> Result<&'a mut StoreSchema, String> {
    schema
        .stores
        .get_mut(store)
        .ok_or_else(|| format!("store {store:?} does not exist"))
}

/// A data step must not change a store's primary key: IndexedDB cannot change keys in place.
fn check_not_key(store: &StoreSchema, field: &str) -> Result<(), String> {
    let touches = |path: &str| {
        path == field
            || path.starts_with(&format!("{field}."))
            || field.starts_with(&format!("{path}."))
    };
    let hit = match &store.key_path {
        Some(KeyPath::Single(p)) => p.is_empty() || touches(p),
        Some(KeyPath::Compound(ps)) => ps.iter().any(|p| touches(p)),
        None => false,
    };
    if hit {
        return Err(format!(
            "field {field:?} is part of the primary key of store {:?}; keys cannot change in place \
             (copy the records into a new store instead)",
            store.name
        ));
    }
    Ok(())
}

fn key_path_valid(kp: &KeyPath) -> Result<(), String> {
    let ok = |p: &str| p.is_empty() || !p.split('.').any(str::is_empty);
    match kp {
        KeyPath::Single(p) if ok(p) => Ok(()),
        KeyPath::Compound(ps) if !ps.is_empty() && ps.iter().all(|p| !p.is_empty() && ok(p)) => {
            Ok(())
        }
        _ => Err(format!("{kp} is not a valid key path")),
    }
}

fn check_auto_increment(auto_increment: bool, key_path: Option<&KeyPath>) -> Result<(), String> {
    match key_path {
        _ if !auto_increment => Ok(()),
        None => Ok(()),
        Some(KeyPath::Single(p)) if !p.is_empty() => Ok(()),
        _ => Err("auto-increment needs out-of-line keys or a single, non-empty key path".into()),
    }
}

/// Applies one step to `schema`, or says why it cannot apply.
pub fn apply_step(schema: &mut DatabaseSchema, step: &Step) -> Result<(), String> {
    match step {
        Step::CreateStore {
            store,
            key_path,
            auto_increment,
        } => {
            check_name("store", store)?;
            if schema.stores.contains_key(store) {
                return Err(format!("store {store:?} already exists"));
            }
            if let Some(kp) = key_path {
                key_path_valid(kp)?;
            }
            check_auto_increment(*auto_increment, key_path.as_ref())?;
            schema.stores.insert(
                store.clone(),
                StoreSchema::new(store.clone(), key_path.clone(), *auto_increment),
            );
        }
        Step::DeleteStore { store } => {
            if schema.stores.remove(store).is_none() {
                return Err(format!("store {store:?} does not exist"));
            }
        }
        Step::RenameStore { from, to } => {
            check_name("store", to)?;
            if schema.stores.contains_key(to) {
                return Err(format!("store {to:?} already exists"));
            }
            let mut s = schema
                .stores
                .remove(from)
                .ok_or_else(|| format!("store {from:?} does not exist"))?;
            s.name = to.clone();
            schema.stores.insert(to.clone(), s);
        }
        Step::CreateIndex {
            store,
            index,
            key_path,
            unique,
            multi_entry,
        } => {
            if index.is_empty() {
                return Err("the index name is empty".into());
            }
            key_path_valid(key_path)?;
            if *multi_entry && matches!(key_path, KeyPath::Compound(_)) {
                return Err("a multi-entry index cannot have a compound key path".into());
            }
            let s = store_mut(schema, store)?;
            if s.indexes.contains_key(index) {
                return Err(format!("index {index:?} already exists on store {store:?}"));
            }
            s.indexes.insert(
                index.clone(),
                IndexSchema::new(index.clone(), key_path.clone())
                    .unique(*unique)
                    .multi_entry(*multi_entry),
            );
        }
        Step::DeleteIndex { store, index } => {
            let s = store_mut(schema, store)?;
            if s.indexes.remove(index).is_none() {
                return Err(format!("index {index:?} does not exist on store {store:?}"));
            }
        }
        Step::AddField { store, field, .. } | Step::RemoveField { store, field } => {
            check_field(field)?;
            check_not_key(store_mut(schema, store)?, field)?;
        }
        Step::RenameField { store, from, to } => {
            check_field(from)?;
            check_field(to)?;
            if from == to
                || to.starts_with(&format!("{from}."))
                || from.starts_with(&format!("{to}."))
            {
                return Err(format!(
                    "cannot rename field {from:?} to {to:?}: one contains the other"
                ));
            }
            let s = store_mut(schema, store)?;
            check_not_key(s, from)?;
            check_not_key(s, to)?;
        }
        Step::Transform { store, name, .. } => {
            if name.is_empty() {
                return Err("the transform name is empty".into());
            }
            store_mut(schema, store)?;
        }
        Step::ChangeKey {
            store,
            key_path,
            auto_increment,
        } => {
            key_path_valid(key_path)?;
            check_auto_increment(*auto_increment, Some(key_path))?;
            let s = store_mut(schema, store)?;
            if s.key_path.is_none() {
                return Err(format!(
                    "store {store:?} has out-of-line keys, which its records do not hold, so a \
                     new key path would lose them: a key can change only in a store with a key \
                     path"
                ));
            }
            if s.key_path.as_ref() == Some(key_path) && s.auto_increment == *auto_increment {
                return Err(format!(
                    "store {store:?} already has key path {key_path}{}",
                    if *auto_increment {
                        " with auto-increment"
                    } else {
                        ""
                    }
                ));
            }
            s.key_path = Some(key_path.clone());
            s.auto_increment = *auto_increment;
        }
    }
    Ok(())
}

/// Applies steps in order; the error names the failing step's position (0-based) and reason.
pub fn apply_steps(schema: &mut DatabaseSchema, steps: &[Step]) -> Result<(), (usize, String)> {
    for (i, step) in steps.iter().enumerate() {
        apply_step(schema, step).map_err(|reason| (i, reason))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(store: &str, kp: Option<KeyPath>, auto: bool) -> Step {
        Step::CreateStore {
            store: store.into(),
            key_path: kp,
            auto_increment: auto,
        }
    }

    /// Each step is refused with a reason containing its text, and leaves `s` as it was.
    fn assert_refused(s: &mut DatabaseSchema, cases: Vec<(Step, &str)>) {
        for (step, expected) in cases {
            let before = s.clone();
            let err = apply_step(s, &step).unwrap_err();
            assert!(err.contains(expected), "{step}: {err}");
            assert_eq!(*s, before, "a refused step changed the schema: {step}");
        }
    }

    #[test]
    fn builds_a_schema_step_by_step() {
        let mut s = DatabaseSchema::default();
        apply_steps(
            &mut s,
            &[
                create("notes", Some(KeyPath::single("id")), true),
                Step::CreateIndex {
                    store: "notes".into(),
                    index: "by_tag".into(),
                    key_path: KeyPath::single("tags"),
                    unique: false,
                    multi_entry: true,
                },
                Step::RenameStore {
                    from: "notes".into(),
                    to: "memos".into(),
                },
            ],
        )
        .unwrap();
        let memos = s.store("memos").unwrap();
        assert_eq!(memos.name, "memos");
        assert!(memos.indexes["by_tag"].multi_entry);
        assert!(s.store("notes").is_none());
    }

    #[test]
    fn refuses_steps_that_cannot_apply() {
        let mut s = DatabaseSchema::default();
        apply_step(&mut s, &create("a", Some(KeyPath::single("id")), false)).unwrap();
        let cases: Vec<(Step, &str)> = vec![
            (create("a", None, false), "store \"a\" already exists"),
            (
                Step::DeleteStore { store: "b".into() },
                "store \"b\" does not exist",
            ),
            (
                create("c", Some(KeyPath::compound(["x", "y"])), true),
                "auto-increment needs",
            ),
            (
                create("c", Some(KeyPath::single("")), true),
                "auto-increment needs",
            ),
            (create("__rewind_x", None, false), "reserved for Rewind"),
            (
                create("c", Some(KeyPath::single("a..b")), false),
                "not a valid key path",
            ),
            (
                Step::RenameStore {
                    from: "a".into(),
                    to: "a".into(),
                },
                "store \"a\" already exists",
            ),
            (
                Step::CreateIndex {
                    store: "a".into(),
                    index: "i".into(),
                    key_path: KeyPath::compound(["x", "y"]),
                    unique: false,
                    multi_entry: true,
                },
                "multi-entry index cannot have a compound",
            ),
            (
                Step::DeleteIndex {
                    store: "a".into(),
                    index: "nope".into(),
                },
                "index \"nope\" does not exist",
            ),
            (
                Step::RemoveField {
                    store: "a".into(),
                    field: "id".into(),
                },
                "part of the primary key",
            ),
            (
                Step::RemoveField {
                    store: "a".into(),
                    field: "x..y".into(),
                },
                "is not a field path",
            ),
            (
                Step::RenameField {
                    store: "a".into(),
                    from: "x".into(),
                    to: "x.y".into(),
                },
                "one contains the other",
            ),
            (
                Step::AddField {
                    store: "zz".into(),
                    field: "x".into(),
                    value: 1.into(),
                },
                "store \"zz\" does not exist",
            ),
            (
                Step::Transform {
                    store: "zz".into(),
                    name: "t".into(),
                    description: None,
                },
                "store \"zz\" does not exist",
            ),
        ];
        assert_refused(&mut s, cases);
    }

    fn change_key(store: &str, kp: KeyPath, auto: bool) -> Step {
        Step::ChangeKey {
            store: store.into(),
            key_path: kp,
            auto_increment: auto,
        }
    }

    #[test]
    fn a_key_change_keeps_the_indexes_and_frees_the_old_key() {
        let mut s = DatabaseSchema::default();
        apply_steps(
            &mut s,
            &[
                create("notes", Some(KeyPath::single("id")), true),
                Step::CreateIndex {
                    store: "notes".into(),
                    index: "by_title".into(),
                    key_path: KeyPath::single("title"),
                    unique: true,
                    multi_entry: false,
                },
                change_key("notes", KeyPath::single("uuid"), false),
                // The old key is an ordinary field now, the new one is not.
                Step::RemoveField {
                    store: "notes".into(),
                    field: "id".into(),
                },
            ],
        )
        .unwrap();
        let notes = s.store("notes").unwrap();
        assert_eq!(notes.key_path, Some(KeyPath::single("uuid")));
        assert!(!notes.auto_increment);
        assert!(notes.indexes["by_title"].unique);
        let err = apply_step(
            &mut s,
            &Step::RemoveField {
                store: "notes".into(),
                field: "uuid".into(),
            },
        )
        .unwrap_err();
        assert!(err.contains("part of the primary key"), "{err}");
        // Its inverse gives the schema back.
        let mut back = s.clone();
        apply_step(&mut back, &change_key("notes", KeyPath::single("id"), true)).unwrap();
        assert_eq!(
            back.store("notes").unwrap().key_path,
            Some(KeyPath::single("id"))
        );
        assert!(back.store("notes").unwrap().auto_increment);
    }

    #[test]
    fn refuses_key_changes_that_cannot_apply() {
        let mut s = DatabaseSchema::default();
        apply_steps(
            &mut s,
            &[
                create("a", Some(KeyPath::single("id")), false),
                create("out", None, true),
            ],
        )
        .unwrap();
        let cases: Vec<(Step, &str)> = vec![
            (
                change_key("zz", KeyPath::single("k"), false),
                "store \"zz\" does not exist",
            ),
            (
                change_key("a", KeyPath::single("id"), false),
                "already has key path \"id\"",
            ),
            (
                change_key("out", KeyPath::single("k"), false),
                "has out-of-line keys",
            ),
            (
                change_key("a", KeyPath::compound(["x", "y"]), true),
                "auto-increment needs",
            ),
            (
                change_key("a", KeyPath::single("x..y"), false),
                "not a valid key path",
            ),
        ];
        assert_refused(&mut s, cases);
        // Only auto-increment may change.
        apply_step(&mut s, &change_key("a", KeyPath::single("id"), true)).unwrap();
        assert!(s.store("a").unwrap().auto_increment);
    }

    #[test]
    fn the_failing_position_is_reported() {
        let mut s = DatabaseSchema::default();
        let err = apply_steps(
            &mut s,
            &[
                create("a", None, false),
                create("b", None, false),
                create("a", None, false),
            ],
        )
        .unwrap_err();
        assert_eq!(err.0, 2);
    }
}
