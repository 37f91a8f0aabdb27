//! What Rewind's Rust tests and fuzz targets share, written once: a seeded random generator,
//! the checksums of a backup file recomputed after a test changed its bytes, and the demo
//! app's migration history with the transform it names, a history that changes a key, and
//! the in-memory backend's futures run to their end, and a format-4 chunk inflated within
//! its bound.
//!
//! A dev-dependency of the crates whose tests use it (the fuzz targets depend on it directly).

mod backup_file;
mod block_on;
mod change_key;
mod deflate;
mod demo;
mod rng;

pub use backup_file::{hex, reseal, reseal_chunked, reseal_trailer};
pub use block_on::block_on;
pub use change_key::change_key_history;
pub use deflate::bounded_inflate;
pub use demo::{count_words, demo_migrations, DEMO_MIGRATIONS};
pub use rng::SplitMix64;
