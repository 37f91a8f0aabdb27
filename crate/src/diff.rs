//! The difference between the schema a version implies and the schema that is live.

use crate::schema::{DatabaseSchema, IndexSchema, KeyPath, StoreSchema};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProblemKind {
    MissingStore,
    ExtraStore,
    KeyPath,
    AutoIncrement,
    MissingIndex,
    ExtraIndex,
    IndexKeyPath,
    Unique,
    MultiEntry,
}

/// One difference, in the shape the JavaScript API returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaProblem {
    pub kind: ProblemKind,
    pub store: String,
    pub index: Option<String>,
    pub expected: Option<String>,
    pub actual: Option<String>,
    pub message: String,
}

/// All differences, stores and indexes in name order. Empty means the schemas are equal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaDiff {
    pub problems: Vec<SchemaProblem>,
}

impl SchemaDiff {
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for SchemaDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.problems.is_empty() {
            return f.write_str("no differences");
        }
        let messages: Vec<&str> = self.problems.iter().map(|p| p.message.as_str()).collect();
        f.write_str(&messages.join("; "))
    }
}

fn key_path_text(kp: &Option<KeyPath>) -> String {
    match kp {
        Some(kp) => kp.to_string(),
        None => "out-of-line keys".into(),
    }
}

fn problem(
    kind: ProblemKind,
    store: &str,
    index: Option<&str>,
    expected: Option<String>,
    actual: Option<String>,
    message: String,
) -> SchemaProblem {
    SchemaProblem {
        kind,
        store: store.into(),
        index: index.map(Into::into),
        expected,
        actual,
        message,
    }
}

/// Compares `expected` with `actual` and lists every difference.
pub fn diff(expected: &DatabaseSchema, actual: &DatabaseSchema) -> SchemaDiff {
    let mut problems = Vec::new();
    let names: std::collections::BTreeSet<&String> =
        expected.stores.keys().chain(actual.stores.keys()).collect();
    for name in names {
        match (expected.stores.get(name), actual.stores.get(name)) {
            (Some(_), None) => problems.push(problem(
                ProblemKind::MissingStore,
                name,
                None,
                Some("present".into()),
                Some("missing".into()),
                format!("store {name:?} is missing"),
            )),
            (None, Some(_)) => problems.push(problem(
                ProblemKind::ExtraStore,
                name,
                None,
                Some("absent".into()),
                Some("present".into()),
                format!("store {name:?} should not exist"),
            )),
            (Some(e), Some(a)) => diff_store(e, a, &mut problems),
            (None, None) => {}
        }
    }
    SchemaDiff { problems }
}

fn diff_store(e: &StoreSchema, a: &StoreSchema, out: &mut Vec<SchemaProblem>) {
    let name = &e.name;
    if e.key_path != a.key_path {
        let (ek, ak) = (key_path_text(&e.key_path), key_path_text(&a.key_path));
        out.push(problem(
            ProblemKind::KeyPath,
            name,
            None,
            Some(ek.clone()),
            Some(ak.clone()),
            format!("store {name:?} has key {ak} instead of {ek}"),
        ));
    }
    if e.auto_increment != a.auto_increment {
        let says = if e.auto_increment {
            "should be auto-increment but is not"
        } else {
            "should not be auto-increment but is"
        };
        out.push(problem(
            ProblemKind::AutoIncrement,
            name,
            None,
            Some(e.auto_increment.to_string()),
            Some(a.auto_increment.to_string()),
            format!("store {name:?} {says}"),
        ));
    }
    let names: std::collections::BTreeSet<&String> =
        e.indexes.keys().chain(a.indexes.keys()).collect();
    for index in names {
        match (e.indexes.get(index), a.indexes.get(index)) {
            (Some(ei), None) => out.push(problem(
                ProblemKind::MissingIndex,
                name,
                Some(index),
                Some(ei.to_string()),
                None,
                format!("index {index:?} of store {name:?} is missing"),
            )),
            (None, Some(ai)) => out.push(problem(
                ProblemKind::ExtraIndex,
                name,
                Some(index),
                None,
                Some(ai.to_string()),
                format!("index {index:?} of store {name:?} should not exist"),
            )),
            (Some(ei), Some(ai)) => diff_index(name, ei, ai, out),
            (None, None) => {}
        }
    }
}

fn diff_index(store: &str, e: &IndexSchema, a: &IndexSchema, out: &mut Vec<SchemaProblem>) {
    let index = e.name.as_str();
    if e.key_path != a.key_path {
        out.push(problem(
            ProblemKind::IndexKeyPath,
            store,
            Some(index),
            Some(e.key_path.to_string()),
            Some(a.key_path.to_string()),
            format!(
                "index {index:?} of store {store:?} is on {} instead of {}",
                a.key_path, e.key_path
            ),
        ));
    }
    for (kind, label, want, have) in [
        (ProblemKind::Unique, "unique", e.unique, a.unique),
        (
            ProblemKind::MultiEntry,
            "multi-entry",
            e.multi_entry,
            a.multi_entry,
        ),
    ] {
        if want != have {
            let says = if want { "should be" } else { "should not be" };
            out.push(problem(
                kind,
                store,
                Some(index),
                Some(want.to_string()),
                Some(have.to_string()),
                format!("index {index:?} of store {store:?} {says} {label}"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> DatabaseSchema {
        DatabaseSchema::default()
            .with_store(
                StoreSchema::new("notes", Some(KeyPath::single("id")), true)
                    .with_index(
                        IndexSchema::new("by_tag", KeyPath::single("tags")).multi_entry(true),
                    )
                    .with_index(IndexSchema::new("by_slug", KeyPath::single("slug")).unique(true)),
            )
            .with_store(StoreSchema::new("files", None, false))
    }

    fn kinds(d: &SchemaDiff) -> Vec<ProblemKind> {
        d.problems.iter().map(|p| p.kind).collect()
    }

    #[test]
    fn equal_schemas_have_no_difference() {
        let d = diff(&base(), &base());
        assert!(d.is_empty());
        assert_eq!(d.to_string(), "no differences");
    }

    #[test]
    fn missing_and_extra_stores() {
        let mut actual = base();
        actual.stores.remove("files");
        actual = actual.with_store(StoreSchema::new("zzz", None, false));
        let d = diff(&base(), &actual);
        assert_eq!(
            kinds(&d),
            vec![ProblemKind::MissingStore, ProblemKind::ExtraStore]
        );
        assert_eq!(d.problems[0].store, "files");
        assert_eq!(d.problems[0].message, "store \"files\" is missing");
        assert_eq!(d.problems[1].message, "store \"zzz\" should not exist");
    }

    #[test]
    fn key_path_and_auto_increment() {
        let mut actual = base();
        let notes = actual.stores.get_mut("notes").unwrap();
        notes.key_path = Some(KeyPath::compound(["a", "b"]));
        notes.auto_increment = false;
        let d = diff(&base(), &actual);
        assert_eq!(
            kinds(&d),
            vec![ProblemKind::KeyPath, ProblemKind::AutoIncrement]
        );
        assert_eq!(d.problems[0].expected.as_deref(), Some("\"id\""));
        assert_eq!(d.problems[0].actual.as_deref(), Some("[\"a\", \"b\"]"));
        assert_eq!(
            d.problems[1].message,
            "store \"notes\" should be auto-increment but is not"
        );
    }

    #[test]
    fn out_of_line_versus_inline() {
        let mut actual = base();
        actual.stores.get_mut("files").unwrap().key_path = Some(KeyPath::single("id"));
        let d = diff(&base(), &actual);
        assert_eq!(d.problems[0].expected.as_deref(), Some("out-of-line keys"));
    }

    #[test]
    fn index_differences() {
        let mut actual = base();
        let notes = actual.stores.get_mut("notes").unwrap();
        notes.indexes.get_mut("by_tag").unwrap().multi_entry = false;
        let slug = notes.indexes.get_mut("by_slug").unwrap();
        slug.unique = false;
        slug.key_path = KeyPath::single("meta.slug");
        notes.indexes.insert(
            "extra".into(),
            IndexSchema::new("extra", KeyPath::single("x")),
        );
        notes.indexes.remove("by_tag");
        let d = diff(&base(), &actual);
        assert_eq!(
            kinds(&d),
            vec![
                ProblemKind::IndexKeyPath,
                ProblemKind::Unique,
                ProblemKind::MissingIndex,
                ProblemKind::ExtraIndex
            ]
        );
        assert_eq!(d.problems[0].index.as_deref(), Some("by_slug"));
        assert_eq!(
            d.problems[0].message,
            "index \"by_slug\" of store \"notes\" is on \"meta.slug\" instead of \"slug\""
        );
        assert_eq!(
            d.problems[1].message,
            "index \"by_slug\" of store \"notes\" should be unique"
        );
        assert_eq!(d.problems[2].index.as_deref(), Some("by_tag"));
    }

    #[test]
    fn multi_entry_mismatch() {
        let mut actual = base();
        let notes = actual.stores.get_mut("notes").unwrap();
        notes.indexes.get_mut("by_tag").unwrap().multi_entry = false;
        let d = diff(&base(), &actual);
        assert_eq!(kinds(&d), vec![ProblemKind::MultiEntry]);
        assert_eq!(
            d.problems[0].message,
            "index \"by_tag\" of store \"notes\" should be multi-entry"
        );
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["problems"][0]["kind"], "multiEntry");
        assert_eq!(json["problems"][0]["index"], "by_tag");
    }
}
