use crate::state::Space;
use crate::{format, labels, messages};
use yew::prelude::*;

/// The database's size, the free space and, for a restore, the file's size, with a warning
/// (which does not block) when the estimates say the operation may not fit.
pub fn space_view(space: &Space) -> Html {
    let database = match (space.database_bytes, space.records) {
        (Some(bytes), Some(records)) => format!(
            "about {} ({})",
            format::bytes(bytes),
            format::records(records as usize)
        ),
        (None, Some(records)) => format!(
            "{} (its size in bytes is known once it has a backup)",
            format::records(records as usize)
        ),
        (Some(bytes), None) => format!("about {}", format::bytes(bytes)),
        (None, None) => "not known yet".into(),
    };
    let free = match (space.free(), space.storage) {
        (Some(free), Some(s)) => format!(
            "{} ({} used of {} available to this site)",
            format::bytes(free),
            format::bytes(s.usage),
            format::bytes(s.quota)
        ),
        _ => "not reported by this browser".into(),
    };
    html! {
        <>
            <dl class="facts" aria-label={labels::SPACE}>
                <dt>{ "Database size" }</dt><dd>{ database }</dd>
                if let Some(bytes) = space.file_bytes {
                    <dt>{ "Backup file size" }</dt><dd>{ format::bytes(bytes) }</dd>
                }
                <dt>{ "Free space" }</dt><dd>{ free }</dd>
            </dl>
            if let Some(warning) = messages::may_not_fit(space) {
                <p role="alert" class="error">{ warning }</p>
            }
        </>
    }
}
