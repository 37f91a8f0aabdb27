//! Decisions about backups that need no browser: which backups the retention policy removes,
//! whether a backup may be restored into a database, and how backups are named.

use crate::backup::BackupManifest;
use crate::rewind_error::RewindError;

/// How many automatic (pre-operation) backups to keep; manual ones are always kept.
pub const DEFAULT_KEEP_AUTOMATIC: usize = 5;

/// Newest first, as `list_backups` returns them; ties broken by id so the order is total.
pub fn newest_first(manifests: &mut [BackupManifest]) {
    manifests.sort_by(|a, b| {
        b.created_at
            .partial_cmp(&a.created_at)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| b.id.cmp(&a.id))
    });
}

/// The ids the retention policy removes: every automatic backup beyond the newest `keep`. The
/// newest is always kept, whatever `keep` says: it is the one the operation just made and
/// names in its report and journal entry.
pub fn expired(manifests: &[BackupManifest], keep: usize) -> Vec<String> {
    let mut sorted = manifests.to_vec();
    newest_first(&mut sorted);
    sorted
        .iter()
        .filter(|m| m.automatic)
        .skip(keep.max(1))
        .map(|m| m.id.clone())
        .collect()
}

/// What a backup does with a record holding a value no backup can carry (a non-extractable
/// `CryptoKey`, a file system handle…).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UnsupportedRecords {
    /// Refuse the whole backup, naming the record: nothing is ever left out unasked.
    #[default]
    Refuse,
    /// Leave such records out and list each in the manifest; restoring the backup keeps the
    /// live database's records with the same keys.
    Skip,
}

/// What a person allowed for one restore.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RestoreConsent {
    /// Restore a backup taken of a database with another name.
    pub allow_other_database: bool,
    /// Restore a backup at a schema version this app does not know.
    pub allow_unknown_version: bool,
}

/// Refuses a restore the person did not explicitly allow.
pub fn check_restore(
    manifest: &BackupManifest,
    target: &str,
    latest_known: u32,
    consent: RestoreConsent,
) -> Result<(), RewindError> {
    if manifest.database != target && !consent.allow_other_database {
        return Err(RewindError::WrongDatabase {
            backup: manifest.database.clone(),
            target: target.to_string(),
        });
    }
    if manifest.schema_version > latest_known && !consent.allow_unknown_version {
        return Err(RewindError::NewerBackup {
            version: manifest.schema_version,
            latest: latest_known,
        });
    }
    Ok(())
}

/// A backup id: sortable by time, unique by the random part the caller passes in (from the
/// browser's random source; the core has none).
pub fn backup_id(created_at: f64, random: u32) -> String {
    format!("{}-{random:08x}", crate::backup::utc_stamp(created_at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RewindMeta;

    fn manifest(id: &str, at: f64, automatic: bool) -> BackupManifest {
        BackupManifest {
            format_version: 1,
            id: id.into(),
            database: "notes".into(),
            schema_version: 3,
            idb_version: 7,
            created_at: at,
            label: String::new(),
            automatic,
            meta: RewindMeta::default(),
            stores: vec![],
            skipped: Vec::new(),
            interrupted: None,
            in_place: false,
            bytes: 0,
            sha256: String::new(),
        }
    }

    #[test]
    fn retention_keeps_the_newest_automatic_backups_and_every_manual_one() {
        let all: Vec<BackupManifest> = (0..9)
            .map(|i| manifest(&format!("b{i}"), i as f64, i % 3 != 0))
            .collect();
        // automatic: b1 b2 b4 b5 b7 b8 (newest first: b8 b7 b5 b4 b2 b1)
        assert_eq!(expired(&all, 5), vec!["b1".to_string()]);
        assert_eq!(expired(&all, 2), vec!["b5", "b4", "b2", "b1"]);
        assert!(expired(&all, 6).is_empty());
        assert_eq!(
            expired(&all, 0),
            vec!["b7", "b5", "b4", "b2", "b1"],
            "keep 0 still keeps the newest: the one an operation just made"
        );
    }

    #[test]
    fn newest_first_orders_by_time_then_id() {
        let mut all = vec![
            manifest("a", 1.0, true),
            manifest("c", 2.0, false),
            manifest("b", 1.0, true),
        ];
        newest_first(&mut all);
        let ids: Vec<&str> = all.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, vec!["c", "b", "a"]);
    }

    #[test]
    fn restores_are_refused_unless_allowed() {
        let m = manifest("x", 0.0, false);
        assert!(check_restore(&m, "notes", 3, RestoreConsent::default()).is_ok());
        let err = check_restore(&m, "todo", 3, RestoreConsent::default()).unwrap_err();
        assert_eq!(err.code(), "WrongDatabase");
        assert!(err.to_string().contains("\"notes\"") && err.to_string().contains("\"todo\""));
        let allow_other = RestoreConsent {
            allow_other_database: true,
            ..Default::default()
        };
        assert!(check_restore(&m, "todo", 3, allow_other).is_ok());
        let err = check_restore(&m, "notes", 2, RestoreConsent::default()).unwrap_err();
        assert_eq!(err.code(), "UnknownVersion");
        let allow_newer = RestoreConsent {
            allow_unknown_version: true,
            ..Default::default()
        };
        assert!(check_restore(&m, "notes", 2, allow_newer).is_ok());
    }

    #[test]
    fn ids_sort_by_time() {
        let a = backup_id(1_767_225_600_000.0, 0xff);
        let b = backup_id(1_767_225_601_000.0, 0x01);
        assert!(a < b, "{a} {b}");
        assert!(a.ends_with("-000000ff"));
    }

    #[test]
    fn nothing_is_left_out_unasked() {
        assert_eq!(UnsupportedRecords::default(), UnsupportedRecords::Refuse);
    }
}
