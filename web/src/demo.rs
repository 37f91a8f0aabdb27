//! The demo database of `make serve` and the end-to-end tests: a small notes app with a few
//! stores, indexes of every kind, and a few thousand records of mixed types. Generated
//! deterministically, so tests can count on exact figures.

use rewind::idb::{list_databases, open_with_upgrade, IdbError, Upgrade};
use wasm_bindgen::JsValue;
use web_sys::{IdbIndexParameters, IdbObjectStoreParameters};

pub const DEMO_DATABASE: &str = "notes-demo";
pub const NOTEBOOKS: u32 = 12;
pub const NOTES: u32 = 3000;
pub const ATTACHMENTS: u32 = 200;

/// Creates the demo database unless it exists already.
pub async fn ensure_demo_database() -> Result<(), IdbError> {
    if list_databases()
        .await?
        .iter()
        .any(|d| d.name == DEMO_DATABASE)
    {
        return Ok(());
    }
    let db = open_with_upgrade(DEMO_DATABASE, 1, fill, Default::default()).await?;
    db.close();
    Ok(())
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

fn object(fields: &[(&str, JsValue)]) -> Result<JsValue, IdbError> {
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

async fn fill(up: Upgrade) -> Result<(), IdbError> {
    let db = &up.db;
    let params = IdbObjectStoreParameters::new();
    params.set_key_path(&"id".into());
    let notebooks = db.create_object_store_with_optional_parameters("notebooks", &params)?;
    let unique = IdbIndexParameters::new();
    unique.set_unique(true);
    notebooks.create_index_with_str_and_optional_parameters("by_name", "name", &unique)?;

    let params = IdbObjectStoreParameters::new();
    params.set_key_path(&"id".into());
    params.set_auto_increment(true);
    let notes = db.create_object_store_with_optional_parameters("notes", &params)?;
    notes.create_index_with_str("by_notebook", "notebookId")?;
    notes.create_index_with_str("by_updated", "updatedAt")?;
    let multi = IdbIndexParameters::new();
    multi.set_multi_entry(true);
    notes.create_index_with_str_and_optional_parameters("by_tag", "tags", &multi)?;
    notes
        .create_index_with_str_sequence("by_notebook_title", &strings(&["notebookId", "title"]))?;

    let attachments = db.create_object_store("attachments")?;
    let settings = db.create_object_store("settings")?;

    let mut rng = Lcg(2026);
    const TAGS: [&str; 8] = [
        "work", "home", "ideas", "todo", "travel", "recipes", "books", "urgent",
    ];
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
        let tags: js_sys::Array = (0..rng.next(4))
            .map(|_| JsValue::from_str(TAGS[rng.next(TAGS.len() as u32) as usize]))
            .collect();
        let title = format!(
            "{} {} #{n}",
            WORDS[rng.next(10) as usize],
            WORDS[rng.next(10) as usize]
        );
        let updated = js_sys::Date::new(&JsValue::from_f64(base_time + n as f64 * 3_600_000.0));
        let meta = object(&[
            ("words", rng.next(2000).into()),
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
            ("tags", tags.into()),
            ("updatedAt", updated.into()),
            ("meta", meta),
        ])?)?;
    }
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
