use super::SchemaPanel;
use crate::state::{Action, Loadable, PageState};
use std::rc::Rc;
use yew::prelude::*;

/// Lets Yew's reducer hook drive the plain [`PageState`].
#[derive(Default, PartialEq)]
struct Store(PageState);

impl Reducible for Store {
    type Action = Action;
    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        Rc::new(Store(self.0.clone().apply(action)))
    }
}

async fn load_databases(dispatch: UseReducerDispatcher<Store>) {
    dispatch.dispatch(Action::DatabasesLoading);
    if crate::DEMO_BUILD {
        if let Err(err) = crate::demo::ensure_demo_database().await {
            dispatch.dispatch(Action::DatabasesFailed(format!(
                "The demo database could not be created: {err}"
            )));
            return;
        }
    }
    match rewind::idb::list_databases().await {
        Ok(list) => dispatch.dispatch(Action::DatabasesLoaded(list)),
        Err(err) => dispatch.dispatch(Action::DatabasesFailed(err.to_string())),
    }
}

#[function_component(App)]
pub fn app() -> Html {
    let store = use_reducer(Store::default);
    let state = &store.0;

    {
        let dispatch = store.dispatcher();
        use_effect_with((), move |_| {
            if crate::DEMO_BUILD && crate::panic::test_panic_requested() {
                panic!("test panic requested by the ?panic URL parameter");
            }
            wasm_bindgen_futures::spawn_local(load_databases(dispatch));
        });
    }
    {
        let dispatch = store.dispatcher();
        let wanted = state.needs_summary().map(str::to_string);
        use_effect_with(wanted, move |wanted| {
            if let Some(name) = wanted.clone() {
                wasm_bindgen_futures::spawn_local(async move {
                    match rewind::idb::summarize(&name).await {
                        Ok(summary) => dispatch.dispatch(Action::SummaryLoaded(summary)),
                        Err(err) => dispatch.dispatch(Action::SummaryFailed {
                            name,
                            message: err.to_string(),
                        }),
                    }
                });
            }
        });
    }

    let on_select = {
        let dispatch = store.dispatcher();
        Callback::from(move |e: Event| {
            let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
            dispatch.dispatch(Action::Select(select.value()));
        })
    };

    let selector = match &state.databases {
        Loadable::Idle | Loadable::Loading => html! {
            <p role="status">{ "Looking for databases…" }</p>
        },
        Loadable::Failed(message) => html! {
            <p role="alert" class="error">
                { format!("The list of databases could not be read. {message}") }
            </p>
        },
        Loadable::Ready(list) if list.is_empty() => html! {
            <p role="status">{ "This site has no IndexedDB databases in this browser: there is nothing to recover." }</p>
        },
        Loadable::Ready(list) => html! {
            <div class="field">
                <label for="database">{ "Database" }</label>
                <select id="database" onchange={on_select}>
                    { for list.iter().map(|db| {
                        let selected = state.selected.as_deref() == Some(db.name.as_str());
                        html! {
                            <option value={db.name.clone()} {selected}>{ &db.name }</option>
                        }
                    }) }
                </select>
            </div>
        },
    };

    html! {
        <main>
            <h1>{ "Rewind — Recovery" }</h1>
            { selector }
            <SchemaPanel summary={state.summary.clone()} />
        </main>
    }
}
