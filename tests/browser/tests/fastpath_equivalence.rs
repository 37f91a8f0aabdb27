#![cfg(target_arch = "wasm32")]
use rewind::backup::format::encode_record;
use rewind::test_hooks::clone;
use rewind_browser_tests::fast_decode;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/fidelity_cases.js")]
extern "C" {
    fn plain_records() -> js_sys::Array;
    fn records_with_blobs() -> js_sys::Array;
    fn generated_records(seed: u32, count: u32) -> js_sys::Array;
}

#[wasm_bindgen_test]
fn fast_path_encodes_exactly_like_the_rust_codec() {
    let made = plain_records();
    let keys = made.get(0);
    let values = made.get(1);
    let ka: js_sys::Array = keys.clone().into();
    let va: js_sys::Array = values.clone().into();
    let n = ka.length();
    let mut fast = Vec::new();
    let mut i = 0;
    let mut fallbacks = 0;
    while i < n {
        i = clone::encode_batch(&keys, &values, i, n, &mut fast).unwrap();
        if i < n {
            fallbacks += 1;
            walked(&ka, &va, i, &mut fast);
            i += 1;
        }
    }
    let mut slow = Vec::new();
    for i in 0..n {
        walked(&ka, &va, i, &mut slow);
    }
    assert!(fallbacks < n / 4, "fallbacks {fallbacks}");
    assert_eq!(fast.len(), slow.len());
    assert!(fast == slow, "bytes differ");
    let kk = js_sys::Array::new();
    let vv = js_sys::Array::new();
    let mut dfall = 0;
    for i in 0..n {
        let k = clone::js_to_value(&ka.get(i)).unwrap().value().clone();
        let v = clone::js_to_value(&va.get(i)).unwrap().value().clone();
        let mut one = Vec::new();
        encode_record(&k, &v, 1, &mut one).unwrap();
        let (off, fk, fv) = fast_decode(&one, 0, 1);
        if off == 0 {
            dfall += 1;
            kk.push(&clone::value_to_js(&k).unwrap());
            vv.push(&clone::value_to_js(&v).unwrap());
        } else {
            assert_eq!(off, one.len());
            kk.push(&fk.get(0));
            vv.push(&fv.get(0));
        }
    }
    assert!(dfall < n / 4, "decode fallbacks {dfall}");
    let mut again = Vec::new();
    let mut i = 0;
    while i < n {
        i = clone::encode_batch(&kk, &vv, i, n, &mut again).unwrap();
        if i < n {
            walked(&kk, &vv, i, &mut again);
            i += 1;
        }
    }
    assert!(again == slow, "round trip differs");
    console_log!("fallbacks enc {fallbacks} dec {dfall} of {n}");
}

/// The Rust walker's encoding of `keys[i]`/`values[i]`, Blob and File bytes left empty.
fn walked(ka: &js_sys::Array, va: &js_sys::Array, i: u32, out: &mut Vec<u8>) {
    let k = clone::js_to_value(&ka.get(i)).unwrap().value().clone();
    let v = clone::js_to_value(&va.get(i)).unwrap().value().clone();
    encode_record(&k, &v, 1, out).unwrap();
}

#[wasm_bindgen_test]
async fn blobs_and_files_are_rebuilt_by_the_fast_decoder_with_their_bytes() {
    let made = records_with_blobs();
    let (ka, va): (js_sys::Array, js_sys::Array) = (made.get(0).into(), made.get(1).into());
    let mut rebuilt_fast = 0;
    for i in 0..ka.length() {
        let k = clone::js_to_value(&ka.get(i)).unwrap().value().clone();
        let v = clone::js_to_value_complete(&va.get(i)).await.unwrap();
        let mut one = Vec::new();
        encode_record(&k, &v, 1, &mut one).unwrap();
        let (reached, _, vv) = fast_decode(&one, 0, 1);
        if reached == 0 {
            continue;
        }
        rebuilt_fast += 1;
        let back = clone::js_to_value_complete(&vv.get(0)).await.unwrap();
        assert_eq!(back, v, "record {i}");
        // The same Blob twice in a record is one Blob again.
        let again: js_sys::Array = js_sys::Reflect::get(&vv.get(0), &"attachments".into())
            .unwrap()
            .into();
        let photo = js_sys::Reflect::get(&vv.get(0), &"photo".into()).unwrap();
        assert!(js_sys::Object::is(&again.get(1), &photo), "record {i}");
    }
    assert_eq!(rebuilt_fast, 54, "records rebuilt by the fast decoder");
}

/// The property test's fixed seed and count: the same records on every run.
const SEED: u32 = 0x5EED_0012;
const COUNT: u32 = 2000;

/// Generated plain records (see `generated_records`): the fast path encodes each one it takes
/// to exactly the bytes of the Rust codec, a whole batch too, and decodes them to values the
/// Rust walker reads back as the Rust decoder's.
#[wasm_bindgen_test]
fn generated_records_are_the_same_bytes_and_values_on_both_paths() {
    use rewind::backup::SectionReader;
    let made = generated_records(SEED, COUNT);
    let (keys, values) = (made.get(0), made.get(1));
    let (ka, va): (js_sys::Array, js_sys::Array) = (keys.clone().into(), values.clone().into());
    assert_eq!(ka.length(), COUNT);

    // Record by record, so that a difference names its record.
    let mut slow = Vec::new();
    let mut taken = 0;
    for i in 0..COUNT {
        let mut walked_bytes = Vec::new();
        walked(&ka, &va, i, &mut walked_bytes);
        let mut fast = Vec::new();
        if clone::encode_batch(&keys, &values, i, i + 1, &mut fast).unwrap() == i + 1 {
            taken += 1;
            assert!(
                fast == walked_bytes,
                "record {i} (seed {SEED:#x}): fast {fast:02x?}\nrust {walked_bytes:02x?}"
            );
        } else {
            assert!(
                fast.is_empty(),
                "record {i}: bytes left behind by a fallback"
            );
        }
        slow.extend_from_slice(&walked_bytes);
    }
    // In batches, as a backup encodes them.
    let (mut batched, mut i) = (Vec::new(), 0);
    while i < COUNT {
        i = clone::encode_batch(&keys, &values, i, COUNT, &mut batched).unwrap();
        if i < COUNT {
            walked(&ka, &va, i, &mut batched);
            i += 1;
        }
    }
    assert!(
        batched == slow,
        "a batch encodes differently from its records"
    );

    // Decoding: the fast decoder's values, walked by Rust, are the Rust decoder's values.
    let mut reader = SectionReader::new(&slow);
    let expected = reader.next_batch(COUNT as usize).unwrap();
    assert!(reader.is_done());
    let (kk, vv) = (js_sys::Array::new(), js_sys::Array::new());
    let (mut offset, mut decoded_fast) = (0, 0);
    for (n, (k, v)) in expected.iter().enumerate() {
        let (reached, fk, fv) = fast_decode(&slow, offset, 1);
        if reached == offset {
            kk.push(&clone::value_to_js(k).unwrap());
            vv.push(&clone::value_to_js(v).unwrap());
            let mut one = Vec::new();
            encode_record(k, v, 1, &mut one).unwrap();
            offset += one.len();
        } else {
            decoded_fast += 1;
            offset = reached;
            kk.push(&fk.get(0));
            vv.push(&fv.get(0));
        }
        let back_k = clone::js_to_value(&kk.get(n as u32))
            .unwrap()
            .value()
            .clone();
        let back_v = clone::js_to_value(&vv.get(n as u32))
            .unwrap()
            .value()
            .clone();
        assert_eq!(&back_k, k, "key of record {n} (seed {SEED:#x})");
        assert_eq!(&back_v, v, "record {n} (seed {SEED:#x})");
    }
    assert_eq!(offset, slow.len());
    console_log!(
        "generated records: {COUNT}, encoded by the fast path {taken}, decoded by it {decoded_fast}"
    );
    // The generator's lone surrogates and integers between 2^52 and 2^53 are the fast path's
    // only reasons to hand a record over; most records must stay on it.
    assert!(taken > COUNT / 2, "the fast path took only {taken}");
    assert!(
        decoded_fast > COUNT / 2,
        "the fast decoder took only {decoded_fast}"
    );
}
