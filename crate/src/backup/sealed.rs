//! The sealed file (format 5): an ordinary backup file of any format, encrypted whole under a
//! passphrase. The core decides everything but the cryptography: the cleartext header (built,
//! parsed, checked), the key derivation's bounds, the nonce and additional data of every
//! segment, the segments' byte ranges, and what a failure means. The edge (`idb/sealed.rs`)
//! derives the key and runs AES-256-GCM with WebCrypto, a segment at a time.
//!
//! Layout and the reasons for each field: `docs/backup-format.md`, "Version 5: sealed".

use super::error::BackupError;
use super::format::MAGIC;
use sha2::{Digest, Sha256};
use std::ops::Range;

/// The format version of a sealed file.
pub const SEALED_FORMAT_VERSION: u32 = 5;
/// Bytes of the cleartext header, key check and header checksum included.
pub const SEALED_HEADER_LEN: usize = 84;
/// Bytes of the header the key check's tag covers (everything before the key check).
const KEY_CHECK_AT: usize = 52;
/// Where the header's checksum starts.
const HEADER_SUM_AT: usize = 68;
/// Plaintext bytes per segment written.
pub const SEGMENT_BYTES: u32 = 1 << 20;
/// Bounds a reader accepts for the segment size (a segment is read whole into memory).
const MIN_SEGMENT_BYTES: u32 = 4 << 10;
const MAX_SEGMENT_BYTES: u32 = 16 << 20;
/// AES-GCM's tag, after every segment's ciphertext.
pub const TAG_BYTES: u32 = 16;
/// PBKDF2-HMAC-SHA-256 iterations written (OWASP's 2023 figure for PBKDF2-SHA-256).
pub const KDF_ITERATIONS: u32 = 600_000;
/// Iterations a reader accepts: fewer is too weak to have been written by Rewind; more would
/// let a file keep a reader's tab busy for minutes.
const MIN_KDF_ITERATIONS: u32 = 100_000;
const MAX_KDF_ITERATIONS: u32 = 10_000_000;
/// Algorithm ids in the header.
const KDF_PBKDF2_SHA256: u8 = 1;
const CIPHER_AES256_GCM: u8 = 1;
/// Bytes of the random salt and of the random nonce prefix.
pub const SALT_BYTES: usize = 16;
pub const NONCE_PREFIX_BYTES: usize = 7;
/// The last byte of a nonce: which kind of message it seals.
const NONCE_MIDDLE: u8 = 0;
const NONCE_LAST: u8 = 1;
const NONCE_KEY_CHECK: u8 = 2;

/// A passphrase a person gave: never empty.
#[derive(Clone, PartialEq, Eq)]
pub struct Passphrase(String);

impl Passphrase {
    /// Refuses an empty passphrase: a file sealed under "" would look protected and not be.
    pub fn new(text: impl Into<String>) -> Result<Passphrase, BackupError> {
        let text = text.into();
        if text.is_empty() {
            return Err(BackupError::invalid(
                "the passphrase is empty; give one with at least one character",
            ));
        }
        Ok(Passphrase(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(…)")
    }
}

/// Whether a file's first bytes say it is sealed (a whole Rewind header of version 5).
pub fn is_sealed(head: &[u8]) -> bool {
    head.len() >= 12 && head[..8] == MAGIC && le_u32(head, 8) == SEALED_FORMAT_VERSION
}

/// What the policy says of a file and a passphrase: a sealed file needs one; a passphrase
/// given for a file that is not sealed is not needed, and the file is read as it is.
pub fn needs_unsealing(head: &[u8], passphrase: Option<&Passphrase>) -> Result<bool, BackupError> {
    match (is_sealed(head), passphrase) {
        (true, None) => Err(BackupError::PassphraseRequired),
        (true, Some(_)) => Ok(true),
        (false, _) => Ok(false),
    }
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

/// The key derivation and segmenting a sealed file was written with: everything in the
/// header but its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealParams {
    pub iterations: u32,
    pub salt: [u8; SALT_BYTES],
    pub segment_bytes: u32,
    pub nonce_prefix: [u8; NONCE_PREFIX_BYTES],
}

impl SealParams {
    /// The parameters a new file is written with; `salt` and `nonce_prefix` come from the
    /// edge's random source.
    pub fn new(salt: [u8; SALT_BYTES], nonce_prefix: [u8; NONCE_PREFIX_BYTES]) -> SealParams {
        SealParams {
            iterations: KDF_ITERATIONS,
            salt,
            segment_bytes: SEGMENT_BYTES,
            nonce_prefix,
        }
    }

    /// The header's first bytes, which the key check's tag covers.
    pub fn key_check_aad(&self) -> [u8; KEY_CHECK_AT] {
        let mut h = [0u8; KEY_CHECK_AT];
        h[..8].copy_from_slice(&MAGIC);
        h[8..12].copy_from_slice(&SEALED_FORMAT_VERSION.to_le_bytes());
        // 12..16 reserved: 0, as in format 3's header.
        h[16] = KDF_PBKDF2_SHA256;
        h[17] = CIPHER_AES256_GCM;
        // 18..20 reserved: 0.
        h[20..24].copy_from_slice(&self.iterations.to_le_bytes());
        h[24..40].copy_from_slice(&self.salt);
        h[40..44].copy_from_slice(&self.segment_bytes.to_le_bytes());
        h[44..51].copy_from_slice(&self.nonce_prefix);
        // 51 reserved: 0.
        h
    }

    /// The nonce of the key check: a counter value no segment uses, and its own flag.
    pub fn key_check_nonce(&self) -> [u8; 12] {
        self.nonce(u32::MAX, NONCE_KEY_CHECK)
    }

    fn nonce(&self, counter: u32, flag: u8) -> [u8; 12] {
        let mut n = [0u8; 12];
        n[..7].copy_from_slice(&self.nonce_prefix);
        n[7..11].copy_from_slice(&counter.to_be_bytes());
        n[11] = flag;
        n
    }

    /// The whole header, once the edge has the key check's tag (AES-GCM of nothing under
    /// [`Self::key_check_nonce`] with [`Self::key_check_aad`] as additional data).
    pub fn header(&self, key_check: [u8; 16]) -> [u8; SEALED_HEADER_LEN] {
        let mut h = [0u8; SEALED_HEADER_LEN];
        h[..KEY_CHECK_AT].copy_from_slice(&self.key_check_aad());
        h[KEY_CHECK_AT..HEADER_SUM_AT].copy_from_slice(&key_check);
        let sum = Sha256::digest(&h[..HEADER_SUM_AT]);
        h[HEADER_SUM_AT..].copy_from_slice(&sum[..16]);
        h
    }
}

/// A parsed and checked header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedHeader {
    pub params: SealParams,
    key_check: [u8; 16],
    bytes: [u8; SEALED_HEADER_LEN],
}

impl SealedHeader {
    /// Parses the first [`SEALED_HEADER_LEN`] bytes of a sealed file (or all of it if
    /// shorter), refusing damage and parameters no writer uses.
    pub fn parse(head: &[u8]) -> Result<SealedHeader, BackupError> {
        if !is_sealed(head) {
            return Err(BackupError::corrupt("it is not a sealed backup"));
        }
        let Some(h) = head.get(..SEALED_HEADER_LEN) else {
            return Err(BackupError::Truncated {
                missing: (SEALED_HEADER_LEN - head.len()) as u64,
            });
        };
        let sum = Sha256::digest(&h[..HEADER_SUM_AT]);
        if sum[..16] != h[HEADER_SUM_AT..] {
            return Err(BackupError::corrupt(
                "its sealed header does not match its checksum",
            ));
        }
        if h[12..16] != [0; 4] || h[18..20] != [0; 2] || h[51] != 0 {
            return Err(BackupError::corrupt(
                "its sealed header has reserved bytes that are not 0",
            ));
        }
        if h[16] != KDF_PBKDF2_SHA256 || h[17] != CIPHER_AES256_GCM {
            return Err(BackupError::corrupt(format!(
                "its sealed header names key derivation {} and cipher {}; only 1 (PBKDF2-SHA-256) and 1 (AES-256-GCM) exist",
                h[16], h[17]
            )));
        }
        let iterations = le_u32(h, 20);
        if !(MIN_KDF_ITERATIONS..=MAX_KDF_ITERATIONS).contains(&iterations) {
            return Err(BackupError::corrupt(format!(
                "its sealed header asks for {iterations} key derivation iterations (a reader accepts {MIN_KDF_ITERATIONS} to {MAX_KDF_ITERATIONS})"
            )));
        }
        let segment_bytes = le_u32(h, 40);
        if !(MIN_SEGMENT_BYTES..=MAX_SEGMENT_BYTES).contains(&segment_bytes) {
            return Err(BackupError::corrupt(format!(
                "its sealed header gives segments of {segment_bytes} bytes (a reader accepts {MIN_SEGMENT_BYTES} to {MAX_SEGMENT_BYTES})"
            )));
        }
        let mut salt = [0u8; SALT_BYTES];
        salt.copy_from_slice(&h[24..40]);
        let mut nonce_prefix = [0u8; NONCE_PREFIX_BYTES];
        nonce_prefix.copy_from_slice(&h[44..51]);
        let mut key_check = [0u8; 16];
        key_check.copy_from_slice(&h[KEY_CHECK_AT..HEADER_SUM_AT]);
        let mut bytes = [0u8; SEALED_HEADER_LEN];
        bytes.copy_from_slice(h);
        Ok(SealedHeader {
            params: SealParams {
                iterations,
                salt,
                segment_bytes,
                nonce_prefix,
            },
            key_check,
            bytes,
        })
    }

    /// The header's bytes: every segment's additional data.
    pub fn bytes(&self) -> &[u8; SEALED_HEADER_LEN] {
        &self.bytes
    }

    /// Checks the key the edge derived, by the key check's tag it computed with it: a
    /// header that passed its checksum and a different tag means another passphrase.
    pub fn check_key(&self, computed: &[u8]) -> Result<(), BackupError> {
        if computed == self.key_check {
            Ok(())
        } else {
            Err(BackupError::WrongPassphrase)
        }
    }
}

/// One segment: where its plaintext is in the inner file, where its ciphertext and tag are
/// in the sealed file, and its nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub number: u32,
    pub plain: Range<u64>,
    pub sealed: Range<u64>,
    pub nonce: [u8; 12],
    pub last: bool,
}

/// Every segment of a sealed file whose inner file is `plain_len` bytes (for sealing).
pub fn segments_for_plain(
    params: &SealParams,
    plain_len: u64,
) -> Result<Vec<Segment>, BackupError> {
    let s = u64::from(params.segment_bytes);
    // An empty inner file is one empty last segment: the file still proves its end.
    let count = plain_len.div_ceil(s).max(1);
    plan(params, count, plain_len)
}

/// Every segment of a sealed file of `sealed_len` bytes (for unsealing): refuses lengths no
/// writer makes (a last segment shorter than its tag).
pub fn segments_for_sealed(
    params: &SealParams,
    sealed_len: u64,
) -> Result<Vec<Segment>, BackupError> {
    let body = sealed_len
        .checked_sub(SEALED_HEADER_LEN as u64)
        .ok_or_else(|| BackupError::Truncated {
            missing: SEALED_HEADER_LEN as u64 - sealed_len,
        })?;
    let step = u64::from(params.segment_bytes) + u64::from(TAG_BYTES);
    let (full, rest) = (body / step, body % step);
    let (count, plain_len) = match rest {
        0 if full == 0 => {
            return Err(BackupError::corrupt(
                "the sealed file ends after its header (cut short?)",
            ))
        }
        0 => (full, full * u64::from(params.segment_bytes)),
        r if r < u64::from(TAG_BYTES) => {
            return Err(BackupError::corrupt(format!(
            "its last sealed segment is {r} bytes, shorter than a tag (cut short or bytes added?)"
        )))
        }
        r => (
            full + 1,
            full * u64::from(params.segment_bytes) + r - u64::from(TAG_BYTES),
        ),
    };
    plan(params, count, plain_len)
}

fn plan(params: &SealParams, count: u64, plain_len: u64) -> Result<Vec<Segment>, BackupError> {
    // The key check's counter (u32::MAX) is never a segment's.
    if count >= u64::from(u32::MAX) {
        return Err(BackupError::corrupt(format!(
            "{count} sealed segments are more than a sealed file can number"
        )));
    }
    let s = u64::from(params.segment_bytes);
    let step = s + u64::from(TAG_BYTES);
    let overflow = || BackupError::corrupt("the sealed file's size overflows");
    let mut out = Vec::new();
    out.try_reserve_exact(count as usize)
        .map_err(|_| BackupError::corrupt("too many sealed segments to plan in memory"))?;
    for i in 0..count {
        let start = i.checked_mul(s).ok_or_else(overflow)?;
        let end = start.checked_add(s).ok_or_else(overflow)?.min(plain_len);
        let at = i
            .checked_mul(step)
            .and_then(|o| o.checked_add(SEALED_HEADER_LEN as u64))
            .ok_or_else(overflow)?;
        let sealed_end = at
            .checked_add(end - start + u64::from(TAG_BYTES))
            .ok_or_else(overflow)?;
        let last = i + 1 == count;
        let number = i as u32;
        out.push(Segment {
            number,
            plain: start..end,
            sealed: at..sealed_end,
            nonce: params.nonce(number, if last { NONCE_LAST } else { NONCE_MIDDLE }),
            last,
        });
    }
    Ok(out)
}

/// The sealed file's length for an inner file of `plain_len` bytes.
pub fn sealed_len(params: &SealParams, plain_len: u64) -> Result<u64, BackupError> {
    let segments = segments_for_plain(params, plain_len)?;
    Ok(segments
        .last()
        .map_or(SEALED_HEADER_LEN as u64, |s| s.sealed.end))
}

/// What a segment whose tag does not verify means: the file was changed, cut, reordered or
/// extended (the key was proven right by the key check).
pub fn segment_failed(segment: &Segment, count: usize) -> BackupError {
    BackupError::corrupt(format!(
        "sealed segment {} of {count} (bytes {} to {}) fails its authentication: the file was changed, cut short or extended",
        segment.number + 1,
        segment.sealed.start,
        segment.sealed.end
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> SealParams {
        SealParams::new([7; SALT_BYTES], [9; NONCE_PREFIX_BYTES])
    }

    fn header() -> [u8; SEALED_HEADER_LEN] {
        params().header([0xAB; 16])
    }

    #[test]
    fn header_round_trips() {
        let h = SealedHeader::parse(&header()).unwrap();
        assert_eq!(h.params, params());
        assert_eq!(h.params.iterations, 600_000);
        assert_eq!(h.bytes(), &header());
        assert_eq!(h.check_key(&[0xAB; 16]), Ok(()));
        assert!(is_sealed(&header()));
        assert_eq!(
            crate::backup::format_version(&header()),
            Err(BackupError::PassphraseRequired)
        );
    }

    #[test]
    fn header_holds_no_more_than_reading_needs() {
        let h = header();
        assert_eq!(&h[..8], &MAGIC);
        assert_eq!(le_u32(&h, 8), 5);
        assert_eq!(le_u32(&h, 20), KDF_ITERATIONS);
        assert_eq!(le_u32(&h, 40), SEGMENT_BYTES);
    }

    #[test]
    fn wrong_key_is_wrong_passphrase() {
        let h = SealedHeader::parse(&header()).unwrap();
        assert_eq!(h.check_key(&[0xAC; 16]), Err(BackupError::WrongPassphrase));
        assert_eq!(BackupError::WrongPassphrase.code(), "WrongPassphrase");
    }

    /// A header changed anywhere fails its checksum, not the key check: damage is not taken
    /// for a wrong passphrase.
    #[test]
    fn every_changed_header_byte_is_damage() {
        for at in 12..SEALED_HEADER_LEN {
            let mut h = header();
            h[at] ^= 1;
            let err = SealedHeader::parse(&h).unwrap_err();
            assert_eq!(err.code(), "CorruptBackup", "byte {at}");
            assert!(err.to_string().contains("checksum"), "byte {at}");
        }
    }

    fn resealed(mut h: [u8; SEALED_HEADER_LEN]) -> [u8; SEALED_HEADER_LEN] {
        let sum = Sha256::digest(&h[..HEADER_SUM_AT]);
        h[HEADER_SUM_AT..].copy_from_slice(&sum[..16]);
        h
    }

    #[test]
    fn refuses_parameters_no_writer_uses() {
        let set_u32 = |at: usize, v: u32| {
            let mut h = header();
            h[at..at + 4].copy_from_slice(&v.to_le_bytes());
            resealed(h)
        };
        for bad in [
            set_u32(20, 99_999),
            set_u32(20, 10_000_001),
            set_u32(20, 0),
            set_u32(40, 0),
            set_u32(40, 1024),
            set_u32(40, (16 << 20) + 1),
            set_u32(12, 1),
        ] {
            assert_eq!(
                SealedHeader::parse(&bad).unwrap_err().code(),
                "CorruptBackup"
            );
        }
        for (at, v) in [(16, 2u8), (17, 0), (18, 1), (51, 1)] {
            let mut h = header();
            h[at] = v;
            let err = SealedHeader::parse(&resealed(h)).unwrap_err();
            assert_eq!(err.code(), "CorruptBackup", "byte {at}");
        }
        // Bounds themselves are accepted.
        assert!(SealedHeader::parse(&set_u32(20, 100_000)).is_ok());
        assert!(SealedHeader::parse(&set_u32(20, 10_000_000)).is_ok());
    }

    #[test]
    fn short_or_foreign_headers() {
        assert_eq!(
            SealedHeader::parse(&header()[..40]),
            Err(BackupError::Truncated { missing: 44 })
        );
        let mut h = header();
        h[8] = 3;
        assert_eq!(SealedHeader::parse(&h).unwrap_err().code(), "CorruptBackup");
        assert!(!is_sealed(&h));
    }

    #[test]
    fn policy_needs_a_passphrase_for_sealed_files_only() {
        let p = Passphrase::new("correct horse").unwrap();
        assert_eq!(
            needs_unsealing(&header(), None),
            Err(BackupError::PassphraseRequired)
        );
        assert_eq!(BackupError::PassphraseRequired.code(), "PassphraseRequired");
        assert_eq!(needs_unsealing(&header(), Some(&p)), Ok(true));
        let mut plain = header();
        plain[8] = 3;
        assert_eq!(needs_unsealing(&plain, Some(&p)), Ok(false));
        assert_eq!(needs_unsealing(&plain, None), Ok(false));
        assert_eq!(Passphrase::new("").unwrap_err().code(), "InvalidBackup");
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn nonces_are_distinct_and_mark_the_last() {
        let p = params();
        let segs = segments_for_plain(&p, 3 * u64::from(SEGMENT_BYTES) + 5).unwrap();
        assert_eq!(segs.len(), 4);
        let mut nonces: Vec<_> = segs.iter().map(|s| s.nonce).collect();
        nonces.push(p.key_check_nonce());
        let mut unique = nonces.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), nonces.len());
        assert_eq!(segs[3].nonce[11], NONCE_LAST);
        assert_eq!(segs[0].nonce[11], NONCE_MIDDLE);
        assert_eq!(&segs[2].nonce[7..11], &2u32.to_be_bytes());
        assert!(segs.iter().all(|s| s.nonce[..7] == [9; 7]));
    }

    #[test]
    fn segments_tile_both_files() {
        let p = params();
        let s = u64::from(SEGMENT_BYTES);
        for plain_len in [0, 1, s - 1, s, s + 1, 2 * s, 5 * s + 17] {
            let segs = segments_for_plain(&p, plain_len).unwrap();
            assert_eq!(segs.first().unwrap().plain.start, 0);
            assert_eq!(segs.last().unwrap().plain.end, plain_len);
            assert!(segs.last().unwrap().last);
            for w in segs.windows(2) {
                assert_eq!(w[0].plain.end, w[1].plain.start);
                assert_eq!(w[0].sealed.end, w[1].sealed.start);
                assert!(!w[0].last);
            }
            for seg in &segs {
                assert_eq!(
                    seg.sealed.end - seg.sealed.start,
                    seg.plain.end - seg.plain.start + 16
                );
            }
            let total = sealed_len(&p, plain_len).unwrap();
            // The reader finds the same segments from the sealed length alone.
            assert_eq!(segments_for_sealed(&p, total).unwrap(), segs, "{plain_len}");
        }
    }

    #[test]
    fn refuses_sealed_lengths_no_writer_makes() {
        let p = params();
        let h = SEALED_HEADER_LEN as u64;
        assert_eq!(
            segments_for_sealed(&p, h - 4),
            Err(BackupError::Truncated { missing: 4 })
        );
        assert_eq!(
            segments_for_sealed(&p, h).unwrap_err().code(),
            "CorruptBackup"
        );
        assert_eq!(
            segments_for_sealed(&p, h + 15).unwrap_err().code(),
            "CorruptBackup"
        );
        let step = u64::from(SEGMENT_BYTES) + 16;
        assert_eq!(
            segments_for_sealed(&p, h + step + 3).unwrap_err().code(),
            "CorruptBackup"
        );
        assert_eq!(segments_for_sealed(&p, h + 16).unwrap().len(), 1);
        assert!(segments_for_sealed(&p, u64::MAX).is_err());
    }

    /// Whatever a file holds, reading its header and planning its segments ends in an answer,
    /// never a panic, and a plan it accepts tiles the file.
    #[test]
    fn arbitrary_headers_and_lengths_never_panic() {
        let mut rng = rewind_test_support::SplitMix64::new(5);
        let mut accepted = 0;
        for round in 0..20_000u32 {
            let mut h = header();
            for _ in 0..=(round % 4) {
                let at = (rng.next_u64() % SEALED_HEADER_LEN as u64) as usize;
                h[at] = rng.next_u64() as u8;
            }
            // Half of them with the checksum made right, to reach the checks behind it.
            if round % 2 == 0 {
                h = resealed(h);
            }
            let cut = match round % 8 {
                0 => rng.usize(SEALED_HEADER_LEN),
                _ => SEALED_HEADER_LEN,
            };
            if let Ok(parsed) = SealedHeader::parse(&h[..cut]) {
                accepted += 1;
                let len = rng.next_u64() % (64 << 20);
                if let Ok(segments) = segments_for_sealed(&parsed.params, len) {
                    assert_eq!(segments.last().map(|s| s.sealed.end), Some(len));
                }
            }
        }
        assert!(
            accepted > 1000,
            "the checks behind the checksum were reached: {accepted}"
        );
    }

    #[test]
    fn segment_failure_says_which() {
        let p = params();
        let segs = segments_for_plain(&p, 3 * u64::from(SEGMENT_BYTES)).unwrap();
        let err = segment_failed(&segs[1], segs.len());
        assert_eq!(err.code(), "CorruptBackup");
        assert!(err.to_string().contains("segment 2 of 3"), "{err}");
    }
}
