// Raw DEFLATE by the browser's CompressionStream / DecompressionStream: the compressed chunks
// of a format-4 backup (docs/backup-format.md, "Version 4"). Native code, so nothing is added
// to the wasm build. Both are awaited, so never inside an IndexedDB transaction.
//
// Taken when the module loads, as fastpath.js takes Blob and File: a page may replace or
// delete the globals later and its backups must still be made and read.
const G = globalThis;
const BlobOnce = G.Blob, ResponseOnce = G.Response;
const CompressionOnce = G.CompressionStream, DecompressionOnce = G.DecompressionStream;

// Whether this browser compresses ("deflate-raw" is checked by making a stream).
export function rewind_deflate_supported() {
  try {
    new CompressionOnce("deflate-raw");
    new DecompressionOnce("deflate-raw");
    return true;
  } catch {
    return false;
  }
}

// The chunk in `blob` compressed, as one Uint8Array.
export async function rewind_deflate(blob) {
  const stream = BlobOnce.prototype.stream.call(blob).pipeThrough(new CompressionOnce("deflate-raw"));
  return new Uint8Array(await new ResponseOnce(stream).arrayBuffer());
}

// `bytes` (a Uint8Array) inflated into at most `limit` bytes: reading stops there, so a chunk
// that would inflate to more costs no more than `limit`. Resolves to a Uint8Array, or null
// when the bytes are not raw DEFLATE (or have bytes after its end).
export async function rewind_inflate(bytes, limit) {
  const reader = new BlobOnce([bytes]).stream()
    .pipeThrough(new DecompressionOnce("deflate-raw"))
    .getReader();
  const pieces = [];
  let length = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.length, limit - length);
      pieces.push(take === value.length ? value : value.subarray(0, take));
      length += take;
      if (length >= limit) {
        reader.cancel().catch(() => {});
        break;
      }
    }
  } catch {
    return null;
  }
  if (pieces.length === 1) return pieces[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}
