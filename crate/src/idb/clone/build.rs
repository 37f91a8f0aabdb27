//! [`Value`] → JavaScript: the exact value rebuilt, prototypes, shared references and all.

use super::*;

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
    value_to_js_with_parts(value, bitmaps, Vec::new())
}

/// [`value_to_js_with`] for a chunk's record, some of whose Blobs and Files hold no bytes in
/// `value`: their contents are `parts` (by their number in walk order, ascending), Blobs the
/// browser joins without reading them.
pub fn value_to_js_with_parts(
    value: &Value,
    bitmaps: Vec<JsValue>,
    parts: Vec<(usize, web_sys::Blob)>,
) -> Result<JsValue, CloneError> {
    let mut builder = Builder {
        objects: Vec::new(),
        path: Vec::new(),
        bitmaps: bitmaps.into_iter(),
        blobs_seen: 0,
        parts: parts.into_iter().peekable(),
    };
    let js = builder.build(value)?;
    if builder.bitmaps.next().is_some() {
        return Err(CloneError::new(
            "more ImageBitmaps than the value holds",
            &[],
        ));
    }
    if builder.parts.next().is_some() {
        return Err(CloneError::new("more Blob parts than the value holds", &[]));
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
                crate::idb::error::describe(&e)
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
fn text_to_js(text: &Text) -> JsValue {
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
    /// Blobs and Files built so far (their number in walk order).
    blobs_seen: usize,
    /// The contents of the Blobs and Files that hold none in the value, by number.
    parts: std::iter::Peekable<std::vec::IntoIter<(usize, web_sys::Blob)>>,
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
                    crate::idb::error::describe(&e)
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
            Value::Blob { mime, bytes } => match self.next_part() {
                Some(part) => rewind_blob_of_parts(&[part].iter().collect(), mime)
                    .map(JsValue::from)
                    .map_err(self.thrown("a Blob"))?,
                None => rewind_make_blob(bytes, mime).map_err(self.thrown("a Blob"))?,
            },
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

    /// The contents of the next Blob or File, when they are a part of the file.
    fn next_part(&mut self) -> Option<web_sys::Blob> {
        let number = self.blobs_seen;
        self.blobs_seen += 1;
        self.parts
            .next_if(|(n, _)| *n == number)
            .map(|(_, part)| part)
    }

    fn file(&mut self, value: &Value) -> Result<JsValue, CloneError> {
        let Value::File {
            name,
            mime,
            last_modified,
            bytes,
        } = value
        else {
            return Err(self.fail(format!("a {} where a File belongs", value.type_name())));
        };
        let content: JsValue = match self.next_part() {
            Some(part) => part.into(),
            None => js_sys::Uint8Array::from(&bytes[..]).into(),
        };
        rewind_make_file(&content, &text_to_js(name), mime, *last_modified as f64)
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
