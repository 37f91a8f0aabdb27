//! The chunked (format 3) reader on arbitrary bytes, as given and resealed (every digest made
//! to match, so damage reaches the index checks and the value decoder): a manifest or a
//! `BackupError`, never a panic; driven range by range it agrees with `inspect`, hands out only
//! ranges inside the file, and whatever it accepts `decode_backup` reads with the same manifest.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rewind::backup::chunked::read_chunked_slice;
use rewind::backup::{
    decode_backup, format_version, inspect, ChunkedReader, ReadMode, Step,
    CHUNKED_FORMAT_VERSION,
};

fuzz_target!(|data: &[u8]| {
    let mut inputs = vec![data.to_vec()];
    inputs.extend(rewind_test_support::reseal_chunked(data));
    for input in &inputs {
        let len = input.len() as u64;
        let mut reader = ChunkedReader::new(len, ReadMode::Records);
        let mut records = 0u64;
        let read = read_chunked_slice(input, &mut reader, &mut |step| {
            if let Step::Records(batch) = step {
                assert!(batch.chunk.start < batch.chunk.end && batch.chunk.end <= len);
                for r in &batch.records {
                    for p in &r.parts {
                        assert!(p.range.start <= p.range.end && p.range.end <= len);
                    }
                }
                records += batch.records.len() as u64;
            }
        });
        if format_version(input) != Ok(CHUNKED_FORMAT_VERSION) {
            assert!(read.is_err(), "the chunked reader accepted another format");
            continue;
        }
        let inspected = inspect(input);
        assert_eq!(inspected, read, "inspect and the chunked reader disagree");
        if let Ok(manifest) = inspected {
            assert_eq!(records, manifest.total_records());
            let decoded =
                decode_backup(input).expect("inspect accepted what decode_backup refuses");
            assert_eq!(decoded.manifest, manifest, "inspect and decode_backup disagree");
        }
    }
});
