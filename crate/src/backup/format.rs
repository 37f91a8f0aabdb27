//! The backup file: magic, format version, manifest, one record section per store, and a
//! trailing SHA-256 of everything before it. See `docs/backup-format.md`.

use super::chunked::{decode_chunked, inspect_chunked, is_chunked, NEWEST_FORMAT_VERSION};
use super::codec::{self, Reader};
use super::digests::Digests;
use super::error::BackupError;
use super::value::Value;
use crate::engine::{JournalEntry, RewindMeta};
use crate::migration::hex;
use crate::schema::StoreSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// The first eight bytes of every backup file (like PNG's: a high byte, the name, and the
/// line endings and end-of-file mark that careless text transfers would change).
pub const MAGIC: [u8; 8] = [0x89, b'R', b'W', b'N', b'D', b'\r', b'\n', 0x1a];
/// The format this build writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 2;
/// Magic, format version and manifest length.
pub const HEADER_LEN: usize = 16;
const TRAILER_LEN: usize = 32;

/// One store in a backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreManifest {
    pub schema: StoreSchema,
    pub records: u64,
    /// Bytes of the store's record section.
    pub bytes: u64,
    /// SHA-256 of the store's record section, lowercase hex.
    pub sha256: String,
    /// The key the store's key generator would give next when the backup was taken (format 3;
    /// `autoIncrement` stores only). Kept because deleting the last records leaves the
    /// generator above the highest key, and an app may rely on never seeing a key again; a
    /// restore sets the generator back to it. Absent when unknown: older files, a generator
    /// used up, or a backup that could not read it; such a restore leaves the generator where
    /// the restored keys put it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_generator: Option<u64>,
}

/// The largest key a key generator gives (2^53): IndexedDB's generator stops beyond it, since
/// a larger number is no longer exact in a JavaScript number.
pub const MAX_KEY_GENERATOR: u64 = 1 << 53;

/// The first format version whose manifest may hold a store's `keyGenerator`.
const KEY_GENERATOR_SINCE: u32 = 3;

impl StoreManifest {
    /// A store entry to be filled in by [`encode_backup`].
    pub fn new(schema: StoreSchema) -> Self {
        StoreManifest {
            schema,
            records: 0,
            bytes: 0,
            sha256: String::new(),
            key_generator: None,
        }
    }

    /// The `keyGenerator` a backup records for a store whose generator just gave `generated`
    /// (the key of a throwaway `add`, aborted): that key is the one the generator gives next.
    /// `None` for anything a generator cannot give (not a whole number in 1 … 2^53).
    pub fn key_generator_from(generated: f64) -> Option<u64> {
        let whole = generated.fract() == 0.0;
        (whole && generated >= 1.0 && generated <= MAX_KEY_GENERATOR as f64)
            .then_some(generated as u64)
    }

    /// The numeric key a restore puts (and deletes again, in the same transaction) into the
    /// store to set its generator where the backup's was: putting a number at or above the
    /// generator raises it to that number + 1. `None` when there is nothing to do (no
    /// `keyGenerator`, or it is 1: a fresh store's generator gives 1 already). The adapter
    /// skips the put when a record of the backup holds that key: its put raised the generator
    /// already.
    pub fn key_generator_raise(&self) -> Option<u64> {
        self.key_generator
            .filter(|&next| next > 1 && self.schema.auto_increment)
            .map(|next| next - 1)
    }

    /// Refuses a `keyGenerator` a file of `version` cannot hold: before format 3, on a store
    /// without a key generator, or outside 1 … 2^53.
    pub(crate) fn check_key_generator(&self, version: u32) -> Result<(), BackupError> {
        let Some(next) = self.key_generator else {
            return Ok(());
        };
        let name = &self.schema.name;
        if version < KEY_GENERATOR_SINCE {
            return Err(BackupError::corrupt(format!(
                "store {name:?} records a key generator, which format {version} cannot hold"
            )));
        }
        if !self.schema.auto_increment {
            return Err(BackupError::corrupt(format!(
                "store {name:?} records a key generator but has none (no autoIncrement)"
            )));
        }
        if !(1..=MAX_KEY_GENERATOR).contains(&next) {
            return Err(BackupError::corrupt(format!(
                "store {name:?} records a key generator at {next}, outside 1 … 2^53"
            )));
        }
        Ok(())
    }
}

/// A record a backup left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkippedRecord {
    pub store: String,
    /// The key as people read it (`7`, `"abc"`, `[1, "a"]`).
    pub key: String,
    /// The key encoded as a record's key is in a section, lowercase hex: what a restore looks
    /// the live record up by.
    pub key_bytes: String,
    /// What could not be carried, e.g. `CryptoKey`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Where in the record it sits, e.g. `.secret`; empty for the value itself.
    #[serde(default)]
    pub path: String,
}

impl SkippedRecord {
    /// The record's key, decoded and checked to be one IndexedDB accepts.
    pub fn decoded_key(&self) -> Result<Value, BackupError> {
        let bad = || {
            BackupError::corrupt(format!(
                "the key of a skipped record of store {:?} cannot be read",
                self.store
            ))
        };
        let bytes = unhex(&self.key_bytes).ok_or_else(bad)?;
        let key = codec::decode_value(&bytes).map_err(|_| bad())?;
        if !key.is_valid_key() {
            return Err(bad());
        }
        Ok(key)
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The first format version whose manifest may list skipped records.
const SKIPPED_SINCE: u32 = 2;

/// What a backup holds, written at its start and returned by [`inspect`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupManifest {
    pub format_version: u32,
    pub id: String,
    pub database: String,
    pub schema_version: u32,
    pub idb_version: u64,
    /// Milliseconds since the Unix epoch.
    pub created_at: f64,
    pub label: String,
    /// Made by Rewind before an operation, rather than asked for by a person.
    pub automatic: bool,
    pub meta: RewindMeta,
    pub stores: Vec<StoreManifest>,
    /// Records left out because they hold a value no backup can carry (only when the backup
    /// was asked to skip them); a restore keeps the live database's record with the same key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedRecord>,
    /// Taken of a database an upgrade was cut off in ([`DatabaseState::interrupted`]): that
    /// upgrade's entry. A restore of the backup brings the mark back with the half-changed
    /// data, so that no step ever runs on that data as if it were whole.
    ///
    /// [`DatabaseState::interrupted`]: crate::DatabaseState::interrupted
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<Box<JournalEntry>>,
    /// Held in place: the stores a restore replaced, kept under reserved names in the app's
    /// own database instead of copied into a file first (so a restore copies nothing old).
    /// Made into a file (format 3) when one is asked for; until then `bytes` is 0 (unknown),
    /// the stores' `bytes` and `sha256` are empty, and deleting the app's database deletes it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_place: bool,
    /// Size of the whole file. Not stored in the file: filled in when it is read or written.
    #[serde(default)]
    pub bytes: u64,
    /// SHA-256 of the whole file, lowercase hex (what `sha256sum` prints). Not stored in the
    /// file: filled in when it is read or written.
    #[serde(default)]
    pub sha256: String,
}

impl BackupManifest {
    pub fn total_records(&self) -> u64 {
        self.stores.iter().map(|s| s.records).sum()
    }

    pub fn store(&self, name: &str) -> Option<&StoreManifest> {
        self.stores.iter().find(|s| s.schema.name == name)
    }
}

/// The records of one store: `(key, value)` pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreRecords {
    pub name: String,
    pub records: Vec<(Value, Value)>,
}

/// A written backup and its completed manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedBackup {
    pub bytes: Vec<u8>,
    pub manifest: BackupManifest,
}

/// A read and fully verified backup.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedBackup {
    pub manifest: BackupManifest,
    pub stores: Vec<StoreRecords>,
}

/// Reads records out of one (already verified) store section, in batches.
pub struct SectionReader<'a> {
    reader: Reader<'a>,
}

impl<'a> SectionReader<'a> {
    pub fn new(section: &'a [u8]) -> Self {
        SectionReader {
            reader: Reader::new(section),
        }
    }

    pub fn is_done(&self) -> bool {
        self.reader.is_empty()
    }

    /// Where the next record starts in the section.
    pub fn offset(&self, section: &[u8]) -> usize {
        section.len() - self.reader.remaining()
    }

    /// Up to `max` more records; empty when the section is done.
    pub fn next_batch(&mut self, max: usize) -> Result<Vec<(Value, Value)>, BackupError> {
        let mut batch = Vec::new();
        while batch.len() < max {
            match self.next_record()? {
                Some(record) => batch.push(record),
                None => break,
            }
        }
        Ok(batch)
    }

    /// The next record, or `None` when the section is done.
    pub fn next_record(&mut self) -> Result<Option<(Value, Value)>, BackupError> {
        if self.reader.is_empty() {
            return Ok(None);
        }
        let key = codec::read_value(&mut self.reader)?;
        let value = codec::read_value(&mut self.reader)?;
        if !key.is_valid_key() {
            return Err(BackupError::corrupt(format!(
                "a record's key ({}) is not one IndexedDB accepts",
                key.type_name()
            )));
        }
        Ok(Some((key, value)))
    }
}

/// Appends record number `number` (1-based, for messages) of a section — its key, then its
/// value — to `out`, refusing a key IndexedDB would not accept; on error `out` is unchanged.
pub fn encode_record(
    key: &Value,
    value: &Value,
    number: u64,
    out: &mut Vec<u8>,
) -> Result<(), BackupError> {
    if !key.is_valid_key() {
        return Err(BackupError::invalid(format!(
            "record {number} has a key ({}) that IndexedDB would not accept",
            key.type_name()
        )));
    }
    let start = out.len();
    let outcome = codec::encode_value(key, out).and_then(|()| codec::encode_value(value, out));
    if outcome.is_err() {
        out.truncate(start);
    }
    outcome
}

/// Where one store's record section lies in a body of sections written back to back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionSpan {
    pub records: u64,
    pub range: std::ops::Range<usize>,
}

/// Completes a backup whose record sections were written one after another into `body`
/// (`spans[i]` is the section of `manifest.stores[i]`): fills in counts, sizes and checksums,
/// puts the header in front (in place when the buffer has room) and the SHA-256 behind.
/// The file's checksum is the whole-body hash continued over the trailer: one pass, not two.
pub fn finish_backup(
    mut manifest: BackupManifest,
    mut body: Vec<u8>,
    spans: &[SectionSpan],
) -> Result<EncodedBackup, BackupError> {
    put_header(&mut manifest, &mut body, spans, &Digests::new())?;
    let mut hasher = Sha256::new();
    hasher.update(&body);
    put_trailer(&mut manifest, &mut body, hasher.clone().finalize().into());
    hasher.update(&body[body.len() - TRAILER_LEN..]);
    manifest.sha256 = hex(&hasher.finalize());
    Ok(EncodedBackup {
        bytes: body,
        manifest,
    })
}

/// The first step of [`finish_backup`], for writers that hash elsewhere: fills in the stores'
/// counts, sizes and checksums (digests of the spans' ranges of `body` from `digests`, or
/// computed) and puts the header in front of `body`. Next: [`put_trailer`] with the SHA-256
/// of the result, then the whole file's SHA-256 as `manifest.sha256` (lowercase hex).
pub fn put_header(
    manifest: &mut BackupManifest,
    body: &mut Vec<u8>,
    spans: &[SectionSpan],
    digests: &Digests,
) -> Result<(), BackupError> {
    if manifest.stores.len() != spans.len() {
        return Err(BackupError::invalid(
            "the manifest's stores and the records given do not match",
        ));
    }
    for (entry, span) in manifest.stores.iter_mut().zip(spans) {
        if span.range.start > span.range.end || span.range.end > body.len() {
            return Err(BackupError::invalid("a section lies outside the body"));
        }
        entry.records = span.records;
        entry.bytes = span.range.len() as u64;
        entry.sha256 = hex(&digests.of(body, span.range.clone()));
    }
    let header = encode_header(manifest)?;
    body.reserve_exact(header.len() + TRAILER_LEN);
    body.splice(0..0, header);
    manifest.format_version = FORMAT_VERSION;
    Ok(())
}

/// Appends the trailer — `body_sha256`, the SHA-256 of everything in `file` so far — and
/// records the file's size in `manifest`.
pub fn put_trailer(manifest: &mut BackupManifest, file: &mut Vec<u8>, body_sha256: [u8; 32]) {
    file.extend_from_slice(&body_sha256);
    manifest.bytes = file.len() as u64;
}

/// The file's start: magic, format version and the manifest (as stored: without `bytes` and
/// `sha256`). The caller's manifest must already carry the stores' counts and checksums.
pub fn encode_header(manifest: &BackupManifest) -> Result<Vec<u8>, BackupError> {
    let json = encode_stored_manifest(manifest, FORMAT_VERSION)?;
    let json_len = u32::try_from(json.len())
        .map_err(|_| BackupError::invalid("the manifest is larger than 4 GiB"))?;
    let mut out = Vec::with_capacity(HEADER_LEN + json.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&json_len.to_le_bytes());
    out.extend_from_slice(&json);
    Ok(out)
}

/// The manifest as a file of format `version` stores it (without `bytes` and `sha256`).
pub(crate) fn encode_stored_manifest(
    manifest: &BackupManifest,
    version: u32,
) -> Result<Vec<u8>, BackupError> {
    if !manifest.created_at.is_finite() {
        return Err(BackupError::invalid("the creation time is not a number"));
    }
    let mut names = BTreeSet::new();
    for s in &manifest.stores {
        if !names.insert(s.schema.name.as_str()) {
            return Err(BackupError::invalid(format!(
                "store {:?} is listed twice",
                s.schema.name
            )));
        }
    }
    let mut stored = manifest.clone();
    stored.format_version = version;
    stored.bytes = 0;
    stored.sha256 = String::new();
    serde_json::to_vec(&stored)
        .map_err(|e| BackupError::invalid(format!("the manifest cannot be written: {e}")))
}

/// Writes a whole backup. `manifest.stores` names the stores (with their schemas) in the
/// order `stores` gives their records; counts, sizes and checksums are filled in.
pub fn encode_backup(
    manifest: BackupManifest,
    stores: Vec<StoreRecords>,
) -> Result<EncodedBackup, BackupError> {
    if manifest.stores.len() != stores.len()
        || manifest
            .stores
            .iter()
            .zip(&stores)
            .any(|(m, s)| m.schema.name != s.name)
    {
        return Err(BackupError::invalid(
            "the manifest's stores and the records given do not match",
        ));
    }
    let mut body = Vec::new();
    let mut spans = Vec::with_capacity(stores.len());
    for store in &stores {
        let start = body.len();
        for (i, (k, v)) in store.records.iter().enumerate() {
            encode_record(k, v, i as u64 + 1, &mut body).map_err(|e| match e {
                BackupError::Invalid { reason } => {
                    BackupError::invalid(format!("store {:?}: {reason}", store.name))
                }
                other => other,
            })?;
        }
        spans.push(SectionSpan {
            records: store.records.len() as u64,
            range: start..body.len(),
        });
    }
    finish_backup(manifest, body, &spans)
}

/// A verified file: its manifest and where each store's section lies.
struct Layout<'a> {
    manifest: BackupManifest,
    sections: Vec<&'a [u8]>,
}

fn le_u32(bytes: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&bytes[..4]);
    u32::from_le_bytes(a)
}

fn truncated(expected: u64, actual: usize) -> BackupError {
    BackupError::Truncated {
        missing: expected.saturating_sub(actual as u64),
    }
}

/// What a file's first bytes say, checked before anything is hashed.
struct Head {
    version: u32,
    manifest_end: u64,
    /// The manifest, if it parses (a damaged one is reported after the checksum).
    parsed: Option<BackupManifest>,
    /// The file's size as the manifest adds it up.
    expected_len: Option<u64>,
}

fn read_head(data: &[u8]) -> Result<Head, BackupError> {
    if data.is_empty() {
        return Err(BackupError::Empty);
    }
    let head = &data[..data.len().min(MAGIC.len())];
    if head != &MAGIC[..head.len()] {
        return Err(BackupError::BadMagic);
    }
    if data.len() < HEADER_LEN {
        return Err(truncated((HEADER_LEN + TRAILER_LEN) as u64, data.len()));
    }
    let version = le_u32(&data[8..12]);
    // A sealed file is read after unsealing (`sealed.rs`), never here.
    if version == super::sealed::SEALED_FORMAT_VERSION {
        return Err(BackupError::PassphraseRequired);
    }
    if version > NEWEST_FORMAT_VERSION {
        return Err(BackupError::UnsupportedFormat {
            found: version,
            supported: NEWEST_FORMAT_VERSION,
        });
    }
    // Only the functions that hand out whole-file sections get here with a chunked file.
    if version > FORMAT_VERSION {
        return Err(BackupError::UnsupportedFormat {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    if version == 0 {
        return Err(BackupError::corrupt("its format version is 0"));
    }
    let manifest_len = le_u32(&data[12..16]) as u64;
    let manifest_end = HEADER_LEN as u64 + manifest_len;
    let parsed: Option<BackupManifest> = data
        .get(HEADER_LEN..manifest_end as usize)
        .and_then(|json| crate::json::from_json(json).ok());
    let expected_len = parsed.as_ref().map(|m| {
        m.stores
            .iter()
            .fold(manifest_end + TRAILER_LEN as u64, |acc, s| {
                acc.saturating_add(s.bytes)
            })
    });
    // A file shorter than its manifest says (or than the manifest itself) was cut short. When
    // the manifest is whole, it tells the full size, so count every missing byte from it.
    if let Some(expected) = expected_len {
        if expected > data.len() as u64 {
            return Err(truncated(expected, data.len()));
        }
    }
    if manifest_end + TRAILER_LEN as u64 > data.len() as u64 {
        return Err(truncated(manifest_end + TRAILER_LEN as u64, data.len()));
    }
    Ok(Head {
        version,
        manifest_end,
        parsed,
        expected_len,
    })
}

/// The byte ranges that verifying `data` hashes: everything before the trailer, the whole
/// file, and each store's section as the manifest places them. Only what the first checks let
/// through (none for a file they refuse); anything verification needs beyond these it hashes
/// itself.
pub fn digest_ranges(data: &[u8]) -> Vec<std::ops::Range<usize>> {
    let Ok(head) = read_head(data) else {
        return Vec::new();
    };
    let mut ranges = vec![0..data.len() - TRAILER_LEN, 0..data.len()];
    if let (Some(m), Some(len)) = (&head.parsed, head.expected_len) {
        if len == data.len() as u64 {
            let mut pos = head.manifest_end as usize;
            for store in &m.stores {
                ranges.push(pos..pos + store.bytes as usize);
                pos += store.bytes as usize;
            }
        }
    }
    ranges
}

/// Checks magic, version, length, every checksum (from `digests`, or computed), and that the
/// manifest describes the sections; does not decode the records.
fn verify<'a>(data: &'a [u8], digests: &Digests) -> Result<Layout<'a>, BackupError> {
    let Head {
        version,
        manifest_end,
        parsed,
        expected_len,
    } = read_head(data)?;
    let body_len = data.len() - TRAILER_LEN;
    if digests.of(data, 0..body_len).as_slice() != &data[body_len..] {
        return Err(BackupError::ChecksumMismatch {
            what: "the whole file".into(),
        });
    }
    let Some(mut manifest) = parsed else {
        return Err(BackupError::corrupt("its manifest cannot be read"));
    };
    if manifest.format_version != version {
        return Err(BackupError::corrupt(
            "its manifest and header disagree on the format version",
        ));
    }
    if expected_len != Some(data.len() as u64) {
        return Err(BackupError::corrupt(
            "its size does not match the sizes its manifest lists",
        ));
    }
    let mut names = BTreeSet::new();
    let mut sections = Vec::with_capacity(manifest.stores.len());
    let mut pos = manifest_end as usize;
    for store in &manifest.stores {
        if !names.insert(store.schema.name.as_str()) {
            return Err(BackupError::corrupt(format!(
                "store {:?} is listed twice",
                store.schema.name
            )));
        }
        let end = pos + store.bytes as usize;
        if hex(&digests.of(data, pos..end)) != store.sha256 {
            return Err(BackupError::ChecksumMismatch {
                what: format!("store {:?}", store.schema.name),
            });
        }
        if store.records > store.bytes / 2 {
            return Err(BackupError::corrupt(format!(
                "store {:?} lists more records than its bytes can hold",
                store.schema.name
            )));
        }
        store.check_key_generator(version)?;
        sections.push(&data[pos..end]);
        pos = end;
    }
    if !manifest.skipped.is_empty() && version < SKIPPED_SINCE {
        return Err(BackupError::corrupt(format!(
            "format {version} cannot list skipped records"
        )));
    }
    for skipped in &manifest.skipped {
        if !names.contains(skipped.store.as_str()) {
            return Err(BackupError::corrupt(format!(
                "a skipped record names store {:?}, which the backup does not hold",
                skipped.store
            )));
        }
        skipped.decoded_key()?;
    }
    manifest.bytes = data.len() as u64;
    manifest.sha256 = hex(&digests.of(data, 0..data.len()));
    Ok(Layout { manifest, sections })
}

/// [`verify`] with every digest computed here, two ranges in one pass where it can.
fn verify_sha2(data: &[u8]) -> Result<Layout<'_>, BackupError> {
    verify(data, &Digests::sha2(data, &digest_ranges(data)))
}

/// What checking a section found, as far as it was asked for.
struct CheckedSection {
    /// The records, when asked to keep them.
    kept: Vec<(Value, Value)>,
    /// Offsets (in the section) of the records holding ImageBitmaps, when asked to find them.
    bitmaps: Vec<usize>,
}

/// What [`check_section`] is to keep besides checking.
#[derive(Clone, Copy, PartialEq)]
enum Keep {
    Nothing,
    Records,
    BitmapRecords,
}

fn check_section(
    name: &str,
    section: &[u8],
    expected: u64,
    keep: Keep,
) -> Result<CheckedSection, BackupError> {
    let mut reader = SectionReader::new(section);
    let mut checked = CheckedSection {
        kept: Vec::new(),
        bitmaps: Vec::new(),
    };
    let mut count = 0u64;
    loop {
        let at = reader.offset(section);
        let record = reader.next_record().map_err(|e| match e {
            BackupError::Corrupt { reason } => {
                BackupError::corrupt(format!("in store {name:?}, {reason}"))
            }
            other => other,
        })?;
        let Some(record) = record else { break };
        count += 1;
        match keep {
            Keep::Nothing => {}
            Keep::Records => checked.kept.push(record),
            Keep::BitmapRecords => {
                if record.1.holds_bitmap() {
                    checked.bitmaps.push(at);
                }
            }
        }
    }
    if count != expected {
        return Err(BackupError::corrupt(format!(
            "store {name:?} holds {count} records but its manifest says {expected}"
        )));
    }
    Ok(checked)
}

/// Reads and fully verifies a backup of any format, records included (out-of-line Blobs of a
/// chunked file with their bytes).
pub fn decode_backup(data: &[u8]) -> Result<DecodedBackup, BackupError> {
    if is_chunked(data) {
        return decode_chunked(data, None);
    }
    let layout = verify_sha2(data)?;
    let mut stores = Vec::with_capacity(layout.sections.len());
    for (entry, section) in layout.manifest.stores.iter().zip(&layout.sections) {
        let name = entry.schema.name.clone();
        let records = check_section(&name, section, entry.records, Keep::Records)?.kept;
        stores.push(StoreRecords { name, records });
    }
    Ok(DecodedBackup {
        manifest: layout.manifest,
        stores,
    })
}

/// Verifies a backup of any format completely — magic, format version, every checksum, every
/// record decodable and counted as the manifest says — and returns its manifest. Keeps no
/// records.
pub fn inspect(data: &[u8]) -> Result<BackupManifest, BackupError> {
    inspect_with(data, &Digests::sha2(data, &digest_ranges(data)))
}

/// [`inspect`] with the digests of [`digest_ranges`] computed elsewhere.
/// A chunked file is verified by [`super::ChunkedReader`], which hashes as it reads.
pub fn inspect_with(data: &[u8], digests: &Digests) -> Result<BackupManifest, BackupError> {
    if is_chunked(data) {
        return inspect_chunked(data);
    }
    let layout = verify(data, digests)?;
    for (entry, section) in layout.manifest.stores.iter().zip(&layout.sections) {
        check_section(&entry.schema.name, section, entry.records, Keep::Nothing)?;
    }
    Ok(layout.manifest)
}

/// A completely verified file (as [`inspect`] verifies it): its manifest and where each
/// store's section lies in it.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedFile {
    pub manifest: BackupManifest,
    pub sections: Vec<std::ops::Range<usize>>,
    /// For each section, where its records holding ImageBitmaps start (offsets in the
    /// section): a restore makes their bitmaps before its transaction.
    pub bitmap_records: Vec<Vec<usize>>,
}

/// Verifies a backup of format 1 or 2 completely, as [`inspect`] does, keeping no records:
/// for reading them straight from the bytes afterwards (a restore in batches). A chunked file
/// has no such sections: it is read with [`super::ChunkedReader`].
pub fn verify_file(data: &[u8]) -> Result<VerifiedFile, BackupError> {
    verify_file_with(data, &Digests::sha2(data, &digest_ranges(data)))
}

/// [`verify_file`] with the digests of [`digest_ranges`] computed elsewhere.
pub fn verify_file_with(data: &[u8], digests: &Digests) -> Result<VerifiedFile, BackupError> {
    let layout = verify(data, digests)?;
    let base = data.as_ptr() as usize;
    let mut sections = Vec::with_capacity(layout.sections.len());
    let mut bitmap_records = Vec::with_capacity(layout.sections.len());
    for (entry, section) in layout.manifest.stores.iter().zip(&layout.sections) {
        let checked = check_section(
            &entry.schema.name,
            section,
            entry.records,
            Keep::BitmapRecords,
        )?;
        bitmap_records.push(checked.bitmaps);
        let start = section.as_ptr() as usize - base;
        sections.push(start..start + section.len());
    }
    Ok(VerifiedFile {
        manifest: layout.manifest,
        sections,
        bitmap_records,
    })
}

/// The verified manifest and one store's section bytes, for reading records in batches with
/// [`SectionReader`] (the records themselves are checked as they are read).
pub fn store_sections(data: &[u8]) -> Result<(BackupManifest, Vec<&[u8]>), BackupError> {
    let layout = verify_sha2(data)?;
    Ok((layout.manifest, layout.sections))
}

/// The download name: `<database>-v<schema version>-<UTC time>.rewind`, e.g.
/// `notes-v3-20261126T171856Z.rewind`, with the name made safe for any file system.
pub fn backup_file_name(database: &str, schema_version: u32, created_at: f64) -> String {
    let mut name: String = database
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    while name.starts_with('.') {
        name.remove(0);
    }
    if name.is_empty() {
        name = "database".into();
    }
    format!("{name}-v{schema_version}-{}.rewind", utc_stamp(created_at))
}

/// `YYYYMMDDTHHMMSSZ` for milliseconds since the epoch.
pub fn utc_stamp(ms: f64) -> String {
    let ms = if ms.is_finite() { ms } else { 0.0 };
    let secs = (ms / 1000.0).floor().clamp(-8.0e12, 8.0e12) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}
