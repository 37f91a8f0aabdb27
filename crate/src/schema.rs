//! The schema model: what IndexedDB lets an app declare about its data.
//!
//! It mirrors IndexedDB exactly (a key path is absent, one string, or a list of strings; an
//! index has its own key path, `unique` and `multiEntry`) so that a schema read from a live
//! database and a schema derived from migrations compare equal when, and only when, IndexedDB
//! would behave the same for both.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A key path as IndexedDB defines it: one (possibly dotted, possibly empty) path, or a
/// compound list of paths.
///
/// Read by hand, not as an untagged enum: that buffers every key path and instantiates a
/// reader per JSON source (docs/size.md).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum KeyPath {
    Single(String),
    Compound(Vec<String>),
}

impl<'de> Deserialize<'de> for KeyPath {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<KeyPath, D::Error> {
        struct Paths;
        impl<'de> serde::de::Visitor<'de> for Paths {
            type Value = KeyPath;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key path: a string or an array of strings")
            }
            fn visit_str<E: serde::de::Error>(self, path: &str) -> Result<KeyPath, E> {
                Ok(KeyPath::Single(path.to_owned()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<KeyPath, A::Error> {
                let mut paths = Vec::new();
                while let Some(path) = seq.next_element::<String>()? {
                    paths.push(path);
                }
                Ok(KeyPath::Compound(paths))
            }
        }
        d.deserialize_any(Paths)
    }
}

impl KeyPath {
    pub fn single(path: impl Into<String>) -> Self {
        KeyPath::Single(path.into())
    }

    pub fn compound<I, S>(paths: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        KeyPath::Compound(paths.into_iter().map(Into::into).collect())
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyPath::Single(p) => write!(f, "{p:?}"),
            KeyPath::Compound(ps) => {
                f.write_str("[")?;
                for (i, p) in ps.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{p:?}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// One index of an object store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexSchema {
    pub name: String,
    pub key_path: KeyPath,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub multi_entry: bool,
}

impl IndexSchema {
    pub fn new(name: impl Into<String>, key_path: KeyPath) -> Self {
        IndexSchema {
            name: name.into(),
            key_path,
            unique: false,
            multi_entry: false,
        }
    }

    pub fn unique(mut self, unique: bool) -> Self {
        self.unique = unique;
        self
    }

    pub fn multi_entry(mut self, multi_entry: bool) -> Self {
        self.multi_entry = multi_entry;
        self
    }
}

/// One object store. `key_path: None` means out-of-line keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreSchema {
    pub name: String,
    #[serde(default)]
    pub key_path: Option<KeyPath>,
    #[serde(default)]
    pub auto_increment: bool,
    /// Keyed by index name, so that equality ignores the order IndexedDB happens to list them in.
    #[serde(default)]
    pub indexes: BTreeMap<String, IndexSchema>,
}

impl StoreSchema {
    pub fn new(name: impl Into<String>, key_path: Option<KeyPath>, auto_increment: bool) -> Self {
        StoreSchema {
            name: name.into(),
            key_path,
            auto_increment,
            indexes: BTreeMap::new(),
        }
    }

    pub fn with_index(mut self, index: IndexSchema) -> Self {
        self.indexes.insert(index.name.clone(), index);
        self
    }
}

/// The structure of one database: its object stores and their indexes.
///
/// It holds no version: the IndexedDB version only ever goes up and says nothing about which
/// schema is installed, so it is kept apart (see [`DatabaseSummary`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseSchema {
    pub stores: BTreeMap<String, StoreSchema>,
}

impl DatabaseSchema {
    pub fn with_store(mut self, store: StoreSchema) -> Self {
        self.stores.insert(store.name.clone(), store);
        self
    }

    pub fn store(&self, name: &str) -> Option<&StoreSchema> {
        self.stores.get(name)
    }
}

impl fmt::Display for StoreSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "store {:?}", self.name)?;
        match &self.key_path {
            Some(kp) => write!(f, " key {kp}")?,
            None => f.write_str(" out-of-line keys")?,
        }
        if self.auto_increment {
            f.write_str(", auto-increment")?;
        }
        for index in self.indexes.values() {
            write!(f, "\n  {index}")?;
        }
        Ok(())
    }
}

impl fmt::Display for IndexSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "index {:?} on {}", self.name, self.key_path)?;
        if self.unique {
            f.write_str(", unique")?;
        }
        if self.multi_entry {
            f.write_str(", multi-entry")?;
        }
        Ok(())
    }
}

impl fmt::Display for DatabaseSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.stores.is_empty() {
            return f.write_str("(no object stores)");
        }
        for (i, store) in self.stores.values().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{store}")?;
        }
        Ok(())
    }
}

/// One database of the origin as `indexedDB.databases()` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseListing {
    pub name: String,
    pub idb_version: u64,
}

/// What the recovery page shows about one live database: name, IndexedDB version, schema and
/// how many records each store holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseSummary {
    pub name: String,
    pub idb_version: u64,
    pub schema: DatabaseSchema,
    pub record_counts: BTreeMap<String, u64>,
}

impl DatabaseSummary {
    pub fn total_records(&self) -> u64 {
        self.record_counts.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notes_schema() -> DatabaseSchema {
        DatabaseSchema::default()
            .with_store(
                StoreSchema::new("notes", Some(KeyPath::single("id")), true)
                    .with_index(
                        IndexSchema::new("by_tag", KeyPath::single("tags")).multi_entry(true),
                    )
                    .with_index(
                        IndexSchema::new("by_title", KeyPath::single("meta.title")).unique(true),
                    ),
            )
            .with_store(StoreSchema::new("blobs", None, false))
            .with_store(
                StoreSchema::new("people", Some(KeyPath::compound(["last", "first"])), false)
                    .with_index(IndexSchema::new(
                        "by_name",
                        KeyPath::compound(["last", "first"]),
                    )),
            )
    }

    #[test]
    fn index_order_does_not_matter_for_equality() {
        let a = StoreSchema::new("s", None, false)
            .with_index(IndexSchema::new("a", KeyPath::single("a")))
            .with_index(IndexSchema::new("b", KeyPath::single("b")));
        let b = StoreSchema::new("s", None, false)
            .with_index(IndexSchema::new("b", KeyPath::single("b")))
            .with_index(IndexSchema::new("a", KeyPath::single("a")));
        assert_eq!(a, b);
    }

    #[test]
    fn every_option_changes_equality() {
        let base = notes_schema();
        let mut other = base.clone();
        other.stores.get_mut("notes").unwrap().auto_increment = false;
        assert_ne!(base, other);

        let mut other = base.clone();
        let idx = other
            .stores
            .get_mut("notes")
            .unwrap()
            .indexes
            .get_mut("by_tag")
            .unwrap();
        idx.multi_entry = false;
        assert_ne!(base, other);

        let mut other = base.clone();
        other.stores.get_mut("people").unwrap().key_path =
            Some(KeyPath::compound(["first", "last"]));
        assert_ne!(base, other, "compound key path order matters");

        let mut other = base.clone();
        other.stores.get_mut("blobs").unwrap().key_path = Some(KeyPath::single(""));
        assert_ne!(base, other, "empty key path is not out-of-line keys");
    }

    #[test]
    fn serde_uses_indexeddb_shapes() {
        let json = serde_json::to_value(notes_schema()).unwrap();
        assert_eq!(json["stores"]["notes"]["keyPath"], "id");
        assert_eq!(json["stores"]["notes"]["autoIncrement"], true);
        assert_eq!(
            json["stores"]["people"]["keyPath"],
            serde_json::json!(["last", "first"])
        );
        assert_eq!(json["stores"]["blobs"]["keyPath"], serde_json::Value::Null);
        assert_eq!(
            json["stores"]["notes"]["indexes"]["by_tag"]["multiEntry"],
            true
        );
        let back: DatabaseSchema = serde_json::from_value(json).unwrap();
        assert_eq!(back, notes_schema());
    }

    #[test]
    fn missing_optional_fields_take_indexeddb_defaults() {
        let store: StoreSchema = serde_json::from_str(r#"{"name":"s"}"#).unwrap();
        assert_eq!(store, StoreSchema::new("s", None, false));
        let index: IndexSchema =
            serde_json::from_str(r#"{"name":"i","keyPath":["a","b"]}"#).unwrap();
        assert!(!index.unique && !index.multi_entry);
        assert_eq!(index.key_path, KeyPath::compound(["a", "b"]));
    }

    #[test]
    fn a_wrong_key_path_type_is_rejected() {
        let err = serde_json::from_str::<StoreSchema>(r#"{"name":"s","keyPath":7}"#);
        assert!(err.is_err());
    }

    #[test]
    fn renders_for_people() {
        let text = notes_schema().to_string();
        assert_eq!(
            text,
            "store \"blobs\" out-of-line keys\n\
             store \"notes\" key \"id\", auto-increment\n  \
             index \"by_tag\" on \"tags\", multi-entry\n  \
             index \"by_title\" on \"meta.title\", unique\n\
             store \"people\" key [\"last\", \"first\"]\n  \
             index \"by_name\" on [\"last\", \"first\"]"
        );
        assert_eq!(DatabaseSchema::default().to_string(), "(no object stores)");
    }

    #[test]
    fn summary_totals_records() {
        let summary = DatabaseSummary {
            name: "n".into(),
            idb_version: 3,
            schema: notes_schema(),
            record_counts: [("notes".to_string(), 10), ("blobs".to_string(), 5)].into(),
        };
        assert_eq!(summary.total_records(), 15);
    }
}
