//! The dialogs about one backup: restoring or deleting a listed backup, and restoring a file.
//! A backup this app refuses to restore never gets a confirm button; one that left records out
//! waits until the page knows which of them the restore keeps.

use super::{DialogKind, Loadable, Notice, PageState, Secret};
use crate::{messages, policy};
use rewind::backup::BackupManifest;

/// What a restore dialog knows at first of the records a backup left out: nothing to look up
/// when there are none.
fn kept_for(manifest: &BackupManifest) -> Loadable<Vec<bool>> {
    if manifest.skipped.is_empty() {
        Loadable::Ready(Vec::new())
    } else {
        Loadable::Loading
    }
}

impl PageState {
    fn backup(&self, id: &str) -> Option<&BackupManifest> {
        self.backups.ready()?.iter().find(|m| m.id == id)
    }

    /// A backup may be downloaded while no operation runs (a download reads the catalog the
    /// operation may be changing, and its failure must not be taken for the operation's).
    pub fn can_download(&self) -> bool {
        self.operation.is_none()
    }

    /// Why a backup cannot be restored into the selected database; `None` when it can.
    fn restore_refusal(&self, manifest: &BackupManifest) -> Option<String> {
        let target = self.selected.as_deref().unwrap_or_default();
        let latest = self.app_database(target)?.latest;
        policy::restore_refusal(manifest, target, latest)
    }

    /// A refused backup gets the reason instead of a dialog.
    pub(super) fn open_restore_backup(&mut self, id: &str) {
        if self.operation.is_some() {
            return;
        }
        let Some(manifest) = self.backup(id).cloned() else {
            return;
        };
        match self.restore_refusal(&manifest) {
            Some(reason) => {
                self.notice = Some(Notice::Error(messages::cannot_restore(id, &reason)));
            }
            None => {
                // A sealed backup's diff waits for its passphrase.
                let sealed = self.is_sealed(id);
                self.open(DialogKind::RestoreBackup {
                    kept: kept_for(&manifest),
                    manifest,
                    changes: Loadable::loading_if(!sealed),
                    sealed,
                    passphrase: Secret::default(),
                    unlocked_with: None,
                })
            }
        }
    }

    pub(super) fn open_delete_backup(&mut self, id: &str) {
        if let Some(manifest) = self.backup(id).cloned() {
            self.open(DialogKind::DeleteBackup { manifest });
        }
    }

    /// The file is read and verified by the effects; until then the dialog says so.
    pub(super) fn file_chosen(&mut self, file_name: String) {
        self.open(DialogKind::RestoreFile {
            file_name,
            manifest: Loadable::Loading,
            kept: Loadable::Idle,
            changes: Loadable::Idle,
            passphrase: Secret::default(),
            unlocked_with: None,
            sealed: false,
        });
    }

    /// The kind of the open dialog, to update its preview.
    fn dialog_kind(&mut self) -> Option<&mut DialogKind> {
        self.dialog.as_mut().map(|d| &mut d.kind)
    }

    /// A verified file this app refuses to restore is shown as failed, with the reason. An
    /// answer about another file than the one chosen now is stale.
    pub(super) fn file_inspected(
        &mut self,
        file_name: &str,
        result: Result<BackupManifest, String>,
    ) {
        let result = result.and_then(|m| match self.restore_refusal(&m) {
            Some(reason) => Err(reason),
            None => Ok(m),
        });
        if let Some(DialogKind::RestoreFile {
            file_name: current,
            manifest,
            kept,
            changes,
            ..
        }) = self.dialog_kind()
        {
            if current == file_name {
                if let Ok(m) = &result {
                    *kept = kept_for(m);
                    *changes = Loadable::Loading;
                }
                *manifest = result.into();
            }
        }
    }

    /// An answer for another backup than the open dialog's is stale.
    pub(super) fn kept_loaded(&mut self, id: &str, result: Result<Vec<bool>, String>) {
        match self.dialog_kind() {
            Some(DialogKind::RestoreBackup { manifest, kept, .. }) if manifest.id == id => {
                *kept = result.into();
            }
            Some(DialogKind::RestoreFile {
                manifest: Loadable::Ready(manifest),
                kept,
                ..
            }) if manifest.id == id => *kept = result.into(),
            _ => {}
        }
    }

    /// The backup whose left-out records must be looked up in the live database before its
    /// restore can be confirmed.
    pub fn needs_kept(&self) -> Option<&BackupManifest> {
        match &self.dialog.as_ref()?.kind {
            DialogKind::RestoreBackup {
                manifest,
                kept: Loadable::Loading,
                ..
            }
            | DialogKind::RestoreFile {
                manifest: Loadable::Ready(manifest),
                kept: Loadable::Loading,
                ..
            } => Some(manifest),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::state::fixtures::*;
    use crate::state::{Action, Command, Dialog, DialogKind, Loadable, Notice, PageState};
    use rewind::backup::BackupManifest;

    /// The restore-from-file dialog once the chosen file was read as `manifest`, box ticked.
    fn file_read_as(manifest: BackupManifest) -> PageState {
        let file_name = format!("{}.rewind", manifest.id);
        ready()
            .apply(Action::FileChosen(file_name.clone()))
            .apply(Action::FileInspected {
                file_name,
                manifest: Ok(manifest),
            })
            .apply(Action::SetUnderstood(true))
    }

    /// Why the restore-from-file dialog refuses its file, if it does.
    fn refusal(state: &PageState) -> Option<&str> {
        match &state.dialog {
            Some(Dialog {
                kind:
                    DialogKind::RestoreFile {
                        manifest: Loadable::Failed(m),
                        ..
                    },
                ..
            }) => Some(m),
            _ => None,
        }
    }

    #[test]
    fn backup_dialogs_need_an_existing_backup() {
        let state = ready().apply(Action::OpenDeleteBackup("nope".into()));
        assert_eq!(state.dialog, None);
        let state = ready()
            .apply(Action::OpenDeleteBackup("b1".into()))
            .apply(Action::SetUnderstood(true));
        assert_eq!(
            state.confirmed_command(),
            Some(Command::DeleteBackup("b1".into()))
        );
        let state = ready()
            .apply(Action::OpenRestoreBackup("b1".into()))
            .apply(Action::SetUnderstood(true));
        assert_eq!(
            state.confirmed_command(),
            Some(Command::RestoreBackup("b1".into()))
        );
    }

    #[test]
    fn an_uploaded_file_is_verified_before_it_can_be_restored() {
        let state = ready()
            .apply(Action::FileChosen("x.rewind".into()))
            .apply(Action::SetUnderstood(true));
        assert_eq!(state.confirmed_command(), None, "still verifying");
        let bad = state.clone().apply(Action::FileInspected {
            file_name: "x.rewind".into(),
            manifest: Err("damaged".into()),
        });
        assert_eq!(bad.confirmed_command(), None);
        let other_db = state.clone().apply(Action::FileInspected {
            file_name: "x.rewind".into(),
            manifest: Ok(BackupManifest {
                database: B.into(),
                ..manifest("f")
            }),
        });
        assert_eq!(
            other_db.confirmed_command(),
            None,
            "another database's backup is refused"
        );
        let m = refusal(&other_db).expect("the file is refused");
        assert!(
            m.contains(&format!("not {A:?}")) && m.contains("Nothing was changed"),
            "{m}"
        );
        let stale = state.clone().apply(Action::FileInspected {
            file_name: "older.rewind".into(),
            manifest: Ok(manifest("f")),
        });
        assert_eq!(
            stale.confirmed_command(),
            None,
            "an answer about another file is ignored"
        );
        let good = state.apply(Action::FileInspected {
            file_name: "x.rewind".into(),
            manifest: Ok(manifest("f")),
        });
        assert_eq!(
            good.confirmed_command(),
            Some(Command::RestoreFile { passphrase: None })
        );
    }

    #[test]
    fn a_backup_newer_than_the_app_is_refused_before_confirming() {
        let latest = LATEST;
        let newer = BackupManifest {
            schema_version: latest + 1,
            ..manifest("n")
        };
        let file = file_read_as(newer.clone());
        assert_eq!(file.confirmed_command(), None);
        let m = refusal(&file).expect("the file is refused");
        assert!(
            m.starts_with(&format!(
                "this backup is at schema version {}, newer than this app knows (up to {latest})",
                latest + 1
            )) && !m.contains("NewerBackup"),
            "the library's own message: {m}"
        );
        // A listed backup made by a newer app: no dialog to confirm, the reason instead.
        let listed = ready()
            .apply(Action::BackupsLoaded {
                name: A.into(),
                backups: Ok(vec![manifest("b1"), newer]),
            })
            .apply(Action::OpenRestoreBackup("n".into()));
        assert_eq!(listed.dialog, None);
        assert!(
            matches!(&listed.notice, Some(Notice::Error(m)) if m.starts_with("Backup n cannot be restored: this backup is at schema version")),
            "{:?}",
            listed.notice
        );
        let fine = listed.apply(Action::OpenRestoreBackup("b1".into()));
        assert!(matches!(
            fine.dialog,
            Some(Dialog {
                kind: DialogKind::RestoreBackup { .. },
                ..
            })
        ));
    }

    fn with_skipped(id: &str) -> BackupManifest {
        BackupManifest {
            skipped: vec![rewind::backup::SkippedRecord {
                store: "notes".into(),
                key: "7".into(),
                key_bytes: "040e".into(),
                type_name: "CryptoKey".into(),
                path: ".secret".into(),
            }],
            ..manifest(id)
        }
    }

    #[test]
    fn a_restore_that_left_records_out_waits_for_what_it_will_keep() {
        let listed = ready().apply(Action::BackupsLoaded {
            name: A.into(),
            backups: Ok(vec![with_skipped("s"), manifest("b1")]),
        });
        let opened = listed
            .clone()
            .apply(Action::OpenRestoreBackup("s".into()))
            .apply(Action::SetUnderstood(true));
        assert_eq!(opened.needs_kept().map(|m| m.id.as_str()), Some("s"));
        assert_eq!(opened.confirmed_command(), None, "still looking");
        let stale = opened.clone().apply(Action::KeptLoaded {
            id: "b1".into(),
            kept: Ok(vec![true]),
        });
        assert_eq!(
            stale.confirmed_command(),
            None,
            "an answer for another backup"
        );
        let failed = opened.clone().apply(Action::KeptLoaded {
            id: "s".into(),
            kept: Err("no room".into()),
        });
        assert_eq!(failed.confirmed_command(), None);
        assert_eq!(failed.needs_kept(), None, "not asked again and again");
        let known = opened.apply(Action::KeptLoaded {
            id: "s".into(),
            kept: Ok(vec![false]),
        });
        assert_eq!(
            known.confirmed_command(),
            Some(Command::RestoreBackup("s".into()))
        );
        // A backup that left nothing out has nothing to look up.
        let plain = listed.apply(Action::OpenRestoreBackup("b1".into()));
        assert_eq!(plain.needs_kept(), None);
        // The same for a file, once it is verified.
        let file = ready()
            .apply(Action::FileChosen("s.rewind".into()))
            .apply(Action::SetUnderstood(true));
        assert_eq!(file.needs_kept(), None, "not before the file is verified");
        let file = file.apply(Action::FileInspected {
            file_name: "s.rewind".into(),
            manifest: Ok(with_skipped("s")),
        });
        assert_eq!(file.needs_kept().map(|m| m.id.as_str()), Some("s"));
        assert_eq!(file.confirmed_command(), None);
        let file = file.apply(Action::KeptLoaded {
            id: "s".into(),
            kept: Ok(vec![true]),
        });
        assert_eq!(
            file.confirmed_command(),
            Some(Command::RestoreFile { passphrase: None })
        );
    }

    #[test]
    fn another_database_s_backup_is_refused_with_what_to_do_on_this_page() {
        let other = BackupManifest {
            database: "someone-else".into(),
            ..manifest("o")
        };
        let file = file_read_as(other);
        assert_eq!(file.confirmed_command(), None);
        let m = refusal(&file).expect("the file is refused");
        assert_eq!(
            m,
            format!(
                "this backup is of database \"someone-else\", not {A:?}. Nothing was \
                 changed; choose a backup of {A:?}."
            )
        );
    }

    #[test]
    fn a_failed_download_is_shown_and_leaves_a_running_operation_alone() {
        let idle = ready();
        assert!(idle.can_download());
        let failed = idle
            .clone()
            .apply(Action::DownloadDone(Err("no room".into())));
        assert_eq!(
            failed.notice,
            Some(Notice::Error(
                "The backup could not be downloaded: no room".into()
            ))
        );
        assert_eq!(failed.generation, idle.generation, "nothing to read again");

        let running = ready().apply(Action::Run(Command::CreateBackup {
            label: "x".into(),
            skip_unsupported: false,
        }));
        assert!(
            !running.can_download(),
            "Download is disabled during an operation"
        );
        let state = running
            .clone()
            .apply(Action::DownloadDone(Err("no room".into())));
        assert_eq!(
            state.operation, running.operation,
            "the operation still runs"
        );
        assert_eq!(state.generation, running.generation);
        assert_eq!(
            state.notice,
            Some(Notice::Error(
                "The backup could not be downloaded: no room".into()
            ))
        );
        let state = state.apply(Action::Finished(Ok("created".into())));
        assert_eq!(state.notice, Some(Notice::Success("created".into())));
        assert!(state.can_download());
    }
}
