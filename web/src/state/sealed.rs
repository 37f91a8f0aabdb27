//! Passphrases: the download dialog (a backup downloaded sealed when the person gives one) and
//! the passphrase of a sealed file chosen for a restore. A sealed file is read again with the
//! passphrase typed when the person asks; whatever it answers (a wrong passphrase, damage) is
//! shown in the dialog, and nothing runs until the file is read and verified.
//!
//! A listed backup may be sealed too (an app kept it sealed in the catalog): the list marks
//! it, its restore dialog asks for its passphrase the same way and proves it by reading the
//! backup for the preview of what the restore changes, and its download needs the passphrase
//! (the library checks it and hands the file over as it is, still sealed).

use super::{DialogKind, Loadable, Notice, PageState};

/// A passphrase as the person typed it: cloned and compared like text, never written by
/// `Debug` (the page's state and commands derive it, for the tests and for panics).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: String) -> Self {
        Secret(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
impl From<&str> for Secret {
    fn from(text: &str) -> Self {
        Secret(text.to_string())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// A download the person confirmed: which backup, sealed under which passphrase (if any).
#[derive(Debug, Clone, PartialEq)]
pub struct PendingDownload {
    pub id: String,
    pub passphrase: Option<Secret>,
}

impl PageState {
    pub(super) fn open_download(&mut self, id: &str) {
        if !self.can_download() || self.download.is_some() {
            return;
        }
        let Some(manifest) = self
            .backups
            .ready()
            .and_then(|list| list.iter().find(|m| m.id == id))
            .cloned()
        else {
            return;
        };
        let sealed = self.is_sealed(id);
        self.open(DialogKind::Download {
            manifest,
            passphrase: Secret::default(),
            sealed,
        });
    }

    /// Which of the selected database's backups are sealed (an answer about another database
    /// is stale).
    pub(super) fn sealed_listed(&mut self, name: &str, ids: Vec<String>) {
        if self.is_selected(name) {
            self.sealed_backups = ids;
        }
    }

    /// Whether listed backup `id` is sealed.
    pub fn is_sealed(&self, id: &str) -> bool {
        self.sealed_backups.iter().any(|s| s == id)
    }

    pub(super) fn set_passphrase(&mut self, text: String) {
        match self.dialog.as_mut().map(|d| &mut d.kind) {
            Some(DialogKind::Download { passphrase, .. })
            | Some(DialogKind::RestoreFile { passphrase, .. })
            | Some(DialogKind::RestoreBackup { passphrase, .. }) => *passphrase = Secret::new(text),
            _ => {}
        }
    }

    /// The open restore dialog's backup is read again with the passphrase typed: a chosen
    /// file is verified again, a sealed listed backup compared with the database again. What
    /// was shown of it goes, and the box must be ticked again.
    pub(super) fn unlock(&mut self) {
        let Some(dialog) = self.dialog.as_mut() else {
            return;
        };
        match &mut dialog.kind {
            DialogKind::RestoreFile {
                manifest,
                kept,
                changes,
                passphrase,
                unlocked_with,
                ..
            } => {
                if passphrase.is_empty() || *manifest == Loadable::Loading {
                    return;
                }
                *unlocked_with = Some(passphrase.clone());
                *manifest = Loadable::Loading;
                *kept = Loadable::Idle;
                *changes = Loadable::Idle;
            }
            DialogKind::RestoreBackup {
                sealed: true,
                changes,
                passphrase,
                unlocked_with,
                ..
            } => {
                if passphrase.is_empty() || *changes == Loadable::Loading {
                    return;
                }
                *unlocked_with = Some(passphrase.clone());
                *changes = Loadable::Loading;
            }
            _ => return,
        }
        dialog.understood = false;
    }

    /// The sealed listed backup `id` refused the passphrase its dialog read it with: it must
    /// be given again (what it answered is the dialog's failed preview).
    pub(super) fn backup_locked(&mut self, id: &str) {
        let Some(dialog) = self.dialog.as_mut() else {
            return;
        };
        if let DialogKind::RestoreBackup {
            manifest,
            sealed: true,
            unlocked_with,
            ..
        } = &mut dialog.kind
        {
            if manifest.id == id {
                *unlocked_with = None;
                dialog.understood = false;
            }
        }
    }

    /// The chosen file turned out sealed (an answer about another file is stale).
    pub(super) fn file_sealed(&mut self, name: &str) {
        if let Some(DialogKind::RestoreFile {
            file_name, sealed, ..
        }) = self.dialog.as_mut().map(|d| &mut d.kind)
        {
            if file_name == name {
                *sealed = true;
            }
        }
    }

    /// The file to read again with a passphrase: its name and the passphrase.
    pub fn needs_unlock(&self) -> Option<(String, Secret)> {
        match &self.dialog.as_ref()?.kind {
            DialogKind::RestoreFile {
                file_name,
                manifest: Loadable::Loading,
                unlocked_with: Some(passphrase),
                ..
            } => Some((file_name.clone(), passphrase.clone())),
            _ => None,
        }
    }

    /// The passphrase the open restore dialog's backup (a chosen file or a sealed listed
    /// backup) is read with, if the person gave one.
    pub fn restore_passphrase(&self) -> Option<Secret> {
        match &self.dialog.as_ref()?.kind {
            DialogKind::RestoreFile { unlocked_with, .. }
            | DialogKind::RestoreBackup { unlocked_with, .. } => unlocked_with.clone(),
            _ => None,
        }
    }

    /// Confirming the download dialog hands the download to the effects; `false` when the
    /// open dialog is another.
    pub(super) fn confirm_download(&mut self) -> bool {
        let Some(dialog) = self.dialog.as_ref() else {
            return false;
        };
        let DialogKind::Download {
            manifest,
            passphrase,
            ..
        } = &dialog.kind
        else {
            return false;
        };
        if dialog.can_confirm() && self.can_download() && self.download.is_none() {
            self.download = Some(PendingDownload {
                id: manifest.id.clone(),
                passphrase: (!passphrase.is_empty()).then(|| passphrase.clone()),
            });
            self.dialog = None;
        }
        true
    }

    pub(super) fn download_done(&mut self, result: Result<(), String>) {
        self.download = None;
        if let Err(message) = result {
            self.notice = Some(Notice::Error(format!(
                "The backup could not be downloaded: {message}"
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::state::fixtures::*;
    use crate::state::{
        Action, ChangesSource, Command, DialogKind, Loadable, Notice, PageState, PendingDownload,
        Secret,
    };
    use rewind::RestoreDiff;

    /// Database A with backup "s" sealed (listed as such) besides "b1".
    fn with_sealed() -> PageState {
        ready()
            .apply(Action::SealedListed {
                name: A.into(),
                ids: vec!["s".into()],
            })
            .apply(Action::BackupsLoaded {
                name: A.into(),
                backups: Ok(vec![manifest("s"), manifest("b1")]),
            })
    }

    #[test]
    fn the_list_knows_which_backups_are_sealed_and_ignores_another_databases_answer() {
        let state = with_sealed();
        assert!(state.is_sealed("s"));
        assert!(!state.is_sealed("b1"));
        let stale = state.apply(Action::SealedListed {
            name: B.into(),
            ids: vec!["b1".into()],
        });
        assert!(!stale.is_sealed("b1"), "another database's answer");
        assert!(stale.is_sealed("s"));
    }

    #[test]
    fn a_sealed_listed_backup_is_compared_and_restored_only_with_a_passphrase_it_accepts() {
        let opened = with_sealed()
            .apply(Action::OpenRestoreBackup("s".into()))
            .apply(Action::SetUnderstood(true));
        assert!(matches!(
            opened.dialog.as_ref().map(|d| &d.kind),
            Some(DialogKind::RestoreBackup { sealed: true, .. })
        ));
        assert_eq!(
            opened.needs_changes(),
            None,
            "no diff without the passphrase"
        );
        assert_eq!(
            opened.confirmed_command(),
            None,
            "nothing to restore without it"
        );
        assert_eq!(
            opened.clone().apply(Action::Unlock).needs_changes(),
            None,
            "an empty passphrase opens nothing"
        );
        let source = ChangesSource::Backup("s".into());
        let trying = opened
            .apply(Action::SetPassphrase("wrong".into()))
            .apply(Action::Unlock);
        assert_eq!(trying.needs_changes(), Some(source.clone()));
        assert_eq!(trying.restore_passphrase(), Some(Secret::from("wrong")));
        assert_eq!(
            trying
                .clone()
                .apply(Action::SetUnderstood(true))
                .confirmed_command(),
            None,
            "not while the passphrase is unproven"
        );
        let refused = trying
            .apply(Action::ChangesLoaded {
                source: source.clone(),
                changes: Err("the passphrase is not the one".into()),
            })
            .apply(Action::BackupLocked("s".into()))
            .apply(Action::SetUnderstood(true));
        assert_eq!(
            changes(&refused),
            Some(&Loadable::Failed("the passphrase is not the one".into()))
        );
        assert_eq!(refused.restore_passphrase(), None);
        assert_eq!(refused.needs_changes(), None);
        assert_eq!(refused.confirmed_command(), None, "Restore stays disabled");
        let right = refused
            .apply(Action::SetPassphrase("right".into()))
            .apply(Action::Unlock);
        assert_eq!(right.needs_changes(), Some(source.clone()), "asked again");
        let stale = right.clone().apply(Action::BackupLocked("b1".into()));
        assert_eq!(stale.restore_passphrase(), Some(Secret::from("right")));
        let shown = right
            .apply(Action::ChangesLoaded {
                source,
                changes: Ok(RestoreDiff::default()),
            })
            .apply(Action::SetUnderstood(true));
        let typed_again = shown.apply(Action::SetPassphrase("other".into()));
        assert_eq!(
            typed_again.confirmed_command(),
            Some(Command::RestoreSealedBackup {
                id: "s".into(),
                passphrase: "right".into()
            }),
            "restored with the passphrase it was read with"
        );
        let running = typed_again.apply(Action::Confirm).operation.unwrap();
        assert!(running.can_cancel() && running.command.changes_data());
    }

    #[test]
    fn a_plain_listed_backup_asks_no_passphrase_and_is_compared_at_once() {
        let opened = with_sealed().apply(Action::OpenRestoreBackup("b1".into()));
        assert_eq!(
            opened.needs_changes(),
            Some(ChangesSource::Backup("b1".into()))
        );
        let unchanged = opened.clone().apply(Action::SetPassphrase("x".into()));
        assert_eq!(
            unchanged.apply(Action::Unlock),
            opened.apply(Action::SetPassphrase("x".into()))
        );
    }

    #[test]
    fn closing_a_restore_dialog_stops_waiting_for_its_diff() {
        let comparing = with_sealed()
            .apply(Action::OpenRestoreBackup("s".into()))
            .apply(Action::SetPassphrase("p".into()))
            .apply(Action::Unlock);
        assert!(comparing.needs_changes().is_some());
        let closed = comparing.apply(Action::CloseDialog);
        assert_eq!(
            closed.needs_changes(),
            None,
            "the effect's cleanup cancels the diff"
        );
        assert_eq!(closed.restore_passphrase(), None);
    }

    #[test]
    fn a_sealed_backup_downloads_as_it_is_only_with_a_passphrase() {
        let open = with_sealed().apply(Action::OpenDownload("s".into()));
        assert!(matches!(
            open.dialog.as_ref().map(|d| &d.kind),
            Some(DialogKind::Download { sealed: true, .. })
        ));
        assert!(!open.dialog.as_ref().unwrap().can_confirm());
        let refused = open.clone().apply(Action::Confirm);
        assert_eq!(refused.download, None, "no passphrase, no download");
        assert!(refused.dialog.is_some(), "the dialog stays");
        let given = open
            .apply(Action::SetPassphrase("its own".into()))
            .apply(Action::Confirm);
        assert_eq!(
            given.download,
            Some(PendingDownload {
                id: "s".into(),
                passphrase: Some("its own".into())
            })
        );
        let wrong = given.apply(Action::DownloadDone(Err(
            "the passphrase is not the one this backup was encrypted with".into(),
        )));
        assert!(
            matches!(wrong.notice, Some(Notice::Error(m)) if m.contains("passphrase is not the one"))
        );
        let plain = with_sealed().apply(Action::OpenDownload("b1".into()));
        assert!(matches!(
            plain.dialog.as_ref().map(|d| &d.kind),
            Some(DialogKind::Download { sealed: false, .. })
        ));
    }

    #[test]
    fn a_download_is_sealed_only_with_a_passphrase_and_needs_no_ticked_box() {
        let state = ready();
        let open = state.clone().apply(Action::OpenDownload("b1".into()));
        assert!(matches!(
            open.dialog.as_ref().map(|d| &d.kind),
            Some(DialogKind::Download { .. })
        ));
        assert!(open.dialog.as_ref().unwrap().can_confirm());
        let plain = open.clone().apply(Action::Confirm);
        assert_eq!(
            plain.download,
            Some(PendingDownload {
                id: "b1".into(),
                passphrase: None
            })
        );
        assert!(plain.dialog.is_none());
        assert!(plain.operation.is_none(), "a download is no operation");
        let sealed = open
            .apply(Action::SetPassphrase("hunter2".into()))
            .apply(Action::Confirm);
        assert_eq!(
            sealed
                .download
                .as_ref()
                .and_then(|d| d.passphrase.as_ref().map(Secret::as_str)),
            Some("hunter2")
        );
        assert!(
            !format!("{sealed:?}").contains("hunter2"),
            "the state never prints it"
        );
        let failed = sealed.apply(Action::DownloadDone(Err("no".into())));
        assert_eq!(failed.download, None);
        assert!(matches!(failed.notice, Some(Notice::Error(m)) if m.contains("no")));
        let unknown = state.apply(Action::OpenDownload("gone".into()));
        assert!(unknown.dialog.is_none());
    }

    #[test]
    fn a_sealed_file_is_read_again_with_the_passphrase_and_restored_with_it() {
        let chosen = ready()
            .apply(Action::FileChosen("x.rewind".into()))
            .apply(Action::FileSealed("x.rewind".into()))
            .apply(Action::FileInspected {
                file_name: "x.rewind".into(),
                manifest: Err("this backup is encrypted; give the passphrase".into()),
            });
        assert!(matches!(
            chosen.dialog.as_ref().map(|d| &d.kind),
            Some(DialogKind::RestoreFile { sealed: true, .. })
        ));
        let stale = ready()
            .apply(Action::FileChosen("y.rewind".into()))
            .apply(Action::FileSealed("x.rewind".into()));
        assert!(matches!(
            stale.dialog.as_ref().map(|d| &d.kind),
            Some(DialogKind::RestoreFile { sealed: false, .. })
        ));
        assert_eq!(chosen.needs_unlock(), None);
        let empty = chosen.clone().apply(Action::Unlock);
        assert_eq!(
            empty.needs_unlock(),
            None,
            "an empty passphrase opens nothing"
        );
        let unlocking = chosen
            .apply(Action::SetPassphrase("wrong".into()))
            .apply(Action::Unlock);
        assert_eq!(
            unlocking.needs_unlock(),
            Some(("x.rewind".into(), "wrong".into()))
        );
        let wrong = unlocking.apply(Action::FileInspected {
            file_name: "x.rewind".into(),
            manifest: Err("the passphrase is not the one".into()),
        });
        assert_eq!(wrong.needs_unlock(), None);
        assert_eq!(
            wrong
                .clone()
                .apply(Action::SetUnderstood(true))
                .confirmed_command(),
            None,
            "nothing to restore while the file cannot be read"
        );
        let right = wrong
            .apply(Action::SetPassphrase("right".into()))
            .apply(Action::Unlock)
            .apply(Action::FileInspected {
                file_name: "x.rewind".into(),
                manifest: Ok(manifest("f")),
            })
            .apply(Action::SetUnderstood(true));
        assert_eq!(right.restore_passphrase(), Some(Secret::from("right")));
        assert_eq!(
            right.confirmed_command(),
            Some(Command::RestoreFile {
                passphrase: Some("right".into())
            })
        );
        // Nothing the page's state or commands print shows a passphrase.
        let shown = format!("{right:?} {:?}", right.confirmed_command());
        assert!(!shown.contains("right"), "no passphrase in {shown}");
        assert!(shown.contains("Secret(…)"));
        let typed_again = right.apply(Action::SetPassphrase("other".into()));
        assert_eq!(
            typed_again.confirmed_command(),
            Some(Command::RestoreFile {
                passphrase: Some("right".into())
            }),
            "the file is restored with the passphrase it was read with"
        );
        assert!(matches!(
            typed_again.dialog.map(|d| d.kind),
            Some(DialogKind::RestoreFile {
                manifest: Loadable::Ready(_),
                ..
            })
        ));
    }
}
