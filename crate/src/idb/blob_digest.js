// SHA-256 of whole Blobs (a backup's Blob parts), side by side: each Blob is read and hashed by
// the browser, never copied into wasm memory. Resolves to one 32-byte Uint8Array per Blob, or
// to null where WebCrypto is missing (a page not served over HTTPS or from localhost).
export function rewind_sha256_of_blobs(blobs) {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return Promise.resolve(null);
  return Promise.all(blobs.map(async (blob) => new Uint8Array(await subtle.digest("SHA-256", await blob.arrayBuffer()))));
}

// The SHA-256 of bytes the page already holds (a sealed chunk of a backup), started now and
// awaited later (after the transaction that produced them); null where WebCrypto is missing.
// WebCrypto copies the bytes when called, so the caller may let go of them at once.
export function rewind_sha256_start(bytes) {
  const subtle = globalThis.crypto?.subtle;
  return subtle ? subtle.digest("SHA-256", bytes) : null;
}
