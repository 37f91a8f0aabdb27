//! The demo notes app's migrations (the files in `migrations/`, embedded at compile time) and
//! the transforms they name. An app that ships this recovery page puts its own here.

use rewind::{MigrationError, MigrationSet, Migrator, RecordAccess, Transforms};

static FILES: &[(&str, &str)] = rewind::embed_migrations!("../migrations");

/// The demo notes app's database (created by `crate::demo` in demo builds).
pub const DEMO_DATABASE: &str = "notes-demo";

/// `count_words`: sets `meta.wordCount` from `content` (migration 3).
pub fn transforms() -> Transforms {
    Transforms::new().register("count_words", |r: &mut dyn RecordAccess| {
        let words = r
            .get(&["content"])
            .and_then(|v| v.as_str().map(|s| s.split_whitespace().count()))
            .unwrap_or(0);
        r.set(&["meta", "wordCount"], serde_json::json!(words))
    })
}

pub fn migrator() -> Result<Migrator, MigrationError> {
    Ok(Migrator::new(
        MigrationSet::from_files(FILES)?,
        transforms(),
    ))
}

/// The latest schema version this app knows.
pub fn latest_version() -> Result<u32, MigrationError> {
    Ok(MigrationSet::from_files(FILES)?.latest())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rewind::JsonRecord;
    use serde_json::json;

    #[test]
    fn the_embedded_history_is_valid() {
        let m = migrator().expect("valid migrations");
        assert_eq!(m.migrations().latest() as usize, FILES.len());
        assert_eq!(latest_version().unwrap(), m.migrations().latest());
    }

    #[test]
    fn count_words_counts_and_handles_missing_content() {
        let t = transforms();
        let f = t.get("count_words").unwrap();
        let mut v = json!({"content": "a b  c"});
        f(&mut JsonRecord(&mut v)).unwrap();
        assert_eq!(v["meta"]["wordCount"], 3);
        let mut v = json!({"meta": {"x": 1}});
        f(&mut JsonRecord(&mut v)).unwrap();
        assert_eq!(v["meta"], json!({"x": 1, "wordCount": 0}));
    }
}
