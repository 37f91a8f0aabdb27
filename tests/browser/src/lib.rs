//! Helpers shared by the browser test files in `tests/`.
#![cfg(target_arch = "wasm32")]

use rewind::test_hooks::{delete_database, IdbError};
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

/// Waits `ms` milliseconds (a macrotask: never use inside a transaction).
pub async fn sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        if let Ok(set_timeout) = js_sys::Reflect::get(&global, &"setTimeout".into()) {
            let set_timeout: js_sys::Function = set_timeout.into();
            let _ = set_timeout.call2(&global, &resolve, &ms.into());
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Runs a piece of JavaScript (an async function body) and returns its result.
pub async fn js(body: &str) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue> {
    let make = js_sys::Function::new_no_args(&format!("return (async () => {{ {body} }})();"));
    let promise: js_sys::Promise = make.call0(&wasm_bindgen::JsValue::NULL)?.into();
    wasm_bindgen_futures::JsFuture::from(promise).await
}

/// Everything in a database as one JSON text: IDB version, every store's schema options and
/// every key and record (Rewind's own stores included). Two equal dumps mean nothing changed.
pub async fn dump(name: &str) -> String {
    let script = format!(
        r#"
        const db = await new Promise((ok, fail) => {{
          const r = indexedDB.open({name:?});
          r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error);
        }});
        const out = {{ version: db.version, stores: {{}} }};
        const names = [...db.objectStoreNames];
        if (names.length) {{
          const tx = db.transaction(names, "readonly");
          for (const n of names) {{
            const s = tx.objectStore(n);
            const get = (r) => new Promise((ok, fail) => {{ r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); }});
            out.stores[n] = {{
              keyPath: s.keyPath, autoIncrement: s.autoIncrement,
              indexes: [...s.indexNames].map((i) => {{ const x = s.index(i); return [i, x.keyPath, x.unique, x.multiEntry]; }}),
              keys: await get(s.getAllKeys()), values: await get(s.getAll()),
            }};
          }}
        }}
        db.close();
        return JSON.stringify(out);
        "#
    );
    match js(&script).await {
        Ok(v) => v.as_string().unwrap_or_default(),
        Err(e) => format!("dump failed: {e:?}"),
    }
}
