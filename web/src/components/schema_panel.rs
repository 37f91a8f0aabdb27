use rewind::{DatabaseSummary, StoreSchema};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct SchemaTableProps {
    pub summary: DatabaseSummary,
}

/// The selected database as it is now: stores, keys, indexes, record counts.
#[function_component(SchemaTable)]
pub fn schema_table(props: &SchemaTableProps) -> Html {
    let summary = &props.summary;
    html! {
        <>
            <dl class="facts">
                <dt>{ "IndexedDB version" }</dt><dd>{ summary.idb_version }</dd>
                <dt>{ "Records" }</dt><dd>{ summary.total_records() }</dd>
            </dl>
            if summary.schema.stores.is_empty() {
                <p>{ "This database has no object stores." }</p>
            } else {
                <table aria-label="Object stores" class="stack" role="table">
                    <thead role="rowgroup">
                        <tr role="row">
                            <th scope="col" role="columnheader">{ "Store" }</th>
                            <th scope="col" role="columnheader">{ "Key" }</th>
                            <th scope="col" role="columnheader">{ "Records" }</th>
                            <th scope="col" role="columnheader">{ "Indexes" }</th>
                        </tr>
                    </thead>
                    <tbody role="rowgroup">
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
        <tr role="row">
            <th scope="row" role="rowheader">{ &store.name }</th>
            <td role="cell" data-label="Key">{ key }</td>
            <td role="cell" data-label="Records">{ count }</td>
            <td role="cell" data-label="Indexes">
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
