//! Sealed backups (format 5) carried out: the key derived and AES-256-GCM run by WebCrypto
//! (`sealed.js`), a segment of a Blob at a time, so that memory holds one segment, never the
//! file; each result leaves the JS heap as a Blob of its own, and the file is one Blob made of
//! them. The core (`crate::backup::sealed`) says what the header holds, which bytes each
//! segment covers, its nonce and additional data, and what a failure means.
//!
//! Every call awaits WebCrypto and Blob reads: never inside an IndexedDB transaction.

use crate::backup::sealed::{
    needs_unsealing, segment_failed, segments_for_plain, segments_for_sealed, SealParams,
    SealedHeader, Segment, NONCE_PREFIX_BYTES, SALT_BYTES, SEALED_HEADER_LEN,
};
use crate::backup::Passphrase;
use crate::rewind_error::RewindError;
use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/idb/sealed.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn rewind_random_bytes(n: u32) -> Result<Uint8Array, JsValue>;
    fn rewind_derive_key(passphrase: &str, salt: &[u8], iterations: u32) -> Promise;
    fn rewind_key_check(key: &JsValue, nonce: &[u8], aad: &[u8]) -> Promise;
    fn rewind_seal_segment(
        key: &JsValue,
        blob: &web_sys::Blob,
        start: f64,
        end: f64,
        nonce: &[u8],
        aad: &[u8],
    ) -> Promise;
    fn rewind_unseal_segment(
        key: &JsValue,
        blob: &web_sys::Blob,
        start: f64,
        end: f64,
        nonce: &[u8],
        aad: &[u8],
    ) -> Promise;
    fn rewind_join(parts: &Array, mime: &str) -> web_sys::Blob;
}

/// What WebCrypto or a Blob read threw, for a file being read.
fn unreadable(e: JsValue) -> RewindError {
    RewindError::UnreadableFile(super::error::describe(&e))
}

/// What WebCrypto or a Blob read threw while sealing one of our own Blobs.
fn cannot_seal(e: JsValue) -> RewindError {
    RewindError::Storage(format!(
        "could not encrypt the backup ({})",
        super::error::describe(&e)
    ))
}

async fn derive_key(
    passphrase: &Passphrase,
    params: &SealParams,
    failed: fn(JsValue) -> RewindError,
) -> Result<JsValue, RewindError> {
    JsFuture::from(rewind_derive_key(
        passphrase.as_str(),
        &params.salt,
        params.iterations,
    ))
    .await
    .map_err(failed)
}

async fn key_check(
    key: &JsValue,
    params: &SealParams,
    failed: fn(JsValue) -> RewindError,
) -> Result<Vec<u8>, RewindError> {
    let tag = JsFuture::from(rewind_key_check(
        key,
        &params.key_check_nonce(),
        &params.key_check_aad(),
    ))
    .await
    .map_err(failed)?;
    Ok(Uint8Array::new(&tag).to_vec())
}

/// `inner` (a backup file of any format) sealed under `passphrase`, as a new Blob of `mime`.
pub async fn seal(
    inner: &web_sys::Blob,
    passphrase: &Passphrase,
    mime: &str,
) -> Result<web_sys::Blob, RewindError> {
    let random = |n: usize| -> Result<Vec<u8>, RewindError> {
        Ok(rewind_random_bytes(n as u32).map_err(cannot_seal)?.to_vec())
    };
    let mut salt = [0u8; SALT_BYTES];
    salt.copy_from_slice(&random(SALT_BYTES)?);
    let mut prefix = [0u8; NONCE_PREFIX_BYTES];
    prefix.copy_from_slice(&random(NONCE_PREFIX_BYTES)?);
    let params = SealParams::new(salt, prefix);
    let key = derive_key(passphrase, &params, cannot_seal).await?;
    let tag = key_check(&key, &params, cannot_seal).await?;
    let mut check = [0u8; 16];
    if tag.len() != check.len() {
        return Err(cannot_seal(
            "WebCrypto gave a tag of the wrong length".into(),
        ));
    }
    check.copy_from_slice(&tag);
    let header = params.header(check);
    let segments = segments_for_plain(&params, inner.size() as u64)?;
    let parts = Array::new();
    parts.push(&Uint8Array::from(&header[..]));
    for segment in &segments {
        let part = JsFuture::from(rewind_seal_segment(
            &key,
            inner,
            segment.plain.start as f64,
            segment.plain.end as f64,
            &segment.nonce,
            &header,
        ))
        .await
        .map_err(cannot_seal)?;
        parts.push(&part);
    }
    Ok(rewind_join(&parts, mime))
}

/// The first `len` bytes of `file` (fewer if it is shorter).
async fn head(file: &web_sys::Blob, len: usize) -> Result<Vec<u8>, RewindError> {
    let bytes = JsFuture::from(
        file.slice_with_f64_and_f64(0.0, len as f64)
            .map_err(unreadable)?
            .array_buffer(),
    )
    .await
    .map_err(unreadable)?;
    Ok(Uint8Array::new(&bytes).to_vec())
}

/// The header of the sealed file `sealed`, its segments, and the key `passphrase` gives,
/// proven right by the key check (`WrongPassphrase` otherwise).
async fn open_sealed(
    sealed: &web_sys::Blob,
    passphrase: &Passphrase,
) -> Result<(SealedHeader, Vec<Segment>, JsValue), RewindError> {
    let header = SealedHeader::parse(&head(sealed, SEALED_HEADER_LEN).await?)?;
    // The segments are planned before the slow key derivation: a cut file fails at once.
    let segments = segments_for_sealed(&header.params, sealed.size() as u64)?;
    let key = derive_key(passphrase, &header.params, unreadable).await?;
    header.check_key(&key_check(&key, &header.params, unreadable).await?)?;
    Ok((header, segments, key))
}

/// Proves `passphrase` opens the sealed file `sealed` (its header and key check only).
pub async fn check_passphrase(
    sealed: &web_sys::Blob,
    passphrase: &Passphrase,
) -> Result<(), RewindError> {
    open_sealed(sealed, passphrase).await.map(|_| ())
}

/// The inner file of the sealed file `sealed`, every segment authenticated: `WrongPassphrase`
/// when the key check fails, `CorruptBackup` when the header or a segment is damaged.
pub async fn unseal(
    sealed: &web_sys::Blob,
    passphrase: &Passphrase,
    mime: &str,
) -> Result<web_sys::Blob, RewindError> {
    let (header, segments, key) = open_sealed(sealed, passphrase).await?;
    let parts = Array::new();
    for segment in &segments {
        let part = JsFuture::from(rewind_unseal_segment(
            &key,
            sealed,
            segment.sealed.start as f64,
            segment.sealed.end as f64,
            &segment.nonce,
            header.bytes(),
        ))
        .await
        .map_err(unreadable)?;
        if part.is_null() {
            return Err(segment_failed(segment, segments.len()).into());
        }
        parts.push(&part);
    }
    Ok(rewind_join(&parts, mime))
}

/// `file` ready for the backup readers: unsealed when it is sealed (which needs a
/// passphrase), as it is otherwise.
pub async fn opened(
    file: web_sys::Blob,
    passphrase: Option<&Passphrase>,
) -> Result<web_sys::Blob, RewindError> {
    match (
        needs_unsealing(&head(&file, 16).await?, passphrase)?,
        passphrase,
    ) {
        (true, Some(passphrase)) => unseal(&file, passphrase, &file.type_()).await,
        _ => Ok(file),
    }
}
