//! The origin's storage: usage and quota, persistence, and Blob bytes.

use super::IdbError;
use js_sys::{Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// What the browser lets this site store, from `navigator.storage.estimate()`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageEstimate {
    pub usage: u64,
    pub quota: u64,
    pub persisted: bool,
}

fn storage_manager() -> Option<JsValue> {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
    let storage = Reflect::get(&navigator, &"storage".into()).ok()?;
    (!storage.is_undefined()).then_some(storage)
}

async fn call(target: &JsValue, method: &str) -> Option<JsValue> {
    let f: js_sys::Function = Reflect::get(target, &method.into()).ok()?.dyn_into().ok()?;
    let promise: Promise = f.call0(target).ok()?.dyn_into().ok()?;
    JsFuture::from(promise).await.ok()
}

/// Usage and quota of this origin; `None` where the browser does not say.
pub async fn estimate() -> Option<StorageEstimate> {
    let storage = storage_manager()?;
    let e = call(&storage, "estimate").await?;
    let num = |k: &str| {
        Reflect::get(&e, &k.into())
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0) as u64
    };
    let persisted = call(&storage, "persisted")
        .await
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    Some(StorageEstimate {
        usage: num("usage"),
        quota: num("quota"),
        persisted,
    })
}

thread_local! {
    static PERSISTENCE_ASKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Asks the browser, once per page, not to evict this site's data under storage pressure,
/// and never waits for the answer: Chromium decides at once, but Firefox asks the person and
/// its promise stays pending until they answer (forever under automation, or for a person
/// who ignores the prompt), and WebKitGTK has no `navigator.storage` at all. Whether it was
/// granted shows in [`estimate`]'s `persisted`.
pub fn request_persistence() {
    if PERSISTENCE_ASKED.with(|a| a.replace(true)) {
        return;
    }
    let Some(storage) = storage_manager() else {
        return;
    };
    let Some(persist) = Reflect::get(&storage, &"persist".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    else {
        return;
    };
    if let Ok(promise) = persist.call0(&storage) {
        if let Ok(promise) = promise.dyn_into::<Promise>() {
            // A refusal is an answer like any other: nothing to report, nothing unhandled.
            // (Once per page, so the handler is left to live with it.)
            let ignore = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue)>::new(|_| {});
            let _ = promise.catch(&ignore);
            ignore.forget();
        }
    }
}

/// What the browser answered when asked to keep this site's data under storage pressure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Persistence {
    /// The data is now persistent (or already was): the browser evicts it only when the
    /// person clears it.
    Granted,
    /// The browser refused (it decides by its own rules: site engagement, bookmarks, a prompt).
    Refused,
    /// This browser has no `navigator.storage.persist()` (WebKitGTK).
    Unsupported,
}

/// Asks the browser to make this site's storage persistent, and waits for its answer: for a
/// person's explicit request (Firefox shows them a prompt and answers when they do).
pub async fn persist() -> Persistence {
    let Some(storage) = storage_manager() else {
        return Persistence::Unsupported;
    };
    let has_persist = Reflect::get(&storage, &"persist".into())
        .map(|f| f.is_function())
        .unwrap_or(false);
    if !has_persist {
        return Persistence::Unsupported;
    }
    match call(&storage, "persist").await.and_then(|v| v.as_bool()) {
        Some(true) => Persistence::Granted,
        _ => Persistence::Refused,
    }
}

/// A Blob holding `bytes`, made from a view of wasm memory: the Blob constructor copies the
/// bytes into the browser's own storage, so no copy of them is ever made in the JS heap. The
/// constructor is the one the page had when Rewind loaded, whatever the page did to it since.
pub fn bytes_to_blob(bytes: &[u8], mime: &str) -> Result<web_sys::Blob, IdbError> {
    Ok(super::clone::make_blob(bytes, mime)?.unchecked_into())
}

/// `value` as a Blob (a File is one too), judged by the constructors the page had when Rewind
/// loaded.
pub fn as_blob(value: &JsValue) -> Option<web_sys::Blob> {
    super::clone::is_blob(value).then(|| value.clone().unchecked_into())
}

/// A File of `blob`'s contents named `name`, by the File constructor the page had when Rewind
/// loaded.
pub fn blob_to_file(blob: &web_sys::Blob, name: &str) -> Result<web_sys::File, IdbError> {
    Ok(super::clone::file_of_blob(blob, name)?.unchecked_into())
}

thread_local! {
    /// The most bytes one buffer may hold (below what a wasm32 `Vec` can address).
    static BUFFER_LIMIT: std::cell::Cell<usize> = const { std::cell::Cell::new(isize::MAX as usize) };
}

/// Lowers the limit on one buffer (0 puts the default back), so that the tests can reach it
/// with a small database.
#[cfg(feature = "test-hooks")]
pub fn set_buffer_limit(bytes: usize) {
    BUFFER_LIMIT.with(|l| {
        l.set(if bytes == 0 {
            isize::MAX as usize
        } else {
            bytes
        })
    });
}

/// Makes room in `buffer` for `additional` more bytes, or says how many it would have needed:
/// growth that cannot happen (beyond what wasm32 can address, or memory the browser refuses)
/// is an error to report, never a panic that leaves a Promise pending.
pub fn make_room(buffer: &mut Vec<u8>, additional: usize) -> Result<(), u64> {
    let needed = buffer.len().checked_add(additional);
    let limit = BUFFER_LIMIT.with(std::cell::Cell::get);
    let wanted = buffer.len() as u64 + additional as u64;
    match needed {
        Some(n) if n <= limit => {}
        _ => return Err(wanted),
    }
    if buffer.capacity() - buffer.len() >= additional {
        return Ok(());
    }
    // Doubling may overshoot what can be addressed even when the bytes themselves fit.
    buffer
        .try_reserve(additional)
        .or_else(|_| buffer.try_reserve_exact(additional))
        .map_err(|_| wanted)
}

/// Appends `bytes` to `buffer` (room made as [`make_room`] makes it), copied straight into its
/// spare capacity: a zero-fill first cost about as much as the copy itself.
pub fn append_js(buffer: &mut Vec<u8>, bytes: &js_sys::Uint8Array) -> Result<(), u64> {
    let len = bytes.length() as usize;
    make_room(buffer, len)?;
    let from = buffer.len();
    bytes.copy_to_uninit(&mut buffer.spare_capacity_mut()[..len]);
    // SAFETY: `copy_to_uninit` initialised the `len` bytes after `from`, all within capacity.
    unsafe { buffer.set_len(from + len) };
    Ok(())
}

/// How much of a Blob is read at once: the JS heap holds no more than this of it.
const READ_CHUNK: f64 = (8 << 20) as f64;

/// Every byte of a Blob (or File), read a slice at a time straight into one buffer. Never call
/// inside a transaction: it lets it commit.
pub async fn blob_to_bytes(blob: &web_sys::Blob) -> Result<Vec<u8>, IdbError> {
    let size = blob.size();
    let mut out = Vec::new();
    let too_large = || IdbError::TooLarge { bytes: size as u64 };
    let len = usize::try_from(size as u64).map_err(|_| too_large())?;
    if len > BUFFER_LIMIT.with(std::cell::Cell::get) {
        return Err(too_large());
    }
    out.try_reserve_exact(len).map_err(|_| too_large())?;
    let mut at = 0f64;
    while at < size {
        let end = (at + READ_CHUNK).min(size);
        let part = blob.slice_with_f64_and_f64(at, end)?;
        let buffer = JsFuture::from(part.array_buffer())
            .await
            .map_err(|e| IdbError::BlobUnreadable(super::error::describe(&e)))?;
        let chunk = js_sys::Uint8Array::new(&buffer);
        if f64::from(chunk.length()) != end - at {
            return Err(IdbError::BlobUnreadable(
                "it changed while it was being read".into(),
            ));
        }
        append_js(&mut out, &chunk).map_err(|_| too_large())?;
        at = end;
    }
    Ok(out)
}
