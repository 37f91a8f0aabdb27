//! What this page's app allows: which databases it manages, and which backups it refuses to
//! restore. An app that ships the recovery page changes these, not the reducer.

use crate::app_migrations;
use rewind::backup::BackupManifest;
use rewind::{check_restore, RestoreConsent};

/// The databases this page's app manages (migrations, rollback, backups). Others are shown
/// read-only: only their summary is read.
pub const APP_DATABASES: &[&str] = &[app_migrations::DEMO_DATABASE];

pub fn is_managed(name: &str) -> bool {
    APP_DATABASES.contains(&name)
}

/// Why `manifest` cannot be restored into database `target` (another database's backup, or
/// newer than this app), as the library says it; `None` when it can. The page offers no
/// consent to override either.
pub fn restore_refusal(manifest: &BackupManifest, target: &str) -> Option<String> {
    let latest = match app_migrations::latest_version() {
        Ok(v) => v,
        Err(e) => return Some(e.to_string()),
    };
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
