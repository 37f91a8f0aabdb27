use super::SchemaTable;
use crate::state::{Action, Health, Loadable, PersistAnswer, StorageUse};
use crate::{format, labels, messages};
use rewind::DatabaseSummary;
use rewind::{JournalEntry, Operation};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct StatusPanelProps {
    pub summary: Loadable<DatabaseSummary>,
    pub health: Loadable<Health>,
    pub managed: bool,
    pub can_migrate: bool,
    pub can_roll_back: bool,
    /// No operation runs (adopting is offered only for a database made before Rewind).
    pub can_adopt: bool,
    /// The database is at a version this app does not know, and no operation runs.
    pub can_roll_back_stored: bool,
    /// The version the app's configuration says to adopt at (its `baseline`), when it names
    /// one; otherwise the highest matching version is offered.
    #[prop_or_default]
    pub baseline: Option<u32>,
    /// The person asked the browser to keep the site's storage: asking, or its answer.
    #[prop_or_default]
    pub persist: Loadable<PersistAnswer>,
    pub send: Callback<Action>,
}

/// Where the database stands: versions, pending and modified migrations, validation, storage,
/// the latest operations, and the live schema.
#[function_component(StatusPanel)]
pub fn status_panel(props: &StatusPanelProps) -> Html {
    let schema = match &props.summary {
        Loadable::Idle => html! {},
        Loadable::Loading => html! { <p class="muted">{ "Reading the database…" }</p> },
        Loadable::Failed(message) => html! {
            <p role="alert" class="error">{ format!("This database could not be read. {message} Nothing was changed.") }</p>
        },
        Loadable::Ready(summary) => html! { <SchemaTable summary={summary.clone()} /> },
    };
    let health = if props.managed {
        match &props.health {
            Loadable::Idle | Loadable::Loading => {
                html! { <p class="muted">{ "Checking the schema version…" }</p> }
            }
            Loadable::Failed(message) => html! {
                <p role="alert" class="error">{ format!("The schema version could not be read. {message}") }</p>
            },
            Loadable::Ready(h) => health_view(h, props),
        }
    } else {
        html! {
            <p class="muted">{ "This database does not belong to this app: Rewind shows it, but does not change it." }</p>
        }
    };
    html! {
        <section aria-labelledby="status-heading" class="panel">
            <h2 id="status-heading">{ "Status" }</h2>
            { health }
            { schema }
        </section>
    }
}

/// Whether the browser keeps the site's data when space runs low, and a button to ask for it.
fn persistence_view(
    storage: Option<&StorageUse>,
    asked: &Loadable<PersistAnswer>,
    send: &Callback<Action>,
) -> Html {
    let (state, offer) = match (storage, asked) {
        (_, Loadable::Ready(PersistAnswer::Unsupported)) | (None, _) => {
            (labels::PERSIST_UNSUPPORTED, false)
        }
        (Some(st), _) if st.persisted => (labels::PERSIST_YES, false),
        (Some(_), _) => (labels::PERSIST_NO, true),
    };
    let answer = match asked {
        Loadable::Loading => Some(labels::PERSIST_ASKING),
        Loadable::Ready(PersistAnswer::Granted) => Some(labels::PERSIST_GRANTED),
        Loadable::Ready(PersistAnswer::Refused) => Some(labels::PERSIST_REFUSED),
        _ => None,
    };
    let ask = send.reform(|_| Action::RequestPersist);
    html! {
        <>
            { state }
            if offer {
                <div class="actions">
                    <button type="button" onclick={ask} disabled={*asked == Loadable::Loading}>{ labels::PERSIST_BUTTON }</button>
                </div>
            }
            if let Some(answer) = answer {
                <p role="status">{ answer }</p>
            }
        </>
    }
}

fn health_view(h: &Health, props: &StatusPanelProps) -> Html {
    let s = &h.status;
    let open_migrate = props.send.reform(|_| Action::OpenMigrate);
    let open_rollback = props.send.reform(|_| Action::OpenRollback);
    let open_repair = props.send.reform(|_| Action::OpenRepair);
    let version = if s.unknown {
        format!(
            "{} — newer than this app knows (it knows up to {})",
            s.schema_version, s.latest_version
        )
    } else {
        format!("{} of {}", s.schema_version, s.latest_version)
    };
    html! {
        <>
            <dl class="facts">
                <dt>{ "Schema version" }</dt><dd>{ version }</dd>
                <dt>{ "Pending migrations" }</dt>
                <dd>{ if s.pending.is_empty() { "none".to_string() } else { s.pending.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", ") } }</dd>
                <dt>{ "Validation" }</dt><dd>{ validation_view(h) }</dd>
                if let Some(st) = &h.storage {
                    <dt>{ "Storage" }</dt>
                    <dd>{ format!("{} used of {} available to this site", format::bytes(st.usage), format::bytes(st.quota)) }</dd>
                }
                <dt>{ "Persistent storage" }</dt>
                <dd>{ persistence_view(h.storage.as_ref(), &props.persist, &props.send) }</dd>
            </dl>
            if let Some(cut) = &s.interrupted {
                <p role="alert" class="error">{ crate::messages::interrupted(cut) }</p>
            }
            if !s.managed {
                { unmanaged_view(s, props) }
            }
            if s.unknown {
                { newer_view(s, props) }
            }
            if !s.drifted.is_empty() {
                <p role="alert" class="error">{ format!(
                    "Migration {} was changed after it was applied, so Rewind will not migrate or roll back until the app ships the original definition again.",
                    s.drifted.iter().map(|d| format!("{} ({:?})", d.version, d.name)).collect::<Vec<_>>().join(", ")) }</p>
                <div class="actions">
                    <button type="button" onclick={open_repair} aria-haspopup="dialog">{ "Repair checksums…" }</button>
                </div>
            }
            <div class="actions">
                <button type="button" onclick={open_migrate} disabled={!props.can_migrate}>{ "Migrate to latest" }</button>
                <button type="button" onclick={open_rollback} disabled={!props.can_roll_back} aria-haspopup="dialog">{ "Roll back…" }</button>
            </div>
            if !s.journal.is_empty() {
                <table aria-label="Recent operations" class="stack" role="table">
                    <thead role="rowgroup"><tr role="row"><th scope="col" role="columnheader">{ "When" }</th><th scope="col" role="columnheader">{ "Operation" }</th><th scope="col" role="columnheader">{ "Result" }</th></tr></thead>
                    <tbody role="rowgroup">{ for s.journal.iter().take(5).map(journal_row) }</tbody>
                </table>
            }
        </>
    }
}

/// A database changed by a newer release: rolling it back to the newest version this app knows
/// with the steps the database keeps (the dialog previews it, or says why it cannot).
fn newer_view(s: &rewind::Status, props: &StatusPanelProps) -> Html {
    let open = props.send.reform(|_| Action::OpenStoredRollback);
    html! {
        <section aria-labelledby="newer-heading" class="newer">
            <h3 id="newer-heading">{ "Changed by a newer version of the app" }</h3>
            <p role="alert" class="error">{ messages::newer_release(s.schema_version, s.latest_version) }</p>
            <div class="actions">
                <button type="button" onclick={open} disabled={!props.can_roll_back_stored} aria-haspopup="dialog">{ labels::stored_rollback_button(s.latest_version) }</button>
            </div>
        </section>
    }
}

/// A database made before the app used Rewind: the versions its schema matches, and adopting it
/// at the highest of them.
fn unmanaged_view(s: &rewind::Status, props: &StatusPanelProps) -> Html {
    let configured = props.baseline.filter(|v| s.matching_versions.contains(v));
    let Some(version) = configured.or(s.matching_versions.last().copied()) else {
        return html! {
            <p role="alert" class="error">{ "This database was made before the app used Rewind, and its schema is that of no version of this app (see the differences below). Rewind will not change it until the app declares the schema it has as a version." }</p>
        };
    };
    let list: Vec<String> = s.matching_versions.iter().map(u32::to_string).collect();
    let open_adopt = props.send.reform(move |_| Action::OpenAdopt(version));
    html! {
        <>
            <p role="alert" class="error">{ format!(
                "This database was made before the app used Rewind: Rewind has no record of its schema version, so it will not migrate or roll it back. Its schema matches version {}.",
                list.join(", ")) }</p>
            <div class="actions">
                <button type="button" onclick={open_adopt} disabled={!props.can_adopt} aria-haspopup="dialog">{ format!("Adopt at version {version}…") }</button>
            </div>
        </>
    }
}

fn validation_view(h: &Health) -> Html {
    match &h.validation {
        Ok(diff) if diff.is_empty() => html! {
            <span class="ok">{ format!("valid: the database matches schema version {}", h.status.schema_version) }</span>
        },
        Ok(diff) => html! {
            <>
                <span class="error-text">{ format!("{} difference(s) from schema version {}:", diff.problems.len(), h.status.schema_version) }</span>
                <ul aria-label="Schema differences">{ for diff.problems.iter().map(|p| html! { <li>{ &p.message }</li> }) }</ul>
            </>
        },
        Err(message) => {
            html! { <span class="error-text">{ format!("could not be checked: {message}") }</span> }
        }
    }
}

fn journal_row(e: &JournalEntry) -> Html {
    let what = match e.operation {
        Operation::Migrate => format!("migrate {} → {}", e.from, e.to),
        Operation::Rollback => format!("roll back {} → {}", e.from, e.to),
        Operation::Repair => format!("repair checksums at {}", e.from),
        Operation::Restore => format!("restore {} → {}", e.from, e.to),
        Operation::Adopt => format!("adopt at {} (made before Rewind)", e.to),
    };
    let result = match &e.error {
        None => match &e.backup_id {
            Some(id) => format!("done (backup {id} taken first)"),
            None => "done".to_string(),
        },
        Some(err) => format!("failed, nothing changed: {err}"),
    };
    html! { <tr role="row"><td role="cell" data-label="When">{ format::time(e.at) }</td><td role="cell" data-label="Operation">{ what }</td><td role="cell" data-label="Result">{ result }</td></tr> }
}
