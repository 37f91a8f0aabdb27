//! Errors of the IndexedDB adapter, each a fact a person can act on.

use wasm_bindgen::{JsCast, JsValue};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum IdbError {
    #[error("IndexedDB is not available here: {0}. Open the page in a normal browser window.")]
    Unavailable(String),
    #[error("there is no database named {0:?} in this browser; pick one from the list")]
    NoSuchDatabase(String),
    #[error("database {name:?} is open in another tab that does not let go; close the app's other tabs and try again")]
    Blocked { name: String },
    #[error(
        "the browser ran out of storage space for this site ({0}); free some space and try again"
    )]
    QuotaExceeded(String),
    #[error("IndexedDB refused the operation ({name}): {message}")]
    Dom { name: String, message: String },
    #[error("the transaction was aborted: {0}")]
    Aborted(String),
    /// The browser ended a transaction (committed or aborted it) before Rewind's work in it
    /// was done; nothing that depends on that work was reported as done.
    #[error("the browser ended the transaction before Rewind's work in it was done: {0}; nothing was reported done, try again (and report it if it happens again)")]
    TransactionEnded(String),
    /// The browser gave no answer (no success, error, commit or abort) for far longer than
    /// any request takes: it stopped answering. The transaction was aborted.
    #[error("the browser stopped answering: {what} got no answer within {ms} ms, so it was given up and its transaction aborted; reload the page and try again")]
    Stalled { what: &'static str, ms: u32 },
    #[error("unexpected value from the browser: {0}")]
    Unexpected(String),
    /// A Blob or File whose bytes the browser would not give (only the cause).
    #[error("a file or Blob could not be read: {0}")]
    BlobUnreadable(String),
    #[error("the file is {bytes} bytes, more than this page can hold in memory")]
    TooLarge { bytes: u64 },
    /// WebKit's ephemeral sessions (Safari's Private Browsing, automation) refuse Blobs and
    /// Files in IndexedDB with an `UnknownError`.
    #[error("this browser session cannot store Blobs or Files in IndexedDB ({0}); Safari and other WebKit browsers refuse them in private windows: open the page in a normal window")]
    BlobsNotStorable(String),
}

impl IdbError {
    /// Classifies a value thrown or reported by the browser.
    pub fn from_js(value: &JsValue) -> IdbError {
        if let Some(dom) = value.dyn_ref::<web_sys::DomException>() {
            let (name, message) = (dom.name(), dom.message());
            return if name == "QuotaExceededError" {
                IdbError::QuotaExceeded(message)
            } else if name == "AbortError" {
                IdbError::Aborted(message)
            } else if name == "UnknownError" && message.contains("Blob/File") {
                IdbError::BlobsNotStorable(message)
            } else {
                IdbError::Dom { name, message }
            };
        }
        IdbError::Unexpected(describe(value))
    }
}

impl From<JsValue> for IdbError {
    fn from(value: JsValue) -> Self {
        IdbError::from_js(&value)
    }
}

/// A value the browser threw, classified here ([`IdbError::from_js`]); `?` then hands it to
/// the caller's layer: `.map_err(thrown)?`. No conversion from `JsValue` exists above this
/// layer, so nothing is classified twice or by accident.
pub(crate) fn thrown(e: JsValue) -> IdbError {
    IdbError::from_js(&e)
}

/// A one-line description of a thrown JavaScript value, for messages.
pub fn describe(value: &JsValue) -> String {
    if let Some(err) = value.dyn_ref::<js_sys::Error>() {
        let name: String = err.name().into();
        let message: String = err.message().into();
        return format!("{name}: {message}");
    }
    if let Some(s) = value.as_string() {
        return s;
    }
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| "an unknown error".into())
}

/// The adapter's failures as the API reports them. `Blocked` and lack of room are the same
/// facts whatever was being written (only the places that know what it was say more:
/// `catalog::storage_error` for a backup, the restore for its own writes); anything else is
/// the browser's storage failing.
impl From<IdbError> for crate::RewindError {
    fn from(e: IdbError) -> Self {
        use crate::migration_error::MigrationError;
        match e {
            IdbError::Blocked { .. } => MigrationError::Blocked.into(),
            IdbError::QuotaExceeded(m) => MigrationError::QuotaExceeded(m).into(),
            other => crate::RewindError::Storage(other.to_string()),
        }
    }
}
