//! The SHA-256 digests that writing or verifying a file needs, as a seam: the pure core says
//! which byte ranges to hash and checks the results; whoever can hash fastest computes them.
//! In the browser that is WebCrypto (native SHA-256, several ranges at once: `idb::digest`),
//! about three times the speed of `sha2` compiled to wasm; natively, and wherever WebCrypto is
//! missing, it is `sha2`.
//!
//! A digest is used only for the exact range it was given for; any range without one is
//! hashed here. So a missing digest only makes a check slower, and one given for another
//! range is never taken for this one.

use sha2::{Digest, Sha256};
use std::ops::Range;

/// A SHA-256 digest.
pub type Sha256Digest = [u8; 32];

/// Digests of ranges of one buffer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Digests {
    entries: Vec<(Range<usize>, Sha256Digest)>,
}

impl Digests {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, range: Range<usize>, digest: Sha256Digest) {
        self.entries.push((range, digest));
    }

    /// The digest of `data[range]`: the one given for exactly that range, or computed now.
    pub fn of(&self, data: &[u8], range: Range<usize>) -> Sha256Digest {
        match self.entries.iter().find(|(r, _)| *r == range) {
            Some((_, d)) => *d,
            None => Sha256::digest(&data[range]).into(),
        }
    }

    /// Every range of `data` hashed with `sha2`. When one range is a prefix of another that
    /// starts at 0 (the body before the trailer, and the whole file), the longer one continues
    /// the shorter one's hash instead of starting over: one pass for both.
    pub fn sha2(data: &[u8], ranges: &[Range<usize>]) -> Self {
        let mut out = Digests::new();
        let mut prefixes: Vec<&Range<usize>> = ranges.iter().filter(|r| r.start == 0).collect();
        prefixes.sort_by_key(|r| r.end);
        let mut hasher = Sha256::new();
        let mut hashed = 0;
        for r in prefixes {
            hasher.update(&data[hashed..r.end]);
            hashed = r.end;
            out.insert(r.clone(), hasher.clone().finalize().into());
        }
        for r in ranges.iter().filter(|r| r.start != 0) {
            out.insert(r.clone(), Sha256::digest(&data[r.clone()]).into());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_digests_are_used_only_for_their_exact_range() {
        let data = b"hello world";
        let mut d = Digests::new();
        d.insert(0..5, [7; 32]);
        assert_eq!(d.of(data, 0..5), [7; 32]);
        let computed: Sha256Digest = Sha256::digest(&data[0..4]).into();
        assert_eq!(d.of(data, 0..4), computed);
    }

    #[test]
    fn sha2_digests_match_one_shot_hashes_of_every_range() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        let ranges = [0..968, 0..1000, 16..300, 300..968, 0..0];
        let d = Digests::sha2(&data, &ranges);
        for r in ranges {
            let want: Sha256Digest = Sha256::digest(&data[r.clone()]).into();
            assert_eq!(d.of(&[], r.clone()), want, "range {r:?}");
        }
    }
}

/// At most this many Blobs are hashed as one group…
pub const HASH_GROUP: usize = 64;
/// …and together at most this many bytes: the page holds a group's bytes while they are
/// hashed.
pub const HASH_GROUP_BYTES: u64 = 8 << 20;

/// Blobs of `sizes` (in order) split into groups an edge reads and hashes as one each: a
/// group is at most [`HASH_GROUP`] Blobs and [`HASH_GROUP_BYTES`] bytes (a Blob larger alone
/// is a group of its own).
pub fn hash_groups(sizes: impl IntoIterator<Item = u64>) -> Vec<std::ops::Range<usize>> {
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    let mut bytes = 0u64;
    for (i, size) in sizes.into_iter().enumerate() {
        match groups.last_mut() {
            Some(g) if g.len() < HASH_GROUP && bytes.saturating_add(size) <= HASH_GROUP_BYTES => {
                g.end = i + 1;
                bytes += size;
            }
            _ => {
                groups.push(i..i + 1);
                bytes = size;
            }
        }
    }
    groups
}

#[cfg(test)]
mod hash_group_tests {
    use super::*;

    #[test]
    fn hash_groups_are_bounded_in_count_and_bytes_and_cover_every_blob_in_order() {
        assert!(hash_groups([]).is_empty());
        let mb = 1u64 << 20;
        // Small Blobs: groups of HASH_GROUP.
        let small = hash_groups(vec![4096; HASH_GROUP * 2 + 1]);
        assert_eq!(small, vec![0..64, 64..128, 128..129]);
        // Bytes bound the groups; a Blob larger than the bound alone is a group of its own.
        let sizes = [3 * mb, 3 * mb, 3 * mb, 20 * mb, 0, 8 * mb, 1];
        assert_eq!(hash_groups(sizes), vec![0..2, 2..3, 3..4, 4..6, 6..7]);
        for g in hash_groups(sizes) {
            let bytes: u64 = sizes[g.clone()].iter().sum();
            assert!(g.len() == 1 || bytes <= HASH_GROUP_BYTES, "{g:?}");
        }
    }
}
