//! Tested rollbacks (Liquibase's update-testing-rollback): every migration of a history run up,
//! down and up again over sample records, and whether `down` gave back the schema and the
//! records there were before `up`. A `down` that the history check accepts (it restores the
//! schema) may still lose data — a field removed on the way down that `up` had filled from
//! values now gone, a transform that does not undo its twin — and only running it shows that.
//!
//! The walk and the comparison are here; a database carries them out through
//! [`RoundTripDatabase`]: the in-memory backend (`check_round_trips`, in plain `cargo test`) or
//! a scratch IndexedDB database (`Rewind.checkMigrations` in JavaScript), where the steps run as
//! the browser runs them.

use crate::diff::{diff, SchemaDiff};
use crate::engine::{Migrate, Migrator};
use crate::memory::MemoryDatabase;
use crate::migration_error::MigrationError;
use crate::schema::{KeyPath, StoreSchema};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// What one migration's round trip (up, down) showed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoundTrip {
    pub version: u32,
    pub name: String,
    /// Irreversible (no `down`): not checked.
    pub irreversible: bool,
    /// How the schema after `down` differs from the one before `up` (empty: the same).
    pub schema: SchemaDiff,
    /// The first record that differs after `down` from before `up`, if any.
    pub first_difference: Option<RecordDifference>,
    /// A step that failed (up, down or up again), with the library's message.
    pub error: Option<String>,
}

impl RoundTrip {
    pub fn passed(&self) -> bool {
        !self.irreversible
            && self.schema.is_empty()
            && self.first_difference.is_none()
            && self.error.is_none()
    }
}

/// A record as it was before `up` and as it is after `down` (`None`: not there).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordDifference {
    pub store: String,
    pub key: Value,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// The key a sample record gets: its in-line key, else its position (from 1).
fn key_of(key_path: Option<&KeyPath>, record: &Value, position: usize) -> Value {
    match key_path {
        Some(KeyPath::Single(path)) => path
            .split('.')
            .try_fold(record, |v, part| v.get(part))
            .cloned()
            .unwrap_or(Value::Null),
        Some(KeyPath::Compound(paths)) => Value::Array(
            paths
                .iter()
                .map(|p| key_of(Some(&KeyPath::Single(p.clone())), record, position))
                .collect(),
        ),
        None => Value::from(position as u64 + 1),
    }
}

fn first_difference(
    before: &BTreeMap<String, Vec<(Value, Value)>>,
    after: &BTreeMap<String, Vec<(Value, Value)>>,
) -> Option<RecordDifference> {
    let stores: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for store in stores {
        let empty = Vec::new();
        let (b, a) = (
            before.get(store).unwrap_or(&empty),
            after.get(store).unwrap_or(&empty),
        );
        for (key, value) in b {
            let found = a.iter().find(|(k, _)| k == key).map(|(_, v)| v);
            if found != Some(value) {
                return Some(RecordDifference {
                    store: store.clone(),
                    key: key.clone(),
                    before: Some(value.clone()),
                    after: found.cloned(),
                });
            }
        }
        if let Some((key, value)) = a.iter().find(|(k, _)| !b.iter().any(|(bk, _)| bk == k)) {
            return Some(RecordDifference {
                store: store.clone(),
                key: key.clone(),
                before: None,
                after: Some(value.clone()),
            });
        }
    }
    None
}

/// What a round-trip check asks of a database besides [`Migrate`]: sample records put into a
/// store, and every app store's records read back. The in-memory backend and the IndexedDB
/// adapter (a scratch database) implement it; the walk and the comparison are the core's.
#[allow(async_fn_in_trait)]
pub trait RoundTripDatabase: Migrate {
    /// Puts `records` (each `(key, value)`, the key computed by the core: the in-line one, or
    /// the record's position for a store without a key path) into the existing, empty `store`
    /// whose schema is `schema`. All or nothing.
    async fn put_sample(
        &mut self,
        store: &StoreSchema,
        records: &[(Value, Value)],
    ) -> Result<(), MigrationError>;

    /// Every app store's records, each `(key, value)` as JSON, in key order.
    async fn all_records(
        &mut self,
    ) -> Result<BTreeMap<String, Vec<(Value, Value)>>, MigrationError>;
}

impl RoundTripDatabase for MemoryDatabase {
    async fn put_sample(
        &mut self,
        store: &StoreSchema,
        records: &[(Value, Value)],
    ) -> Result<(), MigrationError> {
        self.records.insert(store.name.clone(), records.to_vec());
        Ok(())
    }

    async fn all_records(
        &mut self,
    ) -> Result<BTreeMap<String, Vec<(Value, Value)>>, MigrationError> {
        Ok(self.records.clone())
    }
}

impl Migrator {
    /// [`Migrator::check_round_trips_on`] over a fresh in-memory database, so that an app checks
    /// its history in plain `cargo test`.
    pub fn check_round_trips(
        &self,
        sample: &BTreeMap<String, Vec<Value>>,
    ) -> Result<Vec<RoundTrip>, MigrationError> {
        let mut db = MemoryDatabase::named("rewind-check");
        let check = pin!(self.check_round_trips_on(&mut db, sample, 0.0));
        match check.poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(report) => report,
            // The memory backend answers every call at once.
            Poll::Pending => Err(MigrationError::Storage(
                "the in-memory check waited, which it never does: this is a bug in Rewind, \
                 report it"
                    .into(),
            )),
        }
    }

    /// For every migration, oldest first, on `db` (a new, empty database the check may
    /// change as it likes): the sample records of every store that exists by then and has
    /// none yet put in, then `up`, `down`, and `up` again, as operations (`migrate_to`,
    /// `rollback_to`: checked plans, one atomic unit each, journaled); reports whether `down`
    /// gave back the schema and records there were before `up`. The walk goes on from the
    /// state after `up` again; after a failed step it stops (the later versions cannot be
    /// reached). An irreversible migration is run up only. `Err`: the database itself failed
    /// (reading it, putting the sample in).
    pub async fn check_round_trips_on<B: RoundTripDatabase>(
        &self,
        db: &mut B,
        sample: &BTreeMap<String, Vec<Value>>,
        now: f64,
    ) -> Result<Vec<RoundTrip>, MigrationError> {
        let mut seeded = BTreeSet::new();
        let mut report = Vec::new();
        for m in self.migrations().migrations() {
            let v = m.version;
            let before = db.read().await?.schema;
            for (store, records) in sample {
                let Some(schema) = before.stores.get(store) else {
                    continue;
                };
                if seeded.insert(store.clone()) {
                    let rows: Vec<(Value, Value)> = records
                        .iter()
                        .enumerate()
                        .map(|(i, r)| (key_of(schema.key_path.as_ref(), r, i), r.clone()))
                        .collect();
                    db.put_sample(schema, &rows).await?;
                }
            }
            let records = db.all_records().await?;
            let mut trip = RoundTrip {
                version: v,
                name: m.name.clone(),
                irreversible: !m.is_reversible(),
                schema: SchemaDiff::default(),
                first_difference: None,
                error: None,
            };
            if let Err(e) = self.migrate_to(db, Some(v), now, None).await {
                trip.error = Some(format!("up: {e}"));
                report.push(trip);
                break;
            }
            if trip.irreversible {
                report.push(trip);
                continue;
            }
            if let Err(e) = self.rollback_to(db, v - 1, now, None).await {
                trip.error = Some(format!("down: {e}"));
                report.push(trip);
                break;
            }
            trip.schema = diff(&before, &db.read().await?.schema);
            trip.first_difference = first_difference(&records, &db.all_records().await?);
            let again = self.migrate_to(db, Some(v), now, None).await;
            if let Err(e) = again {
                trip.error = Some(format!("up again: {e}"));
                report.push(trip);
                break;
            }
            report.push(trip);
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::Migrator;
    use crate::migration::Migration;
    use crate::plan::MigrationSet;
    use crate::record::Transforms;
    use serde_json::{json, Value};
    use std::collections::BTreeMap;

    fn notes() -> BTreeMap<String, Vec<Value>> {
        let notes = (1..=4)
            .map(|i| json!({"id": i, "title": format!("t{i}"), "body": "one two"}))
            .collect();
        BTreeMap::from([("notes".to_string(), notes)])
    }

    fn v1() -> Migration {
        serde_json::from_value(json!({"version": 1, "name": "notes",
            "up": [{"op": "createStore", "store": "notes", "keyPath": "id"}],
            "down": [{"op": "deleteStore", "store": "notes"}]}))
        .unwrap()
    }

    #[test]
    fn a_correct_history_passes() {
        let v2: Migration = serde_json::from_value(json!({"version": 2, "name": "text",
            "up": [{"op": "renameField", "store": "notes", "from": "body", "to": "text"},
                   {"op": "addField", "store": "notes", "field": "tags", "value": []}],
            "down": [{"op": "removeField", "store": "notes", "field": "tags"},
                     {"op": "renameField", "store": "notes", "from": "text", "to": "body"}]}))
        .unwrap();
        let set = MigrationSet::new(vec![v1(), v2]).unwrap();
        let report = Migrator::new(set, Transforms::new())
            .check_round_trips(&notes())
            .unwrap();
        assert_eq!(report.len(), 2);
        assert!(report.iter().all(|t| t.passed()), "{report:#?}");
    }

    #[test]
    fn a_down_that_loses_a_field_s_values_is_reported_with_the_first_record() {
        // Renames `body` to `text` on the way up; the way down drops `text` instead of
        // renaming it back: the schema is the same, the bodies are gone.
        let broken: Migration = serde_json::from_value(json!({"version": 2, "name": "text",
            "up": [{"op": "renameField", "store": "notes", "from": "body", "to": "text"}],
            "down": [{"op": "removeField", "store": "notes", "field": "text"}]}))
        .unwrap();
        let set = MigrationSet::new(vec![v1(), broken]).unwrap();
        let report = Migrator::new(set, Transforms::new())
            .check_round_trips(&notes())
            .unwrap();
        assert!(report[0].passed(), "{:#?}", report[0]);
        let trip = &report[1];
        assert!(!trip.passed());
        assert!(trip.schema.is_empty(), "the schema came back");
        let d = trip.first_difference.as_ref().unwrap();
        assert_eq!((d.store.as_str(), &d.key), ("notes", &json!(1)));
        assert_eq!(d.before.as_ref().unwrap()["body"], json!("one two"));
        assert_eq!(d.after.as_ref().unwrap().get("body"), None);
    }
}
