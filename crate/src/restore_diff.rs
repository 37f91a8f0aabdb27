//! What a restore will change, per store: how many records it adds, removes and changes
//! against the live database, and how the schema changes. Decided here, in bounded memory:
//! [`StoreWalk`] walks a store's backup records and its live ones side by side in key order
//! (IndexedDB's, `key_order.rs`), a batch of each at a time, asking for the side it needs
//! next; the edge (the in-memory backend, the IndexedDB adapter) only reads what it asks for.
//!
//! Backup records are in key order because every writer takes them from IndexedDB (or the
//! in-memory backend) in key order; the file format does not promise it (`docs/backup-format.md`),
//! so the walk checks it and refuses a file whose keys go backwards (`CorruptBackup`).
//! Values are compared by their encoding (`backup::codec`), Blobs and Files by their type and
//! size: a Blob's bytes are not read, so one changed in place without changing size counts as
//! unchanged.

use crate::backup::{encode_value, BackupError, SkippedRecord, Value};
use crate::diff::{diff, SchemaProblem};
use crate::key_order::compare_keys;
use crate::rewind_error::RewindError;
use crate::schema::DatabaseSchema;
use serde::Serialize;
use std::cmp::Ordering;

/// How a restore changes one store's records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreChanges {
    pub store: String,
    /// In the backup, not live: the restore brings them back.
    pub added: u64,
    /// Live, not in the backup (made since it, or under another key): the restore removes them.
    pub removed: u64,
    /// Under the same key on both sides with different values: the restore puts the backup's back.
    pub changed: u64,
    pub unchanged: u64,
    /// Whether the backup holds the store (a store only live is deleted by the restore).
    pub in_backup: bool,
    /// Whether the live database holds it (one only in the backup is made again).
    pub in_live: bool,
}

impl StoreChanges {
    /// The restore changes nothing in this store.
    pub fn is_empty(&self) -> bool {
        self.added == 0 && self.removed == 0 && self.changed == 0 && self.in_backup == self.in_live
    }

    /// What the restore does to this store, in sentences for people ("37 notes created since
    /// this backup will be removed").
    pub fn sentences(&self) -> Vec<String> {
        let store = &self.store;
        let some = |n: u64| match n {
            1 => format!("1 record of {store}"),
            n => format!("{n} {store}"),
        };
        let mut out = Vec::new();
        match (self.in_backup, self.in_live) {
            (true, false) => out.push(format!(
                "store {store}, deleted since this backup, will be made again with its {} \
                 record{}",
                self.added,
                plural(self.added)
            )),
            (false, true) => out.push(format!(
                "store {store}, made since this backup, will be deleted with its {} record{}",
                self.removed,
                plural(self.removed)
            )),
            _ => {
                let were = |n: u64| if n == 1 { "it was" } else { "they were" };
                if self.removed > 0 {
                    out.push(format!(
                        "{} created since this backup will be removed",
                        some(self.removed)
                    ));
                }
                if self.added > 0 {
                    out.push(format!(
                        "{} deleted since this backup will come back",
                        some(self.added)
                    ));
                }
                if self.changed > 0 {
                    out.push(format!(
                        "{} changed since this backup will be put back as {}",
                        some(self.changed),
                        were(self.changed)
                    ));
                }
            }
        }
        out
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// What a restore will change: every store of either side (by name), and how the live schema
/// differs from the backup's (`expected` the backup's, `actual` the live one's).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreDiff {
    pub stores: Vec<StoreChanges>,
    pub schema: Vec<SchemaProblem>,
    /// Everything in `stores`, in sentences for people.
    pub sentences: Vec<String>,
}

impl RestoreDiff {
    /// The diff of `stores` (walked) with the schema change from `live` to `backup`.
    pub fn new(
        mut stores: Vec<StoreChanges>,
        backup: &DatabaseSchema,
        live: &DatabaseSchema,
    ) -> Self {
        stores.sort_by(|a, b| a.store.cmp(&b.store));
        let sentences = stores.iter().flat_map(StoreChanges::sentences).collect();
        RestoreDiff {
            stores,
            schema: diff(backup, live).problems,
            sentences,
        }
    }

    /// The restore changes no record and no schema.
    pub fn is_empty(&self) -> bool {
        self.schema.is_empty() && self.stores.iter().all(StoreChanges::is_empty)
    }
}

/// The bytes a value is compared by: its encoding with every Blob's and File's bytes left out,
/// then each one's size. `out_of_line` gives, by the Blob's number in walk order, the size of
/// one whose bytes the value does not hold (a Blob part of a chunked file, a live Blob not read).
pub fn value_fingerprint(
    mut value: Value,
    out_of_line: &[(usize, u64)],
) -> Result<Vec<u8>, BackupError> {
    let mut sizes = Vec::new();
    let mut ordinal = 0;
    value.for_each_blob_mut(&mut |bytes| {
        let size = out_of_line
            .iter()
            .find(|(blob, _)| *blob == ordinal)
            .map_or(bytes.len() as u64, |(_, size)| *size);
        sizes.push(size);
        bytes.clear();
        ordinal += 1;
    });
    let mut out = Vec::new();
    encode_value(&value, &mut out)?;
    for size in sizes {
        out.extend_from_slice(&size.to_le_bytes());
    }
    Ok(out)
}

/// A side of the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Backup,
    Live,
}

/// A record as the walk compares it: its key, and its value's [`value_fingerprint`].
pub type Keyed = (Value, Vec<u8>);

/// A side's records given and not matched yet: `records[at..]` (a `Vec`, not a `VecDeque`:
/// less code in the wasm).
#[derive(Default)]
struct Queue {
    records: Vec<Keyed>,
    at: usize,
    ended: bool,
    last: Option<Value>,
}

impl Queue {
    fn front(&self) -> Option<&Keyed> {
        self.records.get(self.at)
    }

    fn pop(&mut self) -> Option<Keyed> {
        let record = self
            .records
            .get_mut(self.at)
            .map(|r| std::mem::replace(r, (Value::Undefined, Vec::new())));
        self.at += 1;
        record
    }

    fn is_empty(&self) -> bool {
        self.at >= self.records.len()
    }
}

/// One store's walk: give it batches of either side, in key order, as [`StoreWalk::wants`]
/// asks (an empty batch ends a side); it holds no more than a batch of each.
pub struct StoreWalk {
    changes: StoreChanges,
    /// Keys of live records the restore keeps (the backup's skipped records).
    kept: Vec<Value>,
    backup: Queue,
    live: Queue,
}

impl StoreWalk {
    /// The walk of `store`, held by the backup, the live database, or both (a side that does
    /// not hold it has ended already).
    pub fn new(store: &str, in_backup: bool, in_live: bool) -> StoreWalk {
        let queue = |ended| Queue {
            ended,
            ..Queue::default()
        };
        StoreWalk {
            changes: StoreChanges {
                store: store.to_string(),
                in_backup,
                in_live,
                ..StoreChanges::default()
            },
            kept: Vec::new(),
            backup: queue(!in_backup),
            live: queue(!in_live),
        }
    }

    /// The side whose next batch the walk needs, or `None` once both are walked.
    pub fn wants(&self) -> Option<Side> {
        if self.backup.is_empty() && !self.backup.ended {
            Some(Side::Backup)
        } else if self.live.is_empty() && !self.live.ended {
            Some(Side::Live)
        } else {
            None
        }
    }

    /// The next batch of `side` (empty: it has no more). Keys must go up strictly: a backup
    /// whose keys do not is damaged.
    pub fn give(&mut self, side: Side, batch: Vec<Keyed>) -> Result<(), RewindError> {
        let store = &self.changes.store;
        let queue = match side {
            Side::Backup => &mut self.backup,
            Side::Live => &mut self.live,
        };
        if batch.is_empty() {
            queue.ended = true;
        }
        if queue.is_empty() {
            queue.records.clear();
            queue.at = 0;
        }
        for (key, bytes) in batch {
            let ascending = match &queue.last {
                None => compare_keys(&key, &key).is_some(),
                Some(last) => compare_keys(last, &key) == Some(Ordering::Less),
            };
            if !ascending {
                let what = format!(
                    "the records of store {store:?} are not in key order, or a key is not a \
                     valid IndexedDB key"
                );
                return Err(match side {
                    Side::Backup => BackupError::corrupt(what).into(),
                    Side::Live => RewindError::Storage(what),
                });
            }
            queue.last = Some(key.clone());
            queue.records.push((key, bytes));
        }
        self.advance();
        Ok(())
    }

    /// Matches records while both sides have some (or one side has ended).
    fn advance(&mut self) {
        let c = &mut self.changes;
        loop {
            let order = match (self.backup.front(), self.live.front()) {
                (Some(b), Some(l)) => compare_keys(&b.0, &l.0).unwrap_or(Ordering::Equal),
                (Some(_), None) if self.live.ended => Ordering::Less,
                (None, Some(_)) if self.backup.ended => Ordering::Greater,
                _ => return,
            };
            match order {
                Ordering::Less => {
                    self.backup.pop();
                    c.added += 1;
                }
                Ordering::Greater => {
                    let key = self.live.pop().map(|(k, _)| k);
                    let kept = key.is_some_and(|k| {
                        self.kept
                            .iter()
                            .any(|s| compare_keys(s, &k) == Some(Ordering::Equal))
                    });
                    match kept {
                        true => c.unchanged += 1,
                        false => c.removed += 1,
                    }
                }
                Ordering::Equal => {
                    let (b, l) = (self.backup.pop(), self.live.pop());
                    match b.zip(l) {
                        Some((b, l)) if b.1 == l.1 => c.unchanged += 1,
                        _ => c.changed += 1,
                    }
                }
            }
        }
    }

    /// What the walk found; call once [`StoreWalk::wants`] says `None`.
    pub fn finish(self) -> StoreChanges {
        self.changes
    }
}

/// The names of the stores of either schema, each once, and which side holds it.
pub fn stores_of(backup: &DatabaseSchema, live: &DatabaseSchema) -> Vec<(String, bool, bool)> {
    let mut names: Vec<&String> = backup.stores.keys().chain(live.stores.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|n| {
            (
                n.clone(),
                backup.stores.contains_key(n),
                live.stores.contains_key(n),
            )
        })
        .collect()
}

/// What a diff reads, one batch at a time (sqlx's `Migrator` over a small trait): the
/// backup's records in file order (each store's in key order, a store's batches together),
/// and a live store's records in key order. Reading never writes.
#[allow(async_fn_in_trait)]
pub trait DiffSource {
    /// The next batch of the backup's records and the store they belong to (by name); `None`
    /// once every record is read.
    async fn next_backup(&mut self) -> Result<Option<(String, Vec<Keyed>)>, RewindError>;
    /// The next batch of `store`'s live records, after those already given (empty at its end).
    async fn next_live(&mut self, store: &str) -> Result<Vec<Keyed>, RewindError>;
}

/// Walks `source`'s backup records and live ones side by side, store by store, holding a
/// batch of each at most: what a restore of that backup (schema `backup`) would change in the
/// live database (schema `live`, app stores only). The live records of the backup's `skipped`
/// ones (records no backup could carry) are kept by a restore: they count as unchanged.
pub async fn walk_restore(
    source: &mut impl DiffSource,
    backup: &DatabaseSchema,
    live: &DatabaseSchema,
    skipped: &[SkippedRecord],
) -> Result<RestoreDiff, RewindError> {
    let mut walks = Vec::new();
    for (name, b, l) in stores_of(backup, live) {
        let mut walk = StoreWalk::new(&name, b, l);
        for s in skipped.iter().filter(|s| s.store == name) {
            walk.kept.push(s.decoded_key()?);
        }
        walks.push(Some(walk));
    }
    let mut done = Vec::new();
    // The store whose backup records are being read, and its walk.
    let mut current: Option<StoreWalk> = None;
    loop {
        let next = source.next_backup().await?;
        let store = next.as_ref().map(|(s, _)| s.clone());
        if let Some(walk) = current.take_if(|w| Some(&w.changes.store) != store.as_ref()) {
            done.push(finish_walk(walk, source).await?);
        }
        let Some((store, batch)) = next else { break };
        let mut walk = match current.take() {
            Some(walk) => walk,
            None => walks
                .iter_mut()
                .find(|w| w.as_ref().is_some_and(|w| w.changes.store == store))
                .and_then(Option::take)
                .filter(|w| w.changes.in_backup)
                .ok_or_else(|| {
                    BackupError::corrupt(format!(
                        "records of store {store:?} come where the manifest does not place them"
                    ))
                })?,
        };
        feed_live(&mut walk, source).await?;
        walk.give(Side::Backup, batch)?;
        feed_live(&mut walk, source).await?;
        current = Some(walk);
    }
    // Stores whose backup holds no records (or that only the live database holds).
    for walk in walks.into_iter().flatten() {
        done.push(finish_walk(walk, source).await?);
    }
    Ok(RestoreDiff::new(done, backup, live))
}

/// Gives `walk` live batches while it wants them before the backup's next.
async fn feed_live(walk: &mut StoreWalk, source: &mut impl DiffSource) -> Result<(), RewindError> {
    while walk.wants() == Some(Side::Live) {
        let store = walk.changes.store.clone();
        walk.give(Side::Live, source.next_live(&store).await?)?;
    }
    Ok(())
}

/// Ends `walk`'s backup side and walks the rest of the live one.
async fn finish_walk(
    mut walk: StoreWalk,
    source: &mut impl DiffSource,
) -> Result<StoreChanges, RewindError> {
    if !walk.backup.ended {
        walk.give(Side::Backup, Vec::new())?;
    }
    feed_live(&mut walk, source).await?;
    Ok(walk.finish())
}

#[cfg(test)]
#[path = "restore_diff_tests.rs"]
mod tests;
