//! The compact binary encoding of a [`Value`]: a tag byte, LEB128 varints and raw bytes.
//!
//! Decoding treats its input as hostile: every length is checked against the bytes that are
//! left before anything is allocated, nesting is capped at [`MAX_DEPTH`], and a reference may
//! only name an object that was already decoded. See `docs/backup-format.md`.

use super::error::BackupError;
use super::value::{
    ColorSpace, ErrorKind, ErrorValue, Matrix, Num, PixelFormat, Text, Value, ViewKind,
};

/// The deepest nesting a value may have (objects inside objects).
pub const MAX_DEPTH: usize = 256;

const T_UNDEFINED: u8 = 0x00;
const T_NULL: u8 = 0x01;
const T_FALSE: u8 = 0x02;
const T_TRUE: u8 = 0x03;
const T_INT: u8 = 0x04;
const T_FLOAT: u8 = 0x05;
const T_BIGINT: u8 = 0x06;
const T_STRING: u8 = 0x07;
const T_DATE: u8 = 0x10;
const T_REGEXP: u8 = 0x11;
const T_BOXED_STRING: u8 = 0x12;
const T_BOXED_NUMBER: u8 = 0x13;
const T_BOXED_FALSE: u8 = 0x14;
const T_BOXED_TRUE: u8 = 0x15;
const T_BOXED_BIGINT: u8 = 0x16;
const T_ERROR: u8 = 0x17;
const T_ARRAY_BUFFER: u8 = 0x18;
const T_VIEW: u8 = 0x19;
const T_MAP: u8 = 0x1A;
const T_SET: u8 = 0x1B;
const T_ARRAY: u8 = 0x1C;
const T_OBJECT: u8 = 0x1D;
const T_BLOB: u8 = 0x1E;
const T_FILE: u8 = 0x1F;
const T_REF: u8 = 0x20;
// Format version 2.
const T_RESIZABLE_BUFFER: u8 = 0x21;
const T_TRACKING_VIEW: u8 = 0x22;
const T_DOM_POINT: u8 = 0x23;
const T_DOM_RECT: u8 = 0x24;
const T_DOM_QUAD: u8 = 0x25;
const T_DOM_MATRIX: u8 = 0x26;
const T_IMAGE_DATA: u8 = 0x27;
const T_IMAGE_BITMAP: u8 = 0x28;
const T_FILE_LIST: u8 = 0x29;
const T_DOM_EXCEPTION: u8 = 0x2A;
// Format version 3, in chunks only: Blobs and Files whose bytes are a part of the file.
const T_BLOB_PART: u8 = 0x2B;
const T_FILE_PART: u8 = 0x2C;
const T_FILE_LIST_PARTS: u8 = 0x2D;
const FILE_INLINE: u8 = 0;
const FILE_IN_PART: u8 = 1;

/// Whether a tag starts an object (which takes the next object number).
fn is_object_tag(tag: u8) -> bool {
    (T_DATE..T_REF).contains(&tag) || (T_RESIZABLE_BUFFER..=T_FILE_LIST_PARTS).contains(&tag)
}

/// A Blob or File of a value whose bytes are not in the value's encoding but in a part of the
/// file of their own. `blob` counts the value's Blobs and Files (those of FileLists included)
/// from 0 in the order of a depth-first pre-order walk — the order of
/// [`Value::for_each_blob_mut`]; the value itself holds it with no bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfLineBlob {
    pub blob: usize,
    pub len: u64,
}

/// The Blobs of one value as encoding or decoding meets them.
#[derive(Default)]
struct Blobs {
    /// Whether parts may be referred to at all (only in the records of a chunk).
    parts_allowed: bool,
    /// Blobs and Files met so far.
    seen: usize,
    /// Writing: the ones to put out of line, in walk order.
    out_of_line: Vec<OutOfLineBlob>,
    /// The parts referred to so far, in walk order.
    parts: Vec<OutOfLineBlob>,
}

impl Blobs {
    /// Writing: whether the next Blob goes out of line, and then its length.
    fn next_for_writing(&mut self, inline_len: usize) -> Result<Option<u64>, BackupError> {
        let ordinal = self.seen;
        self.seen += 1;
        let Some(&part) = self.out_of_line.get(self.parts.len()) else {
            return Ok(None);
        };
        if part.blob != ordinal {
            return Ok(None);
        }
        if inline_len != 0 {
            return Err(BackupError::invalid(
                "a Blob written out of line also carries its bytes",
            ));
        }
        self.parts.push(part);
        Ok(Some(part.len))
    }

    /// Whether the next `n` Blobs hold one to write out of line.
    fn any_out_of_line_among_next(&self, n: usize) -> bool {
        self.out_of_line
            .get(self.parts.len())
            .is_some_and(|p| p.blob < self.seen.saturating_add(n))
    }

    /// Reading: a part of `len` bytes referred to by the next Blob.
    fn read_part(&mut self, len: u64) -> Result<(), BackupError> {
        if !self.parts_allowed {
            return Err(BackupError::corrupt(
                "a Blob refers to a part of the file outside a chunk",
            ));
        }
        self.parts.push(OutOfLineBlob {
            blob: self.seen,
            len,
        });
        self.seen += 1;
        Ok(())
    }
}

pub(crate) const KEY_INDEX: u8 = 0;
pub(crate) const KEY_TEXT: u8 = 1;

/// The tags the browser's fast path (`idb/fastpath.js`) reads and writes, by the names it
/// uses: it takes them from here, so they are defined once.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) const FAST_PATH_TAGS: [(&str, u8); 15] = [
    ("undefined", T_UNDEFINED),
    ("null", T_NULL),
    ("false", T_FALSE),
    ("true", T_TRUE),
    ("int", T_INT),
    ("float", T_FLOAT),
    ("string", T_STRING),
    ("date", T_DATE),
    ("array", T_ARRAY),
    ("object", T_OBJECT),
    ("blob", T_BLOB),
    ("file", T_FILE),
    ("ref", T_REF),
    ("blobPart", T_BLOB_PART),
    ("filePart", T_FILE_PART),
];

const ERR_MESSAGE: u8 = 1;
const ERR_STACK: u8 = 2;
const ERR_CAUSE: u8 = 4;

const GEOMETRY_READ_ONLY: u8 = 1;
const MATRIX_2D: u8 = 2;

/// Integers up to this magnitude are exact in an f64 and written as varints.
const MAX_SAFE: f64 = 9_007_199_254_740_992.0;
/// The largest array index (2^32 - 2).
pub(crate) const MAX_INDEX: u64 = 4_294_967_294;

/// What a view needs to know of its buffer.
#[derive(Clone, Copy)]
struct Buffer {
    len: u64,
    resizable: bool,
}

impl Buffer {
    /// The buffer `value` is: an ArrayBuffer of either kind, or a reference to one.
    fn of(value: &Value, ids: &Ids) -> Option<Buffer> {
        match value {
            Value::ArrayBuffer(b) => Some(Buffer {
                len: b.len() as u64,
                resizable: false,
            }),
            Value::ResizableArrayBuffer { bytes, .. } => Some(Buffer {
                len: bytes.len() as u64,
                resizable: true,
            }),
            Value::Ref(id) => ids.objects.get(*id as usize).copied().flatten(),
            _ => None,
        }
    }
}

/// Objects numbered so far in one top-level value: `Some` for an ArrayBuffer.
#[derive(Default)]
struct Ids {
    objects: Vec<Option<Buffer>>,
    blobs: Blobs,
}

impl Ids {
    fn add(&mut self, buffer: Option<Buffer>) {
        self.objects.push(buffer);
    }
    fn next(&self) -> usize {
        self.objects.len()
    }
}

// ---------------------------------------------------------------------------------------
// Writing

pub(crate) fn write_varint(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn unzigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn write_text(out: &mut Vec<u8>, text: &Text) {
    match text.as_str() {
        Some(s) => {
            write_varint(out, (s.len() as u64) << 1);
            out.extend_from_slice(s.as_bytes());
        }
        None => {
            let units = text.to_utf16();
            write_varint(out, ((units.len() as u64) << 1) | 1);
            for u in units {
                out.extend_from_slice(&u.to_le_bytes());
            }
        }
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    write_varint(out, (s.len() as u64) << 1);
    out.extend_from_slice(s.as_bytes());
}

fn write_f64(out: &mut Vec<u8>, n: f64) {
    out.extend_from_slice(&n.to_le_bytes());
}

fn write_number(out: &mut Vec<u8>, n: f64) {
    let integral = n.fract() == 0.0 && n.abs() <= MAX_SAFE && !(n == 0.0 && n.is_sign_negative());
    if integral {
        out.push(T_INT);
        write_varint(out, zigzag(n as i64));
    } else {
        out.push(T_FLOAT);
        write_f64(out, n);
    }
}

fn canonical_index(key: &Text) -> Option<u64> {
    let s = key.as_str()?;
    if s.is_empty() || s.len() > 10 || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u64>().ok().filter(|&n| n <= MAX_INDEX)
}

fn write_key(out: &mut Vec<u8>, key: &Text) {
    match canonical_index(key) {
        Some(i) => {
            out.push(KEY_INDEX);
            write_varint(out, i);
        }
        None => {
            out.push(KEY_TEXT);
            write_text(out, key);
        }
    }
}

/// Appends the encoding of `value` (its own object numbering starts at 0).
pub fn encode_value(value: &Value, out: &mut Vec<u8>) -> Result<(), BackupError> {
    let mut ids = Ids::default();
    write_value(value, out, &mut ids, 0)
}

/// Appends the encoding of `value` as a chunk holds it: the Blobs `out_of_line` names (in walk
/// order, each holding no bytes in `value`) as references to parts of their lengths.
pub(crate) fn encode_value_with_parts(
    value: &Value,
    out_of_line: &[OutOfLineBlob],
    out: &mut Vec<u8>,
) -> Result<(), BackupError> {
    if out_of_line.windows(2).any(|w| w[0].blob >= w[1].blob) {
        return Err(BackupError::invalid(
            "the out-of-line Blobs of a record are not in walk order",
        ));
    }
    let mut ids = Ids::default();
    ids.blobs.parts_allowed = true;
    ids.blobs.out_of_line = out_of_line.to_vec();
    write_value(value, out, &mut ids, 0)?;
    if ids.blobs.parts.len() != out_of_line.len() {
        return Err(BackupError::invalid(format!(
            "an out-of-line Blob is not among the record's {} Blobs",
            ids.blobs.seen
        )));
    }
    Ok(())
}

fn write_props(
    props: &[(Text, Value)],
    out: &mut Vec<u8>,
    ids: &mut Ids,
    depth: usize,
) -> Result<(), BackupError> {
    write_varint(out, props.len() as u64);
    for (k, v) in props {
        write_key(out, k);
        write_value(v, out, ids, depth + 1)?;
    }
    Ok(())
}

fn check_bigint(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && s != "-0"
}

fn check_mime(s: &str) -> bool {
    s.bytes()
        .all(|b| (0x20..=0x7e).contains(&b) && !b.is_ascii_uppercase())
}

fn check_flags(s: &str) -> bool {
    s.len() <= 16 && s.bytes().all(|b| b.is_ascii_alphabetic())
}

fn write_value(
    value: &Value,
    out: &mut Vec<u8>,
    ids: &mut Ids,
    depth: usize,
) -> Result<(), BackupError> {
    if depth > MAX_DEPTH {
        return Err(BackupError::TooDeep { limit: MAX_DEPTH });
    }
    if value.is_object() {
        let buffer = Buffer::of(value, ids);
        ids.add(buffer);
    }
    // Only the containers recurse, in small frames of their own.
    match value {
        Value::Error(e) => write_error(e, out, ids, depth),
        Value::View {
            kind,
            buffer,
            byte_offset,
            length,
        } => write_view(*kind, buffer, *byte_offset, Some(*length), out, ids, depth),
        Value::TrackingView {
            kind,
            buffer,
            byte_offset,
        } => write_view(*kind, buffer, *byte_offset, None, out, ids, depth),
        Value::Map(entries) => {
            out.push(T_MAP);
            write_varint(out, entries.len() as u64);
            for (k, v) in entries {
                write_value(k, out, ids, depth + 1)?;
                write_value(v, out, ids, depth + 1)?;
            }
            Ok(())
        }
        Value::Set(items) => {
            out.push(T_SET);
            write_varint(out, items.len() as u64);
            for v in items {
                write_value(v, out, ids, depth + 1)?;
            }
            Ok(())
        }
        Value::Array { length, props } => {
            // The reader refuses an element past the length; never write one.
            let past_length = props
                .iter()
                .any(|(k, _)| canonical_index(k).is_some_and(|i| i >= u64::from(*length)));
            if past_length {
                return Err(BackupError::invalid(
                    "an array has an element past its length",
                ));
            }
            out.push(T_ARRAY);
            write_varint(out, u64::from(*length));
            write_props(props, out, ids, depth)
        }
        Value::Object(props) => {
            out.push(T_OBJECT);
            write_props(props, out, ids, depth)
        }
        Value::DomPoint { .. }
        | Value::DomRect { .. }
        | Value::DomQuad(_)
        | Value::DomMatrix { .. }
        | Value::ImageData { .. }
        | Value::ImageBitmap { .. }
        | Value::FileList(_)
        | Value::DomException { .. }
        | Value::ResizableArrayBuffer { .. } => write_platform(value, out, &mut ids.blobs),
        _ => write_leaf(value, out, ids),
    }
}

fn write_error(
    e: &ErrorValue,
    out: &mut Vec<u8>,
    ids: &mut Ids,
    depth: usize,
) -> Result<(), BackupError> {
    out.push(T_ERROR);
    out.push(e.kind as u8);
    let flags = if e.message.is_some() { ERR_MESSAGE } else { 0 }
        | if e.stack.is_some() { ERR_STACK } else { 0 }
        | if e.cause.is_some() { ERR_CAUSE } else { 0 };
    out.push(flags);
    if let Some(m) = &e.message {
        write_text(out, m);
    }
    if let Some(s) = &e.stack {
        write_text(out, s);
    }
    if let Some(c) = &e.cause {
        write_value(c, out, ids, depth + 1)?;
    }
    Ok(())
}

/// A view of fixed `length`, or (`None`) a length-tracking one.
fn write_view(
    kind: ViewKind,
    buffer: &Value,
    byte_offset: u64,
    length: Option<u64>,
    out: &mut Vec<u8>,
    ids: &mut Ids,
    depth: usize,
) -> Result<(), BackupError> {
    let info = Buffer::of(buffer, ids).ok_or_else(|| {
        BackupError::invalid(match buffer {
            Value::Ref(_) => "a view refers to something that is not an ArrayBuffer",
            _ => "a view's buffer is not an ArrayBuffer",
        })
    })?;
    match length {
        Some(length) => check_view(kind, byte_offset, length, info.len),
        None => check_tracking_view(kind, byte_offset, info),
    }
    .map_err(BackupError::invalid)?;
    out.push(if length.is_some() {
        T_VIEW
    } else {
        T_TRACKING_VIEW
    });
    out.push(kind.tag());
    write_value(buffer, out, ids, depth + 1)?;
    write_varint(out, byte_offset);
    if let Some(length) = length {
        write_varint(out, length);
    }
    Ok(())
}

fn check_tracking_view(kind: ViewKind, offset: u64, buffer: Buffer) -> Result<(), String> {
    if !buffer.resizable {
        return Err(format!(
            "a length-tracking {} is over an ArrayBuffer that is not resizable",
            kind.js_name()
        ));
    }
    check_view(kind, offset, 0, buffer.len)
}

/// The number of bytes `width` × `height` pixels of `pixel_size` bytes take, if they are
/// an image at all (neither side 0, and no overflow).
fn image_len(width: u32, height: u32, pixel_size: u64) -> Option<u64> {
    if width == 0 || height == 0 {
        return None;
    }
    u64::from(width)
        .checked_mul(u64::from(height))?
        .checked_mul(pixel_size)
}

/// A File's payload; `part` is the length of its part when its bytes are out of line.
fn write_file(
    out: &mut Vec<u8>,
    name: &Text,
    mime: &str,
    last_modified: i64,
    bytes: &[u8],
    part: Option<u64>,
) -> Result<(), BackupError> {
    if !check_mime(mime) {
        return Err(BackupError::invalid(format!("{mime:?} is not a File type")));
    }
    write_text(out, name);
    write_str(out, mime);
    write_varint(out, zigzag(last_modified));
    match part {
        None => write_bytes(out, bytes),
        Some(len) => write_varint(out, len),
    }
    Ok(())
}

fn write_f64s(out: &mut Vec<u8>, numbers: &[Num]) {
    for n in numbers {
        write_f64(out, n.0);
    }
}

/// The platform objects of format version 2 (none of them holds another value).
#[inline(never)]
fn write_platform(value: &Value, out: &mut Vec<u8>, blobs: &mut Blobs) -> Result<(), BackupError> {
    match value {
        Value::ResizableArrayBuffer {
            bytes,
            max_byte_length,
        } => {
            if (bytes.len() as u64) > *max_byte_length {
                return Err(BackupError::invalid(
                    "a resizable ArrayBuffer is longer than its maximum",
                ));
            }
            out.push(T_RESIZABLE_BUFFER);
            write_varint(out, *max_byte_length);
            write_bytes(out, bytes);
        }
        Value::DomPoint { read_only, coords } | Value::DomRect { read_only, coords } => {
            out.push(if matches!(value, Value::DomPoint { .. }) {
                T_DOM_POINT
            } else {
                T_DOM_RECT
            });
            out.push(if *read_only { GEOMETRY_READ_ONLY } else { 0 });
            write_f64s(out, coords);
        }
        Value::DomQuad(points) => {
            out.push(T_DOM_QUAD);
            for p in points {
                write_f64s(out, p);
            }
        }
        Value::DomMatrix {
            read_only,
            elements,
        } => {
            out.push(T_DOM_MATRIX);
            let two_d = matches!(elements, Matrix::TwoD(_));
            out.push(
                if *read_only { GEOMETRY_READ_ONLY } else { 0 } | if two_d { MATRIX_2D } else { 0 },
            );
            write_f64s(out, elements.elements());
        }
        Value::ImageData {
            width,
            height,
            color_space,
            pixel_format,
            data,
        } => {
            if image_len(*width, *height, pixel_format.pixel_size()) != Some(data.len() as u64) {
                return Err(BackupError::invalid(format!(
                    "an ImageData of {width}×{height} pixels holds {} bytes",
                    data.len()
                )));
            }
            out.push(T_IMAGE_DATA);
            write_varint(out, u64::from(*width));
            write_varint(out, u64::from(*height));
            out.push(*color_space as u8);
            out.push(*pixel_format as u8);
            write_bytes(out, data);
        }
        Value::ImageBitmap {
            width,
            height,
            pixels,
        } => {
            if image_len(*width, *height, 4) != Some(pixels.len() as u64) {
                return Err(BackupError::invalid(format!(
                    "an ImageBitmap of {width}×{height} pixels holds {} bytes",
                    pixels.len()
                )));
            }
            out.push(T_IMAGE_BITMAP);
            write_varint(out, u64::from(*width));
            write_varint(out, u64::from(*height));
            write_bytes(out, pixels);
        }
        Value::FileList(files) => {
            let with_parts = blobs.any_out_of_line_among_next(files.len());
            out.push(if with_parts {
                T_FILE_LIST_PARTS
            } else {
                T_FILE_LIST
            });
            write_varint(out, files.len() as u64);
            for file in files {
                let Value::File {
                    name,
                    mime,
                    last_modified,
                    bytes,
                } = file
                else {
                    return Err(BackupError::invalid(format!(
                        "a FileList holds a {}, not a File",
                        file.type_name()
                    )));
                };
                let part = blobs.next_for_writing(bytes.len())?;
                if with_parts {
                    out.push(if part.is_some() {
                        FILE_IN_PART
                    } else {
                        FILE_INLINE
                    });
                }
                write_file(out, name, mime, *last_modified, bytes, part)?;
            }
        }
        Value::DomException { name, message } => {
            out.push(T_DOM_EXCEPTION);
            write_text(out, name);
            write_text(out, message);
        }
        _ => return Err(BackupError::invalid("a value reached the wrong writer")),
    }
    Ok(())
}

#[inline(never)]
fn write_leaf(value: &Value, out: &mut Vec<u8>, ids: &mut Ids) -> Result<(), BackupError> {
    match value {
        Value::Undefined => out.push(T_UNDEFINED),
        Value::Null => out.push(T_NULL),
        Value::Bool(false) => out.push(T_FALSE),
        Value::Bool(true) => out.push(T_TRUE),
        Value::Number(n) => write_number(out, n.0),
        Value::BigInt(s) | Value::BoxedBigInt(s) => {
            if !check_bigint(s) {
                return Err(BackupError::invalid(format!("{s:?} is not a BigInt")));
            }
            out.push(if matches!(value, Value::BigInt(_)) {
                T_BIGINT
            } else {
                T_BOXED_BIGINT
            });
            write_str(out, s);
        }
        Value::String(t) => {
            out.push(T_STRING);
            write_text(out, t);
        }
        Value::Date(n) => {
            out.push(T_DATE);
            write_f64(out, n.0);
        }
        Value::RegExp { source, flags } => {
            if !check_flags(flags) {
                return Err(BackupError::invalid(format!(
                    "{flags:?} are not regular expression flags"
                )));
            }
            out.push(T_REGEXP);
            write_text(out, source);
            write_str(out, flags);
        }
        Value::BoxedString(t) => {
            out.push(T_BOXED_STRING);
            write_text(out, t);
        }
        Value::BoxedNumber(n) => {
            out.push(T_BOXED_NUMBER);
            write_f64(out, n.0);
        }
        Value::BoxedBool(b) => out.push(if *b { T_BOXED_TRUE } else { T_BOXED_FALSE }),
        Value::ArrayBuffer(bytes) => {
            out.push(T_ARRAY_BUFFER);
            write_bytes(out, bytes);
        }
        Value::Blob { mime, bytes } => {
            if !check_mime(mime) {
                return Err(BackupError::invalid(format!("{mime:?} is not a Blob type")));
            }
            match ids.blobs.next_for_writing(bytes.len())? {
                None => {
                    out.push(T_BLOB);
                    write_str(out, mime);
                    write_bytes(out, bytes);
                }
                Some(len) => {
                    out.push(T_BLOB_PART);
                    write_str(out, mime);
                    write_varint(out, len);
                }
            }
        }
        Value::File {
            name,
            mime,
            last_modified,
            bytes,
        } => {
            let part = ids.blobs.next_for_writing(bytes.len())?;
            out.push(if part.is_some() { T_FILE_PART } else { T_FILE });
            let start = out.len();
            write_file(out, name, mime, *last_modified, bytes, part).inspect_err(|_| {
                out.truncate(start - 1);
            })?;
        }
        Value::Ref(id) => {
            if *id as usize >= ids.next() {
                return Err(BackupError::invalid(format!(
                    "reference {id} points to an object not yet written"
                )));
            }
            out.push(T_REF);
            write_varint(out, u64::from(*id));
        }
        _ => return Err(BackupError::invalid("a container reached the leaf writer")),
    }
    Ok(())
}

fn check_view(kind: ViewKind, offset: u64, length: u64, buffer_len: u64) -> Result<(), String> {
    let size = kind.element_size();
    if offset % size != 0 {
        return Err(format!(
            "a {} starts at byte {offset}, not a multiple of {size}",
            kind.js_name()
        ));
    }
    let end = length
        .checked_mul(size)
        .and_then(|b| b.checked_add(offset))
        .ok_or_else(|| format!("a {} is impossibly long", kind.js_name()))?;
    if end > buffer_len {
        return Err(format!(
            "a {} reaches byte {end} of an ArrayBuffer of {buffer_len} bytes",
            kind.js_name()
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Reading

/// A cursor over untrusted bytes; every read is bounds-checked.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub(crate) fn byte(&mut self) -> Result<u8, BackupError> {
        let b = *self
            .data
            .get(self.pos)
            .ok_or_else(|| BackupError::corrupt("a value ends in the middle"))?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn take(&mut self, n: u64) -> Result<&'a [u8], BackupError> {
        if n > self.remaining() as u64 {
            return Err(BackupError::corrupt(format!(
                "a length of {n} bytes is longer than the {} bytes left",
                self.remaining()
            )));
        }
        let start = self.pos;
        self.pos += n as usize;
        Ok(&self.data[start..self.pos])
    }

    pub(crate) fn varint(&mut self) -> Result<u64, BackupError> {
        let mut n: u64 = 0;
        for i in 0..10 {
            let b = self.byte()?;
            let part = u64::from(b & 0x7f);
            if i == 9 && part > 1 {
                return Err(BackupError::corrupt("a number is too large"));
            }
            n |= part << (7 * i);
            if b & 0x80 == 0 {
                if i > 0 && b == 0 {
                    return Err(BackupError::corrupt("a number is not in its shortest form"));
                }
                return Ok(n);
            }
        }
        Err(BackupError::corrupt("a number is too long"))
    }

    /// A count of items that each take at least `min_size` bytes.
    fn count(&mut self, min_size: u64) -> Result<u64, BackupError> {
        let n = self.varint()?;
        if n.saturating_mul(min_size) > self.remaining() as u64 {
            return Err(BackupError::corrupt(format!(
                "a count of {n} items does not fit in the {} bytes left",
                self.remaining()
            )));
        }
        Ok(n)
    }

    fn f64(&mut self) -> Result<f64, BackupError> {
        let bytes = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(bytes);
        Ok(f64::from_le_bytes(a))
    }

    fn text(&mut self) -> Result<Text, BackupError> {
        let header = self.varint()?;
        let len = header >> 1;
        if header & 1 == 0 {
            let bytes = self.take(len)?;
            let s = std::str::from_utf8(bytes)
                .map_err(|_| BackupError::corrupt("a string is not valid UTF-8"))?;
            Ok(Text::from(s))
        } else {
            let bytes = self.take(len.saturating_mul(2))?;
            let units = bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            Ok(Text::from_utf16(units))
        }
    }

    fn str(&mut self) -> Result<String, BackupError> {
        self.text()?
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| BackupError::corrupt("a name holds a lone surrogate"))
    }
}

/// Decodes exactly one value filling all of `bytes`.
pub fn decode_value(bytes: &[u8]) -> Result<Value, BackupError> {
    let mut r = Reader::new(bytes);
    let v = read_value(&mut r)?;
    if !r.is_empty() {
        return Err(BackupError::corrupt("extra bytes follow a value"));
    }
    Ok(v)
}

/// Reads one top-level value (its own object numbering starts at 0).
pub(crate) fn read_value(r: &mut Reader<'_>) -> Result<Value, BackupError> {
    let mut ids = Ids::default();
    read(r, &mut ids, 0)
}

/// Reads one top-level value of a chunk's record, which may refer to parts: the value (those
/// Blobs without bytes) and the parts it refers to, in walk order.
pub(crate) fn read_value_with_parts(
    r: &mut Reader<'_>,
) -> Result<(Value, Vec<OutOfLineBlob>), BackupError> {
    let mut ids = Ids::default();
    ids.blobs.parts_allowed = true;
    let value = read(r, &mut ids, 0)?;
    Ok((value, ids.blobs.parts))
}

fn read_props(
    r: &mut Reader<'_>,
    ids: &mut Ids,
    depth: usize,
    array_length: Option<u32>,
) -> Result<Vec<(Text, Value)>, BackupError> {
    let n = r.count(2)?;
    let mut props = Vec::new();
    for _ in 0..n {
        let key = read_key(r, array_length)?;
        let v = read(r, ids, depth + 1)?;
        props.push((key, v));
    }
    Ok(props)
}

#[inline(never)]
fn read_key(r: &mut Reader<'_>, array_length: Option<u32>) -> Result<Text, BackupError> {
    match r.byte()? {
        KEY_INDEX => {
            let i = r.varint()?;
            if i > MAX_INDEX {
                return Err(BackupError::corrupt("an array index is out of range"));
            }
            if let Some(len) = array_length {
                if i >= u64::from(len) {
                    return Err(BackupError::corrupt(
                        "an array element lies past its length",
                    ));
                }
            }
            Ok(Text::from(i.to_string()))
        }
        KEY_TEXT => {
            let key = r.text()?;
            // The writer refuses an array element past the length whatever form its name
            // takes, so the reader must too: otherwise a file could hold a value that decodes
            // but cannot be written again.
            if let (Some(len), Some(i)) = (array_length, canonical_index(&key)) {
                if i >= u64::from(len) {
                    return Err(BackupError::corrupt(
                        "an array element lies past its length",
                    ));
                }
            }
            Ok(key)
        }
        _ => Err(BackupError::corrupt("a property name has an unknown form")),
    }
}

fn read(r: &mut Reader<'_>, ids: &mut Ids, depth: usize) -> Result<Value, BackupError> {
    if depth > MAX_DEPTH {
        return Err(BackupError::TooDeep { limit: MAX_DEPTH });
    }
    let tag = r.byte()?;
    if is_object_tag(tag) && tag != T_ARRAY_BUFFER && tag != T_RESIZABLE_BUFFER {
        ids.add(None);
    }
    // Only the containers recurse; everything else is read in its own (non-recursive) frame
    // so that the recursion's frames stay small.
    match tag {
        T_ERROR => read_error(r, ids, depth),
        T_VIEW => read_view(r, ids, depth, false),
        T_TRACKING_VIEW => read_view(r, ids, depth, true),
        T_RESIZABLE_BUFFER..=T_DOM_EXCEPTION => read_platform(tag, r, ids),
        T_BLOB_PART..=T_FILE_LIST_PARTS => read_part(tag, r, &mut ids.blobs),
        T_MAP => read_map(r, ids, depth),
        T_SET => read_set(r, ids, depth),
        T_ARRAY => read_array(r, ids, depth),
        T_OBJECT => Ok(Value::Object(read_props(r, ids, depth, None)?)),
        _ => read_leaf(tag, r, ids),
    }
}

#[inline(never)]
fn read_leaf(tag: u8, r: &mut Reader<'_>, ids: &mut Ids) -> Result<Value, BackupError> {
    Ok(match tag {
        T_UNDEFINED => Value::Undefined,
        T_NULL => Value::Null,
        T_FALSE => Value::Bool(false),
        T_TRUE => Value::Bool(true),
        T_INT => {
            let n = unzigzag(r.varint()?) as f64;
            if n.abs() > MAX_SAFE {
                return Err(BackupError::corrupt("an integer is out of range"));
            }
            Value::number(n)
        }
        T_FLOAT => Value::number(r.f64()?),
        T_BIGINT | T_BOXED_BIGINT => {
            let s = r.str()?;
            if !check_bigint(&s) {
                return Err(BackupError::corrupt("a BigInt is not a decimal number"));
            }
            if tag == T_BIGINT {
                Value::BigInt(s)
            } else {
                Value::BoxedBigInt(s)
            }
        }
        T_STRING => Value::String(r.text()?),
        T_DATE => Value::Date(Num(r.f64()?)),
        T_REGEXP => {
            let source = r.text()?;
            let flags = r.str()?;
            if !check_flags(&flags) {
                return Err(BackupError::corrupt(
                    "a regular expression has unknown flags",
                ));
            }
            Value::RegExp { source, flags }
        }
        T_BOXED_STRING => Value::BoxedString(r.text()?),
        T_BOXED_NUMBER => Value::BoxedNumber(Num(r.f64()?)),
        T_BOXED_FALSE => Value::BoxedBool(false),
        T_BOXED_TRUE => Value::BoxedBool(true),
        T_ARRAY_BUFFER => {
            let len = r.varint()?;
            let bytes = r.take(len)?.to_vec();
            ids.add(Some(Buffer {
                len,
                resizable: false,
            }));
            Value::ArrayBuffer(bytes)
        }
        T_BLOB => {
            let mime = r.str()?;
            if !check_mime(&mime) {
                return Err(BackupError::corrupt("a Blob's type is not a valid type"));
            }
            let len = r.varint()?;
            let bytes = r.take(len)?.to_vec();
            ids.blobs.seen += 1;
            Value::Blob { mime, bytes }
        }
        T_FILE => {
            ids.blobs.seen += 1;
            read_file(r, false)?.0
        }
        T_REF => {
            let id = r.varint()?;
            if id >= ids.next() as u64 {
                return Err(BackupError::corrupt(
                    "a reference points to an object that does not come before it",
                ));
            }
            Value::Ref(id as u32)
        }
        _ => {
            return Err(BackupError::corrupt(format!(
                "unknown value tag {tag:#04x}"
            )))
        }
    })
}

fn read_error(r: &mut Reader<'_>, ids: &mut Ids, depth: usize) -> Result<Value, BackupError> {
    let kind = ErrorKind::from_tag(r.byte()?)
        .ok_or_else(|| BackupError::corrupt("an error has an unknown class"))?;
    let flags = r.byte()?;
    if flags & !(ERR_MESSAGE | ERR_STACK | ERR_CAUSE) != 0 {
        return Err(BackupError::corrupt("an error has unknown parts"));
    }
    let message = if flags & ERR_MESSAGE != 0 {
        Some(r.text()?)
    } else {
        None
    };
    let stack = if flags & ERR_STACK != 0 {
        Some(r.text()?)
    } else {
        None
    };
    let cause = if flags & ERR_CAUSE != 0 {
        Some(Box::new(read(r, ids, depth + 1)?))
    } else {
        None
    };
    Ok(Value::Error(ErrorValue {
        kind,
        message,
        stack,
        cause,
    }))
}

fn read_view(
    r: &mut Reader<'_>,
    ids: &mut Ids,
    depth: usize,
    tracking: bool,
) -> Result<Value, BackupError> {
    let kind = ViewKind::from_tag(r.byte()?)
        .ok_or_else(|| BackupError::corrupt("a view has an unknown kind"))?;
    let buffer = read(r, ids, depth + 1)?;
    let info = Buffer::of(&buffer, ids).ok_or_else(|| {
        BackupError::corrupt(match buffer {
            Value::Ref(_) => "a view refers to something that is not an ArrayBuffer",
            _ => "a view's buffer is not an ArrayBuffer",
        })
    })?;
    let byte_offset = r.varint()?;
    let buffer = Box::new(buffer);
    if tracking {
        check_tracking_view(kind, byte_offset, info).map_err(BackupError::corrupt)?;
        return Ok(Value::TrackingView {
            kind,
            buffer,
            byte_offset,
        });
    }
    let length = r.varint()?;
    check_view(kind, byte_offset, length, info.len).map_err(BackupError::corrupt)?;
    Ok(Value::View {
        kind,
        buffer,
        byte_offset,
        length,
    })
}

/// A File's name, type, last modification and contents (after its tag, or in a FileList);
/// `in_part`: the contents are a part, and the length of that part is returned too.
fn read_file(r: &mut Reader<'_>, in_part: bool) -> Result<(Value, Option<u64>), BackupError> {
    let name = r.text()?;
    let mime = r.str()?;
    if !check_mime(&mime) {
        return Err(BackupError::corrupt("a Blob's type is not a valid type"));
    }
    let last_modified = unzigzag(r.varint()?);
    let len = r.varint()?;
    let (bytes, part) = if in_part {
        (Vec::new(), Some(len))
    } else {
        (r.take(len)?.to_vec(), None)
    };
    let file = Value::File {
        name,
        mime,
        last_modified,
        bytes,
    };
    Ok((file, part))
}

fn read_f64s<const N: usize>(r: &mut Reader<'_>) -> Result<[Num; N], BackupError> {
    let mut out = [Num(0.0); N];
    for n in &mut out {
        *n = Num(r.f64()?);
    }
    Ok(out)
}

fn read_geometry_flags(r: &mut Reader<'_>, allowed: u8) -> Result<u8, BackupError> {
    let flags = r.byte()?;
    if flags & !allowed != 0 {
        return Err(BackupError::corrupt("a geometry object has unknown flags"));
    }
    Ok(flags)
}

fn read_image_size(r: &mut Reader<'_>) -> Result<(u32, u32), BackupError> {
    let side = |n: u64| {
        u32::try_from(n)
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| BackupError::corrupt("an image has an impossible size"))
    };
    let width = side(r.varint()?)?;
    let height = side(r.varint()?)?;
    Ok((width, height))
}

/// The bytes of an image of `width` × `height` pixels of `pixel_size` bytes.
fn read_pixels(
    r: &mut Reader<'_>,
    (width, height): (u32, u32),
    pixel_size: u64,
) -> Result<Vec<u8>, BackupError> {
    let len = r.varint()?;
    if image_len(width, height, pixel_size) != Some(len) {
        return Err(BackupError::corrupt(format!(
            "an image of {width}×{height} pixels holds {len} bytes"
        )));
    }
    Ok(r.take(len)?.to_vec())
}

#[inline(never)]
fn read_platform(tag: u8, r: &mut Reader<'_>, ids: &mut Ids) -> Result<Value, BackupError> {
    Ok(match tag {
        T_RESIZABLE_BUFFER => {
            let max_byte_length = r.varint()?;
            let len = r.varint()?;
            if len > max_byte_length {
                return Err(BackupError::corrupt(
                    "a resizable ArrayBuffer is longer than its maximum",
                ));
            }
            let bytes = r.take(len)?.to_vec();
            ids.add(Some(Buffer {
                len,
                resizable: true,
            }));
            Value::ResizableArrayBuffer {
                bytes,
                max_byte_length,
            }
        }
        T_DOM_POINT | T_DOM_RECT => {
            let read_only = read_geometry_flags(r, GEOMETRY_READ_ONLY)? != 0;
            let coords = read_f64s::<4>(r)?;
            if tag == T_DOM_POINT {
                Value::DomPoint { read_only, coords }
            } else {
                Value::DomRect { read_only, coords }
            }
        }
        T_DOM_QUAD => Value::DomQuad([
            read_f64s::<4>(r)?,
            read_f64s::<4>(r)?,
            read_f64s::<4>(r)?,
            read_f64s::<4>(r)?,
        ]),
        T_DOM_MATRIX => {
            let flags = read_geometry_flags(r, GEOMETRY_READ_ONLY | MATRIX_2D)?;
            let elements = if flags & MATRIX_2D != 0 {
                Matrix::TwoD(read_f64s::<6>(r)?)
            } else {
                Matrix::ThreeD(read_f64s::<16>(r)?)
            };
            Value::DomMatrix {
                read_only: flags & GEOMETRY_READ_ONLY != 0,
                elements,
            }
        }
        T_IMAGE_DATA => {
            let size = read_image_size(r)?;
            let color_space = ColorSpace::from_tag(r.byte()?)
                .ok_or_else(|| BackupError::corrupt("an ImageData has an unknown color space"))?;
            let pixel_format = PixelFormat::from_tag(r.byte()?)
                .ok_or_else(|| BackupError::corrupt("an ImageData has an unknown pixel format"))?;
            let data = read_pixels(r, size, pixel_format.pixel_size())?;
            Value::ImageData {
                width: size.0,
                height: size.1,
                color_space,
                pixel_format,
                data,
            }
        }
        T_IMAGE_BITMAP => {
            let size = read_image_size(r)?;
            let pixels = read_pixels(r, size, 4)?;
            Value::ImageBitmap {
                width: size.0,
                height: size.1,
                pixels,
            }
        }
        T_FILE_LIST => {
            let n = r.count(4)?;
            let mut files = Vec::new();
            for _ in 0..n {
                ids.blobs.seen += 1;
                files.push(read_file(r, false)?.0);
            }
            Value::FileList(files)
        }
        T_DOM_EXCEPTION => {
            let name = r.text()?;
            let message = r.text()?;
            Value::DomException { name, message }
        }
        _ => {
            return Err(BackupError::corrupt(format!(
                "unknown value tag {tag:#04x}"
            )))
        }
    })
}

/// A Blob, File or FileList whose bytes are (partly) in parts of the file.
#[inline(never)]
fn read_part(tag: u8, r: &mut Reader<'_>, blobs: &mut Blobs) -> Result<Value, BackupError> {
    if !blobs.parts_allowed {
        return Err(BackupError::corrupt(
            "a Blob refers to a part of the file outside a chunk",
        ));
    }
    Ok(match tag {
        T_BLOB_PART => {
            let mime = r.str()?;
            if !check_mime(&mime) {
                return Err(BackupError::corrupt("a Blob's type is not a valid type"));
            }
            blobs.read_part(r.varint()?)?;
            Value::Blob {
                mime,
                bytes: Vec::new(),
            }
        }
        T_FILE_PART => {
            let (file, len) = read_file(r, true)?;
            blobs.read_part(len.unwrap_or(0))?;
            file
        }
        _ => {
            let n = r.count(5)?;
            let mut files = Vec::new();
            for _ in 0..n {
                let in_part = match r.byte()? {
                    FILE_INLINE => false,
                    FILE_IN_PART => true,
                    _ => {
                        return Err(BackupError::corrupt(
                            "a FileList's file has an unknown form",
                        ))
                    }
                };
                let (file, len) = read_file(r, in_part)?;
                match len {
                    Some(len) => blobs.read_part(len)?,
                    None => blobs.seen += 1,
                }
                files.push(file);
            }
            Value::FileList(files)
        }
    })
}

fn read_map(r: &mut Reader<'_>, ids: &mut Ids, depth: usize) -> Result<Value, BackupError> {
    let n = r.count(2)?;
    let mut entries = Vec::new();
    for _ in 0..n {
        let k = read(r, ids, depth + 1)?;
        let v = read(r, ids, depth + 1)?;
        entries.push((k, v));
    }
    Ok(Value::Map(entries))
}

fn read_set(r: &mut Reader<'_>, ids: &mut Ids, depth: usize) -> Result<Value, BackupError> {
    let n = r.count(1)?;
    let mut items = Vec::new();
    for _ in 0..n {
        items.push(read(r, ids, depth + 1)?);
    }
    Ok(Value::Set(items))
}

fn read_array(r: &mut Reader<'_>, ids: &mut Ids, depth: usize) -> Result<Value, BackupError> {
    let length = read_array_length(r)?;
    let props = read_props(r, ids, depth, Some(length))?;
    Ok(Value::Array { length, props })
}

#[inline(never)]
fn read_array_length(r: &mut Reader<'_>) -> Result<u32, BackupError> {
    u32::try_from(r.varint()?)
        .map_err(|_| BackupError::corrupt("an array is longer than JavaScript allows"))
}
