//! The recovery page's state as a plain struct and the actions that change it.
//!
//! Components dispatch [`Action`]s and render [`PageState`]; nothing here touches the browser,
//! so every transition — including the awkward ones, like an answer arriving for a database
//! the user has already left — is tested natively.

use rewind::{DatabaseListing, DatabaseSummary};

/// Something that is fetched from the browser and may still be on its way.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Loadable<T> {
    #[default]
    Idle,
    Loading,
    Ready(T),
    Failed(String),
}

impl<T> Loadable<T> {
    pub fn ready(&self) -> Option<&T> {
        match self {
            Loadable::Ready(v) => Some(v),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageState {
    pub databases: Loadable<Vec<DatabaseListing>>,
    pub selected: Option<String>,
    pub summary: Loadable<DatabaseSummary>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    DatabasesLoading,
    DatabasesLoaded(Vec<DatabaseListing>),
    DatabasesFailed(String),
    Select(String),
    SummaryLoaded(DatabaseSummary),
    SummaryFailed { name: String, message: String },
}

impl PageState {
    /// The state after `action`. Pure: the caller decides what to fetch by looking at
    /// [`PageState::needs_summary`].
    pub fn apply(mut self, action: Action) -> PageState {
        match action {
            Action::DatabasesLoading => self.databases = Loadable::Loading,
            Action::DatabasesLoaded(list) => {
                let still_there = self
                    .selected
                    .as_ref()
                    .is_some_and(|s| list.iter().any(|d| &d.name == s));
                if !still_there {
                    self.selected = list.first().map(|d| d.name.clone());
                    self.summary = match self.selected {
                        Some(_) => Loadable::Loading,
                        None => Loadable::Idle,
                    };
                }
                self.databases = Loadable::Ready(list);
            }
            Action::DatabasesFailed(message) => self.databases = Loadable::Failed(message),
            Action::Select(name) => {
                if self.selected.as_deref() != Some(name.as_str()) {
                    self.selected = Some(name);
                    self.summary = Loadable::Loading;
                }
            }
            Action::SummaryLoaded(summary) => {
                if self.selected.as_deref() == Some(summary.name.as_str()) {
                    self.summary = Loadable::Ready(summary);
                }
            }
            Action::SummaryFailed { name, message } => {
                if self.selected.as_deref() == Some(name.as_str()) {
                    self.summary = Loadable::Failed(message);
                }
            }
        }
        self
    }

    /// The database whose summary must be fetched now, if any.
    pub fn needs_summary(&self) -> Option<&str> {
        match self.summary {
            Loadable::Loading => self.selected.as_deref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rewind::DatabaseSchema;

    fn listing(name: &str) -> DatabaseListing {
        DatabaseListing {
            name: name.into(),
            idb_version: 1,
        }
    }

    fn summary(name: &str) -> DatabaseSummary {
        DatabaseSummary {
            name: name.into(),
            idb_version: 1,
            schema: DatabaseSchema::default(),
            record_counts: Default::default(),
        }
    }

    #[test]
    fn loading_the_list_selects_the_first_database_and_asks_for_its_summary() {
        let state = PageState::default()
            .apply(Action::DatabasesLoading)
            .apply(Action::DatabasesLoaded(vec![listing("a"), listing("b")]));
        assert_eq!(state.selected.as_deref(), Some("a"));
        assert_eq!(state.needs_summary(), Some("a"));
    }

    #[test]
    fn an_empty_origin_selects_nothing_and_fetches_nothing() {
        let state = PageState::default().apply(Action::DatabasesLoaded(vec![]));
        assert_eq!(state.selected, None);
        assert_eq!(state.needs_summary(), None);
        assert_eq!(state.summary, Loadable::Idle);
    }

    #[test]
    fn reloading_the_list_keeps_a_selection_that_still_exists() {
        let state = PageState::default()
            .apply(Action::DatabasesLoaded(vec![listing("a"), listing("b")]))
            .apply(Action::Select("b".into()))
            .apply(Action::SummaryLoaded(summary("b")))
            .apply(Action::DatabasesLoaded(vec![listing("a"), listing("b")]));
        assert_eq!(state.selected.as_deref(), Some("b"));
        assert_eq!(state.summary, Loadable::Ready(summary("b")));
        assert_eq!(state.needs_summary(), None);
    }

    #[test]
    fn a_selected_database_that_disappeared_is_replaced() {
        let state = PageState::default()
            .apply(Action::DatabasesLoaded(vec![listing("a"), listing("b")]))
            .apply(Action::Select("b".into()))
            .apply(Action::DatabasesLoaded(vec![listing("a")]));
        assert_eq!(state.selected.as_deref(), Some("a"));
        assert_eq!(state.needs_summary(), Some("a"));
    }

    #[test]
    fn a_late_answer_for_a_database_the_user_left_is_ignored() {
        let state = PageState::default()
            .apply(Action::DatabasesLoaded(vec![listing("a"), listing("b")]))
            .apply(Action::Select("b".into()))
            .apply(Action::SummaryLoaded(summary("a")))
            .apply(Action::SummaryFailed {
                name: "a".into(),
                message: "late".into(),
            });
        assert_eq!(state.summary, Loadable::Loading);
        assert_eq!(state.needs_summary(), Some("b"));
    }

    #[test]
    fn failures_are_kept_for_display() {
        let state = PageState::default().apply(Action::DatabasesFailed("no idb".into()));
        assert_eq!(state.databases, Loadable::Failed("no idb".into()));
        let state = PageState::default()
            .apply(Action::DatabasesLoaded(vec![listing("a")]))
            .apply(Action::SummaryFailed {
                name: "a".into(),
                message: "gone".into(),
            });
        assert_eq!(state.summary, Loadable::Failed("gone".into()));
        assert_eq!(state.needs_summary(), None);
    }

    #[test]
    fn selecting_the_same_database_again_does_not_refetch() {
        let state = PageState::default()
            .apply(Action::DatabasesLoaded(vec![listing("a")]))
            .apply(Action::SummaryLoaded(summary("a")))
            .apply(Action::Select("a".into()));
        assert_eq!(state.needs_summary(), None);
    }
}
