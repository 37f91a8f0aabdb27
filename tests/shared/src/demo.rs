//! The demo notes app's history (`migrations/`), as the tests of the engine and of the
//! IndexedDB adapter use it. The recovery page keeps its own copy of the transform: there it
//! is the app's code, shipped with the page, which test support is not.

use rewind::{MigrationSet, RecordAccess, Transforms};
use serde_json::json;

/// `migrations/*.json`, in version order.
pub static DEMO_MIGRATIONS: &[(&str, &str)] = rewind::embed_migrations!("../../migrations");

/// The demo history up to version `upto`.
pub fn demo_migrations(upto: usize) -> MigrationSet {
    MigrationSet::from_files(&DEMO_MIGRATIONS[..upto]).expect("the demo migrations are valid")
}

/// The transform migration 3 names: `meta.wordCount` from `content` (0 without content).
pub fn count_words() -> Transforms {
    Transforms::new().register("count_words", |r: &mut dyn RecordAccess| {
        let words = r
            .get(&["content"])
            .and_then(|v| v.as_str().map(|s| s.split_whitespace().count()));
        r.set(&["meta", "wordCount"], json!(words.unwrap_or(0)))
    })
}
