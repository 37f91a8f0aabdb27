//! Data steps over records, written once against [`RecordAccess`] so that the in-memory
//! backend (JSON values) and the IndexedDB adapter (JavaScript values, where untouched fields
//! keep their exact type: Dates, Blobs, typed arrays) run the very same logic.

use crate::migration::Step;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::rc::Rc;

/// Field-level access to one record. Paths are dotted (`meta.title`).
pub trait RecordAccess {
    fn has(&self, path: &[&str]) -> bool;
    /// The field as JSON (a transform's view of it).
    fn get(&self, path: &[&str]) -> Option<Value>;
    /// Sets the field, creating intermediate objects; fails if a parent is not an object.
    fn set(&mut self, path: &[&str], value: Value) -> Result<(), String>;
    /// Removes the field; says whether it was there.
    fn remove(&mut self, path: &[&str]) -> Result<bool, String>;
    /// Moves a field's value, exactly as it is, to another path; says whether it was there.
    fn rename(&mut self, from: &[&str], to: &[&str]) -> Result<bool, String>;
    /// The concrete record, for transforms that work on the platform's own values (a
    /// JavaScript transform replaces the whole `JsRecord`).
    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        None
    }
}

/// A transform registered by name: called with every record of its store, it changes the
/// record through [`RecordAccess`] or fails with a reason (which cancels the whole operation).
pub type TransformFn = Rc<dyn Fn(&mut dyn RecordAccess) -> Result<(), String>>;

/// The transforms an app makes available to its migrations' `transform` steps.
#[derive(Clone, Default)]
pub struct Transforms {
    by_name: HashMap<String, TransformFn>,
}

impl Transforms {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(
        mut self,
        name: impl Into<String>,
        f: impl Fn(&mut dyn RecordAccess) -> Result<(), String> + 'static,
    ) -> Self {
        self.by_name.insert(name.into(), Rc::new(f));
        self
    }

    pub fn get(&self, name: &str) -> Option<&TransformFn> {
        self.by_name.get(name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }
}

impl std::fmt::Debug for Transforms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.by_name.keys().collect();
        names.sort();
        f.debug_struct("Transforms").field("names", &names).finish()
    }
}

pub fn split(path: &str) -> Vec<&str> {
    path.split('.').collect()
}

/// Runs one data step on one record; returns whether the record changed. Schema steps do
/// nothing here.
pub fn apply_data_step(
    step: &Step,
    record: &mut dyn RecordAccess,
    transforms: &Transforms,
) -> Result<bool, String> {
    match step {
        Step::AddField { field, value, .. } => {
            let path = split(field);
            if record.has(&path) {
                return Ok(false);
            }
            record.set(&path, value.clone())?;
            Ok(true)
        }
        Step::RemoveField { field, .. } => record.remove(&split(field)),
        Step::RenameField { from, to, .. } => {
            let (from, to) = (split(from), split(to));
            if record.has(&to) && record.has(&from) {
                return Err(format!(
                    "the record already has a field {:?}; renaming {:?} would overwrite it",
                    to.join("."),
                    from.join(".")
                ));
            }
            record.rename(&from, &to)
        }
        Step::Transform { name, .. } => {
            let f = transforms
                .get(name)
                .ok_or_else(|| format!("no transform named {name:?} is registered"))?;
            f(record)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// [`RecordAccess`] over a JSON value (the in-memory backend and native tests).
pub struct JsonRecord<'a>(pub &'a mut Value);

fn walk<'v>(mut v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    for p in path {
        v = v.as_object()?.get(*p)?;
    }
    Some(v)
}

fn parent_mut<'v>(
    v: &'v mut Value,
    path: &[&str],
    create: bool,
) -> Result<Option<&'v mut Map<String, Value>>, String> {
    let mut cur = v;
    for (i, p) in path.iter().enumerate() {
        let obj = match cur.as_object_mut() {
            Some(o) => o,
            None => return Err(format!("{:?} is not an object", path[..i].join("."))),
        };
        if !obj.contains_key(*p) {
            if !create {
                return Ok(None);
            }
            obj.insert((*p).to_string(), Value::Object(Map::new()));
        }
        cur = obj.get_mut(*p).expect("just checked or inserted");
    }
    match cur.as_object_mut() {
        Some(o) => Ok(Some(o)),
        None if create => Err(format!("{:?} is not an object", path.join("."))),
        None => Ok(None),
    }
}

impl RecordAccess for JsonRecord<'_> {
    fn has(&self, path: &[&str]) -> bool {
        walk(self.0, path).is_some()
    }
    fn get(&self, path: &[&str]) -> Option<Value> {
        walk(self.0, path).cloned()
    }
    fn set(&mut self, path: &[&str], value: Value) -> Result<(), String> {
        let (last, parents) = path.split_last().ok_or("empty field path")?;
        if !self.0.is_object() {
            return Err("the record is not an object".into());
        }
        let parent = parent_mut(self.0, parents, true)?.ok_or("no parent object")?;
        parent.insert((*last).to_string(), value);
        Ok(())
    }
    fn remove(&mut self, path: &[&str]) -> Result<bool, String> {
        let (last, parents) = path.split_last().ok_or("empty field path")?;
        if !self.0.is_object() {
            return Ok(false);
        }
        Ok(match parent_mut(self.0, parents, false) {
            Ok(Some(parent)) => parent.remove(*last).is_some(),
            _ => false,
        })
    }
    fn rename(&mut self, from: &[&str], to: &[&str]) -> Result<bool, String> {
        let Some(value) = walk(self.0, from).cloned() else {
            return Ok(false);
        };
        self.set(to, value)?;
        self.remove(from)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(step: Step, mut v: Value) -> (Result<bool, String>, Value) {
        let t = Transforms::new().register("upper_title", |r: &mut dyn RecordAccess| {
            let title = r
                .get(&["title"])
                .and_then(|v| v.as_str().map(str::to_uppercase));
            match title {
                Some(t) => r.set(&["title"], Value::String(t)),
                None => Err("record has no title".into()),
            }
        });
        let out = apply_data_step(&step, &mut JsonRecord(&mut v), &t);
        (out, v)
    }

    fn s(x: &str) -> String {
        x.into()
    }

    #[test]
    fn add_field_sets_only_where_missing_and_creates_parents() {
        let step = Step::AddField {
            store: s("n"),
            field: s("meta.pinned"),
            value: json!(false),
        };
        assert_eq!(
            run(step.clone(), json!({"id": 1})),
            (Ok(true), json!({"id": 1, "meta": {"pinned": false}}))
        );
        assert_eq!(
            run(step.clone(), json!({"meta": {"pinned": true}})),
            (Ok(false), json!({"meta": {"pinned": true}}))
        );
        let (out, v) = run(step, json!({"meta": 3}));
        assert!(out.unwrap_err().contains("\"meta\" is not an object"));
        assert_eq!(v, json!({"meta": 3}));
    }

    #[test]
    fn remove_and_rename() {
        let rm = Step::RemoveField {
            store: s("n"),
            field: s("a.b"),
        };
        assert_eq!(
            run(rm.clone(), json!({"a": {"b": 1, "c": 2}})),
            (Ok(true), json!({"a": {"c": 2}}))
        );
        assert_eq!(run(rm, json!({"x": 1})), (Ok(false), json!({"x": 1})));
        let mv = Step::RenameField {
            store: s("n"),
            from: s("a.b"),
            to: s("z"),
        };
        assert_eq!(
            run(mv.clone(), json!({"a": {"b": [1]}})),
            (Ok(true), json!({"a": {}, "z": [1]}))
        );
        assert_eq!(
            run(mv.clone(), json!({"q": 1})),
            (Ok(false), json!({"q": 1}))
        );
        let (out, v) = run(mv, json!({"a": {"b": 1}, "z": 2}));
        assert!(out.unwrap_err().contains("would overwrite"));
        assert_eq!(v, json!({"a": {"b": 1}, "z": 2}));
    }

    #[test]
    fn transforms_run_by_name_and_fail_clearly() {
        let t = Step::Transform {
            store: s("n"),
            name: s("upper_title"),
            description: None,
        };
        assert_eq!(
            run(t.clone(), json!({"title": "hi"})),
            (Ok(true), json!({"title": "HI"}))
        );
        assert_eq!(run(t, json!({})).0, Err("record has no title".into()));
        let missing = Step::Transform {
            store: s("n"),
            name: s("nope"),
            description: None,
        };
        assert!(run(missing, json!({}))
            .0
            .unwrap_err()
            .contains("no transform named \"nope\""));
    }

    #[test]
    fn schema_steps_do_not_touch_records() {
        let (out, v) = run(Step::DeleteStore { store: s("n") }, json!({"a": 1}));
        assert_eq!((out, v), (Ok(false), json!({"a": 1})));
    }
}
