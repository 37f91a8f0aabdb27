//! `Rewind`: one app database with its migrations, its backups and its cross-tab lock. This
//! is what the recovery page and the JavaScript API call. The steps around an operation are
//! the core's (`crate::operations`); here they are carried out: [`IdbBackend`] is the
//! IndexedDB implementation of its `Backups` seam.

use super::backend::IdbBackend;
use super::chunked_file::{inspect_blob, open_file, OpenedFile};
use super::lock::{lock_database, LockGuard};
use super::open::BlockedPolicy;
use super::restore::{discard_staged, stage_restore, swap_staged, StagedRestore};
use super::snapshot::{snapshot, SnapshotInfo};
use super::storage::{blob_to_file, bytes_to_blob};
use super::{catalog, CancelFlag, Progress};
use crate::backup::{backup_file_name, BackupManifest};
use crate::backup_policy::{backup_id, RestoreConsent, UnsupportedRecords};
use crate::diff::SchemaDiff;
use crate::engine::{
    Baseline, DatabaseState, JournalEntry, Migrator, Operation, OperationReport, Status,
};
use crate::migration_error::MigrationError;
use crate::operations::{BackupPolicy, BackupRequest, Backups};
use crate::plan::MigrationPlan;
use crate::restore_diff::RestoreDiff;
use crate::rewind_error::RewindError;
use std::rc::Rc;

/// Where a restore takes its backup from.
pub enum RestoreSource {
    /// A backup in the catalog, by id.
    Backup(String),
    /// A `.rewind` file a person chose (untrusted: every byte is checked before the swap).
    Blob(web_sys::Blob),
    /// The bytes of a `.rewind` file (untrusted, as a chosen file).
    File(Vec<u8>),
}

/// What a person chose for one destructive operation.
#[derive(Clone)]
pub struct OperationOptions {
    /// Told how the operation's backup and restore advance.
    pub progress: Option<Progress>,
    /// Take the automatic backup first (the default). Turned off only by a person's explicit
    /// choice, for a database whose backup will not fit; the journal says so.
    pub automatic_backup: bool,
    /// Set to cancel a restore; heard until its swap begins.
    pub cancel: Option<CancelFlag>,
}

impl Default for OperationOptions {
    fn default() -> Self {
        OperationOptions {
            progress: None,
            automatic_backup: true,
            cancel: None,
        }
    }
}

impl OperationOptions {
    pub fn with_progress(progress: Option<Progress>) -> Self {
        OperationOptions {
            progress,
            ..Self::default()
        }
    }
}

pub struct Rewind {
    name: String,
    migrator: Migrator,
    /// How long an upgrade may wait for other tabs before it fails with `Blocked`.
    pub block_timeout_ms: u32,
    pub on_blocked: Option<Rc<dyn Fn()>>,
    /// What automatic backups keep and carry.
    pub backup_policy: BackupPolicy,
}

impl Rewind {
    pub fn new(name: impl Into<String>, migrator: Migrator) -> Self {
        Rewind {
            name: name.into(),
            migrator,
            block_timeout_ms: 5_000,
            on_blocked: None,
            backup_policy: BackupPolicy::default(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn migrator(&self) -> &Migrator {
        &self.migrator
    }

    /// The database as one operation sees it, reporting progress to `progress`.
    fn backend(&self, progress: Option<Progress>) -> IdbBackend {
        IdbBackend {
            name: self.name.clone(),
            block_timeout_ms: self.block_timeout_ms,
            on_blocked: self.on_blocked.clone(),
            progress,
            cancel: None,
            known_version: None,
        }
    }

    pub async fn status(&self) -> Result<Status, RewindError> {
        Ok(self.migrator.status(&mut self.backend(None)).await?)
    }

    /// The plan to `to`, with its effects: a dry run.
    pub async fn plan(&self, to: u32) -> Result<MigrationPlan, RewindError> {
        Ok(self.migrator.plan(&mut self.backend(None), to).await?)
    }

    pub async fn validate(&self) -> Result<SchemaDiff, RewindError> {
        Ok(self.migrator.validate(&mut self.backend(None)).await?)
    }

    /// The backup policy for one operation, as the person chose.
    fn policy_for(&self, options: &OperationOptions) -> BackupPolicy {
        BackupPolicy {
            automatic: self.backup_policy.automatic && options.automatic_backup,
            ..self.backup_policy
        }
    }

    /// Migrates to `to` (the latest when `None`) after an automatic backup.
    pub async fn migrate_to(
        &self,
        to: Option<u32>,
        options: OperationOptions,
    ) -> Result<OperationReport, RewindError> {
        let target = to.unwrap_or(self.migrator.migrations().latest());
        let policy = self.policy_for(&options);
        self.migrator
            .migrate_or_roll_back(
                &mut self.backend(options.progress),
                policy,
                target,
                Operation::Migrate,
            )
            .await
    }

    /// Rolls back to `to` after an automatic backup.
    pub async fn rollback_to(
        &self,
        to: u32,
        options: OperationOptions,
    ) -> Result<OperationReport, RewindError> {
        let policy = self.policy_for(&options);
        self.migrator
            .migrate_or_roll_back(
                &mut self.backend(options.progress),
                policy,
                to,
                Operation::Rollback,
            )
            .await
    }

    /// Rolls back to `to` with the steps the database keeps for the versions this app does not
    /// know (a database changed by a newer release), after an automatic backup.
    pub async fn rollback_from_stored(
        &self,
        to: u32,
        options: OperationOptions,
    ) -> Result<OperationReport, RewindError> {
        let policy = self.policy_for(&options);
        self.migrator
            .roll_back_from_stored(&mut self.backend(options.progress), policy, to)
            .await
    }

    /// The rollback to `to` with the steps the database keeps: a dry run.
    pub async fn plan_from_stored(&self, to: u32) -> Result<MigrationPlan, RewindError> {
        Ok(self
            .migrator
            .plan_from_stored(&mut self.backend(None), to)
            .await?)
    }

    /// Adopts a database made before the app used Rewind at `baseline`'s version, after an
    /// automatic backup: Rewind's metadata written, no app store or record changed. One that is
    /// not unmanaged is left as it is. (A `Migrator::with_baseline` does this before the first
    /// operation that would change the database.)
    pub async fn adopt(
        &self,
        baseline: Baseline,
        options: OperationOptions,
    ) -> Result<OperationReport, RewindError> {
        let policy = self.policy_for(&options);
        self.migrator
            .adopt(&mut self.backend(options.progress), policy, baseline)
            .await
    }

    /// Re-records the checksums of modified migrations (after the person confirmed).
    pub async fn repair(&self) -> Result<Vec<u32>, RewindError> {
        let _lock = lock_database(&self.name).await?;
        Ok(self
            .migrator
            .repair(&mut self.backend(None), js_sys::Date::now())
            .await?)
    }

    /// A manual backup, kept until deleted, its chunks compressed (format 4).
    pub async fn backup(
        &self,
        label: &str,
        unsupported: UnsupportedRecords,
        progress: Option<Progress>,
    ) -> Result<BackupManifest, RewindError> {
        self.backup_compressed_or_not(label, unsupported, true, progress)
            .await
    }

    /// [`Self::backup`], its chunks stored as they are (format 3) unless `compress`.
    pub async fn backup_compressed_or_not(
        &self,
        label: &str,
        unsupported: UnsupportedRecords,
        compress: bool,
        progress: Option<Progress>,
    ) -> Result<BackupManifest, RewindError> {
        self.migrator
            .manual_backup(&mut self.backend(progress), label, unsupported, compress)
            .await
    }

    /// For each record `manifest` left out, in order: whether restoring it now would keep
    /// the live record (`true`) or leave it out (`false`). Changes nothing.
    pub async fn skipped_kept(&self, manifest: &BackupManifest) -> Result<Vec<bool>, RewindError> {
        super::carry::skipped_kept(&self.name, manifest).await
    }

    /// Every backup of this database, newest first.
    pub async fn list_backups(&self) -> Result<Vec<BackupManifest>, RewindError> {
        catalog::list(&self.name).await
    }

    pub async fn delete_backup(&self, id: &str) -> Result<(), RewindError> {
        catalog::delete(&self.name, id).await
    }

    /// A backup as a file to download, named `<db>-v<schema>-<UTC time>.rewind`.
    pub async fn export_backup(&self, id: &str) -> Result<web_sys::File, RewindError> {
        // The stored file as it is: it was verified when it was written, and whoever uploads
        // it again has it verified completely before anything changes. No copy, no re-hash.
        let manifest = catalog::list(&self.name)
            .await?
            .into_iter()
            .find(|m| m.id == id)
            .ok_or_else(|| RewindError::NoSuchBackup { id: id.to_string() })?;
        let file = catalog::file(&self.name, id).await?;
        let name = backup_file_name(
            &manifest.database,
            manifest.schema_version,
            manifest.created_at,
        );
        Ok(blob_to_file(&file, &name)?)
    }

    /// Verifies an uploaded file completely, a chunk at a time; changes nothing.
    pub async fn inspect_file(file: &web_sys::Blob) -> Result<BackupManifest, RewindError> {
        inspect_blob(file.clone()).await
    }

    /// What restoring `source` would change, per store and in the schema, against the live
    /// database: read in bounded memory, a chunk of the file and a batch of each store at a
    /// time. Writes nothing and takes no backup; a damaged file fails as a restore would.
    /// `progress` hears the backup's records read; a `cancel` stops it (`Cancelled`).
    pub async fn diff(
        &self,
        source: RestoreSource,
        progress: Option<Progress>,
        cancel: Option<CancelFlag>,
    ) -> Result<RestoreDiff, RewindError> {
        let blob = source_blob(&self.name, source).await?;
        super::restore_diff::diff_restore(&self.name, blob, progress, cancel).await
    }

    /// Replaces the database with a backup: verified first, refused without consent when it
    /// is another database's or newer than this app, preceded by an automatic backup, and
    /// all-or-nothing.
    pub async fn restore(
        &self,
        source: RestoreSource,
        consent: RestoreConsent,
        options: OperationOptions,
    ) -> Result<OperationReport, RewindError> {
        let policy = self.policy_for(&options);
        let mut backend = self.backend(options.progress);
        backend.cancel = options.cancel;
        self.migrator
            .restore(&mut backend, policy, source, consent)
            .await
    }
}

/// The Blob of the backup file `source` names.
async fn source_blob(name: &str, source: RestoreSource) -> Result<web_sys::Blob, RewindError> {
    Ok(match source {
        RestoreSource::Backup(id) => catalog::file(name, &id).await?,
        RestoreSource::Blob(blob) => blob,
        RestoreSource::File(bytes) => bytes_to_blob(&bytes, catalog::BACKUP_MIME)?,
    })
}

impl IdbBackend {
    /// What an upgrade of this operation does when other tabs hold the database open.
    fn blocked_policy(&self) -> impl Fn() -> BlockedPolicy + '_ {
        || BlockedPolicy {
            on_blocked: self
                .on_blocked
                .clone()
                .map(|cb| Box::new(move || cb()) as Box<dyn Fn()>),
            timeout_ms: Some(self.block_timeout_ms),
        }
    }
}

impl Backups for IdbBackend {
    type Lock = LockGuard;
    type Source = RestoreSource;
    type Verified = OpenedFile;
    type Staged = StagedRestore;

    fn name(&self) -> &str {
        &self.name
    }

    fn now(&self) -> f64 {
        js_sys::Date::now()
    }

    async fn lock(&mut self) -> Result<LockGuard, RewindError> {
        Ok(lock_database(&self.name).await?)
    }

    async fn take_backup(
        &mut self,
        request: &BackupRequest,
    ) -> Result<BackupManifest, RewindError> {
        // Backups are only worth something if the browser keeps them: ask it not to evict
        // this site's data under storage pressure (never waiting: Firefox asks the person).
        super::storage::request_persistence();
        let created_at = js_sys::Date::now();
        let info = SnapshotInfo {
            id: backup_id(
                created_at,
                (js_sys::Math::random() * u32::MAX as f64) as u32,
            ),
            label: request.label.clone(),
            automatic: request.automatic,
            created_at,
            skip_unsupported: request.unsupported == UnsupportedRecords::Skip,
            compress: request.compress,
        };
        let made = snapshot(&self.name, info, self.progress.as_deref()).await?;
        catalog::save(&made.manifest, &made.blob).await?;
        Ok(made.manifest)
    }

    async fn list_backups(&mut self) -> Result<Vec<BackupManifest>, RewindError> {
        catalog::list(&self.name).await
    }

    async fn delete_backup(&mut self, id: &str) -> Result<(), RewindError> {
        catalog::delete(&self.name, id).await
    }

    async fn verify(
        &mut self,
        source: RestoreSource,
    ) -> Result<(BackupManifest, Self::Verified), RewindError> {
        let blob = source_blob(&self.name, source).await?;
        // A chunked file's chunks are checked as the restore stages them, before its swap.
        let opened = open_file(blob).await?;
        Ok((opened.manifest().clone(), opened))
    }

    async fn stage(
        &mut self,
        opened: Self::Verified,
        state: &DatabaseState,
    ) -> Result<StagedRestore, RewindError> {
        let needed = opened.manifest().bytes;
        let blocked = self.blocked_policy();
        stage_restore(
            &self.name,
            state.idb_version,
            opened,
            state.meta.schema_version,
            &blocked,
            self.progress.clone(),
            self.cancel.clone(),
        )
        .await
        .map_err(|err| match err {
            // The restore's own writes ran out of room (not a backup's): say so.
            RewindError::Migration(MigrationError::QuotaExceeded(detail)) => {
                RewindError::RestoreNoRoom { needed, detail }
            }
            other => other,
        })
    }

    async fn swap(
        &mut self,
        staged: StagedRestore,
        entry: &JournalEntry,
    ) -> Result<(), RewindError> {
        swap_staged(staged, entry, &self.blocked_policy()).await
    }

    async fn discard(&mut self, staged: StagedRestore) {
        discard_staged(staged, &self.blocked_policy()).await
    }
}
