//! Helpers shared by the browser test files in `tests/`.
#![cfg(target_arch = "wasm32")]

use rewind::idb::{delete_database, IdbError};
use std::sync::atomic::{AtomicU32, Ordering};

/// A database name no other test uses, deleted first in case a previous run left it.
pub async fn fresh_database(prefix: &str) -> Result<String, IdbError> {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "{prefix}-{}-{}",
        js_sys::Date::now() as u64,
        N.fetch_add(1, Ordering::Relaxed)
    );
    delete_database(&name).await?;
    Ok(name)
}
