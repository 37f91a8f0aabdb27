//! JavaScript → [`Value`]: the synchronous walk, by brands, in first-visit order.

use super::*;

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

struct Walker {
    seen: js_sys::Map,
    next_id: u32,
    blobs: Vec<web_sys::Blob>,
    bitmaps: Vec<JsValue>,
    path: Vec<String>,
    to_string_tag: js_sys::Function,
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
