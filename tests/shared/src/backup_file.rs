//! A backup file ends in a SHA-256 of everything before it, and its manifest lists a SHA-256
//! per store, so almost any change a test makes is caught by the first checksum. To reach the
//! manifest parser and the value decoder, tests and fuzz targets *reseal* what they changed:
//! the checksums recomputed to match whatever bytes are there.

use sha2::{Digest, Sha256};

const MAGIC_LEN: usize = 8;
const HEADER_LEN: usize = 16;
const TRAILER_LEN: usize = 32;

/// Lower-case hex, as the manifest writes checksums.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `file` with its trailing checksum recomputed (when it is long enough to have one), so that
/// damage inside it is looked at.
pub fn reseal_trailer(mut file: Vec<u8>) -> Vec<u8> {
    if file.len() >= TRAILER_LEN {
        let body_end = file.len() - TRAILER_LEN;
        let digest = Sha256::digest(&file[..body_end]);
        file[body_end..].copy_from_slice(&digest);
    }
    file
}

/// `data` with its checksums made consistent with its contents, or `None` when it does not
/// even have a header and a readable manifest (then only the trailer is recomputed, if the
/// file is long enough to have one).
pub fn reseal(data: &[u8]) -> Option<Vec<u8>> {
    if data.len() < HEADER_LEN + TRAILER_LEN || data[..MAGIC_LEN] != rewind::backup::MAGIC {
        return None;
    }
    let mut out = data.to_vec();
    let manifest_len = u32::from_le_bytes([data[12], data[13], data[14], data[15]]) as usize;
    let body_end = data.len() - TRAILER_LEN;
    let manifest_end = HEADER_LEN.checked_add(manifest_len)?;
    if let Some(json) = data
        .get(HEADER_LEN..manifest_end)
        .filter(|_| manifest_end <= body_end)
    {
        if let Ok(mut manifest) = serde_json::from_slice::<serde_json::Value>(json) {
            let mut pos = manifest_end;
            if let Some(stores) = manifest.get_mut("stores").and_then(|s| s.as_array_mut()) {
                for store in stores {
                    let Some(len) = store.get("bytes").and_then(|b| b.as_u64()) else {
                        break;
                    };
                    let Some(section) = usize::try_from(len)
                        .ok()
                        .and_then(|len| pos.checked_add(len))
                        .and_then(|end| data.get(pos..end.min(body_end)))
                    else {
                        break;
                    };
                    if let Some(obj) = store.as_object_mut() {
                        obj.insert("sha256".into(), hex(&Sha256::digest(section)).into());
                    }
                    pos += section.len();
                }
            }
            // Re-serialised with the same length field rewritten; sections follow unchanged.
            if let Ok(new_json) = serde_json::to_vec(&manifest) {
                if let Ok(new_len) = u32::try_from(new_json.len()) {
                    let rest = &data[manifest_end..body_end];
                    out.clear();
                    out.extend_from_slice(&data[..12]);
                    out.extend_from_slice(&new_len.to_le_bytes());
                    out.extend_from_slice(&new_json);
                    out.extend_from_slice(rest);
                    out.extend_from_slice(&[0; TRAILER_LEN]);
                }
            }
        }
    }
    Some(reseal_trailer(out))
}

/// A chunked (format 3) file with every digest made consistent with its contents: each index
/// entry's digest of its frame, each store's records, bytes and digest in the manifest, and the
/// root. `None` unless its header says format 3 and its trailer's sizes add up.
pub fn reseal_chunked(data: &[u8]) -> Option<Vec<u8>> {
    const ENTRY: usize = 56;
    const TRAILER: usize = 64;
    if data.len() < HEADER_LEN + TRAILER
        || data[..MAGIC_LEN] != rewind::backup::MAGIC
        || data[8..12] != 3u32.to_le_bytes()
    {
        return None;
    }
    let le = |at: usize| u64::from_le_bytes(data[at..at + 8].try_into().unwrap_or([0; 8]));
    let n = data.len();
    let index_at = usize::try_from(le(n - TRAILER)).ok()?;
    let count = usize::try_from(le(n - TRAILER + 8)).ok()?;
    let json_len = usize::try_from(le(n - TRAILER + 16)).ok()?;
    let index_end = index_at.checked_add(count.checked_mul(ENTRY)?)?;
    if index_at < HEADER_LEN || index_end.checked_add(json_len)?.checked_add(TRAILER)? != n {
        return None;
    }
    let mut index = data[index_at..index_end].to_vec();
    let mut at = HEADER_LEN;
    for entry in index.chunks_mut(ENTRY) {
        let len = usize::try_from(u64::from_le_bytes(entry[16..24].try_into().ok()?)).ok()?;
        let end = at.saturating_add(len).min(index_at);
        let digest = Sha256::digest(&data[at.min(end)..end]);
        entry[24..56].copy_from_slice(&digest);
        at = end;
    }
    let mut json = data[index_end..index_end + json_len].to_vec();
    if let Ok(mut manifest) = serde_json::from_slice::<serde_json::Value>(&json) {
        if let Some(stores) = manifest.get_mut("stores").and_then(|s| s.as_array_mut()) {
            for (i, store) in stores.iter_mut().enumerate() {
                let mut digests = Sha256::new();
                let (mut records, mut bytes) = (0u64, 0u64);
                for e in index.chunks(ENTRY) {
                    if u32::from_le_bytes(e[4..8].try_into().ok()?) as usize == i {
                        digests.update(&e[24..56]);
                        records += u64::from(u32::from_le_bytes(e[8..12].try_into().ok()?));
                        bytes =
                            bytes.saturating_add(u64::from_le_bytes(e[16..24].try_into().ok()?));
                    }
                }
                if let Some(obj) = store.as_object_mut() {
                    obj.insert("sha256".into(), hex(&digests.finalize()).into());
                    obj.insert("records".into(), records.into());
                    obj.insert("bytes".into(), bytes.into());
                }
            }
        }
        json = serde_json::to_vec(&manifest).ok()?;
    }
    let mut fields = Vec::with_capacity(24);
    fields.extend_from_slice(&(index_at as u64).to_le_bytes());
    fields.extend_from_slice(&(count as u64).to_le_bytes());
    fields.extend_from_slice(&(json.len() as u64).to_le_bytes());
    let mut root = Sha256::new();
    root.update(&data[..HEADER_LEN]);
    root.update(Sha256::digest(&index));
    root.update(Sha256::digest(&json));
    root.update(&fields);
    let mut out = data[..index_at].to_vec();
    out.extend_from_slice(&index);
    out.extend_from_slice(&json);
    out.extend_from_slice(&fields);
    out.extend_from_slice(&root.finalize());
    out.extend_from_slice(&data[n - 8..]);
    Some(out)
}
