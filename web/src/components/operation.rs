use crate::state::{Action, Notice, RunningOperation};
use crate::{labels, messages};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct OperationViewProps {
    pub operation: Option<RunningOperation>,
    pub notice: Option<Notice>,
    pub blocked: bool,
    pub send: Callback<Action>,
}

/// The running operation's progress, and the outcome of the last one.
#[function_component(OperationView)]
pub fn operation_view(props: &OperationViewProps) -> Html {
    let dismiss = props.send.reform(|_| Action::DismissNotice);
    let cancel = props.send.reform(|_| Action::CancelRestore);
    html! {
        <div class="operation" aria-live="polite">
            if let Some(op) = &props.operation {
                <div class="progress">
                    <label for="progress">{ labels::running(&op.command) }{ "…" }</label>
                    if op.total > 0 {
                        <progress id="progress" aria-label={labels::running(&op.command)} max={op.total.to_string()} value={op.done.to_string()}></progress>
                        <span>{ messages::progress(op).unwrap_or_default() }</span>
                    } else {
                        <progress id="progress" aria-label={labels::running(&op.command)}></progress>
                    }
                </div>
                if op.can_cancel() {
                    { cancel_view(op.cancel_requested, cancel) }
                }
                if props.blocked {
                    <p role="alert" class="error">{ "Another tab of this app is holding the database open. Close the app's other tabs: the operation continues as soon as they are closed, or gives up after a few seconds without changing anything." }</p>
                }
            }
            { notice_view(&props.notice, dismiss) }
        </div>
    }
}

/// Cancel, while the restore can still hear it; once pressed, what happens next.
fn cancel_view(requested: bool, cancel: Callback<MouseEvent>) -> Html {
    html! {
        <div class="actions">
            <button type="button" onclick={cancel} disabled={requested} aria-describedby="cancel-hint">{ labels::CANCEL_RESTORE }</button>
            <span id="cancel-hint" class="muted">{ if requested { messages::CANCELLING } else { messages::CANCEL_HINT } }</span>
        </div>
    }
}

fn notice_view(notice: &Option<Notice>, dismiss: Callback<MouseEvent>) -> Html {
    match notice {
        None => html! {},
        Some(Notice::Success(text)) => html! {
            <div role="status" class="notice success"><p>{ text }</p>
                <button type="button" onclick={dismiss}>{ "Dismiss" }</button></div>
        },
        Some(Notice::Info(text)) => html! {
            <div role="status" class="notice info"><p>{ text }</p>
                <button type="button" onclick={dismiss}>{ "Dismiss" }</button></div>
        },
        Some(Notice::Error(text)) => html! {
            <div role="alert" class="notice error"><p>{ text }</p>
                <button type="button" onclick={dismiss}>{ "Dismiss" }</button></div>
        },
    }
}
