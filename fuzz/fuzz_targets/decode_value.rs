//! The value codec alone (no checksums in the way): `decode_value` on arbitrary bytes gives a
//! value or a `BackupError`, and every value it accepts encodes back to bytes that decode to it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rewind::backup::{decode_value, encode_value};

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = decode_value(data) {
        let mut bytes = Vec::new();
        encode_value(&value, &mut bytes).expect("a decoded value cannot be encoded");
        let again = decode_value(&bytes).expect("a re-encoded value cannot be decoded");
        assert_eq!(again, value, "a value changed on a round trip");
        let _ = value.is_valid_key();
    }
});
