//! `inspect` on arbitrary bytes, as given and resealed: a manifest or a `BackupError`, never a
//! panic; and whenever `inspect` accepts a file, `decode_backup` accepts it with the same manifest.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rewind::backup::{decode_backup, inspect};

fuzz_target!(|data: &[u8]| {
    let mut inputs = vec![data.to_vec()];
    inputs.extend(rewind_fuzz::reseal(data));
    for input in &inputs {
        if let Ok(manifest) = inspect(input) {
            let decoded =
                decode_backup(input).expect("inspect accepted what decode_backup refuses");
            assert_eq!(
                decoded.manifest, manifest,
                "inspect and decode_backup disagree"
            );
        }
    }
});
