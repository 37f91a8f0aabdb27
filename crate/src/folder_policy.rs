//! Decisions about the backup folder that need no browser: how often the schedule writes
//! (`every`, parsed from `"30m"`, `"24h"`, `"7d"`), how many backups it keeps, when the next
//! one is due, what the folder's manifest (`rewind-backups.json`) lists and which files
//! retention removes. The adapter (`idb/folder.rs`) carries these out with the File System
//! Access API.

use crate::backup::{backup_file_name, BackupManifest};
use serde::{Deserialize, Serialize};

/// The folder's manifest: the only list of its backups. A file it does not name is never
/// listed (it may be half-written: the manifest is written after the file is closed).
pub const FOLDER_MANIFEST: &str = "rewind-backups.json";

/// The manifest's own format version; a newer one is left alone rather than overwritten.
pub const FOLDER_MANIFEST_FORMAT: u32 = 1;

/// Backups the schedule and automatic backups keep in a folder when the app says nothing.
pub const DEFAULT_FOLDER_KEEP: u32 = 7;

/// The most `keep` may be: a folder is a person's disk, not an archive.
pub const MAX_FOLDER_KEEP: u32 = 1000;

/// The longest `every` may be (a year): longer is a mistake, not a schedule.
const MAX_EVERY_MS: u64 = 366 * 86_400_000;

/// A folder setting that cannot be used; nothing was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FolderSettingError {
    #[error(
        "every must be a whole number followed by s, m, h or d (like \"30m\", \"24h\", \"7d\"), \
         from 1 second to 366 days, not {0:?}. Nothing was changed."
    )]
    Every(String),
    #[error(
        "keep must be a whole number from 1 to {MAX_FOLDER_KEEP}, not {0}. Nothing was changed."
    )]
    Keep(String),
}

/// `"30s"`, `"30m"`, `"24h"`, `"7d"` as milliseconds. Seconds exist for tests and demos; a
/// schedule is checked once a minute at most (more often only when `every` is shorter).
pub fn parse_every(text: &str) -> Result<u64, FolderSettingError> {
    let refuse = || FolderSettingError::Every(text.to_string());
    let trimmed = text.trim();
    let unit_at = trimmed.len().checked_sub(1).ok_or_else(refuse)?;
    let (number, unit) = trimmed.split_at(unit_at);
    let unit_ms: u64 = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(refuse()),
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse());
    }
    let n: u64 = number.parse().map_err(|_| refuse())?;
    match n.checked_mul(unit_ms) {
        Some(ms) if ms > 0 && ms <= MAX_EVERY_MS => Ok(ms),
        _ => Err(refuse()),
    }
}

/// `every` in words as it was given back to people (`86400000` → `"24h"`).
pub fn format_every(ms: u64) -> String {
    for (unit, size) in [("d", 86_400_000u64), ("h", 3_600_000), ("m", 60_000)] {
        if ms >= size && ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{}s", ms / 1000)
}

/// Checks `keep` (a whole number from 1 to [`MAX_FOLDER_KEEP`]).
pub fn check_keep(keep: f64) -> Result<u32, FolderSettingError> {
    if keep.fract() == 0.0 && (1.0..=MAX_FOLDER_KEEP as f64).contains(&keep) {
        Ok(keep as u32)
    } else {
        Err(FolderSettingError::Keep(keep.to_string()))
    }
}

/// What Rewind keeps about a database's folder beside the folder's handle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FolderSettings {
    /// The folder's name, as the browser gives it (for people; never a path).
    pub name: String,
    /// How often the schedule writes, in milliseconds; `None`: no schedule (automatic and
    /// manual backups are still written).
    pub every_ms: Option<u64>,
    pub keep: u32,
    /// When a backup was last written to the folder (ms since the epoch): the schedule counts
    /// from here, so a reload does not reset it.
    pub last_written: Option<f64>,
    /// Why the last write failed, until one succeeds.
    pub last_error: Option<String>,
    /// When the schedule last tried to write and failed: it tries again after `every` or an
    /// hour, whichever is sooner, rather than at every check (each try is a whole backup).
    #[serde(default)]
    pub last_failed_attempt: Option<f64>,
}

impl FolderSettings {
    pub fn new(name: String, every_ms: Option<u64>, keep: u32) -> Self {
        FolderSettings {
            name,
            every_ms,
            keep,
            last_written: None,
            last_error: None,
            last_failed_attempt: None,
        }
    }

    /// Whether the schedule should write now: it has one, and `every` has passed since the last
    /// write (or none was ever written). A clock set back (now before the last write) waits
    /// for `every` from now rather than writing at every check.
    pub fn schedule_due(&self, now: f64) -> bool {
        let Some(every) = self.every_ms else {
            return false;
        };
        let passed = |since: Option<f64>, wait: u64| match since {
            None => true,
            Some(last) if now < last => false,
            Some(last) => now - last >= wait as f64,
        };
        passed(self.last_written, every) && passed(self.last_failed_attempt, every.min(3_600_000))
    }

    /// How long the timer waits before its next check: a minute, or `every` when shorter.
    pub fn check_interval_ms(&self) -> u64 {
        self.every_ms.map_or(60_000, |every| every.min(60_000))
    }
}

/// Why a backup was written to the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FolderReason {
    /// A person asked for it (kept until they delete it).
    Manual,
    /// Taken by Rewind before an operation.
    Automatic,
    /// Written by the schedule.
    Scheduled,
}

/// One backup listed in the folder's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FolderEntry {
    /// The file's name in the folder.
    pub name: String,
    pub id: String,
    pub database: String,
    pub size: u64,
    pub created_at: f64,
    pub schema_version: u32,
    pub reason: FolderReason,
    pub label: String,
    /// SHA-256 of the file (as the catalog's manifest says).
    #[serde(default)]
    pub sha256: String,
}

impl FolderEntry {
    pub fn of(manifest: &BackupManifest, name: String, reason: FolderReason) -> Self {
        FolderEntry {
            name,
            id: manifest.id.clone(),
            database: manifest.database.clone(),
            size: manifest.bytes,
            created_at: manifest.created_at,
            schema_version: manifest.schema_version,
            reason,
            label: manifest.label.clone(),
            sha256: manifest.sha256.clone(),
        }
    }
}

/// The folder's manifest, `rewind-backups.json`: every complete backup in the folder, of every
/// database that writes there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FolderManifest {
    pub format: u32,
    pub backups: Vec<FolderEntry>,
}

impl Default for FolderManifest {
    fn default() -> Self {
        FolderManifest {
            format: FOLDER_MANIFEST_FORMAT,
            backups: Vec::new(),
        }
    }
}

/// Only the manifest's format, read before the rest.
#[derive(Deserialize)]
struct FormatOnly {
    #[serde(default)]
    format: u64,
}

/// A manifest this Rewind cannot rewrite without losing what it lists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FolderManifestError {
    #[error(
        "the folder's {FOLDER_MANIFEST} is not one Rewind can read ({0}); nothing in the folder \
         was changed. Move that file away (its backups stay in the folder) or choose another \
         folder."
    )]
    Unreadable(String),
    #[error(
        "the folder's {FOLDER_MANIFEST} was written by a newer Rewind (format {0}); nothing in \
         the folder was changed. Update the app, or choose another folder."
    )]
    Newer(u32),
}

impl FolderManifest {
    /// The manifest from its text; no file (`None`) is an empty folder.
    pub fn parse(text: Option<&str>) -> Result<Self, FolderManifestError> {
        let Some(text) = text else {
            return Ok(Self::default());
        };
        let unreadable = |e: serde_json::Error| FolderManifestError::Unreadable(e.to_string());
        // The format first, alone: a newer manifest's other fields may not read as this one's.
        let format = serde_json::from_str::<FormatOnly>(text)
            .map_err(unreadable)?
            .format;
        if format > FOLDER_MANIFEST_FORMAT as u64 {
            return Err(FolderManifestError::Newer(
                u32::try_from(format).unwrap_or(u32::MAX),
            ));
        }
        serde_json::from_str(text).map_err(unreadable)
    }

    pub fn to_json(&self) -> String {
        // Plain data of strings and numbers: serializing cannot fail. (Compact, not pretty:
        // another formatter costs the wasm a few KB.)
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A file name for a backup that no entry has: `<database>-v<schema>-<UTC time>.rewind`,
    /// with `-2`, `-3`… before `.rewind` when two backups share a second.
    pub fn free_name(&self, manifest: &BackupManifest) -> String {
        let base = backup_file_name(
            &manifest.database,
            manifest.schema_version,
            manifest.created_at,
        );
        let taken = |name: &str| self.backups.iter().any(|e| e.name == name);
        if !taken(&base) {
            return base;
        }
        let stem = base.strip_suffix(".rewind").unwrap_or(&base);
        (2u32..)
            .map(|n| format!("{stem}-{n}.rewind"))
            .find(|name| !taken(name))
            .unwrap_or(base)
    }

    /// Lists `entry` (replacing an entry of the same name).
    pub fn add(&mut self, entry: FolderEntry) {
        self.backups.retain(|e| e.name != entry.name);
        self.backups.push(entry);
    }

    /// Forgets the entries named.
    pub fn remove(&mut self, names: &[String]) {
        self.backups.retain(|e| !names.contains(&e.name));
    }

    /// `database`'s entries, newest first.
    pub fn of_database(&self, database: &str) -> Vec<FolderEntry> {
        let mut mine: Vec<FolderEntry> = self
            .backups
            .iter()
            .filter(|e| e.database == database)
            .cloned()
            .collect();
        mine.sort_by(|a, b| {
            b.created_at
                .partial_cmp(&a.created_at)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| b.name.cmp(&a.name))
        });
        mine
    }

    /// The files retention removes for `database`: its automatic and scheduled backups beyond
    /// the newest `keep` (the newest always stays). Manual ones are a person's and stay until
    /// they delete them; other databases' entries are theirs to prune.
    pub fn expired(&self, database: &str, keep: u32) -> Vec<String> {
        self.of_database(database)
            .into_iter()
            .filter(|e| e.reason != FolderReason::Manual)
            .skip(keep.max(1) as usize)
            .map(|e| e.name)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(database: &str, created_at: f64) -> BackupManifest {
        BackupManifest {
            format_version: 3,
            id: format!("id-{created_at}"),
            database: database.into(),
            schema_version: 2,
            idb_version: 3,
            created_at,
            label: "l".into(),
            automatic: false,
            meta: crate::RewindMeta::default(),
            stores: vec![],
            skipped: Vec::new(),
            interrupted: None,
            in_place: false,
            bytes: 10,
            sha256: String::new(),
        }
    }

    fn entry(database: &str, at: f64, reason: FolderReason) -> FolderEntry {
        let m = manifest(database, at);
        FolderEntry::of(&m, FolderManifest::default().free_name(&m), reason)
    }

    #[test]
    fn every_parses_units_and_refuses_the_rest() {
        assert_eq!(parse_every("30m"), Ok(30 * 60_000));
        assert_eq!(parse_every("24h"), Ok(86_400_000));
        assert_eq!(parse_every("7d"), Ok(7 * 86_400_000));
        assert_eq!(parse_every("2s"), Ok(2_000));
        assert_eq!(parse_every(" 1h "), Ok(3_600_000));
        for bad in [
            "",
            "h",
            "0h",
            "-1h",
            "1.5h",
            "1w",
            "24",
            "1 h",
            "367d",
            "+3m",
            "99999999999999999999d",
        ] {
            assert_eq!(
                parse_every(bad),
                Err(FolderSettingError::Every(bad.into())),
                "{bad:?}"
            );
        }
        assert!(parse_every("x")
            .unwrap_err()
            .to_string()
            .contains("like \"30m\""));
    }

    #[test]
    fn every_formats_back_in_its_largest_unit() {
        assert_eq!(format_every(86_400_000), "1d");
        assert_eq!(format_every(3_600_000 * 25), "25h");
        assert_eq!(format_every(30 * 60_000), "30m");
        assert_eq!(format_every(2_000), "2s");
    }

    #[test]
    fn keep_is_one_to_a_thousand() {
        assert_eq!(check_keep(1.0), Ok(1));
        assert_eq!(check_keep(1000.0), Ok(1000));
        for bad in [0.0, 1001.0, 2.5, -1.0, f64::NAN] {
            assert!(check_keep(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_schedule_is_due_once_every_has_passed() {
        let mut s = FolderSettings::new("f".into(), Some(1_000), 7);
        assert!(s.schedule_due(0.0), "never written: due at once");
        s.last_written = Some(10_000.0);
        assert!(!s.schedule_due(10_999.0));
        assert!(s.schedule_due(11_000.0));
        assert!(!s.schedule_due(5_000.0), "a clock set back waits");
        s.every_ms = Some(86_400_000);
        s.last_written = Some(0.0);
        s.last_failed_attempt = Some(86_400_000.0);
        assert!(
            !s.schedule_due(86_400_000.0 + 3_599_999.0),
            "a failed try waits an hour"
        );
        assert!(s.schedule_due(86_400_000.0 + 3_600_000.0));
        s.last_failed_attempt = None;
        s.every_ms = None;
        assert!(!s.schedule_due(1e12), "no schedule: never due");
        assert_eq!(s.check_interval_ms(), 60_000);
        s.every_ms = Some(86_400_000);
        assert_eq!(s.check_interval_ms(), 60_000);
        s.every_ms = Some(2_000);
        assert_eq!(s.check_interval_ms(), 2_000);
    }

    #[test]
    fn entries_are_added_named_uniquely_and_removed() {
        let mut folder = FolderManifest::default();
        let m = manifest("notes", 1_700_000_000_000.0);
        let first = folder.free_name(&m);
        assert_eq!(first, "notes-v2-20231114T221320Z.rewind");
        folder.add(FolderEntry::of(&m, first.clone(), FolderReason::Manual));
        let second = folder.free_name(&m);
        assert_eq!(second, "notes-v2-20231114T221320Z-2.rewind");
        folder.add(FolderEntry::of(&m, second.clone(), FolderReason::Scheduled));
        assert_eq!(folder.backups.len(), 2);
        folder.add(FolderEntry::of(&m, second.clone(), FolderReason::Scheduled));
        assert_eq!(folder.backups.len(), 2, "the same name replaces its entry");
        folder.remove(std::slice::from_ref(&first));
        assert_eq!(folder.backups.len(), 1);
        assert_eq!(folder.backups[0].name, second);
    }

    #[test]
    fn retention_removes_the_oldest_unattended_backups_of_this_database_only() {
        let mut folder = FolderManifest::default();
        folder.add(entry("notes", 1_000.0, FolderReason::Manual));
        folder.add(entry("notes", 2_000.0, FolderReason::Scheduled));
        folder.add(entry("notes", 3_000.0, FolderReason::Automatic));
        folder.add(entry("notes", 4_000.0, FolderReason::Scheduled));
        folder.add(entry("other", 500.0, FolderReason::Scheduled));
        let expired = folder.expired("notes", 2);
        assert_eq!(
            expired,
            vec![entry("notes", 2_000.0, FolderReason::Manual).name]
        );
        assert_eq!(
            folder.expired("notes", 0).len(),
            2,
            "the newest always stays"
        );
        assert!(folder.expired("notes", 3).is_empty());
        assert!(folder.expired("other", 1).is_empty());
        let listed = folder.of_database("notes");
        assert_eq!(listed.len(), 4);
        assert_eq!(listed[0].created_at, 4_000.0, "newest first");
    }

    #[test]
    fn the_manifest_round_trips_and_refuses_what_it_cannot_rewrite() {
        assert_eq!(FolderManifest::parse(None), Ok(FolderManifest::default()));
        let mut folder = FolderManifest::default();
        folder.add(entry("notes", 1_000.0, FolderReason::Automatic));
        assert_eq!(FolderManifest::parse(Some(&folder.to_json())), Ok(folder));
        assert!(matches!(
            FolderManifest::parse(Some("{not json")),
            Err(FolderManifestError::Unreadable(_))
        ));
        assert_eq!(
            FolderManifest::parse(Some(r#"{"format": 2, "backups": []}"#)),
            Err(FolderManifestError::Newer(2))
        );
    }
}
