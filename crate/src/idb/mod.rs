//! The IndexedDB adapter: the one part of Rewind that talks to the browser.
//!
//! It holds no policy. It turns IndexedDB's event-based requests into futures ([`request`]),
//! opens databases with or without an upgrade ([`open`]) and reads what is there ([`inspect`]).
//! Inside a `versionchange` transaction it chains only IndexedDB requests, never anything else,
//! so that the browser cannot commit an upgrade halfway.

pub mod api;
pub mod backend;
pub(crate) mod carry;
pub mod catalog;
pub mod clone;
pub mod digest;
pub mod error;
pub mod inspect;
pub mod js_record;
pub mod lock;
pub mod open;
pub mod request;
pub mod restore;
pub mod snapshot;
pub mod storage;

pub use api::{RestoreSource, Rewind};
pub use backend::IdbBackend;
pub use error::IdbError;
pub use inspect::{list_databases, read_schema, summarize};
pub use lock::{lock_database, LockGuard};
pub use open::{
    delete_database, on_version_change, open_existing, open_with_upgrade, BlockedPolicy, Upgrade,
};
pub use request::{
    await_request, await_transaction, set_stall_timeout_ms, stall_timeout_ms, RequestEvents,
    DEFAULT_STALL_TIMEOUT_MS,
};

use wasm_bindgen::JsCast;

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
