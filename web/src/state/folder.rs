//! The backup folder: where the selected database's backups are also written (a folder the
//! person chose, through the File System Access API), its state as the browser says it now,
//! and the backups its manifest lists (which the restore offers beside the catalog's). Choosing,
//! granting access and forgetting are requests the page carries out one at a time; the answer
//! is the folder as read afterwards, or an error shown as a notice with the folder unchanged.

use super::{Loadable, Notice, PageState};
use rewind::FolderEntry;

/// The folder's state, as the library says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderAccess {
    /// Writable now (the browser said so when it was read).
    Ok,
    /// Chosen, but the browser wants the person's permission again.
    NeedsPermission,
    /// This browser cannot write files to a folder.
    Unsupported,
    NotChosen,
}

/// What the page shows of the folder.
#[derive(Debug, Clone, PartialEq)]
pub struct FolderShown {
    pub access: FolderAccess,
    /// Whether the browser has a folder picker.
    pub picker: bool,
    pub name: Option<String>,
    pub last_written: Option<f64>,
    pub last_error: Option<String>,
    /// This database's backups in the folder, newest first (only when it is writable).
    pub backups: Vec<FolderEntry>,
}

impl FolderShown {
    /// Whether the page can use a folder at all: the browser writes files to one and a person
    /// can choose one. (Firefox writes to its origin's private folders but has no picker: for a
    /// person that is no folder.)
    pub fn usable(&self) -> bool {
        self.access != FolderAccess::Unsupported && (self.picker || self.name.is_some())
    }
}

/// What the person asked of the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderRequest {
    /// Choose a folder (or another one): the browser's picker, then permission to write.
    Choose,
    /// Allow writing again (the browser asks the person).
    Grant,
    /// Stop writing backups there (its files stay).
    Forget,
}

impl PageState {
    pub(super) fn folder_loaded(&mut self, name: &str, folder: Result<FolderShown, String>) {
        if self.is_selected(name) {
            self.folder = folder.into();
        }
    }

    /// One request at a time, and none while an operation runs (its backup may be writing to
    /// the folder).
    pub(super) fn request_folder(&mut self, request: FolderRequest) {
        if self.folder_request.is_none() && self.operation.is_none() && self.managed() {
            self.folder_request = Some(request);
        }
    }

    /// The request to carry out now.
    pub fn needs_folder(&self) -> Option<FolderRequest> {
        self.folder_request
    }

    /// The folder after a request: shown as it is now; a refusal (permission denied, a folder
    /// that cannot be used) is said in a notice and changes nothing shown.
    pub(super) fn folder_answered(&mut self, name: &str, answer: Result<FolderShown, String>) {
        self.folder_request = None;
        if !self.is_selected(name) {
            return;
        }
        match answer {
            Ok(folder) => self.folder = Loadable::Ready(folder),
            Err(message) => self.notice = Some(Notice::Error(message)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::fixtures::*;
    use crate::state::{Action, Command};

    fn shown(access: FolderAccess) -> FolderShown {
        FolderShown {
            access,
            picker: true,
            name: (access != FolderAccess::NotChosen).then(|| "Backups".to_string()),
            last_written: None,
            last_error: None,
            backups: vec![],
        }
    }

    #[test]
    fn the_folder_is_read_with_the_details_of_a_managed_database_only() {
        let state = ready();
        assert_eq!(state.folder, Loadable::Loading);
        let loaded = state.apply(Action::FolderLoaded {
            name: A.into(),
            folder: Ok(shown(FolderAccess::Ok)),
        });
        assert_eq!(loaded.folder, Loadable::Ready(shown(FolderAccess::Ok)));
        // An answer for a database the person has left is ignored.
        let other = loaded.clone().apply(Action::Select(B.into()));
        assert_eq!(other.folder, Loadable::Idle, "not managed: no folder");
        let late = other.apply(Action::FolderLoaded {
            name: A.into(),
            folder: Ok(shown(FolderAccess::NeedsPermission)),
        });
        assert_eq!(late.folder, Loadable::Idle);
    }

    #[test]
    fn a_request_runs_once_and_its_answer_shows() {
        let state = ready().apply(Action::FolderLoaded {
            name: A.into(),
            folder: Ok(shown(FolderAccess::NotChosen)),
        });
        let asked = state.apply(Action::RequestFolder(FolderRequest::Choose));
        assert_eq!(asked.needs_folder(), Some(FolderRequest::Choose));
        let again = asked
            .clone()
            .apply(Action::RequestFolder(FolderRequest::Forget));
        assert_eq!(
            again.needs_folder(),
            Some(FolderRequest::Choose),
            "one at a time"
        );
        let answered = asked.apply(Action::FolderAnswered {
            name: A.into(),
            folder: Ok(shown(FolderAccess::Ok)),
        });
        assert_eq!(answered.needs_folder(), None);
        assert_eq!(answered.folder, Loadable::Ready(shown(FolderAccess::Ok)));
        assert_eq!(answered.notice, None);
    }

    #[test]
    fn a_refusal_is_a_notice_and_changes_nothing_shown() {
        let state = ready()
            .apply(Action::FolderLoaded {
                name: A.into(),
                folder: Ok(shown(FolderAccess::NotChosen)),
            })
            .apply(Action::RequestFolder(FolderRequest::Choose))
            .apply(Action::FolderAnswered {
                name: A.into(),
                folder: Err("folder permission denied: …".into()),
            });
        assert_eq!(state.needs_folder(), None);
        assert_eq!(
            state.folder,
            Loadable::Ready(shown(FolderAccess::NotChosen))
        );
        assert_eq!(
            state.notice,
            Some(Notice::Error("folder permission denied: …".into()))
        );
    }

    #[test]
    fn no_request_while_an_operation_runs() {
        let running = ready().apply(Action::Run(Command::CreateBackup {
            label: String::new(),
            skip_unsupported: false,
        }));
        let asked = running.apply(Action::RequestFolder(FolderRequest::Grant));
        assert_eq!(asked.needs_folder(), None);
    }

    #[test]
    fn a_browser_without_a_picker_or_writes_has_no_usable_folder() {
        assert!(shown(FolderAccess::NotChosen).usable());
        assert!(!shown(FolderAccess::Unsupported).usable());
        let no_picker = FolderShown {
            picker: false,
            ..shown(FolderAccess::NotChosen)
        };
        assert!(!no_picker.usable(), "Firefox: no way to choose one");
    }
}
