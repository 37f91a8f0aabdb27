use super::*;
use crate::engine::{AppliedMigration, RewindMeta};
use crate::migration::Checksum;
use crate::schema::{IndexSchema, KeyPath, StoreSchema};
use rewind_test_support::{reseal_trailer, SplitMix64};
use sha2::Digest;

pub(super) fn t(s: &str) -> Text {
    Text::from(s)
}

pub(super) fn obj(props: Vec<(&str, Value)>) -> Value {
    Value::Object(props.into_iter().map(|(k, v)| (t(k), v)).collect())
}

pub(super) fn round_trip(v: &Value) -> Value {
    let mut bytes = Vec::new();
    encode_value(v, &mut bytes).unwrap();
    decode_value(&bytes).unwrap()
}

/// One value of every kind, with shared and cyclic references and views sharing a buffer.
pub(super) fn every_kind() -> Value {
    let lone = Text::from_utf16(vec![0x61, 0xD800, 0x62, 0xDC00]);
    assert!(lone.as_str().is_none());
    obj(vec![
        ("undefined", Value::Undefined),
        ("null", Value::Null),
        ("t", Value::Bool(true)),
        ("f", Value::Bool(false)),
        ("negzero", Value::number(-0.0)),
        ("nan", Value::number(f64::NAN)),
        ("inf", Value::number(f64::INFINITY)),
        ("neginf", Value::number(f64::NEG_INFINITY)),
        ("int", Value::number(-42.0)),
        ("big_safe", Value::number(9_007_199_254_740_992.0)),
        ("huge", Value::number(1e300)),
        ("frac", Value::number(0.1)),
        (
            "bigint",
            Value::BigInt("-123456789012345678901234567890".into()),
        ),
        ("zero_n", Value::BigInt("0".into())),
        ("str", Value::string("héllo ✓ 😀")),
        ("lone", Value::String(lone.clone())),
        ("date", Value::Date(Num(1_700_000_000_000.5))),
        ("bad_date", Value::Date(Num(f64::NAN))),
        (
            "re",
            Value::RegExp {
                source: t("a+b\\/"),
                flags: "gimsuy".into(),
            },
        ),
        ("bs", Value::BoxedString(lone)),
        ("bn", Value::BoxedNumber(Num(-0.0))),
        ("bb", Value::BoxedBool(false)),
        ("bbig", Value::BoxedBigInt("42".into())),
        (
            "err",
            Value::Error(ErrorValue {
                kind: ErrorKind::RangeError,
                message: Some(t("out of range")),
                stack: Some(t("RangeError: out of range\n    at x")),
                cause: Some(Box::new(Value::Ref(0))),
            }),
        ),
        (
            "plain_err",
            Value::Error(ErrorValue {
                kind: ErrorKind::Error,
                message: None,
                stack: None,
                cause: None,
            }),
        ),
        // The buffer is object 7 (0 the record, 1 date, 2 bad_date, 3 re, 4 bs, 5 bn, 6 bb,
        // 7 bbig, 8 err, 9 plain_err, 10 the view, 11 the buffer).
        (
            "u16",
            Value::View {
                kind: ViewKind::Uint16,
                buffer: Box::new(Value::ArrayBuffer((0..16).collect())),
                byte_offset: 2,
                length: 3,
            },
        ),
        (
            "f64",
            Value::View {
                kind: ViewKind::Float64,
                buffer: Box::new(Value::Ref(11)),
                byte_offset: 8,
                length: 1,
            },
        ),
        (
            "dv",
            Value::View {
                kind: ViewKind::DataView,
                buffer: Box::new(Value::Ref(11)),
                byte_offset: 3,
                length: 5,
            },
        ),
        ("same_buffer", Value::Ref(11)),
        (
            "map",
            Value::Map(vec![
                (Value::string("k"), Value::number(1.0)),
                (Value::Ref(0), Value::Ref(10)),
            ]),
        ),
        (
            "set",
            Value::Set(vec![Value::number(f64::NAN), Value::string("x")]),
        ),
        (
            "sparse",
            Value::Array {
                length: 1000,
                props: vec![
                    (t("0"), Value::number(1.0)),
                    (t("999"), Value::Null),
                    (t("extra"), Value::Bool(true)),
                ],
            },
        ),
        ("proto", obj(vec![("__proto__", Value::number(5.0))])),
        (
            "blob",
            Value::Blob {
                mime: "text/plain;charset=utf-8".into(),
                bytes: b"hello".to_vec(),
            },
        ),
        (
            "file",
            Value::File {
                name: t("notes ✓.txt"),
                mime: String::new(),
                last_modified: 1_700_000_000_123,
                bytes: vec![0, 255, 7],
            },
        ),
        ("self", Value::Ref(0)),
    ])
}

#[test]
fn every_value_kind_round_trips_bit_exactly() {
    let v = every_kind();
    assert_eq!(round_trip(&v), v);
    // Bit-exact: the equality is by bits, but check directly too.
    let Value::Object(props) = round_trip(&v) else {
        panic!("not an object")
    };
    let get = |k: &str| &props.iter().find(|(n, _)| n.as_str() == Some(k)).unwrap().1;
    let Value::Number(Num(z)) = get("negzero") else {
        panic!()
    };
    assert!(*z == 0.0 && z.is_sign_negative());
    let Value::Number(Num(n)) = get("nan") else {
        panic!()
    };
    assert!(n.is_nan());
}

#[test]
fn every_view_kind_and_number_form_round_trips() {
    for kind in ViewKind::ALL {
        let v = Value::View {
            kind,
            buffer: Box::new(Value::ArrayBuffer(vec![1; 32])),
            byte_offset: 8,
            length: 24 / kind.element_size(),
        };
        assert_eq!(round_trip(&v), v, "{kind:?}");
    }
    for n in [
        0.0,
        -0.0,
        1.0,
        -1.0,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        -9_007_199_254_740_992.0,
        9_007_199_254_740_993.0,
        f64::from_bits(0x7ff8_0000_0000_0001),
    ] {
        let v = Value::number(n);
        assert_eq!(round_trip(&v), v, "{n}");
    }
}

#[test]
fn dense_arrays_encode_compactly() {
    let v = Value::Array {
        length: 3,
        props: (0..3)
            .map(|i| (t(&i.to_string()), Value::number(i as f64)))
            .collect(),
    };
    let mut bytes = Vec::new();
    encode_value(&v, &mut bytes).unwrap();
    assert_eq!(bytes.len(), 1 + 1 + 1 + 3 * 4);
    assert_eq!(decode_value(&bytes).unwrap(), v);
}

#[test]
fn a_view_outside_its_buffer_or_a_forward_reference_is_refused() {
    let bad_view = Value::View {
        kind: ViewKind::Int32,
        buffer: Box::new(Value::ArrayBuffer(vec![0; 8])),
        byte_offset: 4,
        length: 2,
    };
    let mut out = Vec::new();
    assert!(encode_value(&bad_view, &mut out).is_err());
    let forward = Value::Array {
        length: 1,
        props: vec![(t("0"), Value::Ref(1))],
    };
    assert!(encode_value(&forward, &mut Vec::new()).is_err());
    // A reference to a non-buffer as a view's buffer.
    let not_buffer = Value::Array {
        length: 1,
        props: vec![(
            t("0"),
            Value::View {
                kind: ViewKind::Uint8,
                buffer: Box::new(Value::Ref(0)),
                byte_offset: 0,
                length: 0,
            },
        )],
    };
    assert!(encode_value(&not_buffer, &mut Vec::new()).is_err());
}

fn nested(depth: usize) -> Value {
    let mut v = Value::Null;
    for _ in 0..depth {
        v = Value::Array {
            length: 1,
            props: vec![(t("0"), v)],
        };
    }
    v
}

#[test]
fn nesting_is_capped() {
    let ok = nested(MAX_DEPTH);
    assert_eq!(round_trip(&ok), ok);
    let deep = nested(MAX_DEPTH + 1);
    assert_eq!(
        encode_value(&deep, &mut Vec::new()),
        Err(BackupError::TooDeep { limit: MAX_DEPTH })
    );
    // Hand-made deep input: a long run of array headers.
    let mut bytes = Vec::new();
    for _ in 0..100_000 {
        bytes.extend_from_slice(&[0x1C, 1, 1, 0, 0]);
    }
    let err = decode_value(&bytes).unwrap_err();
    assert_eq!(err, BackupError::TooDeep { limit: MAX_DEPTH });
    assert_eq!(err.code(), "CorruptBackup");
}

#[test]
fn inflated_lengths_are_refused_before_allocating() {
    // An ArrayBuffer claiming u64::MAX/2 bytes, a string claiming 2^40 units, a map with
    // 2^60 entries: each must fail at once on the length check.
    let mut huge = vec![0x18];
    codec::write_varint(&mut huge, u64::MAX / 2);
    assert!(matches!(
        decode_value(&huge),
        Err(BackupError::Corrupt { .. })
    ));
    let mut s = vec![0x07];
    codec::write_varint(&mut s, (1u64 << 40) | 1);
    assert!(matches!(decode_value(&s), Err(BackupError::Corrupt { .. })));
    let mut m = vec![0x1A];
    codec::write_varint(&mut m, 1 << 60);
    assert!(matches!(decode_value(&m), Err(BackupError::Corrupt { .. })));
    let mut a = vec![0x1C];
    codec::write_varint(&mut a, 1 << 33);
    assert!(matches!(decode_value(&a), Err(BackupError::Corrupt { .. })));
    // An over-long varint.
    assert!(
        decode_value(&[0x04, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]).is_err()
    );
}

#[test]
fn references_must_point_backwards() {
    // [ref 0] is fine (the array itself); [ref 1] is not.
    assert_eq!(
        decode_value(&[0x1C, 1, 1, 0, 0, 0x20, 0]).unwrap(),
        Value::Array {
            length: 1,
            props: vec![(t("0"), Value::Ref(0))]
        }
    );
    assert!(decode_value(&[0x1C, 1, 1, 0, 0, 0x20, 1]).is_err());
    // An index past the array's length.
    assert!(decode_value(&[0x1C, 1, 1, 0, 1, 0x01]).is_err());
}

pub(crate) fn manifest() -> BackupManifest {
    BackupManifest {
        format_version: 0,
        id: "b-1".into(),
        database: "notes".into(),
        schema_version: 3,
        idb_version: 7,
        created_at: 1_795_713_536_000.0,
        label: "before v4".into(),
        automatic: true,
        meta: RewindMeta {
            schema_version: 3,
            applied: vec![AppliedMigration {
                version: 1,
                name: "init".into(),
                checksum: Checksum("ab".repeat(32)),
                applied_at: 1.0,
                definition: None,
            }],
        },
        stores: vec![
            StoreManifest::new(
                StoreSchema::new("notes", Some(KeyPath::single("id")), true).with_index(
                    IndexSchema::new("by_tag", KeyPath::single("tags")).multi_entry(true),
                ),
            ),
            StoreManifest::new(StoreSchema::new("empty", None, false)),
            StoreManifest::new(StoreSchema::new("files", None, false)),
        ],
        skipped: Vec::new(),
        interrupted: None,
        in_place: false,
        bytes: 0,
        sha256: String::new(),
    }
}

pub(super) fn stores() -> Vec<StoreRecords> {
    let binary_key = Value::ArrayBuffer(vec![1, 2, 3]);
    let array_key = Value::Array {
        length: 3,
        props: vec![
            (t("0"), Value::number(1.0)),
            (t("1"), Value::string("a")),
            (t("2"), Value::Date(Num(5.0))),
        ],
    };
    vec![
        StoreRecords {
            name: "notes".into(),
            records: vec![
                (
                    Value::number(1.0),
                    obj(vec![
                        ("id", Value::number(1.0)),
                        ("title", Value::string("a")),
                    ]),
                ),
                (Value::number(2.0), every_kind()),
            ],
        },
        StoreRecords {
            name: "empty".into(),
            records: vec![],
        },
        StoreRecords {
            name: "files".into(),
            records: vec![
                (Value::string("k"), Value::Null),
                (Value::Date(Num(0.0)), Value::Undefined),
                (binary_key, Value::Bool(true)),
                (array_key, Value::number(-0.0)),
            ],
        },
    ]
}

fn small_file() -> EncodedBackup {
    encode_backup(manifest(), stores()).unwrap()
}

#[test]
fn a_whole_backup_round_trips_and_inspects() {
    let encoded = small_file();
    let decoded = decode_backup(&encoded.bytes).unwrap();
    assert_eq!(decoded.stores, stores());
    assert_eq!(decoded.manifest, encoded.manifest);
    let m = inspect(&encoded.bytes).unwrap();
    assert_eq!(m, encoded.manifest);
    assert_eq!(m.format_version, FORMAT_VERSION);
    assert_eq!(m.bytes, encoded.bytes.len() as u64);
    assert_eq!(m.sha256.len(), 64);
    assert_eq!(m.store("notes").map(|s| s.records), Some(2));
    assert_eq!(m.store("empty").map(|s| (s.records, s.bytes)), Some((0, 0)));
    assert_eq!(m.total_records(), 6);
    assert_eq!(m.label, "before v4");
    assert!(m.automatic);
    assert_eq!(&encoded.bytes[..8], &MAGIC);
    let json = serde_json::to_value(&m).unwrap();
    for key in [
        "id",
        "label",
        "createdAt",
        "schemaVersion",
        "stores",
        "bytes",
        "sha256",
        "automatic",
        "database",
        "idbVersion",
        "formatVersion",
        "meta",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    assert_eq!(json["stores"][0]["schema"]["keyPath"], "id");
}

#[test]
fn sections_can_be_read_in_batches() {
    let encoded = small_file();
    let (manifest, sections) = store_sections(&encoded.bytes).unwrap();
    assert_eq!(manifest.stores.len(), sections.len());
    let mut reader = SectionReader::new(sections[2]);
    let mut all = Vec::new();
    loop {
        let batch = reader.next_batch(3).unwrap();
        if batch.is_empty() {
            break;
        }
        assert!(batch.len() <= 3);
        all.extend(batch);
    }
    assert_eq!(all, stores()[2].records);
}

#[test]
fn invalid_input_to_the_writer_is_refused() {
    let mut other = stores();
    other.swap(0, 1);
    assert_eq!(
        encode_backup(manifest(), other).unwrap_err().code(),
        "InvalidBackup"
    );
    let mut nan_key = stores();
    nan_key[1]
        .records
        .push((Value::number(f64::NAN), Value::Null));
    assert!(encode_backup(manifest(), nan_key).is_err());
    let mut m = manifest();
    m.created_at = f64::NAN;
    assert!(encode_backup(m, stores()).is_err());
}

#[test]
fn empty_wrong_magic_and_newer_files_are_refused() {
    assert_eq!(inspect(&[]), Err(BackupError::Empty));
    assert_eq!(inspect(b"PK\x03\x04hello"), Err(BackupError::BadMagic));
    assert_eq!(inspect(b"{\"a\":1}"), Err(BackupError::BadMagic));
    assert!(BackupError::BadMagic
        .to_string()
        .contains("not a Rewind backup file"));
    let mut newer = small_file().bytes;
    newer[8..12].copy_from_slice(&(NEWEST_FORMAT_VERSION + 1).to_le_bytes());
    let err = inspect(&newer).unwrap_err();
    assert_eq!(
        err,
        BackupError::UnsupportedFormat {
            found: NEWEST_FORMAT_VERSION + 1,
            supported: NEWEST_FORMAT_VERSION
        }
    );
    assert_eq!(err.code(), "UnsupportedFormat");
    assert!(err.to_string().contains("newer Rewind"));
    assert!(err.to_string().contains("Nothing was changed"));
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = small_file().bytes;
    for len in 0..bytes.len() {
        let err = inspect(&bytes[..len]).unwrap_err();
        assert!(decode_backup(&bytes[..len]).is_err());
        match len {
            0 => assert_eq!(err, BackupError::Empty),
            _ => assert!(
                matches!(err, BackupError::Truncated { .. }),
                "cut at {len}: {err:?}"
            ),
        }
        assert_eq!(err.code(), "CorruptBackup");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(inspect(&longer).is_err());
}

#[test]
fn every_single_bit_flip_is_an_error() {
    let bytes = small_file().bytes;
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut flipped = bytes.clone();
            flipped[i] ^= 1 << bit;
            let err = inspect(&flipped).expect_err("a flipped bit went unnoticed");
            assert!(decode_backup(&flipped).is_err());
            if i >= 16 {
                assert!(
                    matches!(
                        err,
                        BackupError::ChecksumMismatch { .. } | BackupError::Truncated { .. }
                    ),
                    "bit {bit} of byte {i}: {err:?}"
                );
            }
        }
    }
}

#[test]
fn a_tampered_store_with_a_fixed_up_file_checksum_is_caught() {
    let mut bytes = small_file().bytes;
    let n = bytes.len();
    // The last byte before the trailer belongs to the last store's section.
    bytes[n - 33] ^= 1;
    let bytes = reseal_trailer(bytes);
    assert_eq!(
        inspect(&bytes).unwrap_err(),
        BackupError::ChecksumMismatch {
            what: "store \"files\"".into()
        }
    );
}

#[test]
fn garbage_behind_valid_checksums_is_corrupt_not_a_panic() {
    use sha2::{Digest, Sha256};
    // A well-formed container whose one section is random bytes with correct checksums.
    let mut rng = SplitMix64::new(0x1234_5678_9abc_def0);
    for round in 0..300 {
        let section = rng.bytes((round % 60) + 2);
        let mut m = manifest();
        m.stores.truncate(1);
        m.stores[0].records = 1;
        m.stores[0].bytes = section.len() as u64;
        m.stores[0].sha256 = crate::migration::hex(&Sha256::digest(&section));
        let mut bytes = encode_header(&m).unwrap();
        bytes.extend_from_slice(&section);
        let digest = Sha256::digest(&bytes);
        bytes.extend_from_slice(&digest);
        if let Err(e) = inspect(&bytes) {
            assert_eq!(e.code(), "CorruptBackup", "{e:?}");
        }
    }
}

#[test]
fn errors_carry_codes_and_say_nothing_changed() {
    let errors = [
        (BackupError::Empty, "CorruptBackup"),
        (BackupError::Truncated { missing: 3 }, "CorruptBackup"),
        (BackupError::corrupt("x"), "CorruptBackup"),
        (
            BackupError::ChecksumMismatch {
                what: "the whole file".into(),
            },
            "ChecksumMismatch",
        ),
    ];
    for (e, code) in errors {
        assert_eq!(e.code(), code);
        assert!(e.to_string().contains("Nothing was changed"), "{e}");
    }
    let e = BackupError::UnsupportedValue {
        store: "notes".into(),
        key: "7".into(),
        type_name: "function".into(),
        path: ".callback".into(),
    };
    assert!(e.to_string().contains("\"notes\""));
    assert!(e.to_string().contains("record 7"));
    assert!(e.to_string().contains("function at .callback"));
}

#[test]
fn file_names_are_safe_and_dated_in_utc() {
    assert_eq!(
        backup_file_name("notes", 3, 1_795_713_536_000.0),
        "notes-v3-20261126T171856Z.rewind"
    );
    assert_eq!(utc_stamp(0.0), "19700101T000000Z");
    assert_eq!(utc_stamp(951_782_400_000.0), "20000229T000000Z");
    assert_eq!(utc_stamp(-1.0), "19691231T235959Z");
    assert_eq!(utc_stamp(f64::NAN), "19700101T000000Z");
    assert_eq!(
        backup_file_name("../my db/ä:*?", 0, 0.0),
        "_my_db_____-v0-19700101T000000Z.rewind"
    );
    assert_eq!(
        backup_file_name("...", 1, 0.0),
        "database-v1-19700101T000000Z.rewind"
    );
    assert!(backup_file_name(&"x".repeat(500), 1, 0.0).len() < 100);
}

/// Digests as another hasher would give them: one SHA-256 per range, no shortcuts.
fn one_shot_digests(data: &[u8], ranges: &[std::ops::Range<usize>]) -> Digests {
    use sha2::Digest as _;
    let mut d = Digests::new();
    for r in ranges {
        d.insert(r.clone(), sha2::Sha256::digest(&data[r.clone()]).into());
    }
    d
}

#[test]
fn a_file_written_in_steps_with_digests_from_elsewhere_is_the_same_file() {
    use format::{finish_backup, put_header, put_trailer, SectionSpan};
    use sha2::Digest as _;
    let mut body = Vec::new();
    let mut spans = Vec::new();
    for s in stores() {
        let start = body.len();
        for (i, (k, v)) in s.records.iter().enumerate() {
            format::encode_record(k, v, i as u64 + 1, &mut body).unwrap();
        }
        spans.push(SectionSpan {
            records: s.records.len() as u64,
            range: start..body.len(),
        });
    }
    let whole = finish_backup(manifest(), body.clone(), &spans).unwrap();
    assert_eq!(whole, small_file());

    let ranges: Vec<_> = spans.iter().map(|s| s.range.clone()).collect();
    let mut m = manifest();
    let mut file = body;
    let sections = one_shot_digests(&file, &ranges);
    put_header(&mut m, &mut file, &spans, &sections).unwrap();
    let body_digest: [u8; 32] = sha2::Sha256::digest(&file).into();
    put_trailer(&mut m, &mut file, body_digest);
    m.sha256 = crate::migration::hex(&sha2::Sha256::digest(&file));
    assert_eq!(file, whole.bytes);
    assert_eq!(m, whole.manifest);
}

#[test]
fn verifying_with_digests_from_elsewhere_agrees_with_verifying_here() {
    let file = small_file().bytes;
    let ranges = format::digest_ranges(&file);
    // The body before the trailer, the whole file, and one range per store.
    assert_eq!(ranges.len(), 2 + manifest().stores.len());
    let given = one_shot_digests(&file, &ranges);
    assert_eq!(
        format::verify_file_with(&file, &given).unwrap(),
        format::verify_file(&file).unwrap()
    );
    assert_eq!(
        inspect_with(&file, &given).unwrap(),
        inspect(&file).unwrap()
    );
    // No digests given: everything is hashed in place, with the same outcome.
    assert_eq!(
        format::verify_file_with(&file, &Digests::new()).unwrap(),
        format::verify_file(&file).unwrap()
    );
}

#[test]
fn a_digest_given_for_another_range_is_not_taken_for_this_one() {
    use sha2::Digest as _;
    let mut file = small_file().bytes;
    let ranges = format::digest_ranges(&file);
    let (body, whole, section) = (ranges[0].clone(), ranges[1].clone(), ranges[2].clone());
    // The undamaged file's digests: for the body and the whole file under their own ranges
    // (so they are taken), and the section's under a range one byte longer (so it is not).
    let mut given = one_shot_digests(&file, &[body, whole]);
    given.insert(
        section.start..section.end + 1,
        sha2::Sha256::digest(&file[section.clone()]).into(),
    );
    file[section.start] ^= 1;
    assert!(matches!(
        format::verify_file_with(&file, &given),
        Err(BackupError::ChecksumMismatch { what }) if what.starts_with("store")
    ));
}

#[test]
fn a_refused_file_asks_for_no_digests() {
    assert!(format::digest_ranges(b"").is_empty());
    assert!(format::digest_ranges(b"not a backup at all").is_empty());
    let file = small_file().bytes;
    assert!(format::digest_ranges(&file[..20]).is_empty());
}

/// The first fuzz finding: an array element named in text form ("2") past the array's length
/// was accepted by the reader although the writer refuses it. Both now refuse it, in either
/// form, and an element inside the length still reads in text form.
#[test]
fn an_array_element_past_its_length_is_refused_in_text_form_too() {
    // array, length 0, 1 prop: text key "2" → string "`"
    let finding = [0x1c, 0x00, 0x01, 0x01, 0x02, 0x32, 0x07, 0x02, 0x60];
    let err = decode_value(&finding).unwrap_err();
    assert!(
        err.to_string().contains("past its length"),
        "unexpected error: {err}"
    );
    // The same element in index form is refused as well.
    let index_form = [0x1c, 0x00, 0x01, 0x00, 0x02, 0x07, 0x02, 0x60];
    assert!(decode_value(&index_form).is_err());
    // Inside the length (3), the text form decodes and re-encodes to a value equal to it.
    let inside = [0x1c, 0x03, 0x01, 0x01, 0x02, 0x32, 0x07, 0x02, 0x60];
    let value = decode_value(&inside).unwrap();
    assert_eq!(round_trip(&value), value);
    // A text-form name that is not a canonical index ("02") is an ordinary property.
    let not_index = [0x1c, 0x00, 0x01, 0x01, 0x04, 0x30, 0x32, 0x07, 0x02, 0x60];
    let value = decode_value(&not_index).unwrap();
    assert_eq!(round_trip(&value), value);
}

fn skipped(store: &str, key: &Value) -> SkippedRecord {
    let mut key_bytes = Vec::new();
    encode_value(key, &mut key_bytes).unwrap();
    SkippedRecord {
        store: store.into(),
        key: format!("{key:?}"),
        key_bytes: crate::migration::hex(&key_bytes),
        type_name: "CryptoKey".into(),
        path: ".secret".into(),
    }
}

/// The file's manifest replaced by `edit(manifest)`, with every checksum made right again, so
/// that only the manifest's own checks can refuse it.
fn with_manifest(
    file: &EncodedBackup,
    version: u32,
    edit: impl FnOnce(&mut serde_json::Value),
) -> Vec<u8> {
    let data = &file.bytes;
    let len = u32::from_le_bytes(data[12..16].try_into().unwrap()) as usize;
    let mut json: serde_json::Value = serde_json::from_slice(&data[16..16 + len]).unwrap();
    json["formatVersion"] = version.into();
    edit(&mut json);
    let json = serde_json::to_vec(&json).unwrap();
    let mut out = data[..8].to_vec();
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(&data[16 + len..data.len() - 32]);
    let digest = sha2::Sha256::digest(&out);
    out.extend_from_slice(&digest);
    out
}

#[test]
fn skipped_records_are_listed_and_checked() {
    let mut m = manifest();
    let key = Value::number(7.0);
    m.skipped = vec![skipped("notes", &key)];
    let file = encode_backup(m, stores()).unwrap();
    let read = inspect(&file.bytes).unwrap();
    assert_eq!(read.skipped, file.manifest.skipped);
    assert_eq!(read.skipped[0].decoded_key().unwrap(), key);
    // As JSON: the names the JavaScript API shows.
    let json = serde_json::to_value(&read.skipped[0]).unwrap();
    assert_eq!(json["type"], "CryptoKey");
    assert_eq!(json["keyBytes"], read.skipped[0].key_bytes);

    // A store the backup does not hold, a key that is no key, or bytes that are no value.
    let refused = |edit: &dyn Fn(&mut serde_json::Value), why: &str| {
        let bad = with_manifest(&file, FORMAT_VERSION, |j| edit(j));
        match inspect(&bad) {
            Err(BackupError::Corrupt { reason }) => assert!(reason.contains(why), "{reason}"),
            other => panic!("{why}: {other:?}"),
        }
    };
    refused(
        &|j| j["skipped"][0]["store"] = "ghosts".into(),
        "does not hold",
    );
    let mut nan = Vec::new();
    encode_value(&Value::number(f64::NAN), &mut nan).unwrap();
    let nan = crate::migration::hex(&nan);
    refused(
        &|j| j["skipped"][0]["keyBytes"] = nan.clone().into(),
        "cannot be read",
    );
    refused(
        &|j| j["skipped"][0]["keyBytes"] = "zz".into(),
        "cannot be read",
    );
    refused(
        &|j| j["skipped"][0]["keyBytes"] = "04".into(),
        "cannot be read",
    );
    // Format 1 predates skipped records: a file of it that lists some is not one Rewind wrote.
    let old = with_manifest(&file, 1, |_| {});
    match inspect(&old) {
        Err(BackupError::Corrupt { reason }) => assert!(reason.contains("format 1"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // Without skipped records, the manifest is written as before.
    let plain = small_file();
    let len = u32::from_le_bytes(plain.bytes[12..16].try_into().unwrap()) as usize;
    let text = std::str::from_utf8(&plain.bytes[16..16 + len]).unwrap();
    assert!(!text.contains("skipped"), "{text}");
}
