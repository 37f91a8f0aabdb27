//! Values whose Blob and File bytes and ImageBitmap pixels are read after the walk (after the
//! transaction that produced them).

use super::*;

/// A walked value whose Blob and File bytes and ImageBitmap pixels are still to be read.
pub struct PendingValue {
    pub(super) value: Value,
    pub(super) blobs: Vec<web_sys::Blob>,
    pub(super) bitmaps: Vec<JsValue>,
}

impl PendingValue {
    /// The value, with empty bytes in place of every Blob's and File's contents and every
    /// ImageBitmap's pixels.
    pub fn value(&self) -> &Value {
        &self.value
    }

    #[cfg(feature = "test-hooks")]
    pub fn has_blobs(&self) -> bool {
        !self.blobs.is_empty()
    }

    /// The value's Blobs and Files, in walk order (the order of
    /// [`Value::for_each_blob_mut`]).
    pub fn blobs(&self) -> &[web_sys::Blob] {
        &self.blobs
    }

    /// The value with its ImageBitmaps' pixels read now (synchronously, so inside a
    /// transaction too), Blob and File bytes left empty: what a restore's check reads back.
    pub fn value_with_bitmaps(&self) -> Result<Value, CloneError> {
        let mut value = self.value.clone();
        fill_bitmaps(&mut value, &self.bitmaps)?;
        Ok(value)
    }

    /// Reads every Blob's bytes and ImageBitmap's pixels (after the transaction that produced
    /// the value has finished) and returns the complete value.
    #[cfg(feature = "test-hooks")]
    pub async fn read_blobs(self) -> Result<Value, CloneError> {
        let reads = self.start_reads();
        self.complete(reads).await
    }

    /// Asks for every Blob's bytes at once, so that the browser reads them side by side
    /// (and reads for other values can be asked for before these are awaited).
    #[cfg(feature = "test-hooks")]
    pub fn start_reads(&self) -> Vec<js_sys::Promise> {
        self.blobs.iter().map(|b| b.array_buffer()).collect()
    }

    /// The complete value, from the reads [`Self::start_reads`] asked for (ImageBitmap pixels
    /// are read here, synchronously).
    #[cfg(feature = "test-hooks")]
    pub async fn complete(self, reads: Vec<js_sys::Promise>) -> Result<Value, CloneError> {
        let PendingValue {
            mut value,
            blobs,
            bitmaps,
        } = self;
        fill_bitmaps(&mut value, &bitmaps)?;
        let mut contents = Vec::with_capacity(blobs.len());
        for (blob, read) in blobs.iter().zip(reads) {
            let unreadable = |e: JsValue| {
                CloneError::new(
                    format!(
                        "a Blob that can no longer be read ({})",
                        crate::idb::error::describe(&e)
                    ),
                    &[],
                )
            };
            let buffer = JsFuture::from(read).await.map_err(unreadable)?;
            let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
            if bytes.len() as f64 != blob.size() {
                return Err(CloneError::new(
                    "a Blob whose size changed while it was read",
                    &[],
                ));
            }
            contents.push(bytes);
        }
        let mut slots = 0usize;
        let mut contents = contents.into_iter();
        value.for_each_blob_mut(&mut |bytes| {
            slots += 1;
            if let Some(c) = contents.next() {
                *bytes = c;
            }
        });
        if slots != blobs.len() {
            return Err(CloneError::new(
                "a value whose Blobs could not be matched",
                &[],
            ));
        }
        Ok(value)
    }
}

/// Puts the pixels of `bitmaps` into the ImageBitmaps of `value`, in walk order.
fn fill_bitmaps(value: &mut Value, bitmaps: &[JsValue]) -> Result<(), CloneError> {
    let mut pixels = Vec::with_capacity(bitmaps.len());
    for b in bitmaps {
        let read = rewind_bitmap_pixels(b).map_err(|e| {
            CloneError::new(
                format!(
                    "an ImageBitmap that could not be read ({})",
                    crate::idb::error::describe(&e)
                ),
                &[],
            )
        })?;
        pixels.push(read.to_vec());
    }
    let mut slots = 0usize;
    let mut pixels = pixels.into_iter();
    let mut wrong_size = false;
    value.for_each_bitmap_mut(&mut |width, height, slot| {
        slots += 1;
        if let Some(p) = pixels.next() {
            wrong_size |= p.len() as u64 != u64::from(width) * u64::from(height) * 4;
            *slot = p;
        }
    });
    if slots != bitmaps.len() || wrong_size {
        return Err(CloneError::new(
            "a value whose ImageBitmaps could not be matched",
            &[],
        ));
    }
    Ok(())
}

/// [`js_to_value`] and [`PendingValue::read_blobs`] in one go, for values whose Blobs may be
/// read at once (not inside a transaction that must stay active).
#[cfg(feature = "test-hooks")]
pub async fn js_to_value_complete(value: &JsValue) -> Result<Value, CloneError> {
    js_to_value(value)?.read_blobs().await
}
