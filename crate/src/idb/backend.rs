//! The IndexedDB implementation of the engine's [`Migrate`] trait.
//!
//! Every change runs inside one `versionchange` transaction opened at `current IDB version + 1`:
//! the plan's steps, Rewind's metadata and journal entry, and a last check that the live schema
//! is the expected one. Any failure aborts the transaction, so schema, data, metadata and IDB
//! version stay exactly as they were. Only IndexedDB requests are awaited inside it.

use super::error::thrown;
use super::inspect::list_databases;
use super::inspect::{read_store, store_names};
use super::js_record::JsRecord;
use super::open::{open_existing, open_with_upgrade, BlockedPolicy, Upgrade};
use super::request::{await_request, await_transaction, BatchReader, RequestEvents};
use super::staging::remove_leftovers;
use super::{CancelFlag, IdbError, Progress};
use crate::diff::diff;
use crate::engine::{step_failed, DatabaseState, JournalEntry, Migrate, RewindMeta};
use crate::fold::RESERVED_PREFIX;
use crate::migration::Step;
use crate::migration_error::MigrationError;
use crate::plan::{MigrationPlan, PlannedMigration};
use crate::record::{apply_data_step, Transforms};
use crate::rekey::{key_problem, KeyProblem};
use crate::schema::{DatabaseSchema, IndexSchema, KeyPath, StoreSchema};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    Event, IdbDatabase, IdbIndexParameters, IdbObjectStore, IdbObjectStoreParameters, IdbRequest,
    IdbTransactionMode,
};

/// Rewind's own stores inside an app database.
pub const META_STORE: &str = "__rewind_meta";
pub const JOURNAL_STORE: &str = "__rewind_journal";
const STATE_KEY: &str = "state";
/// Where an upgrade keeps its journal entry while it runs: written first, removed with the
/// metadata last, so that an upgrade the browser commits part way is known by it.
const UNFINISHED_KEY: &str = "unfinished";

impl From<IdbError> for MigrationError {
    fn from(e: IdbError) -> Self {
        match e {
            IdbError::Blocked { .. } => MigrationError::Blocked,
            IdbError::QuotaExceeded(m) => MigrationError::QuotaExceeded(m),
            IdbError::Dom { ref name, .. } if name == "ConstraintError" || name == "DataError" => {
                MigrationError::Rejected(e.to_string())
            }
            other => MigrationError::Storage(other.to_string()),
        }
    }
}

/// One app database, as one operation sees it.
pub struct IdbBackend {
    pub name: String,
    /// How long an upgrade may stay blocked by other tabs before it gives up.
    pub block_timeout_ms: u32,
    /// Told when another tab blocks an upgrade (the page says "close the other tabs").
    pub on_blocked: Option<Rc<dyn Fn()>>,
    /// Told how a backup or restore advances.
    pub progress: Option<Progress>,
    /// Set when the person cancels a restore (heard until its swap).
    pub cancel: Option<CancelFlag>,
    /// The IndexedDB version the last `read` saw: an operation reads the database once and
    /// upgrades from there (its lock keeps every other Rewind out meanwhile).
    pub known_version: Option<u64>,
    /// Where the backup this operation takes tells how its copy in the backup folder went.
    pub folder_write: Option<super::folder::FolderWriteSlot>,
}

impl IdbBackend {
    #[cfg(feature = "test-hooks")]
    pub fn new(name: impl Into<String>) -> Self {
        IdbBackend {
            name: name.into(),
            block_timeout_ms: 5_000,
            on_blocked: None,
            progress: None,
            cancel: None,
            known_version: None,
            folder_write: None,
        }
    }

    /// The database's IndexedDB version (`None`: it does not exist), as last read.
    async fn current_version(&self) -> Result<Option<u64>, IdbError> {
        if let Some(known) = self.known_version {
            return Ok(Some(known));
        }
        Ok(list_databases()
            .await?
            .into_iter()
            .find(|d| d.name == self.name)
            .map(|d| d.idb_version))
    }
}

fn storage(context: &str, e: impl std::fmt::Display) -> MigrationError {
    MigrationError::Storage(format!("{context}: {e}"))
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    what: &str,
    value: &JsValue,
) -> Result<T, MigrationError> {
    let text = value.as_string().ok_or_else(|| {
        storage(
            what,
            "Rewind's metadata is not text; it was changed outside Rewind",
        )
    })?;
    crate::json::from_json(text.as_bytes()).map_err(|e| storage(what, e))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<JsValue, MigrationError> {
    serde_json::to_string(value)
        .map(|s| JsValue::from_str(&s))
        .map_err(|e| storage("metadata", e))
}

/// The app's schema as the connection sees it now (inside an upgrade, its current state).
fn live_schema(db: &IdbDatabase, tx: &web_sys::IdbTransaction) -> Result<DatabaseSchema, IdbError> {
    let mut schema = DatabaseSchema::default();
    for name in store_names(db)
        .into_iter()
        .filter(|n| !n.starts_with(RESERVED_PREFIX))
    {
        schema = schema.with_store(read_store(&tx.object_store(&name)?)?);
    }
    Ok(schema)
}

pub(crate) fn key_path_js(kp: &KeyPath) -> JsValue {
    match kp {
        KeyPath::Single(p) => JsValue::from_str(p),
        KeyPath::Compound(ps) => ps
            .iter()
            .map(|p| JsValue::from_str(p))
            .collect::<js_sys::Array>()
            .into(),
    }
}

pub(crate) fn ensure_meta_stores(db: &IdbDatabase) -> Result<(), IdbError> {
    let names = store_names(db);
    if !names.iter().any(|n| n == META_STORE) {
        db.create_object_store(META_STORE)?;
    }
    if !names.iter().any(|n| n == JOURNAL_STORE) {
        let params = IdbObjectStoreParameters::new();
        params.set_auto_increment(true);
        db.create_object_store_with_optional_parameters(JOURNAL_STORE, &params)?;
    }
    Ok(())
}

/// Creates a store as `schema` describes it, indexes included (inside an upgrade).
pub(crate) fn create_store(
    db: &IdbDatabase,
    schema: &StoreSchema,
) -> Result<IdbObjectStore, IdbError> {
    let params = IdbObjectStoreParameters::new();
    if let Some(kp) = &schema.key_path {
        params.set_key_path(&key_path_js(kp));
    }
    params.set_auto_increment(schema.auto_increment);
    let store = db.create_object_store_with_optional_parameters(&schema.name, &params)?;
    for index in schema.indexes.values() {
        create_index(&store, index)?;
    }
    Ok(store)
}

fn create_index(store: &IdbObjectStore, index: &IndexSchema) -> Result<(), IdbError> {
    let params = IdbIndexParameters::new();
    params.set_unique(index.unique);
    params.set_multi_entry(index.multi_entry);
    match &index.key_path {
        KeyPath::Single(p) => {
            store.create_index_with_str_and_optional_parameters(&index.name, p, &params)?
        }
        KeyPath::Compound(_) => store.create_index_with_str_sequence_and_optional_parameters(
            &index.name,
            &key_path_js(&index.key_path),
            &params,
        )?,
    };
    Ok(())
}

fn schema_step(up: &Upgrade, step: &Step) -> Result<(), IdbError> {
    match step {
        Step::CreateStore {
            store,
            key_path,
            auto_increment,
        } => {
            let params = IdbObjectStoreParameters::new();
            if let Some(kp) = key_path {
                params.set_key_path(&key_path_js(kp));
            }
            params.set_auto_increment(*auto_increment);
            up.db
                .create_object_store_with_optional_parameters(store, &params)?;
        }
        Step::DeleteStore { store } => up.db.delete_object_store(store)?,
        Step::RenameStore { from, to } => up.tx.object_store(from)?.set_name(to),
        Step::CreateIndex {
            store,
            index,
            key_path,
            unique,
            multi_entry,
        } => create_index(
            &up.tx.object_store(store)?,
            &IndexSchema::new(index, key_path.clone())
                .unique(*unique)
                .multi_entry(*multi_entry),
        )?,
        Step::DeleteIndex { store, index } => up.tx.object_store(store)?.delete_index(index)?,
        _ => {}
    }
    Ok(())
}

fn describe_key(key: &JsValue) -> String {
    js_sys::JSON::stringify(key)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| "?".into())
}

/// Records read (and written back) per batch by a data step.
const DATA_STEP_BATCH: u32 = 1000;

/// The key an in-line key path gives for `value` (`None` when a part is missing).
fn key_at_path(value: &JsValue, key_path: &JsValue) -> Option<JsValue> {
    if let Some(path) = key_path.as_string() {
        let mut cur = value.clone();
        if path.is_empty() {
            return Some(cur);
        }
        for part in path.split('.') {
            if !cur.is_object() {
                return None;
            }
            let obj: &js_sys::Object = cur.unchecked_ref();
            if !js_sys::Object::has_own(obj, &JsValue::from_str(part)) {
                return None;
            }
            cur = js_sys::Reflect::get(&cur, &JsValue::from_str(part)).ok()?;
        }
        Some(cur)
    } else {
        let paths: &js_sys::Array = key_path.dyn_ref()?;
        let mut keys = Vec::with_capacity(paths.length() as usize);
        for p in paths.iter() {
            keys.push(key_at_path(value, &p)?);
        }
        Some(keys.into_iter().collect::<js_sys::Array>().into())
    }
}

/// Runs a data step over every record of its store, a batch at a time ([`BatchReader`]): the
/// step applied to each record, and a `put` of each changed one (not awaited: a failing put aborts the whole transaction). A changed
/// record whose in-line key would change is refused, as `cursor.update` refuses it.
async fn data_step(
    up: &Upgrade,
    pm: &PlannedMigration,
    index: usize,
    step: &Step,
    store: &str,
    transforms: &Transforms,
) -> Result<(), MigrationError> {
    let fail = |reason: String| step_failed(pm, index, reason);
    let os = up.tx.object_store(store).map_err(thrown)?;
    let key_path = os.key_path().map_err(thrown)?;
    let inline = !key_path.is_null() && !key_path.is_undefined();
    let factory = super::factory()?;
    let mut n = 0u64;
    let mut batches = BatchReader::new(&os, DATA_STEP_BATCH)?;
    while let Some((keys, values)) = batches.next().await.map_err(|e| fail(e.to_string()))? {
        let count = keys.length();
        for i in 0..count {
            n += 1;
            let key = keys.get(i);
            let mut record = JsRecord(values.get(i));
            let changed = apply_data_step(step, &mut record, transforms).map_err(|reason| {
                fail(format!("record {n} (key {}): {reason}", describe_key(&key)))
            })?;
            if !changed {
                continue;
            }
            let cannot =
                |detail: String| fail(format!("record {n} cannot be written back: {detail}"));
            let written = if inline {
                let same = key_at_path(&record.0, &key_path)
                    .and_then(|k| factory.cmp(&key, &k).ok())
                    .is_some_and(|c| c == 0);
                if !same {
                    return Err(cannot(format!(
                        "its key (key path {}) would change from {}",
                        describe_key(&key_path),
                        describe_key(&key)
                    )));
                }
                os.put(&record.0)
            } else {
                os.put_with_key(&record.0, &key)
            };
            written.map_err(|e| cannot(IdbError::from_js(&e).to_string()))?;
        }
    }
    Ok(())
}

/// The store a `changeKey` step fills before it takes the old store's name. It lives only
/// inside the step's upgrade: renamed before the upgrade ends, or gone with its abort.
const REKEY_STORE: &str = "__rewind_rekey";

/// A value for a message: JSON where it has one, else what `String()` says.
fn describe_value(value: &JsValue) -> String {
    if value.is_undefined() {
        return "undefined".into();
    }
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| String::from(js_sys::JsString::from(value.clone())))
}

/// While alive, the `add` requests it was given do not abort their transaction when they fail
/// (`preventDefault` on their `error` event): the step reports which record failed, and then
/// the whole upgrade is aborted by the usual path, with that report as its reason.
struct KeepTransaction {
    listener: Closure<dyn FnMut(Event)>,
    requests: Vec<IdbRequest>,
}

impl KeepTransaction {
    fn new() -> Self {
        KeepTransaction {
            listener: Closure::new(|e: Event| e.prevent_default()),
            requests: Vec::new(),
        }
    }

    fn watch(&mut self, request: IdbRequest) -> RequestEvents {
        let _ = request
            .add_event_listener_with_callback("error", self.listener.as_ref().unchecked_ref());
        self.requests.push(request.clone());
        RequestEvents::new(request)
    }
}

impl Drop for KeepTransaction {
    fn drop(&mut self) {
        for request in &self.requests {
            let _ = request.remove_event_listener_with_callback(
                "error",
                self.listener.as_ref().unchecked_ref(),
            );
        }
    }
}

/// A `changeKey` step: a store with the new key path and the old one's indexes, every record
/// `add`ed to it in the old keys' order (a batch at a time), the old store deleted and the new
/// one given its name. A record without a valid key at the new key path, or with a key an
/// earlier one has, fails the step with the core's message naming it (`rekey.rs`, as the
/// in-memory backend words it).
async fn change_key(
    up: &Upgrade,
    pm: &PlannedMigration,
    index: usize,
    store: &str,
    key_path: &KeyPath,
    auto_increment: bool,
) -> Result<(), MigrationError> {
    let fail = |reason: String| step_failed(pm, index, reason);
    let old = up.tx.object_store(store).map_err(thrown)?;
    let new = create_store(
        &up.db,
        &StoreSchema {
            name: REKEY_STORE.into(),
            key_path: Some(key_path.clone()),
            auto_increment,
            indexes: read_store(&old)?.indexes,
        },
    )?;
    let key_path_value = key_path_js(key_path);
    let factory = super::factory()?;
    let mut n = 0u64;
    let mut batches = BatchReader::new(&old, DATA_STEP_BATCH)?;
    while let Some((keys, values)) = batches.next().await.map_err(|e| fail(e.to_string()))? {
        let mut keep = KeepTransaction::new();
        let mut adds = Vec::with_capacity(keys.length() as usize);
        // A record that cannot be added stops the batch; an earlier duplicate still comes first.
        let mut refused = None;
        for i in 0..keys.length() {
            n += 1;
            let (key, value) = (keys.get(i), values.get(i));
            let problem = |p: KeyProblem| fail(key_problem(n, &describe_key(&key), key_path, &p));
            let Some(new_key) = key_at_path(&value, &key_path_value) else {
                refused = Some(problem(KeyProblem::Missing));
                break;
            };
            if factory.cmp(&new_key, &new_key).is_err() {
                refused = Some(problem(KeyProblem::NotAKey(describe_value(&new_key))));
                break;
            }
            match new.add(&value) {
                Ok(add) => adds.push((n, key, new_key, keep.watch(add))),
                Err(e) => {
                    refused = Some(fail(format!(
                        "record {n} (key {}) cannot be written: {}",
                        describe_key(&key),
                        IdbError::from_js(&e)
                    )));
                    break;
                }
            }
        }
        // Every request of the batch answers (none aborts the transaction); the first failure
        // in the old keys' order is the one reported.
        let mut first_failure = None;
        for (n, key, new_key, add) in &adds {
            if let (Err(e), None) = (add.next().await, &first_failure) {
                first_failure = Some(match &e {
                    IdbError::Dom { name, .. } if name == "ConstraintError" => fail(key_problem(
                        *n,
                        &describe_key(key),
                        key_path,
                        &KeyProblem::Duplicate(describe_key(new_key)),
                    )),
                    _ => MigrationError::from(e),
                });
            }
        }
        if let Some(err) = first_failure.or(refused) {
            return Err(err);
        }
    }
    up.db.delete_object_store(store).map_err(thrown)?;
    new.set_name(store);
    Ok(())
}

async fn run_upgrade(
    up: Upgrade,
    plan: MigrationPlan,
    meta: RewindMeta,
    expected: DatabaseSchema,
    entry: JournalEntry,
    transforms: Transforms,
) -> Result<(), MigrationError> {
    // What a restore interrupted before its swap left behind goes first, journaled.
    let interrupted = JournalEntry::interrupted_restore(entry.at, entry.from);
    if let Some(journaled) = remove_leftovers(&up, &to_json(&interrupted)?)? {
        journaled.next().await?;
    }
    ensure_meta_stores(&up.db)?;
    // Before any change of the app's: whatever part of this upgrade a browser keeps holds it.
    up.tx
        .object_store(META_STORE)
        .map_err(thrown)?
        .put_with_key(&to_json(&entry)?, &UNFINISHED_KEY.into())
        .map_err(thrown)?;
    for pm in &plan.migrations {
        for (i, step) in pm.steps.iter().enumerate() {
            match (step, step.data_store()) {
                (_, Some(store)) => {
                    data_step(&up, pm, i, step, store, &transforms).await?;
                    #[cfg(feature = "test-hooks")]
                    if cut_off_point() {
                        return Ok(());
                    }
                }
                (
                    Step::ChangeKey {
                        store,
                        key_path,
                        auto_increment,
                    },
                    None,
                ) => change_key(&up, pm, i, store, key_path, *auto_increment).await?,
                (_, None) => {
                    schema_step(&up, step).map_err(|e| step_failed(pm, i, e.to_string()))?
                }
            }
        }
    }
    write_meta_and_entry(&up.tx, &to_json(&meta)?, &to_json(&entry)?).await?;
    let live = live_schema(&up.db, &up.tx)?;
    let d = diff(&expected, &live);
    if !d.is_empty() {
        return Err(MigrationError::ValidationFailed {
            version: meta.schema_version,
            diff: d,
        });
    }
    Ok(())
}

impl Migrate for IdbBackend {
    async fn read(&mut self) -> Result<DatabaseState, MigrationError> {
        // Opened without listing the origin's databases: one that does not exist is not
        // created (`open_existing` refuses it), and the connection tells the version.
        let db = match open_existing(&self.name).await {
            Ok(db) => db,
            Err(IdbError::NoSuchDatabase(_)) => {
                self.known_version = None;
                return Ok(DatabaseState::default());
            }
            Err(other) => return Err(other.into()),
        };
        let idb_version = db.version() as u64;
        let outcome = read_state(&db).await;
        // The catalog lists the backups held in place as the database holds them.
        if let Ok(held) = super::in_place::held_in(&db).await {
            super::in_place::reconcile(&self.name, &held).await;
        }
        db.close();
        let mut state = outcome?;
        state.idb_version = idb_version;
        self.known_version = Some(idb_version);
        Ok(state)
    }

    async fn apply(
        &mut self,
        plan: &MigrationPlan,
        meta: &RewindMeta,
        expected: &DatabaseSchema,
        entry: &JournalEntry,
        transforms: &Transforms,
    ) -> Result<(), MigrationError> {
        let version = self.current_version().await?.unwrap_or(0);
        let (plan, meta, expected, entry, transforms) = (
            plan.clone(),
            meta.clone(),
            expected.clone(),
            entry.clone(),
            transforms.clone(),
        );
        let on_blocked = self.on_blocked.clone();
        let policy = BlockedPolicy {
            on_blocked: on_blocked.map(|cb| Box::new(move || cb()) as Box<dyn Fn()>),
            timeout_ms: Some(self.block_timeout_ms),
        };
        let db = open_with_upgrade(
            &self.name,
            version + 1,
            move |up| run_upgrade(up, plan, meta, expected, entry, transforms),
            policy,
        )
        .await?;
        db.close();
        // Upgraded: the next read tells the new version.
        self.known_version = None;
        Ok(())
    }

    async fn record(&mut self, entry: &JournalEntry) -> Result<(), MigrationError> {
        let db = match open_existing(&self.name).await {
            Ok(db) => db,
            Err(IdbError::NoSuchDatabase(_)) => return Ok(()),
            Err(other) => return Err(other.into()),
        };
        let outcome = async {
            if !store_names(&db).iter().any(|n| n == JOURNAL_STORE) {
                return Ok(());
            }
            let tx = db
                .transaction_with_str_and_mode(JOURNAL_STORE, IdbTransactionMode::Readwrite)
                .map_err(thrown)?;
            tx.object_store(JOURNAL_STORE)
                .map_err(thrown)?
                .add(&to_json(entry)?)
                .map_err(thrown)?;
            await_transaction(&tx).await?;
            Ok(())
        }
        .await;
        db.close();
        outcome
    }

    async fn store_meta(&mut self, meta: &RewindMeta) -> Result<(), MigrationError> {
        // An ordinary transaction on Rewind's own store: no upgrade, so no other tab waits.
        let db = open_existing(&self.name).await?;
        let outcome = async {
            let tx = db
                .transaction_with_str_and_mode(META_STORE, IdbTransactionMode::Readwrite)
                .map_err(thrown)?;
            tx.object_store(META_STORE)
                .map_err(thrown)?
                .put_with_key(&to_json(meta)?, &STATE_KEY.into())
                .map_err(thrown)?;
            await_transaction(&tx).await?;
            Ok(())
        }
        .await;
        db.close();
        outcome
    }
}

/// Rewind's metadata and a journal entry (both JSON text), inside an upgrade.
pub(crate) async fn write_meta_and_entry(
    tx: &web_sys::IdbTransaction,
    meta: &JsValue,
    entry: &JsValue,
) -> Result<(), IdbError> {
    issue_meta_and_entry(tx, meta, entry, None)?.done().await
}

/// The two requests writing Rewind's metadata and a journal entry, issued together.
pub(crate) struct MetaWrites(RequestEvents, RequestEvents);

impl MetaWrites {
    pub(crate) async fn done(self) -> Result<(), IdbError> {
        self.0.next().await?;
        self.1.next().await?;
        Ok(())
    }
}

/// Issues the writes of Rewind's metadata and a journal entry without awaiting them, so that a
/// caller can issue everything its transaction does before it awaits anything. The entry of
/// the upgrade is removed with them, unless `interrupted` is a cut-off upgrade's entry the
/// written state carries on (a restored backup of a database in that state).
pub(crate) fn issue_meta_and_entry(
    tx: &web_sys::IdbTransaction,
    meta: &JsValue,
    entry: &JsValue,
    interrupted: Option<&JsValue>,
) -> Result<MetaWrites, IdbError> {
    let meta_store = tx.object_store(META_STORE).map_err(thrown)?;
    let meta_put = RequestEvents::new(
        meta_store
            .put_with_key(meta, &STATE_KEY.into())
            .map_err(thrown)?,
    );
    match interrupted {
        Some(marker) => meta_store.put_with_key(marker, &UNFINISHED_KEY.into()),
        None => meta_store.delete(&UNFINISHED_KEY.into()),
    }
    .map_err(thrown)?;
    let journal = tx.object_store(JOURNAL_STORE).map_err(thrown)?;
    let entry_add = RequestEvents::new(journal.add(entry).map_err(thrown)?);
    Ok(MetaWrites(meta_put, entry_add))
}

/// Rewind's metadata from its store (defaults when none was written yet), and the entry of an
/// upgrade the browser kept in part, if any ([`DatabaseState::interrupted`]); both asked for
/// before either is awaited.
pub(crate) async fn read_meta(
    store: &web_sys::IdbObjectStore,
) -> Result<(RewindMeta, Option<JournalEntry>), MigrationError> {
    let meta = RequestEvents::new(store.get(&STATE_KEY.into()).map_err(thrown)?);
    let unfinished = RequestEvents::new(store.get(&UNFINISHED_KEY.into()).map_err(thrown)?);
    let (meta, unfinished) = (meta.next().await?, unfinished.next().await?);
    let meta = match meta.is_undefined() {
        true => RewindMeta::default(),
        false => parse_json("Rewind's metadata", &meta)?,
    };
    let interrupted = match unfinished.is_undefined() {
        true => None,
        false => Some(parse_json("an unfinished upgrade's entry", &unfinished)?),
    };
    Ok((meta, interrupted))
}

async fn read_state(db: &IdbDatabase) -> Result<DatabaseState, MigrationError> {
    let names = store_names(db);
    let mut state = DatabaseState {
        exists: true,
        ..Default::default()
    };
    if names.is_empty() {
        return Ok(state);
    }
    let array: js_sys::Array = names.iter().map(|n| JsValue::from_str(n)).collect();
    let tx = db
        .transaction_with_str_sequence_and_mode(&array, IdbTransactionMode::Readonly)
        .map_err(thrown)?;
    for name in &names {
        let store = tx.object_store(name).map_err(thrown)?;
        if name == META_STORE {
            (state.meta, state.interrupted) = read_meta(&store).await?;
        } else if name == JOURNAL_STORE {
            let all: js_sys::Array = await_request(store.get_all().map_err(thrown)?)
                .await?
                .unchecked_into();
            for entry in all.iter() {
                state.journal.push(parse_json("Rewind's journal", &entry)?);
            }
        } else if !name.starts_with(RESERVED_PREFIX) {
            state.schema = std::mem::take(&mut state.schema).with_store(read_store(&store)?);
            let count = await_request(store.count().map_err(thrown)?).await?;
            state
                .counts
                .insert(name.clone(), count.as_f64().unwrap_or(0.0) as u64);
        }
    }
    await_transaction(&tx).await?;
    Ok(state)
}

#[cfg(feature = "test-hooks")]
thread_local! {
    static CUT_OFF: super::test_switch::Countdown = const { super::test_switch::Countdown::new() };
}

/// Makes the next upgrade commit after `steps` data steps, its metadata unwritten: what
/// Firefox keeps of an upgrade whose tab closed while it awaited its own requests (0: never).
#[cfg(feature = "test-hooks")]
pub fn cut_off_after_data_steps(steps: u32) {
    CUT_OFF.with(|c| c.arm(steps));
}

#[cfg(feature = "test-hooks")]
fn cut_off_point() -> bool {
    CUT_OFF.with(super::test_switch::Countdown::reached)
}
