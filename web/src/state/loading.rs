//! What is read from the browser: the list of databases, the selected one's summary, and for
//! a database this app manages its health and backups. An answer about a database that is no
//! longer selected is stale and ignored.

use super::{Loadable, Notice, PageState};
use crate::messages;
use rewind::backup::BackupManifest;
use rewind::{DatabaseListing, DatabaseSummary, SchemaDiff, Status};

/// How much of its storage the site uses, as the browser reports it (`navigator.storage`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StorageUse {
    pub usage: u64,
    pub quota: u64,
    pub persisted: bool,
}

/// Everything the Status region shows about a database this app manages.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub status: Status,
    /// `Err` when validation itself could not run (e.g. an unknown version).
    pub validation: Result<SchemaDiff, String>,
    pub storage: Option<StorageUse>,
}

impl PageState {
    /// Keeps the selection while it is still there; otherwise selects the first database.
    pub(super) fn databases_loaded(&mut self, list: Vec<DatabaseListing>) {
        let still_there = self
            .selected
            .as_ref()
            .is_some_and(|s| list.iter().any(|d| &d.name == s));
        if !still_there {
            self.selected = list.first().map(|d| d.name.clone());
            self.reload_details();
        }
        self.databases = Loadable::Ready(list);
    }

    /// The database cannot change under a running operation.
    pub(super) fn select(&mut self, name: String) {
        if self.selected.as_deref() != Some(name.as_str()) && self.operation.is_none() {
            self.selected = Some(name);
            self.reload_details();
            self.dialog = None;
            self.notice = None;
        }
    }

    pub(super) fn summary_loaded(&mut self, summary: DatabaseSummary) {
        if self.is_selected(&summary.name) {
            self.summary = Loadable::Ready(summary);
        }
    }

    pub(super) fn summary_failed(&mut self, name: &str, message: String) {
        if self.is_selected(name) {
            self.summary = Loadable::Failed(message);
        }
    }

    /// The journal in the health may settle an operation a previous page left unfinished.
    pub(super) fn health_loaded(&mut self, name: &str, health: Result<Health, String>) {
        if self.is_selected(name) {
            self.health = health.into();
            self.settle_interrupted();
        }
    }

    pub(super) fn backups_loaded(
        &mut self,
        name: &str,
        backups: Result<Vec<BackupManifest>, String>,
    ) {
        if self.is_selected(name) {
            self.backups = backups.into();
        }
    }

    /// Ignored while an operation runs: everything is read again when it finishes.
    pub(super) fn changed_elsewhere(&mut self, name: &str) {
        if self.operation.is_none() && self.is_selected(name) {
            self.reload_everything();
            self.notice = Some(Notice::Success(messages::changed_elsewhere(name)));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::state::fixtures::*;
    use crate::state::{Action, Command, Loadable, Notice, PageState};

    #[test]
    fn loading_the_list_selects_the_first_database_and_loads_everything_about_it() {
        let state = page()
            .apply(Action::DatabasesLoading)
            .apply(Action::DatabasesLoaded(vec![listing(A), listing(B)]));
        assert_eq!(state.selected.as_deref(), Some(A));
        assert_eq!(state.summary, Loadable::Loading);
        assert_eq!(state.health, Loadable::Loading);
        assert_eq!(state.backups, Loadable::Loading);
    }

    #[test]
    fn only_the_configured_databases_are_managed_and_a_failed_configuration_is_kept() {
        let unconfigured =
            PageState::default().apply(Action::DatabasesLoaded(vec![listing(A), listing(B)]));
        assert!(
            !unconfigured.managed(),
            "nothing is managed before the configuration"
        );
        assert!(page()
            .apply(Action::DatabasesLoaded(vec![listing(A)]))
            .managed());
        assert_eq!(page().app_database(A).map(|d| d.latest), Some(LATEST));
        assert_eq!(page().app_database(B), None);
        let failed = PageState::default().apply(Action::ConfigFailed("rewind.json: x".into()));
        assert_eq!(failed.config, Loadable::Failed("rewind.json: x".into()));
    }

    #[test]
    fn an_empty_origin_selects_nothing() {
        let state = page().apply(Action::DatabasesLoaded(vec![]));
        assert_eq!(state.selected, None);
        assert_eq!(state.summary, Loadable::Idle);
    }

    #[test]
    fn reloading_the_list_keeps_the_selection_and_what_was_read_for_it() {
        let state = ready().apply(Action::DatabasesLoaded(vec![listing(A), listing(B)]));
        assert_eq!(state.selected.as_deref(), Some(A));
        assert_eq!(state.summary, Loadable::Ready(summary(A)));
        assert!(state.health.ready().is_some());
    }

    #[test]
    fn a_selected_database_that_disappeared_is_replaced() {
        let state = ready()
            .apply(Action::Select(B.into()))
            .apply(Action::DatabasesLoaded(vec![listing(A)]));
        assert_eq!(state.selected.as_deref(), Some(A));
    }

    #[test]
    fn late_answers_for_a_database_the_user_left_are_ignored() {
        let state = ready()
            .apply(Action::Select(B.into()))
            .apply(Action::SummaryLoaded(summary(A)))
            .apply(Action::HealthLoaded {
                name: A.into(),
                health: Ok(health(1, 5)),
            })
            .apply(Action::BackupsLoaded {
                name: A.into(),
                backups: Ok(vec![]),
            });
        assert_eq!(state.summary, Loadable::Loading);
        assert_eq!(state.health, Loadable::Idle, "B has no health to read");
        assert_eq!(state.backups, Loadable::Idle);
    }

    #[test]
    fn a_database_this_app_does_not_manage_waits_for_its_summary_only() {
        let state = page().apply(Action::DatabasesLoaded(vec![listing(B), listing(A)]));
        assert_eq!(state.selected.as_deref(), Some(B));
        assert!(!state.managed());
        assert_eq!(state.summary, Loadable::Loading);
        assert_eq!(
            state.health,
            Loadable::Idle,
            "never read: it would wait forever"
        );
        assert_eq!(state.backups, Loadable::Idle);
        let reread = state
            .apply(Action::SummaryLoaded(summary(B)))
            .apply(Action::ChangedElsewhere(B.into()));
        assert_eq!(reread.summary, Loadable::Loading);
        assert_eq!(reread.health, Loadable::Idle);
        assert_eq!(reread.backups, Loadable::Idle);
        let managed = reread.apply(Action::Select(A.into()));
        assert!(managed.managed());
        assert_eq!(managed.health, Loadable::Loading);
        assert_eq!(managed.backups, Loadable::Loading);
    }

    #[test]
    fn a_change_in_another_tab_reloads_the_selected_database_only() {
        let state = ready().apply(Action::ChangedElsewhere(B.into()));
        assert_eq!(state, ready(), "another database: nothing to do");
        let state = ready().apply(Action::ChangedElsewhere(A.into()));
        assert_eq!(state.generation, ready().generation + 1);
        assert_eq!(state.health, Loadable::Loading);
        assert!(matches!(state.notice, Some(Notice::Success(ref m)) if m.contains("another tab")));
        let busy = ready().apply(Action::Run(Command::Rollback(1)));
        assert_eq!(busy.clone().apply(Action::ChangedElsewhere(A.into())), busy);
    }
}
