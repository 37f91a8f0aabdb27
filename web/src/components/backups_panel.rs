use super::space::space_view;
use crate::state::{Action, Command, Loadable, Space};
use crate::{format, labels};
use rewind::backup::BackupManifest;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct BackupsPanelProps {
    pub backups: Loadable<Vec<BackupManifest>>,
    /// The ids of the backups that are sealed.
    pub sealed: Vec<String>,
    pub busy: bool,
    pub can_download: bool,
    /// What a new backup needs, and the room there is.
    pub space: Space,
    pub send: Callback<Action>,
    pub on_file: Callback<web_sys::File>,
}

/// Every backup of the database, creating one, and restoring from a file.
#[function_component(BackupsPanel)]
pub fn backups_panel(props: &BackupsPanelProps) -> Html {
    let label = use_state(String::new);
    let on_label = {
        let label = label.clone();
        Callback::from(move |e: InputEvent| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            label.set(input.value());
        })
    };
    let skip = use_state(|| false);
    let on_skip = {
        let skip = skip.clone();
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            skip.set(input.checked());
        })
    };
    let create = {
        let (label, skip, send) = (label.clone(), skip.clone(), props.send.clone());
        Callback::from(move |_| {
            send.emit(Action::Run(Command::CreateBackup {
                label: label.trim().to_string(),
                skip_unsupported: *skip,
            }));
            label.set(String::new());
            skip.set(false);
        })
    };
    let on_file = {
        let on_file = props.on_file.clone();
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            if let Some(file) = input.files().and_then(|files| files.get(0)) {
                on_file.emit(file);
            }
            // Choosing the same file again must fire again.
            input.set_value("");
        })
    };
    let list = match &props.backups {
        Loadable::Idle | Loadable::Loading => {
            html! { <p class="muted">{ "Reading the backups…" }</p> }
        }
        Loadable::Failed(message) => html! {
            <p role="alert" class="error">{ format!("The backups could not be read. {message}") }</p>
        },
        Loadable::Ready(list) if list.is_empty() => html! {
            <p>{ "No backups yet. Rewind makes one automatically before every change; you can also create one now." }</p>
        },
        Loadable::Ready(list) => html! {
            <table aria-label="Backups" class="stack" role="table">
                <thead role="rowgroup">
                    <tr role="row">
                        <th scope="col" role="columnheader">{ "Backup" }</th>
                        <th scope="col" role="columnheader">{ "Created" }</th>
                        <th scope="col" role="columnheader">{ "Schema version" }</th>
                        <th scope="col" role="columnheader">{ "Size" }</th>
                        <th scope="col" role="columnheader">{ "Records" }</th>
                        <th scope="col" role="columnheader">{ "Kind" }</th>
                        <th scope="col" role="columnheader">{ "Actions" }</th>
                    </tr>
                </thead>
                <tbody role="rowgroup">{ for list.iter().map(|m| row(m, props)) }</tbody>
            </table>
        },
    };
    html! {
        <section aria-labelledby="backups-heading" class="panel">
            <h2 id="backups-heading">{ "Backups" }</h2>
            <div class="actions">
                <input type="text" aria-label="Backup label" placeholder="Label (optional)" value={(*label).clone()} oninput={on_label} maxlength="200" />
                <button type="button" onclick={create} disabled={props.busy}>{ "Create backup" }</button>
                <span class="field">
                    <input type="checkbox" id="skip-unsupported" checked={*skip} onchange={on_skip} />
                    <label for="skip-unsupported">{ "Leave out records that cannot be backed up (listed in the backup; a restore keeps them from the database)" }</label>
                </span>
                <label class="file">
                    { "Restore from a file: " }
                    <input type="file" aria-label="Upload backup file" accept=".rewind,application/vnd.rewind.backup" onchange={on_file} disabled={props.busy} />
                </label>
            </div>
            { space_view(&props.space) }
            { list }
        </section>
    }
}

fn row(m: &BackupManifest, props: &BackupsPanelProps) -> Html {
    let id = m.id.clone();
    let download = {
        let id = id.clone();
        props.send.reform(move |_| Action::OpenDownload(id.clone()))
    };
    let restore = {
        let id = id.clone();
        props
            .send
            .reform(move |_| Action::OpenRestoreBackup(id.clone()))
    };
    let delete = props
        .send
        .reform(move |_| Action::OpenDeleteBackup(id.clone()));
    let title = if m.label.is_empty() {
        m.id.clone()
    } else {
        m.label.clone()
    };
    let counts: Vec<String> = m
        .stores
        .iter()
        .map(|s| format!("{}: {}", s.schema.name, s.records))
        .collect();
    html! {
        <tr role="row">
            <th scope="row" role="rowheader">
                { title }
                if props.sealed.contains(&m.id) {
                    { " " }<span class="badge" role="note" aria-label={labels::ENCRYPTED_NAME}>{ labels::ENCRYPTED }</span>
                }
                <div class="muted small">{ &m.id }</div>
            </th>
            <td role="cell" data-label="Created">{ format::time(m.created_at) }</td>
            <td role="cell" data-label="Schema version">{ m.schema_version }</td>
            <td role="cell" data-label="Size">{ format::backup_size(m) }</td>
            <td role="cell" data-label="Records">
                { counts.join(", ") }
                if !m.skipped.is_empty() {
                    <div class="small">{ format!("{} left out", format::records(m.skipped.len())) }</div>
                }
            </td>
            <td role="cell" data-label="Kind">{ if m.automatic { "automatic" } else { "manual" } }</td>
            <td role="cell" class="row-actions" data-label="Actions">
                <button type="button" onclick={download} disabled={!props.can_download} aria-haspopup="dialog">{ "Download…" }</button>
                <button type="button" onclick={restore} disabled={props.busy} aria-haspopup="dialog">{ "Restore" }</button>
                <button type="button" onclick={delete} disabled={props.busy} aria-haspopup="dialog">{ "Delete" }</button>
            </td>
        </tr>
    }
}
