// WebCrypto for sealed backups (format 5): the key derived from a passphrase, and AES-256-GCM
// over one segment of a Blob at a time. What is sealed where, under which nonce and with which
// additional data, is the core's (crate/src/backup/sealed.rs); this only runs the cipher.
// Never called inside an IndexedDB transaction (every call awaits WebCrypto or a Blob read).

function subtle() {
  const s = globalThis.crypto?.subtle;
  if (!s) {
    throw new Error(
      "WebCrypto is not available here (a page not served over HTTPS or from localhost), " +
        "so encrypted backups cannot be made or opened");
  }
  return s;
}

// `n` random bytes from the browser's cryptographic generator.
export function rewind_random_bytes(n) {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

// The AES-256-GCM key of a passphrase: PBKDF2-HMAC-SHA-256 over its UTF-8 bytes in Unicode
// NFC (the same passphrase typed on another system gives the same key). Not extractable.
export async function rewind_derive_key(passphrase, salt, iterations) {
  const s = subtle();
  const bytes = new TextEncoder().encode(passphrase.normalize("NFC"));
  const base = await s.importKey("raw", bytes, "PBKDF2", false, ["deriveKey"]);
  return s.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"]);
}

// The tag of AES-GCM over nothing: the header's key check.
export async function rewind_key_check(key, nonce, aad) {
  const out = await subtle().encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 }, key, new Uint8Array(0));
  return new Uint8Array(out);
}

// Bytes `start … end` of `blob`, encrypted: ciphertext then tag, as a Blob (its bytes leave
// the JS heap for the browser's Blob storage).
export async function rewind_seal_segment(key, blob, start, end, nonce, aad) {
  const plain = await blob.slice(start, end).arrayBuffer();
  const sealed = await subtle().encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 }, key, plain);
  return new Blob([sealed]);
}

// Bytes `start … end` of `blob` (ciphertext then tag), decrypted as a Blob; null when the tag
// does not verify (WebCrypto's OperationError: changed, cut, reordered or extended).
export async function rewind_unseal_segment(key, blob, start, end, nonce, aad) {
  const sealed = await blob.slice(start, end).arrayBuffer();
  let plain;
  try {
    plain = await subtle().decrypt(
      { name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 }, key, sealed);
  } catch (e) {
    if (e?.name === "OperationError") return null;
    throw e;
  }
  return new Blob([plain]);
}

// One Blob of `parts` (a header's bytes, then segments' Blobs), of MIME type `type`.
export function rewind_join(parts, type) {
  return new Blob(parts, { type });
}
