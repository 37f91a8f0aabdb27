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
