//! The steps around every operation that changes a database, decided here once for every
//! backend: check, then an automatic backup (only when something would change), then the
//! operation, then retention. An operation that did not start because its backup failed is
//! journaled, and after `Blocked` nothing is written (the browser queues every later open of
//! the database behind the blocked one). The IndexedDB adapter and [`MemoryDatabase`] carry
//! these steps out through [`Backups`]; the in-memory one lets `cargo test` prove them.
//!
//! [`MemoryDatabase`]: crate::MemoryDatabase

use crate::backup::{BackupManifest, Passphrase, StoreManifest, CHUNKED_FORMAT_VERSION};
use crate::backup_policy::{
    check_restore, expired, RestoreConsent, UnsupportedRecords, DEFAULT_KEEP_AUTOMATIC,
};
use crate::engine::{record_failure, Baseline, DatabaseState, JournalEntry, Migrate, Migrator};
use crate::engine::{Operation, OperationReport};
use crate::migration_error::MigrationError;
use crate::record::Transforms;
use crate::rewind_error::RewindError;

/// A backup to take now.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupRequest {
    pub label: String,
    /// Taken by Rewind before an operation (kept by the retention policy), not by a person.
    pub automatic: bool,
    pub unsupported: UnsupportedRecords,
    /// Seal the file under this passphrase (format 5). Only a person's backup is ever sealed:
    /// an automatic one must be restorable by whoever undoes the operation it preceded.
    pub passphrase: Option<Passphrase>,
    /// Chunks stored compressed (format 4); `false` writes format 3, for readers that need it.
    pub compress: bool,
}

impl BackupRequest {
    /// The backup Rewind takes before a migration, rollback or adoption (a restore's is held
    /// in place by its swap instead). Stored as it is (format 3), not compressed: a person
    /// waits on the operation, and compressing (the browser's DEFLATE, about 25 MB/s) made
    /// such a backup up to twice as slow (docs/benchmarks.md, "Compressed backups");
    /// retention keeps it a short while.
    pub fn automatic(label: String, unsupported: UnsupportedRecords) -> BackupRequest {
        BackupRequest {
            label,
            automatic: true,
            unsupported,
            passphrase: None,
            compress: false,
        }
    }
}

/// What a person asks of a manual backup.
#[derive(Debug, Clone)]
pub struct ManualBackup {
    pub label: String,
    pub unsupported: UnsupportedRecords,
    /// Chunks stored compressed (format 4); `false` writes format 3.
    pub compress: bool,
    /// Seal the file under this passphrase (format 5).
    pub passphrase: Option<Passphrase>,
}

impl ManualBackup {
    /// A backup labelled `label`, refusing records it cannot carry, compressed, not sealed.
    pub fn labelled(label: &str) -> ManualBackup {
        ManualBackup {
            label: label.to_string(),
            unsupported: UnsupportedRecords::Refuse,
            compress: true,
            passphrase: None,
        }
    }
}

/// What operations need of a database besides [`Migrate`]: a cross-tab lock, a clock, the
/// catalog of its backups, and restoring one.
#[allow(async_fn_in_trait)]
pub trait Backups: Migrate {
    /// Held while an operation runs; dropping it lets the next one in.
    type Lock;
    /// Where a restore reads from (a backup of the catalog, a file…).
    type Source;
    /// A source whose manifest is proven, ready to stage.
    type Verified;
    /// A restore staged beside the app's data, ready to swap in.
    type Staged;

    fn name(&self) -> &str;
    /// The backup of the catalog with this id, as a restore's source.
    fn catalog_source(&self, id: &str) -> Self::Source;
    /// Milliseconds since the Unix epoch.
    fn now(&self) -> f64;
    /// A new backup's id, made at `created_at` (unique: the edge adds randomness).
    fn backup_id(&self, created_at: f64) -> String;
    async fn lock(&mut self) -> Result<Self::Lock, RewindError>;
    /// Backs the database up as it is now and keeps the backup in the catalog.
    async fn take_backup(&mut self, request: &BackupRequest)
        -> Result<BackupManifest, RewindError>;
    async fn list_backups(&mut self) -> Result<Vec<BackupManifest>, RewindError>;
    async fn delete_backup(&mut self, id: &str) -> Result<(), RewindError>;
    /// Opens the source and proves its manifest (a file read whole is verified whole; a
    /// chunked one is proven up to its chunks, which staging checks); changes nothing.
    async fn verify(
        &mut self,
        source: Self::Source,
    ) -> Result<(BackupManifest, Self::Verified), RewindError>;
    /// Writes the verified backup beside the app's data of the database (as `state` describes
    /// it), checking every byte it reads and proving what it wrote matches the backup. The
    /// app's data, metadata and journal are untouched; on error nothing of it is left (or
    /// what is left, the next change removes).
    async fn stage(
        &mut self,
        verified: Self::Verified,
        state: &DatabaseState,
    ) -> Result<Self::Staged, RewindError>;
    /// Replaces the database with the staged backup and appends `entry` to its journal, in
    /// one atomic unit. With `keep`, the stores it replaces are not deleted but held in place
    /// as that backup ([`BackupManifest::in_place`]: listed, made into a file when one is
    /// asked for, deleted as any backup), by the same unit. On any error nothing has changed
    /// and the staged copy is removed.
    async fn swap(
        &mut self,
        staged: Self::Staged,
        entry: &JournalEntry,
        keep: Option<&BackupManifest>,
    ) -> Result<(), RewindError>;
    /// Removes a staged backup that will not be swapped in (best effort).
    async fn discard(&mut self, staged: Self::Staged);
}

/// The app's choices about automatic backups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupPolicy {
    /// Take an automatic backup before a destructive operation. Only a person's explicit
    /// choice turns it off, for one operation (journaled as such): for a database whose backup
    /// will not fit.
    pub automatic: bool,
    /// Automatic backups kept (manual ones are always kept).
    pub keep_automatic: usize,
    /// What automatic backups do with records no backup can carry (refuse, so the operation
    /// does not start, unless the app chose otherwise).
    pub unsupported: UnsupportedRecords,
}

impl Default for BackupPolicy {
    fn default() -> Self {
        BackupPolicy {
            automatic: true,
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
        self.operate(db, policy, to, operation, false).await
    }

    /// Rolls back to `to` from a version this app may not know, with the steps the database
    /// keeps for the versions above this app's latest ([`Migrator::stored_plan`]): every check
    /// first, then the automatic backup, then one atomic unit validated against this app's
    /// schema for `to`. At a version this app knows it is an ordinary rollback.
    pub async fn roll_back_from_stored<D: Backups>(
        &self,
        db: &mut D,
        policy: BackupPolicy,
        to: u32,
    ) -> Result<OperationReport, RewindError> {
        self.operate(db, policy, to, Operation::Rollback, true)
            .await
    }

    async fn operate<D: Backups>(
        &self,
        db: &mut D,
        policy: BackupPolicy,
        to: u32,
        operation: Operation,
        from_stored: bool,
    ) -> Result<OperationReport, RewindError> {
        let plan_for = |state: &DatabaseState| match from_stored {
            true => self.stored_plan(state, to),
            false => self.checked_plan(state, to, operation),
        };
        let _lock = db.lock().await?;
        let mut state = self.read_undone(db, policy).await?;
        if let (true, Some(baseline)) = (state.is_unmanaged(), self.baseline()) {
            // Adopted first, once every check of the operation itself passes on the database
            // as it will be: an operation that would be refused adopts nothing.
            let version = self.baseline_version(&state, baseline)?;
            let mut adopted = state.clone();
            adopted.meta = self.adopted(version, 0.0);
            plan_for(&adopted)?;
            self.adopt_unmanaged(db, policy, state, version).await?;
            state = db.read().await?;
        }
        let plan = plan_for(&state)?;
        let changes_data = !plan.migrations.is_empty() && state.exists;
        let backup_id = match changes_data && policy.automatic {
            true => {
                let doing = match operation {
                    Operation::Migrate => "migrating",
                    _ => "rolling back",
                };
                let request = BackupRequest::automatic(
                    format!("before {doing} from version {} to {}", plan.from, plan.to),
                    policy.unsupported,
                );
                Some(automatic_backup(db, policy, &request, operation, plan.from, plan.to).await?)
            }
            false => None,
        };
        let now = db.now();
        let without_backup = changes_data && !policy.automatic;
        Ok(self
            .run_planned(
                db,
                state,
                plan,
                to,
                operation,
                now,
                backup_id,
                without_backup,
            )
            .await?)
    }

    /// Adopts a database made before the app used Rewind (Flyway's baseline): after checking
    /// that its schema is `baseline`'s version's and an automatic backup, records that version
    /// (Rewind's metadata and a journal entry, in one atomic unit that checks the app's schema
    /// again before it commits); no app store or record changes. A database that is not
    /// unmanaged (Rewind's already, or without app stores) is left as it is: the report says
    /// where it stands.
    pub async fn adopt<D: Backups>(
        &self,
        db: &mut D,
        policy: BackupPolicy,
        baseline: Baseline,
    ) -> Result<OperationReport, RewindError> {
        let _lock = db.lock().await?;
        let state = self.read_undone(db, policy).await?;
        if !state.is_unmanaged() {
            let at = state.meta.schema_version;
            return Ok(OperationReport {
                from: at,
                to: at,
                backup_id: None,
            });
        }
        let version = self.baseline_version(&state, baseline)?;
        self.adopt_unmanaged(db, policy, state, version).await
    }

    /// Backs up the unmanaged database (as `state` describes it), then records it at
    /// `version`, whose schema was checked to be the live one.
    async fn adopt_unmanaged<D: Backups>(
        &self,
        db: &mut D,
        policy: BackupPolicy,
        state: DatabaseState,
        version: u32,
    ) -> Result<OperationReport, RewindError> {
        let from = state.meta.schema_version;
        let backup_id = match policy.automatic {
            true => {
                let request = BackupRequest::automatic(
                    format!("before adopting at version {version}"),
                    policy.unsupported,
                );
                Some(automatic_backup(db, policy, &request, Operation::Adopt, from, version).await?)
            }
            false => None,
        };
        let now = db.now();
        let meta = self.adopted(version, now);
        let expected = self
            .migrations()
            .schema_at(version)
            .cloned()
            .unwrap_or_default();
        // No step: the plan from `version` to itself.
        let plan = self
            .migrations()
            .plan(version, version, &state.counts, &Transforms::new())?;
        let mut entry = JournalEntry {
            at: now,
            operation: Operation::Adopt,
            from,
            to: version,
            error: None,
            backup_id: backup_id.clone(),
            without_backup: !policy.automatic,
            undid: None,
        };
        if let Err(err) = db
            .apply(&plan, &meta, &expected, &entry, &Transforms::new())
            .await
        {
            entry.error = Some(err.to_string());
            record_failure(db, &entry, err == MigrationError::Blocked).await;
            return Err(err.into());
        }
        Ok(OperationReport {
            from,
            to: version,
            backup_id,
        })
    }

    /// A manual backup, kept until deleted.
    pub async fn manual_backup<D: Backups>(
        &self,
        db: &mut D,
        asked: ManualBackup,
    ) -> Result<BackupManifest, RewindError> {
        let _lock = db.lock().await?;
        let request = BackupRequest {
            label: asked.label,
            automatic: false,
            unsupported: asked.unsupported,
            passphrase: asked.passphrase,
            compress: asked.compress,
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
        restore_locked(db, policy, &state, manifest, verified, None).await
    }

    /// The database's state under the operation's lock, after undoing an upgrade the browser
    /// kept in part ([`DatabaseState::interrupted`]): the backup taken before it is restored
    /// (after an automatic backup of the database as the cut-off upgrade left it, so that
    /// nothing written meanwhile is lost). Without that backup it is refused (`Interrupted`):
    /// only a restore the person chooses can go on.
    async fn read_undone<D: Backups>(
        &self,
        db: &mut D,
        policy: BackupPolicy,
    ) -> Result<DatabaseState, RewindError> {
        let state = db.read().await?;
        let Some(marker) = &state.interrupted else {
            return Ok(state);
        };
        let Some(id) = &marker.backup_id else {
            return Err(MigrationError::interrupted(marker).into());
        };
        let (manifest, verified) = match db.verify(db.catalog_source(id)).await {
            Ok(found) => found,
            Err(RewindError::NoSuchBackup { .. }) => {
                return Err(MigrationError::interrupted(marker).into())
            }
            Err(other) => return Err(other),
        };
        restore_locked(db, policy, &state, manifest, verified, Some(marker.clone())).await?;
        Ok(db.read().await?)
    }
}

/// A restore of a verified source under the operation's lock, `state` read under it: staged,
/// then swapped in, the stores it replaces held in place as its automatic backup (nothing old
/// is copied); `undid` names the interrupted upgrade it undoes. A failure is journaled (but
/// after `Blocked`).
async fn restore_locked<D: Backups>(
    db: &mut D,
    policy: BackupPolicy,
    state: &DatabaseState,
    manifest: BackupManifest,
    verified: D::Verified,
    undid: Option<JournalEntry>,
) -> Result<OperationReport, RewindError> {
    let (from, to) = (state.meta.schema_version, manifest.schema_version);
    let entry = |backup_id: Option<String>, error: Option<String>, at: f64| JournalEntry {
        at,
        operation: Operation::Restore,
        from,
        to,
        error,
        backup_id,
        without_backup: state.exists && !policy.automatic,
        undid: undid.clone().map(Box::new),
    };
    // Staged first: a file damaged anywhere is refused before anything changes.
    let staged = match db.stage(verified, state).await {
        Ok(staged) => staged,
        Err(err) => {
            let failed = entry(None, Some(err.to_string()), db.now());
            record_failure(db, &failed, err.is_blocked()).await;
            return Err(err);
        }
    };
    let kept = match state.exists && policy.automatic {
        true => {
            let label = match &undid {
                Some(cut) => format!(
                    "before undoing the interrupted {} from version {} to {}",
                    cut.operation.noun(),
                    cut.from,
                    cut.to
                ),
                None => format!("before restoring {}", manifest.id),
            };
            Some(held_in_place(db, state, label))
        }
        false => None,
    };
    let done = entry(kept.as_ref().map(|m| m.id.clone()), None, db.now());
    if let Err(err) = db.swap(staged, &done, kept.as_ref()).await {
        let failed = JournalEntry {
            error: Some(err.to_string()),
            ..done
        };
        record_failure(db, &failed, err.is_blocked()).await;
        return Err(err);
    }
    if kept.is_some() {
        // The restore is done: a backup retention could not delete now is deleted by the
        // next operation's retention, so its failure is not the restore's.
        let _ = retain(db, policy.keep_automatic).await;
    }
    Ok(OperationReport {
        from,
        to,
        backup_id: kept.map(|m| m.id),
    })
}

/// The manifest of the automatic backup a restore's swap holds in place: the app's stores as
/// `state` read them, made into a file (format 3) only when one is asked for.
fn held_in_place<D: Backups>(db: &D, state: &DatabaseState, label: String) -> BackupManifest {
    let created_at = db.now();
    BackupManifest {
        format_version: CHUNKED_FORMAT_VERSION,
        id: db.backup_id(created_at),
        database: db.name().to_string(),
        schema_version: state.meta.schema_version,
        idb_version: state.idb_version,
        created_at,
        label,
        automatic: true,
        meta: state.meta.clone(),
        stores: state
            .schema
            .stores
            .values()
            .map(|schema| StoreManifest {
                records: state.counts.get(&schema.name).copied().unwrap_or(0),
                ..StoreManifest::new(schema.clone())
            })
            .collect(),
        skipped: Vec::new(),
        interrupted: state.interrupted.clone().map(Box::new),
        in_place: true,
        bytes: 0,
        sha256: String::new(),
    }
}

/// Deletes the automatic backups beyond the newest `keep` (manual ones are always kept).
async fn retain<D: Backups>(db: &mut D, keep: usize) -> Result<(), RewindError> {
    let all = db.list_backups().await?;
    for id in expired(&all, keep) {
        db.delete_backup(&id).await?;
    }
    Ok(())
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
                without_backup: false,
                undid: None,
            };
            record_failure(db, &entry, err.is_blocked()).await;
            return Err(err);
        }
    };
    retain(db, policy.keep_automatic).await?;
    Ok(manifest.id)
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn only_a_persons_backup_is_sealed_never_an_automatic_one() {
        let mut db = database(1);
        let passphrase = crate::backup::Passphrase::new("p").unwrap();
        let sealed = run(migrator().manual_backup(
            &mut db,
            ManualBackup {
                passphrase: Some(passphrase),
                ..ManualBackup::labelled("mine")
            },
        ))
        .unwrap();
        run(migrator().manual_backup(&mut db, ManualBackup::labelled("plain"))).unwrap();
        let report = run(migrator().migrate_or_roll_back(
            &mut db,
            BackupPolicy::default(),
            2,
            Operation::Migrate,
        ))
        .unwrap();
        let automatic = report.backup_id.expect("an automatic backup");
        run(migrator().restore(
            &mut db,
            BackupPolicy::default(),
            MemorySource::Backup(sealed.id.clone()),
            RestoreConsent::default(),
        ))
        .unwrap();
        assert_eq!(
            db.backups.len(),
            4,
            "manual, plain, before migrating, before restoring"
        );
        assert_eq!(
            db.sealed_backups,
            vec![sealed.id],
            "{automatic} and the rest are not"
        );
    }

    #[test]
    fn without_an_automatic_backup_by_choice_the_journal_says_so() {
        let mut db = database(1);
        db.failing_backup = Some(RewindError::QuotaExceeded {
            needed: 10,
            detail: String::new(),
        });
        let chosen = BackupPolicy {
            automatic: false,
            ..BackupPolicy::default()
        };
        let report =
            run(migrator().migrate_or_roll_back(&mut db, chosen, 2, Operation::Migrate)).unwrap();
        assert_eq!((report.backup_id, version(&db)), (None, 2));
        assert!(db.backups.is_empty());
        let entry = db.journal.last().unwrap();
        assert!(entry.without_backup && entry.error.is_none());
        let json = serde_json::to_string(entry).unwrap();
        assert!(json.contains("\"withoutBackup\":true"), "{json}");
        // A database that does not exist needs no backup: nothing is said.
        let mut new = MemoryDatabase::named("notes");
        run(migrator().migrate_or_roll_back(&mut new, chosen, 1, Operation::Migrate)).unwrap();
        let json = serde_json::to_string(new.journal.last().unwrap()).unwrap();
        assert!(!json.contains("withoutBackup"), "{json}");
        // A restore, too.
        db.failing_backup = None;
        run(migrator().manual_backup(&mut db, ManualBackup::labelled(""))).unwrap();
        let id = db.backups[0].0.id.clone();
        db.failing_backup = Some(MigrationError::QuotaExceeded(String::new()).into());
        let report = run(migrator().restore(
            &mut db,
            chosen,
            MemorySource::Backup(id),
            RestoreConsent::default(),
        ))
        .unwrap();
        assert_eq!(report.backup_id, None);
        assert!(db.journal.last().unwrap().without_backup);
    }

    #[test]
    fn retention_keeps_the_newest_automatic_backups_and_every_manual_one() {
        let mut db = database(1);
        run(migrator().manual_backup(&mut db, ManualBackup::labelled("mine"))).unwrap();
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
        run(migrator().manual_backup(&mut other, ManualBackup::labelled(""))).unwrap();
        let (manifest, held) = other.backups[0].clone();
        let file = MemorySource::File(Box::new(manifest.clone()), Box::new(held.clone()));
        let mut db = database(2);
        let before = db.clone();
        let err = restore_from(&mut db, file.clone(), RestoreConsent::default()).unwrap_err();
        assert_eq!(err.code(), "WrongDatabase");
        let mut newer = manifest.clone();
        newer.database = "notes".into();
        newer.schema_version = 9;
        let err = restore_from(
            &mut db,
            MemorySource::File(Box::new(newer), Box::new(held)),
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
        run(migrator().manual_backup(&mut db, ManualBackup::labelled(""))).unwrap();
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
    fn a_file_refused_while_staging_takes_no_automatic_backup_and_changes_nothing() {
        let mut db = database(1);
        run(migrator().manual_backup(&mut db, ManualBackup::labelled(""))).unwrap();
        db.failing_stage = Some(RewindError::Backup(crate::backup::BackupError::corrupt(
            "chunk 3 is damaged",
        )));
        let id = db.backups[0].0.id.clone();
        let before = (db.schema.clone(), db.records.clone(), db.backups.len());
        let err =
            restore_from(&mut db, MemorySource::Backup(id), RestoreConsent::default()).unwrap_err();
        assert_eq!(err.code(), "CorruptBackup");
        assert_eq!(
            (db.schema.clone(), db.records.clone(), db.backups.len()),
            before,
            "no automatic backup: the file was refused first"
        );
        let entry = db.journal.last().unwrap();
        assert_eq!(entry.operation, Operation::Restore);
        assert!(entry.error.as_deref().unwrap().contains("chunk 3"));
        assert_eq!(entry.backup_id, None);
    }

    #[test]
    fn a_restore_holds_what_it_replaces_in_place_as_its_automatic_backup() {
        let mut db = database(1);
        run(migrator().manual_backup(&mut db, ManualBackup::labelled(""))).unwrap();
        let id = db.backups[0].0.id.clone();
        migrate(&mut db, 2).unwrap();
        let before = (db.schema.clone(), db.records.clone());
        // A copy of the data would find no room: none is made.
        db.failing_backup = Some(MigrationError::QuotaExceeded(String::new()).into());
        let report = restore_from(
            &mut db,
            MemorySource::Backup(id.clone()),
            RestoreConsent::default(),
        )
        .unwrap();
        let kept_id = report
            .backup_id
            .expect("an automatic backup precedes a restore");
        let (kept, held) = db.backups.iter().find(|(m, _)| m.id == kept_id).unwrap();
        assert!(kept.in_place && kept.automatic, "{kept:?}");
        assert_eq!(kept.label, format!("before restoring {id}"));
        assert_eq!((kept.schema_version, kept.bytes), (2, 0));
        assert_eq!((held.schema.clone(), held.records.clone()), before);
        assert_eq!(
            kept.total_records(),
            before.1.values().map(|r| r.len() as u64).sum::<u64>()
        );
        assert_eq!(
            db.journal.last().unwrap().backup_id.as_ref(),
            Some(&kept_id)
        );

        // A swap that fails holds nothing.
        db.failing_restore = Some(RewindError::Storage("the disk failed".into()));
        let listed = db.backups.len();
        let err =
            restore_from(&mut db, MemorySource::Backup(id), RestoreConsent::default()).unwrap_err();
        assert_eq!(err.code(), "Storage");
        assert_eq!(db.backups.len(), listed);
    }

    #[test]
    fn retention_counts_the_backups_held_in_place() {
        let policy = BackupPolicy {
            keep_automatic: 1,
            ..BackupPolicy::default()
        };
        let mut db = database(1);
        run(migrator().manual_backup(&mut db, ManualBackup::labelled("mine"))).unwrap();
        let id = db.backups[0].0.id.clone();
        for at in [10.0, 20.0] {
            db.clock = at;
            run(migrator().restore(
                &mut db,
                policy,
                MemorySource::Backup(id.clone()),
                RestoreConsent::default(),
            ))
            .unwrap();
        }
        let kept: Vec<(bool, bool, f64)> = db
            .backups
            .iter()
            .map(|(m, _)| (m.automatic, m.in_place, m.created_at))
            .collect();
        assert_eq!(
            kept,
            [
                (false, false, db.backups[0].0.created_at),
                (true, true, 20.0)
            ]
        );
    }

    #[test]
    fn a_restore_into_a_database_that_does_not_exist_takes_no_backup() {
        let mut db = database(1);
        run(migrator().manual_backup(&mut db, ManualBackup::labelled(""))).unwrap();
        let (manifest, held) = db.backups[0].clone();
        let mut new = MemoryDatabase::named("notes");
        let report = restore_from(
            &mut new,
            MemorySource::File(Box::new(manifest), Box::new(held)),
            RestoreConsent::default(),
        )
        .unwrap();
        assert_eq!((report.from, report.to, report.backup_id), (0, 1, None));
        assert!(new.backups.is_empty());
        assert_eq!(new.records, db.records);
    }

    /// "notes" as earlier app code left it: the schema of version `at`, three notes, IndexedDB
    /// version 3, and no record of Rewind's.
    fn unmanaged(at: u32) -> MemoryDatabase {
        let mut db = database(at);
        db.meta = None;
        db.journal.clear();
        db.idb_version = 3;
        db
    }

    fn adopt(db: &mut MemoryDatabase, baseline: Baseline) -> Result<OperationReport, RewindError> {
        run(migrator().adopt(db, BackupPolicy::default(), baseline))
    }

    #[test]
    fn adopting_backs_up_then_records_the_version_and_changes_no_app_store_or_record() {
        let mut db = unmanaged(2);
        let before = db.clone();
        let report = adopt(&mut db, Baseline::Version(2)).unwrap();
        assert_eq!((report.from, report.to), (0, 2));
        let (manifest, held) = &db.backups[0];
        assert_eq!(report.backup_id.as_deref(), Some(manifest.id.as_str()));
        assert_eq!(manifest.label, "before adopting at version 2");
        assert!(manifest.automatic);
        assert_eq!(
            (&held.schema, &held.records),
            (&before.schema, &before.records)
        );
        assert_eq!((&db.schema, &db.records), (&before.schema, &before.records));
        assert_eq!(db.idb_version, 4, "one versionchange");
        let meta = db.meta.clone().unwrap();
        assert_eq!(meta.schema_version, 2);
        let applied: Vec<u32> = meta.applied.iter().map(|a| a.version).collect();
        assert_eq!(applied, [1, 2]);
        assert_eq!(db.journal.len(), 1);
        let entry = &db.journal[0];
        assert_eq!(
            (entry.operation, entry.from, entry.to, entry.error.clone()),
            (Operation::Adopt, 0, 2, None)
        );
        assert_eq!(entry.backup_id, report.backup_id);
        let json = serde_json::to_string(entry).unwrap();
        assert!(json.contains("\"operation\":\"adopt\""), "{json}");
        // Then it is Rewind's: managed, and migrated like any other.
        let status = run(migrator().status(&mut db)).unwrap();
        assert!(status.managed && status.matching_versions.is_empty());
        assert!(status.drifted.is_empty());
        migrate(&mut db, 3).unwrap();
        assert_eq!(version(&db), 3);
        assert!(db.records["notes"][0].1["meta"]["wordCount"].is_number());
    }

    #[test]
    fn status_says_unmanaged_and_which_versions_match() {
        let mut db = unmanaged(2);
        let status = run(migrator().status(&mut db)).unwrap();
        assert!(!status.managed);
        assert_eq!(status.matching_versions, [2]);
        assert_eq!(status.schema_version, 0);
        let mut managed = database(2);
        let status = run(migrator().status(&mut managed)).unwrap();
        assert!(status.managed && status.matching_versions.is_empty());
        let mut empty = MemoryDatabase::named("notes");
        assert!(run(migrator().status(&mut empty)).unwrap().managed);
    }

    /// Version 2 changes data only, so versions 1 and 2 have the same schema.
    fn data_only_history() -> Migrator {
        let m: Vec<crate::migration::Migration> = serde_json::from_value(json!([
            {"version": 1, "name": "notes", "up": [
                {"op": "createStore", "store": "notes", "keyPath": "id"},
                {"op": "createIndex", "store": "notes", "index": "by_title", "keyPath": "title"}],
             "down": [{"op": "deleteStore", "store": "notes"}]},
            {"version": 2, "name": "starred", "up": [
                {"op": "addField", "store": "notes", "field": "starred", "value": false}],
             "down": [{"op": "removeField", "store": "notes", "field": "starred"}]},
            {"version": 3, "name": "by starred", "up": [
                {"op": "createIndex", "store": "notes", "index": "by_starred", "keyPath": "starred"}],
             "down": [{"op": "deleteIndex", "store": "notes", "index": "by_starred"}]}
        ]))
        .unwrap();
        Migrator::new(MigrationSet::new(m).unwrap(), Transforms::new())
    }

    #[test]
    fn auto_adopts_at_the_highest_matching_version() {
        let history = data_only_history();
        let mut db = MemoryDatabase::named("notes");
        run(history.migrate_to(&mut db, Some(1), 1.0, None)).unwrap();
        db.meta = None;
        db.journal.clear();
        let status = run(history.status(&mut db)).unwrap();
        assert_eq!(status.matching_versions, [1, 2]);
        let report = run(history.adopt(&mut db, BackupPolicy::default(), Baseline::Auto)).unwrap();
        assert_eq!(report.to, 2);
        assert_eq!(version(&db), 2);
    }

    #[test]
    fn a_schema_that_is_not_the_baseline_s_is_refused_and_nothing_changes() {
        let mut db = unmanaged(2);
        let before = db.clone();
        let err = adopt(&mut db, Baseline::Version(1)).unwrap_err();
        assert_eq!(err.code(), "BaselineMismatch", "{err}");
        let said = err.to_string();
        assert!(said.contains("cannot be adopted at 1"), "{said}");
        assert!(
            said.contains("by_tag"),
            "the problems, as validate says them: {said}"
        );
        assert_eq!(db, before, "no backup, no journal, no change");
        // No version matches: "auto" says so, and what differs from the nearest.
        db.schema
            .stores
            .get_mut("notes")
            .unwrap()
            .indexes
            .remove("by_tag");
        let before = db.clone();
        let err = adopt(&mut db, Baseline::Auto).unwrap_err();
        assert_eq!(err.code(), "BaselineMismatch", "{err}");
        let said = err.to_string();
        assert!(
            said.contains("no schema version of this app (0 to 5)"),
            "{said}"
        );
        assert!(said.contains("nearest is version 2"), "{said}");
        assert!(said.contains("\"by_tag\""), "{said}");
        assert_eq!(db, before);
        let err = adopt(&mut db, Baseline::Version(9)).unwrap_err();
        assert_eq!(err.code(), "UnknownVersion", "{err}");
        assert_eq!(db, before);
    }

    #[test]
    fn an_unmanaged_database_is_refused_until_adopted() {
        let mut db = unmanaged(1);
        let before = db.clone();
        for err in [
            migrate(&mut db, 2).unwrap_err(),
            migrate(&mut db, 1).unwrap_err(),
            roll_back(&mut db, 0).unwrap_err(),
            run(migrator().plan(&mut db, 2)).unwrap_err().into(),
        ] {
            assert_eq!(err.code(), "Unmanaged", "{err}");
            let said = err.to_string();
            assert!(
                said.contains("\"notebooks\", \"notes\", \"settings\""),
                "{said}"
            );
            assert!(said.contains("`baseline`"), "{said}");
        }
        assert_eq!(db, before, "no backup, no journal, no change");
        // A database without app stores is not unmanaged: it migrates from 0.
        let mut empty = MemoryDatabase::named("notes");
        empty.idb_version = 1;
        migrate(&mut empty, 1).unwrap();
        assert_eq!(version(&empty), 1);
    }

    #[test]
    fn a_restore_replaces_an_unmanaged_database_after_backing_it_up() {
        let mut db = database(1);
        run(migrator().manual_backup(&mut db, ManualBackup::labelled(""))).unwrap();
        let (manifest, held) = db.backups[0].clone();
        let mut old = unmanaged(2);
        let report = restore_from(
            &mut old,
            MemorySource::File(Box::new(manifest), Box::new(held)),
            RestoreConsent::default(),
        )
        .unwrap();
        assert_eq!((report.from, report.to), (0, 1));
        assert!(report.backup_id.is_some());
        assert_eq!(version(&old), 1);
        assert_eq!(old.schema, db.schema);
    }

    #[test]
    fn adopting_whose_backup_failed_writes_nothing() {
        let mut db = unmanaged(2);
        db.failing_backup = Some(RewindError::QuotaExceeded {
            needed: 10,
            detail: String::new(),
        });
        let before = db.clone();
        let err = adopt(&mut db, Baseline::Version(2)).unwrap_err();
        assert_eq!(err.code(), "QuotaExceeded");
        assert_eq!(db, before, "no metadata, and no journal to write to");
        // Blocked: nothing either.
        db.failing_backup = None;
        db.blocked = true;
        let err = adopt(&mut db, Baseline::Version(2)).unwrap_err();
        assert!(err.is_blocked());
        assert_eq!((db.meta.clone(), db.journal.len()), (None, 0));
    }

    #[test]
    fn adopting_a_managed_or_empty_database_changes_nothing() {
        let mut db = database(3);
        let before = db.clone();
        let report = adopt(&mut db, Baseline::Version(1)).unwrap();
        assert_eq!((report.from, report.to, report.backup_id), (3, 3, None));
        assert_eq!(db, before);
        let mut new = MemoryDatabase::named("notes");
        let report = adopt(&mut new, Baseline::Auto).unwrap();
        assert_eq!((report.from, report.to), (0, 0));
        assert_eq!(new, MemoryDatabase::named("notes"));
    }

    #[test]
    fn with_a_baseline_the_first_operation_adopts_then_runs() {
        let adopting = migrator().with_baseline(Baseline::Version(1));
        let mut db = unmanaged(1);
        let before = db.clone();
        // A preview plans from the baseline, and changes nothing.
        let plan = run(adopting.plan(&mut db, 2)).unwrap();
        assert_eq!((plan.from, plan.to), (1, 2));
        assert_eq!(db, before);
        // An operation its own checks refuse adopts nothing.
        let policy = BackupPolicy::default();
        let err =
            run(adopting.migrate_or_roll_back(&mut db, policy, 9, Operation::Migrate)).unwrap_err();
        assert_eq!(err.code(), "UnknownVersion", "{err}");
        assert_eq!(db, before);
        let report =
            run(adopting.migrate_or_roll_back(&mut db, policy, 2, Operation::Migrate)).unwrap();
        assert_eq!((report.from, report.to), (1, 2));
        let done: Vec<(Operation, u32, u32)> = db
            .journal
            .iter()
            .map(|e| (e.operation, e.from, e.to))
            .collect();
        assert_eq!(done, [(Operation::Adopt, 0, 1), (Operation::Migrate, 1, 2)]);
        assert_eq!(db.backups.len(), 2, "before adopting, and before migrating");
        assert_eq!(
            db.records["notes"][0].1["tags"],
            json!([]),
            "the migration ran"
        );
        // Managed from then on: the baseline is not looked at again.
        run(adopting.migrate_or_roll_back(&mut db, policy, 1, Operation::Rollback)).unwrap();
        assert_eq!(version(&db), 1);
        // A database that does not exist migrates from 0.
        let mut new = MemoryDatabase::named("notes");
        run(adopting.migrate_or_roll_back(&mut new, policy, 2, Operation::Migrate)).unwrap();
        assert_eq!(new.journal.len(), 1);
        // A baseline the schema is not refuses the operation, changing nothing.
        let wrong = migrator().with_baseline(Baseline::Version(2));
        let mut db = unmanaged(1);
        let before = db.clone();
        let err =
            run(wrong.migrate_or_roll_back(&mut db, policy, 3, Operation::Migrate)).unwrap_err();
        assert_eq!(err.code(), "BaselineMismatch", "{err}");
        assert_eq!(db, before);
    }

    /// `db` at version 1 after a migration to 2 that the browser kept in part.
    fn cut_off_migration(policy: BackupPolicy) -> MemoryDatabase {
        let mut db = database(1);
        db.cut_off_next_apply = true;
        run(migrator().migrate_or_roll_back(&mut db, policy, 2, Operation::Migrate)).unwrap_err();
        let marker = db
            .interrupted
            .clone()
            .expect("the cut-off upgrade left its entry");
        assert_eq!(
            (marker.operation, marker.from, marker.to),
            (Operation::Migrate, 1, 2)
        );
        assert_eq!(version(&db), 1, "its metadata was never written");
        db
    }

    #[test]
    fn an_upgrade_kept_in_part_is_undone_from_its_backup_before_the_next_operation() {
        let mut uninterrupted = database(1);
        migrate(&mut uninterrupted, 2).unwrap();
        let mut db = cut_off_migration(BackupPolicy::default());
        let status = run(migrator().status(&mut db)).unwrap();
        assert_eq!(status.interrupted, db.interrupted);
        let half = db.records.clone();

        let report = migrate(&mut db, 2).unwrap();
        assert_eq!((report.from, report.to, version(&db)), (1, 2, 2));
        assert_eq!(db.interrupted, None);
        assert_eq!(db.records, uninterrupted.records);
        assert_eq!(db.schema, uninterrupted.schema);
        // The journal: the cut-off migration is undone by a restore that names it, after a
        // backup of the database as it was left (nothing written meanwhile is lost).
        let undo = &db.journal[db.journal.len() - 2];
        assert_eq!(
            (undo.operation, undo.from, undo.to, &undo.error),
            (Operation::Restore, 1, 1, &None)
        );
        let cut = undo
            .undid
            .as_deref()
            .expect("the restore names what it undid");
        assert_eq!(
            (cut.operation, cut.from, cut.to),
            (Operation::Migrate, 1, 2)
        );
        let (kept, held) = db
            .backups
            .iter()
            .find(|(m, _)| Some(&m.id) == undo.backup_id.as_ref())
            .expect("the backup of the cut-off state is listed");
        assert_eq!(
            kept.label,
            "before undoing the interrupted migration from version 1 to 2"
        );
        assert_eq!(held.records, half);
        let last = db.journal.last().unwrap();
        assert_eq!(
            (last.operation, last.from, last.to, &last.error),
            (Operation::Migrate, 1, 2, &None)
        );
        assert_eq!(
            db.backups.len(),
            3,
            "before the cut-off one, before the undo, before the retry"
        );
    }

    #[test]
    fn a_backup_of_a_cut_off_state_restores_as_cut_off_and_is_undone_again() {
        let mut uninterrupted = database(1);
        migrate(&mut uninterrupted, 2).unwrap();
        let mut db = cut_off_migration(BackupPolicy::default());
        let marker = db.interrupted.clone();
        let half = db.records.clone();
        migrate(&mut db, 2).unwrap();
        let undo = db.journal[db.journal.len() - 2].clone();
        let id = undo
            .backup_id
            .expect("the undo backed the cut-off state up");
        let (kept, _) = db.backups.iter().find(|(m, _)| m.id == id).unwrap();
        assert_eq!(kept.interrupted.as_deref(), marker.as_ref());

        // Restored, the half-changed data comes back marked as such: no step runs on it as if
        // it were whole, and the next operation undoes it as before.
        run(migrator().restore(
            &mut db,
            BackupPolicy::default(),
            MemorySource::Backup(id),
            RestoreConsent::default(),
        ))
        .unwrap();
        assert_eq!((&db.interrupted, &db.records), (&marker, &half));
        assert_eq!(run(migrator().status(&mut db)).unwrap().interrupted, marker);
        migrate(&mut db, 2).unwrap();
        assert_eq!(db.interrupted, None);
        assert_eq!(db.records, uninterrupted.records);

        // A backup of a whole state restores without the mark.
        let whole = db.backups.last().unwrap().0.clone();
        assert_eq!(whole.interrupted, None);
    }

    #[test]
    fn an_upgrade_kept_in_part_without_a_backup_waits_for_a_restore() {
        let off = BackupPolicy {
            automatic: false,
            ..BackupPolicy::default()
        };
        let mut earlier = database(1);
        run(migrator().manual_backup(&mut earlier, ManualBackup::labelled("kept"))).unwrap();
        let (manifest, held) = earlier.backups[0].clone();
        let mut db = cut_off_migration(off);
        let half = db.clone();
        for policy in [off, BackupPolicy::default()] {
            for (to, op) in [
                (2, Operation::Migrate),
                (3, Operation::Migrate),
                (1, Operation::Rollback),
            ] {
                let err =
                    run(migrator().migrate_or_roll_back(&mut db, policy, to, op)).unwrap_err();
                assert_eq!(err.code(), "Interrupted", "{err}");
                assert!(
                    err.to_string().contains("migration from version 1 to 2"),
                    "{err}"
                );
                assert!(err.to_string().contains("restore a backup"), "{err}");
                assert_eq!(db, half, "nothing changed");
            }
            let err = run(migrator().adopt(&mut db, policy, Baseline::Auto)).unwrap_err();
            assert_eq!(err.code(), "Interrupted", "{err}");
            assert_eq!(db, half);
        }
        // A repair of checksums would write the metadata over the half-changed data.
        let err = run(migrator().repair(&mut db, 5.0)).unwrap_err();
        assert_eq!(err.code(), "Interrupted", "{err}");
        assert_eq!(db, half);
        // A restore the person chooses ends it, after a backup of what the cut-off left.
        let source = MemorySource::File(Box::new(manifest), Box::new(held.clone()));
        run(migrator().restore(
            &mut db,
            BackupPolicy::default(),
            source,
            RestoreConsent::default(),
        ))
        .unwrap();
        assert_eq!(
            (db.interrupted.clone(), db.records.clone()),
            (None, held.records)
        );
        assert_eq!(db.backups.last().unwrap().1.records, half.records);
        migrate(&mut db, 2).unwrap();
        assert_eq!(version(&db), 2);
    }

    #[test]
    fn an_upgrade_kept_in_part_whose_backup_is_gone_or_unrestorable_changes_nothing() {
        let mut db = cut_off_migration(BackupPolicy::default());
        db.backups.clear();
        let half = db.clone();
        let err = migrate(&mut db, 2).unwrap_err();
        assert_eq!(err.code(), "Interrupted", "{err}");
        assert_eq!(db, half);

        let mut db = cut_off_migration(BackupPolicy::default());
        db.failing_stage = Some(RewindError::UnreadableFile("gone".into()));
        let err = migrate(&mut db, 2).unwrap_err();
        assert_eq!(err.code(), "UnreadableFile", "{err}");
        assert!(db.interrupted.is_some(), "still known as interrupted");
        assert_eq!(version(&db), 1);
        let failed = db.journal.last().unwrap();
        assert!(
            failed.error.is_some() && failed.undid.is_some(),
            "{failed:?}"
        );

        // No room for a copy: the undo needs none (what the cut-off upgrade left is held in
        // place), the migration after it does, and is refused with nothing more changed.
        let mut db = cut_off_migration(BackupPolicy::default());
        let marker = db.interrupted.clone().unwrap();
        let before_cut = db
            .backups
            .iter()
            .find(|(m, _)| Some(&m.id) == marker.backup_id.as_ref())
            .map(|(_, held)| held.records.clone())
            .unwrap();
        let half = db.records.clone();
        db.failing_backup = Some(MigrationError::QuotaExceeded(String::new()).into());
        let err = migrate(&mut db, 2).unwrap_err();
        assert_eq!(err.code(), "QuotaExceeded", "{err}");
        assert_eq!(db.interrupted, None, "undone");
        assert_eq!((version(&db), &db.records), (1, &before_cut));
        let (held_half, held) = db.backups.last().unwrap();
        assert!(held_half.in_place);
        assert_eq!(held.records, half);
    }
}
