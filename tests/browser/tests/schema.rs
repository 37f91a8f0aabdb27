//! The adapter reads back exactly the schema a database was created with.
#![cfg(target_arch = "wasm32")]

use rewind::test_hooks::{self as idb, IdbError, Upgrade};
use rewind::{DatabaseSchema, IndexSchema, KeyPath, StoreSchema};
use rewind_browser_tests::fresh_database;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;
use web_sys::{IdbIndexParameters, IdbObjectStoreParameters};

wasm_bindgen_test_configure!(run_in_browser);

fn params(key_path: Option<JsValue>, auto_increment: bool) -> IdbObjectStoreParameters {
    let p = IdbObjectStoreParameters::new();
    if let Some(kp) = key_path {
        p.set_key_path(&kp);
    }
    p.set_auto_increment(auto_increment);
    p
}

fn array(items: &[&str]) -> JsValue {
    items
        .iter()
        .map(|s| JsValue::from_str(s))
        .collect::<js_sys::Array>()
        .into()
}

/// Every store and index option IndexedDB has, once each.
async fn create_every_kind(up: Upgrade) -> Result<(), IdbError> {
    let db = &up.db;
    let inline = db.create_object_store_with_optional_parameters(
        "inline",
        &params(Some("id".into()), false),
    )?;
    let unique = IdbIndexParameters::new();
    unique.set_unique(true);
    inline.create_index_with_str_and_optional_parameters("by_email", "contact.email", &unique)?;
    let multi = IdbIndexParameters::new();
    multi.set_multi_entry(true);
    inline.create_index_with_str_and_optional_parameters("by_tag", "tags", &multi)?;
    inline.create_index_with_str_sequence("by_name", &array(&["last", "first"]))?;
    inline.put(&js_sys::JSON::parse(
        r#"{"id":1,"contact":{"email":"a@x"},"tags":["a","b"],"last":"L","first":"F"}"#,
    )?)?;
    inline.put(&js_sys::JSON::parse(
        r#"{"id":2,"contact":{"email":"b@x"},"tags":[]}"#,
    )?)?;

    db.create_object_store_with_optional_parameters(
        "auto_inline",
        &params(Some("key".into()), true),
    )?;
    let out_auto =
        db.create_object_store_with_optional_parameters("auto_outofline", &params(None, true))?;
    out_auto.add(&"first".into())?;
    out_auto.add(&"second".into())?;
    out_auto.add(&"third".into())?;
    db.create_object_store_with_optional_parameters(
        "compound",
        &params(Some(array(&["a", "b"])), false),
    )?;
    db.create_object_store_with_optional_parameters(
        "value_is_key",
        &params(Some("".into()), false),
    )?;
    db.create_object_store("outofline")?;
    Ok(())
}

fn expected_schema() -> DatabaseSchema {
    DatabaseSchema::default()
        .with_store(
            StoreSchema::new("inline", Some(KeyPath::single("id")), false)
                .with_index(
                    IndexSchema::new("by_email", KeyPath::single("contact.email")).unique(true),
                )
                .with_index(IndexSchema::new("by_tag", KeyPath::single("tags")).multi_entry(true))
                .with_index(IndexSchema::new(
                    "by_name",
                    KeyPath::compound(["last", "first"]),
                )),
        )
        .with_store(StoreSchema::new(
            "auto_inline",
            Some(KeyPath::single("key")),
            true,
        ))
        .with_store(StoreSchema::new("auto_outofline", None, true))
        .with_store(StoreSchema::new(
            "compound",
            Some(KeyPath::compound(["a", "b"])),
            false,
        ))
        .with_store(StoreSchema::new(
            "value_is_key",
            Some(KeyPath::single("")),
            false,
        ))
        .with_store(StoreSchema::new("outofline", None, false))
}

#[wasm_bindgen_test]
async fn reads_back_every_store_and_index_option_with_counts() {
    let name = fresh_database("schema").await.unwrap();
    let db = idb::open_with_upgrade(&name, 3, create_every_kind, Default::default())
        .await
        .unwrap();
    db.close();

    let summary = idb::summarize(&name).await.unwrap();
    assert_eq!(summary.name, name);
    assert_eq!(summary.idb_version, 3);
    assert_eq!(summary.schema, expected_schema());
    assert_eq!(summary.record_counts.get("inline"), Some(&2));
    assert_eq!(summary.record_counts.get("auto_outofline"), Some(&3));
    assert_eq!(summary.record_counts.get("outofline"), Some(&0));
    assert_eq!(summary.total_records(), 5);

    let listed = idb::list_databases().await.unwrap();
    let entry = listed
        .iter()
        .find(|d| d.name == name)
        .expect("the new database is listed");
    assert_eq!(entry.idb_version, 3);
    idb::delete_database(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn an_empty_database_has_an_empty_schema() {
    let name = fresh_database("empty").await.unwrap();
    let db = idb::open_with_upgrade(
        &name,
        1,
        |_up| async { Ok::<(), IdbError>(()) },
        Default::default(),
    )
    .await
    .unwrap();
    db.close();
    let summary = idb::summarize(&name).await.unwrap();
    assert_eq!(summary.schema, DatabaseSchema::default());
    assert_eq!(summary.total_records(), 0);
    idb::delete_database(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn inspecting_a_missing_database_fails_and_does_not_create_it() {
    let name = fresh_database("missing").await.unwrap();
    let err = idb::summarize(&name).await.unwrap_err();
    assert_eq!(err, IdbError::NoSuchDatabase(name.clone()));
    assert!(err.to_string().contains("pick one from the list"));
    let listed = idb::list_databases().await.unwrap();
    assert!(
        listed.iter().all(|d| d.name != name),
        "inspection created {name}"
    );
}

#[wasm_bindgen_test]
async fn a_failing_upgrade_leaves_schema_data_and_version_untouched() {
    let name = fresh_database("abort").await.unwrap();
    let db = idb::open_with_upgrade(&name, 1, create_every_kind, Default::default())
        .await
        .unwrap();
    db.close();
    let before = idb::summarize(&name).await.unwrap();

    let err = idb::open_with_upgrade(
        &name,
        2,
        |up: Upgrade| async move {
            up.db.delete_object_store("inline")?;
            up.db.create_object_store("half_done")?;
            Err(IdbError::Unexpected(
                "migration step failed on purpose".into(),
            ))
        },
        Default::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err,
        IdbError::Unexpected("migration step failed on purpose".into())
    );

    let after = idb::summarize(&name).await.unwrap();
    assert_eq!(after, before, "an aborted upgrade must change nothing");
    assert_eq!(after.idb_version, 1);
    idb::delete_database(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_failing_request_in_an_upgrade_aborts_it() {
    let name = fresh_database("dupe").await.unwrap();
    let db = idb::open_with_upgrade(&name, 1, create_every_kind, Default::default())
        .await
        .unwrap();
    db.close();
    // A second record with an existing key in a unique index fails as a request, not a throw.
    let err = idb::open_with_upgrade(
        &name,
        2,
        |up: Upgrade| async move {
            let store = up.tx.object_store("inline")?;
            idb::await_request(store.add(&js_sys::JSON::parse(
                r#"{"id":3,"contact":{"email":"a@x"}}"#,
            )?)?)
            .await?;
            Ok(())
        },
        Default::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, IdbError::Dom { ref name, .. } if name == "ConstraintError"),
        "{err:?}"
    );
    let after = idb::summarize(&name).await.unwrap();
    assert_eq!(after.idb_version, 1);
    assert_eq!(after.record_counts.get("inline"), Some(&2));
    idb::delete_database(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn our_connections_let_go_of_another_tabs_upgrade_and_say_so() {
    let name = fresh_database("letgo").await.unwrap();
    let db = idb::open_with_upgrade(&name, 1, create_every_kind, Default::default())
        .await
        .unwrap();
    let heard = std::rc::Rc::new(std::cell::RefCell::new(Vec::<String>::new()));
    let sink = heard.clone();
    idb::on_version_change(move |n| sink.borrow_mut().push(n.to_string()));
    // "Another tab" upgrades while our connection is open: it must not be blocked.
    let blocked = std::rc::Rc::new(std::cell::Cell::new(false));
    let flag = blocked.clone();
    let policy = idb::BlockedPolicy {
        on_blocked: Some(Box::new(move || flag.set(true))),
        timeout_ms: Some(2_000),
    };
    let other = idb::open_with_upgrade(&name, 2, |_up| async { Ok::<(), IdbError>(()) }, policy)
        .await
        .unwrap();
    other.close();
    assert!(!blocked.get(), "our open connection blocked the upgrade");
    assert!(
        heard.borrow().contains(&name),
        "the page was told: {:?}",
        heard.borrow()
    );
    drop(db);
    idb::delete_database(&name).await.unwrap();
}
