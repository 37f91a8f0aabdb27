//! Every value and key IndexedDB can store comes back identical after
//! IndexedDB → `Value` → backup bytes → `Value` → IndexedDB.
#![cfg(target_arch = "wasm32")]

use rewind::backup::{
    decode_backup, decode_value, encode_backup, encode_value, BackupManifest, StoreManifest,
    StoreRecords, Value,
};
use rewind::test_hooks::clone::{self, describe_key};
use rewind::test_hooks::{self as idb, IdbError, Upgrade};
use rewind::{DatabaseSchema, KeyPath, RewindMeta};
use rewind_browser_tests::fresh_database;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{IdbDatabase, IdbIndexParameters, IdbObjectStoreParameters, IdbTransactionMode};

wasm_bindgen_test_configure!(run_in_browser);

/// One record holding every kind of value structured clone supports.
const MAKE_RECORD: &str = r#"
const buf = new ArrayBuffer(32);
const bytes = new Uint8Array(buf);
for (let i = 0; i < 32; i++) bytes[i] = (i * 37) & 255;
const shared = { s: 1 };
const cyc = { name: 'cyc' };
cyc.self = cyc;
const sparse = [1, , 3];
sparse[10] = 'ten';
sparse.extra = 'x';
const protoKey = JSON.parse('{"a": 1, "__proto__": {"b": 2}, "c": 3}');
const nullProto = Object.create(null);
nullProto.x = 1;
nullProto.y = { z: 2 };
const err = new RangeError('boom');
const typeErr = new TypeError('bad type');
const plainErr = new Error();
const causeErr = new Error('with cause', { cause: shared });
const custom = new Error('custom');
custom.name = 'MyError';
const rec = {
  und: undefined, nul: null, t: true, f: false,
  negz: -0, nan: NaN, inf: Infinity, ninf: -Infinity, num: 1.5, int: 42, tiny: 5e-324,
  big: -123456789012345678901234567890n, bigZero: 0n,
  str: 'héllo ✓ 😀', empty: '', lone: 'a\uD800b\uDC00', loneEnd: '\uDBFF',
  date: new Date(1700000000123), badDate: new Date(NaN),
  re: /a+(b)?\//giu, re2: new RegExp('', 'y'),
  bs: new String('boxed'), bn: new Number(-0), bnan: new Number(NaN), bb: new Boolean(false),
  bbig: Object(7n),
  err, typeErr, plainErr, causeErr, custom,
  buf,
  u8: new Uint8Array(buf, 1, 5), i8: new Int8Array(buf, 3), clamped: new Uint8ClampedArray(buf),
  i16: new Int16Array(buf, 2, 3), u16: new Uint16Array(buf, 0, 4),
  i32: new Int32Array(buf, 8), u32: new Uint32Array(buf, 12, 1),
  f32: new Float32Array(buf, 4, 2), f64: new Float64Array(buf, 8, 2),
  i64: new BigInt64Array(buf, 16, 1), u64: new BigUint64Array(buf, 24, 1),
  dv: new DataView(buf, 5, 9), dvAll: new DataView(buf),
  own: new Float64Array([1.5, -0, NaN]), emptyView: new Uint8Array(0),
  f16: typeof Float16Array === 'function' ? new Float16Array([1.5, -2]) : null,
  map: new Map([[1, 'one'], [shared, cyc], ['buf', buf], [NaN, -0]]),
  set: new Set([NaN, 0, shared, 'x', buf]),
  sparse, holes: new Array(5), protoKey, nullProto, shared, shared2: shared, cyc,
  blob: new Blob([new Uint8Array([1, 2, 3, 0, 255])], { type: 'application/x-test' }),
  file: new File(['hello ✓'], 'a ✓.txt', { type: 'text/plain', lastModified: 1600000000123 }),
  emptyBlob: new Blob([]),
  nested: { deep: { deeper: [shared, [cyc, buf]] } },
  'key with spaces': 1, '0': 'zero', '': 'empty key',
};
rec.self = rec;
rec.map.set(rec, rec.set);
return rec;
"#;

/// Deep equality that checks types, prototypes, -0/NaN, property order and descriptors,
/// sharing and cycles (a one-to-one object correspondence), views and buffers, Blob and File
/// contents and metadata. Resolves to "" when equal, else the first difference.
const COMPARE: &str = r#"
return (async () => {
  const pairs = new Map();
  const taken = new Set();
  const blobs = [];
  const tag = (v) => Object.prototype.toString.call(v);
  const show = (v) => { try { return typeof v === 'bigint' ? v + 'n' : Object.is(v, -0) ? '-0' : JSON.stringify(v) ?? String(v); } catch (e) { return String(v); } };
  function cmp(a, b, path) {
    if (typeof a !== typeof b) return `${path}: typeof ${typeof a} vs ${typeof b}`;
    if (typeof a !== 'object' || a === null || b === null) {
      return Object.is(a, b) ? '' : `${path}: ${show(a)} vs ${show(b)}`;
    }
    if (pairs.has(a)) return pairs.get(a) === b ? '' : `${path}: sharing differs`;
    if (taken.has(b)) return `${path}: the copy shares an object the original does not`;
    pairs.set(a, b);
    taken.add(b);
    if (tag(a) !== tag(b)) return `${path}: ${tag(a)} vs ${tag(b)}`;
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${path}: prototypes differ`;
    let d = '';
    if (a instanceof Date) {
      if (!Object.is(a.getTime(), b.getTime())) return `${path}: date ${a.getTime()} vs ${b.getTime()}`;
    } else if (a instanceof RegExp) {
      if (a.source !== b.source || a.flags !== b.flags) return `${path}: ${a} vs ${b}`;
    } else if (a instanceof Number || a instanceof String || a instanceof Boolean || a instanceof BigInt) {
      if (!Object.is(a.valueOf(), b.valueOf())) return `${path}: boxed ${show(a.valueOf())} vs ${show(b.valueOf())}`;
    } else if (a instanceof Error) {
      for (const k of ['name', 'message', 'stack']) {
        if (a[k] !== b[k]) return `${path}.${k}: ${show(a[k])} vs ${show(b[k])}`;
      }
    } else if (a instanceof ArrayBuffer) {
      const x = new Uint8Array(a), y = new Uint8Array(b);
      if (x.length !== y.length) return `${path}: ${x.length} bytes vs ${y.length}`;
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return `${path}[${i}]: ${x[i]} vs ${y[i]}`;
    } else if (ArrayBuffer.isView(a)) {
      for (const k of ['byteOffset', 'byteLength']) if (a[k] !== b[k]) return `${path}.${k}: ${a[k]} vs ${b[k]}`;
      if ((d = cmp(a.buffer, b.buffer, path + '.buffer'))) return d;
    } else if (a instanceof Blob) {
      if (a.type !== b.type || a.size !== b.size) return `${path}: blob ${a.type}/${a.size} vs ${b.type}/${b.size}`;
      if (a instanceof File && (a.name !== b.name || a.lastModified !== b.lastModified)) {
        return `${path}: file ${a.name}@${a.lastModified} vs ${b.name}@${b.lastModified}`;
      }
      blobs.push([a, b, path]);
    } else if (a instanceof Map || a instanceof Set) {
      if (a.size !== b.size) return `${path}: size ${a.size} vs ${b.size}`;
      const x = [...a.entries()], y = [...b.entries()];
      for (let i = 0; i < x.length; i++) {
        if ((d = cmp(x[i][0], y[i][0], `${path}<key ${i}>`))) return d;
        if ((d = cmp(x[i][1], y[i][1], `${path}<value ${i}>`))) return d;
      }
    }
    const ka = Reflect.ownKeys(a), kb = Reflect.ownKeys(b);
    const names = (ks) => ks.map(String).join(',');
    if (a instanceof Error) {
      ka.sort(); kb.sort();
    }
    if (names(ka) !== names(kb)) return `${path}: keys [${names(ka)}] vs [${names(kb)}]`;
    for (const k of ka) {
      const da = Object.getOwnPropertyDescriptor(a, k), db = Object.getOwnPropertyDescriptor(b, k);
      if (da.enumerable !== db.enumerable) return `${path}.${String(k)}: enumerable differs`;
      if ('value' in da && (d = cmp(da.value, db.value, `${path}.${String(k)}`))) return d;
    }
    return '';
  }
  const d = cmp(a, b, '$');
  if (d) return d;
  for (const [x, y, path] of blobs) {
    const [p, q] = [new Uint8Array(await x.arrayBuffer()), new Uint8Array(await y.arrayBuffer())];
    if (p.length !== q.length || p.some((v, i) => v !== q[i])) return `${path}: blob bytes differ`;
  }
  return '';
})();
"#;

async fn differences(a: &JsValue, b: &JsValue) -> String {
    let compare = js_sys::Function::new_with_args("a, b", COMPARE);
    let promise: js_sys::Promise = compare
        .call2(&JsValue::NULL, a, b)
        .unwrap()
        .unchecked_into();
    JsFuture::from(promise)
        .await
        .unwrap()
        .as_string()
        .unwrap_or_else(|| "the comparator failed".into())
}

async fn assert_same(a: &JsValue, b: &JsValue, what: &str) {
    let d = differences(a, b).await;
    assert!(d.is_empty(), "{what}: {d}");
}

/// JavaScript → Value → bytes → Value → JavaScript.
async fn through_backup_value(v: &JsValue) -> JsValue {
    let value = clone::js_to_value(v).unwrap().read_blobs().await.unwrap();
    let mut bytes = Vec::new();
    encode_value(&value, &mut bytes).unwrap();
    let back = decode_value(&bytes).unwrap();
    assert_eq!(back, value);
    clone::value_to_js(&back).unwrap()
}

fn params(key_path: Option<JsValue>, auto_increment: bool) -> IdbObjectStoreParameters {
    let p = IdbObjectStoreParameters::new();
    if let Some(kp) = key_path {
        p.set_key_path(&kp);
    }
    p.set_auto_increment(auto_increment);
    p
}

fn key_path_js(kp: &KeyPath) -> JsValue {
    match kp {
        KeyPath::Single(s) => JsValue::from_str(s),
        KeyPath::Compound(ps) => ps
            .iter()
            .map(|p| JsValue::from_str(p))
            .collect::<js_sys::Array>()
            .into(),
    }
}

/// Creates every store and index of `schema` (what a restore does first).
fn create_schema(up: &Upgrade, schema: &DatabaseSchema) -> Result<(), IdbError> {
    for store in schema.stores.values() {
        let s = up.db.create_object_store_with_optional_parameters(
            &store.name,
            &params(
                store.key_path.as_ref().map(key_path_js),
                store.auto_increment,
            ),
        )?;
        for index in store.indexes.values() {
            let p = IdbIndexParameters::new();
            p.set_unique(index.unique);
            p.set_multi_entry(index.multi_entry);
            s.create_index_with_str_sequence_and_optional_parameters(
                &index.name,
                &key_path_js(&index.key_path),
                &p,
            )?;
        }
    }
    Ok(())
}

async fn read_all(db: &IdbDatabase, store: &str) -> (js_sys::Array, js_sys::Array) {
    let tx = db.transaction_with_str(store).unwrap();
    let s = tx.object_store(store).unwrap();
    let keys = idb::await_request(s.get_all_keys().unwrap()).await.unwrap();
    let values = idb::await_request(s.get_all().unwrap()).await.unwrap();
    idb::await_transaction(&tx).await.unwrap();
    (keys.unchecked_into(), values.unchecked_into())
}

async fn read_index_keys(db: &IdbDatabase, store: &str, index: &str) -> JsValue {
    let tx = db.transaction_with_str(store).unwrap();
    let i = tx.object_store(store).unwrap().index(index).unwrap();
    let keys = idb::await_request(i.get_all_keys().unwrap()).await.unwrap();
    // Also the index keys themselves, through a cursor-free route: getAll on the index.
    idb::await_transaction(&tx).await.unwrap();
    keys
}

async fn put_all(db: &IdbDatabase, store: &str, inline: bool, records: &[(JsValue, JsValue)]) {
    let tx = db
        .transaction_with_str_and_mode(store, IdbTransactionMode::Readwrite)
        .unwrap();
    let s = tx.object_store(store).unwrap();
    for (k, v) in records {
        if inline {
            s.put(v).unwrap();
        } else {
            s.put_with_key(v, k).unwrap();
        }
    }
    idb::await_transaction(&tx).await.unwrap();
}

#[wasm_bindgen_test]
async fn every_value_kind_survives_indexeddb_and_the_backup_value_model() {
    let name = fresh_database("fidelity-values").await.unwrap();
    let db = idb::open_with_upgrade(
        &name,
        1,
        |up: Upgrade| async move {
            up.db.create_object_store("values")?;
            up.db.create_object_store("restored")?;
            Ok::<(), IdbError>(())
        },
        Default::default(),
    )
    .await
    .unwrap();
    let made = js_sys::Function::new_no_args(MAKE_RECORD)
        .call0(&JsValue::NULL)
        .unwrap();
    put_all(
        &db,
        "values",
        false,
        &[(JsValue::from_str("k"), made.clone())],
    )
    .await;
    let (_, values) = read_all(&db, "values").await;
    // What IndexedDB gives back is the reference: we must reproduce exactly that.
    let original = values.get(0);

    let copy = through_backup_value(&original).await;
    assert_same(&original, &copy, "after the value model").await;

    put_all(&db, "restored", false, &[(JsValue::from_str("k"), copy)]).await;
    let (_, restored) = read_all(&db, "restored").await;
    assert_same(
        &original,
        &restored.get(0),
        "after restoring into IndexedDB",
    )
    .await;

    // The prototype-less object comes back from IndexedDB as a plain object; we mirror that.
    let null_proto = js_sys::Reflect::get(&original, &"nullProto".into()).unwrap();
    assert!(!js_sys::Object::get_prototype_of(&null_proto).is_null());

    // The comparator does see differences.
    let other = js_sys::Function::new_no_args(MAKE_RECORD)
        .call0(&JsValue::NULL)
        .unwrap();
    js_sys::Reflect::set(&other, &"negz".into(), &JsValue::from_f64(0.0)).unwrap();
    assert!(differences(&original, &other).await.contains("negz"));
    for (label, mutate) in [
        ("u8", "r.u8 = new Uint8Array(r.buf.slice(0), 1, 5);"),
        ("lone", "r.lone = 'a\\uFFFDb\\uFFFD';"),
        ("blob", "r.blob = new Blob([new Uint8Array([1, 2, 3, 0, 254])], { type: 'application/x-test' });"),
        ("file", "r.file = new File(['hello ✓'], 'a ✓.txt', { type: 'text/plain', lastModified: 1 });"),
        ("self", "r.self = { ...r };"),
    ] {
        let changed = js_sys::Function::new_with_args("r", &format!("{mutate} return r;"))
            .call1(&JsValue::NULL, &through_backup_value(&original).await)
            .unwrap();
        let d = differences(&original, &changed).await;
        assert!(d.contains(label), "{label}: {d:?}");
    }

    db.close();
    idb::delete_database(&name).await.unwrap();
}

const KEYED_STORES: &str = r#"
const keys = [
  -Infinity, -1.5, -0, 0.5, 7, Infinity, 2 ** 53 + 2,
  '', 'a', 'a\uD800', 'zzz ✓',
  new Date(0), new Date(1700000000123), new Date(-5e11),
  new Uint8Array([]).buffer, new Uint8Array([1, 2, 3]), new Int16Array([-1, 2]).buffer,
  new DataView(new Uint8Array([9, 8, 7]).buffer, 1),
  [], [1, 'a', new Date(5), new Uint8Array([4]).buffer, [2, ['x']]],
];
return keys;
"#;

#[wasm_bindgen_test]
async fn every_key_type_store_kind_and_index_survives_a_whole_backup() {
    let source = fresh_database("fidelity-src").await.unwrap();
    let target = fresh_database("fidelity-dst").await.unwrap();
    let db = idb::open_with_upgrade(
        &source,
        4,
        |up: Upgrade| async move {
            let db = &up.db;
            let keyed = db.create_object_store("outofline")?;
            keyed.create_index_with_str("by_v", "v")?;
            let auto = db.create_object_store_with_optional_parameters(
                "inline_auto",
                &params(Some("id".into()), true),
            )?;
            let multi = IdbIndexParameters::new();
            multi.set_multi_entry(true);
            auto.create_index_with_str_and_optional_parameters("by_tag", "tags", &multi)?;
            let unique = IdbIndexParameters::new();
            unique.set_unique(true);
            auto.create_index_with_str_and_optional_parameters("by_when", "when", &unique)?;
            db.create_object_store_with_optional_parameters(
                "compound",
                &params(
                    Some(
                        ["a", "b"]
                            .iter()
                            .map(|s| JsValue::from_str(s))
                            .collect::<js_sys::Array>()
                            .into(),
                    ),
                    false,
                ),
            )?;
            db.create_object_store_with_optional_parameters("auto_outofline", &params(None, true))?;
            db.create_object_store_with_optional_parameters(
                "nested_path",
                &params(Some("meta.id".into()), false),
            )?;
            Ok::<(), IdbError>(())
        },
        Default::default(),
    )
    .await
    .unwrap();

    let keys: js_sys::Array = js_sys::Function::new_no_args(KEYED_STORES)
        .call0(&JsValue::NULL)
        .unwrap()
        .unchecked_into();
    let records: Vec<(JsValue, JsValue)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let v = js_sys::Object::new();
            js_sys::Reflect::set(&v, &"v".into(), &JsValue::from_f64((i % 3) as f64)).unwrap();
            js_sys::Reflect::set(&v, &"key_copy".into(), &k).unwrap();
            (k, v.into())
        })
        .collect();
    put_all(&db, "outofline", false, &records).await;
    let inline: Vec<(JsValue, JsValue)> = (0..5)
        .map(|i| {
            let v = js_sys::JSON::parse(&format!(r#"{{"tags": ["t{}", "all"], "n": {i}}}"#, i % 2))
                .unwrap();
            js_sys::Reflect::set(
                &v,
                &"when".into(),
                &js_sys::Date::new(&JsValue::from_f64(f64::from(i) * 1000.0)),
            )
            .unwrap();
            (JsValue::UNDEFINED, v)
        })
        .collect();
    put_all(&db, "inline_auto", true, &inline).await;
    let compound: Vec<(JsValue, JsValue)> = ["x", "y"]
        .iter()
        .map(|a| {
            (
                JsValue::UNDEFINED,
                js_sys::JSON::parse(&format!(r#"{{"a": "{a}", "b": [1, 2], "c": null}}"#)).unwrap(),
            )
        })
        .collect();
    put_all(&db, "compound", true, &compound).await;
    let tx = db
        .transaction_with_str_and_mode("auto_outofline", IdbTransactionMode::Readwrite)
        .unwrap();
    let s = tx.object_store("auto_outofline").unwrap();
    s.add(&"first".into()).unwrap();
    s.add(&js_sys::Uint8Array::from(&[1u8, 2][..])).unwrap();
    idb::await_transaction(&tx).await.unwrap();
    put_all(
        &db,
        "nested_path",
        true,
        &[(
            JsValue::UNDEFINED,
            js_sys::JSON::parse(r#"{"meta": {"id": [3, "x"]}}"#).unwrap(),
        )],
    )
    .await;

    // Back up: schema, keys and values of every store.
    let (schema, counts) = idb::read_schema(&db).await.unwrap();
    let mut stores = Vec::new();
    let mut manifest_stores = Vec::new();
    for store in schema.stores.values() {
        let (keys, values) = read_all(&db, &store.name).await;
        let mut recs = Vec::new();
        for (k, v) in keys.iter().zip(values.iter()) {
            let key = clone::js_to_value(&k).unwrap().read_blobs().await.unwrap();
            assert!(key.is_valid_key(), "{}", describe_key(&key));
            let value = clone::js_to_value(&v).unwrap().read_blobs().await.unwrap();
            recs.push((key, value));
        }
        assert_eq!(recs.len() as u64, counts[&store.name]);
        stores.push(StoreRecords {
            name: store.name.clone(),
            records: recs,
        });
        manifest_stores.push(StoreManifest::new(store.clone()));
    }
    let manifest = BackupManifest {
        format_version: 0,
        id: "test".into(),
        database: source.clone(),
        schema_version: 0,
        idb_version: db.version() as u64,
        created_at: js_sys::Date::now(),
        label: String::new(),
        automatic: false,
        meta: RewindMeta::default(),
        stores: manifest_stores,
        skipped: Vec::new(),
        bytes: 0,
        sha256: String::new(),
    };
    let encoded = encode_backup(manifest, stores).unwrap();
    let decoded = decode_backup(&encoded.bytes).unwrap();
    assert_eq!(decoded.manifest, encoded.manifest);

    // Restore into a new database with the backed-up schema.
    let restored_schema = schema.clone();
    let copy = idb::open_with_upgrade(
        &target,
        1,
        move |up: Upgrade| async move { create_schema(&up, &restored_schema) },
        Default::default(),
    )
    .await
    .unwrap();
    for (entry, store) in decoded.manifest.stores.iter().zip(&decoded.stores) {
        let inline = entry.schema.key_path.is_some();
        let recs: Vec<(JsValue, JsValue)> = store
            .records
            .iter()
            .map(|(k, v)| {
                (
                    clone::value_to_js(k).unwrap(),
                    clone::value_to_js(v).unwrap(),
                )
            })
            .collect();
        put_all(&copy, &store.name, inline, &recs).await;
    }

    let (copy_schema, copy_counts) = idb::read_schema(&copy).await.unwrap();
    assert_eq!(copy_schema, schema);
    assert_eq!(copy_counts, counts);
    for store in schema.stores.values() {
        let (k1, v1) = read_all(&db, &store.name).await;
        let (k2, v2) = read_all(&copy, &store.name).await;
        assert_same(&k1, &k2, &format!("keys of {}", store.name)).await;
        assert_same(&v1, &v2, &format!("values of {}", store.name)).await;
        for index in store.indexes.values() {
            let a = read_index_keys(&db, &store.name, &index.name).await;
            let b = read_index_keys(&copy, &store.name, &index.name).await;
            assert_same(&a, &b, &format!("index {}", index.name)).await;
        }
    }
    // Every key type made it into the out-of-line store.
    assert_eq!(counts["outofline"], keys.length() as u64);

    db.close();
    copy.close();
    idb::delete_database(&source).await.unwrap();
    idb::delete_database(&target).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_value_a_backup_cannot_carry_is_an_error_naming_its_type() {
    let cases = [
        ("({ a: { f: function () {} } })", "a function", ".a.f"),
        ("({ list: [1, Symbol('x')] })", "a Symbol", ".list[1]"),
        ("({ w: new WeakMap() })", "a WeakMap object", ".w"),
        ("new Map([['k', () => 1]])", "a function", ".<value 0>"),
    ];
    for (expr, type_name, path) in cases {
        let value = js_sys::Function::new_no_args(&format!("return {expr};"))
            .call0(&JsValue::NULL)
            .unwrap();
        let err = match clone::js_to_value(&value) {
            Ok(_) => panic!("{expr} was accepted"),
            Err(e) => e,
        };
        assert_eq!(err.type_name, type_name, "{expr}");
        assert_eq!(err.path, path, "{expr}");
        let key = describe_key(&Value::string("note-1"));
        let message = err.in_record("notes", &key).to_string();
        assert!(message.contains("\"notes\""), "{message}");
        assert!(message.contains("\"note-1\""), "{message}");
        assert!(message.contains(type_name), "{message}");
    }
}

#[wasm_bindgen_test]
async fn blob_bytes_are_read_after_the_walk() {
    let value = js_sys::Function::new_no_args(
        "const b = new Blob(['abc'], {type: 'text/plain'}); return [b, b, new File([new Uint8Array([7])], 'f')];",
    )
    .call0(&JsValue::NULL)
    .unwrap();
    let pending = clone::js_to_value(&value).unwrap();
    assert!(pending.has_blobs());
    let Value::Array { props, .. } = pending.value() else {
        panic!("not an array")
    };
    assert_eq!(
        props[1].1,
        Value::Ref(1),
        "the same Blob twice is one object"
    );
    let full = pending.read_blobs().await.unwrap();
    let Value::Array { props, .. } = &full else {
        panic!("not an array")
    };
    assert_eq!(
        props[0].1,
        Value::Blob {
            mime: "text/plain".into(),
            bytes: b"abc".to_vec()
        }
    );
    let back = clone::value_to_js(&full).unwrap();
    assert_same(&value, &back, "blobs").await;
}
