// The test page: pkg/ loaded as an app loads it, plus small helpers the tests call through
// page.evaluate. Served from the repository root.
import init, { Rewind } from "../../pkg/rewind.js";
import { failure, shape } from "../shared/values.mjs";

const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });

export const T = {
  /** The demo app's migrations, from migrations/*.json as the files are. */
  async demoMigrations() {
    const names = ["0001_initial", "0002_tags", "0003_attachments", "0004_preferences", "0005_priority"];
    return Promise.all(names.map(async (n) => (await fetch(`../../migrations/${n}.json`)).json()));
  },
  /** A plain connection (no upgrade), closed after `f`. */
  async withDb(name, f) {
    const db = await req(indexedDB.open(name));
    try { return await f(db); } finally { db.close(); }
  },
  async put(name, store, records, keys) {
    return T.withDb(name, (db) => new Promise((ok, fail) => {
      const tx = db.transaction(store, "readwrite");
      records.forEach((r, i) => tx.objectStore(store).put(r, keys?.[i]));
      tx.oncomplete = () => ok();
      tx.onerror = tx.onabort = () => fail(tx.error);
    }));
  },
  async getAll(name, store) {
    return T.withDb(name, (db) => req(db.transaction(store).objectStore(store).getAll()));
  },
  async stores(name) {
    return T.withDb(name, (db) => [...db.objectStoreNames].filter((s) => !s.startsWith("__rewind")));
  },
  async indexes(name, store) {
    return T.withDb(name, (db) => [...db.transaction(store).objectStore(store).indexNames]);
  },
  /** Adds an index to `store` below Rewind (an upgrade of its own): what Firefox can leave
   * listed after a tab closed during Rewind's upgrade (docs/reliability.md, Findings 4). */
  async addIndexBelow(name, store, index, keyPath) {
    const version = await T.withDb(name, (db) => db.version);
    const open = indexedDB.open(name, version + 1);
    open.onupgradeneeded = () => open.transaction.objectStore(store).createIndex(index, keyPath);
    (await req(open)).close();
  },
  /** The rejection of `p` as plain data (or a failure when it resolves). */
  failure,
  shape,
  /** Whether this browser session stores Blobs in IndexedDB (WebKit's ephemeral sessions,
   * such as a WebDriver session of MiniBrowser, refuse them). */
  async canStoreBlobs() {
    const open = indexedDB.open("__blob_probe", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("s");
    const db = await req(open);
    try {
      return await new Promise((ok) => {
        const tx = db.transaction("s", "readwrite");
        tx.objectStore("s").put(new Blob(["x"]), 1);
        tx.oncomplete = () => ok(true);
        tx.onabort = () => ok(false);
      });
    } finally {
      db.close();
      await req(indexedDB.deleteDatabase("__blob_probe"));
    }
  },
  /** Records of every kind IndexedDB stores (Blobs and Files unless `blobs` is false). */
  richRecords({ blobs = true } = {}) {
    const shared = { n: 1 };
    const cyclic = { id: "cyclic" };
    cyclic.self = cyclic;
    const sparse = [1, , 3];
    return [
      { id: "types", date: new Date(Date.UTC(2024, 1, 29)), map: new Map([["a", 1], [2, { b: true }]]),
        set: new Set(["x", 3]), bytes: new Uint8Array([0, 1, 255]), floats: new Float64Array([1.5, -0, NaN]),
        buffer: new Uint8Array([9, 8]).buffer,
        ...(blobs ? { blob: new Blob(["hello"], { type: "text/plain" }),
                      file: new File(["file body"], "a.txt", { type: "text/plain", lastModified: 7 }) } : {}),
        big: 12345678901234567890n, negZero: -0, nan: NaN, inf: -Infinity, undef: undefined, nul: null,
        re: /a+b/gi, text: "emoji 😀 and lone \ud800", sparse, nested: { deep: { deeper: [shared, shared] } } },
      cyclic,
    ];
  },
  /** A Blob's bytes with `edit` applied (for damaged files). */
  async edited(blob, edit) {
    const bytes = new Uint8Array(await blob.arrayBuffer());
    edit(bytes);
    return new Blob([bytes]);
  },
};

await init();
window.Rewind = Rewind;
window.T = T;
document.getElementById("state").textContent = "ready";
