// SHA-256 of whole Blobs (a backup's Blob parts, a group the caller bounds in bytes), each
// read on its own, all at once, and hashed by the browser; never copied into wasm memory.
// Resolves to one 32-byte Uint8Array per Blob, or to null where WebCrypto is missing (a page
// not served over HTTPS or from localhost). The first that cannot be read rejects as
// `{ index, error }`.
//
// They were once read together as one Blob made of them (one read for the page). But these
// are Blobs the database holds, and one whose file the browser lost (Chromium keeps them as
// files of the profile) fails its own read (NotFoundError) while making a Blob of it and
// others can block the page's thread for good inside the Blob constructor (Chromium, in about
// a third of the runs of tests/faults/lostblob.test.mjs): no timer can bound that, so no Blob
// is made of them here.
export function rewind_sha256_of_blobs(blobs) {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return Promise.resolve(null);
  const digest = async (bytes) => new Uint8Array(await subtle.digest("SHA-256", bytes));
  return (async () => {
    const read = await Promise.allSettled(blobs.map((b) => b.arrayBuffer()));
    const index = read.findIndex((r) => r.status === "rejected");
    if (index >= 0) throw { index, error: read[index].reason };
    return Promise.all(read.map((r) => digest(r.value)));
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
