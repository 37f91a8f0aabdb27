use super::space::space_view;
use crate::state::{Action, Dialog, DialogKind, Loadable, Secret, Space};
use crate::{format, labels, messages};
use rewind::backup::BackupManifest;
use rewind::{MigrationPlan, RestoreDiff};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DialogViewProps {
    pub dialog: Dialog,
    /// Versions the rollback dialog offers.
    pub targets: Vec<u32>,
    /// For a restore: the room it needs and what there is.
    pub space: Option<Space>,
    /// What a refused rollback from the stored steps offers instead: the newest backup at a
    /// version this app knows.
    pub fallback: Option<BackupManifest>,
    pub send: Callback<Action>,
}

/// A confirmation dialog: what will happen, "I understand what will change", and a confirm
/// button that stays disabled until the box is ticked.
#[function_component(DialogView)]
pub fn dialog_view(props: &DialogViewProps) -> Html {
    let d = &props.dialog;
    let send = &props.send;
    let close = send.reform(|_| Action::CloseDialog);
    let confirm = send.reform(|_| Action::Confirm);
    let on_understood = send.reform(|e: Event| {
        let input: web_sys::HtmlInputElement = e.target_unchecked_into();
        Action::SetUnderstood(input.checked())
    });
    let on_without_backup = send.reform(|e: Event| {
        let input: web_sys::HtmlInputElement = e.target_unchecked_into();
        Action::SetWithoutBackup(input.checked())
    });
    let on_key = {
        let close_on_escape = send.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                close_on_escape.emit(Action::CloseDialog);
            }
        })
    };
    let on_passphrase = send.reform(|e: InputEvent| {
        let input: web_sys::HtmlInputElement = e.target_unchecked_into();
        Action::SetPassphrase(input.value())
    });
    let unlock = send.reform(|_| Action::Unlock);
    let body = match &d.kind {
        DialogKind::Rollback { target, plan } => {
            let on_target = send.reform(|e: Event| {
                let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
                match select.value().parse() {
                    Ok(v) => Action::ChooseTarget(v),
                    Err(_) => Action::SetUnderstood(false),
                }
            });
            html! {
                <>
                    <div class="field">
                        <label for="target-version">{ "Target version" }</label>
                        <select id="target-version" onchange={on_target}>
                            <option value="" selected={target.is_none()} disabled=true>{ "Choose a version" }</option>
                            { for props.targets.iter().map(|v| html! {
                                <option value={v.to_string()} selected={*target == Some(*v)}>{ format!("version {v}") }</option>
                            }) }
                        </select>
                    </div>
                    if target.is_some() { { plan_view(plan) } }
                </>
            }
        }
        DialogKind::Migrate { plan } => plan_view(plan),
        DialogKind::StoredRollback { from, target, plan } => html! {
            <>
                <p>{ format!("Roll back from version {from}, made by a newer version of the app, to version {target}, the newest this app knows.") }</p>
                if let Loadable::Ready(p) = plan {
                    <p class="from-database">{ messages::from_database(&p.from_database) }</p>
                }
                { plan_view(plan) }
                if let Loadable::Failed(_) = plan {
                    { fallback_view(props.fallback.as_ref(), send) }
                }
            </>
        },
        DialogKind::Repair { drifted } => html! {
            <>
                <p>{ "These migrations were changed after they were applied to this database:" }</p>
                <ul>{ for drifted.iter().map(|(v, n)| html! { <li>{ format!("{v} — {n}") }</li> }) }</ul>
                <p>{ "Repair only records the new definitions as the applied ones; it changes no schema and no data. Do it only if the app's developers say the change is intended — otherwise install the app version that ships the original migrations." }</p>
            </>
        },
        DialogKind::Adopt { version } => html! {
            <>
                <p>{ format!("This database was made before the app used Rewind. Its schema is that of version {version}: Rewind will record that it is at version {version}, and manage it from then on (migrate, roll back, restore).") }</p>
                <p>{ "No store and no record changes: only Rewind's own records are added. A backup of the database as it is now is taken first." }</p>
            </>
        },
        DialogKind::RestoreBackup {
            manifest,
            kept,
            changes,
            sealed,
            passphrase,
            unlocked_with,
        } => {
            let refused = match changes {
                Loadable::Failed(message) if *sealed && unlocked_with.is_none() => Some(message),
                _ => None,
            };
            html! {
                <>
                    <p>{ "The whole database will be replaced by this backup. A backup of the database as it is now is taken first." }</p>
                    { manifest_view(manifest, false) }
                    if *sealed {
                        { passphrase_field(labels::PASSPHRASE, labels::SEALED_KEPT_WARNING, passphrase, on_passphrase.clone()) }
                        if let Some(message) = refused {
                            <p role="alert" class="error">{ format!("This backup cannot be opened: {message}") }</p>
                        }
                        <div class="actions">
                            <button type="button" onclick={unlock.clone()} disabled={passphrase.is_empty() || *changes == Loadable::Loading}>{ labels::OPEN_WITH_PASSPHRASE }</button>
                        </div>
                    }
                    if refused.is_none() { { changes_view(changes) } }
                    { skipped_view(manifest, kept) }
                </>
            }
        }
        DialogKind::DeleteBackup { manifest } => html! {
            <>
                <p>{ "This backup will be deleted for good. The database itself does not change." }</p>
                { manifest_view(manifest, false) }
            </>
        },
        DialogKind::Download {
            manifest,
            passphrase,
            sealed: true,
        } => html! {
            <>
                { manifest_view(manifest, false) }
                { passphrase_field(labels::PASSPHRASE, labels::SEALED_DOWNLOAD, passphrase, on_passphrase.clone()) }
            </>
        },
        DialogKind::Download {
            manifest,
            passphrase,
            sealed: false,
        } => html! {
            <>
                { manifest_view(manifest, false) }
                { passphrase_field(labels::PASSPHRASE_DOWNLOAD, labels::SEALED_WARNING, passphrase, on_passphrase.clone()) }
                <p>{ "Leave it empty to download the file unencrypted." }</p>
            </>
        },
        DialogKind::RestoreFile {
            file_name,
            manifest,
            kept,
            changes,
            passphrase,
            sealed,
            ..
        } => {
            let state = match manifest {
                Loadable::Idle | Loadable::Loading => {
                    html! { <p class="muted">{ format!("Checking {file_name}…") }</p> }
                }
                Loadable::Failed(message) => html! {
                    <p role="alert" class="error">{ format!("{file_name} cannot be restored: {message}") }</p>
                },
                Loadable::Ready(m) => html! {
                    <>
                        <p>{ "The whole database will be replaced by this backup. A backup of the database as it is now is taken first." }</p>
                        { manifest_view(m, true) }
                        { changes_view(changes) }
                        { skipped_view(m, kept) }
                    </>
                },
            };
            html! {
                <>
                    { state }
                    if *sealed {
                        { passphrase_field(labels::PASSPHRASE, labels::SEALED_WARNING, passphrase, on_passphrase.clone()) }
                        <div class="actions">
                            <button type="button" onclick={unlock} disabled={passphrase.is_empty() || *manifest == Loadable::Loading}>{ labels::OPEN_WITH_PASSPHRASE }</button>
                        </div>
                    }
                </>
            }
        }
    };
    html! {
        <div class="backdrop">
            <div role="dialog" aria-modal="true" aria-labelledby="dialog-title" class="dialog" onkeydown={on_key}>
                <h2 id="dialog-title">{ labels::dialog_title(d) }</h2>
                { body }
                if let Some(space) = &props.space { { space_view(space) } }
                if !matches!(d.kind, DialogKind::Download { .. }) && d.offers_without_backup() {
                    <div class="field">
                        <input type="checkbox" id="without-backup" checked={d.without_backup} onchange={on_without_backup} aria-describedby="without-backup-why" />
                        <label for="without-backup">{ "Run without an automatic backup" }</label>
                        <p id="without-backup-why" class="muted">{ "Only when the backup does not fit: download a backup first and keep it elsewhere. Without one, nothing can undo this operation." }</p>
                    </div>
                }
                if !matches!(d.kind, DialogKind::Download { .. }) {
                    <div class="field">
                        <input type="checkbox" id="understood" checked={d.understood} onchange={on_understood} />
                        <label for="understood">{ "I understand what will change" }</label>
                    </div>
                }
                <div class="actions">
                    <button type="button" onclick={close}>{ "Cancel" }</button>
                    <button type="button" class="danger" onclick={confirm} disabled={!d.can_confirm()}>{ labels::confirm_button(d) }</button>
                </div>
            </div>
        </div>
    }
}

/// The passphrase of a sealed file, with what it means in plain words (`means`).
fn passphrase_field(
    label: &'static str,
    means: &'static str,
    value: &Secret,
    oninput: Callback<InputEvent>,
) -> Html {
    html! {
        <div class="field">
            <label for="passphrase">{ label }</label>
            <input type="password" id="passphrase" autocomplete="new-password" value={value.as_str().to_string()} {oninput} aria-describedby="passphrase-means" />
            <p id="passphrase-means" class="muted">{ means }</p>
        </div>
    }
}

/// Instead of a refused rollback from the stored steps: the newest backup this app can restore.
fn fallback_view(fallback: Option<&BackupManifest>, send: &Callback<Action>) -> Html {
    match fallback {
        Some(m) => {
            let id = m.id.clone();
            let open = send.reform(move |_| Action::OpenRestoreBackup(id.clone()));
            html! {
                <div class="actions">
                    <p>{ format!("Instead, restore the newest backup this app knows: {} (version {}, {}).", m.id, m.schema_version, format::time(m.created_at)) }</p>
                    <button type="button" onclick={open} aria-haspopup="dialog">{ labels::fallback_restore_button(m.schema_version) }</button>
                </div>
            }
        }
        None => html! {
            <p>{ "No backup at a version this app knows is kept here: use the newer version of the app, or restore a backup file made before the update." }</p>
        },
    }
}

fn plan_view(plan: &Loadable<MigrationPlan>) -> Html {
    match plan {
        Loadable::Idle => html! {},
        Loadable::Loading => html! { <p class="muted">{ "Working out what will change…" }</p> },
        Loadable::Failed(message) => html! { <p role="alert" class="error">{ message }</p> },
        Loadable::Ready(p) => {
            let e = &p.effects;
            let mut lines: Vec<String> = Vec::new();
            lines.extend(
                e.stores_created
                    .iter()
                    .map(|s| format!("store {s:?} is created")),
            );
            lines.extend(
                e.stores_deleted
                    .iter()
                    .map(|s| format!("store {s:?} is deleted")),
            );
            lines.extend(
                e.stores_renamed
                    .iter()
                    .map(|(a, b)| format!("store {a:?} is renamed to {b:?}")),
            );
            lines.extend(
                e.indexes_created
                    .iter()
                    .map(|(s, i)| format!("index {i:?} is created on {s:?}")),
            );
            lines.extend(
                e.indexes_deleted
                    .iter()
                    .map(|(s, i)| format!("index {i:?} of {s:?} is deleted")),
            );
            lines.extend(e.fields_changed.iter().cloned());
            lines.extend(
                e.records_touched
                    .iter()
                    .map(|(s, n)| format!("{n} records of {s:?} are rewritten")),
            );
            html! {
                <div aria-label="What will change">
                    <p>{ format!("From schema version {} to {}: {} migration(s), {} step(s).", p.from, p.to, p.migrations.len(), p.step_count()) }</p>
                    <ul>
                        { for p.migrations.iter().map(|m| html! { <li>{ format!("{} — {}", m.version, m.name) }</li> }) }
                    </ul>
                    if !lines.is_empty() {
                        <h3>{ "Changes" }</h3>
                        <ul>{ for lines.iter().map(|l| html! { <li>{ l }</li> }) }</ul>
                    }
                    if !e.data_dropped.is_empty() {
                        <h3>{ "Data that will be dropped" }</h3>
                        <ul class="error-text">{ for e.data_dropped.iter().map(|l| html! { <li>{ l }</li> }) }</ul>
                        <p>{ "It stays in the backup taken before the change." }</p>
                    }
                </div>
            }
        }
    }
}

/// The records the backup left out, and which of them the restore keeps from the database.
/// What the restore will change against the live database, in sentences, with the schema's
/// differences.
fn changes_view(changes: &Loadable<RestoreDiff>) -> Html {
    let body = match changes {
        Loadable::Idle => return html! {},
        Loadable::Loading => {
            html! { <p class="muted">{ "Comparing the backup with the database…" }</p> }
        }
        Loadable::Failed(message) => html! {
            <p class="error">{ format!("What the restore will change could not be worked out: {message}") }</p>
        },
        Loadable::Ready(d) if d.is_empty() => html! {
            <p>{ "The database holds exactly what this backup holds: the restore changes no record." }</p>
        },
        Loadable::Ready(d) => html! {
            <ul>
                { for d.sentences.iter().map(|s| html! { <li>{ capitalized(s) }{ "." }</li> }) }
                { for d.schema.iter().map(|p| html! { <li>{ format!("Schema: {} (the restore puts the backup's back).", p.message) }</li> }) }
            </ul>
        },
    };
    html! {
        <section aria-label="What the restore will change" class="changes">
            <h3>{ "What the restore will change" }</h3>
            { body }
        </section>
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn skipped_view(m: &BackupManifest, kept: &Loadable<Vec<bool>>) -> Html {
    if m.skipped.is_empty() {
        return html! {};
    }
    let rows = match kept {
        Loadable::Idle | Loadable::Loading => {
            return html! { <p class="muted">{ "Looking up the records this backup left out…" }</p> };
        }
        Loadable::Failed(message) => {
            return html! {
                <p role="alert" class="error">{ format!("Which left-out records the restore would keep could not be read: {message}") }</p>
            };
        }
        Loadable::Ready(kept) => m.skipped.iter().zip(kept).map(|(s, kept)| {
            let fate = if *kept {
                "kept from the database as it is now"
            } else {
                "missing from the database: it will not be there after the restore"
            };
            let at = if s.path.is_empty() {
                String::new()
            } else {
                format!(" at {}", s.path)
            };
            html! { <li>{ format!("{} {} ({}{at}) — {fate}", s.store, s.key, s.type_name) }</li> }
        }),
    };
    html! {
        <section aria-label="Records left out">
            <p>{ format!("This backup left out {} it could not carry:", format::records(m.skipped.len())) }</p>
            <ul>{ for rows }</ul>
        </section>
    }
}

fn manifest_view(m: &BackupManifest, verified: bool) -> Html {
    html! {
        <dl class="facts" aria-label="Backup contents">
            <dt>{ "Database" }</dt><dd>{ &m.database }</dd>
            <dt>{ "Schema version" }</dt><dd>{ m.schema_version }</dd>
            <dt>{ "Created" }</dt><dd>{ format::time(m.created_at) }</dd>
            if !m.label.is_empty() { <dt>{ "Label" }</dt><dd>{ &m.label }</dd> }
            <dt>{ "Size" }</dt><dd>{ format::backup_size(m) }</dd>
            <dt>{ "Stores" }</dt>
            <dd>{ m.stores.iter().map(|s| format!("{}: {} records", s.schema.name, s.records)).collect::<Vec<_>>().join(", ") }</dd>
            if verified {
                <dt>{ "Checksum" }</dt><dd>{ format!("verified (SHA-256 {}…)", m.sha256.get(..16).unwrap_or(&m.sha256)) }</dd>
            }
        </dl>
    }
}
