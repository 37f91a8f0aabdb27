use crate::state::Loadable;
use rewind::{DatabaseSummary, StoreSchema};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct SchemaPanelProps {
    pub summary: Loadable<DatabaseSummary>,
}

/// The selected database as it is now: IndexedDB version, stores, indexes, record counts.
#[function_component(SchemaPanel)]
pub fn schema_panel(props: &SchemaPanelProps) -> Html {
    let body = match &props.summary {
        Loadable::Idle => html! {},
        Loadable::Loading => html! { <p role="status">{ "Reading the database…" }</p> },
        Loadable::Failed(message) => html! {
            <p role="alert" class="error">
                { format!("This database could not be read. {message} Nothing was changed.") }
            </p>
        },
        Loadable::Ready(summary) => summary_view(summary),
    };
    html! {
        <section aria-labelledby="status-heading" class="panel">
            <h2 id="status-heading">{ "Status" }</h2>
            { body }
        </section>
    }
}

fn summary_view(summary: &DatabaseSummary) -> Html {
    html! {
        <>
            <dl class="facts">
                <dt>{ "Database" }</dt><dd>{ &summary.name }</dd>
                <dt>{ "IndexedDB version" }</dt><dd>{ summary.idb_version }</dd>
                <dt>{ "Records" }</dt><dd>{ summary.total_records() }</dd>
            </dl>
            if summary.schema.stores.is_empty() {
                <p>{ "This database has no object stores." }</p>
            } else {
                <table aria-label="Object stores">
                    <thead>
                        <tr>
                            <th scope="col">{ "Store" }</th>
                            <th scope="col">{ "Key" }</th>
                            <th scope="col">{ "Records" }</th>
                            <th scope="col">{ "Indexes" }</th>
                        </tr>
                    </thead>
                    <tbody>
                        { for summary.schema.stores.values().map(|store| store_row(summary, store)) }
                    </tbody>
                </table>
            }
        </>
    }
}

fn store_row(summary: &DatabaseSummary, store: &StoreSchema) -> Html {
    let key = match &store.key_path {
        Some(kp) => format!("key path {kp}"),
        None => "out-of-line keys".to_string(),
    };
    let key = if store.auto_increment {
        format!("{key}, auto-increment")
    } else {
        key
    };
    let count = summary.record_counts.get(&store.name).copied().unwrap_or(0);
    html! {
        <tr>
            <th scope="row">{ &store.name }</th>
            <td>{ key }</td>
            <td>{ count }</td>
            <td>
                if store.indexes.is_empty() {
                    { "none" }
                } else {
                    <ul>
                        { for store.indexes.values().map(|index| html! { <li>{ index.to_string() }</li> }) }
                    </ul>
                }
            </td>
        </tr>
    }
}
