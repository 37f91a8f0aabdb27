//! The demo database of `make serve` and the end-to-end tests: the notes app of
//! `migrations/` (configured by the demo build's `rewind.json`, `web/demo/`), created the way a real app's database grows — migrated to version 1, filled
//! with version-1 data, then migrated to the latest version, so its data went through every
//! data step. Generated deterministically, so tests can count on exact figures.

use rewind::{list_app_databases, OperationOptions, Rewind, UnsupportedRecords};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::IdbTransactionMode;

/// The demo notes app's database, one database of the demo build's `rewind.json`.
pub const DEMO_DATABASE: &str = "notes-demo";
pub const NOTEBOOKS: u32 = 12;
pub const NOTES: u32 = 3000;
pub const ATTACHMENTS: u32 = 200;

/// Creates the demo database unless it exists already.
pub async fn ensure_demo_database() -> Result<(), String> {
    let text = |e: rewind::RewindError| e.to_string();
    let listed = list_app_databases().await.map_err(|e| e.to_string())?;
    if listed.iter().any(|d| d.name == DEMO_DATABASE) {
        return Ok(());
    }
    let rewind = Rewind::new(DEMO_DATABASE, crate::config_load::migrator(DEMO_DATABASE)?);
    rewind
        .migrate_to(Some(1), OperationOptions::default())
        .await
        .map_err(text)?;
    write(&["notebooks", "notes", "settings"], fill_v1).await?;
    rewind
        .migrate_to(None, OperationOptions::default())
        .await
        .map_err(text)?;
    write(&["attachments"], fill_attachments).await?;
    rewind
        .backup(
            "demo: notes with attachments",
            UnsupportedRecords::Refuse,
            None,
        )
        .await
        .map_err(text)?;
    Ok(())
}

/// Fills `stores` of the demo database in one transaction, as the app itself would: plain
/// IndexedDB, no Rewind.
async fn write(
    stores: &[&str],
    fill: fn(&web_sys::IdbTransaction) -> Result<(), JsValue>,
) -> Result<(), String> {
    let outcome = async {
        let factory = web_sys::window()
            .ok_or("no window")?
            .indexed_db()?
            .ok_or("IndexedDB is switched off")?;
        let db: web_sys::IdbDatabase = settled(factory.open(DEMO_DATABASE)?.unchecked_ref(), false)
            .await?
            .unchecked_into();
        let names: js_sys::Array = stores.iter().map(|s| JsValue::from_str(s)).collect();
        let filled = async {
            let tx =
                db.transaction_with_str_sequence_and_mode(&names, IdbTransactionMode::Readwrite)?;
            fill(&tx)?;
            settled(&tx, true).await
        }
        .await;
        db.close();
        filled.map(|_| ())
    }
    .await;
    outcome.map_err(|e: JsValue| rewind::describe_thrown(&e))
}

/// Waits for a request's `success` (or a transaction's `complete`), failing on `error` or
/// `abort`.
async fn settled(target: &web_sys::EventTarget, transaction: bool) -> Result<JsValue, JsValue> {
    let done_event = if transaction { "complete" } else { "success" };
    let target = target.clone();
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let result = target.clone();
        let on_done = Closure::once_into_js(move || {
            let value =
                js_sys::Reflect::get(&result, &"result".into()).unwrap_or(JsValue::UNDEFINED);
            let _ = resolve.call1(&JsValue::UNDEFINED, &value);
        });
        let failed = target.clone();
        let on_failed = Closure::once_into_js(move || {
            let error = js_sys::Reflect::get(&failed, &"error".into()).unwrap_or(JsValue::NULL);
            let _ = reject.call1(&JsValue::UNDEFINED, &error);
        });
        let _ = target.add_event_listener_with_callback(done_event, on_done.unchecked_ref());
        // One event each, as the closure runs once: a failed request's `error` reaches its
        // transaction too, before the transaction's `abort`.
        let failed_event = if transaction { "abort" } else { "error" };
        let _ = target.add_event_listener_with_callback(failed_event, on_failed.unchecked_ref());
    });
    JsFuture::from(promise).await
}

/// A tiny deterministic generator: the same demo data on every machine.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: u32) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % below as u64) as u32
    }
}

fn object(fields: &[(&str, JsValue)]) -> Result<JsValue, JsValue> {
    let obj = js_sys::Object::new();
    for (k, v) in fields {
        js_sys::Reflect::set(&obj, &JsValue::from_str(k), v)?;
    }
    Ok(obj.into())
}

fn strings(items: &[&str]) -> JsValue {
    items
        .iter()
        .map(|s| JsValue::from_str(s))
        .collect::<js_sys::Array>()
        .into()
}

fn fill_v1(tx: &web_sys::IdbTransaction) -> Result<(), JsValue> {
    let notebooks = tx.object_store("notebooks")?;
    let notes = tx.object_store("notes")?;
    let settings = tx.object_store("settings")?;
    let mut rng = Lcg(2026);
    const WORDS: [&str; 10] = [
        "meeting", "garden", "plan", "list", "draft", "trip", "idea", "call", "notes", "review",
    ];
    for n in 0..NOTEBOOKS {
        notebooks.put(&object(&[
            ("id", format!("nb-{n:02}").into()),
            ("name", format!("Notebook {n}").into()),
            ("color", ["red", "green", "blue"][n as usize % 3].into()),
            ("archived", (n % 5 == 4).into()),
        ])?)?;
    }
    let base_time = 1_767_225_600_000.0; // 2026-01-01T00:00:00Z
    for n in 0..NOTES {
        let title = format!(
            "{} {} #{n}",
            WORDS[rng.next(10) as usize],
            WORDS[rng.next(10) as usize]
        );
        let updated = js_sys::Date::new(&JsValue::from_f64(base_time + n as f64 * 3_600_000.0));
        let meta = object(&[
            ("pinned", (rng.next(10) == 0).into()),
            (
                "rating",
                if n % 7 == 0 {
                    JsValue::NULL
                } else {
                    (rng.next(50) as f64 / 10.0).into()
                },
            ),
        ])?;
        notes.put(&object(&[
            (
                "notebookId",
                format!("nb-{:02}", rng.next(NOTEBOOKS)).into(),
            ),
            ("title", title.into()),
            (
                "body",
                format!("Body of note {n}. ")
                    .repeat(1 + rng.next(5) as usize)
                    .into(),
            ),
            ("updatedAt", updated.into()),
            ("meta", meta),
        ])?)?;
    }
    let entries: [(&str, JsValue); 6] = [
        ("theme", "dark".into()),
        ("fontSize", 14.into()),
        ("spellcheck", true.into()),
        ("lastSync", JsValue::NULL),
        ("recentNotebooks", strings(&["nb-01", "nb-03"])),
        (
            "editor",
            object(&[("tabSize", 4.into()), ("wrap", true.into())])?,
        ),
    ];
    for (key, value) in entries {
        settings.put_with_key(&value, &key.into())?;
    }
    Ok(())
}

fn fill_attachments(tx: &web_sys::IdbTransaction) -> Result<(), JsValue> {
    let attachments = tx.object_store("attachments")?;
    let mut rng = Lcg(7);
    for n in 0..ATTACHMENTS {
        let bytes = js_sys::Uint8Array::new_with_length(64 + rng.next(512));
        bytes.fill(n as u8, 0, bytes.length());
        attachments.put_with_key(
            &object(&[
                ("noteId", (1 + rng.next(NOTES)).into()),
                ("name", format!("scan-{n}.bin").into()),
                ("bytes", bytes.into()),
            ])?,
            &JsValue::from_f64(n as f64 + 1.0),
        )?;
    }
    Ok(())
}
