//! What Rewind's Rust tests and fuzz targets share, written once: a seeded random generator,
//! the checksums of a backup file recomputed after a test changed its bytes, and the demo
//! app's migration history with the transform it names.
//!
//! A dev-dependency of the crates whose tests use it (the fuzz targets depend on it directly).

mod backup_file;
mod demo;
mod rng;

pub use backup_file::{hex, reseal, reseal_chunked, reseal_trailer};
pub use demo::{count_words, demo_migrations, DEMO_MIGRATIONS};
pub use rng::SplitMix64;
