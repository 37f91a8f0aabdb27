//! Helpers shared by the browser test files in `tests/`.
#![cfg(target_arch = "wasm32")]

use rewind::test_hooks::{delete_database, IdbError};
use std::sync::atomic::{AtomicU32, Ordering};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

/// A database name no other test uses, deleted first in case a previous run left it.
pub async fn fresh_database(prefix: &str) -> Result<String, IdbError> {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "{prefix}-{}-{}",
        js_sys::Date::now() as u64,
        N.fetch_add(1, Ordering::Relaxed)
    );
    delete_database(&name).await?;
    Ok(name)
}

/// Waits `ms` milliseconds (a macrotask: never use inside a transaction).
pub async fn sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        if let Ok(set_timeout) = js_sys::Reflect::get(&global, &"setTimeout".into()) {
            let set_timeout: js_sys::Function = set_timeout.into();
            let _ = set_timeout.call2(&global, &resolve, &ms.into());
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// IndexedDB used raw (`indexeddb.js`): what a test writes and reads without the adapter.
#[wasm_bindgen(module = "/src/indexeddb.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = dump)]
    async fn dump_json(name: &str) -> Result<JsValue, JsValue>;
    /// Another tab's connection, which ignores `versionchange`; close it to let go.
    #[wasm_bindgen(catch)]
    pub async fn open_ignoring_versionchange(name: &str) -> Result<JsValue, JsValue>;
    /// `count` notes as the demo's version 1 has them, and a setting.
    #[wasm_bindgen(catch)]
    pub async fn put_v1_notes(name: &str, count: u32) -> Result<(), JsValue>;
    /// The notes as JSON, each with `updatedIsDate`.
    #[wasm_bindgen(catch)]
    pub async fn notes_json(name: &str) -> Result<JsValue, JsValue>;
    /// Notes, notebooks and settings (a Blob "greeting" and a Map) of the demo's version 2.
    #[wasm_bindgen(catch)]
    pub async fn put_v2_records(name: &str) -> Result<(), JsValue>;
    /// `count` more notes of `bytes` characters each.
    #[wasm_bindgen(catch)]
    pub async fn put_large_notes(name: &str, count: u32, bytes: u32) -> Result<(), JsValue>;
    /// `count` notes keyed by `id`, each with a distinct `uuid`, note `at` with a `defect`
    /// ("missing", "duplicate", "not-a-key" or "": none).
    #[wasm_bindgen(catch)]
    pub async fn put_keyed_notes(
        name: &str,
        count: u32,
        defect: &str,
        at: u32,
    ) -> Result<(), JsValue>;
    /// Adds a note without an `id`: the key the store's generator gives it.
    #[wasm_bindgen(catch)]
    pub async fn add_note_without_id(name: &str) -> Result<JsValue, JsValue>;
    /// The "greeting" setting as "type:text", or "not a blob".
    #[wasm_bindgen(catch)]
    pub async fn greeting_text(name: &str) -> Result<JsValue, JsValue>;
}

/// Restores `file`, another database's backup, into `rw`'s database.
pub async fn restore_copy(rw: &rewind::test_hooks::Rewind, file: web_sys::Blob) {
    use rewind::test_hooks::{OperationOptions, RestoreSource};
    let consent = rewind::RestoreConsent {
        allow_other_database: true,
        ..rewind::RestoreConsent::default()
    };
    rw.restore(
        RestoreSource::Blob(file),
        consent,
        OperationOptions::default(),
    )
    .await
    .unwrap();
}

/// The notes of database `name` as JSON text (`notes_json`), to compare two states by.
pub async fn notes(name: &str) -> String {
    notes_json(name).await.unwrap().as_string().unwrap()
}

/// Everything in a database as one JSON text: IDB version, every store's schema options and
/// every key and record (Rewind's own stores included). Two equal dumps mean nothing changed.
pub async fn dump(name: &str) -> String {
    match dump_json(name).await {
        Ok(v) => v.as_string().unwrap_or_default(),
        Err(e) => format!("dump failed: {e:?}"),
    }
}

/// The fast decoder over bytes with no Blob parts (a record section): the offset it reached,
/// and the keys and values it decoded.
pub fn fast_decode(bytes: &[u8], offset: usize, max: u32) -> (usize, js_sys::Array, js_sys::Array) {
    use rewind::test_hooks::clone;
    let (keys, values) = (js_sys::Array::new(), js_sys::Array::new());
    let d = clone::decode_batch(
        bytes,
        (offset, max),
        (&clone::ChunkParts::none(), 0),
        &keys,
        &values,
    );
    (d.reached, keys, values)
}
