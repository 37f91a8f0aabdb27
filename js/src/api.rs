//! The `Rewind` class JavaScript sees. Every method returns a Promise; failures reject with an
//! `Error` (name `RewindError`) whose `code` is stable and whose message is for people.

use crate::views::{plan_view, round_trips_view, validation_view};
use js_sys::{Array, Function, Object, Promise, Reflect};
use rewind::backup::Passphrase;
use rewind::{
    describe_js_type as describe_type, migrations_from_js, Baseline, ManualBackup, Migrator,
    OperationOptions, Progress, RestoreConsent, RestoreSource, Rewind as Inner, RewindError,
    UnsupportedRecords,
};
use rewind::{FolderWrite, FolderWriteSlot};
use serde::Serialize;
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// An `Error` with a stable `code`.
pub(crate) fn error(code: &str, message: &str) -> JsValue {
    let e = js_sys::Error::new(message);
    e.set_name("RewindError");
    let _ = Reflect::set(&e, &"code".into(), &code.into());
    e.into()
}

fn rewind_error(e: RewindError) -> JsValue {
    error(e.code(), &e.to_string())
}

fn invalid_argument(message: impl AsRef<str>) -> JsValue {
    error("InvalidArgument", message.as_ref())
}

/// A result that could not be handed to JavaScript: a fault of Rewind's, not of the
/// database (whatever the operation did is done).
fn internal(e: impl std::fmt::Display) -> JsValue {
    error(
        "Internal",
        &format!(
            "Rewind could not hand its result to JavaScript ({e}). This is a bug in Rewind: \
             reload the page, check the database's status, and report it."
        ),
    )
}

/// A Rust value as the plain JavaScript value its JSON describes.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(value).map_err(internal)?;
    js_sys::JSON::parse(&text).map_err(internal_thrown)
}

fn internal_thrown(e: JsValue) -> JsValue {
    internal(rewind::describe_thrown(&e))
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// An options object (or nothing), with only the keys named.
fn options(value: &JsValue, what: &str, allowed: &[&str]) -> Result<JsValue, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(Object::new().into());
    }
    if !value.is_object() || value.is_function() || Array::is_array(value) {
        return Err(invalid_argument(format!(
            "{what} must be an object, not {}",
            describe_type(value)
        )));
    }
    for key in Object::keys(value.unchecked_ref::<Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        if !allowed.contains(&key.as_str()) {
            return Err(invalid_argument(format!(
                "{what} has no option {key:?} (known: {})",
                allowed.join(", ")
            )));
        }
    }
    Ok(value.clone())
}

fn function(obj: &JsValue, key: &str, what: &str) -> Result<Option<Function>, JsValue> {
    let v = get(obj, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.dyn_into::<Function>().map(Some).map_err(|v| {
        invalid_argument(format!(
            "{what}.{key} must be a function, not {}",
            describe_type(&v)
        ))
    })
}

fn boolean(obj: &JsValue, key: &str, what: &str) -> Result<bool, JsValue> {
    boolean_or(obj, key, false, what)
}

/// `obj[key]` as a boolean, `default` when it is absent.
fn boolean_or(obj: &JsValue, key: &str, default: bool, what: &str) -> Result<bool, JsValue> {
    let v = get(obj, key);
    if v.is_undefined() || v.is_null() {
        return Ok(default);
    }
    v.as_bool().ok_or_else(|| {
        invalid_argument(format!(
            "{what}.{key} must be true or false, not {}",
            describe_type(&v)
        ))
    })
}

fn whole_number(v: &JsValue, what: &str, max: u32) -> Result<Option<f64>, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.fract() == 0.0 && (0.0..=f64::from(max)).contains(&n) => Ok(Some(n)),
        _ => Err(invalid_argument(format!(
            "{what} must be a whole number from 0 to {max}, not {}",
            js_sys::JSON::stringify(v)
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_else(|| describe_type(v))
        ))),
    }
}

fn version(v: &JsValue, what: &str) -> Result<Option<u32>, JsValue> {
    Ok(whole_number(v, what, u32::MAX)?.map(|n| n as u32))
}

/// A target version the method cannot do without.
fn required_version(v: &JsValue, method: &str) -> Result<u32, JsValue> {
    version(v, "the target version")?
        .ok_or_else(|| invalid_argument(format!("{method} needs the target version")))
}

/// The version to adopt a database made before the app used Rewind at: a schema version from 1
/// to `latest`, or `"auto"` (the highest whose schema matches).
fn baseline(v: &JsValue, what: &str, latest: u32) -> Result<Option<Baseline>, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    if v.as_string().as_deref() == Some("auto") {
        return Ok(Some(Baseline::Auto));
    }
    match v.as_f64() {
        Some(n) if n.fract() == 0.0 && n >= 1.0 && n <= latest as f64 => {
            Ok(Some(Baseline::Version(n as u32)))
        }
        _ => Err(invalid_argument(format!(
            "{what} must be a schema version from 1 to {latest} or \"auto\", not {}",
            js_sys::JSON::stringify(v)
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_else(|| describe_type(v))
        ))),
    }
}

/// A backup named by a catalog id or given as a file.
enum Source {
    Id(String),
    Blob(web_sys::Blob),
}

impl From<Source> for RestoreSource {
    fn from(source: Source) -> Self {
        match source {
            Source::Id(id) => RestoreSource::Backup(id),
            Source::Blob(blob) => RestoreSource::Blob(blob),
        }
    }
}

fn restore_source(source: &JsValue, method: &str) -> Result<Source, JsValue> {
    if let Some(id) = source.as_string() {
        Ok(Source::Id(id))
    } else if let Some(blob) = rewind::as_blob(source) {
        Ok(Source::Blob(blob))
    } else {
        Err(invalid_argument(format!(
            "{method} needs a backup id, a File or a Blob, not {}",
            describe_type(source)
        )))
    }
}

/// The options of a method whose only option is `onProgress`.
/// The options of a destructive operation: `onProgress`, `automaticBackup` (true unless the
/// app passes `false`, by a person's explicit choice), and `extra` ones of its own.
fn operation_options(
    options: &JsValue,
    extra: &[&str],
) -> Result<(JsValue, OperationOptions), JsValue> {
    let allowed: Vec<&str> = ["onProgress", "automaticBackup"]
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    let opts = self::options(options, "options", &allowed)?;
    let automatic_backup = match get(&opts, "automaticBackup") {
        v if v.is_undefined() => true,
        _ => boolean(&opts, "automaticBackup", "options")?,
    };
    let chosen = OperationOptions {
        progress: progress(&opts, "options")?,
        automatic_backup,
        cancel: None,
        folder_write: Some(FolderWriteSlot::default()),
    };
    Ok((opts, chosen))
}

/// Watches an `AbortSignal` for as long as it lives: an abort sets the restore's cancel flag.
struct SignalWatch {
    signal: web_sys::AbortSignal,
    on_abort: Closure<dyn FnMut()>,
}

impl Drop for SignalWatch {
    fn drop(&mut self) {
        let _ = self
            .signal
            .remove_event_listener_with_callback("abort", self.on_abort.as_ref().unchecked_ref());
    }
}

/// `options.signal`, an `AbortSignal` (or nothing): the flag a restore hears, and what keeps
/// it listening.
fn cancel_signal(opts: &JsValue) -> Result<Option<(rewind::CancelFlag, SignalWatch)>, JsValue> {
    let v = get(opts, "signal");
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    let signal = v.dyn_into::<web_sys::AbortSignal>().map_err(|v| {
        invalid_argument(format!(
            "options.signal must be an AbortSignal (from an AbortController), not {}",
            describe_type(&v)
        ))
    })?;
    let flag = Rc::new(Cell::new(signal.aborted()));
    let on_abort = {
        let flag = flag.clone();
        Closure::<dyn FnMut()>::new(move || flag.set(true))
    };
    signal
        .add_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref())
        .map_err(|e| internal(rewind::describe_thrown(&e)))?;
    Ok(Some((flag, SignalWatch { signal, on_abort })))
}

/// `options.passphrase`: a non-empty string, or nothing.
fn passphrase(opts: &JsValue) -> Result<Option<Passphrase>, JsValue> {
    let v = get(opts, "passphrase");
    if v.is_undefined() {
        return Ok(None);
    }
    let text = string(&v, "options.passphrase")?;
    Passphrase::new(text).map(Some).map_err(|_| {
        invalid_argument(
            "options.passphrase is empty; give at least one character, or leave it out",
        )
    })
}

/// `view` (a manifest as JavaScript sees it) marked as sealed when it is.
fn mark_sealed(view: &JsValue, sealed: bool) -> Result<(), JsValue> {
    if sealed {
        Reflect::set(view, &"sealed".into(), &true.into())?;
    }
    Ok(())
}

fn string(v: &JsValue, what: &str) -> Result<String, JsValue> {
    v.as_string().ok_or_else(|| {
        invalid_argument(format!("{what} must be a string, not {}", describe_type(v)))
    })
}

fn progress(opts: &JsValue, what: &str) -> Result<Option<Progress>, JsValue> {
    Ok(function(opts, "onProgress", what)?.map(|f| {
        Rc::new(move |done: u64, total: u64| {
            // A failing progress callback must not cancel the operation.
            let _ = f.call2(
                &JsValue::UNDEFINED,
                &(done as f64).into(),
                &(total as f64).into(),
            );
        }) as Progress
    }))
}

/// How deep a sample record may nest (deeper, or circular, is refused).
const SAMPLE_DEPTH: usize = 64;

/// Refuses a sample value that is not JSON (so that what the check compares is what the app
/// gave): `null`, `true`/`false`, finite numbers, strings, arrays and plain objects only.
fn check_json(v: &JsValue, at: &str, depth: usize) -> Result<(), JsValue> {
    let refuse = |what: String| {
        invalid_argument(format!(
            "{at} must be JSON (null, true or false, a finite number, a string, an array or a \
             plain object), not {what}: the check compares records as JSON"
        ))
    };
    if depth > SAMPLE_DEPTH {
        return Err(invalid_argument(format!(
            "{at} is nested more than {SAMPLE_DEPTH} deep (or refers to itself): give sample \
             records that are plain JSON"
        )));
    }
    if v.is_null() || v.as_bool().is_some() || v.is_string() {
        return Ok(());
    }
    if let Some(n) = v.as_f64() {
        return match n.is_finite() {
            true => Ok(()),
            // Named as JavaScript names them (Rust would write `inf`).
            false => Err(refuse(format!(
                "the number {}",
                match n.is_nan() {
                    true => "NaN",
                    false if n > 0.0 => "Infinity",
                    false => "-Infinity",
                }
            ))),
        };
    }
    if let Some(array) = v.dyn_ref::<Array>() {
        return array
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| check_json(&item, &format!("{at}[{i}]"), depth + 1));
    }
    // A plain object: its prototype `Object.prototype` or none (not a Date, Map, class…).
    let plain = v.is_object() && !v.is_function() && {
        let proto: JsValue = Object::get_prototype_of(v).into();
        proto.is_null() || proto == JsValue::from(Object::get_prototype_of(&Object::new().into()))
    };
    if !plain {
        return Err(refuse(describe_type(v)));
    }
    for key in Object::keys(v.unchecked_ref::<Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        check_json(&get(v, &key), &format!("{at}.{key}"), depth + 1)?;
    }
    Ok(())
}

/// `options.sample` of `checkMigrations`: `{ [store]: record[] }`, every store one the history
/// creates, every record JSON. Nothing given: no records (the schema is still checked).
fn sample(
    v: &JsValue,
    set: &rewind::MigrationSet,
) -> Result<BTreeMap<String, Vec<Value>>, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(BTreeMap::new());
    }
    if !v.is_object() || v.is_function() || Array::is_array(v) {
        return Err(invalid_argument(format!(
            "options.sample must be an object of store names to arrays of records, like \
             {{ notes: [{{ id: 1, title: \"a\" }}] }}, not {}",
            describe_type(v)
        )));
    }
    let created: std::collections::BTreeSet<&String> = (1..=set.latest())
        .filter_map(|version| set.schema_at(version))
        .flat_map(|schema| schema.stores.keys())
        .collect();
    for store in Object::keys(v.unchecked_ref::<Object>()).iter() {
        let store = store.as_string().unwrap_or_default();
        if !created.contains(&store) {
            let known: Vec<&str> = created.iter().map(|s| s.as_str()).collect();
            return Err(invalid_argument(format!(
                "options.sample names store {store:?}, which no migration creates (stores: {}); \
                 give records only for the stores of the history",
                known.join(", ")
            )));
        }
        let records = get(v, &store);
        if !Array::is_array(&records) {
            return Err(invalid_argument(format!(
                "options.sample.{store} must be an array of records, not {}",
                describe_type(&records)
            )));
        }
        check_json(&records, &format!("options.sample.{store}"), 0)?;
    }
    let text = js_sys::JSON::stringify(v)
        .map_err(|e| {
            invalid_argument(format!(
                "options.sample could not be read as JSON ({})",
                rewind::describe_thrown(&e)
            ))
        })?
        .as_string()
        .unwrap_or_default();
    serde_json::from_str(&text).map_err(internal)
}

fn rejected(e: JsValue) -> Promise {
    Promise::reject(&e)
}

/// Rewind for one IndexedDB database: its migrations, backups, rollback and restore.
#[wasm_bindgen(js_name = Rewind)]
pub struct JsRewind {
    inner: Rc<Inner>,
    closed: Rc<Cell<bool>>,
    /// Wakes the backup folder's schedule for a check now (a folder was just set).
    folder_waker: Waker,
}

#[wasm_bindgen(js_class = Rewind)]
impl JsRewind {
    /// Checks the migrations completely (shapes, types, versions 1, 2, 3… without gaps, every
    /// step, every transform's function) and returns a handle for database `name`. Nothing
    /// touches the database until a method is called. Rejects with `InvalidMigration`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Rewind>")]
    pub fn open(
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Migration[]")] migrations: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RewindOptions")] options: JsValue,
    ) -> Promise {
        install_panic_hook();
        if let Some(refused) = crate::in_flight::refused_after_panic() {
            return refused;
        }
        match Self::build(&name, &migrations, &options) {
            Ok(rw) => Promise::resolve(&JsValue::from(rw)),
            Err(e) => rejected(e),
        }
    }

    /// Tests a history's rollbacks (Liquibase's update-testing-rollback): in a scratch
    /// database of its own, for every migration oldest first, `up`, `down` and `up` again over
    /// `options.sample`'s records, through the real IndexedDB adapter; reports per migration
    /// whether `down` gave back the schema and the records there were before `up` (and the
    /// first record that differs). The scratch database is deleted afterwards, whatever
    /// happened; no other database is touched. Rejects with `InvalidArgument`,
    /// `InvalidMigration`, or what the browser's storage refused.
    #[wasm_bindgen(js_name = checkMigrations, unchecked_return_type = "Promise<RoundTripReport>")]
    pub fn check_migrations(
        #[wasm_bindgen(unchecked_param_type = "Migration[]")] migrations: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CheckOptions")] options: JsValue,
    ) -> Promise {
        install_panic_hook();
        let args = (|| {
            let opts = self::options(&options, "options", &["sample", "transforms"])?;
            let (set, transforms) =
                migrations_from_js(&migrations, &get(&opts, "transforms"), "options.transforms")
                    .map_err(|e| rewind_error(e.into()))?;
            let sample = sample(&get(&opts, "sample"), &set)?;
            Ok::<_, JsValue>((Migrator::new(set, transforms), sample))
        })();
        match args {
            Ok((migrator, sample)) => crate::in_flight::settled(async move {
                let report = rewind::check_migrations(&migrator, &sample)
                    .await
                    .map_err(rewind_error)?;
                to_js(&round_trips_view(&report).map_err(internal)?)
            }),
            Err(e) => rejected(e),
        }
    }

    /// This site's storage: `{ usage, quota, persisted }` (bytes; whether the browser keeps it
    /// when the device runs low on space), or `null` where the browser does not say.
    #[wasm_bindgen(unchecked_return_type = "Promise<StorageEstimate | null>")]
    pub fn storage() -> Promise {
        crate::in_flight::settled(async move { to_js(&rewind::storage_estimate().await) })
    }

    /// Asks the browser to keep this site's data (databases and backups) when the device runs
    /// low on space, and waits for its answer: `"granted"`, `"refused"` or `"unsupported"`.
    /// Firefox asks the person first, so call it when they asked for it (a button).
    #[wasm_bindgen(unchecked_return_type = "Promise<\"granted\" | \"refused\" | \"unsupported\">")]
    pub fn persist() -> Promise {
        crate::in_flight::settled(async move { to_js(&rewind::persist().await) })
    }

    fn build(name: &JsValue, migrations: &JsValue, opts: &JsValue) -> Result<JsRewind, JsValue> {
        let name = string(name, "the database name")?;
        let opts = options(
            opts,
            "options",
            &[
                "keepAutomaticBackups",
                "blockTimeoutMs",
                "onBlocked",
                "transforms",
                "skipUnsupported",
                "baseline",
            ],
        )?;
        let skip_unsupported = boolean(&opts, "skipUnsupported", "options")?;
        let keep = whole_number(
            &get(&opts, "keepAutomaticBackups"),
            "options.keepAutomaticBackups",
            1_000_000,
        )?;
        if keep == Some(0.0) {
            return Err(invalid_argument(
                "options.keepAutomaticBackups must be at least 1: the automatic backup an \
                 operation makes is the one it can be undone with",
            ));
        }
        let timeout = whole_number(
            &get(&opts, "blockTimeoutMs"),
            "options.blockTimeoutMs",
            u32::MAX,
        )?;
        let on_blocked = function(&opts, "onBlocked", "options")?;
        let (set, transforms) =
            migrations_from_js(migrations, &get(&opts, "transforms"), "options.transforms")
                .map_err(|e| rewind_error(e.into()))?;
        let mut migrator = Migrator::new(set, transforms);
        let latest = migrator.migrations().latest();
        if let Some(b) = baseline(&get(&opts, "baseline"), "options.baseline", latest)? {
            migrator = migrator.with_baseline(b);
        }
        let mut inner = Inner::new(name, migrator);
        if let Some(keep) = keep {
            inner.backup_policy.keep_automatic = keep as usize;
        }
        if skip_unsupported {
            inner.backup_policy.unsupported = UnsupportedRecords::Skip;
        }
        if let Some(ms) = timeout {
            inner.block_timeout_ms = ms as u32;
        }
        if let Some(f) = on_blocked {
            inner.on_blocked = Some(Rc::new(move || {
                let _ = f.call0(&JsValue::UNDEFINED);
            }));
        }
        let rw = JsRewind {
            inner: Rc::new(inner),
            closed: Rc::new(Cell::new(false)),
            folder_waker: Waker::default(),
        };
        run_folder_schedule(
            Rc::downgrade(&rw.inner),
            rw.closed.clone(),
            rw.folder_waker.clone(),
        );
        Ok(rw)
    }

    /// The database's name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.inner.name().to_string()
    }

    /// The newest schema version these migrations define.
    #[wasm_bindgen(getter, js_name = latestVersion)]
    pub fn latest_version(&self) -> u32 {
        self.inner.migrator().migrations().latest()
    }

    fn run<F, Fut>(&self, f: F) -> Promise
    where
        F: FnOnce(Rc<Inner>) -> Fut,
        Fut: Future<Output = Result<JsValue, JsValue>> + 'static,
    {
        if self.closed.get() {
            return rejected(error(
                "Closed",
                "this Rewind was closed; open a new one with Rewind.open",
            ));
        }
        crate::in_flight::settled(f(self.inner.clone()))
    }

    /// [`Self::run`] once the arguments are checked: a bad argument rejects at once, before
    /// anything is opened.
    fn run_with<A, F, Fut>(&self, args: Result<A, JsValue>, f: F) -> Promise
    where
        F: FnOnce(Rc<Inner>, A) -> Fut,
        Fut: Future<Output = Result<JsValue, JsValue>> + 'static,
    {
        match args {
            Ok(a) => self.run(move |rw| f(rw, a)),
            Err(e) => rejected(e),
        }
    }

    /// Where the database stands: versions, applied and pending migrations, drift, journal.
    #[wasm_bindgen(unchecked_return_type = "Promise<Status>")]
    pub fn status(&self) -> Promise {
        self.run(|rw| async move { to_js(&rw.status().await.map_err(rewind_error)?) })
    }

    /// What going to version `to` would do, without doing it; with `{ fromStoredSteps: true }`
    /// the rollback from the steps the database keeps.
    #[wasm_bindgen(unchecked_return_type = "Promise<MigrationPlan>")]
    pub fn plan(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] to: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "PlanOptions")] options: JsValue,
    ) -> Promise {
        let args = self::options(&options, "options", &["fromStoredSteps"])
            .and_then(|opts| boolean(&opts, "fromStoredSteps", "options"))
            .and_then(|stored| Ok((required_version(&to, "plan")?, stored)));
        self.run_with(args, |rw, (to, stored)| async move {
            let plan = match stored {
                true => rw.plan_from_stored(to).await,
                false => rw.plan(to).await,
            }
            .map_err(rewind_error)?;
            to_js(&plan_view(&plan).map_err(internal)?)
        })
    }

    /// Migrates up to `to` (the latest when left out), after an automatic backup.
    #[wasm_bindgen(js_name = migrateTo, unchecked_return_type = "Promise<OperationReport>")]
    pub fn migrate_to(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "number | null")] to: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "OperationOptions")] options: JsValue,
    ) -> Promise {
        let args = operation_options(&options, &[])
            .and_then(|(_, chosen)| Ok((version(&to, "the target version")?, chosen)));
        self.run_with(args, |rw, (to, chosen)| async move {
            let slot = chosen.folder_write.clone();
            with_folder(
                to_js(&rw.migrate_to(to, chosen).await.map_err(rewind_error)?)?,
                &slot,
            )
        })
    }

    /// Rolls back to `to` with the migrations' `down` steps, after an automatic backup.
    #[wasm_bindgen(js_name = rollbackTo, unchecked_return_type = "Promise<OperationReport>")]
    pub fn rollback_to(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] to: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RollbackOptions")] options: JsValue,
    ) -> Promise {
        let args = operation_options(&options, &["fromStoredSteps"]).and_then(|(opts, chosen)| {
            let stored = boolean(&opts, "fromStoredSteps", "options")?;
            Ok((required_version(&to, "rollbackTo")?, chosen, stored))
        });
        self.run_with(args, |rw, (to, chosen, stored)| async move {
            let slot = chosen.folder_write.clone();
            let report = match stored {
                true => rw.rollback_from_stored(to, chosen).await,
                false => rw.rollback_to(to, chosen).await,
            };
            with_folder(to_js(&report.map_err(rewind_error)?)?, &slot)
        })
    }

    /// Compares the live schema with the one the recorded version implies.
    #[wasm_bindgen(unchecked_return_type = "Promise<ValidationResult>")]
    pub fn validate(&self) -> Promise {
        self.run(|rw| async move {
            let diff = rw.validate().await.map_err(rewind_error)?;
            to_js(&validation_view(&diff).map_err(internal)?)
        })
    }

    /// Adopts a database made before the app used Rewind (app stores, no record of Rewind's) at
    /// `baseline` — a schema version whose schema it has, or `"auto"`; the `baseline` option of
    /// `Rewind.open` when left out — after an automatic backup: Rewind's metadata is written,
    /// no app store or record changes. A database Rewind already manages, or one without app
    /// stores, is left as it is. Rejects with `BaselineMismatch` when the schema is not that
    /// version's (nothing changed).
    #[wasm_bindgen(unchecked_return_type = "Promise<OperationReport>")]
    pub fn adopt(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "number | \"auto\" | null")]
        baseline: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "OperationOptions")] options: JsValue,
    ) -> Promise {
        let latest = self.inner.migrator().migrations().latest();
        let args = operation_options(&options, &[]).and_then(|(_, chosen)| {
            let chosen_baseline = self::baseline(&baseline, "the baseline", latest)?
                .or(self.inner.migrator().baseline())
                .ok_or_else(|| {
                    invalid_argument(
                        "adopt needs a baseline: a schema version or \"auto\" (or open with the \
                         baseline option)",
                    )
                })?;
            Ok((chosen_baseline, chosen))
        });
        self.run_with(args, |rw, (baseline, chosen)| async move {
            let slot = chosen.folder_write.clone();
            with_folder(
                to_js(&rw.adopt(baseline, chosen).await.map_err(rewind_error)?)?,
                &slot,
            )
        })
    }

    /// Re-records the checksums of migrations modified since they were applied (when the
    /// change is intended); resolves to their versions. Changes no schema and no data.
    #[wasm_bindgen(unchecked_return_type = "Promise<number[]>")]
    pub fn repair(&self) -> Promise {
        self.run(|rw| async move { to_js(&rw.repair().await.map_err(rewind_error)?) })
    }

    /// A manual backup (kept until deleted); resolves to its manifest. A record holding a value
    /// no backup can carry refuses the backup with `UnsupportedValue`, unless `skipUnsupported`
    /// is set: then such records are left out and listed in the manifest's `skipped`. Chunks
    /// are stored compressed (format 4) unless `compress` is `false` (format 3).
    #[wasm_bindgen(unchecked_return_type = "Promise<Manifest>")]
    pub fn backup(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "string")] label: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "BackupOptions")] options: JsValue,
    ) -> Promise {
        let args = (|| {
            let opts = self::options(
                &options,
                "options",
                &["onProgress", "skipUnsupported", "compress", "passphrase"],
            )?;
            let unsupported = match boolean(&opts, "skipUnsupported", "options")? {
                true => UnsupportedRecords::Skip,
                false => UnsupportedRecords::Refuse,
            };
            let compress = boolean_or(&opts, "compress", true, "options")?;
            let label = match label.is_null_or_undefined() {
                true => String::new(),
                false => string(&label, "the label")?,
            };
            let asked = ManualBackup {
                label,
                unsupported,
                compress,
                passphrase: passphrase(&opts)?,
            };
            Ok((asked, progress(&opts, "options")?))
        })();
        self.run_with(args, |rw, (asked, progress)| async move {
            let sealed = asked.passphrase.is_some();
            let slot = FolderWriteSlot::default();
            let manifest = rw
                .backup_with(asked, progress, Some(slot.clone()))
                .await
                .map_err(rewind_error)?;
            let view = with_folder(to_js(&manifest)?, &Some(slot))?;
            mark_sealed(&view, sealed)?;
            Ok(view)
        })
    }

    /// Every backup of this database, newest first.
    #[wasm_bindgen(js_name = listBackups, unchecked_return_type = "Promise<Manifest[]>")]
    pub fn list_backups(&self) -> Promise {
        self.run(|rw| async move {
            let list = Array::new();
            for entry in rw.list_catalog().await.map_err(rewind_error)? {
                let view = to_js(&entry.manifest)?;
                mark_sealed(&view, entry.sealed)?;
                list.push(&view);
            }
            Ok(list.into())
        })
    }

    #[wasm_bindgen(js_name = deleteBackup, unchecked_return_type = "Promise<void>")]
    pub fn delete_backup(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
    ) -> Promise {
        self.run_with(string(&id, "the backup id"), |rw, id| async move {
            rw.delete_backup(&id).await.map_err(rewind_error)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// A backup as a `.rewind` file (a `File`, so a `Blob`, named
    /// `<database>-v<schema version>-<UTC time>.rewind`); sealed under `options.passphrase`
    /// when one is given. A sealed backup needs its passphrase and is exported as it is.
    #[wasm_bindgen(js_name = exportBackup, unchecked_return_type = "Promise<File>")]
    pub fn export_backup(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "PassphraseOptions")] options: JsValue,
    ) -> Promise {
        let args = (|| {
            let opts = self::options(&options, "options", &["passphrase"])?;
            Ok::<_, JsValue>((string(&id, "the backup id")?, passphrase(&opts)?))
        })();
        self.run_with(args, |rw, (id, passphrase)| async move {
            Ok(rw
                .export_sealed_backup(&id, passphrase.as_ref())
                .await
                .map_err(rewind_error)?
                .into())
        })
    }

    /// A backup's manifest — of a `.rewind` File or Blob (read and verified completely) or of
    /// a backup in the catalog (by id) — with, for each record it left out, whether restoring
    /// it now would keep that record (`kept`). Changes nothing.
    #[wasm_bindgen(unchecked_return_type = "Promise<Manifest>")]
    pub fn inspect(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | Blob")] source: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "PassphraseOptions")] options: JsValue,
    ) -> Promise {
        let args = (|| {
            let opts = self::options(&options, "options", &["passphrase"])?;
            Ok::<_, JsValue>((restore_source(&source, "inspect")?, passphrase(&opts)?))
        })();
        self.run_with(args, |rw, (source, passphrase)| async move {
            let manifest = match source {
                Source::Id(id) => rw
                    .inspect_backup(&id, passphrase.as_ref())
                    .await
                    .map_err(rewind_error)?,
                Source::Blob(blob) => Inner::inspect_sealed_file(&blob, passphrase.as_ref())
                    .await
                    .map_err(rewind_error)?,
            };
            let kept = rw.skipped_kept(&manifest).await.map_err(rewind_error)?;
            // The manifest exactly as listBackups gives it, each skipped record marked.
            let view = to_js(&manifest)?;
            let skipped = get(&view, "skipped");
            if let Some(list) = skipped.dyn_ref::<Array>() {
                for (entry, kept) in list.iter().zip(kept) {
                    Reflect::set(&entry, &"kept".into(), &kept.into())?;
                }
            }
            Ok(view)
        })
    }

    /// What restoring a backup (an id from `listBackups`, or a `.rewind` File or Blob) would
    /// change against the live database: per store the records it would add, remove and
    /// change, the schema's differences, and the same in sentences. Read in bounded memory;
    /// writes nothing and takes no backup. A damaged file rejects as `restore` would.
    /// `options.onProgress(done, total)` hears the backup's records read; `options.signal`
    /// stops it (code `Cancelled`).
    #[wasm_bindgen(unchecked_return_type = "Promise<RestoreDiff>")]
    pub fn diff(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | Blob")] source: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "DiffOptions")] options: JsValue,
    ) -> Promise {
        let args = (|| {
            let opts = self::options(&options, "options", &["onProgress", "signal", "passphrase"])?;
            let progress = progress(&opts, "options")?;
            let watch = cancel_signal(&opts)?;
            let source = RestoreSource::from(restore_source(&source, "diff")?)
                .with_passphrase(passphrase(&opts)?);
            Ok::<_, JsValue>((source, progress, watch))
        })();
        self.run_with(args, |rw, (source, progress, watch)| async move {
            let (cancel, _watch) = match watch {
                Some((flag, watch)) => (Some(flag), Some(watch)),
                None => (None, None),
            };
            to_js(
                &rw.diff(source, progress, cancel)
                    .await
                    .map_err(rewind_error)?,
            )
        })
    }

    /// Replaces the database with a backup (an id from `listBackups`, or a `.rewind` File or
    /// Blob): verified first, preceded by an automatic backup, all or nothing.
    #[wasm_bindgen(unchecked_return_type = "Promise<OperationReport>")]
    pub fn restore(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | Blob")] source: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RestoreOptions")] options: JsValue,
    ) -> Promise {
        let args = (|| {
            let (opts, mut chosen) = operation_options(
                &options,
                &[
                    "allowOtherDatabase",
                    "allowUnknownVersion",
                    "signal",
                    "passphrase",
                ],
            )?;
            let consent = RestoreConsent {
                allow_other_database: boolean(&opts, "allowOtherDatabase", "options")?,
                allow_unknown_version: boolean(&opts, "allowUnknownVersion", "options")?,
            };
            let watch = cancel_signal(&opts)?.map(|(flag, watch)| {
                chosen.cancel = Some(flag);
                watch
            });
            let source = RestoreSource::from(restore_source(&source, "restore")?)
                .with_passphrase(passphrase(&opts)?);
            Ok::<_, JsValue>((source, consent, chosen, watch))
        })();
        self.run_with(args, |rw, (source, consent, chosen, watch)| async move {
            // Listening until the restore settles.
            let _watch = watch;
            let slot = chosen.folder_write.clone();
            with_folder(
                to_js(
                    &rw.restore(source, consent, chosen)
                        .await
                        .map_err(rewind_error)?,
                )?,
                &slot,
            )
        })
    }

    /// Ends this handle: later calls reject with `Closed`. Operations already started finish.
    /// Rewind holds no connection between operations, so nothing else stays open.
    pub fn close(&self) {
        self.closed.set(true);
    }
}

// The backup folder: `setBackupFolder`, `backupFolder`, `requestFolderPermission`,
// `forgetBackupFolder`, `folderBackups`, `folderBackupFile`, and the schedule's timer.

/// `value` (an operation's report or a manifest) with `folder`: how the backup's copy in the
/// backup folder went, when a folder is set.
fn with_folder(value: JsValue, slot: &Option<FolderWriteSlot>) -> Result<JsValue, JsValue> {
    let write: Option<FolderWrite> = slot.as_ref().and_then(|s| s.borrow_mut().take());
    if let Some(write) = write {
        Reflect::set(&value, &"folder".into(), &to_js(&write)?)?;
    }
    Ok(value)
}

/// Ends the schedule's current wait early (resolving its Promise), for a check now.
#[derive(Clone, Default)]
struct Waker(Rc<RefCell<Option<Function>>>);

impl Waker {
    fn wake(&self) {
        if let Some(resolve) = self.0.borrow_mut().take() {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    }

    /// Waits `ms`, or until woken.
    async fn sleep(&self, ms: u64) {
        let slot = self.0.clone();
        let promise = Promise::new(&mut |resolve, _reject| {
            set_timeout(&resolve, ms as f64);
            *slot.borrow_mut() = Some(resolve);
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &Function, ms: f64) -> JsValue;
}

/// The backup folder's schedule, for as long as the handle is open: one timer, started once by
/// `Rewind.open` (no other call restarts it, so a page that asks for its status often still
/// gets its backups). Each check asks the core whether `every` has passed since the folder's
/// last write (kept in the catalog, so a reload does not reset it) and waits a minute, or
/// `every` when shorter.
/// It holds the handle weakly: one the page dropped (and the garbage collector freed) ends it.
fn run_folder_schedule(inner: std::rc::Weak<Inner>, closed: Rc<Cell<bool>>, waker: Waker) {
    wasm_bindgen_futures::spawn_local(async move {
        let mut wait = 60_000;
        loop {
            waker.sleep(wait).await;
            if closed.get() || crate::in_flight::refused_after_panic().is_some() {
                return;
            }
            let Some(inner) = inner.upgrade() else {
                return;
            };
            let (due, next) = inner.folder_schedule().await;
            if due {
                // Its outcome is the folder's `lastWritten` or `lastError`.
                let _ = inner.scheduled_folder_backup().await;
            }
            wait = next;
        }
    });
}

/// `{ every, keep }` of `setBackupFolder`.
fn folder_options(options: &JsValue) -> Result<(Option<u64>, u32), JsValue> {
    let opts = self::options(options, "options", &["every", "keep"])?;
    let every = match get(&opts, "every") {
        v if v.is_null_or_undefined() => None,
        v => Some(
            rewind::parse_every(&string(&v, "options.every")?)
                .map_err(|e| invalid_argument(e.to_string()))?,
        ),
    };
    let keep = match get(&opts, "keep") {
        v if v.is_null_or_undefined() => rewind::DEFAULT_FOLDER_KEEP,
        v => {
            let n = v.as_f64().ok_or_else(|| {
                invalid_argument(format!(
                    "options.keep must be a number, not {}",
                    describe_type(&v)
                ))
            })?;
            rewind::check_keep(n).map_err(|e| invalid_argument(e.to_string()))?
        }
    };
    Ok((every, keep))
}

#[wasm_bindgen(js_class = Rewind)]
impl JsRewind {
    /// Writes this database's backups also to `handle`'s folder (a
    /// `FileSystemDirectoryHandle`, from `showDirectoryPicker()`): automatic and manual ones,
    /// and with `every` ("30m", "24h", "7d") on a schedule while this handle is open, keeping
    /// `keep` (7) of the unattended ones. Asks the browser for permission to write when it is
    /// not granted (call it from a click); rejects with `FolderPermissionDenied` (nothing kept)
    /// when it is refused.
    #[wasm_bindgen(js_name = setBackupFolder, unchecked_return_type = "Promise<BackupFolder>")]
    pub fn set_backup_folder(
        &self,
        #[wasm_bindgen(unchecked_param_type = "FileSystemDirectoryHandle")] handle: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "BackupFolderOptions")] options: JsValue,
    ) -> Promise {
        let args = folder_options(&options).and_then(|(every, keep)| {
            if !rewind::is_directory_handle(&handle) {
                return Err(invalid_argument(format!(
                    "setBackupFolder needs a FileSystemDirectoryHandle (from                      showDirectoryPicker()), not {}",
                    describe_type(&handle)
                )));
            }
            Ok((handle.clone(), every, keep))
        });
        let waker = self.folder_waker.clone();
        self.run_with(args, |rw, (handle, every, keep)| async move {
            let status = rw
                .set_backup_folder(handle, every, keep)
                .await
                .map_err(rewind_error)?;
            waker.wake();
            to_js(&status)
        })
    }

    /// Where the backup folder stands: `state` is `"ok"` only when the browser grants writing
    /// at this moment.
    #[wasm_bindgen(js_name = backupFolder, unchecked_return_type = "Promise<BackupFolder>")]
    pub fn backup_folder(&self) -> Promise {
        self.run(|rw| async move { to_js(&rw.backup_folder().await.map_err(rewind_error)?) })
    }

    /// Asks the browser again to let the page write to the folder (call it from a click).
    #[wasm_bindgen(
        js_name = requestFolderPermission,
        unchecked_return_type = "Promise<BackupFolder>"
    )]
    pub fn request_folder_permission(&self) -> Promise {
        self.run(
            |rw| async move { to_js(&rw.request_folder_permission().await.map_err(rewind_error)?) },
        )
    }

    /// Stops writing backups to the folder; the files in it stay.
    #[wasm_bindgen(js_name = forgetBackupFolder, unchecked_return_type = "Promise<void>")]
    pub fn forget_backup_folder(&self) -> Promise {
        self.run(|rw| async move {
            rw.forget_backup_folder().await.map_err(rewind_error)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// This database's backups in the folder, as its manifest lists them, newest first.
    #[wasm_bindgen(js_name = folderBackups, unchecked_return_type = "Promise<FolderBackup[]>")]
    pub fn folder_backups(&self) -> Promise {
        self.run(|rw| async move { to_js(&rw.folder_backups().await.map_err(rewind_error)?) })
    }

    /// One backup of the folder (by its `name`) as a `File`, for `inspect`, `diff`, `restore`.
    #[wasm_bindgen(js_name = folderBackupFile, unchecked_return_type = "Promise<File>")]
    pub fn folder_backup_file(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    ) -> Promise {
        self.run_with(string(&name, "the file name"), |rw, name| async move {
            Ok(rw
                .folder_backup_file(&name)
                .await
                .map_err(rewind_error)?
                .into())
        })
    }
}

/// Puts a Rust panic's message on the console (a panic is a bug; the page would otherwise only
/// see "unreachable"). Installed by the first `Rewind.open`.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(crate::in_flight::on_panic));
    });
}
