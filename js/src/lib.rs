//! Rewind for JavaScript: the `Rewind` class exported through wasm-bindgen and
//! packaged by `make pkg` (`scripts/pkg.sh`) into `pkg/` as an ES module, the `.wasm` and a
//! `.d.ts`.
//!
//! - [`views`] (pure, tested natively): the plain shapes results take in JavaScript, the stable
//!   error codes, and the names given to transforms that arrive as functions.
//! - `convert` (wasm32): JavaScript migrations to Rust ones — strict plain-data conversion, with
//!   the functions of `transform` steps taken out and registered in [`rewind::Transforms`].
//! - `api` (wasm32): the exported class; every method returns a Promise and rejects with an
//!   `Error` carrying a stable `code`.
//! - `types` (wasm32): the TypeScript declarations of every value the API takes or returns.

pub mod views;

#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod convert;
#[cfg(target_arch = "wasm32")]
mod types;
