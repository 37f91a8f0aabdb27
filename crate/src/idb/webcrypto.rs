//! SHA-256 by the browser: WebCrypto's `crypto.subtle.digest`, native code, every range asked
//! for at once — the edge of [`crate::backup::Digests`]. Measured faster than `sha2` compiled
//! to wasm (docs/benchmarks.md); Chromium computes it during the call, on the page's thread,
//! so it is faster, not concurrent. Where WebCrypto is missing (a
//! page not served over HTTPS or from localhost) or fails, `sha2` hashes instead: slower, the
//! same digests.
//!
//! Awaits a promise, so never call it inside a transaction that must stay active.

use crate::backup::format::{digest_ranges, inspect_with, verify_file_with, VerifiedFile};
use crate::backup::{BackupError, BackupManifest, Digests, Sha256Digest};
use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use std::ops::Range;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

fn subtle_digest() -> Option<(JsValue, Function)> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).ok()?;
    let subtle = Reflect::get(&crypto, &"subtle".into()).ok()?;
    if subtle.is_undefined() || subtle.is_null() {
        return None;
    }
    let digest = Reflect::get(&subtle, &"digest".into())
        .ok()?
        .dyn_into()
        .ok()?;
    Some((subtle, digest))
}

async fn webcrypto(data: &[u8], ranges: &[Range<usize>]) -> Option<Digests> {
    let (subtle, digest) = subtle_digest()?;
    let algorithm = JsValue::from_str("SHA-256");
    let promises = Array::new();
    for r in ranges {
        let part = data.get(r.clone())?;
        // SAFETY: `digest` copies the bytes before it returns (WebCrypto: "get a copy of the
        // bytes held by the data parameter"), and nothing between making the view and that
        // call allocates in wasm memory, which could move or detach it.
        let view = unsafe { Uint8Array::view(part) };
        let promise = digest.call2(&subtle, &algorithm, &view).ok()?;
        promises.push(&promise);
    }
    let results: Array = JsFuture::from(Promise::all(&promises))
        .await
        .ok()?
        .dyn_into()
        .ok()?;
    let mut out = Digests::new();
    for (r, buffer) in ranges.iter().zip(results.iter()) {
        let bytes = Uint8Array::new(&buffer);
        let mut d: Sha256Digest = [0; 32];
        if bytes.length() as usize != d.len() {
            return None;
        }
        bytes.copy_to(&mut d);
        out.insert(r.clone(), d);
    }
    Some(out)
}

/// The SHA-256 digests of `ranges` of `data`.
pub async fn digests(data: &[u8], ranges: &[Range<usize>]) -> Digests {
    match webcrypto(data, ranges).await {
        Some(d) => d,
        None => Digests::sha2(data, ranges),
    }
}

/// [`crate::backup::format::verify_file`], hashing with WebCrypto.
pub async fn verify_file(data: &[u8]) -> Result<VerifiedFile, BackupError> {
    let given = digests(data, &digest_ranges(data)).await;
    verify_file_with(data, &given)
}

/// [`crate::backup::inspect`], hashing with WebCrypto.
pub async fn inspect(data: &[u8]) -> Result<BackupManifest, BackupError> {
    let given = digests(data, &digest_ranges(data)).await;
    inspect_with(data, &given)
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/idb/blob_digest.js")]
extern "C" {
    fn rewind_sha256_of_blobs(blobs: &Array) -> Promise;
    fn rewind_sha256_of_runs(bytes: &Uint8Array, sizes: &[f64]) -> Promise;
    fn rewind_sha256_start(bytes: &Uint8Array) -> Option<Promise>;
}

/// Starts hashing `bytes` (WebCrypto copies them at once), for [`sha256_started`] to await
/// later; `None` where WebCrypto is missing. Safe inside a transaction: nothing is awaited.
pub fn sha256_start(bytes: &Uint8Array) -> Option<Promise> {
    rewind_sha256_start(bytes)
}

/// The digest a [`sha256_start`] promise gives.
pub async fn sha256_started(started: Promise) -> Result<Sha256Digest, JsValue> {
    let buffer = JsFuture::from(started).await?;
    let bytes = Uint8Array::new(&buffer);
    let mut d: Sha256Digest = [0; 32];
    if bytes.length() as usize != d.len() {
        return Err(JsValue::from_str(
            "WebCrypto gave a digest of the wrong length",
        ));
    }
    bytes.copy_to(&mut d);
    Ok(d)
}

/// A Blob of a group that could not be read: which one, and the browser's reason.
pub struct UnreadableBlob {
    pub index: usize,
    pub cause: JsValue,
}

/// The SHA-256 of each of `blobs` (one of [`crate::backup::hash_groups`]), each read on its own
/// (never as one Blob made of them: `blob_digest.js` says why) and hashed by the browser (with
/// `sha2` over the bytes where WebCrypto is missing).
pub async fn sha256_of_blobs(blobs: &[web_sys::Blob]) -> Result<Vec<Sha256Digest>, UnreadableBlob> {
    let all: Array = blobs.iter().collect();
    let failed = |e: JsValue| {
        let index = js_sys::Reflect::get(&e, &"index".into())
            .ok()
            .and_then(|i| i.as_f64());
        match index {
            Some(index) => UnreadableBlob {
                index: index as usize,
                cause: js_sys::Reflect::get(&e, &"error".into()).unwrap_or(e),
            },
            None => UnreadableBlob { index: 0, cause: e },
        }
    };
    let answer = JsFuture::from(rewind_sha256_of_blobs(&all))
        .await
        .map_err(failed)?;
    let mut out = Vec::with_capacity(blobs.len());
    if answer.is_null() {
        for (index, blob) in blobs.iter().enumerate() {
            let buffer = JsFuture::from(blob.array_buffer())
                .await
                .map_err(|cause| UnreadableBlob { index, cause })?;
            let bytes = Uint8Array::new(&buffer).to_vec();
            out.push(
                crate::backup::Digests::sha2(&bytes, std::slice::from_ref(&(0..bytes.len())))
                    .of(&bytes, 0..bytes.len()),
            );
        }
        return Ok(out);
    }
    digests_of(&answer, blobs.len()).map_err(|(index, cause)| UnreadableBlob { index, cause })
}

/// The SHA-256 of each run of `bytes`: runs of `sizes` bytes one after another (Blob parts of a
/// file read as one range), by WebCrypto (`sha2` where it is missing).
pub async fn sha256_of_runs(
    bytes: &Uint8Array,
    sizes: &[u64],
) -> Result<Vec<Sha256Digest>, JsValue> {
    let lengths: Vec<f64> = sizes.iter().map(|&n| n as f64).collect();
    let answer = JsFuture::from(rewind_sha256_of_runs(bytes, &lengths)).await?;
    if answer.is_null() {
        let bytes = bytes.to_vec();
        let mut ranges = Vec::with_capacity(sizes.len());
        let mut at = 0usize;
        for &n in sizes {
            let end = usize::try_from(n)
                .ok()
                .and_then(|n| at.checked_add(n))
                .filter(|&end| end <= bytes.len())
                .ok_or_else(|| JsValue::from_str("runs longer than the bytes read"))?;
            ranges.push(at..end);
            at = end;
        }
        let digests = crate::backup::Digests::sha2(&bytes, &ranges);
        return Ok(ranges.into_iter().map(|r| digests.of(&bytes, r)).collect());
    }
    digests_of(&answer, sizes.len()).map_err(|(_, cause)| cause)
}

/// The `count` digests WebCrypto gave (an array of 32-byte Uint8Arrays); else which is wrong.
fn digests_of(answer: &JsValue, count: usize) -> Result<Vec<Sha256Digest>, (usize, JsValue)> {
    let answer: &Array = answer.unchecked_ref();
    let mut out = Vec::with_capacity(count);
    for (index, digest) in answer.iter().enumerate() {
        let bytes = Uint8Array::new(&digest);
        let mut d: Sha256Digest = [0; 32];
        if bytes.length() as usize != d.len() {
            return Err((index, "WebCrypto gave a digest of the wrong length".into()));
        }
        bytes.copy_to(&mut d);
        out.push(d);
    }
    if out.len() != count {
        return Err((
            out.len(),
            "WebCrypto gave fewer digests than asked for".into(),
        ));
    }
    Ok(out)
}
