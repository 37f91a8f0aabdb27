//! What this page's app allows: which databases it manages, and which backups it refuses to
//! restore. The databases come from the page's configuration (`rewind.json`, see `config`, or
//! the props of an app that embeds the page); the rules are here, not in the reducer.

use rewind::backup::BackupManifest;
use rewind::{check_restore, RestoreConsent};

/// A database the app manages (migrations, rollback, backups), as the reducer needs to know
/// it: its name and the latest schema version the app's migrations reach. The origin's other
/// databases are shown read-only: only their summary is read.
#[derive(Debug, Clone, PartialEq)]
pub struct AppDatabase {
    pub name: String,
    pub latest: u32,
    /// The version to adopt a database made before the app used Rewind at, when the app names
    /// one (`"baseline": N`); `None` for `"auto"` or none (the highest matching version).
    pub baseline: Option<u32>,
}

/// Why `manifest` cannot be restored into database `target`, whose app knows schema versions
/// up to `latest` (another database's backup, or newer than this app), as the library says
/// it; `None` when it can. The page offers no consent to override either.
pub fn restore_refusal(manifest: &BackupManifest, target: &str, latest: u32) -> Option<String> {
    check_restore(manifest, target, latest, RestoreConsent::default())
        .err()
        .map(|e| match e {
            // The library's message offers explicit consent, which this page does not.
            rewind::RewindError::WrongDatabase { backup, target } => format!(
                "this backup is of database {backup:?}, not {target:?}. Nothing was \
                 changed; choose a backup of {target:?}."
            ),
            other => other.to_string(),
        })
}
