// Key generators, read at backup time and set back at restore (for `snapshot.rs` and
// `restore.rs`). IndexedDB has no call that tells where a store's generator stands, or sets it;
// what it has: an `add` without a key takes the generator's current number, and an aborted
// transaction puts the generator back (spec: "key generator … reverted" on abort); a put of a
// numeric key at or above the generator raises it to that key + 1.

/** A value that an `add` gives a generated key to: for in-line keys an object without the key
 * at the key path, made to hold it (`a.b` needs `{ a: {} }`); for out-of-line keys anything. */
function keyless(keyPath) {
  if (keyPath === null) return null;
  const root = {};
  let at = root;
  for (const part of keyPath.split(".").slice(0, -1)) at = at[part] = {};
  return root;
}

/** A value holding `key` at string key path `keyPath`. */
function holding(keyPath, key) {
  const root = keyless(keyPath);
  const parts = keyPath.split(".");
  let at = root;
  for (const part of parts.slice(0, -1)) at = at[part];
  at[parts[parts.length - 1]] = key;
  return root;
}

/**
 * Starts reading the key generators of `names`' stores of `db`: a read-write transaction over
 * the stores with one, an `add` in each, then an abort (nothing stays, the generators go back).
 * Call it just before the snapshot's read-only transaction is made: IndexedDB runs
 * transactions over overlapping stores in the order they were made, so this one ends before
 * the snapshot reads anything and both see the same state. The answer is not a Promise (no
 * await inside the snapshot's transaction): `rewind_key_generators_read` takes it once the
 * snapshot's first request has answered. For each name: the generated key (the key the
 * generator gives next), or null (no generator, or one used up: the add failed).
 */
export function rewind_key_generators_start(db, names) {
  const probe = { keys: names.map(() => null), left: 0 };
  const stores = [];
  if (names.length > 0) {
    const look = db.transaction(names, "readonly");
    names.forEach((name, i) => {
      const store = look.objectStore(name);
      if (store.autoIncrement) stores.push({ i, name, keyPath: store.keyPath });
    });
  }
  if (stores.length === 0) return probe;
  const tx = db.transaction(stores.map((s) => s.name), "readwrite");
  // The abort is ours: neither it nor a failed add reaches the connection's handlers.
  tx.onabort = (e) => e.stopPropagation();
  tx.onerror = (e) => { e.preventDefault(); e.stopPropagation(); };
  probe.left = stores.length;
  const answered = () => {
    probe.left -= 1;
    if (probe.left === 0) tx.abort();
  };
  for (const { i, name, keyPath } of stores) {
    let request;
    try {
      request = tx.objectStore(name).add(keyless(keyPath));
    } catch {
      // A value the store refuses (it cannot happen for a key path a generator may have):
      // the generator stays unknown, the backup goes on.
      answered();
      continue;
    }
    request.onsuccess = () => { probe.keys[i] = request.result; answered(); };
    // ConstraintError: the generator is used up (or, beyond it, a key is taken). Unknown.
    request.onerror = (e) => { e.preventDefault(); e.stopPropagation(); answered(); };
  }
  return probe;
}

/** The keys `rewind_key_generators_start` read (numbers or nulls, by name); throws if it has
 * not finished (it always has once a later transaction over its stores has run). */
export function rewind_key_generators_read(probe) {
  if (probe.left !== 0) throw new Error("the key generators were not read before the snapshot");
  return probe.keys;
}

/**
 * Sets key generators back, in read-write transaction `tx` over the staging stores: for each
 * store `names[i]` (key path `keyPaths[i]`, a string or null), numeric key `keys[i]` is put and
 * deleted again, which raises the generator to `keys[i] + 1`, unless a record already holds
 * that key (its put raised the generator already, and it must stay). Requests only; the caller
 * awaits the transaction. A failing request fails the transaction.
 */
export function rewind_key_generators_raise(tx, names, keys, keyPaths) {
  names.forEach((name, i) => {
    const store = tx.objectStore(name);
    const key = keys[i];
    const keyPath = keyPaths[i];
    const held = store.count(key);
    held.onsuccess = () => {
      if (held.result !== 0) return;
      if (keyPath === null) store.put(null, key);
      else store.put(holding(keyPath, key));
      store.delete(key);
    };
  });
}
