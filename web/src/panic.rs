//! A panic in wasm stops the whole page. Instead of leaving it blank, say so in plain words.

use wasm_bindgen::JsCast;

const ADVICE: &str = "Rewind stopped because of an internal error. Your data was not changed by \
this error. Reload the page to try again; if it happens again, keep this message and report it.";

/// Must run before Yew renders: Yew installs its own hook unless given this one.
pub fn install() {
    yew::set_custom_panic_hook(Box::new(|info| {
        // The operation's future never resumes: its upgrade must not commit half of it.
        rewind::abort_running_upgrades();
        let detail = info.to_string();
        web_sys::console::error_1(&format!("Rewind panicked: {detail}").into());
        show(&detail);
    }));
}

fn show(detail: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(body) = document.body() else { return };
    let Ok(alert) = document.create_element("div") else {
        return;
    };
    let _ = alert.set_attribute("role", "alert");
    let _ = alert.set_attribute("class", "fatal");
    // Text only: the detail may quote data and must never be parsed as HTML.
    alert.set_text_content(Some(&format!("{ADVICE} (Details: {detail})")));
    let _ = body.prepend_with_node_1(alert.unchecked_ref());
}

/// `?panic` in the URL of a demo build triggers a panic, so the end-to-end tests can see the
/// hook at work.
pub(crate) fn test_panic_requested() -> bool {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .is_some_and(|q| q.trim_start_matches('?').split('&').any(|p| p == "panic"))
}
