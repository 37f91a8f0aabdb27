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
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::{IdbDatabase, IdbIndexParameters, IdbObjectStoreParameters, IdbTransactionMode};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/fidelity_cases.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    async fn compare(a: &JsValue, b: &JsValue) -> Result<JsValue, JsValue>;
}

#[wasm_bindgen(module = "/tests/fidelity.js")]
extern "C" {
    fn every_kind_of_value() -> JsValue;
    #[wasm_bindgen(catch)]
    fn changed(label: &str, record: &JsValue) -> Result<JsValue, JsValue>;
    fn every_kind_of_key() -> js_sys::Array;
    #[wasm_bindgen(catch)]
    fn unsupported_value(name: &str) -> Result<JsValue, JsValue>;
    fn a_blob_twice_and_a_file() -> JsValue;
}

/// "" when `a` and `b` are the same value, else the first difference (see `compare`).
async fn differences(a: &JsValue, b: &JsValue) -> String {
    compare(a, b)
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
    let made = every_kind_of_value();
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
    let other = every_kind_of_value();
    js_sys::Reflect::set(&other, &"negz".into(), &JsValue::from_f64(0.0)).unwrap();
    assert!(differences(&original, &other).await.contains("negz"));
    for label in ["u8", "lone", "blob", "file", "self"] {
        let altered = changed(label, &through_backup_value(&original).await).unwrap();
        let d = differences(&original, &altered).await;
        assert!(d.contains(label), "{label}: {d:?}");
    }

    db.close();
    idb::delete_database(&name).await.unwrap();
}

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

    let keys = every_kind_of_key();
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
        interrupted: None,
        in_place: false,
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
        ("a function in an object", "a function", ".a.f"),
        ("a Symbol in an array", "a Symbol", ".list[1]"),
        ("a WeakMap", "a WeakMap object", ".w"),
        ("a function as a Map value", "a function", ".<value 0>"),
    ];
    for (case, type_name, path) in cases {
        let value = unsupported_value(case).unwrap();
        let err = match clone::js_to_value(&value) {
            Ok(_) => panic!("{case} was accepted"),
            Err(e) => e,
        };
        assert_eq!(err.type_name, type_name, "{case}");
        assert_eq!(err.path, path, "{case}");
        let key = describe_key(&Value::string("note-1"));
        let message = err.in_record("notes", &key).to_string();
        assert!(message.contains("\"notes\""), "{message}");
        assert!(message.contains("\"note-1\""), "{message}");
        assert!(message.contains(type_name), "{message}");
    }
}

#[wasm_bindgen_test]
async fn blob_bytes_are_read_after_the_walk() {
    let value = a_blob_twice_and_a_file();
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
