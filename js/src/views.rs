//! What the JavaScript API returns, as plain JSON values (camelCase), and the facts about it
//! that need no browser: error codes.

use rewind::{MigrationPlan, RoundTrip, SchemaDiff};
use serde::Serialize;
use serde_json::{json, Value};

/// The codes only the JavaScript layer gives; the library's are `rewind::RewindError::CODES`.
/// Together they are every `code` a rejected promise's `Error` can carry (`ErrorCode` in the
/// declarations, the README's table).
pub const OWN_ERROR_CODES: &[&str] = &["InvalidArgument", "Closed", "Internal"];

/// A plan as JavaScript sees it: `{ from, to, direction, steps, migrations, effects,
/// fromDatabase }`, where `steps` lists every step in the order it runs, with its migration
/// and a sentence, and `fromDatabase` the versions whose steps the database kept.
pub fn plan_view(plan: &MigrationPlan) -> Result<Value, serde_json::Error> {
    let steps: Vec<Value> = plan
        .migrations
        .iter()
        .flat_map(|m| {
            m.steps.iter().map(move |s| {
                Ok(json!({
                    "version": m.version,
                    "migration": m.name,
                    "description": s.to_string(),
                    "step": serde_json::to_value(s)?,
                }))
            })
        })
        .collect::<Result<_, serde_json::Error>>()?;
    Ok(json!({
        "from": plan.from,
        "to": plan.to,
        "direction": serde_json::to_value(plan.direction)?,
        "steps": steps,
        "migrations": serde_json::to_value(&plan.migrations)?,
        "effects": serde_json::to_value(&plan.effects)?,
        "fromDatabase": plan.from_database,
    }))
}

/// `validate()`'s result: `{ ok, problems }`.
pub fn validation_view(diff: &SchemaDiff) -> Result<Value, serde_json::Error> {
    #[derive(Serialize)]
    struct View<'a> {
        ok: bool,
        problems: &'a [rewind::SchemaProblem],
    }
    serde_json::to_value(View {
        ok: diff.is_empty(),
        problems: &diff.problems,
    })
}

/// `checkMigrations`' result: `{ passed, migrations }`, one entry per migration checked,
/// `{ version, name, passed, irreversible, schemaProblems, firstDifference, error }`. `passed`
/// overall: every reversible migration's round trip gave back what was there and no step
/// failed (an irreversible one cannot be checked: `passed: false, irreversible: true`).
pub fn round_trips_view(trips: &[RoundTrip]) -> Result<Value, serde_json::Error> {
    let migrations: Vec<Value> = trips
        .iter()
        .map(|t| {
            Ok(json!({
                "version": t.version,
                "name": t.name,
                "passed": t.passed(),
                "irreversible": t.irreversible,
                "schemaProblems": serde_json::to_value(&t.schema.problems)?,
                "firstDifference": serde_json::to_value(&t.first_difference)?,
                "error": t.error,
            }))
        })
        .collect::<Result<_, serde_json::Error>>()?;
    let passed = trips
        .iter()
        .all(|t| t.error.is_none() && (t.irreversible || t.passed()));
    Ok(json!({ "passed": passed, "migrations": migrations }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rewind::{Migration, MigrationSet, Migrator, Transforms};
    use std::collections::BTreeMap;

    fn set() -> MigrationSet {
        let m1: Migration = serde_json::from_value(json!({
            "version": 1, "name": "notes",
            "up": [{"op": "createStore", "store": "notes", "keyPath": "id"},
                   {"op": "createIndex", "store": "notes", "index": "by_tag", "keyPath": "tags", "multiEntry": true}],
            "down": [{"op": "deleteStore", "store": "notes"}]
        }))
        .unwrap();
        let m2: Migration = serde_json::from_value(json!({
            "version": 2, "name": "titles",
            "up": [{"op": "renameField", "store": "notes", "from": "name", "to": "title"}],
            "down": [{"op": "renameField", "store": "notes", "from": "title", "to": "name"}]
        }))
        .unwrap();
        MigrationSet::new(vec![m1, m2]).unwrap()
    }

    #[test]
    fn a_plan_lists_every_step_with_its_migration_in_camel_case() {
        let counts = BTreeMap::from([("notes".to_string(), 3)]);
        let plan = set().plan(0, 2, &counts, &Transforms::new()).unwrap();
        let v = plan_view(&plan).unwrap();
        assert_eq!(v["from"], 0);
        assert_eq!(v["to"], 2);
        assert_eq!(v["direction"], "up");
        assert_eq!(v["steps"].as_array().unwrap().len(), 3);
        assert_eq!(v["steps"][1]["step"]["multiEntry"], true);
        assert_eq!(v["steps"][2]["version"], 2);
        assert_eq!(v["steps"][2]["migration"], "titles");
        assert!(v["steps"][0]["description"]
            .as_str()
            .unwrap()
            .contains("notes"));
        assert_eq!(v["effects"]["storesCreated"], json!(["notes"]));
        assert_eq!(v["effects"]["indexesCreated"], json!([["notes", "by_tag"]]));
        assert_eq!(v["migrations"][0]["steps"][0]["op"], "createStore");
    }

    #[test]
    fn a_rollback_plan_goes_down() {
        let plan = set()
            .plan(2, 1, &BTreeMap::new(), &Transforms::new())
            .unwrap();
        let v = plan_view(&plan).unwrap();
        assert_eq!(v["direction"], "down");
        assert_eq!(v["steps"][0]["step"]["from"], "title");
    }

    #[test]
    fn a_round_trip_report_says_which_migration_lost_what() {
        let history = Migrator::new(set(), Transforms::new());
        let sample = BTreeMap::from([(
            "notes".to_string(),
            vec![json!({"id": 1, "name": "a"}), json!({"id": 2, "name": "b"})],
        )]);
        let v = round_trips_view(&history.check_round_trips(&sample).unwrap()).unwrap();
        assert_eq!(v["passed"], true, "{v:#}");
        assert_eq!(v["migrations"][1]["name"], "titles");
        assert_eq!(v["migrations"][1]["firstDifference"], Value::Null);

        let lossy: Migration = serde_json::from_value(json!({
            "version": 2, "name": "titles",
            "up": [{"op": "renameField", "store": "notes", "from": "name", "to": "title"}],
            "down": [{"op": "removeField", "store": "notes", "field": "title"}]
        }))
        .unwrap();
        let first = set().migrations()[0].clone();
        let history = Migrator::new(
            MigrationSet::new(vec![first, lossy]).unwrap(),
            Transforms::new(),
        );
        let v = round_trips_view(&history.check_round_trips(&sample).unwrap()).unwrap();
        assert_eq!(v["passed"], false);
        assert_eq!(v["migrations"][0]["passed"], true);
        let trip = &v["migrations"][1];
        assert_eq!(trip["passed"], false);
        assert_eq!(trip["schemaProblems"], json!([]));
        assert_eq!(
            trip["firstDifference"],
            json!({"store": "notes", "key": 1, "before": {"id": 1, "name": "a"}, "after": {"id": 1}})
        );
    }

    #[test]
    fn validation_is_ok_without_problems() {
        let v = validation_view(&SchemaDiff::default()).unwrap();
        assert_eq!(v, json!({"ok": true, "problems": []}));
    }

    #[test]
    fn the_api_s_own_codes_are_not_the_library_s() {
        for code in OWN_ERROR_CODES {
            assert!(!rewind::RewindError::CODES.contains(code), "{code}");
        }
    }

    #[test]
    fn the_declarations_list_every_code() {
        let declared = include_str!("types.d.ts");
        let union = &declared[declared.find("export type ErrorCode").unwrap()..];
        let union = &union[..union.find(';').unwrap()];
        let mut listed: Vec<&str> = union.split('"').skip(1).step_by(2).collect();
        listed.sort();
        let mut codes: Vec<&str> = rewind::RewindError::CODES.to_vec();
        codes.extend(OWN_ERROR_CODES);
        codes.sort();
        assert_eq!(listed, codes);
    }
}
