//! Passphrases: the download dialog (a backup downloaded sealed when the person gives one) and
//! the passphrase of a sealed file chosen for a restore. A sealed file is read again with the
//! passphrase typed when the person asks; whatever it answers (a wrong passphrase, damage) is
//! shown in the dialog, and nothing runs until the file is read and verified.

use super::{DialogKind, Loadable, Notice, PageState};

/// A download the person confirmed: which backup, sealed under which passphrase (if any).
#[derive(Clone, PartialEq)]
pub struct PendingDownload {
    pub id: String,
    pub passphrase: Option<String>,
}

impl std::fmt::Debug for PendingDownload {
    /// Never the passphrase itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingDownload")
            .field("id", &self.id)
            .field("sealed", &self.passphrase.is_some())
            .finish()
    }
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
        self.open(DialogKind::Download {
            manifest,
            passphrase: String::new(),
        });
    }

    pub(super) fn set_passphrase(&mut self, text: String) {
        match self.dialog.as_mut().map(|d| &mut d.kind) {
            Some(DialogKind::Download { passphrase, .. })
            | Some(DialogKind::RestoreFile { passphrase, .. }) => *passphrase = text,
            _ => {}
        }
    }

    /// The chosen file is read again with the passphrase typed; what was shown of it goes,
    /// and the box must be ticked again.
    pub(super) fn unlock_file(&mut self) {
        let Some(dialog) = self.dialog.as_mut() else {
            return;
        };
        if let DialogKind::RestoreFile {
            manifest,
            kept,
            changes,
            passphrase,
            unlocked_with,
            ..
        } = &mut dialog.kind
        {
            if passphrase.is_empty() || *manifest == Loadable::Loading {
                return;
            }
            *unlocked_with = Some(passphrase.clone());
            *manifest = Loadable::Loading;
            *kept = Loadable::Idle;
            *changes = Loadable::Idle;
            dialog.understood = false;
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
    pub fn needs_unlock(&self) -> Option<(String, String)> {
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

    /// The passphrase the chosen file is read with, if the person gave one.
    pub fn file_passphrase(&self) -> Option<String> {
        match &self.dialog.as_ref()?.kind {
            DialogKind::RestoreFile { unlocked_with, .. } => unlocked_with.clone(),
            _ => None,
        }
    }

    /// Confirming the download dialog hands the download to the effects; `false` when the
    /// open dialog is another.
    pub(super) fn confirm_download(&mut self) -> bool {
        let Some(DialogKind::Download {
            manifest,
            passphrase,
        }) = self.dialog.as_ref().map(|d| &d.kind)
        else {
            return false;
        };
        if self.can_download() && self.download.is_none() {
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
    use crate::state::{Action, Command, DialogKind, Loadable, Notice, PendingDownload};

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
                .and_then(|d| d.passphrase.as_deref()),
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
        let empty = chosen.clone().apply(Action::UnlockFile);
        assert_eq!(
            empty.needs_unlock(),
            None,
            "an empty passphrase opens nothing"
        );
        let unlocking = chosen
            .apply(Action::SetPassphrase("wrong".into()))
            .apply(Action::UnlockFile);
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
            .apply(Action::UnlockFile)
            .apply(Action::FileInspected {
                file_name: "x.rewind".into(),
                manifest: Ok(manifest("f")),
            })
            .apply(Action::SetUnderstood(true));
        assert_eq!(right.file_passphrase().as_deref(), Some("right"));
        assert_eq!(
            right.confirmed_command(),
            Some(Command::RestoreFile {
                passphrase: Some("right".into())
            })
        );
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
