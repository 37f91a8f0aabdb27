//! Every Promise the API returns settles, even when Rewind panics. A panic stops the wasm
//! instance where it is: the future that was running never resumes, so its Promise would stay
//! pending, and an upgrade it was running would commit as soon as its last request finished.
//! The panic hook aborts every running upgrade (nothing half-done is committed), rejects every
//! operation in flight with code `Internal`, and from then on every call rejects at once.

use js_sys::{Function, Promise};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use wasm_bindgen::JsValue;

thread_local! {
    /// The `reject` of every operation in flight, by a number of its own.
    static IN_FLIGHT: RefCell<Vec<(u64, Function)>> = const { RefCell::new(Vec::new()) };
    static NEXT: Cell<u64> = const { Cell::new(0) };
    /// What the panic said, once Rewind has panicked.
    static STOPPED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The error every operation rejects with once Rewind has panicked.
fn stopped_error(panic: &str) -> JsValue {
    super::api::error(
        "Internal",
        &format!(
            "Rewind stopped after an internal error (a bug: {panic}). Nothing that was under \
             way was committed. Reload the page, check the database's status, and report it."
        ),
    )
}

/// A rejection right away when Rewind has panicked before.
pub fn refused_after_panic() -> Option<Promise> {
    STOPPED.with(|s| {
        s.try_borrow()
            .ok()?
            .as_ref()
            .map(|p| Promise::reject(&stopped_error(p)))
    })
}

/// Runs `operation` and returns a Promise that settles with it, or with `Internal` if Rewind
/// panics meanwhile.
pub fn settled<F>(operation: F) -> Promise
where
    F: Future<Output = Result<JsValue, JsValue>> + 'static,
{
    settled_boxed(Box::pin(operation))
}

/// [`settled`]'s body, one copy for every operation (generic, the wasm carried one each).
fn settled_boxed(operation: Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>) -> Promise {
    if let Some(refused) = refused_after_panic() {
        return refused;
    }
    let id = NEXT.with(|n| {
        n.set(n.get() + 1);
        n.get()
    });
    let mut operation = Some(operation);
    Promise::new(&mut |resolve, reject| {
        IN_FLIGHT.with(|f| f.borrow_mut().push((id, reject.clone())));
        let Some(operation) = operation.take() else {
            return;
        };
        wasm_bindgen_futures::spawn_local(async move {
            let outcome = operation.await;
            IN_FLIGHT.with(|f| f.borrow_mut().retain(|(i, _)| *i != id));
            let _ = match outcome {
                Ok(value) => resolve.call1(&JsValue::UNDEFINED, &value),
                Err(error) => reject.call1(&JsValue::UNDEFINED, &error),
            };
        });
    })
}

/// The panic hook: abort, reject, refuse from now on.
pub fn on_panic(info: &std::panic::PanicHookInfo<'_>) {
    let said = info.to_string();
    web_sys::console::error_1(&format!("Rewind panicked (a bug): {said}").into());
    rewind::abort_running_upgrades();
    STOPPED.with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            s.get_or_insert(said.clone());
        }
    });
    let waiting = IN_FLIGHT.with(|f| {
        f.try_borrow_mut()
            .map(|mut f| std::mem::take(&mut *f))
            .unwrap_or_default()
    });
    let error = stopped_error(&said);
    for (_, reject) in waiting {
        let _ = reject.call1(&JsValue::UNDEFINED, &error);
    }
}

/// Makes the next restore panic after writing `batches` batches, inside its upgrade (tests
/// only: not in `pkg/`).
#[cfg(feature = "test-panic")]
#[wasm_bindgen::prelude::wasm_bindgen(js_name = testPanicInRestore)]
pub fn test_panic_in_restore(batches: u32) {
    rewind::test_hooks::panic_after_batches(batches);
}

/// Makes the next upgrade commit after `steps` data steps with its metadata unwritten, as
/// Firefox keeps an upgrade whose tab closed mid-way (tests only: not in `pkg/`).
#[cfg(feature = "test-panic")]
#[wasm_bindgen::prelude::wasm_bindgen(js_name = testCutOffUpgrade)]
pub fn test_cut_off_upgrade(steps: u32) {
    rewind::test_hooks::cut_off_after_data_steps(steps);
}
