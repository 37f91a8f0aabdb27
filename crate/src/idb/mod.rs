//! The IndexedDB adapter: the one part of Rewind that talks to the browser.
//!
//! It holds no policy. It turns IndexedDB's event-based requests into futures ([`request`]),
//! opens databases with or without an upgrade ([`open`]) and reads what is there ([`inspect`]).
//! Inside a `versionchange` transaction it chains only IndexedDB requests, never anything else,
//! so that the browser cannot commit an upgrade halfway.

mod api;
mod backend;
mod carry;
mod catalog;
mod check;
mod chunked_file;
mod clone;
mod deflate;
mod error;
mod folder;
mod in_place;
mod inspect;
mod js_migrations;
mod js_record;
mod key_generators;
mod lock;
mod open;
mod request;
mod restore;
mod restore_diff;
mod sealed;
mod snapshot;
mod staging;
mod storage;
#[cfg(feature = "test-hooks")]
mod test_switch;
mod webcrypto;

pub use api::{OperationOptions, RestoreSource, Rewind};
pub use catalog::CatalogEntry;
pub use check::check_migrations;
pub use error::{describe as describe_thrown, IdbError};
pub use folder::{is_directory_handle, FolderState, FolderStatus, FolderWrite, FolderWriteSlot};
pub use inspect::{list_app_databases, summarize};
pub use js_migrations::{describe_type as describe_js_type, migrations_from_js};
pub use js_record::JsRecord;
pub use open::{abort_running_upgrades, delete_database, on_version_change};
pub use storage::{as_blob, estimate as storage_estimate, persist, Persistence, StorageEstimate};

/// The adapter's internals that its browser tests (`tests/browser`) drive directly; only with
/// the `test-hooks` feature, so that without it the compiler sees what nothing uses.
#[cfg(feature = "test-hooks")]
pub mod test_hooks {
    pub use super::api::{OperationOptions, RestoreSource, Rewind};
    pub use super::backend::{cut_off_after_data_steps, IdbBackend};
    pub use super::error::IdbError;
    pub use super::inspect::{list_databases, read_schema, summarize};
    pub use super::open::{
        delete_database, on_version_change, open_existing, open_with_upgrade, BlockedPolicy,
        Upgrade,
    };
    pub use super::request::{
        await_request, await_transaction, set_stall_timeout_ms, RequestEvents,
    };
    pub use super::restore::panic_after_batches;

    pub mod clone {
        pub use crate::idb::clone::{
            decode_batch, describe_key, encode_batch, js_to_value, js_to_value_complete,
            value_to_js, ChunkParts, PendingValue,
        };
    }
    pub mod storage {
        pub use crate::idb::storage::{blob_to_bytes, bytes_to_blob, set_buffer_limit};
    }
    pub mod catalog {
        pub use crate::idb::catalog::CATALOG_PREFIX;
    }
}

use wasm_bindgen::JsCast;

/// Told `(done, total)` records now and then while a backup or restore runs; shared so that
/// it can live inside the upgrade transaction.
pub type Progress = std::rc::Rc<dyn Fn(u64, u64)>;

/// Set to ask a running restore to stop: heard between its batches, until its swap begins.
pub type CancelFlag = std::rc::Rc<std::cell::Cell<bool>>;

/// The `IDBFactory` of this window or worker.
pub fn factory() -> Result<web_sys::IdbFactory, IdbError> {
    let global = js_sys::global();
    let factory = if let Some(window) = global.dyn_ref::<web_sys::Window>() {
        window.indexed_db()
    } else if let Some(worker) = global.dyn_ref::<web_sys::WorkerGlobalScope>() {
        worker.indexed_db()
    } else {
        return Err(IdbError::Unavailable(
            "this global object has no indexedDB".into(),
        ));
    };
    factory
        .map_err(|e| IdbError::Unavailable(error::describe(&e)))?
        .ok_or_else(|| {
            IdbError::Unavailable(
                "indexedDB is switched off in this browser (private mode?)".into(),
            )
        })
}
