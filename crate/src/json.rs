//! JSON text read into Rewind's types by way of `serde_json::Value`.
//!
//! Read straight from text, serde_json instantiates its whole parser once per type (about
//! 2.6 KB of wasm each, seventeen types); through `Value` the parser is instantiated once and
//! each type only walks a tree (docs/size.md). Files a person writes (migrations) are still read
//! from text, whose errors give a line and column.

use serde::de::DeserializeOwned;

/// `T` from JSON text (UTF-8 bytes).
pub(crate) fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    serde_json::from_slice::<serde_json::Value>(bytes).and_then(T::deserialize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{KeyPath, StoreSchema};

    #[test]
    fn reads_as_serde_would_and_refuses_what_it_would() {
        let store: StoreSchema =
            from_json(br#"{"name":"s","keyPath":["a","b"],"autoIncrement":false}"#).unwrap();
        assert_eq!(store.key_path, Some(KeyPath::compound(["a", "b"])));
        let err = from_json::<StoreSchema>(br#"{"name":"s","keyPath":7}"#).unwrap_err();
        assert!(err.to_string().contains("a key path"), "{err}");
        assert!(from_json::<StoreSchema>(b"{").is_err());
    }
}
