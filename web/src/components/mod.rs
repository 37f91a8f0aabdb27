//! The page's Yew components: thin views over [`crate::state::PageState`]. They render state
//! and turn clicks into [`crate::state::Action`]s; `crate::effects` does the work.

mod app;
mod backups_panel;
mod dialog;
mod folder_panel;
mod operation;
mod schema_panel;
mod space;
mod status_panel;

pub use app::{App, AppProps};
pub use backups_panel::BackupsPanel;
pub use dialog::DialogView;
pub use folder_panel::FolderPanel;
pub use operation::OperationView;
pub use schema_panel::SchemaTable;
pub use status_panel::StatusPanel;

use crate::effects::Dispatch;
use crate::state::Action;
use yew::Callback;

/// The effects' dispatcher as the callback components send their actions through.
fn action_callback(dispatch: &Dispatch) -> Callback<Action> {
    let d = dispatch.clone();
    Callback::from(move |a: Action| d(a))
}
