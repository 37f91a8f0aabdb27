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
        bytes: &[u8],
        name: &JsValue,
        mime: &str,
        last_modified: f64,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_file_of_blob(blob: &JsValue, name: &str) -> Result<JsValue, JsValue>;
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
    fn new(type_name: impl Into<String>, path: &[String]) -> Self {
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

/// A walked value whose Blob and File bytes and ImageBitmap pixels are still to be read.
pub struct PendingValue {
    value: Value,
    blobs: Vec<web_sys::Blob>,
    bitmaps: Vec<JsValue>,
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

    /// Whether anything is still to be read: Blobs or ImageBitmaps.
    pub fn needs_reading(&self) -> bool {
        !self.blobs.is_empty() || !self.bitmaps.is_empty()
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
    pub fn start_reads(&self) -> Vec<js_sys::Promise> {
        self.blobs.iter().map(|b| b.array_buffer()).collect()
    }

    /// The complete value, from the reads [`Self::start_reads`] asked for (ImageBitmap pixels
    /// are read here, synchronously).
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
                        super::error::describe(&e)
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
                    super::error::describe(&e)
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

/// A File of a Blob's contents, with the Blob's type.
pub(crate) fn file_of_blob(blob: &web_sys::Blob, name: &str) -> Result<JsValue, JsValue> {
    rewind_file_of_blob(blob, name)
}

/// Walks `value` synchronously. Blob and File bytes and ImageBitmap pixels are read later by
/// [`PendingValue::read_blobs`].
pub fn js_to_value(value: &JsValue) -> Result<PendingValue, CloneError> {
    let mut walker = Walker::new()?;
    let v = walker.walk(value)?;
    Ok(PendingValue {
        value: v,
        blobs: walker.blobs,
        bitmaps: walker.bitmaps,
    })
}

/// [`js_to_value`] and [`PendingValue::read_blobs`] in one go, for values whose Blobs may be
/// read at once (not inside a transaction that must stay active).
#[cfg(feature = "test-hooks")]
pub async fn js_to_value_complete(value: &JsValue) -> Result<Value, CloneError> {
    js_to_value(value)?.read_blobs().await
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

// ---------------------------------------------------------------------------------------
// JavaScript → Value

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

struct Walker {
    seen: js_sys::Map,
    next_id: u32,
    blobs: Vec<web_sys::Blob>,
    bitmaps: Vec<JsValue>,
    path: Vec<String>,
    to_string_tag: js_sys::Function,
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
                super::error::describe(&e)
            ),
            path,
        )
    }
}

impl Walker {
    fn new() -> Result<Self, CloneError> {
        let missing = |_| CloneError::new("a browser without Object.prototype", &[]);
        let object = global_ctor("Object").ok_or_else(|| missing(()))?;
        let object_prototype = get(&object, "prototype").map_err(|_| missing(()))?;
        let to_string_tag = get(&object_prototype, "toString")
            .ok()
            .and_then(|f| f.dyn_into().ok())
            .ok_or_else(|| missing(()))?;
        Ok(Walker {
            seen: js_sys::Map::new(),
            next_id: 0,
            blobs: Vec::new(),
            bitmaps: Vec::new(),
            path: Vec::new(),
            to_string_tag,
        })
    }

    fn fail(&self, type_name: impl Into<String>) -> CloneError {
        CloneError::new(type_name, &self.path)
    }

    /// `Object.prototype.toString.call(v)`'s class: `Object`, `CryptoKey`, `Uint8Array` …
    fn class_of(&self, value: &JsValue) -> String {
        js_sys::Reflect::apply(&self.to_string_tag, value, &js_sys::Array::new())
            .ok()
            .and_then(|s| s.as_string())
            .and_then(|s| {
                s.strip_prefix("[object ")
                    .and_then(|s| s.strip_suffix(']'))
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "an unknown object".into())
    }

    fn walk(&mut self, value: &JsValue) -> Result<Value, CloneError> {
        if self.path.len() > MAX_DEPTH {
            return Err(self.fail(format!("a value nested more than {MAX_DEPTH} levels deep")));
        }
        if value.is_undefined() {
            return Ok(Value::Undefined);
        }
        if value.is_null() {
            return Ok(Value::Null);
        }
        if let Some(b) = value.as_bool() {
            return Ok(Value::Bool(b));
        }
        if let Some(n) = value.as_f64() {
            return Ok(Value::Number(Num(n)));
        }
        if value.is_string() {
            return Ok(Value::String(text_of(value)));
        }
        if value.is_bigint() {
            return Ok(Value::BigInt(self.bigint_digits(value)?));
        }
        if value.is_symbol() {
            return Err(self.fail("a Symbol"));
        }
        if value.is_function() {
            return Err(self.fail("a function"));
        }
        if !value.is_object() {
            return Err(self.fail(format!("a value of type {:?}", value.js_typeof())));
        }
        if let Some(id) = self.seen.get(value).as_f64() {
            return Ok(Value::Ref(id as u32));
        }
        self.seen
            .set(value, &JsValue::from_f64(f64::from(self.next_id)));
        self.next_id += 1;
        self.walk_object(value)
    }

    fn bigint_digits(&self, value: &JsValue) -> Result<String, CloneError> {
        let big: &js_sys::BigInt = value.unchecked_ref();
        big.to_string(10)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or_else(|| self.fail("a BigInt that could not be read"))
    }

    fn walk_child(&mut self, segment: String, value: &JsValue) -> Result<Value, CloneError> {
        self.path.push(segment);
        let v = self.walk(value);
        self.path.pop();
        v
    }

    fn walk_object(&mut self, value: &JsValue) -> Result<Value, CloneError> {
        if js_sys::Array::is_array(value) {
            return self.walk_array(value);
        }
        if value.is_instance_of::<js_sys::Date>() {
            let date: &js_sys::Date = value.unchecked_ref();
            return Ok(Value::Date(Num(date.get_time())));
        }
        if value.is_instance_of::<js_sys::RegExp>() {
            let re: &js_sys::RegExp = value.unchecked_ref();
            return Ok(Value::RegExp {
                source: text_of(&re.source().into()),
                flags: String::from(re.flags()),
            });
        }
        if value.is_instance_of::<js_sys::ArrayBuffer>() {
            return self.walk_buffer(value);
        }
        if js_sys::ArrayBuffer::is_view(value) {
            return self.walk_view(value);
        }
        if value.is_instance_of::<js_sys::Map>() {
            let map: &js_sys::Map = value.unchecked_ref();
            let mut pairs = Vec::new();
            map.for_each(&mut |v, k| pairs.push((k, v)));
            let mut entries = Vec::with_capacity(pairs.len());
            for (i, (k, v)) in pairs.iter().enumerate() {
                let key = self.walk_child(format!(".<key {i}>"), k)?;
                let val = self.walk_child(format!(".<value {i}>"), v)?;
                entries.push((key, val));
            }
            return Ok(Value::Map(entries));
        }
        if value.is_instance_of::<js_sys::Set>() {
            let set: &js_sys::Set = value.unchecked_ref();
            let mut items_js = Vec::new();
            set.for_each(&mut |v, _, _| items_js.push(v));
            let mut items = Vec::with_capacity(items_js.len());
            for (i, v) in items_js.iter().enumerate() {
                items.push(self.walk_child(format!(".<item {i}>"), v)?);
            }
            return Ok(Value::Set(items));
        }
        let blob_kind = rewind_blob_kind(value);
        if blob_kind == "File" {
            return self.walk_file(value);
        }
        if blob_kind == "Blob" {
            let blob: &web_sys::Blob = value.unchecked_ref();
            self.blobs.push(blob.clone());
            return Ok(Value::Blob {
                mime: blob.type_(),
                bytes: Vec::new(),
            });
        }
        if value.is_instance_of::<js_sys::Error>() {
            // A DOMException is an Error too, but structured clone keeps it as itself; its
            // subclasses (QuotaExceededError…) would lose their class as a DOMException.
            if rewind_platform_kind(value) == "DOMException" {
                return self.walk_platform("DOMException", value);
            }
            if rewind_is_dom_exception(value) {
                let class = self.class_of(value);
                return Err(self.fail(format!("a {class} object")));
            }
            return self.walk_error(value);
        }
        if value.is_instance_of::<js_sys::Boolean>() {
            let b: &js_sys::Boolean = value.unchecked_ref();
            return Ok(Value::BoxedBool(b.value_of()));
        }
        if value.is_instance_of::<js_sys::Number>() {
            let n: &js_sys::Number = value.unchecked_ref();
            return Ok(Value::BoxedNumber(Num(n.value_of())));
        }
        if value.is_instance_of::<js_sys::JsString>() {
            let s: &js_sys::JsString = value.unchecked_ref();
            return Ok(Value::BoxedString(text_of(&s.value_of().into())));
        }
        if value.is_instance_of::<js_sys::BigInt>() {
            let inner = self.call_value_of(value)?;
            return Ok(Value::BoxedBigInt(self.bigint_digits(&inner)?));
        }
        let class = self.class_of(value);
        if class == "Object" {
            // Plain, prototype-less or a class instance: IndexedDB keeps the own enumerable
            // properties and reads them back as a plain object, and so do we.
            return self.walk_plain(value);
        }
        let kind = rewind_platform_kind(value);
        if !kind.is_empty() {
            return self.walk_platform(&kind, value);
        }
        Err(self.fail(format!("a {class} object")))
    }

    fn walk_buffer(&mut self, value: &JsValue) -> Result<Value, CloneError> {
        let bytes = js_sys::Uint8Array::new(value).to_vec();
        let read = |key: &str| get(value, key).map_err(js_err("an ArrayBuffer", &self.path));
        if read("resizable")?.as_bool() != Some(true) {
            return Ok(Value::ArrayBuffer(bytes));
        }
        let max = read("maxByteLength")?
            .as_f64()
            .ok_or_else(|| self.fail("a resizable ArrayBuffer without a maximum"))?;
        Ok(Value::ResizableArrayBuffer {
            bytes,
            max_byte_length: max as u64,
        })
    }

    fn walk_file(&mut self, value: &JsValue) -> Result<Value, CloneError> {
        let file: &web_sys::File = value.unchecked_ref();
        self.blobs.push(file.clone().into());
        Ok(Value::File {
            name: text_of(&get(value, "name").map_err(js_err("a File", &self.path))?),
            mime: file.type_(),
            last_modified: file.last_modified() as i64,
            bytes: Vec::new(),
        })
    }

    /// Numbers read from a platform object, exactly `N` of them.
    fn numbers<const N: usize>(
        &self,
        what: &str,
        read: Result<js_sys::Float64Array, JsValue>,
    ) -> Result<[Num; N], CloneError> {
        let read = read.map_err(js_err(&a(what), &self.path))?.to_vec();
        let mut out = [Num(0.0); N];
        if read.len() != N {
            return Err(self.fail(format!("{} with {} numbers", a(what), read.len())));
        }
        for (o, n) in out.iter_mut().zip(read) {
            *o = Num(n);
        }
        Ok(out)
    }

    fn walk_platform(&mut self, kind: &str, value: &JsValue) -> Result<Value, CloneError> {
        let read_only = kind.ends_with("ReadOnly");
        Ok(match kind {
            "DOMPoint" | "DOMPointReadOnly" => Value::DomPoint {
                read_only,
                coords: self.numbers(kind, rewind_point_coords(value))?,
            },
            "DOMRect" | "DOMRectReadOnly" => Value::DomRect {
                read_only,
                coords: self.numbers(kind, rewind_rect_coords(value))?,
            },
            "DOMQuad" => {
                let n: [Num; 16] = self.numbers(kind, rewind_quad_coords(value))?;
                let point = |i: usize| [n[i], n[i + 1], n[i + 2], n[i + 3]];
                Value::DomQuad([point(0), point(4), point(8), point(12)])
            }
            "DOMMatrix" | "DOMMatrixReadOnly" => {
                let read = rewind_matrix_elements(value).map_err(js_err(&a(kind), &self.path))?;
                let elements = if read.length() == 6 {
                    Matrix::TwoD(self.numbers(kind, Ok(read))?)
                } else {
                    Matrix::ThreeD(self.numbers(kind, Ok(read))?)
                };
                Value::DomMatrix {
                    read_only,
                    elements,
                }
            }
            "ImageData" => self.walk_image_data(value)?,
            "ImageBitmap" => {
                let size = rewind_bitmap_size(value).map_err(js_err(&a(kind), &self.path))?;
                let (width, height) = (self.side(&size.get(0))?, self.side(&size.get(1))?);
                if width == 0 || height == 0 {
                    return Err(self.fail("a closed ImageBitmap"));
                }
                self.bitmaps.push(value.clone());
                Value::ImageBitmap {
                    width,
                    height,
                    pixels: Vec::new(),
                }
            }
            "FileList" => {
                let files = rewind_file_list_files(value).map_err(js_err(&a(kind), &self.path))?;
                let mut items = Vec::with_capacity(files.length() as usize);
                for (i, f) in files.iter().enumerate() {
                    if rewind_blob_kind(&f) != "File" {
                        return Err(self.fail(format!("a FileList whose item {i} is no File")));
                    }
                    // The files of a list are not objects of their own (no number).
                    self.path.push(format!("[{i}]"));
                    let file = self.walk_file(&f);
                    self.path.pop();
                    items.push(file?);
                }
                Value::FileList(items)
            }
            "DOMException" => {
                let parts = rewind_exception_parts(value).map_err(js_err(&a(kind), &self.path))?;
                Value::DomException {
                    name: text_of(&parts.get(0)),
                    message: text_of(&parts.get(1)),
                }
            }
            other => return Err(self.fail(format!("{} object", a(other)))),
        })
    }

    fn side(&self, n: &JsValue) -> Result<u32, CloneError> {
        n.as_f64()
            .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= f64::from(u32::MAX))
            .map(|n| n as u32)
            .ok_or_else(|| self.fail("an image of an impossible size"))
    }

    fn walk_image_data(&mut self, value: &JsValue) -> Result<Value, CloneError> {
        let parts = rewind_image_data_parts(value).map_err(js_err("an ImageData", &self.path))?;
        let (width, height) = (self.side(&parts.get(0))?, self.side(&parts.get(1))?);
        let space = parts.get(2).as_string().unwrap_or_default();
        let color_space = ColorSpace::from_js_name(&space)
            .ok_or_else(|| self.fail(format!("an ImageData in color space {space:?}")))?;
        let format = parts.get(3).as_string().unwrap_or_default();
        let pixel_format = PixelFormat::from_js_name(&format)
            .ok_or_else(|| self.fail(format!("an ImageData of pixel format {format:?}")))?;
        let data = parts.get(4).unchecked_into::<js_sys::Uint8Array>().to_vec();
        Ok(Value::ImageData {
            width,
            height,
            color_space,
            pixel_format,
            data,
        })
    }

    fn call_value_of(&self, value: &JsValue) -> Result<JsValue, CloneError> {
        let f: js_sys::Function = get(value, "valueOf")
            .ok()
            .and_then(|f| f.dyn_into().ok())
            .ok_or_else(|| self.fail("a boxed value without valueOf"))?;
        f.call0(value)
            .map_err(|_| self.fail("a boxed value that could not be read"))
    }

    fn own_keys(&self, value: &JsValue) -> Vec<JsValue> {
        let obj: &js_sys::Object = value.unchecked_ref();
        js_sys::Object::keys(obj).iter().collect()
    }

    fn walk_props(&mut self, value: &JsValue) -> Result<Vec<(Text, Value)>, CloneError> {
        let keys = self.own_keys(value);
        let mut props = Vec::with_capacity(keys.len());
        for key in keys {
            let text = text_of(&key);
            let v = js_sys::Reflect::get(value, &key).map_err(js_err("a property", &self.path))?;
            let segment = match text.as_str() {
                Some(s) if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() => {
                    format!("[{s}]")
                }
                _ => format!(".{text}"),
            };
            let child = self.walk_child(segment, &v)?;
            props.push((text, child));
        }
        Ok(props)
    }

    fn walk_array(&mut self, value: &JsValue) -> Result<Value, CloneError> {
        let array: &js_sys::Array = value.unchecked_ref();
        let length = array.length();
        let props = self.walk_props(value)?;
        Ok(Value::Array { length, props })
    }

    fn walk_plain(&mut self, value: &JsValue) -> Result<Value, CloneError> {
        Ok(Value::Object(self.walk_props(value)?))
    }

    fn walk_view(&mut self, value: &JsValue) -> Result<Value, CloneError> {
        let class = self.class_of(value);
        let kind =
            ViewKind::from_js_name(&class).ok_or_else(|| self.fail(format!("a {class} view")))?;
        let read = |key: &str| -> Result<JsValue, CloneError> {
            get(value, key).map_err(js_err("a typed array", &self.path))
        };
        let buffer_js = read("buffer")?;
        if !buffer_js.is_instance_of::<js_sys::ArrayBuffer>() {
            return Err(self.fail(format!("a {class} over a SharedArrayBuffer")));
        }
        let byte_offset = read("byteOffset")?.as_f64().unwrap_or(0.0) as u64;
        let length_key = if kind == ViewKind::DataView {
            "byteLength"
        } else {
            "length"
        };
        let length = read(length_key)?.as_f64().unwrap_or(0.0) as u64;
        let tracks =
            rewind_view_tracks_length(value).map_err(js_err("a typed array", &self.path))?;
        let buffer = self.walk_child(".buffer".into(), &buffer_js)?;
        if tracks {
            return Ok(Value::TrackingView {
                kind,
                buffer: Box::new(buffer),
                byte_offset,
            });
        }
        Ok(Value::View {
            kind,
            buffer: Box::new(buffer),
            byte_offset,
            length,
        })
    }

    fn walk_error(&mut self, value: &JsValue) -> Result<Value, CloneError> {
        let obj: &js_sys::Object = value.unchecked_ref();
        let name = get(value, "name")
            .ok()
            .and_then(|n| n.as_string())
            .unwrap_or_default();
        let own = |key: &str| js_sys::Object::has_own(obj, &JsValue::from_str(key));
        let to_text = |v: JsValue| -> Text {
            if v.is_string() {
                text_of(&v)
            } else {
                Text::from(js_sys::JsString::from(v).as_string().unwrap_or_default())
            }
        };
        let message = if own("message") {
            Some(to_text(
                get(value, "message").map_err(js_err("an Error", &self.path))?,
            ))
        } else {
            None
        };
        let stack = get(value, "stack")
            .ok()
            .filter(|s| s.is_string())
            .map(|s| text_of(&s));
        let cause = if own("cause") {
            let c = get(value, "cause").map_err(js_err("an Error", &self.path))?;
            Some(Box::new(self.walk_child(".cause".into(), &c)?))
        } else {
            None
        };
        Ok(Value::Error(ErrorValue {
            kind: ErrorKind::from_name(&name),
            message,
            stack,
            cause,
        }))
    }
}

// ---------------------------------------------------------------------------------------
// Value → JavaScript

fn floats(numbers: &[Num]) -> Vec<f64> {
    numbers.iter().map(|n| n.0).collect()
}

/// Rebuilds the JavaScript value `value` describes: same types, prototypes, shared and cyclic
/// references, buffers shared by views, Blob and File contents and metadata.
/// A value with ImageBitmaps needs them made first: see [`value_to_js_with`].
pub fn value_to_js(value: &Value) -> Result<JsValue, CloneError> {
    value_to_js_with(value, Vec::new())
}

/// [`value_to_js`] for a value whose ImageBitmaps [`make_bitmaps`] made (in walk order).
pub fn value_to_js_with(value: &Value, bitmaps: Vec<JsValue>) -> Result<JsValue, CloneError> {
    let mut builder = Builder {
        objects: Vec::new(),
        path: Vec::new(),
        bitmaps: bitmaps.into_iter(),
    };
    let js = builder.build(value)?;
    if builder.bitmaps.next().is_some() {
        return Err(CloneError::new(
            "more ImageBitmaps than the value holds",
            &[],
        ));
    }
    Ok(js)
}

/// Makes the ImageBitmaps of `value` from their pixels, in walk order (asynchronously: never
/// inside a transaction that must stay active).
pub async fn make_bitmaps(value: &Value) -> Result<Vec<JsValue>, CloneError> {
    let mut sources = Vec::new();
    let mut value = value.clone();
    value.for_each_bitmap_mut(&mut |width, height, pixels| {
        sources.push((width, height, std::mem::take(pixels)))
    });
    let unmade = |e: JsValue| {
        CloneError::new(
            format!(
                "an ImageBitmap that could not be made ({})",
                super::error::describe(&e)
            ),
            &[],
        )
    };
    let mut made = Vec::with_capacity(sources.len());
    for (width, height, pixels) in sources {
        let promise = rewind_make_bitmap(&pixels, width, height).map_err(unmade)?;
        made.push(JsFuture::from(promise).await.map_err(unmade)?);
    }
    Ok(made)
}

/// A JavaScript string with exactly these code units (lone surrogates included).
pub fn text_to_js(text: &Text) -> JsValue {
    match text.as_str() {
        Some(s) => JsValue::from_str(s),
        None => {
            let units = text.to_utf16();
            let mut out = js_sys::JsString::from("");
            for chunk in units.chunks(4096) {
                out = out.concat(&js_sys::JsString::from_char_code(chunk).into());
            }
            out.into()
        }
    }
}

struct Builder {
    objects: Vec<Option<JsValue>>,
    path: Vec<String>,
    /// The value's ImageBitmaps, made beforehand, in walk order.
    bitmaps: std::vec::IntoIter<JsValue>,
}

impl Builder {
    fn fail(&self, what: impl Into<String>) -> CloneError {
        CloneError::new(what, &self.path)
    }

    fn thrown(&self, what: &str) -> impl Fn(JsValue) -> CloneError + '_ {
        let what = what.to_string();
        move |e| {
            CloneError::new(
                format!(
                    "{what} that could not be made ({})",
                    super::error::describe(&e)
                ),
                &self.path,
            )
        }
    }

    fn construct(&self, name: &str, args: &[JsValue]) -> Result<JsValue, CloneError> {
        let ctor = global_ctor(name)
            .ok_or_else(|| self.fail(format!("a {name} (this browser has no {name})")))?;
        let args: js_sys::Array = args.iter().collect();
        js_sys::Reflect::construct(&ctor, &args).map_err(self.thrown(name))
    }

    fn bigint(&self, digits: &str) -> Result<JsValue, CloneError> {
        js_sys::BigInt::new(&JsValue::from_str(digits))
            .map(JsValue::from)
            .map_err(|e| self.thrown("a BigInt")(e.into()))
    }

    fn set_prop(&self, target: &JsValue, key: &Text, value: &JsValue) -> Result<(), CloneError> {
        let key_js = text_to_js(key);
        let ok = if key.as_str() == Some("__proto__") {
            // Assignment would set the prototype; define an own property instead.
            self.define(target, &key_js, value, true, "a property")?
        } else {
            js_sys::Reflect::set(target, &key_js, value).map_err(self.thrown("a property"))?
        };
        if ok {
            Ok(())
        } else {
            Err(self.fail(format!("a property {key:?} that could not be set")))
        }
    }

    fn child(&mut self, segment: String, value: &Value) -> Result<JsValue, CloneError> {
        self.path.push(segment);
        let v = self.build(value);
        self.path.pop();
        v
    }

    fn build(&mut self, value: &Value) -> Result<JsValue, CloneError> {
        if self.path.len() > MAX_DEPTH {
            return Err(self.fail(format!("a value nested more than {MAX_DEPTH} levels deep")));
        }
        let id = self.objects.len();
        if value.is_object() {
            self.objects.push(None);
        }
        let js = self.build_inner(value, id)?;
        if value.is_object() {
            self.objects[id] = Some(js.clone());
        }
        Ok(js)
    }

    /// Registers a container before its children are built, so they can refer back to it.
    fn register(&mut self, id: usize, js: &JsValue) {
        if let Some(slot) = self.objects.get_mut(id) {
            *slot = Some(js.clone());
        }
    }

    fn build_inner(&mut self, value: &Value, id: usize) -> Result<JsValue, CloneError> {
        Ok(match value {
            Value::Undefined => JsValue::UNDEFINED,
            Value::Null => JsValue::NULL,
            Value::Bool(b) => JsValue::from_bool(*b),
            Value::Number(n) => JsValue::from_f64(n.0),
            Value::BigInt(s) => self.bigint(s)?,
            Value::String(t) => text_to_js(t),
            Value::Date(n) => js_sys::Date::new(&JsValue::from_f64(n.0)).into(),
            Value::RegExp { source, flags } => {
                self.construct("RegExp", &[text_to_js(source), JsValue::from_str(flags)])?
            }
            Value::BoxedString(t) => self.boxed(&text_to_js(t))?,
            Value::BoxedNumber(n) => self.boxed(&JsValue::from_f64(n.0))?,
            Value::BoxedBool(b) => self.boxed(&JsValue::from_bool(*b))?,
            Value::BoxedBigInt(s) => {
                let big = self.bigint(s)?;
                self.boxed(&big)?
            }
            Value::Error(e) => {
                let args = match &e.message {
                    Some(m) => vec![text_to_js(m)],
                    None => vec![],
                };
                let err = self.construct(e.kind.name(), &args)?;
                self.register(id, &err);
                if let Some(stack) = &e.stack {
                    self.define_hidden(&err, "stack", &text_to_js(stack))?;
                }
                if let Some(cause) = &e.cause {
                    let c = self.child(".cause".into(), cause)?;
                    self.define_hidden(&err, "cause", &c)?;
                }
                err
            }
            Value::ArrayBuffer(bytes) => js_sys::Uint8Array::from(bytes.as_slice()).buffer().into(),
            Value::View {
                kind,
                buffer,
                byte_offset,
                length,
            } => {
                let buffer = self.view_buffer(buffer)?;
                self.construct(
                    kind.js_name(),
                    &[
                        buffer,
                        JsValue::from_f64(*byte_offset as f64),
                        JsValue::from_f64(*length as f64),
                    ],
                )?
            }
            Value::Map(entries) => {
                let map = js_sys::Map::new();
                self.register(id, &map);
                for (i, (k, v)) in entries.iter().enumerate() {
                    let key = self.child(format!(".<key {i}>"), k)?;
                    let val = self.child(format!(".<value {i}>"), v)?;
                    map.set(&key, &val);
                }
                map.into()
            }
            Value::Set(items) => {
                let set = js_sys::Set::new(&JsValue::UNDEFINED);
                self.register(id, &set);
                for (i, v) in items.iter().enumerate() {
                    let item = self.child(format!(".<item {i}>"), v)?;
                    set.add(&item);
                }
                set.into()
            }
            Value::Array { length, props } => {
                let array: JsValue = js_sys::Array::new_with_length(*length).into();
                self.register(id, &array);
                self.build_props(&array, props)?;
                array
            }
            Value::Object(props) => {
                let obj: JsValue = js_sys::Object::new().into();
                self.register(id, &obj);
                self.build_props(&obj, props)?;
                obj
            }
            Value::Blob { mime, bytes } => {
                rewind_make_blob(bytes, mime).map_err(self.thrown("a Blob"))?
            }
            Value::File { .. } => self.file(value)?,
            Value::Ref(n) => match self.objects.get(*n as usize) {
                Some(Some(js)) => js.clone(),
                _ => return Err(self.fail(format!("a reference to object {n}, not yet made"))),
            },
            Value::ResizableArrayBuffer {
                bytes,
                max_byte_length,
            } => {
                let options = js_sys::Object::new();
                js_sys::Reflect::set(
                    &options,
                    &"maxByteLength".into(),
                    &JsValue::from_f64(*max_byte_length as f64),
                )
                .map_err(self.thrown("a resizable ArrayBuffer"))?;
                let buffer = self.construct(
                    "ArrayBuffer",
                    &[JsValue::from_f64(bytes.len() as f64), options.into()],
                )?;
                js_sys::Uint8Array::new(&buffer).copy_from(bytes);
                buffer
            }
            Value::TrackingView {
                kind,
                buffer,
                byte_offset,
            } => {
                let buffer = self.view_buffer(buffer)?;
                // No length: the view tracks its buffer's.
                self.construct(
                    kind.js_name(),
                    &[buffer, JsValue::from_f64(*byte_offset as f64)],
                )?
            }
            Value::DomPoint { read_only, coords } => {
                rewind_make_point(*read_only, &floats(coords)).map_err(self.thrown("a DOMPoint"))?
            }
            Value::DomRect { read_only, coords } => {
                rewind_make_rect(*read_only, &floats(coords)).map_err(self.thrown("a DOMRect"))?
            }
            Value::DomQuad(points) => {
                let coords: Vec<f64> = points.iter().flat_map(|p| floats(p)).collect();
                rewind_make_quad(&coords).map_err(self.thrown("a DOMQuad"))?
            }
            Value::DomMatrix {
                read_only,
                elements,
            } => rewind_make_matrix(*read_only, &floats(elements.elements()))
                .map_err(self.thrown("a DOMMatrix"))?,
            Value::ImageData {
                width,
                height,
                color_space,
                pixel_format,
                data,
            } => rewind_make_image_data(
                data,
                *width,
                *height,
                color_space.js_name(),
                pixel_format.js_name(),
            )
            .map_err(self.thrown("an ImageData"))?,
            Value::ImageBitmap { width, height, .. } => {
                let bitmap = self.bitmaps.next().ok_or_else(|| {
                    self.fail("an ImageBitmap that was not made before (make_bitmaps)")
                })?;
                let size = rewind_bitmap_size(&bitmap).map_err(self.thrown("an ImageBitmap"))?;
                if size.get(0).as_f64() != Some(f64::from(*width))
                    || size.get(1).as_f64() != Some(f64::from(*height))
                {
                    return Err(self.fail("an ImageBitmap made at another size"));
                }
                bitmap
            }
            Value::FileList(files) => {
                let items = js_sys::Array::new();
                for (i, f) in files.iter().enumerate() {
                    // The files of a list are not objects of their own (no number).
                    self.path.push(format!("[{i}]"));
                    let file = self.file(f);
                    self.path.pop();
                    items.push(&file?);
                }
                rewind_make_file_list(&items).map_err(self.thrown("a FileList"))?
            }
            Value::DomException { name, message } => {
                rewind_make_exception(&text_to_js(message), &text_to_js(name))
                    .map_err(self.thrown("a DOMException"))?
            }
        })
    }

    fn file(&self, value: &Value) -> Result<JsValue, CloneError> {
        let Value::File {
            name,
            mime,
            last_modified,
            bytes,
        } = value
        else {
            return Err(self.fail(format!("a {} where a File belongs", value.type_name())));
        };
        rewind_make_file(bytes, &text_to_js(name), mime, *last_modified as f64)
            .map_err(self.thrown("a File"))
    }

    /// A view's buffer, made (or found, when shared) and checked to be an ArrayBuffer.
    fn view_buffer(&mut self, buffer: &Value) -> Result<JsValue, CloneError> {
        let buffer = self.child(".buffer".into(), buffer)?;
        if !buffer.is_instance_of::<js_sys::ArrayBuffer>() {
            return Err(self.fail("a view whose buffer is not an ArrayBuffer"));
        }
        Ok(buffer)
    }

    fn boxed(&self, primitive: &JsValue) -> Result<JsValue, CloneError> {
        let object = global_ctor("Object").ok_or_else(|| self.fail("a boxed value"))?;
        let args: js_sys::Array = [primitive.clone()].iter().collect();
        js_sys::Reflect::apply(&object, &JsValue::UNDEFINED, &args)
            .map_err(self.thrown("a boxed value"))
    }

    fn define_hidden(
        &self,
        target: &JsValue,
        key: &str,
        value: &JsValue,
    ) -> Result<(), CloneError> {
        self.define(target, &JsValue::from_str(key), value, false, "an Error")?;
        Ok(())
    }

    /// Defines an own, writable, configurable property (enumerable or not), as
    /// `Object.defineProperty` does; whether it could be defined.
    fn define(
        &self,
        target: &JsValue,
        key: &JsValue,
        value: &JsValue,
        enumerable: bool,
        what: &str,
    ) -> Result<bool, CloneError> {
        let desc = js_sys::Object::new();
        for (k, v) in [
            ("value", value.clone()),
            ("writable", JsValue::TRUE),
            ("enumerable", JsValue::from_bool(enumerable)),
            ("configurable", JsValue::TRUE),
        ] {
            js_sys::Reflect::set(&desc, &JsValue::from_str(k), &v).map_err(self.thrown(what))?;
        }
        js_sys::Reflect::define_property::<JsValue>(target.unchecked_ref(), key, &desc)
            .map_err(self.thrown(what))
    }

    fn build_props(&mut self, target: &JsValue, props: &[(Text, Value)]) -> Result<(), CloneError> {
        for (key, v) in props {
            let js = self.child(format!(".{key}"), v)?;
            self.set_prop(target, key, &js)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// The fast path (`fastpath.js`): whole batches of plain records encoded and decoded in
// JavaScript, byte for byte as `crate::backup::codec` writes them.

#[wasm_bindgen(module = "/src/idb/fastpath.js")]
extern "C" {
    fn rewind_fast_encode(
        codec: &JsValue,
        keys: &JsValue,
        values: &JsValue,
        start: u32,
        end: u32,
        empty_blobs: bool,
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
/// index (`end` when all were).
pub fn encode_batch(
    keys: &JsValue,
    values: &JsValue,
    start: u32,
    end: u32,
    out: &mut Vec<u8>,
) -> u32 {
    encode_batch_with(keys, values, start, end, false, out)
}

/// [`encode_batch`] for checking what a restore wrote: Blobs and Files are encoded with their
/// bytes left out (empty), as [`js_to_value`] leaves them, so they stay on the fast path.
pub fn encode_batch_without_blob_bytes(
    keys: &JsValue,
    values: &JsValue,
    start: u32,
    end: u32,
    out: &mut Vec<u8>,
) -> u32 {
    encode_batch_with(keys, values, start, end, true, out)
}

fn encode_batch_with(
    keys: &JsValue,
    values: &JsValue,
    start: u32,
    end: u32,
    empty_blobs: bool,
    out: &mut Vec<u8>,
) -> u32 {
    // Room for about as much as the last batch took, so the encoder's buffer rarely grows.
    let hint = LAST_BATCH_BYTES.with(std::cell::Cell::get);
    let result = FAST_CODEC
        .with(|codec| rewind_fast_encode(codec, keys, values, start, end, empty_blobs, hint));
    let reached = result.get(0).as_f64().map_or(start, |n| n as u32);
    let bytes: js_sys::Uint8Array = result.get(1).unchecked_into();
    LAST_BATCH_BYTES.with(|last| last.set(bytes.length().min(64 << 20)));
    let from = out.len();
    out.resize(from + bytes.length() as usize, 0);
    bytes.copy_to(&mut out[from..]);
    reached
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
