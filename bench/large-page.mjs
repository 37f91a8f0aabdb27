// The large-database page: one store of Blob records (or text records) of about `mb`
// megabytes, then Rewind's backup + export, restore of that file into the existing database
// (its automatic backup included), and a migration and rollback — each with its time, the peak
// of wasm linear memory and the growth of the JS heap. bench/large.mjs drives it.
const PKG = new URLSearchParams(location.search).get("pkg") ?? "../pkg";
const { default: init, Rewind } = await import(`${PKG}/rewind.js`);
const wasm = await init();
const DB = "large";
const MIGRATIONS = [
  { version: 1, name: "records", up: [{ op: "createStore", store: "records", keyPath: "id" }],
    down: [{ op: "deleteStore", store: "records" }] },
  { version: 2, name: "flag", up: [{ op: "addField", store: "records", field: "seen", value: false }],
    down: [{ op: "removeField", store: "records", field: "seen" }] },
];
const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
const txDone = (tx) => new Promise((ok, fail) => { tx.oncomplete = ok; tx.onabort = tx.onerror = () => fail(tx.error); });
const now = () => performance.now();
const gc = () => { if (typeof window.gc === "function") window.gc(); };
const deleteDb = (name) => req(indexedDB.deleteDatabase(name));

/** Peak wasm linear memory and JS heap growth while an operation runs (sampled every 5 ms
 * and at every progress callback): the heap as V8 reports it (garbage not yet collected
 * included, which its collector's own pace decides), and the live heap (what the page still
 * holds), sampled right after a forced collection every 250 ms. */
function sampler() {
  const heap = () => performance.memory?.usedJSHeapSize ?? 0;
  const s = { heap0: heap(), heap: heap(), live: heap(), wasm: wasm.memory.buffer.byteLength };
  const take = () => { s.wasm = Math.max(s.wasm, wasm.memory.buffer.byteLength); s.heap = Math.max(s.heap, heap()); };
  const timer = setInterval(take, 5);
  const collect = setInterval(() => { gc(); s.live = Math.max(s.live, heap()); }, 250);
  return {
    take,
    stop() {
      clearInterval(timer);
      clearInterval(collect);
      take();
      return { wasmBytes: s.wasm, heapGrowth: s.heap - s.heap0, liveGrowth: s.live - s.heap0 };
    },
  };
}
async function measured(run) {
  gc();
  const m = sampler();
  const t0 = now();
  const out = await run(() => m.take());
  return { ms: now() - t0, ...m.stop(), ...out };
}
function bytes(i, size) {
  const b = new Uint8Array(size);
  let x = (i + 1) * 2654435761 >>> 0;
  for (let k = 0; k < size; k += 4) { x = (x * 1103515245 + 12345) >>> 0; b[k] = x & 255; b[k + 1] = (x >> 8) & 255; }
  return b;
}
function text(i, size) {
  const words = ["meeting", "garden", "plan", "list", "draft", "trip", "idea", "call", "notes", "review"];
  let s = `${i}:`, x = i * 2654435761 >>> 0;
  while (s.length < size) { x = (x * 1103515245 + 12345) >>> 0; s += words[x % 10] + " "; }
  return s.slice(0, size);
}
async function countRecords() {
  const db = await req(indexedDB.open(DB));
  try { return await req(db.transaction("records").objectStore("records").count()); } finally { db.close(); }
}
let file = null, count = 0;

export const L = {
  /** `mb` megabytes of records of `size` bytes ("blob": a Blob each; "text": a string),
   * written 50 MB per transaction. */
  async setup(kind, size, mb) {
    for (const n of [DB, `__rewind_backups:${DB}`]) await deleteDb(n);
    const rw = await Rewind.open(DB, MIGRATIONS);
    await rw.migrateTo(1);
    count = Math.round((mb * 1e6) / size);
    const perTx = Math.max(1, Math.round(50e6 / size));
    const db = await req(indexedDB.open(DB));
    for (let i = 0; i < count; i += perTx) {
      const tx = db.transaction("records", "readwrite");
      for (let k = i; k < Math.min(count, i + perTx); k++) {
        tx.objectStore("records").put(kind === "blob"
          ? { id: k, name: `photo-${k}.jpg`, file: new Blob([bytes(k, size)], { type: "image/jpeg" }) }
          : { id: k, title: `note ${k}`, text: text(k, size) });
      }
      await txDone(tx);
    }
    db.close();
    return { records: await countRecords() };
  },
  async backup() {
    const rw = await Rewind.open(DB, MIGRATIONS, { keepAutomaticBackups: 1 });
    const out = await measured(async (take) => {
      const manifest = await rw.backup("large", { onProgress: take });
      file = await rw.exportBackup(manifest.id);
      return { bytes: file.size, id: manifest.id };
    });
    return out;
  },
  /** restore(file) into the existing database, automatic backup included. */
  async restore() {
    const rw = await Rewind.open(DB, MIGRATIONS, { keepAutomaticBackups: 1 });
    const out = await measured(async (take) => {
      const report = await rw.restore(file, { onProgress: take });
      return { automatic: report.backupId !== null };
    });
    return { ...out, records: await countRecords() };
  },
  async migrate() {
    const rw = await Rewind.open(DB, MIGRATIONS, { keepAutomaticBackups: 1 });
    return measured(async (take) => { await rw.migrateTo(2, { onProgress: take }); return {}; });
  },
  async rollback() {
    const rw = await Rewind.open(DB, MIGRATIONS, { keepAutomaticBackups: 1 });
    const out = await measured(async (take) => { await rw.rollbackTo(1, { onProgress: take }); return {}; });
    return { ...out, version: (await rw.status()).schemaVersion, records: await countRecords() };
  },
  async cleanup() {
    file = null;
    for (const n of [DB, `__rewind_backups:${DB}`]) await deleteDb(n);
  },
};
window.L = L;
document.getElementById("state").textContent = "ready";
