//! No wait on IndexedDB lasts forever, whatever the engine does: a transaction that ends
//! before Rewind's work in it is done, or an event that never comes, is a coded error.
//!
//! Events that "never come" are made with real IndexedDB: a capturing listener on the
//! connection stops them before they reach the request or transaction (the connection is on
//! every such event's path).
#![cfg(target_arch = "wasm32")]

use rewind::test_hooks::{
    self as idb, await_request, await_transaction, open_with_upgrade, set_stall_timeout_ms,
    BlockedPolicy, IdbError, RequestEvents,
};
use rewind_browser_tests::{fresh_database, sleep};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::{Event, IdbDatabase, IdbTransactionMode};

wasm_bindgen_test_configure!(run_in_browser);

/// A database `name` with one store `s` holding `n` records (keys 0..n).
async fn with_store(prefix: &str, n: u32) -> IdbDatabase {
    let name = fresh_database(prefix).await.unwrap();
    open_with_upgrade(
        &name,
        1,
        move |up| async move {
            let store = up.db.create_object_store("s")?;
            for i in 0..n {
                store.put_with_key(&JsValue::from(i), &JsValue::from(i))?;
            }
            Ok::<(), IdbError>(())
        },
        BlockedPolicy::default(),
    )
    .await
    .unwrap()
}

/// Stops every `event` on `db`'s transactions and requests before it reaches them.
fn swallow(db: &IdbDatabase, event: &str) -> Closure<dyn FnMut(Event)> {
    let stop = Closure::<dyn FnMut(Event)>::new(|e: Event| e.stop_immediate_propagation());
    db.add_event_listener_with_callback_and_bool(event, stop.as_ref().unchecked_ref(), true)
        .unwrap();
    stop
}

fn now() -> f64 {
    js_sys::Date::now()
}

#[wasm_bindgen_test]
async fn waiting_for_a_transaction_that_already_committed_is_an_error_at_once() {
    let db = with_store("ended-commit", 1).await;
    let tx = db.transaction_with_str("s").unwrap();
    await_request(tx.object_store("s").unwrap().get(&0.into()).unwrap())
        .await
        .unwrap();
    // A macrotask later the transaction has committed; its `complete` event is gone.
    sleep(20).await;
    let started = now();
    let err = await_transaction(&tx).await.unwrap_err();
    assert!(
        matches!(err, IdbError::TransactionEnded(_)),
        "not TransactionEnded: {err:?}"
    );
    assert!(err
        .to_string()
        .contains("whether it committed is not known"));
    assert!(now() - started < 1000.0, "it did not wait");
    db.close();
}

#[wasm_bindgen_test]
async fn waiting_for_a_transaction_aborted_for_a_reason_gives_that_reason() {
    let db = with_store("ended-abort", 1).await;
    let tx = db
        .transaction_with_str_and_mode("s", IdbTransactionMode::Readwrite)
        .unwrap();
    // `add` over an existing key: ConstraintError, which aborts the transaction.
    let failed = await_request(
        tx.object_store("s")
            .unwrap()
            .add_with_key(&1.into(), &0.into())
            .unwrap(),
    )
    .await
    .unwrap_err();
    assert!(matches!(&failed, IdbError::Dom { name, .. } if name == "ConstraintError"));
    sleep(20).await;
    let err = await_transaction(&tx).await.unwrap_err();
    assert!(
        matches!(&err, IdbError::Dom { name, .. } if name == "ConstraintError"),
        "{err:?}"
    );
    db.close();
}

#[wasm_bindgen_test]
async fn a_request_that_had_answered_before_it_was_wrapped_gives_its_answer() {
    let db = with_store("answered", 3).await;
    let tx = db.transaction_with_str("s").unwrap();
    let count = tx.object_store("s").unwrap().count().unwrap();
    // Its success event fires while nothing listens.
    sleep(20).await;
    let value = RequestEvents::new(count).next().await.unwrap();
    assert_eq!(value.as_f64(), Some(3.0));
    db.close();
}

#[wasm_bindgen_test]
async fn a_request_whose_transaction_ends_without_answering_it_is_an_error() {
    let db = with_store("never-answered", 1).await;
    let stop = swallow(&db, "success");
    let tx = db.transaction_with_str("s").unwrap();
    let events = RequestEvents::new(tx.object_store("s").unwrap().get(&0.into()).unwrap());
    let err = events.next().await.unwrap_err();
    assert!(
        matches!(&err, IdbError::TransactionEnded(how) if how == "it committed"),
        "{err:?}"
    );
    drop(events);
    drop(stop);
    db.close();
}

#[wasm_bindgen_test]
async fn a_request_that_never_answers_stalls_into_an_error() {
    let db = with_store("stalled-request", 1).await;
    let stops = [
        swallow(&db, "success"),
        swallow(&db, "complete"),
        swallow(&db, "abort"),
    ];
    set_stall_timeout_ms(300);
    let tx = db.transaction_with_str("s").unwrap();
    let started = now();
    let outcome = await_request(tx.object_store("s").unwrap().get(&0.into()).unwrap()).await;
    set_stall_timeout_ms(0);
    let err = outcome.unwrap_err();
    assert!(
        matches!(err, IdbError::Stalled { ms: 300, .. }),
        "not Stalled: {err:?}"
    );
    assert!(err.to_string().contains("stopped answering"));
    assert!(now() - started >= 290.0);
    drop(stops);
    db.close();
}

#[wasm_bindgen_test]
async fn a_commit_that_never_reports_stalls_into_an_error() {
    let db = with_store("stalled-commit", 0).await;
    let stops = [swallow(&db, "complete"), swallow(&db, "abort")];
    set_stall_timeout_ms(300);
    let tx = db
        .transaction_with_str_and_mode("s", IdbTransactionMode::Readwrite)
        .unwrap();
    tx.object_store("s")
        .unwrap()
        .put_with_key(&1.into(), &1.into())
        .unwrap();
    let outcome = await_transaction(&tx).await;
    set_stall_timeout_ms(0);
    assert!(
        matches!(outcome, Err(IdbError::Stalled { .. })),
        "{outcome:?}"
    );
    drop(stops);
    db.close();
}

#[wasm_bindgen_test]
async fn an_upgrade_that_awaits_something_else_is_reported_as_ended_early() {
    // The browser commits an upgrade whose code awaits a timer (nothing of the transaction's
    // own is pending): the open succeeds while the upgrade still runs. Reported, not done.
    let name = fresh_database("ended-upgrade").await.unwrap();
    let outcome = open_with_upgrade(
        &name,
        1,
        |up| async move {
            up.db.create_object_store("s")?;
            sleep(50).await;
            Ok::<(), IdbError>(())
        },
        BlockedPolicy::default(),
    )
    .await;
    let err = outcome.map(|db| db.close()).unwrap_err();
    assert!(
        matches!(&err, IdbError::TransactionEnded(how) if how.contains("before the upgrade was done")),
        "{err:?}"
    );
    idb::delete_database(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_request_placed_after_the_transaction_committed_is_an_error() {
    // What awaiting anything else inside a transaction leads to, in every engine: the next
    // request is refused at once (TransactionInactiveError / InvalidStateError).
    let db = with_store("inactive", 1).await;
    let tx = db.transaction_with_str("s").unwrap();
    let store = tx.object_store("s").unwrap();
    sleep(20).await;
    let err = IdbError::from_js(&store.get(&0.into()).unwrap_err());
    assert!(
        matches!(&err, IdbError::Dom { name, .. } if name == "TransactionInactiveError" || name == "InvalidStateError"),
        "{err:?}"
    );
    db.close();
}
