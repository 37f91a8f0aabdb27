use crate::format;
use crate::labels;
use crate::state::{Action, FolderAccess, FolderRequest, FolderShown, Loadable};
use rewind::{FolderEntry, FolderReason};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct FolderPanelProps {
    pub folder: Loadable<FolderShown>,
    /// An operation or a request about the folder is running.
    pub busy: bool,
    /// The newest backup of the catalog, offered as a download where no folder can be used.
    pub newest_backup: Option<String>,
    pub can_download: bool,
    pub send: Callback<Action>,
    pub on_download: Callback<String>,
    /// Restores a backup of the folder (by its file name) as a chosen file would be.
    pub on_restore: Callback<String>,
}

/// The backup folder: its state in words, choosing, granting access, forgetting, and the
/// backups it holds (each restorable).
#[function_component(FolderPanel)]
pub fn folder_panel(props: &FolderPanelProps) -> Html {
    let ask = |request: FolderRequest| props.send.reform(move |_| Action::RequestFolder(request));
    let body = match &props.folder {
        Loadable::Idle | Loadable::Loading => {
            html! { <p class="muted">{ "Reading the backup folder…" }</p> }
        }
        Loadable::Failed(message) => html! {
            <p role="alert" class="error">{ format!("The backup folder could not be read. {message}") }</p>
        },
        Loadable::Ready(folder) if !folder.usable() => {
            let download = props.newest_backup.clone().map(|id| {
                let cb = props.on_download.clone();
                Callback::from(move |_| cb.emit(id.clone()))
            });
            html! {
                <>
                    <p role="status">{ labels::FOLDER_UNSUPPORTED }</p>
                    <div class="actions">
                        <button type="button" onclick={download.clone().unwrap_or_default()} disabled={download.is_none() || !props.can_download}>{ labels::FOLDER_DOWNLOAD }</button>
                    </div>
                </>
            }
        }
        Loadable::Ready(folder) => {
            let name = folder.name.clone().unwrap_or_default();
            let (words, buttons) = match folder.access {
                FolderAccess::Ok => (
                    labels::folder_ok(&name),
                    html! {
                        <>
                            <button type="button" onclick={ask(FolderRequest::Choose)} disabled={props.busy}>{ labels::FOLDER_CHANGE }</button>
                            <button type="button" onclick={ask(FolderRequest::Forget)} disabled={props.busy}>{ labels::FOLDER_FORGET }</button>
                        </>
                    },
                ),
                FolderAccess::NeedsPermission => (
                    labels::folder_needs_permission(&name),
                    html! {
                        <>
                            <button type="button" onclick={ask(FolderRequest::Grant)} disabled={props.busy}>{ labels::FOLDER_GRANT }</button>
                            <button type="button" onclick={ask(FolderRequest::Choose)} disabled={props.busy}>{ labels::FOLDER_CHANGE }</button>
                            <button type="button" onclick={ask(FolderRequest::Forget)} disabled={props.busy}>{ labels::FOLDER_FORGET }</button>
                        </>
                    },
                ),
                _ => (
                    labels::FOLDER_NOT_CHOSEN.to_string(),
                    html! {
                        <button type="button" onclick={ask(FolderRequest::Choose)} disabled={props.busy}>{ labels::FOLDER_CHOOSE }</button>
                    },
                ),
            };
            html! {
                <>
                    <p role="status" aria-label="Backup folder state">{ words }</p>
                    if let Some(at) = folder.last_written {
                        <p class="small">{ format!("Last written {}.", format::time(at)) }</p>
                    }
                    if let Some(error) = &folder.last_error {
                        <p role="alert" class="error small">{ format!("The last write to the folder failed: {error}") }</p>
                    }
                    <div class="actions">{ buttons }</div>
                    if folder.access == FolderAccess::Ok {
                        { backups_table(&folder.backups, props) }
                    }
                </>
            }
        }
    };
    html! {
        <section aria-labelledby="folder-heading" class="panel">
            <h2 id="folder-heading">{ labels::FOLDER_HEADING }</h2>
            { body }
        </section>
    }
}

fn backups_table(backups: &[FolderEntry], props: &FolderPanelProps) -> Html {
    if backups.is_empty() {
        return html! { <p>{ "No backups in the folder yet." }</p> };
    }
    html! {
        <table aria-label={labels::FOLDER_BACKUPS} class="stack" role="table">
            <thead role="rowgroup">
                <tr role="row">
                    <th scope="col" role="columnheader">{ "File" }</th>
                    <th scope="col" role="columnheader">{ "Created" }</th>
                    <th scope="col" role="columnheader">{ "Schema version" }</th>
                    <th scope="col" role="columnheader">{ "Size" }</th>
                    <th scope="col" role="columnheader">{ "Kind" }</th>
                    <th scope="col" role="columnheader">{ "Actions" }</th>
                </tr>
            </thead>
            <tbody role="rowgroup">{ for backups.iter().map(|e| row(e, props)) }</tbody>
        </table>
    }
}

fn row(entry: &FolderEntry, props: &FolderPanelProps) -> Html {
    let restore = {
        let (name, cb) = (entry.name.clone(), props.on_restore.clone());
        Callback::from(move |_| cb.emit(name.clone()))
    };
    let kind = match entry.reason {
        FolderReason::Manual => "manual",
        FolderReason::Automatic => "automatic",
        FolderReason::Scheduled => "scheduled",
    };
    html! {
        <tr role="row">
            <th scope="row" role="rowheader">{ &entry.name }
                if !entry.label.is_empty() {
                    <div class="muted small">{ &entry.label }</div>
                }
            </th>
            <td role="cell" data-label="Created">{ format::time(entry.created_at) }</td>
            <td role="cell" data-label="Schema version">{ entry.schema_version }</td>
            <td role="cell" data-label="Size">{ format::bytes(entry.size) }</td>
            <td role="cell" data-label="Kind">{ kind }</td>
            <td role="cell" class="row-actions" data-label="Actions">
                <button type="button" onclick={restore} disabled={props.busy} aria-haspopup="dialog">{ "Restore" }</button>
            </td>
        </tr>
    }
}
