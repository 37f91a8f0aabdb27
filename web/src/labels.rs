//! The names the page gives its dialogs, their confirm buttons and its operations. They are
//! the accessible names people and the end-to-end tests find things by.

use crate::state::{Command, Dialog, DialogKind};

/// The dialog's accessible name.
pub fn dialog_title(dialog: &Dialog) -> &'static str {
    match dialog.kind {
        DialogKind::Rollback { .. } => "Roll back database",
        DialogKind::StoredRollback { .. } => "Roll back the newer version's changes",
        DialogKind::Migrate { .. } => "Migrate database",
        DialogKind::RestoreBackup { .. } => "Restore backup",
        DialogKind::DeleteBackup { .. } => "Delete backup",
        DialogKind::RestoreFile { .. } => "Restore from file",
        DialogKind::Repair { .. } => "Repair checksums",
        DialogKind::Adopt { .. } => "Adopt database",
        DialogKind::Download { .. } => "Download backup",
    }
}

/// The name of the dialog's confirm button.
pub fn confirm_button(dialog: &Dialog) -> &'static str {
    match dialog.kind {
        DialogKind::Rollback { .. } | DialogKind::StoredRollback { .. } => "Roll back",
        DialogKind::Migrate { .. } => "Migrate",
        DialogKind::RestoreBackup { .. } | DialogKind::RestoreFile { .. } => "Restore",
        DialogKind::DeleteBackup { .. } => "Delete",
        DialogKind::Repair { .. } => "Repair",
        DialogKind::Adopt { .. } => "Adopt",
        DialogKind::Download { .. } => "Download",
    }
}

/// What the progress bar calls a running command, and the next page an interrupted one.
pub fn running(command: &Command) -> String {
    match command {
        Command::Rollback(v) | Command::RollbackFromStored(v) => {
            format!("Rolling back to version {v}")
        }
        Command::MigrateToLatest => "Migrating to the latest version".into(),
        Command::RestoreBackup(_)
        | Command::RestoreSealedBackup { .. }
        | Command::RestoreFile { .. } => "Restoring the backup".into(),
        Command::DeleteBackup(_) => "Deleting the backup".into(),
        Command::CreateBackup { .. } => "Creating a backup".into(),
        Command::Repair => "Repairing the checksums".into(),
        Command::Adopt(v) => format!("Adopting the database at version {v}"),
    }
}

/// The button that opens the rollback of a database changed by a newer release.
pub fn stored_rollback_button(latest: u32) -> String {
    format!("Roll back to version {latest}…")
}

/// The button that opens the restore of the backup offered when that rollback is refused.
pub fn fallback_restore_button(version: u32) -> String {
    format!("Restore the newest backup at version {version}…")
}

/// The passphrase field of the download and restore dialogs.
pub const PASSPHRASE: &str = "Passphrase";
/// What the download dialog says of a passphrase before one is given.
pub const PASSPHRASE_DOWNLOAD: &str = "Passphrase (optional: encrypts the file)";
/// What a sealed file means, said plainly where a passphrase is asked for.
pub const SEALED_WARNING: &str = "Anyone with this file and the passphrase can read it; without the passphrase nobody can open it, not even you.";
/// What a kept sealed backup means, where its restore dialog asks for its passphrase.
pub const SEALED_KEPT_WARNING: &str = "This backup is encrypted: anyone with it and the passphrase can read it; without the passphrase nobody can open it, not even you.";
/// What the download dialog of a backup sealed already says of its passphrase.
pub const SEALED_DOWNLOAD: &str = "This backup is already encrypted with its own passphrase. Give it: the file is downloaded as it is, still encrypted under that passphrase (a wrong one downloads nothing). Anyone with this file and the passphrase can read it; without the passphrase nobody can open it, not even you.";
/// The button that reads a chosen file or a sealed backup with the passphrase typed.
pub const OPEN_WITH_PASSPHRASE: &str = "Open with this passphrase";
/// The word that marks a sealed backup in the list, and its accessible name.
pub const ENCRYPTED: &str = "Encrypted";
pub const ENCRYPTED_NAME: &str =
    "Encrypted: restoring or downloading it needs the passphrase it was made with";

/// The button that cancels a running restore.
pub const CANCEL_RESTORE: &str = "Cancel the restore";

/// The facts a backup or restore dialog shows about the room it needs.
pub const SPACE: &str = "Space";

/// What the page says about persistent storage, and its button's name.
pub const PERSIST_YES: &str = "Yes: the browser keeps this site's data, backups included, even when the device runs low on space.";
pub const PERSIST_NO: &str = "No: when the device runs low on space, the browser may delete this site's data, backups included, without asking.";
pub const PERSIST_UNSUPPORTED: &str =
    "Unknown: this browser neither says whether it keeps this site's data nor can be asked to.";
pub const PERSIST_BUTTON: &str = "Ask the browser to keep this site's data";
pub const PERSIST_ASKING: &str = "Asking the browser… (it may ask you first)";
pub const PERSIST_GRANTED: &str =
    "Granted: the browser will keep this site's data when the device runs low on space.";
pub const PERSIST_REFUSED: &str = "Refused by the browser: it grants this by its own rules (a site you use often or bookmarked, or your answer to its question). Download a backup to keep a copy elsewhere.";

// The backup folder's section (`components/folder_panel.rs`).
pub const FOLDER_HEADING: &str = "Backup folder";
pub const FOLDER_CHOOSE: &str = "Choose folder…";
pub const FOLDER_CHANGE: &str = "Change folder…";
pub const FOLDER_FORGET: &str = "Stop using this folder";
pub const FOLDER_GRANT: &str = "Grant access";
pub const FOLDER_UNSUPPORTED: &str =
    "This browser cannot write to a folder; download backups instead.";
pub const FOLDER_DOWNLOAD: &str = "Download the newest backup";
pub const FOLDER_NOT_CHOSEN: &str =
    "No folder chosen: backups are kept in this browser only, which may lose them with its data.";
pub const FOLDER_BACKUPS: &str = "Backups in the folder";

/// The folder's state in words.
pub fn folder_ok(name: &str) -> String {
    format!("OK: backups are also written to folder “{name}”.")
}

pub fn folder_needs_permission(name: &str) -> String {
    format!(
        "Needs permission: the browser must be allowed again to write to folder “{name}”; until then nothing is written there."
    )
}
