//! Migration definitions from files: arbitrary UTF-8, split into files at NUL bytes, each
//! `<file name>\n<JSON>`. `Migration::from_json` and `MigrationSet::from_files` give a value or
//! an `InvalidMigration` error, never a panic; a valid set plans every way between its versions.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rewind::{Migration, MigrationError, MigrationSet, Transforms};
use std::collections::BTreeMap;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let files: Vec<(&str, &str)> = text
        .split('\0')
        .take(64)
        .map(|f| f.split_once('\n').unwrap_or(("0001_x.json", f)))
        .collect();
    for (name, json) in &files {
        match Migration::from_json(name, json) {
            Ok(m) => {
                let _ = m.checksum();
                let _ = m.is_reversible();
                for step in m.up.iter().chain(m.down.iter().flatten()) {
                    let _ = step.to_string();
                }
            }
            Err(MigrationError::InvalidMigration { .. }) => {}
            Err(other) => panic!("from_json gave {other:?}, not InvalidMigration"),
        }
    }
    match MigrationSet::from_files(&files) {
        Ok(set) => {
            let latest = set.latest();
            let _ = set.checksums();
            let counts = BTreeMap::new();
            let transforms = Transforms::new();
            for from in 0..=latest.min(8) {
                for to in 0..=latest.min(8) {
                    if let Ok(plan) = set.plan(from, to, &counts, &transforms) {
                        let _ = plan.step_count();
                    }
                }
            }
            let _ = set.schema_at(latest).map(|s| s.to_string());
        }
        Err(MigrationError::InvalidMigration { .. }) => {}
        Err(other) => panic!("from_files gave {other:?}, not InvalidMigration"),
    }
});
