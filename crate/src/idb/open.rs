//! Opening and deleting databases, and running an upgrade (`versionchange`) transaction.

use super::request::{await_request, RequestEvents};
use super::{factory, IdbError};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Event, IdbDatabase, IdbOpenDbRequest, IdbRequest, IdbTransaction};

/// What an upgrade callback gets: the connection and its `versionchange` transaction.
/// Everything done through them is one atomic unit: an error aborts all of it.
pub struct Upgrade {
    pub db: IdbDatabase,
    pub tx: IdbTransaction,
    pub old_version: u64,
    pub new_version: u64,
}

type UpgradeFn = Box<dyn FnOnce(Upgrade) -> Pin<Box<dyn Future<Output = Result<(), IdbError>>>>>;

/// Opens `name` at `version`, running `upgrade` inside the `versionchange` transaction if the
/// database is older. If `upgrade` fails, the transaction is aborted — schema, data and version
/// stay exactly as they were — and its error is returned. `on_blocked` is called when other
/// connections hold the database open; the open keeps waiting for them.
pub async fn open_with_upgrade<F, Fut>(
    name: &str,
    version: u64,
    upgrade: F,
    on_blocked: Option<Box<dyn Fn()>>,
) -> Result<IdbDatabase, IdbError>
where
    F: FnOnce(Upgrade) -> Fut + 'static,
    Fut: Future<Output = Result<(), IdbError>> + 'static,
{
    let upgrade: UpgradeFn = Box::new(move |u| Box::pin(upgrade(u)));
    let request = factory()?
        .open_with_f64(name, version as f64)
        .map_err(|e| IdbError::from_js(&e))?;
    let failure: Rc<RefCell<Option<IdbError>>> = Rc::new(RefCell::new(None));
    let pending = Rc::new(RefCell::new(Some(upgrade)));
    let on_upgrade = {
        let (request, failure, pending) = (request.clone(), failure.clone(), pending.clone());
        Closure::<dyn FnMut(web_sys::IdbVersionChangeEvent)>::new(
            move |event: web_sys::IdbVersionChangeEvent| {
                let Some(upgrade) = pending.borrow_mut().take() else {
                    return;
                };
                let (db, tx) = match (request.result(), request.transaction()) {
                    (Ok(db), Some(tx)) => (db.unchecked_into::<IdbDatabase>(), tx),
                    _ => {
                        *failure.borrow_mut() =
                            Some(IdbError::Unexpected("upgrade without a transaction".into()));
                        return;
                    }
                };
                let ctx = Upgrade {
                    db,
                    tx: tx.clone(),
                    old_version: event.old_version() as u64,
                    new_version: event.new_version().unwrap_or(version as f64) as u64,
                };
                let failure = failure.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    if let Err(err) = upgrade(ctx).await {
                        *failure.borrow_mut() = Some(err);
                        // Already aborted (a failed request aborts it) is fine.
                        let _ = tx.abort();
                    }
                });
            },
        )
    };
    request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let on_blocked_cb = Closure::<dyn FnMut(Event)>::new(move |_e: Event| {
        if let Some(cb) = &on_blocked {
            cb();
        }
    });
    request.set_onblocked(Some(on_blocked_cb.as_ref().unchecked_ref()));

    let events = RequestEvents::new(request.clone().unchecked_into::<IdbRequest>());
    let outcome = events.next().await;
    request.set_onupgradeneeded(None);
    request.set_onblocked(None);
    drop(events);
    if let Some(err) = failure.borrow_mut().take() {
        if let Ok(db) = &outcome {
            db.unchecked_ref::<IdbDatabase>().close();
        }
        return Err(err);
    }
    let db: IdbDatabase = outcome?.unchecked_into();
    close_on_version_change(&db);
    Ok(db)
}

/// Opens an existing database at whatever version it has, for reading. Never creates one.
pub async fn open_existing(name: &str) -> Result<IdbDatabase, IdbError> {
    let request: IdbOpenDbRequest = factory()?.open(name).map_err(|e| IdbError::from_js(&e))?;
    // If the database does not exist, opening it without a version would create it: abort
    // that creation instead.
    let created = Rc::new(RefCell::new(false));
    let on_upgrade = {
        let (request, created) = (request.clone(), created.clone());
        Closure::<dyn FnMut(Event)>::new(move |_e: Event| {
            *created.borrow_mut() = true;
            if let Some(tx) = request.transaction() {
                let _ = tx.abort();
            }
        })
    };
    request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let outcome = await_request(request.clone().unchecked_into()).await;
    request.set_onupgradeneeded(None);
    if *created.borrow() {
        if let Ok(db) = &outcome {
            db.unchecked_ref::<IdbDatabase>().close();
        }
        return Err(IdbError::NoSuchDatabase(name.to_string()));
    }
    let db: IdbDatabase = outcome?.unchecked_into();
    close_on_version_change(&db);
    Ok(db)
}

/// Deletes a database. Waits while other connections hold it open.
pub async fn delete_database(name: &str) -> Result<(), IdbError> {
    let request = factory()?
        .delete_database(name)
        .map_err(|e| IdbError::from_js(&e))?;
    await_request(request.unchecked_into()).await.map(|_| ())
}

/// A connection of ours must never block another tab's upgrade: let go when asked.
fn close_on_version_change(db: &IdbDatabase) {
    let target = db.clone();
    let handler = Closure::<dyn FnMut(Event)>::new(move |_e: Event| target.close());
    db.set_onversionchange(Some(handler.as_ref().unchecked_ref()));
    // The handler must live as long as the connection; it is small and made once per open.
    handler.forget();
}
