// SHA-256 of whole Blobs (a backup's Blob parts, a group the caller bounds in bytes): read
// together as one Blob, one read for the page however many they are, each hashed by the
// browser; never copied into wasm memory. Resolves to one 32-byte Uint8Array per Blob, or to
// null where WebCrypto is missing (a page not served over HTTPS or from localhost). When they
// cannot be read together, each is read alone, and the first that cannot be read rejects as
// `{ index, error }`.
const BlobOnce = globalThis.Blob;

export function rewind_sha256_of_blobs(blobs) {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return Promise.resolve(null);
  const digest = async (bytes) => new Uint8Array(await subtle.digest("SHA-256", bytes));
  const alone = async () => {
    const read = await Promise.allSettled(blobs.map((b) => b.arrayBuffer()));
    const index = read.findIndex((r) => r.status === "rejected");
    if (index >= 0) throw { index, error: read[index].reason };
    return Promise.all(read.map((r) => digest(r.value)));
  };
  return (async () => {
    let whole;
    try {
      whole = new Uint8Array(await new BlobOnce(blobs).arrayBuffer());
    } catch {
      return alone();
    }
    const sizes = blobs.map((b) => b.size);
    if (whole.length !== sizes.reduce((a, b) => a + b, 0)) return alone();
    return rewind_sha256_of_runs(whole, sizes);
  })();
}

// SHA-256 of each run of `bytes` (runs of `sizes` bytes, one after another, from the start):
// Blob parts of a backup file read together as one range. Null where WebCrypto is missing.
export function rewind_sha256_of_runs(bytes, sizes) {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return Promise.resolve(null);
  let at = 0;
  return Promise.all(Array.from(sizes, async (size) =>
    new Uint8Array(await subtle.digest("SHA-256", bytes.subarray(at, (at += size))))));
}

// The SHA-256 of bytes the page already holds (a sealed chunk of a backup), started now and
// awaited later (after the transaction that produced them); null where WebCrypto is missing.
// WebCrypto copies the bytes when called, so the caller may let go of them at once.
export function rewind_sha256_start(bytes) {
  const subtle = globalThis.crypto?.subtle;
  return subtle ? subtle.digest("SHA-256", bytes) : null;
}
