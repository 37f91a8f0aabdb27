//! The room a backup or a restore needs, shown before it runs: the database's size, the free
//! space the browser reports, and for a restore the file's size. Estimates only: the page warns
//! when they say the operation may not fit, and lets the person go on.

use super::{Dialog, DialogKind, Loadable, PageState, StorageUse};
use rewind::backup::BackupManifest;

/// What is known of the room an operation needs, and of what there is.
#[derive(Debug, Clone, PartialEq)]
pub struct Space {
    /// Records in the database now.
    pub records: Option<u64>,
    /// The database's size, estimated from its latest backup (bytes per record, store by
    /// store) and its records now; `None` without a backup to go by.
    pub database_bytes: Option<u64>,
    /// The site's storage; `None` where the browser does not say.
    pub storage: Option<StorageUse>,
    /// The size of the backup a restore writes.
    pub file_bytes: Option<u64>,
    /// About what the operation writes: a backup, the database's size; a restore, the file
    /// (staged before it is swapped in) and its automatic backup (the database's size).
    pub needed: Option<u64>,
}

impl Space {
    /// Quota minus usage; `None` where the browser does not say (no estimate, or no quota).
    pub fn free(&self) -> Option<u64> {
        self.storage
            .filter(|s| s.quota > 0)
            .map(|s| s.quota.saturating_sub(s.usage))
    }

    /// Whether the estimates say the operation may not fit.
    pub fn short(&self) -> bool {
        matches!((self.needed, self.free()), (Some(needed), Some(free)) if needed > free)
    }
}

impl Dialog {
    /// The size of the backup a restore dialog is about, once it is known.
    pub fn file_bytes(&self) -> Option<u64> {
        match &self.kind {
            DialogKind::RestoreBackup { manifest, .. } if !manifest.in_place => {
                Some(manifest.bytes)
            }
            DialogKind::RestoreFile {
                manifest: Loadable::Ready(manifest),
                ..
            } => Some(manifest.bytes),
            _ => None,
        }
    }
}

/// The latest backup's bytes per record applied to the records there are now: store by store
/// where the backup has records of the store, else at its average.
fn estimate_size(counts: &std::collections::BTreeMap<String, u64>, latest: &BackupManifest) -> u64 {
    let total_records = latest.total_records();
    let average = if total_records == 0 {
        0.0
    } else {
        latest.bytes as f64 / total_records as f64
    };
    let estimate: f64 = counts
        .iter()
        .map(|(store, &n)| {
            let per_record = match latest.store(store) {
                Some(s) if s.records > 0 => s.bytes as f64 / s.records as f64,
                _ => average,
            };
            per_record * n as f64
        })
        .sum();
    estimate.round() as u64
}

impl PageState {
    fn records_now(&self) -> Option<u64> {
        self.summary.ready().map(|s| s.total_records())
    }

    fn storage(&self) -> Option<StorageUse> {
        self.health.ready().and_then(|h| h.storage)
    }

    /// The selected database's size, estimated from its latest backup that is a file (one
    /// held in place has no size yet).
    pub fn database_bytes(&self) -> Option<u64> {
        let summary = self.summary.ready()?;
        let latest = self
            .backups
            .ready()?
            .iter()
            .filter(|m| !m.in_place)
            .max_by(|a, b| a.created_at.total_cmp(&b.created_at))?;
        Some(estimate_size(&summary.record_counts, latest))
    }

    /// Before a backup: it needs about the database's size.
    pub fn space_for_backup(&self) -> Space {
        let database_bytes = self.database_bytes();
        Space {
            records: self.records_now(),
            database_bytes,
            storage: self.storage(),
            file_bytes: None,
            needed: database_bytes,
        }
    }

    /// Before the restore the open dialog confirms: the file staged, then the automatic backup
    /// unless the person declined it. `None` when no restore dialog knows its file yet.
    pub fn space_for_restore(&self) -> Option<Space> {
        let dialog = self.dialog.as_ref()?;
        let file_bytes = dialog.file_bytes()?;
        let database_bytes = self.database_bytes();
        let needed = if dialog.without_backup {
            Some(file_bytes)
        } else {
            database_bytes.map(|d| d + file_bytes)
        };
        Some(Space {
            records: self.records_now(),
            database_bytes,
            storage: self.storage(),
            file_bytes: Some(file_bytes),
            needed,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::state::fixtures::*;
    use crate::state::{Action, Health, Loadable, StorageUse};
    use rewind::backup::StoreManifest;
    use rewind::StoreSchema;

    fn store(name: &str, records: u64, bytes: u64) -> StoreManifest {
        StoreManifest {
            records,
            bytes,
            ..StoreManifest::new(StoreSchema::new(name, None, false))
        }
    }

    /// Database A: 1,000 notes and 10 settings now; its latest backup had 500 notes in
    /// 50,000 bytes and 10 settings in 1,000, and the site uses 900 of a 1,000,000-byte quota.
    fn sized(usage: u64, quota: u64) -> crate::state::PageState {
        let mut s = summary(A);
        s.record_counts = [("notes".to_string(), 1000), ("settings".to_string(), 10)].into();
        let mut older = manifest("old");
        older.created_at = 1.0;
        older.bytes = 1;
        let mut latest = manifest("b1");
        latest.created_at = 2.0;
        latest.stores = vec![store("notes", 500, 50_000), store("settings", 10, 1_000)];
        latest.bytes = 51_000;
        let mut h: Health = health(3, 5);
        h.storage = Some(StorageUse {
            usage,
            quota,
            persisted: false,
        });
        ready()
            .apply(Action::SummaryLoaded(s))
            .apply(Action::HealthLoaded {
                name: A.into(),
                health: Ok(h),
            })
            .apply(Action::BackupsLoaded {
                name: A.into(),
                backups: Ok(vec![latest, older]),
            })
    }

    #[test]
    fn before_a_backup_the_page_knows_the_database_size_and_the_free_space() {
        let space = sized(900, 1_000_000).space_for_backup();
        assert_eq!(space.records, Some(1010));
        assert_eq!(
            space.database_bytes,
            Some(101_000),
            "100 bytes a note, 100 a setting, from the latest backup"
        );
        assert_eq!(space.free(), Some(999_100));
        assert!(!space.short());
        let tight = sized(950_000, 1_000_000).space_for_backup();
        assert_eq!(tight.free(), Some(50_000));
        assert!(tight.short(), "about 101 KB needed, 50 KB free");
    }

    #[test]
    fn a_backup_held_in_place_has_no_size_and_the_estimate_takes_the_latest_file() {
        let mut state = sized(900, 1_000_000);
        let mut held = manifest("held");
        held.created_at = 3.0;
        held.in_place = true;
        held.bytes = 0;
        held.stores = vec![store("notes", 1000, 0)];
        if let Loadable::Ready(list) = &mut state.backups {
            list.insert(0, held.clone());
        }
        assert_eq!(state.space_for_backup().database_bytes, Some(101_000));
        assert_eq!(
            crate::format::backup_size(&held),
            crate::format::HELD_IN_PLACE
        );
        assert_eq!(crate::format::backup_size(&manifest("file")), "10 bytes");
    }

    #[test]
    fn what_the_browser_or_the_backups_do_not_say_is_unknown_and_never_warns() {
        let mut state = sized(950_000, 1_000_000);
        state.health = Loadable::Ready(health(3, 5));
        let space = state.space_for_backup();
        assert_eq!(space.free(), None, "no storage estimate");
        assert!(!space.short());
        let no_quota = sized(950_000, 0).space_for_backup();
        assert_eq!(no_quota.free(), None, "a quota of 0 says nothing");
        let mut none = sized(950_000, 1_000_000);
        none.backups = Loadable::Ready(vec![]);
        let space = none.space_for_backup();
        assert_eq!(space.database_bytes, None, "no backup to go by");
        assert!(!space.short());
        // A store the backup did not have is estimated at the backup's average.
        let mut grown = sized(0, 1_000_000);
        if let Loadable::Ready(s) = &mut grown.summary {
            s.record_counts.insert("tags".into(), 51);
        }
        assert_eq!(grown.database_bytes(), Some(101_000 + 51 * 100));
    }

    #[test]
    fn before_a_restore_the_file_is_staged_and_the_database_backed_up_first() {
        let state = sized(900, 1_000_000);
        assert_eq!(state.space_for_restore(), None, "no dialog");
        let open = state.apply(Action::OpenRestoreBackup("b1".into()));
        let space = open.space_for_restore().unwrap();
        assert_eq!(space.file_bytes, Some(51_000));
        assert_eq!(space.needed, Some(101_000 + 51_000));
        assert!(!space.short());
        let declined = open.clone().apply(Action::SetWithoutBackup(true));
        assert_eq!(declined.space_for_restore().unwrap().needed, Some(51_000));
        // 100,000 bytes free: enough for the file alone, not with the automatic backup.
        let mut tight = open;
        if let Loadable::Ready(h) = &mut tight.health {
            h.storage = Some(StorageUse {
                usage: 900_000,
                quota: 1_000_000,
                persisted: false,
            });
        }
        assert!(tight.space_for_restore().unwrap().short());
        let declined = tight.apply(Action::SetWithoutBackup(true));
        assert!(!declined.space_for_restore().unwrap().short());
        // A file: once it has been read.
        let file = sized(900, 1_000_000).apply(Action::FileChosen("x.rewind".into()));
        assert_eq!(file.space_for_restore(), None);
        let file = file.apply(Action::FileInspected {
            file_name: "x.rewind".into(),
            manifest: Ok(manifest("f")),
        });
        assert_eq!(file.space_for_restore().unwrap().file_bytes, Some(10));
    }
}
