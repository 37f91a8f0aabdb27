//! The values of format version 2 (resizable buffers, length-tracking views and the platform
//! objects): round trips, the exact bytes, and the decoder refusing malformed payloads while
//! keeping the codec law (whatever it accepts re-encodes to bytes that decode to the same).

use super::codec::write_varint;
use super::tests::{obj, round_trip, t};
use super::*;

fn encode(v: &Value) -> Vec<u8> {
    let mut bytes = Vec::new();
    encode_value(v, &mut bytes).unwrap();
    bytes
}

fn n4(a: f64, b: f64, c: f64, d: f64) -> [Num; 4] {
    [Num(a), Num(b), Num(c), Num(d)]
}

fn file(name: &str, mime: &str, last_modified: i64, bytes: &[u8]) -> Value {
    Value::File {
        name: t(name),
        mime: mime.into(),
        last_modified,
        bytes: bytes.to_vec(),
    }
}

fn resizable(bytes: &[u8], max: u64) -> Value {
    Value::ResizableArrayBuffer {
        bytes: bytes.to_vec(),
        max_byte_length: max,
    }
}

/// One value of every version-2 kind, with references to and from them.
pub(super) fn every_new_kind() -> Value {
    let mut m16 = [Num(0.0); 16];
    for (i, m) in m16.iter_mut().enumerate() {
        *m = Num(i as f64 * 1.5 - 3.0);
    }
    m16[5] = Num(-0.0);
    m16[15] = Num(f64::NAN);
    obj(vec![
        // Object 1: a resizable buffer; 2, 3, 4: views over it (one a reference back).
        ("rab", resizable(&[1, 2, 3, 4, 5, 6, 7, 8], 64)),
        (
            "tracking",
            Value::TrackingView {
                kind: ViewKind::Uint16,
                buffer: Box::new(Value::Ref(1)),
                byte_offset: 2,
            },
        ),
        (
            "fixedOverResizable",
            Value::View {
                kind: ViewKind::Uint8,
                buffer: Box::new(Value::Ref(1)),
                byte_offset: 1,
                length: 3,
            },
        ),
        (
            "trackingDataView",
            Value::TrackingView {
                kind: ViewKind::DataView,
                buffer: Box::new(resizable(&[9; 5], 5)),
                byte_offset: 5,
            },
        ),
        (
            "point",
            Value::DomPoint {
                read_only: false,
                coords: n4(1.0, -0.0, f64::NAN, f64::INFINITY),
            },
        ),
        (
            "pointRO",
            Value::DomPoint {
                read_only: true,
                coords: n4(0.0, 0.0, 0.0, 1.0),
            },
        ),
        (
            "rect",
            Value::DomRect {
                read_only: false,
                coords: n4(1.0, 2.0, -3.0, 4.5),
            },
        ),
        (
            "rectRO",
            Value::DomRect {
                read_only: true,
                coords: n4(0.0, 0.0, 0.0, 0.0),
            },
        ),
        (
            "quad",
            Value::DomQuad([
                n4(0.0, 0.0, 0.0, 1.0),
                n4(1.0, 0.0, 0.0, 1.0),
                n4(1.0, 1.0, 0.5, 1.0),
                n4(0.0, 1.0, 0.0, 2.0),
            ]),
        ),
        (
            "matrix2d",
            Value::DomMatrix {
                read_only: false,
                elements: Matrix::TwoD([
                    Num(1.0),
                    Num(0.5),
                    Num(-0.5),
                    Num(1.0),
                    Num(10.0),
                    Num(-20.0),
                ]),
            },
        ),
        (
            "matrix3dRO",
            Value::DomMatrix {
                read_only: true,
                elements: Matrix::ThreeD(m16),
            },
        ),
        (
            "imageData",
            Value::ImageData {
                width: 2,
                height: 1,
                color_space: ColorSpace::DisplayP3,
                pixel_format: PixelFormat::RgbaUnorm8,
                data: vec![255, 0, 0, 255, 0, 128, 0, 64],
            },
        ),
        (
            "imageDataF16",
            Value::ImageData {
                width: 1,
                height: 1,
                color_space: ColorSpace::Srgb,
                pixel_format: PixelFormat::RgbaFloat16,
                data: vec![0, 60, 0, 0, 0, 0, 0, 60],
            },
        ),
        (
            "bitmap",
            Value::ImageBitmap {
                width: 1,
                height: 2,
                pixels: vec![1, 2, 3, 255, 4, 5, 6, 255],
            },
        ),
        (
            "files",
            Value::FileList(vec![
                file("a.txt", "text/plain", 1_700_000_000_000, b"alpha"),
                file("", "", -1, b""),
            ]),
        ),
        ("noFiles", Value::FileList(Vec::new())),
        (
            "exception",
            Value::DomException {
                name: t("NotFoundError"),
                message: Text::from_utf16(vec![0x6E, 0xD800]),
            },
        ),
        // References to a platform object and to a FileList (their files take no numbers).
        ("samePoint", Value::Ref(5)),
        ("sameFiles", Value::Ref(15)),
    ])
}

#[test]
fn every_new_kind_round_trips_bit_exactly() {
    let v = every_new_kind();
    assert_eq!(round_trip(&v), v);
    // And again from its own bytes: one canonical encoding.
    let bytes = encode(&v);
    assert_eq!(encode(&decode_value(&bytes).unwrap()), bytes);
}

#[test]
fn every_view_kind_can_track_a_resizable_buffer() {
    for kind in ViewKind::ALL {
        let size = kind.element_size();
        for offset in [0, size, 4 * size] {
            let v = Value::TrackingView {
                kind,
                buffer: Box::new(resizable(&[7; 32], 1024)),
                byte_offset: offset,
            };
            assert_eq!(round_trip(&v), v, "{kind:?} at {offset}");
        }
    }
}

#[test]
fn the_new_tags_are_written_as_documented() {
    let point = Value::DomPoint {
        read_only: true,
        coords: n4(1.0, 2.0, 3.0, 4.0),
    };
    let mut expected = vec![0x23, 0x01];
    for x in [1.0f64, 2.0, 3.0, 4.0] {
        expected.extend_from_slice(&x.to_le_bytes());
    }
    assert_eq!(encode(&point), expected);
    assert_eq!(
        encode(&resizable(&[9, 8], 300)),
        vec![0x21, 0xAC, 0x02, 2, 9, 8]
    );
    let tracking = Value::TrackingView {
        kind: ViewKind::DataView,
        buffer: Box::new(resizable(&[], 0)),
        byte_offset: 0,
    };
    assert_eq!(encode(&tracking), vec![0x22, 12, 0x21, 0, 0, 0]);
    let bitmap = Value::ImageBitmap {
        width: 1,
        height: 1,
        pixels: vec![1, 2, 3, 4],
    };
    assert_eq!(encode(&bitmap), vec![0x28, 1, 1, 4, 1, 2, 3, 4]);
    let list = Value::FileList(vec![file("a", "t", -1, b"x")]);
    assert_eq!(encode(&list), vec![0x29, 1, 2, b'a', 2, b't', 1, 1, b'x']);
    let image = Value::ImageData {
        width: 1,
        height: 1,
        color_space: ColorSpace::DisplayP3,
        pixel_format: PixelFormat::RgbaUnorm8,
        data: vec![5, 6, 7, 8],
    };
    assert_eq!(encode(&image), vec![0x27, 1, 1, 1, 0, 4, 5, 6, 7, 8]);
    let matrix = Value::DomMatrix {
        read_only: false,
        elements: Matrix::TwoD([Num(0.0); 6]),
    };
    assert_eq!(encode(&matrix)[..2], [0x26, 0x02]);
    assert_eq!(encode(&matrix).len(), 2 + 6 * 8);
    let exception = Value::DomException {
        name: t("E"),
        message: t(""),
    };
    assert_eq!(encode(&exception), vec![0x2A, 2, b'E', 0]);
}

#[test]
fn new_platform_objects_are_objects_but_never_keys() {
    let Value::Object(props) = every_new_kind() else {
        unreachable!()
    };
    for (name, v) in props {
        if matches!(v, Value::Ref(_)) {
            continue;
        }
        assert!(v.is_object(), "{name}");
        assert!(!v.is_valid_key(), "{name}");
        assert!(!v.type_name().is_empty());
    }
}

#[test]
fn the_writer_refuses_what_javascript_cannot_hold() {
    let refused = [
        resizable(&[0; 5], 4),
        Value::TrackingView {
            kind: ViewKind::Uint8,
            buffer: Box::new(Value::ArrayBuffer(vec![0; 4])),
            byte_offset: 0,
        },
        Value::TrackingView {
            kind: ViewKind::Uint32,
            buffer: Box::new(resizable(&[0; 8], 8)),
            byte_offset: 2,
        },
        Value::TrackingView {
            kind: ViewKind::Uint8,
            buffer: Box::new(resizable(&[0; 8], 8)),
            byte_offset: 9,
        },
        Value::View {
            kind: ViewKind::Uint8,
            buffer: Box::new(resizable(&[0; 4], 8)),
            byte_offset: 0,
            length: 5,
        },
        Value::ImageData {
            width: 2,
            height: 1,
            color_space: ColorSpace::Srgb,
            pixel_format: PixelFormat::RgbaUnorm8,
            data: vec![0; 4],
        },
        Value::ImageData {
            width: 1,
            height: 1,
            color_space: ColorSpace::Srgb,
            pixel_format: PixelFormat::RgbaFloat16,
            data: vec![0; 4],
        },
        Value::ImageData {
            width: 0,
            height: 1,
            color_space: ColorSpace::Srgb,
            pixel_format: PixelFormat::RgbaUnorm8,
            data: vec![],
        },
        Value::ImageBitmap {
            width: 1,
            height: 1,
            pixels: vec![],
        },
        Value::ImageBitmap {
            width: u32::MAX,
            height: u32::MAX,
            pixels: vec![],
        },
        Value::FileList(vec![Value::Blob {
            mime: String::new(),
            bytes: vec![],
        }]),
        Value::FileList(vec![file("a", "Text/Plain", 0, b"")]),
    ];
    for v in refused {
        let mut out = vec![0xAA];
        let err = encode_value(&v, &mut out).unwrap_err();
        assert_eq!(err.code(), "InvalidBackup", "{v:?}");
    }
}

/// A value's bytes with a varint put in place of bytes `at` (one byte long there).
fn patched(v: &Value, at: usize, with: &[u8]) -> Vec<u8> {
    let mut bytes = encode(v);
    bytes.splice(at..at + 1, with.iter().copied());
    bytes
}

fn corrupt(bytes: &[u8]) -> String {
    match decode_value(bytes) {
        Err(BackupError::Corrupt { reason }) => reason,
        other => panic!("{bytes:02x?} decoded to {other:?}"),
    }
}

#[test]
fn the_decoder_refuses_malformed_new_payloads() {
    // A resizable buffer longer than its maximum.
    assert!(corrupt(&[0x21, 2, 3, 1, 2, 3]).contains("maximum"));
    // A length-tracking view over a fixed-length buffer, misaligned, or past the end.
    assert!(corrupt(&[0x22, 1, 0x18, 2, 0, 0, 0]).contains("not resizable"));
    assert!(corrupt(&[0x22, 5, 0x21, 8, 4, 0, 0, 0, 0, 2]).contains("multiple"));
    assert!(corrupt(&[0x22, 1, 0x21, 8, 4, 0, 0, 0, 0, 5]).contains("reaches"));
    // A length-tracking view whose buffer is a reference to something else, or not a buffer.
    assert!(decode_value(&[0x1D, 1, 1, 2, b'v', 0x22, 1, 0x20, 0, 0]).is_err());
    assert!(decode_value(&[0x22, 1, 0x01, 0]).is_err());
    // An unknown view kind.
    assert!(corrupt(&[0x22, 13, 0x21, 0, 0, 0]).contains("kind"));
    // Geometry with flags it does not have.
    let point = Value::DomPoint {
        read_only: false,
        coords: n4(0.0, 0.0, 0.0, 0.0),
    };
    assert!(corrupt(&patched(&point, 1, &[2])).contains("flags"));
    let matrix = Value::DomMatrix {
        read_only: false,
        elements: Matrix::TwoD([Num(0.0); 6]),
    };
    assert!(corrupt(&patched(&matrix, 1, &[4])).contains("flags"));
    // A 2D matrix flag in front of 16 numbers leaves 80 bytes over; a 3D one in front of six
    // is cut short.
    let three_d = Value::DomMatrix {
        read_only: false,
        elements: Matrix::ThreeD([Num(0.0); 16]),
    };
    assert!(corrupt(&patched(&three_d, 1, &[2])).contains("extra bytes"));
    assert!(corrupt(&patched(&matrix, 1, &[0])).contains("bytes left"));
    // ImageData: no pixels, a side too long for u32, data of the wrong size, unknown color
    // space or pixel format.
    let image = Value::ImageData {
        width: 1,
        height: 1,
        color_space: ColorSpace::Srgb,
        pixel_format: PixelFormat::RgbaUnorm8,
        data: vec![1, 2, 3, 4],
    };
    assert!(corrupt(&patched(&image, 1, &[0])).contains("impossible size"));
    let mut wide = Vec::new();
    write_varint(&mut wide, 1 << 32);
    assert!(corrupt(&patched(&image, 1, &wide)).contains("impossible size"));
    assert!(corrupt(&patched(&image, 2, &[2])).contains("holds 4 bytes"));
    assert!(corrupt(&patched(&image, 3, &[2])).contains("color space"));
    assert!(corrupt(&patched(&image, 4, &[2])).contains("pixel format"));
    assert!(corrupt(&patched(&image, 4, &[1])).contains("holds 4 bytes"));
    // ImageBitmap: pixels of the wrong size, or a size whose pixels overflow.
    let bitmap = Value::ImageBitmap {
        width: 1,
        height: 1,
        pixels: vec![1, 2, 3, 4],
    };
    assert!(corrupt(&patched(&bitmap, 3, &[3])).contains("holds 3 bytes"));
    let mut huge = vec![0x28];
    write_varint(&mut huge, u64::from(u32::MAX));
    write_varint(&mut huge, u64::from(u32::MAX));
    write_varint(&mut huge, 0);
    assert!(corrupt(&huge).contains("holds 0 bytes"));
    // A FileList claiming more files than its bytes can hold, or a file with a bad type.
    let mut many = vec![0x29];
    write_varint(&mut many, 1 << 40);
    assert!(corrupt(&many).contains("does not fit"));
    assert!(corrupt(&[0x29, 1, 0, 2, b'T', 0, 0]).contains("type"));
    // A DOMException cut short.
    assert!(corrupt(&[0x2A, 2, b'E']).contains("ends in the middle"));
    // The tags of Blob parts belong in chunks only; the first tag after them is unknown.
    for tag in [0x2B, 0x2C, 0x2D] {
        assert!(corrupt(&[tag]).contains("outside a chunk"));
    }
    assert!(corrupt(&[0x2E]).contains("unknown value tag"));
}

#[test]
fn references_count_new_objects_but_not_the_files_of_a_file_list() {
    // { l: FileList[File], r: ref 1 } — the FileList is object 1, its file no object at all.
    let v = obj(vec![
        ("l", Value::FileList(vec![file("f", "", 0, b"1")])),
        ("r", Value::Ref(1)),
    ]);
    assert_eq!(round_trip(&v), v);
    let dangling = obj(vec![
        ("l", Value::FileList(vec![file("f", "", 0, b"1")])),
        ("r", Value::Ref(2)),
    ]);
    assert!(encode_value(&dangling, &mut Vec::new()).is_err());
    // A view may refer back to a resizable buffer reached earlier.
    let shared = Value::Array {
        length: 2,
        props: vec![
            (t("0"), resizable(&[1, 2, 3, 4], 16)),
            (
                t("1"),
                Value::TrackingView {
                    kind: ViewKind::Uint8,
                    buffer: Box::new(Value::Ref(1)),
                    byte_offset: 4,
                },
            ),
        ],
    };
    assert_eq!(round_trip(&shared), shared);
}

#[test]
fn blobs_and_bitmaps_are_visited_in_walk_order() {
    let mut v = obj(vec![
        (
            "b",
            Value::Blob {
                mime: String::new(),
                bytes: vec![],
            },
        ),
        (
            "l",
            Value::FileList(vec![file("1", "", 0, b""), file("2", "", 0, b"")]),
        ),
        (
            "m",
            Value::ImageBitmap {
                width: 1,
                height: 1,
                pixels: vec![],
            },
        ),
    ]);
    let mut n = 0u8;
    v.for_each_blob_mut(&mut |bytes| {
        n += 1;
        bytes.push(n);
    });
    assert_eq!(n, 3);
    v.for_each_bitmap_mut(&mut |w, h, pixels| {
        assert_eq!((w, h), (1, 1));
        pixels.extend_from_slice(&[9; 4])
    });
    let Value::Object(props) = &v else {
        unreachable!()
    };
    assert_eq!(
        props[0].1,
        Value::Blob {
            mime: String::new(),
            bytes: vec![1]
        }
    );
    assert_eq!(
        props[1].1,
        Value::FileList(vec![file("1", "", 0, &[2]), file("2", "", 0, &[3])])
    );
    assert_eq!(
        props[2].1,
        Value::ImageBitmap {
            width: 1,
            height: 1,
            pixels: vec![9; 4]
        }
    );
}

/// The codec law, over every single-byte change and every cut of the new kinds' bytes: the
/// decoder never panics, and whatever it accepts re-encodes to bytes that decode to the same.
#[test]
fn the_codec_law_holds_for_every_mutation_of_the_new_kinds() {
    let bytes = encode(&every_new_kind());
    let mut accepted = 0;
    let mut check = |input: &[u8]| {
        if let Ok(v) = decode_value(input) {
            let again = encode(&v);
            assert_eq!(decode_value(&again).unwrap(), v, "{input:02x?}");
            accepted += 1;
        }
    };
    for cut in 0..bytes.len() {
        check(&bytes[..cut]);
    }
    for at in 0..bytes.len() {
        for replacement in [0x00, 0x01, 0x02, 0x20, 0x21, 0x22, 0x29, 0x7F, 0x80, 0xFF] {
            let mut m = bytes.clone();
            m[at] = replacement;
            check(&m);
        }
    }
    assert!(
        accepted > 0,
        "some mutations (of number bytes) must still decode"
    );
}

/// A manifest of stores named so, without key paths, for `encode_backup` to fill in.
fn manifest_of(stores: &[&str]) -> BackupManifest {
    BackupManifest {
        format_version: 0,
        id: "b".into(),
        database: "db".into(),
        schema_version: 1,
        idb_version: 1,
        created_at: 0.0,
        label: String::new(),
        automatic: false,
        meta: crate::engine::RewindMeta::default(),
        stores: stores
            .iter()
            .map(|n| StoreManifest::new(crate::schema::StoreSchema::new(*n, None, false)))
            .collect(),
        skipped: Vec::new(),
        interrupted: None,
        in_place: false,
        bytes: 0,
        sha256: String::new(),
    }
}

#[test]
fn a_backup_of_the_new_kinds_is_format_2_and_verifies() {
    assert_eq!(FORMAT_VERSION, 2);
    let manifest = manifest_of(&["s"]);
    let stores = vec![StoreRecords {
        name: "s".into(),
        records: vec![(Value::number(1.0), every_new_kind())],
    }];
    let file = encode_backup(manifest, stores.clone()).unwrap();
    assert_eq!(file.bytes[8..12], 2u32.to_le_bytes());
    assert_eq!(inspect(&file.bytes).unwrap().format_version, 2);
    assert_eq!(decode_backup(&file.bytes).unwrap().stores, stores);
}

/// A version 2 backup holding every new kind (and the parts alone, one record each).
fn v2_backup() -> Vec<u8> {
    let Value::Object(props) = every_new_kind() else {
        unreachable!()
    };
    let mut records = vec![(Value::number(0.0), every_new_kind())];
    for (i, (_, v)) in props.into_iter().enumerate() {
        if encode_value(&v, &mut Vec::new()).is_ok() && !matches!(v, Value::Ref(_)) {
            records.push((Value::number(i as f64 + 1.0), v));
        }
    }
    let manifest = BackupManifest {
        format_version: 0,
        id: "v2".into(),
        database: "platform".into(),
        schema_version: 1,
        idb_version: 2,
        created_at: 1_790_000_000_000.0,
        label: "every version 2 kind".into(),
        automatic: false,
        meta: crate::engine::RewindMeta::default(),
        stores: vec![StoreManifest::new(crate::schema::StoreSchema::new(
            "platform", None, false,
        ))],
        skipped: Vec::new(),
        interrupted: None,
        in_place: false,
        bytes: 0,
        sha256: String::new(),
    };
    let stores = vec![StoreRecords {
        name: "platform".into(),
        records,
    }];
    encode_backup(manifest, stores).unwrap().bytes
}

/// The fuzzers' seeds for the new kinds, checked to be exactly these bytes: for
/// `decode_value` (`fuzz/corpus/decode_value/v2-*`) the whole of [`every_new_kind`] and each of
/// its parts that stands alone; for `inspect` and `decode_backup` a version 2 file of them
/// (`v2-platform.rewind`). Written with `REWIND_WRITE_SEEDS=1 cargo test -p rewind --lib seeds`.
#[test]
fn the_fuzz_seeds_of_the_new_kinds_are_committed() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let Value::Object(props) = every_new_kind() else {
        unreachable!()
    };
    let mut seeds = vec![(
        "decode_value/v2-every-kind".to_string(),
        encode(&every_new_kind()),
    )];
    for (name, v) in props {
        // Parts that refer to others need them: they are in the whole.
        let mut bytes = Vec::new();
        if encode_value(&v, &mut bytes).is_ok() && !matches!(v, Value::Ref(_)) {
            seeds.push((format!("decode_value/v2-{name}"), bytes));
        }
    }
    for target in ["inspect", "decode_backup"] {
        seeds.push((format!("{target}/v2-platform.rewind"), v2_backup()));
    }
    let write = std::env::var_os("REWIND_WRITE_SEEDS").is_some();
    for (name, bytes) in seeds {
        let path = corpus.join(&name);
        if write {
            std::fs::write(&path, &bytes).unwrap();
        }
        let committed = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (REWIND_WRITE_SEEDS=1 writes it)", path.display()));
        assert_eq!(committed, bytes, "{name}");
    }
    assert!(inspect(&v2_backup()).is_ok());
}

/// A restore's check compares what it reads back with the file: a value that lost what
/// version 2 added must not match.
#[test]
fn the_read_back_check_does_not_accept_a_changed_new_value() {
    use super::format::encode_record;
    use super::readback::SectionMatch;
    let record = |v: &Value| {
        let mut out = Vec::new();
        encode_record(&Value::number(1.0), v, 1, &mut out).unwrap();
        out
    };
    let tracking = Value::TrackingView {
        kind: ViewKind::Uint8,
        buffer: Box::new(resizable(&[1, 2, 3], 8)),
        byte_offset: 0,
    };
    let changed = [
        (resizable(&[1, 2, 3], 8), Value::ArrayBuffer(vec![1, 2, 3])),
        (resizable(&[1, 2, 3], 8), resizable(&[1, 2, 3], 3)),
        (
            tracking.clone(),
            Value::View {
                kind: ViewKind::Uint8,
                buffer: Box::new(resizable(&[1, 2, 3], 8)),
                byte_offset: 0,
                length: 3,
            },
        ),
        (
            Value::ImageBitmap {
                width: 1,
                height: 1,
                pixels: vec![1, 2, 3, 255],
            },
            Value::ImageBitmap {
                width: 1,
                height: 1,
                pixels: vec![1, 2, 4, 255],
            },
        ),
        (
            Value::DomMatrix {
                read_only: false,
                elements: Matrix::TwoD([Num(1.0); 6]),
            },
            Value::DomMatrix {
                read_only: true,
                elements: Matrix::TwoD([Num(1.0); 6]),
            },
        ),
        (
            Value::FileList(vec![file("a", "", 0, b"1")]),
            Value::FileList(vec![file("b", "", 0, b"1")]),
        ),
    ];
    for (in_file, read_back) in changed {
        let section = record(&in_file);
        assert!(SectionMatch::new(&section).feed(&record(&in_file)));
        assert!(
            !SectionMatch::new(&section).feed(&record(&read_back)),
            "{in_file:?} matched {read_back:?}"
        );
    }
    // A FileList's file contents are left out of the check, as every Blob's are.
    let section = record(&Value::FileList(vec![file("a", "", 0, b"123")]));
    let mut m = SectionMatch::new(&section);
    assert!(m.feed(&record(&Value::FileList(vec![file("a", "", 0, b"")]))));
    assert!(m.is_complete());
}

#[test]
fn verifying_a_file_finds_the_records_that_hold_bitmaps() {
    let manifest = manifest_of(&["plain", "images"]);
    let bitmap = Value::ImageBitmap {
        width: 1,
        height: 1,
        pixels: vec![0x28; 4],
    };
    let in_a_map = Value::Map(vec![(Value::string("k"), bitmap.clone())]);
    let stores = vec![
        StoreRecords {
            name: "plain".into(),
            records: vec![(Value::number(1.0), Value::ArrayBuffer(vec![0x28; 8]))],
        },
        StoreRecords {
            name: "images".into(),
            records: vec![
                (Value::number(1.0), bitmap),
                (Value::number(2.0), Value::string("none")),
                (Value::number(3.0), in_a_map),
            ],
        },
    ];
    let file = encode_backup(manifest, stores).unwrap();
    let verified = format::verify_file(&file.bytes).unwrap();
    let images = &file.bytes[verified.sections[1].clone()];
    let mut reader = SectionReader::new(images);
    let mut starts = Vec::new();
    while !reader.is_done() {
        starts.push(reader.offset(images));
        reader.next_batch(1).unwrap();
    }
    assert_eq!(
        verified.bitmap_records,
        vec![vec![], vec![starts[0], starts[2]]]
    );
}
