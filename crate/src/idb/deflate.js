// Raw DEFLATE by the browser's CompressionStream / DecompressionStream: the compressed chunks
// of a format-4 backup (docs/backup-format.md, "Version 4"). Native code, so nothing is added
// to the wasm build. Inflating is awaited, so never inside an IndexedDB transaction; chunks
// are compressed by a queue that a transaction may feed without awaiting anything.
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

// A queue that stores sealed chunks (Blobs) compressed, at most `limit` at a time, so that a
// backup's chunks are compressed while its read transaction still reads (nothing there awaits
// them) and at most `limit` chunks and their compressed copies are in memory at once.
export function rewind_chunk_compressor(limit) {
  let running = 0;
  const waiting = [];
  const next = () => {
    while (running < limit && waiting.length) {
      const { blob, resolve, reject } = waiting.shift();
      running++;
      storeChunk(blob).then(resolve, reject).finally(() => { running--; next(); });
    }
  };
  return {
    // Resolves to { compressed, blob, size, digest }: the chunk as stored (compressed when
    // that made it smaller, else `blob` itself) and its SHA-256 (null without WebCrypto).
    add(blob) {
      const stored = new Promise((resolve, reject) => { waiting.push({ blob, resolve, reject }); next(); });
      stored.catch(() => {}); // awaited later, after the transaction: not unhandled meanwhile
      return stored;
    },
  };
}

async function storeChunk(blob) {
  const packed = await rewind_deflate(blob);
  const subtle = G.crypto?.subtle;
  const digest = async (bytes) => (subtle ? new Uint8Array(await subtle.digest("SHA-256", bytes)) : null);
  if (packed.length < blob.size) {
    return { compressed: true, blob: new BlobOnce([packed]), size: packed.length, digest: await digest(packed) };
  }
  const raw = await BlobOnce.prototype.arrayBuffer.call(blob);
  return { compressed: false, blob, size: blob.size, digest: await digest(raw) };
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
