//! Backups: a faithful model of every value IndexedDB can store, and the checksummed binary
//! container a backup is written in. Pure Rust; the browser side lives in `idb::clone`.
