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
    fn rewind_inflate(bytes: &Uint8Array, limit: f64) -> Promise;
    fn rewind_chunk_compressor(limit: u32) -> JsValue;
}

/// Chunks compressed at once, at most: a backup's memory holds this many chunks and their
/// compressed copies besides the one being read.
const IN_FLIGHT: u32 = 2;

/// A sealed chunk as the file stores it.
pub struct StoredChunk {
    /// Compressed (else the chunk as it is: compressing did not make it smaller).
    pub compressed: bool,
    pub blob: web_sys::Blob,
    pub len: u64,
    /// Its SHA-256 (`None` where WebCrypto is missing).
    pub digest: Option<crate::backup::Sha256Digest>,
}

/// Compresses sealed chunks as they come, a few at a time, without being awaited: it may be
/// fed inside a transaction, and each chunk's [`Compressor::add`] promise awaited after it.
pub struct Compressor {
    queue: JsValue,
    add: js_sys::Function,
}

impl Compressor {
    /// `None` where the browser has no raw DEFLATE streams.
    pub fn new() -> Option<Compressor> {
        if !supported() {
            return None;
        }
        let queue = rewind_chunk_compressor(IN_FLIGHT);
        let add = js_sys::Reflect::get(&queue, &"add".into())
            .ok()?
            .dyn_into()
            .ok()?;
        Some(Compressor { queue, add })
    }

    /// Starts storing `chunk` (queued behind the chunks before it); await with [`stored`].
    pub fn add(&self, chunk: &web_sys::Blob) -> Result<Promise, JsValue> {
        self.add.call1(&self.queue, chunk)?.dyn_into()
    }
}

/// What an [`Compressor::add`] promise gives.
pub async fn stored(started: Promise) -> Result<StoredChunk, JsValue> {
    let answer = JsFuture::from(started).await?;
    let get = |k: &str| js_sys::Reflect::get(&answer, &k.into());
    let digest = get("digest")?;
    let digest = match digest.is_null() {
        true => None,
        false => {
            let bytes = Uint8Array::new(&digest);
            let mut d = [0u8; 32];
            if bytes.length() as usize != d.len() {
                return Err(JsValue::from_str(
                    "WebCrypto gave a digest of the wrong length",
                ));
            }
            bytes.copy_to(&mut d);
            Some(d)
        }
    };
    Ok(StoredChunk {
        compressed: get("compressed")?.is_truthy(),
        // Not `dyn_into`: its `instanceof` reads the global `Blob`, which a page may replace.
        blob: get("blob")?.unchecked_into(),
        len: get("size")?.as_f64().unwrap_or(0.0) as u64,
        digest,
    })
}

/// Whether this browser has raw DEFLATE streams.
fn supported() -> bool {
    rewind_deflate_supported()
}

/// `bytes` inflated into at most `limit` bytes; `None` when they are not raw DEFLATE.
pub async fn inflate(bytes: &Uint8Array, limit: u64) -> Result<Option<Uint8Array>, JsValue> {
    let answer = JsFuture::from(rewind_inflate(bytes, limit as f64)).await?;
    Ok((!answer.is_null()).then(|| answer.unchecked_into()))
}
