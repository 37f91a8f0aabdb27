//! `decode_backup` on arbitrary bytes, as given and resealed: records or a `BackupError`, never
//! a panic; and whatever it accepts writes back (`encode_backup`) and reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rewind::backup::{decode_backup, encode_backup, StoreManifest};

fuzz_target!(|data: &[u8]| {
    let mut inputs = vec![data.to_vec()];
    inputs.extend(rewind_test_support::reseal(data));
    for input in &inputs {
        let Ok(decoded) = decode_backup(input) else {
            continue;
        };
        let mut manifest = decoded.manifest.clone();
        manifest.stores = manifest
            .stores
            .iter()
            .map(|s| StoreManifest::new(s.schema.clone()))
            .collect();
        let again = encode_backup(manifest, decoded.stores.clone())
            .expect("a decoded backup cannot be written again");
        let reread = decode_backup(&again.bytes).expect("a rewritten backup cannot be read");
        assert_eq!(
            reread.stores, decoded.stores,
            "records changed on a rewrite"
        );
        assert_eq!(reread.manifest.stores.len(), decoded.manifest.stores.len());
    }
});
