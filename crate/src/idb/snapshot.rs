//! Taking a backup: every app store (schema, keys, records) and Rewind's metadata, read in one
//! read-only transaction so they describe one moment; Blob bytes are read after it finished.

use super::backend::{read_meta, META_STORE};
use super::clone::{describe_key, encode_batch, js_to_value};
use super::inspect::{read_store, store_names};
use super::open::open_existing;
use super::request::{await_request, await_transaction};
use crate::backup::format::{encode_record, finish_backup, SectionSpan};
use crate::backup::{BackupError, BackupManifest, EncodedBackup, StoreManifest, FORMAT_VERSION};
use crate::engine::RewindMeta;
use crate::fold::RESERVED_PREFIX;
use crate::rewind_error::RewindError;
use crate::schema::StoreSchema;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::IdbTransactionMode;

/// Reports records done out of the total, now and then, during long operations.
pub type Progress<'a> = Option<&'a dyn Fn(u64, u64)>;

/// How often (in records) progress is reported.
pub const PROGRESS_EVERY: u64 = 500;

/// What to write into a new backup's manifest besides what is read from the database.
pub struct SnapshotInfo {
    pub id: String,
    pub label: String,
    pub automatic: bool,
    pub created_at: f64,
}

struct RawStore {
    schema: StoreSchema,
    keys: js_sys::Array,
    values: js_sys::Array,
}

async fn read_everything(
    name: &str,
) -> Result<(u64, RewindMeta, Vec<RawStore>), crate::MigrationError> {
    let db = open_existing(name).await?;
    let outcome = async {
        let names = store_names(&db);
        let mut stores = Vec::new();
        let mut meta = RewindMeta::default();
        if !names.is_empty() {
            let all: js_sys::Array = names.iter().map(|n| JsValue::from_str(n)).collect();
            let tx =
                db.transaction_with_str_sequence_and_mode(&all, IdbTransactionMode::Readonly)?;
            for n in &names {
                let store = tx.object_store(n)?;
                if n == META_STORE {
                    meta = read_meta(&store).await?;
                } else if !n.starts_with(RESERVED_PREFIX) {
                    let keys = await_request(store.get_all_keys()?).await?.unchecked_into();
                    let values = await_request(store.get_all()?).await?.unchecked_into();
                    stores.push(RawStore {
                        schema: read_store(&store)?,
                        keys,
                        values,
                    });
                }
            }
            await_transaction(&tx).await?;
        }
        Ok((db.version() as u64, meta, stores))
    }
    .await;
    db.close();
    outcome
}

/// Records encoded per call of the JavaScript fast path (and progress reported as often).
const CHUNK: u32 = PROGRESS_EVERY as u32;

/// Backs up database `name` into one file's bytes and its manifest.
///
/// Each store's records are encoded straight into one buffer, a batch per call of the
/// JavaScript fast path ([`encode_batch`]); a record it does not handle (Blobs, Maps, typed
/// arrays…) is walked from Rust and its Blobs read. No value tree is kept.
pub async fn snapshot(
    name: &str,
    info: SnapshotInfo,
    progress: Progress<'_>,
) -> Result<EncodedBackup, RewindError> {
    let (idb_version, meta, raw) = read_everything(name).await?;
    let total: u64 = raw.iter().map(|s| s.keys.length() as u64).sum();
    let mut done = 0u64;
    let mut manifest_stores = Vec::with_capacity(raw.len());
    let mut spans = Vec::with_capacity(raw.len());
    let mut body = Vec::new();
    for store in raw {
        let store_name = store.schema.name.clone();
        let start = body.len();
        let n = store.keys.length();
        let mut i = 0u32;
        while i < n {
            let end = (i + CHUNK).min(n);
            let reached = encode_batch(&store.keys, &store.values, i, end, &mut body);
            done += u64::from(reached - i);
            i = reached;
            if i < end {
                let key = js_to_value(&store.keys.get(i))
                    .map_err(|e| e.in_record(&store_name, "?"))?
                    .value()
                    .clone();
                let value = js_to_value(&store.values.get(i))
                    .map_err(|e| e.in_record(&store_name, &describe_key(&key)))?
                    .read_blobs()
                    .await
                    .map_err(|e| e.in_record(&store_name, &describe_key(&key)))?;
                encode_record(&key, &value, u64::from(i) + 1, &mut body).map_err(|e| match e {
                    BackupError::Invalid { reason } => {
                        BackupError::invalid(format!("store {store_name:?}: {reason}"))
                    }
                    other => other,
                })?;
                i += 1;
                done += 1;
            }
            if let Some(report) = progress {
                if i == end {
                    report(done, total);
                }
            }
        }
        manifest_stores.push(StoreManifest::new(store.schema));
        spans.push(SectionSpan {
            records: u64::from(n),
            range: start..body.len(),
        });
    }
    if let Some(report) = progress {
        report(total, total);
    }
    let manifest = BackupManifest {
        format_version: FORMAT_VERSION,
        id: info.id,
        database: name.to_string(),
        schema_version: meta.schema_version,
        idb_version,
        created_at: info.created_at,
        label: info.label,
        automatic: info.automatic,
        meta,
        stores: manifest_stores,
        bytes: 0,
        sha256: String::new(),
    };
    Ok(finish_backup(manifest, body, &spans)?)
}
