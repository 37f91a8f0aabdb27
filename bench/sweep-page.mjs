// The sweep's page: one store of records of one size (text, or a Blob each), restored into
// the existing database as a person restores it — Rewind (automatic backup included) against
// dexie-export-import's importInto (clearing the tables first) and a raw put. bench/sweep.mjs
// drives it; each operation on `window.S` resolves to its time.
import Dexie from "dexie";
import { exportDB, importInto } from "/node_modules/dexie-export-import/dist/dexie-export-import.mjs";
// pkg/ by default; `?pkg=/some/dir` loads another build (two builds side by side).
const PKG = new URLSearchParams(location.search).get("pkg") ?? "../pkg";
// `?nocompress`: the package as a browser without CompressionStream sees it, so every backup
// it makes (automatic ones included) is format 3 — the other side of an A/B of compression.
if (new URLSearchParams(location.search).has("nocompress")) delete globalThis.CompressionStream;
const { default: init, Rewind } = await import(`${PKG}/rewind.js`);
await init();
const DB = "sweep";
const RAW = "sweep_raw";
const MIGRATIONS = [{ version: 1, name: "records", up: [{ op: "createStore", store: "records", keyPath: "id" }],
  down: [{ op: "deleteStore", store: "records" }] }];
const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
const txDone = (tx) => new Promise((ok, fail) => { tx.oncomplete = ok; tx.onabort = tx.onerror = () => fail(tx.error); });
const now = () => performance.now();
const gc = () => { if (typeof window.gc === "function") window.gc(); };
const deleteDb = (name) => req(indexedDB.deleteDatabase(name));

/** Deterministic text of `size` bytes (words from a small vocabulary, so it compresses as
 * notes do, not as noise). */
function text(i, size) {
  const words = ["meeting", "garden", "plan", "list", "draft", "trip", "idea", "call", "notes", "review"];
  let s = `${i}:`, x = i * 2654435761 >>> 0;
  while (s.length < size) { x = (x * 1103515245 + 12345) >>> 0; s += words[x % 10] + " "; }
  return s.slice(0, size);
}
function bytes(i, size) {
  const b = new Uint8Array(size);
  let x = (i + 1) * 2654435761 >>> 0;
  for (let k = 0; k < size; k += 4) { x = (x * 1103515245 + 12345) >>> 0; b[k] = x & 255; b[k + 1] = (x >> 8) & 255; }
  return b;
}
function records(kind, size, count) {
  return Array.from({ length: count }, (_, i) => kind === "blob"
    ? { id: i, name: `file-${i}.bin`, file: new Blob([bytes(i, size)], { type: "application/octet-stream" }) }
    : { id: i, title: `record ${i}`, text: text(i, size) });
}
async function putAll(name, list) {
  const db = await req(indexedDB.open(name));
  try {
    const tx = db.transaction("records", "readwrite");
    for (const r of list) tx.objectStore("records").put(r);
    await txDone(tx);
  } finally { db.close(); }
}
async function countRecords(name) {
  const db = await req(indexedDB.open(name));
  try { return await req(db.transaction("records").objectStore("records").count()); } finally { db.close(); }
}

let point = null, rewindFile = null, dexieFile = null;

export const S = {
  /** The database `sweep` at version 1 holding `count` records of `kind` ("text", "blob"),
   * each `size` bytes. */
  async setup(kind, size, count) {
    for (const n of [DB, RAW, `__rewind_backups:${DB}`]) await deleteDb(n);
    const rw = await Rewind.open(DB, MIGRATIONS, { keepAutomaticBackups: 1 });
    await rw.migrateTo(1);
    await putAll(DB, records(kind, size, count));
    point = { kind, size, count };
    return { records: await countRecords(DB) };
  },
  /** A put of every record in one transaction into an empty store (records made first). */
  async rawWrite() {
    await deleteDb(RAW);
    const list = records(point.kind, point.size, point.count);
    const made = await req(Object.assign(indexedDB.open(RAW, 1), {
      onupgradeneeded: (e) => e.target.result.createObjectStore("records", { keyPath: "id" }),
    }));
    made.close();
    gc();
    const t0 = now();
    await putAll(RAW, list);
    const ms = now() - t0;
    const n = await countRecords(RAW);
    await deleteDb(RAW);
    return { ms, records: n };
  },
  async dexieExport() {
    const db = new Dexie(DB);
    await db.open();
    gc();
    const t0 = now();
    dexieFile = await exportDB(db);
    const ms = now() - t0;
    db.close();
    return { ms, bytes: dexieFile.size };
  },
  /** dexie-export-import into the existing database, its tables cleared first. */
  async dexieImport() {
    const db = new Dexie(DB);
    await db.open();
    gc();
    const t0 = now();
    await importInto(db, dexieFile, { clearTablesBeforeImport: true });
    const ms = now() - t0;
    db.close();
    return { ms, records: await countRecords(DB) };
  },
  /** backup() kept in the catalog, then exportBackup(): a File. */
  async rewindBackup() {
    const rw = await Rewind.open(DB, MIGRATIONS, { keepAutomaticBackups: 1 });
    gc();
    const t0 = now();
    const manifest = await rw.backup("sweep");
    const t1 = now();
    rewindFile = await rw.exportBackup(manifest.id);
    const t2 = now();
    // A copy (outside the clock): Firefox cannot read a stored Blob once its record is gone.
    rewindFile = new File([await rewindFile.arrayBuffer()], rewindFile.name, { type: rewindFile.type });
    await rw.deleteBackup(manifest.id);
    return { ms: t2 - t0, backupMs: t1 - t0, bytes: rewindFile.size };
  },
  /** A copy of the data as a backup stored as it is (format 3), alone: what a restore's
   * automatic backup cost before it was held in place (2026-12-01), and what a migration's
   * still costs. */
  async automaticBackup() {
    const rw = await Rewind.open(DB, MIGRATIONS, { keepAutomaticBackups: 1 });
    gc();
    const t0 = now();
    const manifest = await rw.backup("as an automatic one", { compress: false });
    const ms = now() - t0;
    await rw.deleteBackup(manifest.id);
    return { ms };
  },
  /** inspect(file): the whole file verified, as a restore verifies it first. */
  async rewindInspect() {
    const rw = await Rewind.open(DB, MIGRATIONS);
    gc();
    const t0 = now();
    await rw.inspect(rewindFile);
    return { ms: now() - t0 };
  },
  /** restore(id) of a backup held in place (the automatic backup that restoring the file
   * leaves, untimed), into the existing database: what undoing a restore costs. After
   * rewindBackup (its file). */
  async rewindRestoreHeld() {
    const rw = await Rewind.open(DB, MIGRATIONS, { keepAutomaticBackups: 2 });
    const held = (await rw.restore(rewindFile)).backupId;
    gc();
    const t0 = now();
    await rw.restore(held);
    const ms = now() - t0;
    for (const b of await rw.listBackups()) await rw.deleteBackup(b.id);
    return { ms, records: await countRecords(DB) };
  },
  /** diff(file) against the existing database: what the page's restore dialog reads first.
   * After rewindBackup (its file). */
  async rewindDiff() {
    const rw = await Rewind.open(DB, MIGRATIONS);
    gc();
    const t0 = now();
    await rw.diff(rewindFile);
    return { ms: now() - t0 };
  },
  /** diff(id) of a backup held in place (left by restoring the file, untimed): what the
   * page's dialog reads before undoing a restore. After rewindBackup (its file). */
  async rewindDiffHeld() {
    const rw = await Rewind.open(DB, MIGRATIONS, { keepAutomaticBackups: 2 });
    const held = (await rw.restore(rewindFile)).backupId;
    gc();
    const t0 = now();
    await rw.diff(held);
    const ms = now() - t0;
    for (const b of await rw.listBackups()) await rw.deleteBackup(b.id);
    return { ms };
  },
  /** restore(file) into the existing database: its automatic backup included. */
  async rewindRestore() {
    const rw = await Rewind.open(DB, MIGRATIONS, { keepAutomaticBackups: 1 });
    gc();
    const t0 = now();
    const report = await rw.restore(rewindFile);
    const ms = now() - t0;
    for (const b of await rw.listBackups()) await rw.deleteBackup(b.id);
    return { ms, records: await countRecords(DB), automatic: report.backupId !== null };
  },
};
window.S = S;
document.getElementById("state").textContent = "ready";
