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

/// Asks the browser not to evict this site's data under storage pressure.
pub async fn request_persistence() -> bool {
    match storage_manager() {
        Some(storage) => call(&storage, "persist")
            .await
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
        None => false,
    }
}

/// A Blob holding `bytes`.
pub fn bytes_to_blob(bytes: &[u8], mime: &str) -> Result<web_sys::Blob, IdbError> {
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    Ok(web_sys::Blob::new_with_u8_array_sequence_and_options(
        &parts, &options,
    )?)
}

/// Every byte of a Blob (or File). Never call inside a transaction: it lets it commit.
pub async fn blob_to_bytes(blob: &web_sys::Blob) -> Result<Vec<u8>, IdbError> {
    let buffer = JsFuture::from(blob.array_buffer()).await.map_err(|e| {
        IdbError::Unexpected(format!(
            "the file could not be read: {}",
            super::error::describe(&e)
        ))
    })?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}
