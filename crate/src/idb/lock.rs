//! Serializing operations on one database across tabs with the Web Locks API.
//!
//! Two tabs that both start a rollback must not interleave: each operation holds the exclusive
//! lock `rewind:<database>` from before it reads the state until after it wrote. Browsers
//! without Web Locks run unlocked (IndexedDB's own versionchange rules still keep each single
//! upgrade atomic).

use super::IdbError;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Held while an operation runs; dropping it releases the lock (also when the operation's
/// future is dropped half-way).
pub struct LockGuard {
    release: Option<Function>,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
    }
}

fn locks() -> Option<JsValue> {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
    let locks = Reflect::get(&navigator, &"locks".into()).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then_some(locks)
}

/// Waits for the exclusive lock named `rewind:<database>`.
pub async fn lock_database(database: &str) -> Result<LockGuard, IdbError> {
    lock_named(&format!("rewind:{database}")).await
}

/// Waits for the exclusive lock that every backup folder's writer holds while it reads and
/// rewrites a folder's manifest (`rewind-folder`, apart from every database's): two tabs, or
/// two databases sharing a folder, would otherwise both list what they read and drop each
/// other's file, or choose the same free name.
pub async fn lock_folders() -> Result<LockGuard, IdbError> {
    lock_named("rewind-folder").await
}

async fn lock_named(name: &str) -> Result<LockGuard, IdbError> {
    let Some(locks) = locks() else {
        return Ok(LockGuard { release: None });
    };
    let request: Function = Reflect::get(&locks, &"request".into())?
        .dyn_into()
        .map_err(|_| IdbError::Unexpected("navigator.locks.request is not a function".into()))?;
    // `held` stays pending while we hold the lock; resolving it releases the lock.
    let mut release: Option<Function> = None;
    let held = Promise::new(&mut |resolve, _| release = Some(resolve));
    let mut on_acquired: Option<Function> = None;
    let acquired = Promise::new(&mut |resolve, _| on_acquired = Some(resolve));
    let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        if let Some(f) = on_acquired {
            let _ = f.call0(&JsValue::UNDEFINED);
        }
        held.into()
    });
    let name = JsValue::from_str(name);
    // The request's own promise settles only on release; nothing to wait for there.
    let _settles_on_release = request.call2(&locks, &name, &callback)?;
    JsFuture::from(acquired).await?;
    Ok(LockGuard { release })
}
