//! Migrations given as JavaScript values, checked as strict plain data, with the functions of
//! `transform` steps taken out and registered as Rust transforms. Here, not in `js/`, because
//! both front ends take them: the JavaScript API (`Rewind.open`) and the recovery page (the
//! migrations and transforms module its `rewind.json` names), and they must agree.

use super::JsRecord;
use crate::migration::generated_transform_name;
use crate::{Migration, MigrationError, MigrationSet, RecordAccess, Step, Transforms};
use js_sys::{Array, Function, Object, Reflect};
use serde_json::{Map, Number, Value};
use std::collections::BTreeMap;
use wasm_bindgen::{JsCast, JsValue};

/// Deeper than any migration needs; stops cycles.
const MAX_DEPTH: usize = 64;

fn invalid(location: impl Into<String>, reason: impl Into<String>) -> MigrationError {
    MigrationError::InvalidMigration {
        location: location.into(),
        reason: reason.into(),
    }
}

fn type_name(v: &JsValue) -> String {
    if v.is_undefined() {
        return "undefined".into();
    }
    if v.is_bigint() {
        return "a BigInt".into();
    }
    if v.is_symbol() {
        return "a Symbol".into();
    }
    if v.is_function() {
        return "a function".into();
    }
    if v.is_object() {
        let name = Reflect::get(v, &"constructor".into())
            .ok()
            .and_then(|c| Reflect::get(&c, &"name".into()).ok())
            .and_then(|n| n.as_string())
            .unwrap_or_default();
        return match name.as_str() {
            "" => "an object that is not plain data".into(),
            "Object" => "an object".into(),
            n if n.starts_with(['A', 'E', 'I', 'O', 'U']) => format!("an {n}"),
            n => format!("a {n}"),
        };
    }
    "an unsupported value".into()
}

fn is_plain_object(v: &JsValue) -> bool {
    if !v.is_object() || v.is_function() || Array::is_array(v) {
        return false;
    }
    let proto = Object::get_prototype_of(v);
    let object_proto = Object::get_prototype_of(&Object::new());
    proto.is_null() || Object::is(&proto, &object_proto)
}

/// Own enumerable string-keyed properties, skipping `undefined` (as JSON does).
fn entries(obj: &JsValue) -> Vec<(String, JsValue)> {
    let Some(obj) = obj.dyn_ref::<Object>() else {
        return vec![];
    };
    Object::keys(obj)
        .iter()
        .filter_map(|k| {
            let key = k.as_string()?;
            let value = Reflect::get(obj, &k).ok()?;
            (!value.is_undefined()).then_some((key, value))
        })
        .collect()
}

/// A JavaScript value as JSON, refusing anything JSON would silently change or drop.
fn plain_json(v: &JsValue, path: &str, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "{path} is nested more than {MAX_DEPTH} levels deep (a cycle?)"
        ));
    }
    if v.is_null() {
        return Ok(Value::Null);
    }
    if let Some(b) = v.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Some(n) = v.as_f64() {
        if !n.is_finite() {
            return Err(format!("{path} is {n}, not a finite number"));
        }
        if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0 {
            return Ok(Value::Number(Number::from(n as i64)));
        }
        return Number::from_f64(n)
            .map(Value::Number)
            .ok_or_else(|| format!("{path} is not a finite number"));
    }
    if let Some(s) = v.as_string() {
        return Ok(Value::String(s));
    }
    if Array::is_array(v) {
        let array: &Array = v.unchecked_ref();
        let mut out = Vec::with_capacity(array.length() as usize);
        for (i, item) in array.iter().enumerate() {
            if item.is_undefined() {
                return Err(format!("{path}[{i}] is undefined"));
            }
            out.push(plain_json(&item, &format!("{path}[{i}]"), depth + 1)?);
        }
        return Ok(Value::Array(out));
    }
    if is_plain_object(v) {
        let mut map = Map::new();
        for (key, value) in entries(v) {
            let json = plain_json(&value, &format!("{path}.{key}"), depth + 1)?;
            map.insert(key, json);
        }
        return Ok(Value::Object(map));
    }
    let what = type_name(v);
    Err(if v.is_function() {
        format!("{path} is a function: only a \"transform\" step may carry one")
    } else {
        format!("{path} is {what}; migrations are plain data (objects, arrays, strings, numbers, booleans, null)")
    })
}

/// Transform functions by name, each registered once.
#[derive(Default)]
struct JsTransforms {
    by_name: BTreeMap<String, Function>,
}

impl JsTransforms {
    fn add(&mut self, name: &str, f: Function, path: &str) -> Result<(), MigrationError> {
        if let Some(existing) = self.by_name.get(name) {
            if !Object::is(existing, &f) {
                return Err(invalid(
                    path,
                    format!("two different functions are given for transform {name:?}; give each its own name"),
                ));
            }
        }
        self.by_name.insert(name.to_string(), f);
        Ok(())
    }

    fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    fn into_transforms(self) -> Transforms {
        self.by_name
            .into_iter()
            .fold(Transforms::new(), |t, (name, f)| {
                t.register(name, move |record| call_transform(&f, record))
            })
    }
}

fn is_thenable(v: &JsValue) -> bool {
    v.is_object() && Reflect::get(v, &"then".into()).is_ok_and(|t| t.is_function())
}

/// Runs a JavaScript transform on one record, inside the upgrade transaction.
fn call_transform(f: &Function, record: &mut dyn RecordAccess) -> Result<(), String> {
    let record = record
        .as_any_mut()
        .and_then(|any| any.downcast_mut::<JsRecord>())
        .ok_or("a JavaScript transform can only run on IndexedDB records")?;
    let out = f
        .call1(&JsValue::UNDEFINED, &record.0)
        .map_err(|e| format!("the transform threw {}", super::describe_thrown(&e)))?;
    if is_thenable(&out) {
        return Err(
            "the transform returned a Promise: transforms must be synchronous \
                    (they run inside the upgrade transaction, which cannot wait for anything \
                    else); compute the new record and return it directly"
                .into(),
        );
    }
    if !out.is_undefined() {
        record.0 = out;
    }
    Ok(())
}

/// One step as JSON; a `transform` step's function is taken out and registered (named if it
/// had no name).
fn step_json(
    step: &JsValue,
    path: &str,
    name_if_missing: impl FnOnce() -> String,
    transforms: &mut JsTransforms,
) -> Result<Value, MigrationError> {
    let is_transform = is_plain_object(step)
        && Reflect::get(step, &"op".into())
            .ok()
            .and_then(|op| op.as_string())
            .is_some_and(|op| op == "transform");
    if !is_transform {
        return plain_json(step, path, 0).map_err(|r| invalid(path, r));
    }
    let mut map = Map::new();
    let mut function = None;
    for (key, value) in entries(step) {
        if let Some(f) = value.dyn_ref::<Function>() {
            if function.is_some() {
                return Err(invalid(
                    path,
                    "a transform step carries more than one function",
                ));
            }
            function = Some(f.clone());
            continue;
        }
        let json = plain_json(&value, &format!("{path}.{key}"), 1).map_err(|r| invalid(path, r))?;
        map.insert(key, json);
    }
    if let Some(f) = function {
        let name = match map.get("name") {
            Some(Value::String(name)) => name.clone(),
            Some(_) => return Err(invalid(path, "the transform's name is not a string")),
            None => {
                let name = name_if_missing();
                map.insert("name".into(), Value::String(name.clone()));
                name
            }
        };
        transforms.add(&name, f, path)?;
    }
    Ok(Value::Object(map))
}

fn steps_json(
    list: &JsValue,
    path: &str,
    version: Option<u32>,
    index: usize,
    down: bool,
    transforms: &mut JsTransforms,
) -> Result<Value, MigrationError> {
    if !Array::is_array(list) {
        return plain_json(list, path, 0).map_err(|r| invalid(path, r));
    }
    let array: &Array = list.unchecked_ref();
    let mut out = Vec::with_capacity(array.length() as usize);
    for (j, step) in array.iter().enumerate() {
        let step_path = format!("{path}[{j}]");
        out.push(step_json(
            &step,
            &step_path,
            || generated_transform_name(version, index, down, j),
            transforms,
        )?);
    }
    Ok(Value::Array(out))
}

/// The migrations and transforms an app passes to `Rewind.open`, checked completely: shapes,
/// types, versions 1, 2, 3… and every step, and every transform has its function. `named` is
/// an object of functions by name (or nothing); `named_from` says where it came from in the
/// messages (`options.transforms` for the API, the module's URL for the page).
pub fn migrations_from_js(
    list: &JsValue,
    named: &JsValue,
    named_from: &str,
) -> Result<(MigrationSet, Transforms), MigrationError> {
    let mut transforms = JsTransforms::default();
    if !named.is_undefined() && !named.is_null() {
        if !is_plain_object(named) {
            return Err(invalid(
                named_from,
                "expected an object of functions by name",
            ));
        }
        for (name, f) in entries(named) {
            let path = format!("{named_from}.{name}");
            let f = f
                .dyn_into::<Function>()
                .map_err(|_| invalid(&path, "is not a function"))?;
            transforms.add(&name, f, &path)?;
        }
    }
    if !Array::is_array(list) {
        return Err(invalid(
            "migrations",
            format!(
                "expected an array of migrations, got {}",
                describe_type(list)
            ),
        ));
    }
    let array: &Array = list.unchecked_ref();
    let mut parsed = Vec::with_capacity(array.length() as usize);
    for (i, m) in array.iter().enumerate() {
        let path = format!("migrations[{i}]");
        if !is_plain_object(&m) {
            return Err(invalid(
                &path,
                format!("expected a migration object, got {}", describe_type(&m)),
            ));
        }
        let version = Reflect::get(&m, &"version".into())
            .ok()
            .and_then(|v| v.as_f64())
            .filter(|v| v.fract() == 0.0 && *v >= 1.0 && *v <= u32::MAX as f64)
            .map(|v| v as u32);
        let mut map = Map::new();
        for (key, value) in entries(&m) {
            let field = format!("{path}.{key}");
            let json = match key.as_str() {
                "up" => steps_json(&value, &field, version, i, false, &mut transforms)?,
                "down" => steps_json(&value, &field, version, i, true, &mut transforms)?,
                _ => plain_json(&value, &field, 1).map_err(|r| invalid(&path, r))?,
            };
            map.insert(key, json);
        }
        let location = match version {
            Some(v) => format!("{path} (version {v})"),
            None => path,
        };
        let migration: Migration = serde_json::from_value(Value::Object(map))
            .map_err(|e| invalid(&location, e.to_string()))?;
        parsed.push(migration);
    }
    let set = MigrationSet::new(parsed)?;
    for m in set.migrations() {
        let lists = [("up", Some(&m.up)), ("down", m.down.as_ref())];
        for (list, steps) in lists {
            for (j, step) in steps.into_iter().flatten().enumerate() {
                if let Step::Transform { name, .. } = step {
                    if !transforms.contains(name) {
                        return Err(invalid(
                            format!(
                                "migration {} ({:?}), {list} step {}",
                                m.version,
                                m.name,
                                j + 1
                            ),
                            format!(
                                "transform {name:?} has no function: give the step one \
                                 (`fn: (record) => record`) or pass it in {named_from}"
                            ),
                        ));
                    }
                }
            }
        }
    }
    Ok((set, transforms.into_transforms()))
}

/// A JavaScript value's type as a message names it ("a string", "an array", "a Map").
pub fn describe_type(v: &JsValue) -> String {
    if v.is_null() {
        "null".into()
    } else if v.as_bool().is_some() {
        "a boolean".into()
    } else if v.as_f64().is_some() {
        "a number".into()
    } else if v.as_string().is_some() {
        "a string".into()
    } else if Array::is_array(v) {
        "an array".into()
    } else {
        type_name(v)
    }
}
