//! The steps around every operation that changes a database, decided here once for every
//! backend: check, then an automatic backup (only when something would change), then the
//! operation, then retention. An operation that did not start because its backup failed is
//! journaled, and after `Blocked` nothing is written (the browser queues every later open of
//! the database behind the blocked one). The IndexedDB adapter and [`MemoryDatabase`] carry
//! these steps out through [`Backups`]; the in-memory one lets `cargo test` prove them.
//!
//! [`MemoryDatabase`]: crate::MemoryDatabase

use crate::backup::BackupManifest;
use crate::backup_policy::{
    check_restore, expired, unsupported_before_restore, RestoreConsent, UnsupportedRecords,
    DEFAULT_KEEP_AUTOMATIC,
};
use crate::engine::{record_failure, DatabaseState, JournalEntry, Migrate, Migrator};
use crate::engine::{Operation, OperationReport};
use crate::rewind_error::RewindError;

/// A backup to take now.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupRequest {
    pub label: String,
    /// Taken by Rewind before an operation (kept by the retention policy), not by a person.
    pub automatic: bool,
    pub unsupported: UnsupportedRecords,
}

/// What operations need of a database besides [`Migrate`]: a cross-tab lock, a clock, the
/// catalog of its backups, and restoring one.
#[allow(async_fn_in_trait)]
pub trait Backups: Migrate {
    /// Held while an operation runs; dropping it lets the next one in.
    type Lock;
    /// Where a restore reads from (a backup of the catalog, a file…).
    type Source;
    /// A source proven whole, ready to restore.
    type Verified;

    fn name(&self) -> &str;
    /// Milliseconds since the Unix epoch.
    fn now(&self) -> f64;
    async fn lock(&mut self) -> Result<Self::Lock, RewindError>;
    /// Backs the database up as it is now and keeps the backup in the catalog.
    async fn take_backup(&mut self, request: &BackupRequest)
        -> Result<BackupManifest, RewindError>;
    async fn list_backups(&mut self) -> Result<Vec<BackupManifest>, RewindError>;
    async fn delete_backup(&mut self, id: &str) -> Result<(), RewindError>;
    /// Reads and verifies the whole source; changes nothing.
    async fn verify(
        &mut self,
        source: Self::Source,
    ) -> Result<(BackupManifest, Self::Verified), RewindError>;
    /// Replaces the database (as `state` describes it) with the verified backup and appends
    /// `entry` to its journal, in one atomic unit that commits only once what it wrote is
    /// proven to match the backup. On any error nothing has changed.
    async fn restore(
        &mut self,
        verified: Self::Verified,
        state: &DatabaseState,
        entry: &JournalEntry,
    ) -> Result<(), RewindError>;
}

/// The app's choices about automatic backups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupPolicy {
    /// Automatic backups kept (manual ones are always kept).
    pub keep_automatic: usize,
    /// What automatic backups do with records no backup can carry (refuse, so the operation
    /// does not start, unless the app chose otherwise).
    pub unsupported: UnsupportedRecords,
}

impl Default for BackupPolicy {
    fn default() -> Self {
        BackupPolicy {
            keep_automatic: DEFAULT_KEEP_AUTOMATIC,
            unsupported: UnsupportedRecords::Refuse,
        }
    }
}

impl Migrator {
    /// Migrates forward to `to` (`Operation::Migrate`) or rolls back to it
    /// (`Operation::Rollback`), after an automatic backup when the plan changes anything.
    pub async fn migrate_or_roll_back<D: Backups>(
        &self,
        db: &mut D,
        policy: BackupPolicy,
        to: u32,
        operation: Operation,
    ) -> Result<OperationReport, RewindError> {
        let _lock = db.lock().await?;
        let state = db.read().await?;
        let plan = self.checked_plan(&state, to, operation)?;
        let backup_id = match !plan.migrations.is_empty() && state.exists {
            true => {
                let doing = match operation {
                    Operation::Migrate => "migrating",
                    _ => "rolling back",
                };
                let request = BackupRequest {
                    label: format!("before {doing} from version {} to {}", plan.from, plan.to),
                    automatic: true,
                    unsupported: policy.unsupported,
                };
                Some(automatic_backup(db, policy, &request, operation, plan.from, plan.to).await?)
            }
            false => None,
        };
        let now = db.now();
        Ok(self
            .run_planned(db, state, plan, to, operation, now, backup_id)
            .await?)
    }

    /// A manual backup, kept until deleted.
    pub async fn manual_backup<D: Backups>(
        &self,
        db: &mut D,
        label: &str,
        unsupported: UnsupportedRecords,
    ) -> Result<BackupManifest, RewindError> {
        let _lock = db.lock().await?;
        let request = BackupRequest {
            label: label.to_string(),
            automatic: false,
            unsupported,
        };
        db.take_backup(&request).await
    }

    /// Replaces the database with a backup: verified completely first, refused without the
    /// person's consent when it is another database's or newer than this app knows, preceded by
    /// an automatic backup when the database exists, and all-or-nothing. A failed restore is
    /// journaled (but after `Blocked`).
    pub async fn restore<D: Backups>(
        &self,
        db: &mut D,
        policy: BackupPolicy,
        source: D::Source,
        consent: RestoreConsent,
    ) -> Result<OperationReport, RewindError> {
        let (manifest, verified) = db.verify(source).await?;
        check_restore(&manifest, db.name(), self.migrations().latest(), consent)?;
        let _lock = db.lock().await?;
        let state = db.read().await?;
        let (from, to) = (state.meta.schema_version, manifest.schema_version);
        let backup_id = match state.exists {
            true => {
                let request = BackupRequest {
                    label: format!("before restoring {}", manifest.id),
                    automatic: true,
                    unsupported: unsupported_before_restore(&manifest, policy.unsupported),
                };
                Some(automatic_backup(db, policy, &request, Operation::Restore, from, to).await?)
            }
            false => None,
        };
        let entry = JournalEntry {
            at: db.now(),
            operation: Operation::Restore,
            from,
            to,
            error: None,
            backup_id: backup_id.clone(),
        };
        if let Err(err) = db.restore(verified, &state, &entry).await {
            let failed = JournalEntry {
                error: Some(err.to_string()),
                ..entry
            };
            record_failure(db, &failed, err.is_blocked()).await;
            return Err(err);
        }
        Ok(OperationReport {
            from,
            to,
            backup_id,
        })
    }
}

/// The backup before an operation, then retention. An operation that cannot start because
/// its backup failed is journaled with the reason.
async fn automatic_backup<D: Backups>(
    db: &mut D,
    policy: BackupPolicy,
    request: &BackupRequest,
    operation: Operation,
    from: u32,
    to: u32,
) -> Result<String, RewindError> {
    let manifest = match db.take_backup(request).await {
        Ok(manifest) => manifest,
        Err(err) => {
            let entry = JournalEntry {
                at: db.now(),
                operation,
                from,
                to,
                error: Some(format!(
                    "the automatic backup before it failed, so nothing was changed: {err}"
                )),
                backup_id: None,
            };
            record_failure(db, &entry, err.is_blocked()).await;
            return Err(err);
        }
    };
    let all = db.list_backups().await?;
    for id in expired(&all, policy.keep_automatic) {
        db.delete_backup(&id).await?;
    }
    Ok(manifest.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup_policy::UnsupportedRecords;
    use crate::memory::{MemoryDatabase, MemorySource};
    use crate::migration_error::MigrationError;
    use crate::plan::MigrationSet;
    use crate::record::{RecordAccess, Transforms};
    use serde_json::json;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    /// The memory backend never waits, so one poll finishes every future.
    fn run<F: Future>(f: F) -> F::Output {
        match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("the in-memory backend never waits"),
        }
    }

    static DEMO: &[(&str, &str)] = rewind_macros::embed_migrations!("../migrations");

    fn migrator() -> Migrator {
        let transforms = Transforms::new().register("count_words", |r: &mut dyn RecordAccess| {
            r.set(&["meta", "wordCount"], json!(0))
        });
        Migrator::new(MigrationSet::from_files(DEMO).unwrap(), transforms)
    }

    /// "notes" at version `at`, with three notes, created at time 1.
    fn database(at: u32) -> MemoryDatabase {
        let mut db = MemoryDatabase::named("notes");
        run(migrator().migrate_to(&mut db, Some(at), 1.0, None)).unwrap();
        let notes = (1..=3)
            .map(|i| {
                (
                    json!(i),
                    json!({"id": i, "notebookId": "nb", "title": "t", "body": "b"}),
                )
            })
            .collect();
        db.records.insert("notes".into(), notes);
        db.clock = 100.0;
        db
    }

    fn migrate(db: &mut MemoryDatabase, to: u32) -> Result<OperationReport, RewindError> {
        let policy = BackupPolicy::default();
        run(migrator().migrate_or_roll_back(db, policy, to, Operation::Migrate))
    }

    fn roll_back(db: &mut MemoryDatabase, to: u32) -> Result<OperationReport, RewindError> {
        let policy = BackupPolicy::default();
        run(migrator().migrate_or_roll_back(db, policy, to, Operation::Rollback))
    }

    fn version(db: &MemoryDatabase) -> u32 {
        db.meta.as_ref().map_or(0, |m| m.schema_version)
    }

    #[test]
    fn a_migration_backs_the_database_up_first_and_names_the_backup() {
        let mut db = database(1);
        let before = db.clone();
        let report = migrate(&mut db, 2).unwrap();
        assert_eq!(db.backups.len(), 1);
        let (manifest, held) = &db.backups[0];
        assert_eq!(report.backup_id.as_deref(), Some(manifest.id.as_str()));
        assert!(manifest.automatic);
        assert_eq!(manifest.label, "before migrating from version 1 to 2");
        assert_eq!(manifest.schema_version, 1);
        assert_eq!(
            held.records, before.records,
            "the backup holds the data before"
        );
        assert_eq!(held.schema, before.schema);
        let last = db.journal.last().unwrap();
        assert_eq!(
            (last.operation, last.from, last.to),
            (Operation::Migrate, 1, 2)
        );
        assert_eq!(last.backup_id, report.backup_id);
        assert_eq!(version(&db), 2);
    }

    #[test]
    fn nothing_to_do_or_nothing_there_takes_no_backup() {
        let mut db = database(2);
        let report = migrate(&mut db, 2).unwrap();
        assert_eq!(report.backup_id, None);
        assert!(db.backups.is_empty());
        let mut new = MemoryDatabase::named("notes");
        let report = migrate(&mut new, 2).unwrap();
        assert_eq!((report.backup_id, new.backups.len()), (None, 0));
        assert_eq!(version(&new), 2);
    }

    #[test]
    fn an_operation_refused_by_its_checks_takes_no_backup_and_writes_nothing() {
        let mut db = database(2);
        let before = db.clone();
        let err = migrate(&mut db, 1).unwrap_err();
        assert_eq!(err.code(), "UnknownVersion", "{err}");
        let err = roll_back(&mut db, 3).unwrap_err();
        assert_eq!(err.code(), "UnknownVersion", "{err}");
        let mut at5 = database(5);
        let err = roll_back(&mut at5, 3).unwrap_err();
        assert_eq!(err.code(), "IrreversibleMigration", "{err}");
        assert!(at5.backups.is_empty());
        assert_eq!(db, before);
    }

    #[test]
    fn retention_keeps_the_newest_automatic_backups_and_every_manual_one() {
        let mut db = database(1);
        run(migrator().manual_backup(&mut db, "mine", UnsupportedRecords::Refuse)).unwrap();
        let policy = BackupPolicy {
            keep_automatic: 2,
            ..BackupPolicy::default()
        };
        for round in 0..4 {
            db.clock = 200.0 + 2.0 * round as f64;
            run(migrator().migrate_or_roll_back(&mut db, policy, 2, Operation::Migrate)).unwrap();
            db.clock += 1.0;
            run(migrator().migrate_or_roll_back(&mut db, policy, 1, Operation::Rollback)).unwrap();
        }
        let automatic: Vec<&str> = db
            .backups
            .iter()
            .filter(|(m, _)| m.automatic)
            .map(|(m, _)| m.label.as_str())
            .collect();
        assert_eq!(
            automatic,
            [
                "before migrating from version 1 to 2",
                "before rolling back from version 2 to 1"
            ],
            "the last two of eight"
        );
        assert_eq!(db.backups.iter().filter(|(m, _)| !m.automatic).count(), 1);
        assert_eq!(db.backups[0].0.label, "mine");
    }

    #[test]
    fn an_operation_whose_backup_failed_does_not_start_and_is_journaled() {
        let mut db = database(1);
        db.failing_backup = Some(RewindError::QuotaExceeded {
            needed: 10,
            detail: String::new(),
        });
        let journal_before = db.journal.len();
        let err = migrate(&mut db, 2).unwrap_err();
        assert_eq!(err.code(), "QuotaExceeded");
        assert_eq!(version(&db), 1, "nothing changed");
        assert!(db.backups.is_empty());
        assert_eq!(db.journal.len(), journal_before + 1);
        let entry = db.journal.last().unwrap();
        assert_eq!(
            (entry.operation, entry.from, entry.to),
            (Operation::Migrate, 1, 2)
        );
        let said = entry.error.as_deref().unwrap();
        assert!(
            said.starts_with("the automatic backup before it failed"),
            "{said}"
        );
        assert_eq!(entry.backup_id, None);
    }

    #[test]
    fn after_blocked_nothing_is_written() {
        // Blocked while backing up.
        let mut db = database(1);
        db.failing_backup = Some(MigrationError::Blocked.into());
        let before = db.clone();
        assert!(migrate(&mut db, 2).unwrap_err().is_blocked());
        assert_eq!(db, before, "not even the journal");
        // Blocked while migrating: the backup was taken, the journal left alone.
        let mut db = database(1);
        db.blocked = true;
        let journal = db.journal.clone();
        assert!(migrate(&mut db, 2).unwrap_err().is_blocked());
        assert_eq!(
            (db.journal.clone(), version(&db), db.backups.len()),
            (journal.clone(), 1, 1)
        );
        // Blocked while restoring.
        let id = db.backups[0].0.id.clone();
        let err = run(migrator().restore(
            &mut db,
            BackupPolicy::default(),
            MemorySource::Backup(id),
            RestoreConsent::default(),
        ))
        .unwrap_err();
        assert!(err.is_blocked());
        assert_eq!(db.journal.len(), journal.len());
    }

    #[test]
    fn a_failed_migration_is_journaled_after_its_backup() {
        let mut db = database(1);
        db.records
            .get_mut("notes")
            .unwrap()
            .push((json!(9), json!("not an object")));
        let err = migrate(&mut db, 3).unwrap_err();
        assert_eq!(err.code(), "MigrationFailed", "{err}");
        assert_eq!(version(&db), 1);
        let entry = db.journal.last().unwrap();
        assert!(entry.error.is_some());
        assert_eq!(
            entry.backup_id.as_deref(),
            Some(db.backups[0].0.id.as_str())
        );
    }

    fn restore_from(
        db: &mut MemoryDatabase,
        source: MemorySource,
        consent: RestoreConsent,
    ) -> Result<OperationReport, RewindError> {
        run(migrator().restore(db, BackupPolicy::default(), source, consent))
    }

    #[test]
    fn a_restore_backs_up_first_then_replaces_everything() {
        let mut db = database(1);
        migrate(&mut db, 2).unwrap();
        let at1 = db.backups[0].clone();
        db.records.get_mut("notes").unwrap().clear();
        db.clock = 300.0;
        let report = restore_from(
            &mut db,
            MemorySource::Backup(at1.0.id.clone()),
            RestoreConsent::default(),
        )
        .unwrap();
        assert_eq!((report.from, report.to), (2, 1));
        assert_eq!(version(&db), 1);
        assert_eq!(db.records, at1.1.records);
        let automatic = &db.backups.last().unwrap().0;
        assert_eq!(automatic.label, format!("before restoring {}", at1.0.id));
        assert_eq!(report.backup_id.as_deref(), Some(automatic.id.as_str()));
        let held = &db.backups.last().unwrap().1;
        assert!(
            held.records["notes"].is_empty(),
            "the backup before holds what it replaced"
        );
        let entry = db.journal.last().unwrap();
        assert_eq!(
            (entry.operation, entry.at, entry.error.clone()),
            (Operation::Restore, 300.0, None)
        );
    }

    #[test]
    fn a_restore_without_consent_or_from_a_missing_backup_changes_nothing() {
        let mut other = database(1);
        other.name = "todo".into();
        run(migrator().manual_backup(&mut other, "", UnsupportedRecords::Refuse)).unwrap();
        let (manifest, held) = other.backups[0].clone();
        let file = MemorySource::File(manifest.clone(), Box::new(held.clone()));
        let mut db = database(2);
        let before = db.clone();
        let err = restore_from(&mut db, file.clone(), RestoreConsent::default()).unwrap_err();
        assert_eq!(err.code(), "WrongDatabase");
        let mut newer = manifest.clone();
        newer.database = "notes".into();
        newer.schema_version = 9;
        let err = restore_from(
            &mut db,
            MemorySource::File(newer, Box::new(held)),
            RestoreConsent::default(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "UnknownVersion");
        let err = restore_from(
            &mut db,
            MemorySource::Backup("gone".into()),
            RestoreConsent::default(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "NoSuchBackup");
        assert_eq!(db, before, "no backup, no journal entry, no change");
        let allowed = RestoreConsent {
            allow_other_database: true,
            ..RestoreConsent::default()
        };
        restore_from(&mut db, file, allowed).unwrap();
        assert_eq!(version(&db), 1);
    }

    #[test]
    fn a_failed_restore_is_journaled_and_changes_nothing_else() {
        let mut db = database(1);
        run(migrator().manual_backup(&mut db, "", UnsupportedRecords::Refuse)).unwrap();
        db.failing_restore = Some(RewindError::Storage("the disk went away".into()));
        let id = db.backups[0].0.id.clone();
        let (schema, records) = (db.schema.clone(), db.records.clone());
        let err =
            restore_from(&mut db, MemorySource::Backup(id), RestoreConsent::default()).unwrap_err();
        assert_eq!(err.code(), "Storage");
        assert_eq!((db.schema.clone(), db.records.clone()), (schema, records));
        let entry = db.journal.last().unwrap();
        assert_eq!(entry.operation, Operation::Restore);
        assert!(entry
            .error
            .as_deref()
            .unwrap()
            .contains("the disk went away"));
        assert!(entry.backup_id.is_some(), "the backup before it was taken");
    }

    #[test]
    fn a_restore_into_a_database_that_does_not_exist_takes_no_backup() {
        let mut db = database(1);
        run(migrator().manual_backup(&mut db, "", UnsupportedRecords::Refuse)).unwrap();
        let (manifest, held) = db.backups[0].clone();
        let mut new = MemoryDatabase::named("notes");
        let report = restore_from(
            &mut new,
            MemorySource::File(manifest, Box::new(held)),
            RestoreConsent::default(),
        )
        .unwrap();
        assert_eq!((report.from, report.to, report.backup_id), (0, 1, None));
        assert!(new.backups.is_empty());
        assert_eq!(new.records, db.records);
    }
}
