// The test page: pkg/ loaded as an app loads it, plus small helpers the tests call through
// page.evaluate. Served from the repository root.
import init, { Rewind } from "../../pkg/rewind.js";

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
      tx.onerror = () => fail(tx.error);
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
  /** The rejection of `p` as plain data (or a failure when it resolves). */
  async failure(p) {
    try {
      await p;
    } catch (e) {
      return { isError: e instanceof Error, name: e.name, code: e.code, message: e.message };
    }
    return { resolved: true };
  },
  /** Any stored value as a JSON-able tree that keeps what JSON would lose (types, -0, NaN,
   * Blob bytes, shared and cyclic references). */
  async shape(v, seen = new Map()) {
    if (v === undefined) return { t: "undefined" };
    if (typeof v === "number") return Object.is(v, -0) ? { t: "-0" } : Number.isNaN(v) ? { t: "NaN" } : v;
    if (typeof v === "bigint") return { t: "bigint", v: String(v) };
    if (v === null || typeof v !== "object") return v;
    if (seen.has(v)) return { t: "ref", v: seen.get(v) };
    seen.set(v, seen.size);
    const tag = Object.prototype.toString.call(v).slice(8, -1);
    if (v instanceof Date) return { t: "Date", v: v.getTime() };
    if (v instanceof Blob) return { t: tag, type: v.type, name: v.name, text: await v.text() };
    if (ArrayBuffer.isView(v)) return { t: tag, v: [...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)] };
    if (v instanceof ArrayBuffer) return { t: tag, v: [...new Uint8Array(v)] };
    if (v instanceof Map) return { t: "Map", v: await Promise.all([...v].map(async ([k, x]) => [await T.shape(k, seen), await T.shape(x, seen)])) };
    if (v instanceof Set) return { t: "Set", v: await Promise.all([...v].map((x) => T.shape(x, seen))) };
    if (v instanceof RegExp) return { t: "RegExp", v: String(v) };
    if (Array.isArray(v)) return { t: "Array", length: v.length, v: await Promise.all(Object.keys(v).map(async (k) => [k, await T.shape(v[k], seen)])) };
    return { t: tag, v: await Promise.all(Object.keys(v).map(async (k) => [k, await T.shape(v[k], seen)])) };
  },
  /** Records of every kind IndexedDB stores. */
  richRecords() {
    const shared = { n: 1 };
    const cyclic = { id: "cyclic" };
    cyclic.self = cyclic;
    const sparse = [1, , 3];
    return [
      { id: "types", date: new Date(Date.UTC(2024, 1, 29)), map: new Map([["a", 1], [2, { b: true }]]),
        set: new Set(["x", 3]), bytes: new Uint8Array([0, 1, 255]), floats: new Float64Array([1.5, -0, NaN]),
        buffer: new Uint8Array([9, 8]).buffer, blob: new Blob(["hello"], { type: "text/plain" }),
        file: new File(["file body"], "a.txt", { type: "text/plain", lastModified: 7 }),
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
