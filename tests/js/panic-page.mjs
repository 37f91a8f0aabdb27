// The page of the tests that need the tests' build of the package (its switches: the next
// restore panics while it stages or inside its swap; the next upgrade is committed part way)
// and a raw IndexedDB dump to compare databases by.
import init, { Rewind, testPanicInRestore, testCutOffUpgrade } from "../../target/pkg-test/rewind.js";

const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });

export const P = {
  Rewind,
  testPanicInRestore,
  testCutOffUpgrade,
  migrations: [{ version: 1, name: "notes", up: [{ op: "createStore", store: "notes", keyPath: "id" }],
                 down: [{ op: "deleteStore", store: "notes" }] }],
  async put(name, records) {
    const db = await req(indexedDB.open(name));
    try {
      await new Promise((ok, fail) => {
        const tx = db.transaction("notes", "readwrite");
        for (const r of records) tx.objectStore("notes").put(r);
        tx.oncomplete = () => ok(); tx.onerror = tx.onabort = () => fail(tx.error);
      });
    } finally { db.close(); }
  },
  async clear(name, below) {
    const db = await req(indexedDB.open(name));
    try {
      await new Promise((ok, fail) => {
        const tx = db.transaction("notes", "readwrite");
        tx.objectStore("notes").delete(IDBKeyRange.upperBound(below, true));
        tx.oncomplete = () => ok(); tx.onerror = tx.onabort = () => fail(tx.error);
      });
    } finally { db.close(); }
  },
  /** Every store's keys and values and the IndexedDB version, as JSON. */
  async dump(name) {
    const db = await req(indexedDB.open(name));
    try {
      const out = { version: db.version, stores: {} };
      for (const store of [...db.objectStoreNames].sort()) {
        const os = db.transaction(store).objectStore(store);
        out.stores[store] = { keys: await req(os.getAllKeys()), values: await req(os.getAll()) };
      }
      return JSON.stringify(out);
    } finally { db.close(); }
  },
  /** [outcome, value or code and message] or ["PENDING", ms]. */
  settles: (promise, ms = 20000) => Promise.race([
    Promise.resolve(promise).then((v) => ["ok", v], (e) => ["error", e.code ?? String(e), String(e.message)]),
    new Promise((ok) => setTimeout(() => ok(["PENDING", ms]), ms)),
  ]),
};

await init();
window.P = P;
document.getElementById("state").textContent = "ready";
