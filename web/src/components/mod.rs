//! The page's Yew components: thin views over [`crate::state::PageState`]. They render state
//! and turn clicks into [`crate::state::Action`]s; `crate::effects` does the work.

mod app;
mod backups_panel;
mod dialog;
mod operation;
mod schema_panel;
mod status_panel;

pub use app::App;
pub use backups_panel::BackupsPanel;
pub use dialog::DialogView;
pub use operation::OperationView;
pub use schema_panel::SchemaTable;
pub use status_panel::StatusPanel;

use crate::state::Action;
use std::rc::Rc;
use yew::Callback;

/// How components send actions.
pub type Send = Callback<Action>;

pub(crate) fn send(dispatch: &Rc<dyn Fn(Action)>) -> Send {
    let d = dispatch.clone();
    Callback::from(move |a: Action| d(a))
}
