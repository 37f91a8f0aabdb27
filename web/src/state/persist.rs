//! Persistent storage: the person asks the browser to keep the site's data when the device
//! runs low on space (`navigator.storage.persist()`), and sees its answer. Asked once per
//! press; a press while the browser has not answered (Firefox asks the person) does nothing.

use super::{Loadable, PageState};

/// What the browser answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersistAnswer {
    Granted,
    Refused,
    /// The browser has no `navigator.storage.persist()`.
    Unsupported,
}

impl PageState {
    pub(super) fn request_persist(&mut self) {
        if self.persist != Loadable::Loading {
            self.persist = Loadable::Loading;
        }
    }

    /// The browser is to be asked now.
    pub fn needs_persist(&self) -> bool {
        self.persist == Loadable::Loading
    }

    /// A grant shows at once in the storage facts, before they are read again.
    pub(super) fn persist_answered(&mut self, answer: PersistAnswer) {
        if self.persist != Loadable::Loading {
            return;
        }
        self.persist = Loadable::Ready(answer);
        if answer == PersistAnswer::Granted {
            if let Loadable::Ready(health) = &mut self.health {
                if let Some(storage) = &mut health.storage {
                    storage.persisted = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PersistAnswer;
    use crate::state::fixtures::*;
    use crate::state::{Action, Loadable, StorageUse};

    fn with_storage() -> crate::state::PageState {
        ready().apply(Action::HealthLoaded {
            name: A.into(),
            health: Ok(crate::state::Health {
                storage: Some(StorageUse {
                    usage: 1,
                    quota: 2,
                    persisted: false,
                }),
                ..health(3, 5)
            }),
        })
    }

    fn persisted(state: &crate::state::PageState) -> Option<bool> {
        Some(state.health.ready()?.storage?.persisted)
    }

    #[test]
    fn a_grant_shows_at_once_and_a_refusal_changes_nothing_else() {
        let asked = with_storage().apply(Action::RequestPersist);
        assert!(asked.needs_persist());
        assert_eq!(asked.persist, Loadable::Loading);
        let granted = asked
            .clone()
            .apply(Action::PersistAnswered(PersistAnswer::Granted));
        assert!(!granted.needs_persist(), "asked once");
        assert_eq!(granted.persist, Loadable::Ready(PersistAnswer::Granted));
        assert_eq!(persisted(&granted), Some(true));
        let refused = asked.apply(Action::PersistAnswered(PersistAnswer::Refused));
        assert_eq!(refused.persist, Loadable::Ready(PersistAnswer::Refused));
        assert_eq!(persisted(&refused), Some(false));
        // Asking again after a refusal asks the browser again.
        assert!(refused.apply(Action::RequestPersist).needs_persist());
    }

    #[test]
    fn an_answer_nobody_waits_for_is_ignored() {
        let state = with_storage().apply(Action::PersistAnswered(PersistAnswer::Granted));
        assert_eq!(state.persist, Loadable::Idle);
        assert_eq!(persisted(&state), Some(false));
        let unsupported = ready()
            .apply(Action::RequestPersist)
            .apply(Action::PersistAnswered(PersistAnswer::Unsupported));
        assert_eq!(
            unsupported.persist,
            Loadable::Ready(PersistAnswer::Unsupported)
        );
        assert_eq!(persisted(&unsupported), None, "no storage facts to change");
    }
}
