//! IndexedDB requests and transactions as futures.
//!
//! The handlers resolve a Rust future directly, and wasm-bindgen-futures runs the waiting task
//! in a microtask of the same event, so a transaction is still active when the task places its
//! next request: awaiting [`RequestEvents::next`] never lets a transaction commit early.
//!
//! No wait here can last forever, whatever the engine does: a request that had already
//! answered when it was wrapped gives that answer at once (its `readyState` is `done`); a
//! request whose transaction ends before it answered fails with
//! [`IdbError::TransactionEnded`]; and [`await_transaction`] on a transaction that had already
//! finished says so instead of waiting for events that will never fire again.

use super::IdbError;
use js_sys::Array;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    Event, EventTarget, IdbKeyRange, IdbObjectStore, IdbRequest, IdbRequestReadyState,
    IdbTransaction,
};

#[derive(Default)]
struct Slot {
    outcome: Option<Result<JsValue, IdbError>>,
    waker: Option<Waker>,
}

impl Slot {
    /// Settles the wait unless an outcome is already there to be taken.
    fn settle_if_empty(cell: &RefCell<Slot>, outcome: impl FnOnce() -> IdbError) {
        if cell.borrow().outcome.is_none() {
            Slot::settle(cell, Err(outcome()));
        }
    }

    fn settle(cell: &RefCell<Slot>, outcome: Result<JsValue, IdbError>) {
        let waker = {
            let mut slot = cell.borrow_mut();
            slot.outcome = Some(outcome);
            slot.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// The success and error events of one request, which may fire many times (a cursor).
pub struct RequestEvents {
    request: IdbRequest,
    slot: Rc<RefCell<Slot>>,
    _on_success: Closure<dyn FnMut(Event)>,
    _on_error: Closure<dyn FnMut(Event)>,
    /// The request's transaction and the listener for its end, removed on drop.
    ended: Option<(EventTarget, EventClosure)>,
}

type EventClosure = Closure<dyn FnMut(Event)>;

/// What a failed request says went wrong.
fn request_error(request: &IdbRequest) -> IdbError {
    match request.error() {
        Ok(Some(dom)) => IdbError::from_js(&dom.into()),
        Ok(None) => IdbError::Unexpected("request failed without an error".into()),
        Err(e) => IdbError::from_js(&e),
    }
}

impl RequestEvents {
    pub fn new(request: IdbRequest) -> Self {
        let slot = Rc::new(RefCell::new(Slot::default()));
        let on_success = {
            let (slot, request) = (slot.clone(), request.clone());
            Closure::<dyn FnMut(Event)>::new(move |_e: Event| {
                let result = request.result().map_err(IdbError::from);
                Slot::settle(&slot, result);
            })
        };
        let on_error = {
            let (slot, request) = (slot.clone(), request.clone());
            Closure::<dyn FnMut(Event)>::new(move |_e: Event| {
                Slot::settle(&slot, Err(request_error(&request)));
            })
        };
        request.set_onsuccess(Some(on_success.as_ref().unchecked_ref()));
        request.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        // Answered before it was wrapped: its events are gone, its answer is there.
        if request.ready_state() == IdbRequestReadyState::Done {
            let outcome = match request.error() {
                Ok(None) => request.result().map_err(IdbError::from),
                _ => Err(request_error(&request)),
            };
            Slot::settle(&slot, outcome);
        }
        // A request whose transaction ends before it answered will never answer. (Spec-wise a
        // transaction does not finish with requests pending: this is for engines that do.)
        let ended = request.transaction().map(|tx| {
            let (slot, tx2) = (slot.clone(), tx.clone());
            let listener = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
                Slot::settle_if_empty(&slot, || {
                    IdbError::TransactionEnded(transaction_end(&tx2, &e.type_()))
                });
            });
            let target: EventTarget = tx.unchecked_into();
            for event in ["complete", "abort"] {
                let _ = target
                    .add_event_listener_with_callback(event, listener.as_ref().unchecked_ref());
            }
            (target, listener)
        });
        RequestEvents {
            request,
            slot,
            _on_success: on_success,
            _on_error: on_error,
            ended,
        }
    }

    /// Ends the current wait with `outcome`, from outside the request (a timeout).
    pub fn settler(&self) -> impl Fn(Result<JsValue, IdbError>) + 'static {
        let slot = self.slot.clone();
        move |outcome| Slot::settle(&slot, outcome)
    }

    /// Waits for the next success (its result) or error. A request of a transaction that
    /// gets no answer within [`stall_timeout_ms`] fails with [`IdbError::Stalled`] and its
    /// transaction is aborted (an open or delete request is left to `blocked` handling).
    pub fn next(&self) -> impl Future<Output = Result<JsValue, IdbError>> + '_ {
        SlotFuture {
            slot: &self.slot,
            watchdog: self.request.transaction().map(|tx| Watchdog {
                what: "a request",
                tx: Some(tx),
                timer: None,
            }),
        }
    }
}

impl Drop for RequestEvents {
    fn drop(&mut self) {
        self.request.set_onsuccess(None);
        self.request.set_onerror(None);
        if let Some((target, listener)) = &self.ended {
            for event in ["complete", "abort"] {
                let _ = target
                    .remove_event_listener_with_callback(event, listener.as_ref().unchecked_ref());
            }
        }
    }
}

/// How a transaction ended, for [`IdbError::TransactionEnded`].
fn transaction_end(tx: &IdbTransaction, event: &str) -> String {
    match (event, tx.error()) {
        ("complete", _) => "it committed".to_string(),
        (_, Some(dom)) => format!("it was aborted ({})", IdbError::from_js(&dom.into())),
        _ => "it was aborted".to_string(),
    }
}

/// Whether a transaction has finished (committed or aborted): `objectStore` throws
/// `InvalidStateError` then, and only then, for a store in its scope.
fn has_finished(tx: &IdbTransaction) -> bool {
    let names = tx.object_store_names();
    match names.get(0) {
        Some(name) => matches!(
            tx.object_store(&name),
            Err(e) if e.dyn_ref::<web_sys::DomException>()
                .is_some_and(|d| d.name() == "InvalidStateError")
        ),
        None => false,
    }
}

thread_local! {
    static STALL_TIMEOUT_MS: Cell<u32> = const { Cell::new(DEFAULT_STALL_TIMEOUT_MS) };
}

/// How long a transaction's request or its commit may go without an answer from the browser
/// before the wait fails with [`IdbError::Stalled`]: far above the slowest single request or
/// commit measured (docs/engines.md), so only a browser that stopped answering meets it.
pub const DEFAULT_STALL_TIMEOUT_MS: u32 = 300_000;

/// The bound on every wait for a transaction's events (for tests, or an app that knows its
/// devices are slower); `0` puts the default back.
#[cfg(feature = "test-hooks")]
pub fn set_stall_timeout_ms(ms: u32) {
    STALL_TIMEOUT_MS.with(|t| {
        t.set(if ms == 0 {
            DEFAULT_STALL_TIMEOUT_MS
        } else {
            ms
        })
    });
}

pub fn stall_timeout_ms() -> u32 {
    STALL_TIMEOUT_MS.with(Cell::get)
}

/// A timer armed while a wait is pending: when it fires first, the wait fails with
/// [`IdbError::Stalled`] (and the transaction is aborted, so it lets go of its stores).
struct Watchdog {
    what: &'static str,
    tx: Option<IdbTransaction>,
    timer: Option<(i32, Closure<dyn FnMut()>)>,
}

fn global_fn(name: &str) -> Option<js_sys::Function> {
    js_sys::Reflect::get(&js_sys::global(), &name.into())
        .ok()?
        .dyn_into()
        .ok()
}

impl Watchdog {
    fn arm(&mut self, slot: &Rc<RefCell<Slot>>) {
        if self.timer.is_some() {
            return;
        }
        let Some(set_timeout) = global_fn("setTimeout") else {
            return;
        };
        let ms = stall_timeout_ms();
        let (slot, tx, what) = (slot.clone(), self.tx.clone(), self.what);
        let fire = Closure::<dyn FnMut()>::new(move || {
            Slot::settle_if_empty(&slot, || {
                if let Some(tx) = &tx {
                    // Already finished is fine: nothing to let go of then.
                    let _ = tx.abort();
                }
                IdbError::Stalled { what, ms }
            });
        });
        let id = set_timeout
            .call2(
                &JsValue::UNDEFINED,
                fire.as_ref().unchecked_ref(),
                &JsValue::from(ms),
            )
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0) as i32;
        self.timer = Some((id, fire));
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let (Some((id, _)), Some(clear)) = (&self.timer, global_fn("clearTimeout")) {
            let _ = clear.call1(&JsValue::UNDEFINED, &JsValue::from(*id));
        }
    }
}

struct SlotFuture<'a> {
    slot: &'a Rc<RefCell<Slot>>,
    watchdog: Option<Watchdog>,
}

impl Future for SlotFuture<'_> {
    type Output = Result<JsValue, IdbError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut slot = this.slot.borrow_mut();
        match slot.outcome.take() {
            Some(outcome) => Poll::Ready(outcome),
            None => {
                slot.waker = Some(cx.waker().clone());
                drop(slot);
                if let Some(w) = &mut this.watchdog {
                    w.arm(this.slot);
                }
                Poll::Pending
            }
        }
    }
}

/// Waits for a one-shot request and returns its result.
pub async fn await_request(request: IdbRequest) -> Result<JsValue, IdbError> {
    RequestEvents::new(request).next().await
}

/// Waits until a transaction commits; an abort or error becomes an [`IdbError`]. Called
/// after the transaction had already finished (its events are gone), it fails at once with
/// [`IdbError::TransactionEnded`] (or the abort's reason, when there is one) instead of
/// waiting forever: call it while the transaction still runs, to learn that it committed.
pub async fn await_transaction(tx: &IdbTransaction) -> Result<(), IdbError> {
    if has_finished(tx) {
        return Err(match tx.error() {
            Some(dom) => IdbError::from_js(&dom.into()),
            None => IdbError::TransactionEnded(
                "it had finished before Rewind waited for it, so whether it committed is not \
                 known"
                    .into(),
            ),
        });
    }
    let slot = Rc::new(RefCell::new(Slot::default()));
    let on_complete = {
        let slot = slot.clone();
        Closure::<dyn FnMut(Event)>::new(move |_e: Event| {
            Slot::settle(&slot, Ok(JsValue::UNDEFINED))
        })
    };
    let on_abort = {
        let (slot, tx) = (slot.clone(), tx.clone());
        Closure::<dyn FnMut(Event)>::new(move |_e: Event| {
            let err = match tx.error() {
                Some(dom) => IdbError::from_js(&dom.into()),
                None => IdbError::Aborted("the transaction was aborted".into()),
            };
            Slot::settle(&slot, Err(err));
        })
    };
    tx.set_oncomplete(Some(on_complete.as_ref().unchecked_ref()));
    tx.set_onabort(Some(on_abort.as_ref().unchecked_ref()));
    // Taken off again however the wait ends, a caller that drops it included: the browser must
    // not call a dropped closure when the transaction ends later.
    let _handlers = TransactionHandlers {
        tx,
        _closures: [on_complete, on_abort],
    };
    let watchdog = Watchdog {
        what: "a transaction's commit",
        tx: Some(tx.clone()),
        timer: None,
    };
    let outcome = SlotFuture {
        slot: &slot,
        watchdog: Some(watchdog),
    }
    .await;
    outcome.map(|_| ())
}

/// A transaction's `oncomplete` and `onabort`, cleared on drop.
struct TransactionHandlers<'a> {
    tx: &'a IdbTransaction,
    _closures: [Closure<dyn FnMut(Event)>; 2],
}

impl Drop for TransactionHandlers<'_> {
    fn drop(&mut self) {
        self.tx.set_oncomplete(None);
        self.tx.set_onabort(None);
    }
}

/// Reads a store's keys and values in key order, `limit` records at a time: a `getAllKeys`
/// and a `getAll` from after the last key read. The next batch is asked for as soon as this
/// one's keys are in, so IndexedDB reads it while the caller works on this one. Only IndexedDB
/// requests are awaited, so a transaction stays active across batches.
pub struct BatchReader<'a> {
    store: &'a IdbObjectStore,
    limit: u32,
    pending: Option<(RequestEvents, RequestEvents)>,
}

impl<'a> BatchReader<'a> {
    /// Asks for the first batch.
    pub fn new(store: &'a IdbObjectStore, limit: u32) -> Result<Self, IdbError> {
        Self::starting_after(store, limit, None)
    }

    /// Asks for the first batch of the records after key `after` (from the first if none).
    pub fn starting_after(
        store: &'a IdbObjectStore,
        limit: u32,
        after: Option<&JsValue>,
    ) -> Result<Self, IdbError> {
        let mut reader = BatchReader {
            store,
            limit,
            pending: None,
        };
        reader.ask(after)?;
        Ok(reader)
    }

    fn ask(&mut self, after: Option<&JsValue>) -> Result<(), IdbError> {
        let range: JsValue = match after {
            Some(k) => IdbKeyRange::lower_bound_with_open(k, true)?.into(),
            None => JsValue::UNDEFINED,
        };
        self.pending = Some((
            RequestEvents::new(
                self.store
                    .get_all_keys_with_key_and_limit(&range, self.limit)?,
            ),
            RequestEvents::new(self.store.get_all_with_key_and_limit(&range, self.limit)?),
        ));
        Ok(())
    }

    /// The next batch's keys and values (as long as each other); `None` once the store is
    /// read to its end.
    pub async fn next(&mut self) -> Result<Option<(Array, Array)>, IdbError> {
        let Some((keys, values)) = self.pending.take() else {
            return Ok(None);
        };
        let keys: Array = keys.next().await?.unchecked_into();
        if keys.length() == self.limit {
            self.ask(Some(&keys.get(self.limit - 1)))?;
        }
        let values: Array = values.next().await?.unchecked_into();
        Ok(Some((keys, values)))
    }
}
