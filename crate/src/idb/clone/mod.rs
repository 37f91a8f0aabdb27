//! JavaScript values to and from the backup value model (`crate::backup`).
//!
//! [`js_to_value`] walks a value read from IndexedDB synchronously (so it can run inside the
//! read transaction's callbacks), numbering objects in first-visit order for shared and cyclic
//! references. Blob and File bytes can only be read asynchronously: the walk leaves their bytes
//! empty and keeps the blobs in a [`PendingValue`], whose [`PendingValue::read_blobs`] fills
//! them in afterwards (once the transaction is done); ImageBitmap pixels are kept for later the
//! same way (read from a canvas, so that a backup's read transaction stays short).
//! [`value_to_js`] rebuilds the exact value; an ImageBitmap can only be made asynchronously, so
//! [`make_bitmaps`] makes a value's bitmaps first (before any transaction that must stay
//! active) and [`value_to_js_with`] puts them in. The platform objects are taken apart and made
//! again by `platform.js`.
//!
//! Type checks use brands (`instanceof`, `Array.isArray`, `ArrayBuffer.isView` and
//! `Object.prototype.toString`), never duck typing; every JavaScript call that can throw is
//! caught and becomes a [`CloneError`].
//!
//! By job: `walk` (JavaScript → value), `pending` (Blob bytes and bitmap pixels read after
//! the walk), `build` (value → JavaScript), `fastpath` (batches of plain records through
//! `fastpath.js`); here, what they share: the platform bindings, errors, key descriptions.

use crate::backup::{
    BackupError, ColorSpace, ErrorKind, ErrorValue, Matrix, Num, PixelFormat, Text, Value,
    ViewKind, MAX_DEPTH,
};
use std::fmt;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/src/idb/platform.js")]
extern "C" {
    fn rewind_platform_kind(v: &JsValue) -> String;
    fn rewind_blob_kind(v: &JsValue) -> String;
    #[wasm_bindgen(catch)]
    fn rewind_make_blob(bytes: &[u8], mime: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_make_file(
        content: &JsValue,
        name: &JsValue,
        mime: &str,
        last_modified: f64,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_file_of_blob(blob: &JsValue, name: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_blob_of_parts(parts: &js_sys::Array, mime: &str) -> Result<web_sys::Blob, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_blob_of_buffer(buffer: &js_sys::ArrayBuffer, mime: &str) -> Result<JsValue, JsValue>;
    fn rewind_is_dom_exception(v: &JsValue) -> bool;
    #[wasm_bindgen(catch)]
    fn rewind_point_coords(v: &JsValue) -> Result<js_sys::Float64Array, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_rect_coords(v: &JsValue) -> Result<js_sys::Float64Array, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_quad_coords(v: &JsValue) -> Result<js_sys::Float64Array, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_matrix_elements(v: &JsValue) -> Result<js_sys::Float64Array, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_make_point(read_only: bool, coords: &[f64]) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_make_rect(read_only: bool, coords: &[f64]) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_make_quad(coords: &[f64]) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_make_matrix(read_only: bool, elements: &[f64]) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_image_data_parts(v: &JsValue) -> Result<js_sys::Array, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_make_image_data(
        bytes: &[u8],
        width: u32,
        height: u32,
        color_space: &str,
        pixel_format: &str,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_bitmap_size(v: &JsValue) -> Result<js_sys::Array, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_bitmap_pixels(v: &JsValue) -> Result<js_sys::Uint8Array, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_make_bitmap(
        pixels: &[u8],
        width: u32,
        height: u32,
    ) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_file_list_files(v: &JsValue) -> Result<js_sys::Array, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_make_file_list(files: &js_sys::Array) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_exception_parts(v: &JsValue) -> Result<js_sys::Array, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_make_exception(message: &JsValue, name: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_view_tracks_length(v: &JsValue) -> Result<bool, JsValue>;
}

/// A value that cannot be carried by a backup (or rebuilt from one), with the type and where
/// inside the record it sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloneError {
    /// What was found, e.g. `function`, `Symbol`, `CryptoKey`.
    pub type_name: String,
    /// Where in the value, e.g. `.settings.onChange` or `[3]`; empty for the value itself.
    pub path: String,
}

impl CloneError {
    pub(crate) fn new(type_name: impl Into<String>, path: &[String]) -> Self {
        CloneError {
            type_name: type_name.into(),
            path: path.concat(),
        }
    }

    /// The error for a record of `store` with the given key (see [`describe_key`]).
    pub fn in_record(self, store: &str, key: &str) -> BackupError {
        BackupError::UnsupportedValue {
            store: store.to_string(),
            key: key.to_string(),
            type_name: self.type_name,
            path: self.path,
        }
    }
}

impl fmt::Display for CloneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.type_name)
        } else {
            write!(f, "{} at {}", self.type_name, self.path)
        }
    }
}

impl std::error::Error for CloneError {}

/// Whether `value` is a Blob (or File), by the constructors the page had when Rewind loaded.
pub(crate) fn is_blob(value: &JsValue) -> bool {
    !rewind_blob_kind(value).is_empty()
}

/// A Blob of `bytes` (a view of them is handed over; the constructor copies it).
pub(crate) fn make_blob(bytes: &[u8], mime: &str) -> Result<JsValue, JsValue> {
    rewind_make_blob(bytes, mime)
}

/// A Blob of an ArrayBuffer's bytes (copied by the constructor).
pub(crate) fn blob_of_buffer(buffer: &js_sys::ArrayBuffer, mime: &str) -> Result<JsValue, JsValue> {
    rewind_blob_of_buffer(buffer, mime)
}

/// One Blob of `parts` (Uint8Arrays, copied; Blobs, joined as they are).
pub(crate) fn blob_of_parts(parts: &js_sys::Array, mime: &str) -> Result<web_sys::Blob, JsValue> {
    rewind_blob_of_parts(parts, mime)
}

/// A File of a Blob's contents, with the Blob's type.
pub(crate) fn file_of_blob(blob: &web_sys::Blob, name: &str) -> Result<JsValue, JsValue> {
    rewind_file_of_blob(blob, name)
}

/// A short description of a key for messages: `7`, `"abc"`, `Date(…)`, `[1, "a"]`, `binary(3 bytes)`.
pub fn describe_key(key: &Value) -> String {
    fn go(key: &Value, out: &mut String, depth: usize) {
        if depth > 4 || out.len() > 200 {
            out.push('…');
            return;
        }
        match key {
            Value::Number(n) => out.push_str(&format_number(n.0)),
            Value::String(t) => out.push_str(&format!("{:?}", t.to_string_lossy())),
            Value::Date(n) => out.push_str(&format!("Date({})", format_number(n.0))),
            Value::ArrayBuffer(b) => out.push_str(&format!("binary({} bytes)", b.len())),
            Value::View { kind, length, .. } => {
                out.push_str(&format!("{}({length})", kind.js_name()))
            }
            Value::Array { props, .. } => {
                out.push('[');
                for (i, (_, v)) in props.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    go(v, out, depth + 1);
                }
                out.push(']');
            }
            other => out.push_str(other.type_name()),
        }
    }
    let mut out = String::new();
    go(key, &mut out, 0);
    out
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn get(target: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    js_sys::Reflect::get(target, &JsValue::from_str(key))
}

fn global_ctor(name: &str) -> Option<js_sys::Function> {
    get(&js_sys::global(), name).ok()?.dyn_into().ok()
}

fn text_of(value: &JsValue) -> Text {
    let s: &js_sys::JsString = value.unchecked_ref();
    if s.is_valid_utf16() {
        if let Some(rust) = value.as_string() {
            return Text::from(rust);
        }
    }
    Text::from_utf16(s.iter().collect())
}

/// `kind` with its indefinite article: "a DOMPoint", "an ImageData".
fn a(kind: &str) -> String {
    let vowel = kind.starts_with(['A', 'E', 'I', 'O', 'U']);
    format!("{} {kind}", if vowel { "an" } else { "a" })
}

fn js_err<'a>(what: &str, path: &'a [String]) -> impl Fn(JsValue) -> CloneError + 'a {
    let what = what.to_string();
    move |e| {
        CloneError::new(
            format!(
                "{what} that could not be read ({})",
                crate::idb::error::describe(&e)
            ),
            path,
        )
    }
}

mod build;
mod fastpath;
mod pending;
mod walk;

pub use build::{make_bitmaps, value_to_js, value_to_js_with, value_to_js_with_parts};
pub use fastpath::{decode_batch, encode_batch, ChunkParts, DecodedBatch};
#[cfg(feature = "test-hooks")]
pub use pending::js_to_value_complete;
pub use pending::PendingValue;
pub use walk::js_to_value;
