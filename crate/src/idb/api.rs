//! `Rewind`: the engine, the IndexedDB backend, backups, cross-tab locking and the clock, put
//! together for one app database. This is what the recovery page and the JavaScript API call.
//!
//! Every destructive operation (migrate, roll back, restore) holds the database's cross-tab
//! lock, takes an automatic backup first (when there is anything to back up), and records that
//! backup's id in the journal and in its report.

use super::backend::IdbBackend;
use super::digest;
use super::lock::lock_database;
use super::open::BlockedPolicy;
use super::restore::{restore_verified, SharedProgress};
use super::snapshot::{snapshot, SnapshotInfo};
use super::storage::blob_to_bytes;
use super::{catalog, list_databases};
use crate::backup::{backup_file_name, BackupManifest};
use crate::catalog::{
    backup_id, check_restore, expired, unsupported_before_restore, RestoreConsent,
    UnsupportedRecords, DEFAULT_KEEP_AUTOMATIC,
};
use crate::diff::SchemaDiff;
use crate::engine::{JournalEntry, Migrate, Migrator, Operation, OperationReport, Status};
use crate::plan::MigrationPlan;
use crate::rewind_error::RewindError;
use std::rc::Rc;

/// Where a restore takes its backup from.
pub enum RestoreSource {
    /// A backup in the catalog, by id.
    Backup(String),
    /// The bytes of a `.rewind` file (untrusted: verified completely first).
    File(Vec<u8>),
}

pub struct Rewind {
    name: String,
    migrator: Migrator,
    /// How long an upgrade may wait for other tabs before it fails with `Blocked`.
    pub block_timeout_ms: u32,
    pub on_blocked: Option<Rc<dyn Fn()>>,
    /// Automatic backups kept (manual ones are always kept).
    pub keep_automatic: usize,
    /// What automatic backups do with records no backup can carry (refuse, so the operation
    /// does not start, unless the app chose otherwise).
    pub automatic_unsupported: UnsupportedRecords,
}

impl Rewind {
    pub fn new(name: impl Into<String>, migrator: Migrator) -> Self {
        Rewind {
            name: name.into(),
            migrator,
            block_timeout_ms: 5_000,
            on_blocked: None,
            keep_automatic: DEFAULT_KEEP_AUTOMATIC,
            automatic_unsupported: UnsupportedRecords::Refuse,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn migrator(&self) -> &Migrator {
        &self.migrator
    }

    fn backend(&self) -> IdbBackend {
        IdbBackend {
            name: self.name.clone(),
            block_timeout_ms: self.block_timeout_ms,
            on_blocked: self.on_blocked.clone(),
        }
    }

    fn blocked_policy(&self) -> BlockedPolicy {
        let cb = self.on_blocked.clone();
        BlockedPolicy {
            on_blocked: cb.map(|cb| Box::new(move || cb()) as Box<dyn Fn()>),
            timeout_ms: Some(self.block_timeout_ms),
        }
    }

    async fn exists(&self) -> Result<Option<u64>, RewindError> {
        Ok(list_databases()
            .await?
            .into_iter()
            .find(|d| d.name == self.name)
            .map(|d| d.idb_version))
    }

    pub async fn status(&self) -> Result<Status, RewindError> {
        Ok(self.migrator.status(&mut self.backend()).await?)
    }

    /// The plan to `to`, with its effects: a dry run.
    pub async fn plan(&self, to: u32) -> Result<MigrationPlan, RewindError> {
        Ok(self.migrator.plan(&mut self.backend(), to).await?)
    }

    pub async fn validate(&self) -> Result<SchemaDiff, RewindError> {
        Ok(self.migrator.validate(&mut self.backend()).await?)
    }

    /// Migrates to `to` (the latest when `None`) after an automatic backup.
    pub async fn migrate_to(
        &self,
        to: Option<u32>,
        progress: Option<SharedProgress>,
    ) -> Result<OperationReport, RewindError> {
        let _lock = lock_database(&self.name).await?;
        let target = to.unwrap_or(self.migrator.migrations().latest());
        let backup = self
            .backup_before(target, Operation::Migrate, progress)
            .await?;
        let now = js_sys::Date::now();
        Ok(self
            .migrator
            .migrate_to(&mut self.backend(), Some(target), now, backup)
            .await?)
    }

    /// Rolls back to `to` after an automatic backup.
    pub async fn rollback_to(
        &self,
        to: u32,
        progress: Option<SharedProgress>,
    ) -> Result<OperationReport, RewindError> {
        let _lock = lock_database(&self.name).await?;
        let backup = self
            .backup_before(to, Operation::Rollback, progress)
            .await?;
        let now = js_sys::Date::now();
        Ok(self
            .migrator
            .rollback_to(&mut self.backend(), to, now, backup)
            .await?)
    }

    /// The pre-operation backup, taken only when the operation passed every check and
    /// changes something.
    async fn backup_before(
        &self,
        to: u32,
        operation: Operation,
        progress: Option<SharedProgress>,
    ) -> Result<Option<String>, RewindError> {
        let state = self.backend().read().await?;
        let plan = self.migrator.checked_plan(&state, to, operation)?;
        if plan.migrations.is_empty() || !state.exists {
            return Ok(None);
        }
        let doing = if operation == Operation::Migrate {
            "migrating"
        } else {
            "rolling back"
        };
        let label = format!("before {doing} from version {} to {}", plan.from, plan.to);
        match self
            .take_backup(label, true, self.automatic_unsupported, progress)
            .await
        {
            Ok(manifest) => Ok(Some(manifest.id)),
            Err(err) => {
                self.journal_failed_backup(operation, plan.from, plan.to, &err)
                    .await;
                Err(err)
            }
        }
    }

    /// Journals an operation that did not start because its automatic backup failed, so the
    /// journal lists every attempt. Best effort: a journal that cannot be written (the same
    /// lack of room, say) must not hide the real error.
    async fn journal_failed_backup(
        &self,
        operation: Operation,
        from: u32,
        to: u32,
        err: &RewindError,
    ) {
        // After `Blocked` every open of the database waits behind the blocked one: write nothing.
        if matches!(err, RewindError::Migration(crate::MigrationError::Blocked)) {
            return;
        }
        let entry = JournalEntry {
            at: js_sys::Date::now(),
            operation,
            from,
            to,
            error: Some(format!(
                "the automatic backup before it failed, so nothing was changed: {err}"
            )),
            backup_id: None,
        };
        let _ = self.backend().record(&entry).await;
    }

    /// Re-records the checksums of modified migrations (after the person confirmed).
    pub async fn repair(&self) -> Result<Vec<u32>, RewindError> {
        let _lock = lock_database(&self.name).await?;
        Ok(self
            .migrator
            .repair(&mut self.backend(), js_sys::Date::now())
            .await?)
    }

    /// A manual backup, kept until deleted.
    pub async fn backup(
        &self,
        label: &str,
        unsupported: UnsupportedRecords,
        progress: Option<SharedProgress>,
    ) -> Result<BackupManifest, RewindError> {
        let _lock = lock_database(&self.name).await?;
        self.take_backup(label.to_string(), false, unsupported, progress)
            .await
    }

    /// For each record `manifest` left out, in order: whether restoring it now would keep
    /// the live record (`true`) or leave it out (`false`). Changes nothing.
    pub async fn skipped_kept(&self, manifest: &BackupManifest) -> Result<Vec<bool>, RewindError> {
        super::carry::skipped_kept(&self.name, manifest).await
    }

    async fn take_backup(
        &self,
        label: String,
        automatic: bool,
        unsupported: UnsupportedRecords,
        progress: Option<SharedProgress>,
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
            label,
            automatic,
            created_at,
            skip_unsupported: unsupported == UnsupportedRecords::Skip,
        };
        let encoded = snapshot(&self.name, info, progress.as_deref()).await?;
        catalog::save(&encoded.manifest, &encoded.bytes).await?;
        if automatic {
            let all = catalog::list(&self.name).await?;
            for id in expired(&all, self.keep_automatic) {
                catalog::delete(&self.name, &id).await?;
            }
        }
        Ok(encoded.manifest)
    }

    /// Every backup of this database, newest first.
    pub async fn list_backups(&self) -> Result<Vec<BackupManifest>, RewindError> {
        catalog::list(&self.name).await
    }

    pub async fn delete_backup(&self, id: &str) -> Result<(), RewindError> {
        catalog::delete(&self.name, id).await
    }

    /// A backup as a file to download, with its file name (`<db>-v<schema>-<UTC time>.rewind`).
    pub async fn export_backup(&self, id: &str) -> Result<(web_sys::Blob, String), RewindError> {
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
        Ok((file, name))
    }

    /// Every byte of a file the person chose. One that can no longer be read (changed, moved
    /// or still being written) is a problem with the file, not with the browser's storage.
    pub async fn read_file(file: &web_sys::Blob) -> Result<Vec<u8>, RewindError> {
        blob_to_bytes(file).await.map_err(|e| match e {
            super::IdbError::TooLarge { bytes } => RewindError::FileTooLarge { bytes },
            super::IdbError::BlobUnreadable(cause) => RewindError::UnreadableFile(cause),
            other => RewindError::UnreadableFile(other.to_string()),
        })
    }

    /// Reads an uploaded file and verifies it completely; changes nothing.
    pub async fn inspect_file(file: &web_sys::Blob) -> Result<BackupManifest, RewindError> {
        let bytes = Self::read_file(file).await?;
        Ok(digest::inspect(&bytes).await?)
    }

    /// Replaces the database with a backup: verified first, refused without consent when it
    /// is another database's or newer than this app, preceded by an automatic backup, and
    /// all-or-nothing.
    pub async fn restore(
        &self,
        source: RestoreSource,
        consent: RestoreConsent,
        progress: Option<SharedProgress>,
    ) -> Result<OperationReport, RewindError> {
        let bytes = match source {
            RestoreSource::Backup(id) => catalog::read(&self.name, &id).await?,
            RestoreSource::File(bytes) => bytes,
        };
        let verified = digest::verify_file(&bytes).await?;
        check_restore(
            &verified.manifest,
            &self.name,
            self.migrator.migrations().latest(),
            consent,
        )?;
        let _lock = lock_database(&self.name).await?;
        let state = self.backend().read().await?;
        let from = state.meta.schema_version;
        let to = verified.manifest.schema_version;
        let backup_id = match state.exists {
            true => {
                let label = format!("before restoring {}", verified.manifest.id);
                let unsupported =
                    unsupported_before_restore(&verified.manifest, self.automatic_unsupported);
                match self.take_backup(label, true, unsupported, None).await {
                    Ok(manifest) => Some(manifest.id),
                    Err(err) => {
                        self.journal_failed_backup(Operation::Restore, from, to, &err)
                            .await;
                        return Err(err);
                    }
                }
            }
            false => None,
        };
        let entry = JournalEntry {
            at: js_sys::Date::now(),
            operation: Operation::Restore,
            from,
            to,
            error: None,
            backup_id: backup_id.clone(),
        };
        let version = self.exists().await?.unwrap_or(0);
        let needed = bytes.len() as u64;
        let outcome = restore_verified(
            &self.name,
            version,
            bytes,
            &verified,
            &entry,
            self.blocked_policy(),
            progress,
        )
        .await
        .map_err(|err| match err {
            // The restore's own writes ran out of room (not a backup's): say so.
            RewindError::Migration(crate::MigrationError::QuotaExceeded(detail)) => {
                RewindError::RestoreNoRoom { needed, detail }
            }
            other => other,
        });
        if let Err(err) = outcome {
            if !matches!(err, RewindError::Migration(crate::MigrationError::Blocked)) {
                let failed = JournalEntry {
                    error: Some(err.to_string()),
                    ..entry
                };
                let _ = self.backend().record(&failed).await;
            }
            return Err(err);
        }
        Ok(OperationReport {
            from,
            to,
            backup_id,
        })
    }
}
