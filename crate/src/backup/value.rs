//! A tree model of every value IndexedDB's structured clone can store.
//!
//! Objects (everything but primitives) are numbered in the order a depth-first, pre-order walk
//! first reaches them, starting at 0 for each top-level value; a later [`Value::Ref`] to that
//! number is the same object again, which is how shared and cyclic references are kept.

use std::fmt;

/// A number compared bit for bit, so `-0` and `NaN` survive and compare equal to themselves.
#[derive(Clone, Copy)]
pub struct Num(pub f64);

impl PartialEq for Num {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}
impl Eq for Num {}

impl fmt::Debug for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0.0 && self.0.is_sign_negative() {
            f.write_str("-0")
        } else {
            write!(f, "{:?}", self.0)
        }
    }
}

/// A JavaScript string: any sequence of UTF-16 code units, lone surrogates included.
/// Well-formed strings are kept as UTF-8, others as their code units.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Text(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Utf8(String),
    /// Only ever holds ill-formed UTF-16 (a lone surrogate somewhere).
    Utf16(Vec<u16>),
}

impl Text {
    pub fn from_utf16(units: Vec<u16>) -> Text {
        match String::from_utf16(&units) {
            Ok(s) => Text(Repr::Utf8(s)),
            Err(_) => Text(Repr::Utf16(units)),
        }
    }

    /// The string, when it is well-formed (no lone surrogates).
    pub fn as_str(&self) -> Option<&str> {
        match &self.0 {
            Repr::Utf8(s) => Some(s),
            Repr::Utf16(_) => None,
        }
    }

    /// The UTF-16 code units, when the string is not well-formed.
    pub fn ill_formed_units(&self) -> Option<&[u16]> {
        match &self.0 {
            Repr::Utf8(_) => None,
            Repr::Utf16(u) => Some(u),
        }
    }

    pub fn to_utf16(&self) -> Vec<u16> {
        match &self.0 {
            Repr::Utf8(s) => s.encode_utf16().collect(),
            Repr::Utf16(u) => u.clone(),
        }
    }

    /// For messages: lone surrogates become U+FFFD.
    pub fn to_string_lossy(&self) -> String {
        match &self.0 {
            Repr::Utf8(s) => s.clone(),
            Repr::Utf16(u) => String::from_utf16_lossy(u),
        }
    }

    pub fn is_empty(&self) -> bool {
        match &self.0 {
            Repr::Utf8(s) => s.is_empty(),
            Repr::Utf16(u) => u.is_empty(),
        }
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(Repr::Utf8(s.to_string()))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(Repr::Utf8(s))
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Utf8(s) => write!(f, "{s:?}"),
            Repr::Utf16(u) => write!(f, "utf16{u:?}"),
        }
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

/// The kinds of `ArrayBufferView`: every typed array, and `DataView`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViewKind {
    Int8,
    Uint8,
    Uint8Clamped,
    Int16,
    Uint16,
    Int32,
    Uint32,
    Float16,
    Float32,
    Float64,
    BigInt64,
    BigUint64,
    DataView,
}

impl ViewKind {
    pub const ALL: [ViewKind; 13] = [
        ViewKind::Int8,
        ViewKind::Uint8,
        ViewKind::Uint8Clamped,
        ViewKind::Int16,
        ViewKind::Uint16,
        ViewKind::Int32,
        ViewKind::Uint32,
        ViewKind::Float16,
        ViewKind::Float32,
        ViewKind::Float64,
        ViewKind::BigInt64,
        ViewKind::BigUint64,
        ViewKind::DataView,
    ];

    /// Bytes per element (1 for `DataView`, whose length counts bytes).
    pub fn element_size(self) -> u64 {
        match self {
            ViewKind::Int8 | ViewKind::Uint8 | ViewKind::Uint8Clamped | ViewKind::DataView => 1,
            ViewKind::Int16 | ViewKind::Uint16 | ViewKind::Float16 => 2,
            ViewKind::Int32 | ViewKind::Uint32 | ViewKind::Float32 => 4,
            ViewKind::Float64 | ViewKind::BigInt64 | ViewKind::BigUint64 => 8,
        }
    }

    /// The JavaScript constructor's name.
    pub fn js_name(self) -> &'static str {
        match self {
            ViewKind::Int8 => "Int8Array",
            ViewKind::Uint8 => "Uint8Array",
            ViewKind::Uint8Clamped => "Uint8ClampedArray",
            ViewKind::Int16 => "Int16Array",
            ViewKind::Uint16 => "Uint16Array",
            ViewKind::Int32 => "Int32Array",
            ViewKind::Uint32 => "Uint32Array",
            ViewKind::Float16 => "Float16Array",
            ViewKind::Float32 => "Float32Array",
            ViewKind::Float64 => "Float64Array",
            ViewKind::BigInt64 => "BigInt64Array",
            ViewKind::BigUint64 => "BigUint64Array",
            ViewKind::DataView => "DataView",
        }
    }

    pub fn from_js_name(name: &str) -> Option<ViewKind> {
        ViewKind::ALL.into_iter().find(|k| k.js_name() == name)
    }

    pub(crate) fn tag(self) -> u8 {
        self as u8
    }

    pub(crate) fn from_tag(tag: u8) -> Option<ViewKind> {
        ViewKind::ALL.get(tag as usize).copied()
    }
}

/// The error classes structured clone keeps (any other name comes back as `Error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    Error,
    EvalError,
    RangeError,
    ReferenceError,
    SyntaxError,
    TypeError,
    UriError,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::Error,
        ErrorKind::EvalError,
        ErrorKind::RangeError,
        ErrorKind::ReferenceError,
        ErrorKind::SyntaxError,
        ErrorKind::TypeError,
        ErrorKind::UriError,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Error => "Error",
            ErrorKind::EvalError => "EvalError",
            ErrorKind::RangeError => "RangeError",
            ErrorKind::ReferenceError => "ReferenceError",
            ErrorKind::SyntaxError => "SyntaxError",
            ErrorKind::TypeError => "TypeError",
            ErrorKind::UriError => "URIError",
        }
    }

    /// The kind structured clone gives an error of this `name` (unknown names: `Error`).
    pub fn from_name(name: &str) -> ErrorKind {
        ErrorKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .unwrap_or(ErrorKind::Error)
    }

    pub(crate) fn from_tag(tag: u8) -> Option<ErrorKind> {
        ErrorKind::ALL.get(tag as usize).copied()
    }
}

/// The color space of an `ImageData`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColorSpace {
    Srgb,
    DisplayP3,
}

impl ColorSpace {
    pub const ALL: [ColorSpace; 2] = [ColorSpace::Srgb, ColorSpace::DisplayP3];

    /// The name JavaScript uses (`colorSpace`).
    pub fn js_name(self) -> &'static str {
        match self {
            ColorSpace::Srgb => "srgb",
            ColorSpace::DisplayP3 => "display-p3",
        }
    }

    pub fn from_js_name(name: &str) -> Option<ColorSpace> {
        ColorSpace::ALL.into_iter().find(|c| c.js_name() == name)
    }

    pub(crate) fn from_tag(tag: u8) -> Option<ColorSpace> {
        ColorSpace::ALL.get(tag as usize).copied()
    }
}

/// How an `ImageData` stores its pixels (`pixelFormat`): 8-bit integers in a
/// `Uint8ClampedArray`, or half floats in a `Float16Array`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    RgbaUnorm8,
    RgbaFloat16,
}

impl PixelFormat {
    pub const ALL: [PixelFormat; 2] = [PixelFormat::RgbaUnorm8, PixelFormat::RgbaFloat16];

    pub fn js_name(self) -> &'static str {
        match self {
            PixelFormat::RgbaUnorm8 => "rgba-unorm8",
            PixelFormat::RgbaFloat16 => "rgba-float16",
        }
    }

    pub fn from_js_name(name: &str) -> Option<PixelFormat> {
        PixelFormat::ALL.into_iter().find(|c| c.js_name() == name)
    }

    /// Bytes per pixel.
    pub fn pixel_size(self) -> u64 {
        match self {
            PixelFormat::RgbaUnorm8 => 4,
            PixelFormat::RgbaFloat16 => 8,
        }
    }

    pub(crate) fn from_tag(tag: u8) -> Option<PixelFormat> {
        PixelFormat::ALL.get(tag as usize).copied()
    }
}

/// The elements of a `DOMMatrix`: `a`…`f` of a 2D matrix (`is2D`), or `m11`…`m44` row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matrix {
    TwoD([Num; 6]),
    ThreeD([Num; 16]),
}

impl Matrix {
    pub fn elements(&self) -> &[Num] {
        match self {
            Matrix::TwoD(e) => e,
            Matrix::ThreeD(e) => e,
        }
    }
}

/// An `Error` object as structured clone keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorValue {
    pub kind: ErrorKind,
    /// `None` when the error has no own `message`.
    pub message: Option<Text>,
    pub stack: Option<Text>,
    pub cause: Option<Box<Value>>,
}

/// One structured-clonable JavaScript value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Undefined,
    Null,
    Bool(bool),
    Number(Num),
    /// Decimal digits with an optional leading `-`, no leading zeros (`0` for zero).
    BigInt(String),
    String(Text),
    /// Milliseconds since the epoch; `NaN` for an invalid date.
    Date(Num),
    RegExp {
        source: Text,
        flags: String,
    },
    BoxedString(Text),
    BoxedNumber(Num),
    BoxedBool(bool),
    BoxedBigInt(String),
    Error(ErrorValue),
    ArrayBuffer(Vec<u8>),
    /// A typed array or `DataView` over `buffer` (an `ArrayBuffer` or a [`Value::Ref`] to
    /// one). `length` counts elements (bytes for a `DataView`).
    View {
        kind: ViewKind,
        buffer: Box<Value>,
        byte_offset: u64,
        length: u64,
    },
    Map(Vec<(Value, Value)>),
    Set(Vec<Value>),
    /// An array: its `length` and its own enumerable properties in order, index properties
    /// (as decimal strings) and others alike; missing indexes are holes.
    Array {
        length: u32,
        props: Vec<(Text, Value)>,
    },
    /// A plain object: own enumerable string-keyed properties in order (`__proto__`
    /// included). Structured clone reads objects without a prototype back as plain objects.
    Object(Vec<(Text, Value)>),
    Blob {
        mime: String,
        bytes: Vec<u8>,
    },
    File {
        name: Text,
        mime: String,
        /// Milliseconds since the epoch.
        last_modified: i64,
        bytes: Vec<u8>,
    },
    /// The object numbered so, reached earlier in this value.
    Ref(u32),
    /// An `ArrayBuffer` made resizable (`new ArrayBuffer(n, { maxByteLength })`): its bytes now
    /// and the size it may grow to (at least as many bytes).
    ResizableArrayBuffer {
        bytes: Vec<u8>,
        max_byte_length: u64,
    },
    /// A length-tracking typed array or `DataView`: made over a resizable buffer (a
    /// [`Value::ResizableArrayBuffer`] or a reference to one) without a length, so its length
    /// follows the buffer's.
    TrackingView {
        kind: ViewKind,
        buffer: Box<Value>,
        byte_offset: u64,
    },
    /// `DOMPoint` (or `DOMPointReadOnly`): `x`, `y`, `z`, `w`.
    DomPoint {
        read_only: bool,
        coords: [Num; 4],
    },
    /// `DOMRect` (or `DOMRectReadOnly`): `x`, `y`, `width`, `height`.
    DomRect {
        read_only: bool,
        coords: [Num; 4],
    },
    /// `DOMQuad`: `p1`…`p4`, each `x`, `y`, `z`, `w` (its points are not objects of their own:
    /// structured clone makes new ones).
    DomQuad([[Num; 4]; 4]),
    /// `DOMMatrix` (or `DOMMatrixReadOnly`).
    DomMatrix {
        read_only: bool,
        elements: Matrix,
    },
    /// `ImageData`: `width` × `height` pixels, `data` their bytes (4 or 8 per pixel, by format).
    ImageData {
        width: u32,
        height: u32,
        color_space: ColorSpace,
        pixel_format: PixelFormat,
        data: Vec<u8>,
    },
    /// `ImageBitmap`: `width` × `height` pixels, as a 2D canvas reads them (RGBA, 8 bits each,
    /// not premultiplied, sRGB).
    ImageBitmap {
        width: u32,
        height: u32,
        pixels: Vec<u8>,
    },
    /// `FileList`: its files ([`Value::File`]s, not objects of their own: structured clone
    /// makes new ones).
    FileList(Vec<Value>),
    /// `DOMException`: its `name` and `message` (structured clone keeps no more).
    DomException {
        name: Text,
        message: Text,
    },
}

impl Value {
    pub fn number(n: f64) -> Value {
        Value::Number(Num(n))
    }

    pub fn string(s: &str) -> Value {
        Value::String(Text::from(s))
    }

    /// Whether this is a JavaScript object (and so takes a number for references).
    pub fn is_object(&self) -> bool {
        !matches!(
            self,
            Value::Undefined
                | Value::Null
                | Value::Bool(_)
                | Value::Number(_)
                | Value::BigInt(_)
                | Value::String(_)
                | Value::Ref(_)
        )
    }

    /// A short name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Undefined => "undefined",
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::BigInt(_) => "bigint",
            Value::String(_) => "string",
            Value::Date(_) => "Date",
            Value::RegExp { .. } => "RegExp",
            Value::BoxedString(_) => "String object",
            Value::BoxedNumber(_) => "Number object",
            Value::BoxedBool(_) => "Boolean object",
            Value::BoxedBigInt(_) => "BigInt object",
            Value::Error(_) => "Error",
            Value::ArrayBuffer(_) => "ArrayBuffer",
            Value::View { kind, .. } => kind.js_name(),
            Value::Map(_) => "Map",
            Value::Set(_) => "Set",
            Value::Array { .. } => "Array",
            Value::Object(_) => "Object",
            Value::Blob { .. } => "Blob",
            Value::File { .. } => "File",
            Value::Ref(_) => "reference",
            Value::ResizableArrayBuffer { .. } => "resizable ArrayBuffer",
            Value::TrackingView { kind, .. } => match kind {
                ViewKind::DataView => "length-tracking DataView",
                _ => "length-tracking typed array",
            },
            Value::DomPoint {
                read_only: false, ..
            } => "DOMPoint",
            Value::DomPoint {
                read_only: true, ..
            } => "DOMPointReadOnly",
            Value::DomRect {
                read_only: false, ..
            } => "DOMRect",
            Value::DomRect {
                read_only: true, ..
            } => "DOMRectReadOnly",
            Value::DomQuad(_) => "DOMQuad",
            Value::DomMatrix {
                read_only: false, ..
            } => "DOMMatrix",
            Value::DomMatrix {
                read_only: true, ..
            } => "DOMMatrixReadOnly",
            Value::ImageData { .. } => "ImageData",
            Value::ImageBitmap { .. } => "ImageBitmap",
            Value::FileList(_) => "FileList",
            Value::DomException { .. } => "DOMException",
        }
    }

    /// Whether this is a valid IndexedDB key as IndexedDB hands keys back: a number (not
    /// NaN), string, valid Date, binary (ArrayBuffer or view) or an array of keys.
    pub fn is_valid_key(&self) -> bool {
        self.is_valid_key_at(0)
    }

    fn is_valid_key_at(&self, depth: usize) -> bool {
        if depth > super::codec::MAX_DEPTH {
            return false;
        }
        match self {
            Value::Number(n) | Value::Date(n) => !n.0.is_nan(),
            Value::String(_) | Value::ArrayBuffer(_) => true,
            Value::View { buffer, .. } => matches!(**buffer, Value::ArrayBuffer(_)),
            Value::Array { length, props } => {
                props.len() == *length as usize
                    && props.iter().enumerate().all(|(i, (k, v))| {
                        k.as_str() == Some(i.to_string().as_str()) && v.is_valid_key_at(depth + 1)
                    })
            }
            _ => false,
        }
    }

    /// Calls `f` with every value inside this one (itself first), in the order of a
    /// pre-order walk: the order `idb::clone` meets them in.
    pub fn visit_mut(&mut self, f: &mut dyn FnMut(&mut Value)) {
        f(self);
        match self {
            Value::Error(e) => {
                if let Some(c) = e.cause.as_deref_mut() {
                    c.visit_mut(f)
                }
            }
            Value::Map(entries) => {
                for (k, v) in entries {
                    k.visit_mut(f);
                    v.visit_mut(f);
                }
            }
            Value::Set(items) | Value::FileList(items) => {
                items.iter_mut().for_each(|v| v.visit_mut(f))
            }
            Value::Array { props, .. } | Value::Object(props) => {
                props.iter_mut().for_each(|(_, v)| v.visit_mut(f))
            }
            _ => {}
        }
    }

    /// Whether an ImageBitmap is anywhere in this value.
    pub fn holds_bitmap(&self) -> bool {
        match self {
            Value::ImageBitmap { .. } => true,
            Value::Error(e) => e.cause.as_deref().is_some_and(Value::holds_bitmap),
            Value::Map(entries) => entries
                .iter()
                .any(|(k, v)| k.holds_bitmap() || v.holds_bitmap()),
            Value::Set(items) => items.iter().any(Value::holds_bitmap),
            Value::Array { props, .. } | Value::Object(props) => {
                props.iter().any(|(_, v)| v.holds_bitmap())
            }
            _ => false,
        }
    }

    /// Calls `f` with the bytes of every Blob and File (those of FileLists included), in the
    /// order of a pre-order walk, so bytes read later can be filled in.
    pub fn for_each_blob_mut(&mut self, f: &mut dyn FnMut(&mut Vec<u8>)) {
        self.visit_mut(&mut |v| {
            if let Value::Blob { bytes, .. } | Value::File { bytes, .. } = v {
                f(bytes)
            }
        })
    }

    /// Calls `f` with the width, height and pixels of every ImageBitmap, in the order of a
    /// pre-order walk, so pixels read later can be filled in.
    pub fn for_each_bitmap_mut(&mut self, f: &mut dyn FnMut(u32, u32, &mut Vec<u8>)) {
        self.visit_mut(&mut |v| {
            if let Value::ImageBitmap {
                width,
                height,
                pixels,
            } = v
            {
                f(*width, *height, pixels)
            }
        })
    }
}
