//! What a restore will change, shown in its dialog: asked for once the dialog knows its backup
//! (a listed one at once, a file once it is verified), and shown when it comes. The confirm
//! never waits for it: it is a preview, and the restore checks the file again itself. An
//! answer for another backup or file than the open dialog's is stale.

use super::{DialogKind, Loadable, PageState};
use rewind::RestoreDiff;

/// Which backup a restore's diff is computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangesSource {
    /// A listed backup, by id.
    Backup(String),
    /// The chosen file, by its name (the page holds the file).
    File(String),
}

impl PageState {
    /// The source whose diff the open restore dialog waits for.
    pub fn needs_changes(&self) -> Option<ChangesSource> {
        match &self.dialog.as_ref()?.kind {
            DialogKind::RestoreBackup {
                manifest,
                changes: Loadable::Loading,
                ..
            } => Some(ChangesSource::Backup(manifest.id.clone())),
            DialogKind::RestoreFile {
                file_name,
                manifest: Loadable::Ready(_),
                changes: Loadable::Loading,
                ..
            } => Some(ChangesSource::File(file_name.clone())),
            _ => None,
        }
    }

    pub(super) fn changes_loaded(
        &mut self,
        source: &ChangesSource,
        result: Result<RestoreDiff, String>,
    ) {
        if self.needs_changes().as_ref() != Some(source) {
            return;
        }
        if let Some(
            DialogKind::RestoreBackup { changes, .. } | DialogKind::RestoreFile { changes, .. },
        ) = self.dialog.as_mut().map(|d| &mut d.kind)
        {
            *changes = result.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ChangesSource;
    use crate::state::fixtures::*;
    use crate::state::{Action, Loadable};
    use rewind::{RestoreDiff, StoreChanges};

    fn diff(removed: u64) -> RestoreDiff {
        RestoreDiff {
            stores: vec![StoreChanges {
                store: "notes".into(),
                removed,
                in_backup: true,
                in_live: true,
                ..StoreChanges::default()
            }],
            schema: vec![],
            sentences: vec![format!(
                "{removed} notes created since this backup will be removed"
            )],
        }
    }

    #[test]
    fn a_listed_backup_asks_for_its_changes_and_shows_them_without_gating_the_confirm() {
        let opened = ready().apply(Action::OpenRestoreBackup("b1".into()));
        assert_eq!(
            opened.needs_changes(),
            Some(ChangesSource::Backup("b1".into()))
        );
        let stale = opened.clone().apply(Action::ChangesLoaded {
            source: ChangesSource::Backup("other".into()),
            changes: Ok(diff(1)),
        });
        assert_eq!(
            changes(&stale),
            Some(&Loadable::Loading),
            "another backup's answer"
        );
        let shown = opened.clone().apply(Action::ChangesLoaded {
            source: ChangesSource::Backup("b1".into()),
            changes: Ok(diff(37)),
        });
        assert_eq!(changes(&shown), Some(&Loadable::Ready(diff(37))));
        assert_eq!(shown.needs_changes(), None, "asked once");
        let failed = opened.clone().apply(Action::ChangesLoaded {
            source: ChangesSource::Backup("b1".into()),
            changes: Err("the browser's storage failed".into()),
        });
        assert_eq!(
            changes(&failed),
            Some(&Loadable::Failed("the browser's storage failed".into()))
        );
        assert_eq!(failed.needs_changes(), None, "not asked again and again");
        let ticked = opened.apply(Action::SetUnderstood(true));
        assert!(
            ticked.dialog.as_ref().unwrap().can_confirm(),
            "the confirm does not wait for the preview"
        );
    }

    #[test]
    fn a_file_asks_for_its_changes_once_it_is_verified() {
        let chosen = ready().apply(Action::FileChosen("a.rewind".into()));
        assert_eq!(
            chosen.needs_changes(),
            None,
            "not before the file is checked"
        );
        let refused = chosen.clone().apply(Action::FileInspected {
            file_name: "a.rewind".into(),
            manifest: Err("damaged".into()),
        });
        assert_eq!(refused.needs_changes(), None, "never for a refused file");
        let verified = chosen.apply(Action::FileInspected {
            file_name: "a.rewind".into(),
            manifest: Ok(manifest("f")),
        });
        let source = ChangesSource::File("a.rewind".into());
        assert_eq!(verified.needs_changes(), Some(source.clone()));
        let shown = verified.apply(Action::ChangesLoaded {
            source,
            changes: Ok(diff(2)),
        });
        assert_eq!(changes(&shown), Some(&Loadable::Ready(diff(2))));
        let closed = shown.apply(Action::CloseDialog);
        assert_eq!(closed.needs_changes(), None);
    }
}
