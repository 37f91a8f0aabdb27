//! [`RecordAccess`] over a JavaScript record, so data steps run on IndexedDB's own values: a
//! field a step does not touch keeps its exact type (Date, Blob, typed array…).

use crate::record::RecordAccess;
use js_sys::{Object, Reflect};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};

pub struct JsRecord(pub JsValue);

fn is_plain_container(v: &JsValue) -> bool {
    v.is_object() && !v.is_function()
}

fn own(obj: &JsValue, key: &str) -> Option<JsValue> {
    if !is_plain_container(obj) {
        return None;
    }
    let obj: &Object = obj.unchecked_ref();
    let desc = Reflect::get_own_property_descriptor(obj, &JsValue::from_str(key)).ok()?;
    if desc.is_undefined() {
        return None;
    }
    Reflect::get(obj, &JsValue::from_str(key)).ok()
}

fn walk(root: &JsValue, path: &[&str]) -> Option<JsValue> {
    let mut cur = root.clone();
    for p in path {
        cur = own(&cur, p)?;
    }
    Some(cur)
}

fn json_to_js(value: &Value) -> Result<JsValue, String> {
    let text = serde_json::to_string(value).map_err(|e| e.to_string())?;
    js_sys::JSON::parse(&text).map_err(|_| "the value is not valid JSON".to_string())
}

fn js_to_json(value: &JsValue) -> Option<Value> {
    if value.is_undefined() {
        return None;
    }
    let text = js_sys::JSON::stringify(value).ok()?.as_string()?;
    serde_json::from_str(&text).ok()
}

/// Defines an own data property (works for keys like `__proto__`, unlike assignment).
fn define(obj: &JsValue, key: &str, value: &JsValue) -> Result<(), String> {
    let desc = Object::new();
    for (k, v) in [
        ("value", value.clone()),
        ("writable", true.into()),
        ("enumerable", true.into()),
        ("configurable", true.into()),
    ] {
        Reflect::set(&desc, &k.into(), &v).map_err(|_| "cannot describe a property".to_string())?;
    }
    Object::define_property(
        obj.unchecked_ref::<Object>(),
        &JsValue::from_str(key),
        &desc,
    );
    Ok(())
}

impl JsRecord {
    fn parent(&self, parents: &[&str], create: bool) -> Result<Option<JsValue>, String> {
        let mut cur = self.0.clone();
        if !is_plain_container(&cur) {
            return Err("the record is not an object".into());
        }
        for (i, p) in parents.iter().enumerate() {
            cur = match own(&cur, p) {
                Some(v) if is_plain_container(&v) => v,
                Some(_) => return Err(format!("{:?} is not an object", parents[..=i].join("."))),
                None if create => {
                    let fresh: JsValue = Object::new().into();
                    define(&cur, p, &fresh)?;
                    fresh
                }
                None => return Ok(None),
            };
        }
        Ok(Some(cur))
    }

    fn set_raw(&mut self, path: &[&str], value: &JsValue) -> Result<(), String> {
        let (last, parents) = path.split_last().ok_or("empty field path")?;
        let parent = self.parent(parents, true)?.ok_or("no parent object")?;
        define(&parent, last, value)
    }
}

impl RecordAccess for JsRecord {
    fn has(&self, path: &[&str]) -> bool {
        walk(&self.0, path).is_some()
    }

    fn get(&self, path: &[&str]) -> Option<Value> {
        walk(&self.0, path).and_then(|v| js_to_json(&v))
    }

    fn set(&mut self, path: &[&str], value: Value) -> Result<(), String> {
        let js = json_to_js(&value)?;
        self.set_raw(path, &js)
    }

    fn remove(&mut self, path: &[&str]) -> Result<bool, String> {
        let (last, parents) = path.split_last().ok_or("empty field path")?;
        if !is_plain_container(&self.0) {
            return Ok(false);
        }
        let Some(parent) = self.parent(parents, false).unwrap_or(None) else {
            return Ok(false);
        };
        if own(&parent, last).is_none() {
            return Ok(false);
        }
        Reflect::delete_property(parent.unchecked_ref::<Object>(), &JsValue::from_str(last))
            .map_err(|_| format!("field {:?} cannot be removed", path.join(".")))
    }

    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }

    fn rename(&mut self, from: &[&str], to: &[&str]) -> Result<bool, String> {
        let Some(value) = walk(&self.0, from) else {
            return Ok(false);
        };
        self.set_raw(to, &value)?;
        self.remove(from)
    }
}
