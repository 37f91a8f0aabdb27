//! `inspect` on arbitrary bytes, as given and resealed: a manifest or a `BackupError`, never a
//! panic; `verify_file` (what a restore of format 1 or 2 runs) gives the same answer; and
//! whenever `inspect` accepts a file, `decode_backup` accepts it with the same manifest.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rewind::backup::format::verify_file;
use rewind::backup::{decode_backup, format_version, inspect, CHUNKED_FORMAT_VERSION};

fuzz_target!(|data: &[u8]| {
    let mut inputs = vec![data.to_vec()];
    inputs.extend(rewind_test_support::reseal(data));
    for input in &inputs {
        let inspected = inspect(input);
        // A chunked file has no sections for verify_file to hand out (the chunked target reads
        // it range by range); inspect and decode_backup must still agree on it.
        let chunked = format_version(input) == Ok(CHUNKED_FORMAT_VERSION);
        match (&inspected, verify_file(input)) {
            (_, Ok(_)) if chunked => panic!("verify_file accepted a chunked file"),
            _ if chunked => {}
            (Ok(m), Ok(v)) => assert_eq!(*m, v.manifest, "inspect and verify_file disagree"),
            (Err(a), Err(b)) => assert_eq!(*a, b, "inspect and verify_file refuse differently"),
            (a, b) => panic!("inspect {:?} but verify_file {:?}", a.is_ok(), b.is_ok()),
        }
        if let Ok(manifest) = inspected {
            let decoded =
                decode_backup(input).expect("inspect accepted what decode_backup refuses");
            assert_eq!(
                decoded.manifest, manifest,
                "inspect and decode_backup disagree"
            );
        }
    }
});
