//! Rewind's recovery page.
//!
//! [`state`] holds the page's state and every transition of it as plain data (tested natively);
//! the Yew components in `components` only render that state and turn clicks into actions;
//! `effects` runs the library's operations and reports back as actions. What the app decides
//! (`policy`) and how the page writes things (`format`, `labels`, `messages`) sit apart from
//! the reducer, so an app that ships the page changes them without touching transitions.
//! Which databases the app manages, and their migrations, come at run time from `rewind.json`
//! beside the page (`config`, `config_load`), or from an app that embeds [`App`] with its own
//! ([`AppProps`], [`Databases`]).

// Natively only the pure modules are built, for their tests, and most of what they offer is
// used by the browser-only modules; the wasm32 build (and its clippy) has every user and so
// is where unused code is reported.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code, unused_imports))]

mod config;
mod format;
mod labels;
mod messages;
mod policy;
mod state;

#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod config_load;
#[cfg(target_arch = "wasm32")]
mod demo;
#[cfg(target_arch = "wasm32")]
mod effects;
#[cfg(target_arch = "wasm32")]
pub mod panic;

#[cfg(target_arch = "wasm32")]
pub use components::{App, AppProps};
#[cfg(target_arch = "wasm32")]
pub use config_load::Databases;

/// Whether this build carries the demo database and the test hooks (`REWIND_DEMO=1` at build
/// time, as `make serve` and the end-to-end tests do). A release build for users does not.
const DEMO_BUILD: bool = match option_env!("REWIND_DEMO") {
    Some(v) => v.len() == 1 && v.as_bytes()[0] == b'1',
    None => false,
};
