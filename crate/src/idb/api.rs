//! `Rewind`: one app database with its migrations, its backups and its cross-tab lock. This
//! is what the recovery page and the JavaScript API call. The steps around an operation are
//! the core's (`crate::operations`); here they are carried out: [`IdbBackend`] is the
//! IndexedDB implementation of its `Backups` seam.

use super::backend::IdbBackend;
use super::catalog::CatalogEntry;
use super::chunked_file::{inspect_blob, open_file};
use super::folder::{self, FolderStatus, FolderWrite, FolderWriteSlot};
use super::lock::{lock_database, LockGuard};
use super::open::BlockedPolicy;
use super::restore::{discard_staged, stage_restore, swap_staged, RestoreInput, StagedRestore};
use super::sealed;
use super::snapshot::{snapshot, Reading, SnapshotInfo};
use super::storage::{blob_to_file, bytes_to_blob};
use super::{catalog, in_place, CancelFlag, Progress};
use crate::backup::{backup_file_name, BackupManifest, Passphrase};
use crate::backup_policy::{backup_id, RestoreConsent, UnsupportedRecords};
use crate::diff::SchemaDiff;
use crate::engine::{
    Baseline, DatabaseState, JournalEntry, Migrator, Operation, OperationReport, Status,
};
use crate::folder_policy::{FolderEntry, FolderReason};
use crate::migration_error::MigrationError;
use crate::operations::{BackupPolicy, BackupRequest, Backups, ManualBackup};
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
    /// A sealed file (format 5) from `source`, opened with `passphrase` (a source that turns
    /// out not to be sealed is read as it is).
    Sealed {
        source: Box<RestoreSource>,
        passphrase: Passphrase,
    },
}

impl RestoreSource {
    /// This source, opened with `passphrase` if it is sealed.
    pub fn with_passphrase(self, passphrase: Option<Passphrase>) -> RestoreSource {
        match passphrase {
            Some(passphrase) => RestoreSource::Sealed {
                source: Box::new(self),
                passphrase,
            },
            None => self,
        }
    }
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
    /// Told how the automatic backup's copy in the backup folder went (when a folder is set).
    pub folder_write: Option<FolderWriteSlot>,
}

impl Default for OperationOptions {
    fn default() -> Self {
        OperationOptions {
            progress: None,
            automatic_backup: true,
            cancel: None,
            folder_write: None,
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
            folder_write: None,
        }
    }

    /// The backend of one destructive operation, as the person chose.
    fn backend_for(&self, options: &OperationOptions) -> IdbBackend {
        IdbBackend {
            cancel: options.cancel.clone(),
            folder_write: options.folder_write.clone(),
            ..self.backend(options.progress.clone())
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
                &mut self.backend_for(&options),
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
                &mut self.backend_for(&options),
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
            .roll_back_from_stored(&mut self.backend_for(&options), policy, to)
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
            .adopt(&mut self.backend_for(&options), policy, baseline)
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
        self.backup_with(
            ManualBackup {
                unsupported,
                ..ManualBackup::labelled(label)
            },
            progress,
            None,
        )
        .await
    }

    /// A manual backup as a person asked for it (sealed when it has a passphrase: its catalog
    /// entry says so, and the manifest is the backup's inside the seal), whose copy in the
    /// backup folder (when one is set) reports to `folder_write`.
    pub async fn backup_with(
        &self,
        asked: ManualBackup,
        progress: Option<Progress>,
        folder_write: Option<FolderWriteSlot>,
    ) -> Result<BackupManifest, RewindError> {
        let mut backend = self.backend(progress);
        backend.folder_write = folder_write;
        self.migrator.manual_backup(&mut backend, asked).await
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

    /// Every backup of this database with whether it is sealed, newest first.
    pub async fn list_catalog(&self) -> Result<Vec<CatalogEntry>, RewindError> {
        catalog::list_entries(&self.name).await
    }

    /// The catalog's entry of backup `id`.
    async fn entry(&self, id: &str) -> Result<CatalogEntry, RewindError> {
        catalog::list_entries(&self.name)
            .await?
            .into_iter()
            .find(|e| e.manifest.id == id)
            .ok_or_else(|| RewindError::NoSuchBackup { id: id.to_string() })
    }

    /// The manifest of backup `id`: the catalog's, or, for a sealed backup, the one inside
    /// its file, read and verified with `passphrase` (which it needs).
    pub async fn inspect_backup(
        &self,
        id: &str,
        passphrase: Option<&Passphrase>,
    ) -> Result<BackupManifest, RewindError> {
        let entry = self.entry(id).await?;
        if !entry.sealed {
            return Ok(entry.manifest);
        }
        let passphrase = passphrase.ok_or(crate::backup::BackupError::PassphraseRequired)?;
        let file = catalog::file(&self.name, id).await?;
        Self::inspect_sealed_file(&file, Some(passphrase)).await
    }

    /// Deletes backup `id`: from the catalog, or, held in place, from the database, after
    /// every operation on it that is running (its stores go by an upgrade).
    pub async fn delete_backup(&self, id: &str) -> Result<(), RewindError> {
        let backend = self.backend(None);
        let blocked = backend.blocked_policy()();
        delete_backup_of(&self.name, id, false, blocked).await
    }

    /// A backup as a file to download, named `<db>-v<schema>-<UTC time>.rewind`.
    pub async fn export_backup(&self, id: &str) -> Result<web_sys::File, RewindError> {
        self.export_sealed_backup(id, None).await
    }

    /// A backup as a file to download, sealed under `passphrase` when one is given. A backup
    /// sealed in the catalog is exported as it is, once `passphrase` is proven its own.
    pub async fn export_sealed_backup(
        &self,
        id: &str,
        passphrase: Option<&Passphrase>,
    ) -> Result<web_sys::File, RewindError> {
        // The stored file as it is: it was verified when it was written, and whoever uploads
        // it again has it verified completely before anything changes. No copy, no re-hash.
        let CatalogEntry { manifest, sealed } = self.entry(id).await?;
        let stored = backup_file(&self.name, id).await?;
        let file = match (sealed, passphrase) {
            (true, None) => return Err(crate::backup::BackupError::PassphraseRequired.into()),
            (true, Some(passphrase)) => {
                sealed::check_passphrase(&stored, passphrase).await?;
                stored
            }
            (false, Some(passphrase)) => {
                sealed::seal(&stored, passphrase, catalog::BACKUP_MIME).await?
            }
            (false, None) => stored,
        };
        let name = backup_file_name(
            &manifest.database,
            manifest.schema_version,
            manifest.created_at,
        );
        Ok(blob_to_file(&file, &name)?)
    }

    /// Verifies an uploaded file completely, a chunk at a time; changes nothing.
    pub async fn inspect_file(file: &web_sys::Blob) -> Result<BackupManifest, RewindError> {
        Self::inspect_sealed_file(file, None).await
    }

    /// Verifies an uploaded file completely, unsealed with `passphrase` first if it is sealed
    /// (which needs one); changes nothing.
    pub async fn inspect_sealed_file(
        file: &web_sys::Blob,
        passphrase: Option<&Passphrase>,
    ) -> Result<BackupManifest, RewindError> {
        inspect_blob(sealed::opened(file.clone(), passphrase).await?).await
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
        match resolve(&self.name, source).await? {
            Resolved::Held(kept) => {
                super::restore_diff::diff_held(&self.name, &kept, progress, cancel).await
            }
            Resolved::File(blob) => {
                super::restore_diff::diff_restore(&self.name, blob, progress, cancel).await
            }
        }
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
        let mut backend = self.backend_for(&options);
        self.migrator
            .restore(&mut backend, policy, source, consent)
            .await
    }
}

// The backup folder (`folder.rs`).
impl Rewind {
    /// Keeps `handle` (a `FileSystemDirectoryHandle`) as the folder this database's backups
    /// are also written to, once the browser grants writing (asked for now: call it from a
    /// person's gesture). Nothing is written yet; the schedule's first backup is due at once.
    pub async fn set_backup_folder(
        &self,
        handle: wasm_bindgen::JsValue,
        every_ms: Option<u64>,
        keep: u32,
    ) -> Result<FolderStatus, RewindError> {
        folder::set_folder(&self.name, handle, every_ms, keep).await
    }

    /// Where the backup folder stands now (`Ok` only when the browser grants writing now).
    pub async fn backup_folder(&self) -> Result<FolderStatus, RewindError> {
        folder::folder_status(&self.name).await
    }

    /// Asks the browser again to let the page write to the folder (a person's gesture).
    pub async fn request_folder_permission(&self) -> Result<FolderStatus, RewindError> {
        folder::request_permission(&self.name).await
    }

    /// Stops writing backups to the folder; what it holds stays.
    pub async fn forget_backup_folder(&self) -> Result<(), RewindError> {
        folder::forget_folder(&self.name).await
    }

    /// This database's backups the folder's manifest lists, newest first.
    pub async fn folder_backups(&self) -> Result<Vec<FolderEntry>, RewindError> {
        folder::folder_backups(&self.name).await
    }

    /// One backup of the folder as a File (to inspect, diff or restore).
    pub async fn folder_backup_file(&self, name: &str) -> Result<web_sys::File, RewindError> {
        folder::folder_file(&self.name, name).await
    }

    /// Whether the folder's schedule is due now, and how long until the next check.
    pub async fn folder_schedule(&self) -> (bool, u64) {
        folder::schedule(&self.name, js_sys::Date::now()).await
    }

    /// The schedule's backup: taken under the database's lock (not kept in the catalog, which
    /// would keep every one) and written to the folder. `None` without a folder.
    pub async fn scheduled_folder_backup(&self) -> Result<Option<FolderWrite>, RewindError> {
        let _lock = lock_database(&self.name).await?;
        let slot = FolderWriteSlot::default();
        let mut backend = self.backend(None);
        backend.folder_write = Some(slot.clone());
        let request = BackupRequest {
            label: "scheduled backup".into(),
            automatic: true,
            unsupported: self.backup_policy.unsupported,
            passphrase: None,
            compress: true,
        };
        backend.back_up(&request, FolderReason::Scheduled).await?;
        let write = slot.borrow_mut().take();
        Ok(write)
    }
}

/// The file of backup `id` of database `name`: the catalog's, or one held in place made into
/// a file.
async fn backup_file(name: &str, id: &str) -> Result<web_sys::Blob, RewindError> {
    match catalog::file(name, id).await {
        Err(RewindError::NoSuchBackup { .. }) => in_place::file(name, id)
            .await?
            .map(|made| made.blob)
            .ok_or_else(|| RewindError::NoSuchBackup { id: id.to_string() }),
        found => found,
    }
}

/// Deletes backup `id` of database `name`: from the catalog, or, held in place, its stores
/// first (an upgrade, which `blocked` governs, run under the database's lock: `locked` says
/// whether the caller holds it), then its listing.
async fn delete_backup_of(
    name: &str,
    id: &str,
    locked: bool,
    blocked: BlockedPolicy,
) -> Result<(), RewindError> {
    let listed = catalog::list_entries(name).await?;
    let entry = listed.iter().find(|e| e.manifest.id == id);
    if entry.is_some_and(|e| !e.manifest.in_place) {
        return catalog::delete(name, id).await;
    }
    let _lock = match locked {
        true => None,
        false => Some(lock_database(name).await?),
    };
    let dropped = in_place::delete(name, id, blocked).await?;
    match (entry, dropped) {
        (Some(_), _) => catalog::delete(name, id).await,
        (None, true) => Ok(()),
        (None, false) => Err(RewindError::NoSuchBackup { id: id.to_string() }),
    }
}

/// What a restore or a diff reads `source` from.
enum Resolved {
    /// A listed backup that is no file: database `name` holds it in place, and it is read
    /// from its stores.
    Held(BackupManifest),
    /// A backup file, unsealed.
    File(web_sys::Blob),
}

/// Where the backup `source` names is, learned with one read of the catalog: a backup id is
/// a file in the catalog or else held in place.
async fn resolve(name: &str, source: RestoreSource) -> Result<Resolved, RewindError> {
    let RestoreSource::Backup(id) = &source else {
        return source_blob(name, source).await.map(Resolved::File);
    };
    match catalog::file(name, id).await {
        Ok(file) => Ok(Resolved::File(sealed::opened(file, None).await?)),
        Err(RewindError::NoSuchBackup { .. }) => match in_place::held(name, id).await? {
            Some(kept) => Ok(Resolved::Held(kept)),
            None => Err(RewindError::NoSuchBackup { id: id.clone() }),
        },
        Err(e) => Err(e),
    }
}

/// The Blob of the backup file `source` names, unsealed if it is sealed (with the source's
/// passphrase, which it then needs).
async fn source_blob(name: &str, source: RestoreSource) -> Result<web_sys::Blob, RewindError> {
    let (source, passphrase) = match source {
        RestoreSource::Sealed { source, passphrase } => (*source, Some(passphrase)),
        other => (other, None),
    };
    let file = match source {
        RestoreSource::Backup(id) => backup_file(name, &id).await?,
        RestoreSource::Blob(blob) => blob,
        RestoreSource::File(bytes) => bytes_to_blob(&bytes, catalog::BACKUP_MIME)?,
        RestoreSource::Sealed { .. } => {
            return Err(
                crate::backup::BackupError::invalid("a sealed source inside another").into(),
            )
        }
    };
    sealed::opened(file, passphrase.as_ref()).await
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

impl IdbBackend {
    /// Backs the database up: kept in the catalog (unless the schedule took it: those live in
    /// the backup folder only), and copied to the backup folder when one is set, the copy's
    /// outcome told to `folder_write`. The one place a snapshot is taken (one copy of its code
    /// in the wasm).
    async fn back_up(
        &mut self,
        request: &BackupRequest,
        reason: FolderReason,
    ) -> Result<BackupManifest, RewindError> {
        // Backups are only worth something if the browser keeps them: ask it not to evict
        // this site's data under storage pressure (never waiting: Firefox asks the person).
        super::storage::request_persistence();
        let created_at = js_sys::Date::now();
        let info = SnapshotInfo {
            id: self.backup_id(created_at),
            label: request.label.clone(),
            automatic: request.automatic,
            created_at,
            skip_unsupported: request.unsupported == UnsupportedRecords::Skip,
            compress: request.compress,
        };
        let made = snapshot(
            &self.name,
            info,
            Reading::Database,
            self.progress.as_deref(),
        )
        .await?;
        // Sealed after the snapshot's transaction has ended (WebCrypto inside it would let it
        // commit early), before anything is kept.
        let file = match &request.passphrase {
            Some(passphrase) => sealed::seal(&made.blob, passphrase, catalog::BACKUP_MIME).await?,
            None => made.blob,
        };
        if reason != FolderReason::Scheduled {
            catalog::save(&made.manifest, &file, request.passphrase.is_some()).await?;
        }
        // A copy in the backup folder, when one is set: its failure is reported, never the
        // operation's.
        let write = folder::write_backup(&self.name, &made.manifest, &file, reason).await;
        if let Some(slot) = &self.folder_write {
            *slot.borrow_mut() = write;
        }
        Ok(made.manifest)
    }
}

impl IdbBackend {
    /// A backup folder gets every automatic backup: one held in place is made into a file for
    /// it (only then: the copy a restore saves is what a folder costs). Its failure is
    /// reported, never the restore's.
    async fn write_held_to_folder(&self, kept: &BackupManifest) {
        if !matches!(catalog::folder_record(&self.name).await, Ok(Some(_))) {
            return;
        }
        let write = match in_place::file(&self.name, &kept.id).await {
            Ok(Some(made)) => {
                let reason = FolderReason::Automatic;
                folder::write_backup(&self.name, &made.manifest, &made.blob, reason).await
            }
            Ok(None) => None,
            Err(err) => Some(FolderWrite::failed(err.to_string())),
        };
        if let Some(slot) = &self.folder_write {
            *slot.borrow_mut() = write;
        }
    }
}

impl Backups for IdbBackend {
    type Lock = LockGuard;
    type Source = RestoreSource;
    type Verified = RestoreInput;
    type Staged = StagedRestore;

    fn name(&self) -> &str {
        &self.name
    }

    fn catalog_source(&self, id: &str) -> RestoreSource {
        RestoreSource::Backup(id.to_string())
    }

    fn now(&self) -> f64 {
        js_sys::Date::now()
    }

    fn backup_id(&self, created_at: f64) -> String {
        backup_id(
            created_at,
            (js_sys::Math::random() * u32::MAX as f64) as u32,
        )
    }

    async fn lock(&mut self) -> Result<LockGuard, RewindError> {
        Ok(lock_database(&self.name).await?)
    }

    async fn take_backup(
        &mut self,
        request: &BackupRequest,
    ) -> Result<BackupManifest, RewindError> {
        let reason = match request.automatic {
            true => FolderReason::Automatic,
            false => FolderReason::Manual,
        };
        self.back_up(request, reason).await
    }

    async fn list_backups(&mut self) -> Result<Vec<BackupManifest>, RewindError> {
        catalog::list(&self.name).await
    }

    async fn delete_backup(&mut self, id: &str) -> Result<(), RewindError> {
        delete_backup_of(&self.name, id, true, self.blocked_policy()()).await
    }

    async fn verify(
        &mut self,
        source: RestoreSource,
    ) -> Result<(BackupManifest, Self::Verified), RewindError> {
        match resolve(&self.name, source).await? {
            // A backup held in place is copied from its stores, not made into a file first.
            Resolved::Held(kept) => Ok((kept.clone(), RestoreInput::Held(kept))),
            Resolved::File(blob) => {
                // A chunked file's chunks are checked as the restore stages them, before its
                // swap.
                let opened = open_file(blob).await?;
                Ok((opened.manifest().clone(), RestoreInput::File(opened)))
            }
        }
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
        keep: Option<&BackupManifest>,
    ) -> Result<(), RewindError> {
        swap_staged(staged, entry, keep, &self.blocked_policy())
            .await
            .map_err(|err| match err {
                // Firefox can run out of room in the swap itself (its upgrade renames stores
                // and writes the journal and metadata): the restore's own writes, as in
                // `stage`.
                RewindError::Migration(MigrationError::QuotaExceeded(detail)) => {
                    RewindError::RestoreNoRoom { needed: 0, detail }
                }
                other => other,
            })?;
        if let Some(kept) = keep {
            // Listed by the catalog, which listing reads; should this fail, the next read of
            // the database lists it (`in_place::reconcile`).
            let _ = catalog::save_held(kept).await;
            self.write_held_to_folder(kept).await;
        }
        Ok(())
    }

    async fn discard(&mut self, staged: StagedRestore) {
        discard_staged(staged, &self.blocked_policy()).await
    }
}
