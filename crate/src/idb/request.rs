//! IndexedDB requests and transactions as futures.
//!
//! The handlers resolve a Rust future directly, and wasm-bindgen-futures runs the waiting task
//! in a microtask of the same event, so a transaction is still active when the task places its
//! next request: awaiting [`RequestEvents::next`] never lets a transaction commit early.

use super::IdbError;
use js_sys::Array;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Event, IdbKeyRange, IdbObjectStore, IdbRequest, IdbTransaction};

#[derive(Default)]
struct Slot {
    outcome: Option<Result<JsValue, IdbError>>,
    waker: Option<Waker>,
}

impl Slot {
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
                let err = match request.error() {
                    Ok(Some(dom)) => IdbError::from_js(&dom.into()),
                    Ok(None) => IdbError::Unexpected("request failed without an error".into()),
                    Err(e) => IdbError::from_js(&e),
                };
                Slot::settle(&slot, Err(err));
            })
        };
        request.set_onsuccess(Some(on_success.as_ref().unchecked_ref()));
        request.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        RequestEvents {
            request,
            slot,
            _on_success: on_success,
            _on_error: on_error,
        }
    }

    pub fn request(&self) -> &IdbRequest {
        &self.request
    }

    /// Ends the current wait with `outcome`, from outside the request (a timeout).
    pub fn settler(&self) -> impl Fn(Result<JsValue, IdbError>) + 'static {
        let slot = self.slot.clone();
        move |outcome| Slot::settle(&slot, outcome)
    }

    /// Waits for the next success (its result) or error.
    pub fn next(&self) -> impl Future<Output = Result<JsValue, IdbError>> + '_ {
        SlotFuture { slot: &self.slot }
    }
}

impl Drop for RequestEvents {
    fn drop(&mut self) {
        self.request.set_onsuccess(None);
        self.request.set_onerror(None);
    }
}

struct SlotFuture<'a> {
    slot: &'a Rc<RefCell<Slot>>,
}

impl Future for SlotFuture<'_> {
    type Output = Result<JsValue, IdbError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.slot.borrow_mut();
        match slot.outcome.take() {
            Some(outcome) => Poll::Ready(outcome),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Waits for a one-shot request and returns its result.
pub async fn await_request(request: IdbRequest) -> Result<JsValue, IdbError> {
    RequestEvents::new(request).next().await
}

/// Waits until a transaction commits; an abort or error becomes an [`IdbError`].
pub async fn await_transaction(tx: &IdbTransaction) -> Result<(), IdbError> {
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
    let outcome = SlotFuture { slot: &slot }.await;
    tx.set_oncomplete(None);
    tx.set_onabort(None);
    outcome.map(|_| ())
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
        let mut reader = BatchReader {
            store,
            limit,
            pending: None,
        };
        reader.ask(None)?;
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
