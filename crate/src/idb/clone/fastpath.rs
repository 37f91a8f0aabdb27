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
    fn rewind_fast_decode(codec: &JsValue, bytes: &[u8], offset: u32, max: u32) -> js_sys::Array;
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
    let from = out.len();
    crate::idb::storage::make_room(out, bytes.length() as usize)?;
    out.resize(from + bytes.length() as usize, 0);
    bytes.copy_to(&mut out[from..]);
    Ok(reached)
}

/// Decodes up to `max` records from `section` at `offset`, stopping before the first record
/// the fast path does not handle; returns the offset reached and the records' keys and values.
pub fn decode_batch(
    section: &[u8],
    offset: usize,
    max: u32,
) -> (usize, js_sys::Array, js_sys::Array) {
    let result = FAST_CODEC.with(|codec| rewind_fast_decode(codec, section, offset as u32, max));
    let reached = result.get(0).as_f64().map_or(offset, |n| n as usize);
    (
        reached,
        result.get(1).unchecked_into(),
        result.get(2).unchecked_into(),
    )
}
