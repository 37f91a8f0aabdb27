//! Checking what a restore wrote: the records read back from IndexedDB, encoded as a section
//! holds them, against the (verified) section of the file they came from.
//!
//! Comparing bytes instead of hashing the read-back: a section written by Rewind encodes each
//! record exactly as reading it back does, so a batch is checked with one `memcmp` (orders of
//! magnitude cheaper than SHA-256 in wasm) and exact equality is a stronger check than equal
//! hashes. Where the bytes differ — a record with Blobs (their bytes cannot be read inside the
//! transaction, so the read-back leaves them empty), or a file whose encoder wrote a value
//! differently but equivalently — the file's records are decoded one by one, their Blob bytes
//! left out, and written again the one canonical way the read-back is written in.

use super::codec::{read_value, Reader};
use super::format::encode_record;

/// Matches read-back batches against one store's section, in order.
pub struct SectionMatch<'a> {
    section: &'a [u8],
    offset: usize,
}

impl<'a> SectionMatch<'a> {
    pub fn new(section: &'a [u8]) -> Self {
        SectionMatch { section, offset: 0 }
    }

    /// Checks the next records read back, `batch` (keys and values encoded one after another,
    /// Blob and File bytes empty): true when they are the section's next records.
    pub fn feed(&mut self, batch: &[u8]) -> bool {
        let rest = &self.section[self.offset..];
        if rest.starts_with(batch) {
            self.offset += batch.len();
            return true;
        }
        self.feed_by_value(batch)
    }

    fn feed_by_value(&mut self, batch: &[u8]) -> bool {
        let mut expected = Reader::new(&self.section[self.offset..]);
        let mut at = 0;
        let mut canonical = Vec::new();
        while at < batch.len() {
            let (Ok(key), Ok(mut value)) = (read_value(&mut expected), read_value(&mut expected))
            else {
                return false;
            };
            value.for_each_blob_mut(&mut |bytes| bytes.clear());
            canonical.clear();
            if encode_record(&key, &value, 0, &mut canonical).is_err()
                || !batch[at..].starts_with(&canonical)
            {
                return false;
            }
            at += canonical.len();
        }
        self.offset = self.section.len() - expected.remaining();
        true
    }

    /// True when every record of the section has been matched.
    pub fn is_complete(&self) -> bool {
        self.offset == self.section.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::codec::encode_value;
    use crate::backup::value::{Num, Value};

    fn record(key: f64, value: Value) -> Vec<u8> {
        let mut out = Vec::new();
        encode_record(&Value::Number(Num(key)), &value, 1, &mut out).unwrap();
        out
    }

    fn note(text: &str) -> Value {
        Value::Object(vec![("text".into(), Value::String(text.into()))])
    }

    fn with_blob(bytes: &[u8]) -> Value {
        Value::Object(vec![(
            "photo".into(),
            Value::Blob {
                mime: "image/png".into(),
                bytes: bytes.to_vec(),
            },
        )])
    }

    #[test]
    fn identical_batches_match_and_complete_the_section() {
        let section = [record(1.0, note("a")), record(2.0, note("b"))].concat();
        let mut m = SectionMatch::new(&section);
        assert!(m.feed(&record(1.0, note("a"))));
        assert!(!m.is_complete());
        assert!(m.feed(&record(2.0, note("b"))));
        assert!(m.is_complete());
    }

    #[test]
    fn a_changed_value_or_key_does_not_match() {
        let section = [record(1.0, note("a")), record(2.0, note("b"))].concat();
        let mut m = SectionMatch::new(&section);
        assert!(!m.feed(&[record(1.0, note("a")), record(2.0, note("c"))].concat()));
        let mut m = SectionMatch::new(&section);
        assert!(!m.feed(&[record(1.0, note("a")), record(3.0, note("b"))].concat()));
    }

    #[test]
    fn a_record_too_many_or_too_few_is_caught() {
        let section = record(1.0, note("a"));
        let mut m = SectionMatch::new(&section);
        assert!(!m.feed(&[record(1.0, note("a")), record(2.0, note("b"))].concat()));
        let section = [record(1.0, note("a")), record(2.0, note("b"))].concat();
        let mut m = SectionMatch::new(&section);
        assert!(m.feed(&record(1.0, note("a"))));
        assert!(
            !m.is_complete(),
            "a missing last record leaves the section incomplete"
        );
    }

    #[test]
    fn blob_bytes_are_left_out_but_everything_else_about_the_record_counts() {
        let section = [record(1.0, with_blob(b"png bytes")), record(2.0, note("b"))].concat();
        let read_back = [record(1.0, with_blob(b"")), record(2.0, note("b"))].concat();
        let mut m = SectionMatch::new(&section);
        assert!(m.feed(&read_back));
        assert!(m.is_complete());
        let wrong_type = Value::Object(vec![(
            "photo".into(),
            Value::Blob {
                mime: "text/plain".into(),
                bytes: Vec::new(),
            },
        )]);
        let mut m = SectionMatch::new(&section);
        assert!(!m.feed(&record(1.0, wrong_type)));
    }

    #[test]
    fn an_equivalent_but_different_encoding_in_the_file_still_matches() {
        // The key 1 written as a float (tag 0x05) instead of the integer form the encoder
        // uses: the same value, other bytes.
        let mut section = vec![0x05];
        section.extend_from_slice(&1.0f64.to_le_bytes());
        encode_value(&note("a"), &mut section).unwrap();
        let canonical_form = record(1.0, note("a"));
        assert_ne!(section, canonical_form);
        let mut m = SectionMatch::new(&section);
        assert!(m.feed(&canonical_form));
        assert!(m.is_complete());
    }

    #[test]
    fn read_back_bytes_that_do_not_decode_do_not_match() {
        let section = record(1.0, note("a"));
        let mut m = SectionMatch::new(&section);
        assert!(!m.feed(&[0xff, 0x00]));
        assert!(!m.is_complete());
    }
}
