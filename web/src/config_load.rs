//! The databases the page manages, with their migrators: read at start from `rewind.json`
//! beside the page (and the migrations and transforms module it names), or given by an app
//! that embeds the page's root component with its own migrations ([`Databases::new`]).
//!
//! Every URL is resolved against the page's own address (`rewind.json`) or the
//! configuration's (what it names), never against the site's root, so the page's folder can
//! sit under any path. The service worker (`web/sw.js`) keeps the same files for offline use.

use crate::config::{self, ConfigError, MigrationsSource, CONFIG_FILE};
use crate::policy::AppDatabase;
use rewind::Migrator;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/config.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = resolveUrl)]
    fn resolve_url(url: &str, base: &str) -> Result<String, JsValue>;
    #[wasm_bindgen(js_name = pageUrl)]
    fn page_url() -> String;
    #[wasm_bindgen(js_name = sameOrigin)]
    fn same_origin(url: &str) -> bool;
    #[wasm_bindgen(catch, js_name = fetchText)]
    async fn fetch_text(url: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = importTransforms)]
    async fn import_transforms(url: &str) -> Result<JsValue, JsValue>;
}

/// The databases an app manages and their migrators. Equal when they are the same list, so
/// that an app's props compare cheaply.
#[derive(Clone)]
pub struct Databases(Rc<Vec<(String, Migrator)>>);

impl Databases {
    /// For an app that embeds the page: each database's name and the [`Migrator`] of its
    /// migrations (with its baseline, if any).
    pub fn new(databases: Vec<(String, Migrator)>) -> Self {
        Databases(Rc::new(databases))
    }

    /// What the reducer knows of them.
    pub(crate) fn listed(&self) -> Vec<AppDatabase> {
        self.0
            .iter()
            .map(|(name, m)| AppDatabase {
                name: name.clone(),
                latest: m.migrations().latest(),
                baseline: match m.baseline() {
                    Some(rewind::Baseline::Version(v)) => Some(v),
                    _ => None,
                },
            })
            .collect()
    }
}

impl PartialEq for Databases {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

thread_local! {
    /// The page's one configuration, once loaded (the effects read migrators from it).
    static IN_USE: RefCell<Option<Databases>> = const { RefCell::new(None) };
}

/// Makes `databases` the ones the page's effects use.
pub(crate) fn use_databases(databases: &Databases) {
    IN_USE.with(|d| *d.borrow_mut() = Some(databases.clone()));
}

/// The migrator of a configured database.
pub(crate) fn migrator(name: &str) -> Result<Migrator, String> {
    IN_USE.with(|d| {
        d.borrow()
            .as_ref()
            .and_then(|d| d.0.iter().find(|(n, _)| n == name))
            .map(|(_, m)| m.clone())
            .ok_or_else(|| format!("database {name:?} is not in this page's configuration"))
    })
}

fn describe(e: &JsValue) -> String {
    rewind::describe_thrown(e)
}

/// Fetches `url` (for `file`, as the messages name it): its text, or what went wrong.
async fn fetch(file: &str, url: &str) -> Result<String, ConfigError> {
    let answer = fetch_text(url).await.map_err(|e| ConfigError::Unreadable {
        file: file.into(),
        url: url.into(),
        reason: describe(&e),
    })?;
    let status = js_sys::Reflect::get(&answer, &"status".into())
        .ok()
        .and_then(|s| s.as_f64())
        .unwrap_or(0.0) as u16;
    js_sys::Reflect::get(&answer, &"text".into())
        .ok()
        .and_then(|t| t.as_string())
        .ok_or(ConfigError::Missing {
            file: file.into(),
            url: url.into(),
            status,
        })
}

/// `relative` (named by field `field` of `rewind.json`) resolved against the configuration's
/// URL; only a URL of this site, which the service worker keeps and the CSP allows.
fn resolve(relative: &str, base: &str, field: String) -> Result<String, ConfigError> {
    let url = resolve_url(relative, base).map_err(|_| ConfigError::Invalid {
        field: field.clone(),
        reason: format!("{relative:?} is not a URL"),
    })?;
    if !same_origin(&url) {
        return Err(ConfigError::Invalid {
            field,
            reason: format!(
                "{relative:?} is on another site; the page loads only files of its own site \
                 (copy the file beside {CONFIG_FILE})"
            ),
        });
    }
    Ok(url)
}

/// Reads `rewind.json` beside the page and everything it names, and checks the migrations as
/// `Rewind.open` does.
pub async fn load() -> Result<Databases, ConfigError> {
    let config_url =
        resolve_url(CONFIG_FILE, &page_url()).map_err(|e| ConfigError::Unreadable {
            file: CONFIG_FILE.into(),
            url: CONFIG_FILE.into(),
            reason: describe(&e),
        })?;
    let text = fetch(CONFIG_FILE, &config_url).await?;
    let mut databases = Vec::new();
    for (i, db) in config::parse(&text)?.into_iter().enumerate() {
        let (list, file) = match &db.migrations {
            MigrationsSource::Url(relative) => {
                let url = resolve(relative, &config_url, format!("databases[{i}].migrations"))?;
                let text = fetch(relative, &url).await?;
                let list = js_sys::JSON::parse(&text).map_err(|e| ConfigError::NotJson {
                    file: relative.clone(),
                    reason: describe(&e),
                })?;
                (list, relative.clone())
            }
            MigrationsSource::Inline(value) => {
                let list =
                    js_sys::JSON::parse(&value.to_string()).map_err(|e| ConfigError::NotJson {
                        file: CONFIG_FILE.into(),
                        reason: describe(&e),
                    })?;
                (list, format!("{CONFIG_FILE}, databases[{i}].migrations"))
            }
        };
        let (named, named_from) = match &db.transforms {
            Some(relative) => {
                let url = resolve(relative, &config_url, format!("databases[{i}].transforms"))?;
                let named = import_transforms(&url)
                    .await
                    .map_err(|e| ConfigError::Transforms {
                        database: db.name.clone(),
                        file: relative.clone(),
                        reason: describe(&e),
                    })?;
                (named, relative.clone())
            }
            None => (JsValue::UNDEFINED, format!("databases[{i}].transforms")),
        };
        let (set, transforms) =
            rewind::migrations_from_js(&list, &named, &named_from).map_err(|e| {
                ConfigError::Migrations {
                    database: db.name.clone(),
                    file: file.clone(),
                    reason: e.to_string(),
                }
            })?;
        config::check_baseline(i, db.baseline, set.latest())?;
        let mut migrator = Migrator::new(set, transforms);
        if let Some(baseline) = db.baseline {
            migrator = migrator.with_baseline(baseline);
        }
        databases.push((db.name, migrator));
    }
    Ok(Databases::new(databases))
}
