//! Rewind for JavaScript: the `Rewind` class exported through wasm-bindgen and
//! packaged by `make pkg` (`scripts/pkg.sh`) into `pkg/` as an ES module, the `.wasm` and a
//! `.d.ts`.
//!
//! - [`views`] (pure, tested natively): the plain shapes results take in JavaScript and the stable
//!   error codes.
//! - JavaScript migrations become Rust ones in the library (`rewind::migrations_from_js`), which
//!   the recovery page shares.
//! - `api` (wasm32): the exported class; every method returns a Promise and rejects with an
//!   `Error` carrying a stable `code`.
//! - `types` (wasm32): the TypeScript declarations of every value the API takes or returns.

pub mod views;

#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod in_flight;
#[cfg(target_arch = "wasm32")]
mod types;
