// The benchmark page: Rewind (through pkg/, as an app uses it), dexie-export-import and raw
// IndexedDB in one page, on the same database. bench/run.mjs drives it; every operation is a
// function on `window.B` that resolves to its measurements.
import Dexie from "dexie";
import { exportDB, importDB } from "/node_modules/dexie-export-import/dist/dexie-export-import.mjs";
import { generate, MIGRATIONS, STORES } from "./data.mjs";

// pkg/ by default; `?pkg=/some/dir` loads another build (to compare builds side by side).
const PKG = new URLSearchParams(location.search).get("pkg") ?? "../pkg";
const { default: init, Rewind } = await import(`${PKG}/rewind.js`);
const wasm = await init();

const SRC = "bench";            // the measured database
const RAW = "bench_raw";        // raw write target
const DEX = "bench_dexie";      // dexie import target
const RES = "bench_restore";    // Rewind restore target
const FILES = "bench_files";    // files kept between pages (memory runs)
const CATALOG = (db) => `__rewind_backups:${db}`;

const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
const txDone = (tx) => new Promise((ok, fail) => { tx.oncomplete = ok; tx.onabort = tx.onerror = () => fail(tx.error); });
const now = () => performance.now();

function deleteDb(name) {
  return new Promise((ok, fail) => {
    const r = indexedDB.deleteDatabase(name);
    r.onsuccess = ok;
    r.onerror = () => fail(r.error);
  });
}
function openDb(name, upgrade) {
  const r = indexedDB.open(name, upgrade ? 1 : undefined);
  if (upgrade) r.onupgradeneeded = () => upgrade(r.result);
  return req(r);
}
function gc() { if (typeof window.gc === "function") window.gc(); }

async function counts(name) {
  const db = await openDb(name);
  try {
    const tx = db.transaction(STORES);
    return Object.fromEntries(await Promise.all(STORES.map(async (s) => [s, await req(tx.objectStore(s).count())])));
  } finally { db.close(); }
}
const sum = (c) => Object.values(c).reduce((a, b) => a + b, 0);

/** Peak wasm linear memory and JS heap while an operation runs: sampled every 2 ms while the
 * event loop is free, at every progress callback, and at the end. */
function sampler() {
  const heap = () => performance.memory?.usedJSHeapSize ?? 0;
  const s = { heap0: heap(), heap: heap(), wasm0: wasm.memory.buffer.byteLength, wasm: 0 };
  const take = () => {
    s.wasm = Math.max(s.wasm, wasm.memory.buffer.byteLength);
    s.heap = Math.max(s.heap, heap());
  };
  take();
  const timer = setInterval(take, 2);
  return {
    take,
    stop() {
      clearInterval(timer);
      take();
      return { wasmBytes: s.wasm, wasmBefore: s.wasm0, heapPeak: s.heap, heapGrowth: s.heap - s.heap0 };
    },
  };
}

let state = { total: 0, jsonBytes: 0, blobs: false };
let rewindFile = null;
let dexieFile = null;

async function putAll(db, records) {
  const tx = db.transaction(STORES, "readwrite");
  const stores = Object.fromEntries(STORES.map((s) => [s, tx.objectStore(s)]));
  for (const [s, k, v] of records) stores[s].put(v, k);
  await txDone(tx);
}

function createStores(db) {
  db.createObjectStore("items", { keyPath: "id" }).createIndex("by_count", "count");
  db.createObjectStore("docs");
  db.createObjectStore("events", { autoIncrement: true });
}

export const B = {
  /** Deletes every benchmark database, then creates `bench` (through Rewind, at v1) holding
   * `total` records. */
  async setup(total, { blobs = false } = {}) {
    for (const n of [SRC, RAW, DEX, RES, FILES]) { await deleteDb(n); await deleteDb(CATALOG(n)); }
    const rw = await Rewind.open(SRC, MIGRATIONS);
    await rw.migrateTo(1);
    const db = await openDb(SRC);
    let batch = [], jsonBytes = 0, n = 0;
    const enc = new TextEncoder();
    const flush = async () => { await putAll(db, batch); batch = []; };
    const pending = [];
    generate(total, { blobs }, (s, k, v) => {
      jsonBytes += enc.encode(JSON.stringify(v)).length;
      batch.push([s, k, v]);
      n++;
      if (batch.length === 20_000) { pending.push(batch); batch = []; }
    });
    pending.push(batch);
    for (const b of pending) await putAll(db, b);
    db.close();
    state = { total: n, jsonBytes, blobs };
    return { ...state, counts: await counts(SRC) };
  },

  /** Raw read limit: getAll of every store in one read-only transaction, and a Blob of it
   * (the JSON of each store's array). */
  async rawRead() {
    gc();
    const db = await openDb(SRC);
    const t0 = now();
    const tx = db.transaction(STORES, "readonly");
    const arrays = await Promise.all(STORES.map((s) => req(tx.objectStore(s).getAll())));
    const blob = new Blob(arrays.map((a) => JSON.stringify(a)), { type: "application/json" });
    const ms = now() - t0;
    db.close();
    return { ms, bytes: blob.size, records: arrays.reduce((a, x) => a + x.length, 0) };
  },

  /** Raw write limit: put of every record in one read-write transaction, into an empty
   * database with the same stores (records made before the clock starts). */
  async rawWrite() {
    await deleteDb(RAW);
    const records = [];
    generate(state.total, { blobs: state.blobs }, (s, k, v) => records.push([s, k, v]));
    const db = await openDb(RAW, createStores);
    gc();
    const t0 = now();
    await putAll(db, records);
    const ms = now() - t0;
    db.close();
    const c = await counts(RAW);
    await deleteDb(RAW);
    return { ms, records: sum(c) };
  },

  /** dexie-export-import's exportDB of the database (Dexie opened in dynamic mode). */
  async dexieExport({ memory = false } = {}) {
    gc();
    const db = new Dexie(SRC);
    await db.open();
    const m = memory && sampler();
    const t0 = now();
    dexieFile = await exportDB(db, { progressCallback: () => { m && m.take(); return true; } });
    const ms = now() - t0;
    const mem = m && m.stop();
    db.close();
    if (memory) await keepFile("dexie", dexieFile);
    return { ms, bytes: dexieFile.size, memory: mem };
  },

  /** dexie-export-import's importDB of that export into a new database. */
  async dexieImport({ memory = false } = {}) {
    if (memory) dexieFile = await takeFile("dexie");
    await deleteDb(DEX);
    gc();
    const m = memory && sampler();
    const t0 = now();
    const db = await importDB(dexieFile, { name: DEX, progressCallback: () => { m && m.take(); return true; } });
    const ms = now() - t0;
    const mem = m && m.stop();
    db.close();
    const c = await counts(DEX);
    await deleteDb(DEX);
    return { ms, records: sum(c), memory: mem };
  },

  /** Rewind: backup (kept in the catalog) and export_backup, to a File. */
  async rewindBackup({ memory = false } = {}) {
    const rw = await Rewind.open(SRC, MIGRATIONS);
    gc();
    const m = memory && sampler();
    const t0 = now();
    const manifest = await rw.backup("bench", { onProgress: () => m && m.take() });
    const t1 = now();
    rewindFile = await rw.exportBackup(manifest.id);
    const t2 = now();
    const mem = m && m.stop();
    // Firefox: a Blob read from IndexedDB cannot be read once its record is deleted
    // (docs/engines.md); the restore runs use a copy, made outside the measured time.
    rewindFile = new File([await rewindFile.arrayBuffer()], rewindFile.name, { type: rewindFile.type });
    await rw.deleteBackup(manifest.id);
    if (memory) await keepFile("rewind", rewindFile);
    return { ms: t2 - t0, backupMs: t1 - t0, exportMs: t2 - t1, bytes: rewindFile.size, memory: mem };
  },

  /** Rewind: restore from that File into a database that does not exist yet. */
  async rewindRestore({ memory = false } = {}) {
    if (memory) rewindFile = await takeFile("rewind");
    await deleteDb(RES);
    await deleteDb(CATALOG(RES));
    const rw = await Rewind.open(RES, MIGRATIONS);
    gc();
    const m = memory && sampler();
    const t0 = now();
    await rw.restore(rewindFile, { allowOtherDatabase: true, onProgress: () => m && m.take() });
    const ms = now() - t0;
    const mem = m && m.stop();
    const c = await counts(RES);
    await deleteDb(RES);
    await deleteDb(CATALOG(RES));
    return { ms, records: sum(c), memory: mem };
  },

  /** Rewind: migrate_to(2) — an automatic backup, then a data step over every record — and
   * rollback_to(1) — an automatic backup, then the reverse data step. */
  async rewindMigrate() {
    const rw = await Rewind.open(SRC, MIGRATIONS, { keepAutomaticBackups: 1 });
    gc();
    const t0 = now();
    await rw.migrateTo(2);
    const t1 = now();
    gc();
    const t2 = now();
    await rw.rollbackTo(1);
    const t3 = now();
    for (const b of await rw.listBackups()) await rw.deleteBackup(b.id);
    const status = await rw.status();
    return { migrateMs: t1 - t0, rollbackMs: t3 - t2, version: status.schemaVersion };
  },

  env() {
    return { userAgent: navigator.userAgent, cores: navigator.hardwareConcurrency, preciseMemory: !!performance.memory };
  },
};

async function filesDb() {
  return openDb(FILES, (db) => db.createObjectStore("files"));
}
async function keepFile(key, blob) {
  const db = await filesDb();
  const tx = db.transaction("files", "readwrite");
  tx.objectStore("files").put(blob, key);
  await txDone(tx);
  db.close();
}
async function takeFile(key) {
  const db = await filesDb();
  const blob = await req(db.transaction("files").objectStore("files").get(key));
  db.close();
  if (!blob) throw new Error(`no ${key} file kept`);
  return blob;
}

window.B = B;
document.getElementById("state").textContent = "ready";
