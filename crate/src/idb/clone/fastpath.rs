//! The fast path (`fastpath.js`): whole batches of plain records encoded and decoded in
//! JavaScript, byte for byte as `crate::backup::codec` writes them.

use super::*;

#[wasm_bindgen(module = "/src/idb/fastpath.js")]
extern "C" {
    fn rewind_fast_encode(
        codec: &JsValue,
        keys: &JsValue,
        values: &JsValue,
        start: u32,
        end: u32,
        size_hint: u32,
    ) -> js_sys::Array;
    fn rewind_fast_decode(
        codec: &JsValue,
        bytes: &[u8],
        offset: u32,
        max: u32,
        parts: &JsValue,
        cursor: u32,
        keys: &js_sys::Array,
        values: &js_sys::Array,
    ) -> js_sys::Array;
}

thread_local! {
    /// The codec's tags, key forms and limits as the fast path reads them: one definition,
    /// `crate::backup::codec`'s.
    static FAST_CODEC: JsValue = fast_codec();
    /// How many bytes the last batch encoded to: the next batch's first guess.
    static LAST_BATCH_BYTES: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

fn fast_codec() -> JsValue {
    let set = |target: &js_sys::Object, name: &str, value: JsValue| {
        let _ = js_sys::Reflect::set(target, &name.into(), &value);
    };
    let tags = js_sys::Object::new();
    for (name, tag) in crate::backup::codec::FAST_PATH_TAGS {
        set(&tags, name, f64::from(tag).into());
    }
    let codec = js_sys::Object::new();
    set(&codec, "tags", tags.into());
    set(
        &codec,
        "keyIndex",
        f64::from(crate::backup::codec::KEY_INDEX).into(),
    );
    set(
        &codec,
        "keyText",
        f64::from(crate::backup::codec::KEY_TEXT).into(),
    );
    set(&codec, "maxDepth", (MAX_DEPTH as f64).into());
    set(
        &codec,
        "maxIndex",
        (crate::backup::codec::MAX_INDEX as f64).into(),
    );
    codec.into()
}

/// Encodes records `start..end` of `keys`/`values` (as a backup section holds them:
/// key then value, each numbered from 0) onto `out`, until the first record the fast path does
/// not handle (one with Blobs included: their bytes must be read first); returns that record's
/// index (`end` when all were), or the bytes `out` would have needed when it cannot grow.
pub fn encode_batch(
    keys: &JsValue,
    values: &JsValue,
    start: u32,
    end: u32,
    out: &mut Vec<u8>,
) -> Result<u32, u64> {
    // Room for about as much as the last batch took, so the encoder's buffer rarely grows.
    let hint = LAST_BATCH_BYTES.with(std::cell::Cell::get);
    let result = FAST_CODEC.with(|codec| rewind_fast_encode(codec, keys, values, start, end, hint));
    let reached = result.get(0).as_f64().map_or(start, |n| n as u32);
    let bytes: js_sys::Uint8Array = result.get(1).unchecked_into();
    LAST_BATCH_BYTES.with(|last| last.set(bytes.length().min(64 << 20)));
    crate::idb::storage::append_js(out, &bytes)?;
    Ok(reached)
}

/// The Blob parts a chunk's records refer to: one slice of the file from the first part to
/// the last (the region), and where each part lies in it. Slicing a file made of many Blobs
/// costs the browser a registration each time; parts are sliced from the region, once each.
pub struct ChunkParts {
    region: Option<web_sys::Blob>,
    bounds: Vec<f64>,
    /// `{ region, bounds }` as the fast decoder reads it (null without parts), made once per
    /// chunk: the decoder is called again after every record it leaves.
    js: JsValue,
}

impl ChunkParts {
    /// No parts (a record outside a chunk).
    pub fn none() -> ChunkParts {
        ChunkParts {
            region: None,
            bounds: Vec::new(),
            js: JsValue::NULL,
        }
    }

    /// The parts at `ranges` of `file` (in file order).
    pub fn of(
        file: &web_sys::Blob,
        ranges: &[std::ops::Range<u64>],
    ) -> Result<ChunkParts, JsValue> {
        let (Some(first), Some(last)) = (ranges.first(), ranges.last()) else {
            return Ok(ChunkParts::none());
        };
        let base = first.start;
        let region = file.slice_with_f64_and_f64(base as f64, last.end as f64)?;
        let bounds: Vec<f64> = ranges
            .iter()
            .flat_map(|r| [(r.start - base) as f64, (r.end - base) as f64])
            .collect();
        let js = js_sys::Object::new();
        js_sys::Reflect::set(&js, &"region".into(), &region)?;
        let bounds_js = js_sys::Float64Array::from(&bounds[..]);
        js_sys::Reflect::set(&js, &"bounds".into(), &bounds_js)?;
        Ok(ChunkParts {
            region: Some(region),
            bounds,
            js: js.into(),
        })
    }

    /// Part `i` as a Blob (untyped: the builder gives it its type).
    pub fn part(&self, i: usize) -> Result<web_sys::Blob, JsValue> {
        match (
            &self.region,
            self.bounds.get(2 * i),
            self.bounds.get(2 * i + 1),
        ) {
            (Some(region), Some(&start), Some(&end)) => region.slice_with_f64_and_f64(start, end),
            _ => Err(JsValue::from_str("a Blob part the chunk does not have")),
        }
    }
}

/// How far the fast path got through a batch.
pub struct DecodedBatch {
    /// The offset after the last record decoded.
    pub reached: usize,
    /// The next part of the chunk (see [`decode_batch`]).
    pub cursor: u32,
    /// How many records it decoded.
    pub decoded: usize,
}

/// Decodes up to `max` records from `bytes` at `offset`, stopping before the first record
/// the fast path does not handle, and pushes their keys and values onto `keys` and `values`.
/// In a chunk, `parts` are the Blob parts its records refer to, and `cursor` the first not yet
/// used.
pub fn decode_batch(
    bytes: &[u8],
    (offset, max): (usize, u32),
    (parts, cursor): (&ChunkParts, u32),
    keys: &js_sys::Array,
    values: &js_sys::Array,
) -> DecodedBatch {
    let result = FAST_CODEC.with(|codec| {
        rewind_fast_decode(
            codec,
            bytes,
            offset as u32,
            max,
            &parts.js,
            cursor,
            keys,
            values,
        )
    });
    DecodedBatch {
        reached: result.get(0).as_f64().map_or(offset, |n| n as usize),
        decoded: result.get(1).as_f64().map_or(0, |n| n as usize),
        cursor: result.get(2).as_f64().map_or(cursor, |n| n as u32),
    }
}
