//! IndexedDB's order of keys, written once: numbers before dates before strings before binary
//! values before arrays; numbers and dates by value, strings by UTF-16 code units, binary
//! values byte by byte, arrays item by item (a shorter prefix first). `changeKey` orders JSON
//! keys by it (`rekey.rs`); a restore's diff walks a backup's keys and the live ones by it.

use crate::backup::Value;
use std::cmp::Ordering;

/// A key seen the way IndexedDB compares it.
#[derive(Debug, Clone)]
pub enum KeyRef<'a> {
    Number(f64),
    Date(f64),
    String(Units<'a>),
    Binary(&'a [u8]),
    Array(Vec<KeyRef<'a>>),
}

/// A string key's UTF-16 code units, borrowed as the string holds them: compared unit by unit
/// as they are iterated, so that a comparison allocates nothing.
#[derive(Debug, Clone, Copy)]
pub enum Units<'a> {
    /// A well-formed string (its UTF-16 is made while comparing).
    Str(&'a str),
    /// Ill-formed UTF-16 (a lone surrogate somewhere).
    Wide(&'a [u16]),
}

impl Ord for Units<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Units::Str(a), Units::Str(b)) => a.encode_utf16().cmp(b.encode_utf16()),
            (Units::Str(a), Units::Wide(b)) => a.encode_utf16().cmp(b.iter().copied()),
            (Units::Wide(a), Units::Str(b)) => a.iter().copied().cmp(b.encode_utf16()),
            (Units::Wide(a), Units::Wide(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Units<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Units<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Units<'_> {}

impl KeyRef<'_> {
    fn rank(&self) -> u8 {
        match self {
            KeyRef::Number(_) => 0,
            KeyRef::Date(_) => 1,
            KeyRef::String(_) => 2,
            KeyRef::Binary(_) => 3,
            KeyRef::Array(_) => 4,
        }
    }

    /// `value` seen as a key, or `None` when it is not a valid IndexedDB key.
    pub fn of(value: &Value) -> Option<KeyRef<'_>> {
        Some(match value {
            Value::Number(n) if !n.0.is_nan() => KeyRef::Number(n.0),
            Value::Date(n) if !n.0.is_nan() => KeyRef::Date(n.0),
            Value::String(t) => KeyRef::String(match (t.as_str(), t.ill_formed_units()) {
                (Some(s), _) => Units::Str(s),
                (None, Some(units)) => Units::Wide(units),
                (None, None) => return None,
            }),
            Value::ArrayBuffer(bytes) => KeyRef::Binary(bytes),
            Value::View {
                kind,
                buffer,
                byte_offset,
                length,
            } => match &**buffer {
                Value::ArrayBuffer(bytes) => {
                    let start = usize::try_from(*byte_offset).ok()?;
                    let len = usize::try_from(length.checked_mul(kind.element_size())?).ok()?;
                    KeyRef::Binary(bytes.get(start..start.checked_add(len)?)?)
                }
                _ => return None,
            },
            Value::Array { length, props } if props.len() == *length as usize => KeyRef::Array(
                props
                    .iter()
                    .map(|(_, v)| KeyRef::of(v))
                    .collect::<Option<_>>()?,
            ),
            _ => return None,
        })
    }
}

impl Ord for KeyRef<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (KeyRef::Number(a), KeyRef::Number(b)) | (KeyRef::Date(a), KeyRef::Date(b)) => {
                a.partial_cmp(b).unwrap_or(Ordering::Equal)
            }
            (KeyRef::String(a), KeyRef::String(b)) => a.cmp(b),
            (KeyRef::Binary(a), KeyRef::Binary(b)) => a.cmp(b),
            (KeyRef::Array(a), KeyRef::Array(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for KeyRef<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for KeyRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for KeyRef<'_> {}

/// How two keys (backup values) compare in IndexedDB's order; `None` when either is not a key.
pub fn compare_keys(a: &Value, b: &Value) -> Option<Ordering> {
    Some(KeyRef::of(a)?.cmp(&KeyRef::of(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::{Num, Text, ViewKind};

    fn array(items: Vec<Value>) -> Value {
        Value::Array {
            length: items.len() as u32,
            props: items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Text::from_utf16(i.to_string().encode_utf16().collect()), v))
                .collect(),
        }
    }

    #[test]
    fn every_kind_of_key_orders_as_indexeddb_orders_it() {
        let ascending = [
            Value::number(-1.0),
            Value::number(2.0),
            Value::number(10.0),
            Value::Date(Num(0.0)),
            Value::string("A"),
            Value::string("a"),
            // Ill-formed strings (lone surrogates) among well-formed ones, by code unit: a
            // lone U+D83D is a prefix of the astral character that follows.
            Value::String(Text::from_utf16(vec![0xD800])),
            Value::String(Text::from_utf16(vec![0xD83D])),
            // An astral character is two code units, the first (U+D83D) below U+FF61.
            Value::string("\u{1F600}"),
            Value::String(Text::from_utf16(vec![0xDC00, 0x61])),
            Value::string("\u{ff61}"),
            Value::ArrayBuffer(vec![]),
            Value::ArrayBuffer(vec![1]),
            Value::View {
                kind: ViewKind::Uint8,
                buffer: Box::new(Value::ArrayBuffer(vec![0, 2, 9])),
                byte_offset: 1,
                length: 1,
            },
            array(vec![]),
            array(vec![Value::number(1.0)]),
            array(vec![Value::number(1.0), Value::string("a")]),
        ];
        for (i, a) in ascending.iter().enumerate() {
            for (j, b) in ascending.iter().enumerate() {
                assert_eq!(compare_keys(a, b), Some(i.cmp(&j)), "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn what_is_not_a_key_does_not_compare() {
        for not_a_key in [Value::Null, Value::Bool(true), Value::number(f64::NAN)] {
            assert_eq!(compare_keys(&not_a_key, &Value::number(1.0)), None);
        }
    }
}
