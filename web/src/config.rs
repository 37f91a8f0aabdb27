//! The page's configuration: `rewind.json`, read from beside the page at run time, so that an
//! app gets a recovery page by copying a folder and writing a file, without building Rust.
//!
//! ```json
//! {"databases": [{"name": "notes", "migrations": "migrations.json",
//!                 "transforms": "transforms.js", "baseline": "auto"}]}
//! ```
//!
//! This module only checks the file's shape (natively tested); `config_load` fetches it and
//! what it names, and hands the migrations to the library's own parser of migration objects
//! (`rewind::migrations_from_js`, the one `Rewind.open` uses), so the two cannot disagree.
//! Every error names the file and the field, and says what to do: the person reading it is
//! the app's developer setting the page up, or a user who can forward it.

use rewind::Baseline;
use serde_json::Value;

/// The configuration's file name, beside the page's `index.html`.
pub const CONFIG_FILE: &str = "rewind.json";

/// A minimal configuration, shown with every error about the file itself.
pub const EXAMPLE: &str = r#"{"databases": [{"name": "notes", "migrations": "migrations.json", "transforms": "transforms.js", "baseline": "auto"}]}"#;

/// One database the app manages, as `rewind.json` describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseConfig {
    pub name: String,
    pub migrations: MigrationsSource,
    /// The URL (relative to `rewind.json`) of a same-origin ES module exporting the transform
    /// functions the migrations name.
    pub transforms: Option<String>,
    pub baseline: Option<Baseline>,
}

/// Where a database's migrations are: a URL relative to `rewind.json`, or the array itself.
#[derive(Debug, Clone, PartialEq)]
pub enum MigrationsSource {
    Url(String),
    Inline(Value),
}

/// What is wrong with the configuration, and what to do about it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "{file} was not found: {url} answered HTTP {status}. Put the file there (beside \
         this page's index.html for {CONFIG_FILE}, or where {CONFIG_FILE} points), then reload."
    )]
    Missing {
        file: String,
        url: String,
        status: u16,
    },
    #[error(
        "{file} could not be read ({reason}). Check that the site serves it at {url}, then \
         reload; once the page has been opened with it, it also opens offline."
    )]
    Unreadable {
        file: String,
        url: String,
        reason: String,
    },
    #[error("{file} is not valid JSON: {reason}. Fix the file, then reload.")]
    NotJson { file: String, reason: String },
    #[error("{CONFIG_FILE}, field {field}: {reason}. Fix the field, then reload.")]
    Invalid { field: String, reason: String },
    #[error(
        "The migrations of database {database:?} ({file}) are invalid: {reason}. Fix {file} \
         (the same migration objects Rewind.open takes), then reload."
    )]
    Migrations {
        database: String,
        file: String,
        reason: String,
    },
    #[error(
        "The transforms of database {database:?} could not be loaded from {file}: {reason}. \
         It must be a JavaScript module of this site exporting each transform by name \
         (export function count_words(record) {{ … }}); fix it, then reload."
    )]
    Transforms {
        database: String,
        file: String,
        reason: String,
    },
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

const DATABASE_FIELDS: &[&str] = &["name", "migrations", "transforms", "baseline"];

/// The databases `rewind.json` (its text) describes, every field checked.
pub fn parse(text: &str) -> Result<Vec<DatabaseConfig>, ConfigError> {
    let value: Value = serde_json::from_str(text).map_err(|e| ConfigError::NotJson {
        file: CONFIG_FILE.into(),
        reason: e.to_string(),
    })?;
    let Value::Object(top) = value else {
        return Err(invalid(
            "(the whole file)",
            format!("expected an object like {EXAMPLE}, found {}", kind(&value)),
        ));
    };
    if let Some(key) = top.keys().find(|k| k.as_str() != "databases") {
        return Err(invalid(
            key,
            "is not a field of the configuration (only \"databases\")",
        ));
    }
    let list = match top.get("databases") {
        None => return Err(invalid("databases", format!("is missing; write {EXAMPLE}"))),
        Some(Value::Array(list)) if list.is_empty() => {
            return Err(invalid(
                "databases",
                "lists no database: add one object per database the app manages",
            ))
        }
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(invalid(
                "databases",
                format!("must be an array of databases, not {}", kind(other)),
            ))
        }
    };
    let mut databases: Vec<DatabaseConfig> = Vec::with_capacity(list.len());
    for (i, entry) in list.iter().enumerate() {
        let at = |field: &str| format!("databases[{i}].{field}");
        let Value::Object(entry) = entry else {
            return Err(invalid(
                format!("databases[{i}]"),
                format!(
                    "must be an object with a name and migrations, not {}",
                    kind(entry)
                ),
            ));
        };
        if let Some(key) = entry
            .keys()
            .find(|k| !DATABASE_FIELDS.contains(&k.as_str()))
        {
            return Err(invalid(
                at(key),
                format!(
                    "is not a field of a database (known: {})",
                    DATABASE_FIELDS.join(", ")
                ),
            ));
        }
        let name = match entry.get("name") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::String(_)) => return Err(invalid(at("name"), "is empty")),
            None => {
                return Err(invalid(
                    at("name"),
                    "is missing: give the IndexedDB database's name",
                ))
            }
            Some(other) => {
                return Err(invalid(
                    at("name"),
                    format!("must be a string, not {}", kind(other)),
                ))
            }
        };
        if databases.iter().any(|d| d.name == name) {
            return Err(invalid(at("name"), format!("{name:?} is listed twice")));
        }
        let migrations = match entry.get("migrations") {
            Some(Value::String(s)) if !s.trim().is_empty() => MigrationsSource::Url(s.clone()),
            Some(list @ Value::Array(_)) => MigrationsSource::Inline(list.clone()),
            None => {
                return Err(invalid(
                    at("migrations"),
                    "is missing: give the URL of a JSON array of migrations, or the array",
                ))
            }
            Some(other) => {
                return Err(invalid(
                    at("migrations"),
                    format!(
                        "must be a URL (a non-empty string) or an array of migrations, not {}",
                        kind(other)
                    ),
                ))
            }
        };
        let transforms = match entry.get("transforms") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            Some(other) => {
                return Err(invalid(
                    at("transforms"),
                    format!(
                        "must be the URL of a JavaScript module (a non-empty string), not {}",
                        kind(other)
                    ),
                ))
            }
        };
        let baseline = match entry.get("baseline") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s == "auto" => Some(Baseline::Auto),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v @ 1..) if v <= u32::MAX as u64 => Some(Baseline::Version(v as u32)),
                _ => {
                    return Err(invalid(
                        at("baseline"),
                        format!("must be a schema version (1, 2, 3…) or \"auto\", not {n}"),
                    ))
                }
            },
            Some(other) => {
                return Err(invalid(
                    at("baseline"),
                    format!("must be a schema version (1, 2, 3…) or \"auto\", not {other}"),
                ))
            }
        };
        databases.push(DatabaseConfig {
            name,
            migrations,
            transforms,
            baseline,
        });
    }
    Ok(databases)
}

/// A baseline version beyond the migrations' latest is an error of the configuration.
pub fn check_baseline(
    index: usize,
    baseline: Option<Baseline>,
    latest: u32,
) -> Result<(), ConfigError> {
    match baseline {
        Some(Baseline::Version(v)) if v > latest => Err(invalid(
            format!("databases[{index}].baseline"),
            format!("is {v}, but the migrations end at version {latest}"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_error(text: &str) -> (String, String) {
        match parse(text) {
            Err(ConfigError::Invalid { field, reason }) => (field, reason),
            other => panic!("expected an invalid field, got {other:?}"),
        }
    }

    #[test]
    fn the_example_parses() {
        let dbs = parse(EXAMPLE).expect("valid");
        assert_eq!(
            dbs,
            vec![DatabaseConfig {
                name: "notes".into(),
                migrations: MigrationsSource::Url("migrations.json".into()),
                transforms: Some("transforms.js".into()),
                baseline: Some(Baseline::Auto),
            }]
        );
    }

    #[test]
    fn inline_migrations_a_version_baseline_and_several_databases() {
        let text = json!({"databases": [
            {"name": "a", "migrations": [{"version": 1, "name": "x", "up": []}], "baseline": 2},
            {"name": "b", "migrations": "m.json"}
        ]})
        .to_string();
        let dbs = parse(&text).expect("valid");
        assert_eq!(dbs.len(), 2);
        assert!(
            matches!(dbs[0].migrations, MigrationsSource::Inline(Value::Array(ref a)) if a.len() == 1)
        );
        assert_eq!(dbs[0].baseline, Some(Baseline::Version(2)));
        assert_eq!(dbs[1].transforms, None);
        assert_eq!(dbs[1].baseline, None);
    }

    #[test]
    fn text_that_is_not_json_says_where() {
        let e = parse("{\"databases\": [").unwrap_err();
        assert!(matches!(e, ConfigError::NotJson { ref file, .. } if file == CONFIG_FILE));
        assert!(e.to_string().contains("line 1"), "{e}");
    }

    #[test]
    fn each_wrong_field_is_named() {
        let cases = [
            ("[]", "(the whole file)"),
            ("{}", "databases"),
            ("{\"databases\": []}", "databases"),
            ("{\"databases\": {}}", "databases"),
            ("{\"databases\": [], \"extra\": 1}", "extra"),
            ("{\"databases\": [3]}", "databases[0]"),
            ("{\"databases\": [{\"migrations\": \"m.json\"}]}", "databases[0].name"),
            ("{\"databases\": [{\"name\": \"\", \"migrations\": \"m.json\"}]}", "databases[0].name"),
            ("{\"databases\": [{\"name\": \"n\"}]}", "databases[0].migrations"),
            ("{\"databases\": [{\"name\": \"n\", \"migrations\": 2}]}", "databases[0].migrations"),
            ("{\"databases\": [{\"name\": \"n\", \"migrations\": \"m\", \"transforms\": 1}]}", "databases[0].transforms"),
            ("{\"databases\": [{\"name\": \"n\", \"migrations\": \"m\", \"baseline\": 0}]}", "databases[0].baseline"),
            ("{\"databases\": [{\"name\": \"n\", \"migrations\": \"m\", \"baseline\": \"latest\"}]}", "databases[0].baseline"),
            ("{\"databases\": [{\"name\": \"n\", \"migrations\": \"m\", \"baseline\": 1.5}]}", "databases[0].baseline"),
            ("{\"databases\": [{\"name\": \"n\", \"migrations\": \"m\", \"migration\": \"m\"}]}", "databases[0].migration"),
            ("{\"databases\": [{\"name\": \"n\", \"migrations\": \"m\"}, {\"name\": \"n\", \"migrations\": \"m\"}]}", "databases[1].name"),
        ];
        for (text, expected) in cases {
            let (field, reason) = field_error(text);
            assert_eq!(field, expected, "{text}: {reason}");
            assert!(!reason.is_empty());
        }
    }

    #[test]
    fn messages_name_the_file_and_the_field_and_say_what_to_do() {
        let e = parse("{\"databases\": [{\"name\": \"n\"}]}")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("rewind.json, field databases[0].migrations: is missing"),
            "{e}"
        );
        assert!(e.ends_with("Fix the field, then reload."), "{e}");
        let missing = ConfigError::Missing {
            file: CONFIG_FILE.into(),
            url: "http://x/app/recovery/rewind.json".into(),
            status: 404,
        }
        .to_string();
        assert!(
            missing.contains(
                "rewind.json was not found: http://x/app/recovery/rewind.json answered HTTP 404"
            ),
            "{missing}"
        );
    }

    #[test]
    fn a_baseline_beyond_the_migrations_is_refused() {
        assert!(check_baseline(0, Some(Baseline::Version(3)), 3).is_ok());
        assert!(check_baseline(0, Some(Baseline::Auto), 3).is_ok());
        assert!(check_baseline(0, None, 3).is_ok());
        let e = check_baseline(1, Some(Baseline::Version(4)), 3).unwrap_err();
        assert!(
            matches!(e, ConfigError::Invalid { ref field, .. } if field == "databases[1].baseline")
        );
    }
}
