// Puts a batch of records into an object store, one request each (for `restore.rs`): one call
// from wasm per batch instead of one per record. A put that throws (a value or key IndexedDB
// refuses) throws out of here; the requests already made fail with the transaction.

/** The parts of a key path: a string's dotted names, or an array's paths. */
function pathParts(keyPath) {
  return Array.isArray(keyPath)
    ? keyPath.map((p) => (p === "" ? [] : p.split(".")))
    : keyPath === "" ? [] : keyPath.split(".");
}

/** The key `value` holds at a path (its parts), as IndexedDB evaluates a key path on a plain
 * value; undefined where it holds none. */
function keyAt(value, parts) {
  let v = value;
  for (const part of parts) {
    if (typeof v === "string" && part === "length") v = v.length;
    else if (v === null || typeof v !== "object" || !(part in v)) return undefined;
    else v = v[part];
  }
  return v;
}

/** Whether `key` is the key IndexedDB will file `value` under in a store whose key path has
 * these parts (a compound path's parts are arrays). */
function holdsKey(value, parts, compound, key) {
  const held = compound ? parts.map((p) => keyAt(value, p)) : keyAt(value, parts);
  if (held === undefined) return false;
  try {
    return globalThis.indexedDB.cmp(held, key) === 0;
  } catch {
    return false; // not a valid key: IndexedDB would generate or refuse one
  }
}

/** Puts `values[i]` (with `keys[i]` unless the store's keys are in-line); returns the last
 * request, or null for an empty batch. In a store with in-line keys, a value that does not hold
 * its record's key (IndexedDB would file it under another) is not put: its index in the batch is
 * returned instead, before anything of the batch is put. */
export function rewind_put_all(store, keys, values, inline) {
  let last = null;
  if (inline) {
    const keyPath = store.keyPath;
    const compound = Array.isArray(keyPath);
    const parts = pathParts(keyPath);
    for (let i = 0; i < values.length; i++) {
      if (!holdsKey(values[i], parts, compound, keys[i])) return i;
    }
    for (let i = 0; i < values.length; i++) last = store.put(values[i]);
  } else {
    for (let i = 0; i < values.length; i++) last = store.put(values[i], keys[i]);
  }
  return last;
}

/** What a batch of stored `values` (with their `keys`) holds, for a restore that copies them as
 * they are (`restore.rs`): returns about how many bytes (strings, binary data), and appends
 * each non-empty Blob with its record's key to `blobs` — the browser copies a stored Blob
 * without reading it, so one whose file it lost would come back unreadable unless it is read. */
export function rewind_scan_batch(keys, values, blobs) {
  let bytes = 0;
  const seen = new Set();
  const walk = (v, key) => {
    if (typeof v === "string") { bytes += 2 * v.length; return; }
    if (v === null || typeof v !== "object" || seen.has(v)) { bytes += 8; return; }
    seen.add(v);
    if (v instanceof Blob) { if (v.size > 0) blobs.push([key, v]); return; }
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) { bytes += v.byteLength; return; }
    if (v instanceof Map) { for (const [k, x] of v) { walk(k, key); walk(x, key); } return; }
    if (v instanceof Set) { for (const x of v) walk(x, key); return; }
    for (const k of Object.keys(v)) { bytes += 2 * k.length; walk(v[k], key); }
  };
  for (let i = 0; i < values.length; i++) walk(values[i], keys[i]);
  return bytes;
}

/** The first of `blobs` (`[key, Blob]` pairs) whose data cannot be read, with the reason:
 * `[key, error]`, or null when every one reads. The first chunk of each is read, from the Blob
 * itself: a slice of a lost one can hang Chromium's page thread (docs/reliability.md). */
export async function rewind_unreadable_blob(blobs) {
  for (let g = 0; g < blobs.length; g += 64) {
    const group = blobs.slice(g, g + 64);
    const read = await Promise.allSettled(group.map(async ([, b]) => {
      const reader = b.stream().getReader();
      try { await reader.read(); } finally { reader.cancel().catch(() => {}); }
    }));
    const bad = read.findIndex((r) => r.status === "rejected");
    if (bad >= 0) return [group[bad][0], read[bad].reason];
  }
  return null;
}
