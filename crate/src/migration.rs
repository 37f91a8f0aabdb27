//! Migrations as data: a version, a name, `up` steps and (unless irreversible) `down` steps.
//!
//! The same JSON shape is used in `migrations/*.json`, in Rust (serde) and from JavaScript:
//! `{"version": 2, "name": "add tags", "up": [...], "down": [...]}`, each step an object whose
//! `"op"` names its kind. A missing `down` makes a migration irreversible; `"down": []` is a
//! reversible migration whose rollback has nothing to do.

use crate::schema::KeyPath;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// One step of a migration. Schema steps change stores and indexes; data steps run over every
/// record of a store. Field names are dotted paths (`meta.title`).
///
/// Read by hand (`Step::from_fields`), not derived: serde's internally tagged enums buffer
/// each step and instantiate a reader per variant and per JSON source, tens of KB of wasm
/// (docs/size.md); the messages are serde's own words.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum Step {
    #[serde(rename_all = "camelCase")]
    CreateStore {
        store: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key_path: Option<KeyPath>,
        #[serde(default, skip_serializing_if = "is_false")]
        auto_increment: bool,
    },
    DeleteStore {
        store: String,
    },
    RenameStore {
        from: String,
        to: String,
    },
    #[serde(rename_all = "camelCase")]
    CreateIndex {
        store: String,
        index: String,
        key_path: KeyPath,
        #[serde(default, skip_serializing_if = "is_false")]
        unique: bool,
        #[serde(default, skip_serializing_if = "is_false")]
        multi_entry: bool,
    },
    DeleteIndex {
        store: String,
        index: String,
    },
    /// Sets `field` to `value` on every record that does not have it.
    AddField {
        store: String,
        field: String,
        value: serde_json::Value,
    },
    /// Removes `field` from every record (its values are dropped).
    RemoveField {
        store: String,
        field: String,
    },
    /// Moves the value of `from` to `to` on every record that has `from`.
    RenameField {
        store: String,
        from: String,
        to: String,
    },
    /// Runs the transform registered under `name` on every record of `store`.
    Transform {
        store: String,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
    },
    /// Moves every record of `store` into a store keyed by `key_path` (with the same indexes),
    /// in place of the old one. Every record must hold a valid key at `key_path`, and no two
    /// the same one, or the migration fails and nothing changes.
    #[serde(rename_all = "camelCase")]
    ChangeKey {
        store: String,
        key_path: KeyPath,
        #[serde(default, skip_serializing_if = "is_false")]
        auto_increment: bool,
    },
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Step, D::Error> {
        let fields = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        Step::from_fields(fields).map_err(serde::de::Error::custom)
    }
}

/// The `op` of each step, as JSON names it.
const OPS: &[&str] = &[
    "createStore",
    "deleteStore",
    "renameStore",
    "createIndex",
    "deleteIndex",
    "addField",
    "removeField",
    "renameField",
    "transform",
    "changeKey",
];

/// A step's fields, taken one by one; whatever is left over is an unknown field.
struct Fields {
    map: serde_json::Map<String, serde_json::Value>,
    known: &'static [&'static str],
}

impl Fields {
    fn take<T: serde::de::DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>, String> {
        match self.map.remove(name) {
            None => Ok(None),
            Some(v) => T::deserialize(v).map(Some).map_err(|e| e.to_string()),
        }
    }

    fn required<T: serde::de::DeserializeOwned>(&mut self, name: &str) -> Result<T, String> {
        self.take(name)?
            .ok_or_else(|| format!("missing field `{name}`"))
    }

    fn string(&mut self, name: &str) -> Result<String, String> {
        self.required(name)
    }

    fn flag(&mut self, name: &str) -> Result<bool, String> {
        Ok(self.take(name)?.unwrap_or(false))
    }

    fn end(self, step: Step) -> Result<Step, String> {
        match self.map.keys().next() {
            None => Ok(step),
            Some(k) => Err(format!(
                "unknown field `{k}`, expected one of {}",
                quoted(self.known)
            )),
        }
    }
}

fn quoted(names: &[&str]) -> String {
    let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    names.join(", ")
}

impl Step {
    /// A step from its JSON object: `op` says which, the rest are its fields.
    fn from_fields(mut map: serde_json::Map<String, serde_json::Value>) -> Result<Step, String> {
        let op = match map.remove("op") {
            None => return Err("missing field `op`".into()),
            Some(op) => String::deserialize(op).map_err(|e| e.to_string())?,
        };
        let known: &'static [&'static str] = match op.as_str() {
            "createStore" => &["op", "store", "keyPath", "autoIncrement"],
            "deleteStore" => &["op", "store"],
            "renameStore" => &["op", "from", "to"],
            "createIndex" => &["op", "store", "index", "keyPath", "unique", "multiEntry"],
            "deleteIndex" => &["op", "store", "index"],
            "addField" => &["op", "store", "field", "value"],
            "removeField" => &["op", "store", "field"],
            "renameField" => &["op", "store", "from", "to"],
            "transform" => &["op", "store", "name", "description"],
            "changeKey" => &["op", "store", "keyPath", "autoIncrement"],
            other => {
                return Err(format!(
                    "unknown variant `{other}`, expected one of {}",
                    quoted(OPS)
                ))
            }
        };
        let mut f = Fields { map, known };
        let step = match op.as_str() {
            "createStore" => Step::CreateStore {
                store: f.string("store")?,
                key_path: f.take("keyPath")?,
                auto_increment: f.flag("autoIncrement")?,
            },
            "deleteStore" => Step::DeleteStore {
                store: f.string("store")?,
            },
            "renameStore" => Step::RenameStore {
                from: f.string("from")?,
                to: f.string("to")?,
            },
            "createIndex" => Step::CreateIndex {
                store: f.string("store")?,
                index: f.string("index")?,
                key_path: f.required("keyPath")?,
                unique: f.flag("unique")?,
                multi_entry: f.flag("multiEntry")?,
            },
            "deleteIndex" => Step::DeleteIndex {
                store: f.string("store")?,
                index: f.string("index")?,
            },
            "addField" => Step::AddField {
                store: f.string("store")?,
                field: f.string("field")?,
                value: f.required("value")?,
            },
            "removeField" => Step::RemoveField {
                store: f.string("store")?,
                field: f.string("field")?,
            },
            "renameField" => Step::RenameField {
                store: f.string("store")?,
                from: f.string("from")?,
                to: f.string("to")?,
            },
            "transform" => Step::Transform {
                store: f.string("store")?,
                name: f.string("name")?,
                description: f.take("description")?,
            },
            _ => Step::ChangeKey {
                store: f.string("store")?,
                key_path: f.required("keyPath")?,
                auto_increment: f.flag("autoIncrement")?,
            },
        };
        f.end(step)
    }
}

impl Step {
    /// The store whose records a data step visits, if it is one.
    pub fn data_store(&self) -> Option<&str> {
        match self {
            Step::AddField { store, .. }
            | Step::RemoveField { store, .. }
            | Step::RenameField { store, .. }
            | Step::Transform { store, .. } => Some(store),
            _ => None,
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::CreateStore {
                store,
                key_path,
                auto_increment,
            } => {
                write!(f, "create store {store:?}")?;
                match key_path {
                    Some(kp) => write!(f, " with key path {kp}")?,
                    None => f.write_str(" with out-of-line keys")?,
                }
                if *auto_increment {
                    f.write_str(", auto-increment")?;
                }
                Ok(())
            }
            Step::DeleteStore { store } => write!(f, "delete store {store:?} and all its records"),
            Step::RenameStore { from, to } => write!(f, "rename store {from:?} to {to:?}"),
            Step::CreateIndex {
                store,
                index,
                key_path,
                unique,
                multi_entry,
            } => {
                write!(f, "create index {index:?} on {store:?} ({key_path}")?;
                if *unique {
                    f.write_str(", unique")?;
                }
                if *multi_entry {
                    f.write_str(", multi-entry")?;
                }
                f.write_str(")")
            }
            Step::DeleteIndex { store, index } => write!(f, "delete index {index:?} of {store:?}"),
            Step::AddField {
                store,
                field,
                value,
            } => {
                write!(
                    f,
                    "add field {field:?} = {value} to every record of {store:?}"
                )
            }
            Step::RemoveField { store, field } => {
                write!(f, "remove field {field:?} from every record of {store:?}")
            }
            Step::RenameField { store, from, to } => {
                write!(
                    f,
                    "rename field {from:?} to {to:?} in every record of {store:?}"
                )
            }
            Step::Transform {
                store,
                name,
                description,
            } => {
                write!(f, "run transform {name:?} on every record of {store:?}")?;
                if let Some(d) = description {
                    write!(f, " ({d})")?;
                }
                Ok(())
            }
            Step::ChangeKey {
                store,
                key_path,
                auto_increment,
            } => {
                write!(
                    f,
                    "change the primary key of {store:?} to key path {key_path}"
                )?;
                if *auto_increment {
                    f.write_str(", auto-increment")?;
                }
                f.write_str(" (every record moves)")
            }
        }
    }
}

/// One schema version's migration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Migration {
    pub version: u32,
    pub name: String,
    pub up: Vec<Step>,
    /// `None`: irreversible. `Some(vec![])`: reversible with nothing to undo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down: Option<Vec<Step>>,
}

/// SHA-256 of a migration's canonical form, lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Checksum(pub String);

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Checksum {
    pub fn short(&self) -> &str {
        self.0.get(..12).unwrap_or(&self.0)
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

impl Migration {
    /// The checksum covers everything that decides what the migration does — version, name,
    /// every step and their order — in a canonical JSON form (fixed field order, object keys of
    /// `addField` values sorted), so formatting or key order in a file never changes it.
    pub fn checksum(&self) -> Checksum {
        let value = serde_json::to_value(self).unwrap_or_default();
        let mut canonical = String::new();
        write_canonical(&value, &mut canonical);
        Checksum(hex(&Sha256::digest(canonical.as_bytes())))
    }

    pub fn is_reversible(&self) -> bool {
        self.down.is_some()
    }

    /// Parses one migration from JSON, with an error that names the source.
    pub fn from_json(source: &str, json: &str) -> Result<Migration, crate::MigrationError> {
        serde_json::from_str(json).map_err(|e| crate::MigrationError::InvalidMigration {
            location: source.to_string(),
            reason: e.to_string(),
        })
    }
}

/// JSON with object keys sorted at every level, whatever map type serde_json was built with.
fn write_canonical(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The name a `transform` step gets when it carries a function but no name: stable across page
/// loads (it is part of the migration's checksum), unique within the history.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) fn generated_transform_name(
    version: Option<u32>,
    index: usize,
    down: bool,
    step: usize,
) -> String {
    let which = match version {
        Some(v) => format!("v{v}"),
        None => format!("migrations[{index}]"),
    };
    let list = if down { "down" } else { "up" };
    format!("{which}.{list}[{step}]")
}

#[cfg(test)]
mod tests {
    use super::generated_transform_name;

    #[test]
    fn generated_names_are_stable_and_distinct() {
        assert_eq!(generated_transform_name(Some(3), 2, false, 1), "v3.up[1]");
        assert_eq!(generated_transform_name(Some(3), 2, true, 1), "v3.down[1]");
        assert_eq!(
            generated_transform_name(None, 4, false, 0),
            "migrations[4].up[0]"
        );
    }
}
