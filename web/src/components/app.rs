use super::{action_callback, BackupsPanel, DialogView, FolderPanel, OperationView, StatusPanel};
use crate::effects::{self, Dispatch};
use crate::state::{Action, Loadable, PageState};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
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

/// The page's root component. Without props it reads its configuration, `rewind.json`,
/// from beside the page; an app that embeds it with its own migrations gives `databases`.
#[derive(Properties, PartialEq, Default)]
pub struct AppProps {
    #[prop_or_default]
    pub databases: Option<crate::Databases>,
}

#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    let store = use_reducer(Store::default);
    let state = &store.0;
    let dispatch: Dispatch = {
        let d = store.dispatcher();
        Rc::new(move |a| d.dispatch(a))
    };
    // The file chosen for "Restore from file" (a browser object, so not in the plain state).
    let chosen_file: Rc<RefCell<Option<web_sys::File>>> = use_mut_ref(|| None);
    // The running operation's cancel flag (a browser-side cell the library reads, set when
    // the state says the person asked to cancel).
    let cancel_flag: Rc<RefCell<rewind::CancelFlag>> = use_mut_ref(Default::default);

    {
        let dispatch = dispatch.clone();
        use_effect_with((), move |_| {
            if crate::DEMO_BUILD && crate::panic::test_panic_requested() {
                panic!("test panic requested by the ?panic URL parameter");
            }
            effects::register_service_worker();
            if let Some(interrupted) = effects::take_interrupted() {
                dispatch(Action::FoundInterrupted(interrupted));
            }
            rewind::on_version_change(move |name| {
                dispatch(Action::ChangedElsewhere(name.to_string()))
            });
        });
    }
    {
        let dispatch = dispatch.clone();
        use_effect_with(props.databases.clone(), move |given| {
            spawn_local(effects::load_config(given.clone(), dispatch))
        });
    }
    {
        let dispatch = dispatch.clone();
        let configured = state.config.ready().is_some();
        use_effect_with((state.generation, configured), move |(_, configured)| {
            if *configured {
                spawn_local(effects::load_databases(dispatch))
            }
        });
    }
    {
        let dispatch = dispatch.clone();
        use_effect_with(
            (state.selected.clone(), state.generation),
            move |(selected, _)| {
                if let Some(name) = selected.clone() {
                    spawn_local(effects::load_details(name, dispatch));
                }
            },
        );
    }
    {
        let dispatch = dispatch.clone();
        let selected = state.selected.clone();
        use_effect_with(state.needs_plan(), move |target| {
            if let (Some(target), Some(name)) = (*target, selected) {
                spawn_local(effects::load_plan(name, target, dispatch));
            }
        });
    }
    {
        let dispatch = dispatch.clone();
        let selected = state.selected.clone();
        use_effect_with(state.needs_stored_plan(), move |target| {
            if let (Some(target), Some(name)) = (*target, selected) {
                spawn_local(effects::load_stored_plan(name, target, dispatch));
            }
        });
    }
    {
        let dispatch = dispatch.clone();
        let selected = state.selected.clone();
        use_effect_with(state.needs_kept().cloned(), move |manifest| {
            if let (Some(manifest), Some(name)) = (manifest.clone(), selected) {
                spawn_local(effects::load_kept(name, manifest, dispatch));
            }
        });
    }
    {
        let dispatch = dispatch.clone();
        let selected = state.selected.clone();
        let file = chosen_file.clone();
        let passphrase = state.restore_passphrase();
        use_effect_with(state.needs_changes(), move |source| {
            // Stops the diff once the dialog no longer waits for it (closed, or another).
            let cancel = rewind::CancelFlag::default();
            if let (Some(source), Some(name)) = (source.clone(), selected) {
                let file = file.borrow().clone();
                spawn_local(effects::load_changes(
                    name,
                    source,
                    file,
                    passphrase,
                    cancel.clone(),
                    dispatch,
                ));
            }
            move || cancel.set(true)
        });
    }
    {
        let dispatch = dispatch.clone();
        let file = chosen_file.clone();
        use_effect_with(state.needs_unlock(), move |unlock| {
            if let (Some((_, passphrase)), Some(file)) = (unlock.clone(), file.borrow().clone()) {
                spawn_local(effects::inspect_file(file, Some(passphrase), dispatch));
            }
        });
    }
    {
        let dispatch = dispatch.clone();
        let selected = state.selected.clone();
        use_effect_with(state.download.clone(), move |pending| {
            if let (Some(pending), Some(name)) = (pending.clone(), selected) {
                spawn_local(effects::download(name, pending, dispatch));
            }
        });
    }
    {
        let dispatch = dispatch.clone();
        use_effect_with(state.needs_persist(), move |needed| {
            if *needed {
                spawn_local(effects::persist(dispatch));
            }
        });
    }
    {
        let dispatch = dispatch.clone();
        let selected = state.selected.clone();
        use_effect_with(state.needs_folder(), move |request| {
            if let (Some(request), Some(name)) = (*request, selected) {
                spawn_local(effects::folder_request(name, request, dispatch));
            }
        });
    }
    {
        let dispatch = dispatch.clone();
        let selected = state.selected.clone();
        let file = chosen_file.clone();
        let cancel_flag = cancel_flag.clone();
        let running = state
            .operation
            .as_ref()
            .map(|o| (o.command.clone(), o.automatic_backup));
        use_effect_with(running, move |running| {
            if let (Some((command, automatic_backup)), Some(name)) = (running.clone(), selected) {
                let file = file.borrow().clone();
                let cancel = rewind::CancelFlag::default();
                *cancel_flag.borrow_mut() = cancel.clone();
                spawn_local(effects::run(
                    name,
                    command,
                    automatic_backup,
                    file,
                    cancel,
                    dispatch,
                ));
            }
        });
    }
    {
        let cancel_flag = cancel_flag.clone();
        use_effect_with(state.cancel_requested(), move |requested| {
            if *requested {
                cancel_flag.borrow().set(true);
            }
        });
    }

    let on_select = {
        let dispatch = dispatch.clone();
        Callback::from(move |e: Event| {
            let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
            dispatch(Action::Select(select.value()));
        })
    };
    let on_file = {
        let dispatch = dispatch.clone();
        let chosen = chosen_file.clone();
        Callback::from(move |file: web_sys::File| {
            dispatch(Action::FileChosen(file.name()));
            *chosen.borrow_mut() = Some(file.clone());
            spawn_local(effects::inspect_file(file, None, dispatch.clone()));
        })
    };
    // A backup of the folder goes through the restore from a file, as if it had been chosen.
    let on_folder_restore = {
        let dispatch = dispatch.clone();
        let selected = state.selected.clone();
        let on_file = on_file.clone();
        Callback::from(move |file_name: String| {
            let (dispatch, on_file, selected) =
                (dispatch.clone(), on_file.clone(), selected.clone());
            spawn_local(async move {
                let Some(name) = selected else { return };
                match effects::folder_file(&name, &file_name, &dispatch).await {
                    Ok(file) => on_file.emit(file),
                    Err(message) => dispatch(Action::Notify(crate::state::Notice::Error(message))),
                }
            });
        })
    };
    // The folder's "download instead" goes through the download dialog, as the list's does.
    let on_download = {
        let dispatch = dispatch.clone();
        Callback::from(move |id: String| {
            dispatch(Action::OpenDownload(id));
        })
    };

    let selector = match &state.databases {
        Loadable::Failed(message) => html! {
            <p role="alert" class="error">
                { format!("The list of databases could not be read. {message}") }
            </p>
        },
        Loadable::Ready(list) if list.is_empty() => html! {
            <p role="status">{ "This site has no IndexedDB databases in this browser: there is nothing to recover." }</p>
        },
        _ => {
            let list = state.databases.ready().cloned().unwrap_or_default();
            html! {
                <div class="field">
                    <label for="database">{ "Database" }</label>
                    <select id="database" onchange={on_select} disabled={state.operation.is_some()}>
                        { for list.iter().map(|db| {
                            let selected = state.selected.as_deref() == Some(db.name.as_str());
                            html! { <option value={db.name.clone()} {selected}>{ &db.name }</option> }
                        }) }
                    </select>
                    if state.databases == Loadable::Loading {
                        <span class="muted">{ "Looking for databases…" }</span>
                    }
                </div>
            }
        }
    };
    match &state.config {
        Loadable::Ready(_) => {}
        Loadable::Failed(message) => return config_error(message),
        _ => {
            return html! {
                <main>
                    <h1>{ "Rewind — Recovery" }</h1>
                    <p role="status">{ "Reading this page's configuration (rewind.json)…" }</p>
                </main>
            }
        }
    }
    let managed = state.managed();
    let send = action_callback(&dispatch);

    html! {
        <main>
            <h1>{ "Rewind — Recovery" }</h1>
            <p class="lead">{ "See where your app's data stands, roll it back to an earlier version, or restore a backup. Every change is previewed, confirmed and preceded by a backup." }</p>
            { selector }
            <OperationView operation={state.operation.clone()} notice={state.notice.clone()} blocked={state.blocked} send={send.clone()} />
            <StatusPanel
                summary={state.summary.clone()}
                health={state.health.clone()}
                {managed}
                can_migrate={state.can_migrate()}
                can_roll_back={state.can_roll_back()}
                can_adopt={state.operation.is_none()}
                can_roll_back_stored={state.can_roll_back_stored()}
                baseline={state.selected.as_deref().and_then(|n| state.app_database(n)).and_then(|d| d.baseline)}
                persist={state.persist.clone()}
                send={send.clone()}
            />
            if managed {
                <BackupsPanel
                    backups={state.backups.clone()}
                    sealed={state.sealed_backups.clone()}
                    busy={state.operation.is_some()}
                    can_download={state.can_download()}
                    space={state.space_for_backup()}
                    send={send.clone()}
                    {on_file}
                />
                <FolderPanel
                    folder={state.folder.clone()}
                    busy={state.operation.is_some() || state.folder_request.is_some()}
                    newest_backup={state.backups.ready().and_then(|list| list.first()).map(|m| m.id.clone())}
                    can_download={state.can_download()}
                    send={send.clone()}
                    {on_download}
                    on_restore={on_folder_restore}
                />
            }
            if let Some(dialog) = state.dialog.clone() {
                <DialogView {dialog} targets={state.rollback_targets()} space={state.space_for_restore()} fallback={state.fallback_backup().cloned()} send={send.clone()} />
            }
        </main>
    }
}

/// A configuration that cannot be used: what is wrong (the message names the file and the
/// field) and where to read how to write one; nothing else, since without it the page cannot
/// tell which databases are the app's.
fn config_error(message: &str) -> Html {
    html! {
        <main>
            <h1>{ "Rewind — Recovery" }</h1>
            <section role="alert" aria-labelledby="config-error" class="error">
                <h2 id="config-error">{ "This recovery page is not set up correctly" }</h2>
                <p>{ message }</p>
                <p>{ "The page reads rewind.json from its own folder; it lists the app's databases, each with its migrations (a JSON array, or the URL of one), optionally a transforms module of this site and a baseline version. For example:" }</p>
                <pre>{ crate::config::EXAMPLE }</pre>
                <p>{ "Your data has not been touched. If you are not the app's developer, send them this message." }</p>
            </section>
        </main>
    }
}
