//! Opening and deleting databases, and running an upgrade (`versionchange`) transaction.

use super::request::{await_request, RequestEvents};
use super::{factory, IdbError};
use std::any::Any;
use std::cell::{Cell, RefCell};
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
}

/// A timer's id (for `clearTimeout`) and the closure it calls.
type Timer = (i32, Closure<dyn FnMut()>);
type EventClosure = Closure<dyn FnMut(Event)>;
/// An upgrade's own error, with its type erased so that one copy of [`open_with_upgrade`]'s
/// body serves every caller (the wasm carried one per error type).
type UpgradeError = Box<dyn Any>;
type UpgradeFn =
    Box<dyn FnOnce(Upgrade) -> Pin<Box<dyn Future<Output = Result<(), UpgradeError>>>>>;

/// Why [`open_upgraded`] failed: IndexedDB's reason, or the upgrade's own error.
enum OpenFailure {
    Idb(IdbError),
    Upgrade(UpgradeError),
}

impl From<IdbError> for OpenFailure {
    fn from(e: IdbError) -> Self {
        OpenFailure::Idb(e)
    }
}

/// What to do while other connections block an upgrade.
#[derive(Default)]
pub struct BlockedPolicy {
    /// Called once when the upgrade is blocked (so the page can say so).
    pub on_blocked: Option<Box<dyn Fn()>>,
    /// Give up after this many milliseconds blocked: the open fails with
    /// [`IdbError::Blocked`] and, should the other tabs let go later, the upgrade is aborted
    /// at once, so it can never run half-watched. `None` waits for as long as it takes.
    pub timeout_ms: Option<u32>,
}

/// Opens `name` at `version`, running `upgrade` inside the `versionchange` transaction if the
/// database is older. If `upgrade` fails, the transaction is aborted — schema, data and version
/// stay exactly as they were — and its error is returned.
pub async fn open_with_upgrade<F, Fut, E>(
    name: &str,
    version: u64,
    upgrade: F,
    blocked: BlockedPolicy,
) -> Result<IdbDatabase, E>
where
    F: FnOnce(Upgrade) -> Fut + 'static,
    Fut: Future<Output = Result<(), E>> + 'static,
    E: From<IdbError> + 'static,
{
    let upgrade: UpgradeFn = Box::new(move |u| {
        Box::pin(async move { upgrade(u).await.map_err(|e| Box::new(e) as UpgradeError) })
    });
    match open_upgraded(name, version, upgrade, blocked).await {
        Ok(db) => Ok(db),
        Err(OpenFailure::Idb(e)) => Err(E::from(e)),
        Err(OpenFailure::Upgrade(e)) => match e.downcast::<E>() {
            Ok(e) => Err(*e),
            Err(_) => Err(E::from(IdbError::Unexpected(
                "an upgrade failed with an error of another type".into(),
            ))),
        },
    }
}

async fn open_upgraded(
    name: &str,
    version: u64,
    upgrade: UpgradeFn,
    blocked: BlockedPolicy,
) -> Result<IdbDatabase, OpenFailure> {
    let request = factory()?
        .open_with_f64(name, version as f64)
        .map_err(|e| IdbError::from_js(&e))?;
    let failure: Rc<RefCell<Option<OpenFailure>>> = Rc::new(RefCell::new(None));
    let pending = Rc::new(RefCell::new(Some(upgrade)));
    let cancelled = Rc::new(Cell::new(false));
    let started = Rc::new(Cell::new(false));
    let upgrade_tx: Rc<RefCell<Option<IdbTransaction>>> = Rc::new(RefCell::new(None));
    // Set once the upgrade future has finished (either way).
    let finished = Rc::new(Cell::new(false));
    // Set when a request of the upgrade fails with AbortError: the transaction is already
    // being aborted (by the browser, for its own reason, or by us).
    let aborting = Rc::new(Cell::new(false));
    let aborting_listener: Rc<RefCell<Option<EventClosure>>> = Rc::new(RefCell::new(None));
    let on_upgrade = {
        let (request, failure, pending) = (request.clone(), failure.clone(), pending.clone());
        let (cancelled, started, upgrade_tx) =
            (cancelled.clone(), started.clone(), upgrade_tx.clone());
        let (finished, aborting, aborting_listener) = (
            finished.clone(),
            aborting.clone(),
            aborting_listener.clone(),
        );
        Closure::<dyn FnMut(web_sys::IdbVersionChangeEvent)>::new(
            move |_: web_sys::IdbVersionChangeEvent| {
                started.set(true);
                let tx = request.transaction();
                upgrade_tx.borrow_mut().clone_from(&tx);
                if let Some(tx) = &tx {
                    // Capturing: it runs before the request's own handler, so before the
                    // upgrade future hears of the failure.
                    let aborting = aborting.clone();
                    let listener = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
                        let name = e
                            .target()
                            .and_then(|t| t.dyn_into::<IdbRequest>().ok())
                            .and_then(|r| r.error().ok().flatten())
                            .map(|d| d.name());
                        if name.as_deref() == Some("AbortError") {
                            aborting.set(true);
                        }
                    });
                    let _ = tx.add_event_listener_with_callback_and_bool(
                        "error",
                        listener.as_ref().unchecked_ref(),
                        true,
                    );
                    *aborting_listener.borrow_mut() = Some(listener);
                }
                if cancelled.get() {
                    // The caller gave up while blocked: this upgrade must not run.
                    if let Some(tx) = tx {
                        let _ = tx.abort();
                    }
                    return;
                }
                let Some(upgrade) = pending.borrow_mut().take() else {
                    return;
                };
                let (db, tx) = match (request.result(), tx) {
                    (Ok(db), Some(tx)) => (db.unchecked_into::<IdbDatabase>(), tx),
                    _ => {
                        *failure.borrow_mut() = Some(
                            IdbError::Unexpected("upgrade without a transaction".into()).into(),
                        );
                        return;
                    }
                };
                let ctx = Upgrade { db, tx: tx.clone() };
                let (failure, finished, aborting) =
                    (failure.clone(), finished.clone(), aborting.clone());
                let running = RunningUpgrade::start(&tx);
                wasm_bindgen_futures::spawn_local(async move {
                    let outcome = upgrade(ctx).await;
                    drop(running);
                    finished.set(true);
                    if let Err(err) = outcome {
                        // If the browser aborted the transaction itself (a unique index over
                        // duplicates, quota), its reason is the real one; ours is a symptom.
                        let err = match tx.error() {
                            Some(dom) => OpenFailure::Idb(IdbError::from_js(&dom.into())),
                            None => OpenFailure::Upgrade(err),
                        };
                        *failure.borrow_mut() = Some(err);
                        // Not while the browser is aborting it already: Firefox would take
                        // our abort() and forget its own reason (the transaction's error).
                        if !aborting.get() {
                            let _ = tx.abort();
                        }
                    }
                });
            },
        )
    };
    request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));

    let events = RequestEvents::new(request.clone().unchecked_into::<IdbRequest>());
    let settle = Rc::new(events.settler());
    let BlockedPolicy {
        on_blocked,
        timeout_ms,
    } = blocked;
    let timer: Rc<RefCell<Option<Timer>>> = Rc::new(RefCell::new(None));
    let on_blocked_cb = {
        let (cancelled, started, timer) = (cancelled.clone(), started.clone(), timer.clone());
        let name = name.to_string();
        Closure::<dyn FnMut(Event)>::new(move |_e: Event| {
            if let Some(cb) = &on_blocked {
                cb();
            }
            let (Some(ms), None) = (timeout_ms, timer.borrow().as_ref().map(|_| ())) else {
                return;
            };
            let (cancelled, started, settle, name) = (
                cancelled.clone(),
                started.clone(),
                settle.clone(),
                name.clone(),
            );
            let give_up = Closure::<dyn FnMut()>::new(move || {
                if !started.get() {
                    cancelled.set(true);
                    settle(Err(IdbError::Blocked { name: name.clone() }));
                }
            });
            let id = web_sys::window()
                .and_then(|window| {
                    window
                        .set_timeout_with_callback_and_timeout_and_arguments_0(
                            give_up.as_ref().unchecked_ref(),
                            ms as i32,
                        )
                        .ok()
                })
                .unwrap_or(0);
            *timer.borrow_mut() = Some((id, give_up));
        })
    };
    request.set_onblocked(Some(on_blocked_cb.as_ref().unchecked_ref()));

    let outcome = events.next().await;
    drop(events);
    if cancelled.get() {
        // Keep the handlers alive: if the other tabs let go later, the upgrade is aborted.
        on_upgrade.forget();
        on_blocked_cb.forget();
        if let Some((_, give_up)) = timer.borrow_mut().take() {
            give_up.forget();
        }
        return Err(IdbError::Blocked {
            name: name.to_string(),
        }
        .into());
    }
    request.set_onupgradeneeded(None);
    request.set_onblocked(None);
    // The other tabs let go before the give-up timer fired: it must not fire into a dropped
    // closure.
    if let (Some((id, _)), Some(window)) = (timer.borrow_mut().take(), web_sys::window()) {
        window.clear_timeout_with_handle(id);
    }
    if let Some(err) = failure.borrow_mut().take() {
        if let Ok(db) = &outcome {
            db.unchecked_ref::<IdbDatabase>().close();
        }
        // The browser's own reason for aborting (a unique index over duplicates, quota), now
        // that the abort is over: Firefox fails the upgrade's pending request (AbortError)
        // before it sets the transaction's error. Our own abort() leaves no error there.
        if let Some(dom) = upgrade_tx.borrow().as_ref().and_then(|tx| tx.error()) {
            return Err(IdbError::from_js(&dom.into()).into());
        }
        return Err(err);
    }
    if outcome.is_ok() && started.get() && !finished.get() {
        // The browser committed the upgrade while it was still running: never with only
        // IndexedDB requests awaited inside it, but say so rather than report it done.
        if let Ok(db) = &outcome {
            db.unchecked_ref::<IdbDatabase>().close();
        }
        return Err(IdbError::TransactionEnded(
            "the upgrade's transaction committed before the upgrade was done".into(),
        )
        .into());
    }
    drop(aborting_listener);
    // The upgrade itself succeeded but the browser aborted its transaction afterwards (a unique
    // index over duplicate values, quota): report the transaction's own reason.
    let outcome =
        outcome.map_err(
            |e| match upgrade_tx.borrow().as_ref().and_then(|tx| tx.error()) {
                Some(dom) => IdbError::from_js(&dom.into()),
                None => e,
            },
        );
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

thread_local! {
    /// The upgrades whose work is under way, by a number of their own.
    static RUNNING_UPGRADES: RefCell<Vec<(u64, IdbTransaction)>> = const { RefCell::new(Vec::new()) };
    static NEXT_UPGRADE: Cell<u64> = const { Cell::new(0) };
}

/// An upgrade's work under way, listed until it is dropped.
struct RunningUpgrade(u64);

impl RunningUpgrade {
    fn start(tx: &IdbTransaction) -> Self {
        let id = NEXT_UPGRADE.with(|n| {
            n.set(n.get() + 1);
            n.get()
        });
        RUNNING_UPGRADES.with(|r| {
            if let Ok(mut running) = r.try_borrow_mut() {
                running.push((id, tx.clone()));
            }
        });
        RunningUpgrade(id)
    }
}

impl Drop for RunningUpgrade {
    fn drop(&mut self) {
        RUNNING_UPGRADES.with(|r| {
            if let Ok(mut running) = r.try_borrow_mut() {
                running.retain(|(id, _)| *id != self.0);
            }
        });
    }
}

/// Aborts every upgrade whose work is under way. For a panic hook: a panic stops the wasm
/// instance, the upgrade's future never resumes, and IndexedDB would commit the transaction
/// as soon as its last request finished — half a migration or half a restore. Aborted, it
/// leaves schema, data and version exactly as they were.
pub fn abort_running_upgrades() {
    let running = RUNNING_UPGRADES.with(|r| {
        r.try_borrow_mut()
            .map(|mut running| std::mem::take(&mut *running))
            .unwrap_or_default()
    });
    for (_, tx) in running {
        let _ = tx.abort();
    }
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
    let handler = Closure::<dyn FnMut(Event)>::new(move |_e: Event| {
        target.close();
        let name = target.name();
        VERSION_CHANGE_LISTENERS.with(|l| {
            for listener in l.borrow().iter() {
                listener(&name);
            }
        });
    });
    db.set_onversionchange(Some(handler.as_ref().unchecked_ref()));
    // The handler must live as long as the connection; it is small and made once per open.
    handler.forget();
}

type Listener = Rc<dyn Fn(&str)>;

thread_local! {
    static VERSION_CHANGE_LISTENERS: RefCell<Vec<Listener>> = RefCell::new(Vec::new());
}

/// Calls `listener` with the database's name whenever one of Rewind's connections let go
/// because another tab (or this one) is changing that database: what the page shows of it may
/// be out of date.
pub fn on_version_change(listener: impl Fn(&str) + 'static) {
    VERSION_CHANGE_LISTENERS.with(|l| l.borrow_mut().push(Rc::new(listener)));
}
