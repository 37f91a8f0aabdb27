//! A history whose version 2 changes a store's primary key, as the tests of the engine (the
//! in-memory backend) and of the IndexedDB adapter run it.

use rewind::{Migration, MigrationSet};
use serde_json::json;

/// Version 1: `notes` keyed by `id` (auto-increment), with a unique index `by_title` and a
/// multi-entry index `by_tag`. Version 2: `notes` keyed by `uuid`; its `down` the inverse step.
pub fn change_key_history() -> MigrationSet {
    let migration = |value| -> Migration {
        serde_json::from_value(value).expect("the key-change history is valid")
    };
    let v1 = migration(json!({"version": 1, "name": "notes",
        "up": [{"op": "createStore", "store": "notes", "keyPath": "id", "autoIncrement": true},
               {"op": "createIndex", "store": "notes", "index": "by_title", "keyPath": "title",
                "unique": true},
               {"op": "createIndex", "store": "notes", "index": "by_tag", "keyPath": "tags",
                "multiEntry": true}],
        "down": [{"op": "deleteStore", "store": "notes"}]}));
    let v2 = migration(json!({"version": 2, "name": "key by uuid",
        "up": [{"op": "changeKey", "store": "notes", "keyPath": "uuid"}],
        "down": [{"op": "changeKey", "store": "notes", "keyPath": "id", "autoIncrement": true}]}));
    MigrationSet::new(vec![v1, v2]).expect("the key-change history is valid")
}
