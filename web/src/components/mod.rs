//! The page's Yew components: thin views over [`crate::state::PageState`].

mod app;
mod schema_panel;

pub use app::App;
pub use schema_panel::SchemaPanel;
