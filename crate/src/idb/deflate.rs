//! Raw DEFLATE by the browser (`CompressionStream("deflate-raw")` and its inverse): the edge
//! of format 4's compressed chunks. The core decides what is compressed and checks every
//! inflated length; here it is only carried out, outside any transaction (it is awaited).

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/src/idb/deflate.js")]
extern "C" {
    fn rewind_deflate_supported() -> bool;
    fn rewind_deflate(blob: &web_sys::Blob) -> Promise;
    fn rewind_inflate(bytes: &Uint8Array, limit: f64) -> Promise;
}

/// Whether this browser has raw DEFLATE streams.
pub fn supported() -> bool {
    rewind_deflate_supported()
}

/// The bytes of `blob` compressed.
pub async fn deflate(blob: &web_sys::Blob) -> Result<Uint8Array, JsValue> {
    Ok(JsFuture::from(rewind_deflate(blob)).await?.unchecked_into())
}

/// `bytes` inflated into at most `limit` bytes; `None` when they are not raw DEFLATE.
pub async fn inflate(bytes: &Uint8Array, limit: u64) -> Result<Option<Uint8Array>, JsValue> {
    let answer = JsFuture::from(rewind_inflate(bytes, limit as f64)).await?;
    Ok((!answer.is_null()).then(|| answer.unchecked_into()))
}
