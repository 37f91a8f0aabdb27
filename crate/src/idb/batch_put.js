// Puts a batch of records into an object store, one request each (for `restore.rs`): one call
// from wasm per batch instead of one per record. A put that throws (a value or key IndexedDB
// refuses) throws out of here; the requests already made fail with the transaction.

/** Puts `values[i]` (with `keys[i]` unless the store's keys are in-line); returns the last
 * request, or null for an empty batch. */
export function rewind_put_all(store, keys, values, inline) {
  let last = null;
  for (let i = 0; i < values.length; i++) {
    last = inline ? store.put(values[i]) : store.put(values[i], keys[i]);
  }
  return last;
}
