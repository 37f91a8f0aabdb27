//! Property tests of the backup format over random values, schemas and records (a small
//! deterministic PRNG instead of a property-testing crate, so every run tries the same cases
//! and a failure names its seed):
//! - every value kind round-trips through the codec bit for bit, and so does every backup;
//! - `inspect` agrees with the manifest `encode_backup` returned and `decode_backup` read;
//! - reading a section in batches of any size gives the same records;
//! - each kind of damage gives its own `BackupError`.

use rewind::backup::{
    decode_backup, decode_value, encode_backup, encode_value, inspect, store_sections, BackupError,
    SectionReader,
};
use sha2::{Digest, Sha256};

use rewind::backup::{
    BackupManifest, ColorSpace, ErrorKind, ErrorValue, Matrix, Num, PixelFormat, StoreManifest,
    StoreRecords, Text, Value, ViewKind, FORMAT_VERSION, NEWEST_FORMAT_VERSION,
};
use rewind::Checksum;
use rewind::{AppliedMigration, IndexSchema, KeyPath, RewindMeta, StoreSchema};
use rewind_test_support::{hex, reseal_trailer, SplitMix64};
use std::collections::BTreeSet;

const CHARS: &[char] = &[
    'a',
    'b',
    'z',
    'A',
    '0',
    '9',
    ' ',
    '.',
    '_',
    '-',
    '"',
    '\\',
    '/',
    '\n',
    '\0',
    '\u{7f}',
    'é',
    'ß',
    '✓',
    '中',
    '\u{FEFF}',
    '\u{FFFF}',
    '😀',
    '\u{10FFFF}',
];

/// A well-formed string (sometimes empty, sometimes all ASCII).
pub fn string(rng: &mut SplitMix64, max: usize) -> String {
    let n = rng.usize(max + 1);
    (0..n).map(|_| *rng.pick(CHARS)).collect()
}

/// Any JavaScript string: well-formed, or with lone surrogates among other code units.
pub fn text(rng: &mut SplitMix64, max: usize) -> Text {
    if rng.chance(80) {
        return Text::from(string(rng, max));
    }
    let n = rng.usize(max + 1).max(1);
    let mut units: Vec<u16> = (0..n)
        .map(|_| match rng.below(4) {
            0 => 0xD800 + rng.below(0x400) as u16,
            1 => 0xDC00 + rng.below(0x400) as u16,
            _ => rng.below(0x10000) as u16,
        })
        .collect();
    // At least one lone surrogate at a random place.
    let at = rng.usize(units.len());
    units[at] = if rng.chance(50) { 0xD800 } else { 0xDFFF };
    if at + 1 < units.len() && units[at] == 0xD800 {
        units[at + 1] = b'x' as u16;
    }
    Text::from_utf16(units)
}

/// Numbers that stress the encoding: both integer forms, -0, NaN payloads, infinities,
/// subnormals, the 2^53 boundary, random bit patterns.
pub fn number(rng: &mut SplitMix64) -> f64 {
    const SPECIAL: &[f64] = &[
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        9_007_199_254_740_992.0,
        -9_007_199_254_740_992.0,
        9_007_199_254_740_994.0,
        9_007_199_254_740_991.0,
        4_294_967_295.0,
        1e300,
        5e-324,
    ];
    match rng.below(6) {
        0 => *rng.pick(SPECIAL),
        1 => f64::from_bits(0x7FF0_0000_0000_0000 | rng.below(1 << 52).max(1)),
        2 => f64::from_bits(rng.next_u64()),
        3 => (rng.below(2001) as f64) - 1000.0,
        4 => (rng.next_u64() >> 11) as f64 * if rng.chance(50) { -1.0 } else { 1.0 },
        _ => (rng.next_u64() as f64) / 1e6,
    }
}

fn bigint(rng: &mut SplitMix64) -> String {
    if rng.chance(10) {
        return "0".into();
    }
    let n = rng.usize(40) + 1;
    let mut s: String = if rng.chance(50) {
        "-".into()
    } else {
        String::new()
    };
    s.push(char::from(b'1' + rng.below(9) as u8));
    for _ in 1..n {
        s.push(char::from(b'0' + rng.below(10) as u8));
    }
    s
}

fn mime(rng: &mut SplitMix64) -> String {
    const TYPES: &[&str] = &[
        "",
        "text/plain",
        "image/png",
        "application/octet-stream",
        "text/html;charset=utf-8",
        "x/~!@# ",
    ];
    rng.pick(TYPES).to_string()
}

/// The array index a property name stands for (canonical decimal, at most 2^32 - 2).
fn canonical_index(key: &Text) -> Option<u64> {
    let s = key.as_str()?;
    let canonical = !s.is_empty() && s.len() <= 10 && (s == "0" || !s.starts_with('0'));
    if !canonical || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u64>().ok().filter(|&n| n <= 4_294_967_294)
}

/// Numbers objects as the writer does (pre-order), so references can point back.
pub struct ValueGen {
    pub next_id: u32,
    /// Object numbers of the ArrayBuffers made so far, with their lengths.
    pub buffers: Vec<(u32, u64)>,
    /// Those of them that are resizable.
    pub resizable: Vec<(u32, u64)>,
    pub max_depth: usize,
}

impl ValueGen {
    pub fn new(max_depth: usize) -> ValueGen {
        ValueGen {
            next_id: 0,
            buffers: Vec::new(),
            resizable: Vec::new(),
            max_depth,
        }
    }

    fn id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id - 1
    }

    fn buffer(&mut self, rng: &mut SplitMix64) -> (Value, u64) {
        let id = self.id();
        let bytes = rng.bytes_up_to(24);
        let len = bytes.len() as u64;
        self.buffers.push((id, len));
        (Value::ArrayBuffer(bytes), len)
    }

    fn resizable_buffer(&mut self, rng: &mut SplitMix64) -> (Value, u64) {
        let id = self.id();
        let bytes = rng.bytes_up_to(24);
        let len = bytes.len() as u64;
        self.buffers.push((id, len));
        self.resizable.push((id, len));
        let max_byte_length = len + rng.below(3) * rng.below(100);
        (
            Value::ResizableArrayBuffer {
                bytes,
                max_byte_length,
            },
            len,
        )
    }

    fn tracking_view(&mut self, rng: &mut SplitMix64) -> Value {
        self.id();
        let kind = *rng.pick(&ViewKind::ALL);
        let (buffer, len) = if !self.resizable.is_empty() && rng.chance(50) {
            let (id, len) = *rng.pick(&self.resizable);
            (Value::Ref(id), len)
        } else {
            self.resizable_buffer(rng)
        };
        let size = kind.element_size();
        Value::TrackingView {
            kind,
            buffer: Box::new(buffer),
            byte_offset: rng.below(len / size + 1) * size,
        }
    }

    /// One of the platform objects (a FileList's files are not objects of their own).
    fn platform(&mut self, rng: &mut SplitMix64) -> Value {
        self.id();
        let coords = |rng: &mut SplitMix64| [0; 4].map(|_| Num(number(rng)));
        match rng.below(8) {
            0 => Value::DomPoint {
                read_only: rng.chance(50),
                coords: coords(rng),
            },
            1 => Value::DomRect {
                read_only: rng.chance(50),
                coords: coords(rng),
            },
            2 => Value::DomQuad([0; 4].map(|_| coords(rng))),
            3 => Value::DomMatrix {
                read_only: rng.chance(50),
                elements: if rng.chance(50) {
                    Matrix::TwoD([0; 6].map(|_| Num(number(rng))))
                } else {
                    Matrix::ThreeD([0; 16].map(|_| Num(number(rng))))
                },
            },
            4 => {
                let (width, height) = (1 + rng.below(3) as u32, 1 + rng.below(3) as u32);
                let pixel_format = *rng.pick(&PixelFormat::ALL);
                let len = u64::from(width * height) * pixel_format.pixel_size();
                Value::ImageData {
                    width,
                    height,
                    color_space: *rng.pick(&ColorSpace::ALL),
                    pixel_format,
                    data: (0..len).map(|_| rng.next_u64() as u8).collect(),
                }
            }
            5 => {
                let (width, height) = (1 + rng.below(3) as u32, 1 + rng.below(3) as u32);
                Value::ImageBitmap {
                    width,
                    height,
                    pixels: (0..width * height * 4)
                        .map(|_| rng.next_u64() as u8)
                        .collect(),
                }
            }
            6 => Value::FileList(
                (0..rng.usize(3))
                    .map(|_| Value::File {
                        name: text(rng, 10),
                        mime: mime(rng),
                        last_modified: rng.next_u64() as i64 >> rng.below(64),
                        bytes: rng.bytes_up_to(20),
                    })
                    .collect(),
            ),
            _ => Value::DomException {
                name: text(rng, 12),
                message: text(rng, 20),
            },
        }
    }

    fn view(&mut self, rng: &mut SplitMix64, depth: usize) -> Value {
        self.id();
        let kind = *rng.pick(&ViewKind::ALL);
        let (buffer, len) = if !self.buffers.is_empty() && rng.chance(50) {
            let (id, len) = *rng.pick(&self.buffers);
            (Value::Ref(id), len)
        } else {
            self.buffer(rng)
        };
        let _ = depth;
        let size = kind.element_size();
        let max_elems = len / size;
        let start = rng.below(max_elems + 1);
        let length = rng.below(max_elems - start + 1);
        Value::View {
            kind,
            buffer: Box::new(buffer),
            byte_offset: start * size,
            length,
        }
    }

    fn props(
        &mut self,
        rng: &mut SplitMix64,
        depth: usize,
        array_len: Option<u32>,
    ) -> Vec<(Text, Value)> {
        let n = rng.usize(5);
        let mut seen = BTreeSet::new();
        let mut props = Vec::new();
        for _ in 0..n {
            let key = match array_len {
                Some(len) if len > 0 && rng.chance(70) => {
                    Text::from(rng.below(u64::from(len)).to_string())
                }
                _ => match rng.below(5) {
                    0 => Text::from(*rng.pick(&[
                        "__proto__",
                        "length",
                        "01",
                        "-1",
                        "4294967295",
                        "1e3",
                        "",
                    ])),
                    1 if array_len.is_none() => Text::from(rng.below(100).to_string()),
                    2 => text(rng, 6),
                    _ => Text::from(string(rng, 8)),
                },
            };
            // Index keys of an array must stay below its length (as in JavaScript, where the
            // length grows to cover them); others are free.
            let past_length = match (array_len, canonical_index(&key)) {
                (Some(len), Some(i)) => i >= u64::from(len),
                _ => false,
            };
            if past_length || !seen.insert(key.to_utf16()) {
                continue;
            }
            let v = self.value(rng, depth + 1);
            props.push((key, v));
        }
        props
    }

    /// One random value of any kind.
    pub fn value(&mut self, rng: &mut SplitMix64, depth: usize) -> Value {
        let leaf_only = depth >= self.max_depth;
        let kinds = if leaf_only { 8 } else { 27 };
        match rng.below(kinds) {
            0 => Value::Undefined,
            1 => Value::Null,
            2 => Value::Bool(rng.chance(50)),
            3 => Value::number(number(rng)),
            4 => Value::BigInt(bigint(rng)),
            5 => Value::String(text(rng, 12)),
            6 if self.next_id > 0 => Value::Ref(rng.below(u64::from(self.next_id)) as u32),
            6 | 7 => Value::number(number(rng)),
            8 => {
                self.id();
                Value::Date(Num(number(rng)))
            }
            9 => {
                self.id();
                let flags: String = "dgimsuvy".chars().filter(|_| rng.chance(30)).collect();
                Value::RegExp {
                    source: text(rng, 10),
                    flags,
                }
            }
            10 => {
                self.id();
                Value::BoxedString(text(rng, 8))
            }
            11 => {
                self.id();
                Value::BoxedNumber(Num(number(rng)))
            }
            12 => {
                self.id();
                Value::BoxedBool(rng.chance(50))
            }
            13 => {
                self.id();
                Value::BoxedBigInt(bigint(rng))
            }
            14 => {
                self.id();
                let kind = *rng.pick(&ErrorKind::ALL);
                let message = rng.chance(70).then(|| text(rng, 10));
                let stack = rng.chance(40).then(|| text(rng, 20));
                let cause = rng.chance(40).then(|| Box::new(self.value(rng, depth + 1)));
                Value::Error(ErrorValue {
                    kind,
                    message,
                    stack,
                    cause,
                })
            }
            15 => self.buffer(rng).0,
            16 => self.view(rng, depth),
            17 => {
                self.id();
                let n = rng.usize(4);
                let entries = (0..n)
                    .map(|_| {
                        let k = self.value(rng, depth + 1);
                        let v = self.value(rng, depth + 1);
                        (k, v)
                    })
                    .collect();
                Value::Map(entries)
            }
            18 => {
                self.id();
                let n = rng.usize(4);
                Value::Set((0..n).map(|_| self.value(rng, depth + 1)).collect())
            }
            19 | 20 => {
                self.id();
                let length = match rng.below(4) {
                    0 => 0,
                    1 => u32::MAX,
                    _ => rng.below(8) as u32,
                };
                let props = self.props(rng, depth, Some(length));
                Value::Array { length, props }
            }
            21 | 22 => {
                self.id();
                Value::Object(self.props(rng, depth, None))
            }
            24 => {
                if rng.chance(50) {
                    self.tracking_view(rng)
                } else {
                    self.resizable_buffer(rng).0
                }
            }
            25 => self.platform(rng),
            _ => {
                self.id();
                if rng.chance(50) {
                    Value::Blob {
                        mime: mime(rng),
                        bytes: rng.bytes_up_to(40),
                    }
                } else {
                    Value::File {
                        name: text(rng, 10),
                        mime: mime(rng),
                        last_modified: rng.next_u64() as i64 >> rng.below(64),
                        bytes: rng.bytes_up_to(40),
                    }
                }
            }
        }
    }
}

/// A random top-level value (its own object numbering).
pub fn value(rng: &mut SplitMix64, max_depth: usize) -> Value {
    ValueGen::new(max_depth).value(rng, 0)
}

/// A random valid IndexedDB key.
pub fn key(rng: &mut SplitMix64, depth: usize) -> Value {
    match rng.below(if depth >= 3 { 5 } else { 6 }) {
        0 => {
            let mut n = number(rng);
            if n.is_nan() {
                n = 0.0;
            }
            Value::number(n)
        }
        1 => Value::String(text(rng, 10)),
        2 => {
            let mut n = number(rng);
            if n.is_nan() {
                n = -1.0;
            }
            Value::Date(Num(n))
        }
        3 => Value::ArrayBuffer(rng.bytes_up_to(12)),
        4 => {
            let bytes = rng.bytes_up_to(16);
            let len = bytes.len() as u64;
            Value::View {
                kind: ViewKind::Uint8,
                buffer: Box::new(Value::ArrayBuffer(bytes)),
                byte_offset: 0,
                length: len,
            }
        }
        _ => {
            let n = rng.usize(4);
            Value::Array {
                length: n as u32,
                props: (0..n)
                    .map(|i| (Text::from(i.to_string()), key(rng, depth + 1)))
                    .collect(),
            }
        }
    }
}

pub fn key_path(rng: &mut SplitMix64) -> KeyPath {
    if rng.chance(70) {
        KeyPath::Single(
            rng.pick(&["", "id", "a.b.c", "meta.title", "ü"])
                .to_string(),
        )
    } else {
        KeyPath::Compound((0..rng.usize(4)).map(|_| string(rng, 6)).collect())
    }
}

/// A random store schema named `name`.
pub fn store_schema(rng: &mut SplitMix64, name: String) -> StoreSchema {
    let primary = rng.chance(60).then(|| key_path(rng));
    let mut store = StoreSchema::new(name, primary, rng.chance(30));
    for _ in 0..rng.usize(4) {
        let index = IndexSchema::new(string(rng, 8), key_path(rng))
            .unique(rng.chance(50))
            .multi_entry(rng.chance(50));
        store = store.with_index(index);
    }
    store
}

/// A random manifest with `stores` (their counts still zero) and the records to go with it.
pub fn backup(
    rng: &mut SplitMix64,
    max_stores: usize,
    max_records: usize,
) -> (BackupManifest, Vec<StoreRecords>) {
    let mut names = BTreeSet::new();
    let mut manifest_stores = Vec::new();
    let mut stores = Vec::new();
    for i in 0..rng.usize(max_stores + 1) {
        let mut name = string(rng, 8);
        if !names.insert(name.clone()) {
            name = format!("store{i}");
            names.insert(name.clone());
        }
        manifest_stores.push(StoreManifest::new(store_schema(rng, name.clone())));
        let n = rng.usize(max_records + 1);
        let records = (0..n).map(|_| (key(rng, 0), value(rng, 4))).collect();
        stores.push(StoreRecords { name, records });
    }
    let manifest = BackupManifest {
        format_version: FORMAT_VERSION,
        id: string(rng, 20),
        database: string(rng, 12),
        schema_version: rng.next_u64() as u32,
        idb_version: rng.next_u64() >> rng.below(64),
        created_at: time(rng),
        label: string(rng, 16),
        automatic: rng.chance(50),
        meta: RewindMeta {
            schema_version: rng.below(10) as u32,
            applied: (0..rng.usize(4))
                .map(|v| AppliedMigration {
                    version: v as u32 + 1,
                    name: string(rng, 10),
                    checksum: Checksum(format!("{:016x}", rng.next_u64())),
                    applied_at: time(rng),
                    definition: None,
                })
                .collect(),
        },
        stores: manifest_stores,
        skipped: Vec::new(),
        interrupted: None,
        in_place: false,
        bytes: 0,
        sha256: String::new(),
    };
    (manifest, stores)
}

/// A finite time: whole milliseconds (what `Date.now()` gives), or fractional ones.
pub fn time(rng: &mut SplitMix64) -> f64 {
    match rng.below(4) {
        0 => 0.0,
        1 => (rng.below(1 << 45)) as f64,
        2 => rng.below(1 << 45) as f64 + 0.5,
        _ => (rng.below(1 << 53) as f64) / 1000.0,
    }
}

const SEEDS: u64 = 300;

#[test]
fn random_values_round_trip_bit_exactly() {
    let mut rng = SplitMix64::new(0x5EED_0001);
    let mut bytes = Vec::new();
    for case in 0..3000 {
        let v = value(&mut rng, 5);
        bytes.clear();
        encode_value(&v, &mut bytes).unwrap_or_else(|e| panic!("case {case}: {v:?}: {e}"));
        let back = decode_value(&bytes).unwrap_or_else(|e| panic!("case {case}: {v:?}: {e}"));
        assert_eq!(back, v, "case {case}");
        // One value encodes to one fixed byte string.
        let mut again = Vec::new();
        encode_value(&back, &mut again).unwrap();
        assert_eq!(again, bytes, "case {case}: encoding is not deterministic");
    }
}

#[test]
fn random_keys_are_valid_and_round_trip() {
    let mut rng = SplitMix64::new(0x5EED_0002);
    for case in 0..2000 {
        let k = key(&mut rng, 0);
        assert!(k.is_valid_key(), "case {case}: {k:?}");
        let mut bytes = Vec::new();
        encode_value(&k, &mut bytes).unwrap();
        assert_eq!(decode_value(&bytes).unwrap(), k, "case {case}");
    }
}

#[test]
fn random_backups_round_trip_and_inspect_agrees() {
    for seed in 0..SEEDS {
        let mut rng = SplitMix64::new(seed);
        let (manifest, stores) = backup(&mut rng, 4, 6);
        let encoded = encode_backup(manifest.clone(), stores.clone())
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let m = &encoded.manifest;
        assert_eq!(m.bytes, encoded.bytes.len() as u64, "seed {seed}");
        assert_eq!(
            m.sha256,
            hex(&Sha256::digest(&encoded.bytes)),
            "seed {seed}"
        );
        for (entry, store) in m.stores.iter().zip(&stores) {
            assert_eq!(entry.records, store.records.len() as u64, "seed {seed}");
            assert_eq!(entry.schema, manifest.store(&store.name).unwrap().schema);
        }
        // What was given comes back, apart from the counts the writer fills in.
        let mut expected = m.clone();
        expected.stores = manifest.stores.clone();
        expected.bytes = 0;
        expected.sha256 = String::new();
        for (e, s) in expected.stores.iter_mut().zip(&m.stores) {
            e.records = s.records;
            e.bytes = s.bytes;
            e.sha256 = s.sha256.clone();
        }
        let mut given = manifest.clone();
        given.stores = expected.stores.clone();
        assert_eq!(
            given, expected,
            "seed {seed}: the writer changed the manifest"
        );

        let decoded = decode_backup(&encoded.bytes).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(&decoded.manifest, m, "seed {seed}");
        assert_eq!(decoded.stores, stores, "seed {seed}");
        let inspected = inspect(&encoded.bytes).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(&inspected, m, "seed {seed}");

        // Sections read in batches of any size give the same records.
        let (sm, sections) = store_sections(&encoded.bytes).unwrap();
        assert_eq!(&sm, m);
        for (section, store) in sections.iter().zip(&stores) {
            let mut reader = SectionReader::new(section);
            let batch = rng.usize(4) + 1;
            let mut records = Vec::new();
            while !reader.is_done() {
                let got = reader.next_batch(batch).unwrap();
                assert!(!got.is_empty() && got.len() <= batch);
                records.extend(got);
            }
            assert_eq!(records, store.records, "seed {seed}");
        }
    }
}

/// Rewrites the manifest (and its length) and reseals.
fn with_manifest(file: &[u8], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let len = u32::from_le_bytes(file[12..16].try_into().unwrap()) as usize;
    let mut json: serde_json::Value = serde_json::from_slice(&file[16..16 + len]).unwrap();
    edit(&mut json);
    let new = serde_json::to_vec(&json).unwrap();
    let mut out = file[..12].to_vec();
    out.extend_from_slice(&(new.len() as u32).to_le_bytes());
    out.extend_from_slice(&new);
    out.extend_from_slice(&file[16 + len..]);
    reseal_trailer(out)
}

fn corrupt(r: Result<impl std::fmt::Debug, BackupError>) -> String {
    match r {
        Err(BackupError::Corrupt { reason }) => reason,
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn each_kind_of_damage_gives_its_error() {
    for seed in 0..SEEDS / 3 {
        let mut rng = SplitMix64::new(1_000 + seed);
        let (manifest, stores) = backup(&mut rng, 3, 4);
        let file = encode_backup(manifest, stores).unwrap().bytes;
        let manifest_len = u32::from_le_bytes(file[12..16].try_into().unwrap()) as usize;
        let ctx = format!("seed {seed}");

        assert_eq!(inspect(&[]), Err(BackupError::Empty), "{ctx}");
        let mut bad = file.clone();
        bad[rng.usize(8)] ^= 1 << rng.below(8);
        assert_eq!(inspect(&bad), Err(BackupError::BadMagic), "{ctx}");
        assert_eq!(
            inspect(b"{\"formatVersion\":1}"),
            Err(BackupError::BadMagic),
            "{ctx}"
        );

        let mut newer = file.clone();
        let version = NEWEST_FORMAT_VERSION + 1 + rng.below(1000) as u32;
        newer[8..12].copy_from_slice(&version.to_le_bytes());
        assert_eq!(
            inspect(&newer),
            Err(BackupError::UnsupportedFormat {
                found: version,
                supported: NEWEST_FORMAT_VERSION
            }),
            "{ctx}"
        );
        let mut zero = file.clone();
        zero[8..12].copy_from_slice(&0u32.to_le_bytes());
        corrupt(inspect(&zero));

        // Cut short anywhere: Truncated, counting the missing bytes once the manifest is there.
        for _ in 0..20 {
            let cut = 1 + rng.usize(file.len() - 1);
            match inspect(&file[..cut]) {
                Err(BackupError::Truncated { missing }) => {
                    // Exact counts: `truncated_files_count_every_missing_byte`.
                    assert!(missing > 0, "{ctx}, cut at {cut}");
                }
                other => panic!("{ctx}, cut at {cut}: {other:?}"),
            }
        }
        // One bit changed after the magic: the file's checksum.
        let mut flipped = file.clone();
        let at = 8 + rng.usize(file.len() - 8);
        flipped[at] ^= 1 << rng.below(8);
        let got = inspect(&flipped);
        assert!(
            matches!(
                &got,
                Err(BackupError::ChecksumMismatch { what }) if what == "the whole file"
            ) || matches!(got, Err(BackupError::UnsupportedFormat { .. }))
                || matches!(got, Err(BackupError::Truncated { .. }))
                || matches!(&got, Err(BackupError::Corrupt { reason }) if reason.contains("format version is 0")),
            "{ctx}, bit at {at}: {got:?}"
        );
        // A store's bytes changed and the file resealed: that store's checksum.
        let body_start = 16 + manifest_len;
        if file.len() - 32 > body_start {
            let mut tampered = file.clone();
            let at = body_start + rng.usize(file.len() - 32 - body_start);
            tampered[at] ^= 1 << rng.below(8);
            match inspect(&reseal_trailer(tampered)) {
                Err(BackupError::ChecksumMismatch { what }) => {
                    assert!(what.starts_with("store "), "{ctx}: {what}")
                }
                other => panic!("{ctx}: {other:?}"),
            }
        }
        // Manifest problems behind a valid file checksum: Corrupt.
        corrupt(inspect(&with_manifest(&file, |m| {
            m["formatVersion"] = 7.into()
        })));
        corrupt(inspect(&with_manifest(&file, |m| m["stores"] = 5.into())));
        corrupt(inspect(&with_manifest(&file, |m| {
            m.as_object_mut().unwrap().remove("database");
        })));
        let mut json_file = file[..16].to_vec();
        json_file.extend_from_slice(b"not json");
        json_file[12..16].copy_from_slice(&8u32.to_le_bytes());
        json_file.extend_from_slice(&[0; 32]);
        corrupt(inspect(&reseal_trailer(json_file)));
        if let Some(first) = encode_backup_names(&file).first().cloned() {
            // The same store twice (sizes kept consistent by listing an empty copy).
            let dup = with_manifest(&file, |m| {
                let stores = m["stores"].as_array_mut().unwrap();
                let mut copy = stores[0].clone();
                copy["bytes"] = 0.into();
                copy["records"] = 0.into();
                copy["sha256"] = hex(&Sha256::digest([])).into();
                stores.push(copy);
            });
            let reason = corrupt(inspect(&dup));
            assert!(reason.contains(&format!("{first:?}")), "{ctx}: {reason}");
            // A record count that does not match the section.
            let more = with_manifest(&file, |m| {
                let n = m["stores"][0]["records"].as_u64().unwrap();
                m["stores"][0]["records"] = (n + 1).into();
            });
            corrupt(inspect(&more));
        }
        // A size the file does not have.
        let longer = {
            let mut f = file[..file.len() - 32].to_vec();
            f.push(0);
            f.extend_from_slice(&[0; 32]);
            reseal_trailer(f)
        };
        corrupt(inspect(&longer));
    }
}

fn encode_backup_names(file: &[u8]) -> Vec<String> {
    inspect(file)
        .unwrap()
        .stores
        .into_iter()
        .map(|s| s.schema.name)
        .collect()
}

#[test]
fn values_nested_too_deeply_are_too_deep() {
    use rewind::backup::{Value, MAX_DEPTH};
    let mut rng = SplitMix64::new(7);
    for _ in 0..20 {
        let depth = MAX_DEPTH + 1 + rng.usize(50);
        // Build the encoding directly: `depth` nested sets, each holding the next.
        let mut bytes = [0x1B, 1].repeat(depth);
        bytes.push(0x00);
        assert_eq!(
            decode_value(&bytes),
            Err(BackupError::TooDeep { limit: MAX_DEPTH })
        );
        let mut v = Value::Null;
        for _ in 0..depth {
            v = Value::Set(vec![v]);
        }
        let mut out = Vec::new();
        assert_eq!(
            encode_value(&v, &mut out),
            Err(BackupError::TooDeep { limit: MAX_DEPTH })
        );
    }
}

/// Once the manifest can be read, `Truncated` says how many bytes the file lacks: the file's
/// length from the manifest minus what is there.
/// (A file cut within the 32 bytes after its manifest once counted only up to the trailer;
/// `verify` now checks the sizes the manifest lists first.)
#[test]
fn truncated_files_count_every_missing_byte() {
    let mut wrong = Vec::new();
    for seed in 0..SEEDS / 3 {
        let mut rng = SplitMix64::new(1_000 + seed);
        let (manifest, stores) = backup(&mut rng, 3, 4);
        let file = encode_backup(manifest, stores).unwrap().bytes;
        let manifest_len = u32::from_le_bytes(file[12..16].try_into().unwrap()) as usize;
        for cut in 16 + manifest_len..file.len() {
            match inspect(&file[..cut]) {
                Err(BackupError::Truncated { missing }) if missing == (file.len() - cut) as u64 => {
                }
                other => wrong.push(format!(
                    "seed {seed}: {} bytes cut to {cut}: {other:?}, expected {} missing",
                    file.len(),
                    file.len() - cut
                )),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} truncated files report the wrong number of missing bytes, e.g.\n{}",
        wrong.len(),
        wrong[..wrong.len().min(5)].join("\n")
    );
}
