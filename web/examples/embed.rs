//! A Yew app that embeds the recovery page's root component with its own migrations, compiled
//! in, instead of the page reading `rewind.json` at run time (README: "Embedding the page in a
//! Yew app"). Built by the lint tier (clippy, all targets, wasm32), so that the way stays open.

#[cfg(target_arch = "wasm32")]
fn main() {
    use rewind::{MigrationSet, Migrator, RecordAccess, Transforms};
    use rewind_web::{App, AppProps, Databases};

    static FILES: &[(&str, &str)] = rewind::embed_migrations!("../migrations");

    rewind_web::panic::install();
    let transforms = Transforms::new().register("count_words", |r: &mut dyn RecordAccess| {
        let words = r
            .get(&["content"])
            .and_then(|v| v.as_str().map(|s| s.split_whitespace().count()))
            .unwrap_or(0);
        r.set(&["meta", "wordCount"], serde_json::json!(words))
    });
    // A history that does not load is the app's bug: say so rather than show a page that
    // manages nothing.
    let set = match MigrationSet::from_files(FILES) {
        Ok(set) => set,
        Err(e) => {
            web_sys::console::error_1(&format!("the app's migrations are invalid: {e}").into());
            return;
        }
    };
    let databases = Databases::new(vec![("notes-demo".into(), Migrator::new(set, transforms))]);
    yew::Renderer::<App>::with_props(AppProps {
        databases: Some(databases),
    })
    .render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("This example runs in a browser (wasm32).");
}
