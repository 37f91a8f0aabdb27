//! Rewind's recovery page.
//!
//! [`state`] holds the page's state and every transition of it as plain data (tested natively);
//! the Yew components in `components` only render that state and turn clicks into actions;
//! `effects` runs the library's operations and reports back as actions.

pub mod app_migrations;
pub mod format;
pub mod labels;
pub mod messages;
pub mod policy;
pub mod state;

#[cfg(target_arch = "wasm32")]
pub mod components;
#[cfg(target_arch = "wasm32")]
pub mod demo;
#[cfg(target_arch = "wasm32")]
pub mod effects;
#[cfg(target_arch = "wasm32")]
pub mod panic;

/// Whether this build carries the demo database and the test hooks (`REWIND_DEMO=1` at build
/// time, as `make serve` and the end-to-end tests do). A release build for users does not.
pub const DEMO_BUILD: bool = match option_env!("REWIND_DEMO") {
    Some(v) => v.len() == 1 && v.as_bytes()[0] == b'1',
    None => false,
};
