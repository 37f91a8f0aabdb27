// A stored Blob whose data is gone: Chromium keeps each Blob stored in IndexedDB as a file of
// the profile (…/IndexedDB/<origin>.indexeddb.blob/…). One is deleted while the browser is
// closed (a disk cleanup, a damaged profile); reading that Blob then fails. `backup()` and
// `migrateTo()` (whose automatic backup reads every Blob) must refuse with LostBlob naming the
// store and the record's key, change nothing and keep no backup; once the app has put the Blob
// again, both run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { persistentContext, openPage, chromiumOnly } from "./setup.mjs";

const DB = "lb";
// Each Blob has a size of its own, by which its file is found in the profile.
const BLOBS = { "blob-a": 70_001, "blob-b": 70_002, "blob-c": 70_003 };
const LOST = "blob-b";
// Text records of 1 MiB each, 17 MiB in all.
const TEXTS = 17;

/** Every file under `dir`, recursively. */
async function files(dir) {
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(path)));
    else out.push(path);
  }
  return out;
}

/** Deletes, in the closed browser's profile, the file that holds the Blob of record LOST
 * (the only file of its size). */
async function loseBlobFile(profile) {
  const stored = join(profile, "Default", "IndexedDB");
  const blobFiles = (await files(stored)).filter((f) => f.includes(".indexeddb.blob"));
  const sized = await Promise.all(blobFiles.map(async (f) => [f, (await stat(f)).size]));
  const lost = sized.filter(([, size]) => size === BLOBS[LOST]).map(([f]) => f);
  assert.equal(lost.length, 1, `one file holds the Blob of ${LOST}: ${JSON.stringify(sized)}`);
  await rm(lost[0]);
}

/** Closes `context`, loses the Blob file in its profile, and opens the profile again:
 * `{ context, page }` of the browser reopened. */
async function reopenWithoutBlob(context, profile) {
  await context.close();
  await loseBlobFile(profile);
  const reopened = await persistentContext(profile);
  try {
    return { context: reopened, page: await openPage(reopened) };
  } catch (e) {
    await reopened.close();
    throw e;
  }
}

/** Puts the Blob records `keys` into store "loose" of the database (their bytes depend on the
 * key alone, so a Blob put again is the one lost). */
function putBlobs(page, keys) {
  return page.evaluate(async ({ db, keys, sizes }) => {
    const blob = (key) => {
      const b = new Uint8Array(sizes[key]);
      for (let i = 0; i < b.length; i++) b[i] = (i * 31 + key.length + key.charCodeAt(5)) & 255;
      return new Blob([b], { type: "application/x-rewind-test" });
    };
    await F.put(db, "loose", keys.map((k) => ({ name: k, data: blob(k) })), keys);
  }, { db: DB, keys, sizes: BLOBS });
}

/** What the database holds, without reading any Blob's bytes (one of them cannot be read):
 * IndexedDB version, stores, keys, values with Blobs as their type and size, Rewind's metadata;
 * the journal apart. */
function summary(page) {
  return page.evaluate(async (db) => {
    const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
    const plain = (v) => JSON.stringify(v, function (k, x) {
      const raw = this[k];
      if (raw instanceof Blob) return { blob: raw.type, size: raw.size };
      if (raw instanceof Date) return { date: raw.getTime() };
      if (raw instanceof Map) return { map: [...raw] };
      if (ArrayBuffer.isView(raw)) return { bytes: [...raw] };
      return x;
    });
    return F.withDb(db, async (d) => {
      const names = [...d.objectStoreNames];
      const tx = d.transaction(names);
      const stores = {};
      for (const s of names.filter((s) => s !== "__rewind_journal")) {
        const st = tx.objectStore(s);
        stores[s] = { keys: plain(await req(st.getAllKeys())), values: plain(await req(st.getAll())) };
      }
      const journal = (await req(tx.objectStore("__rewind_journal").getAll())).map((e) => JSON.parse(e));
      return { version: d.version, names, stores, journal };
    });
  }, DB);
}

test("a stored Blob whose file is gone from the profile: backup and migrateTo refused with LostBlob naming store and key, nothing changed; after the Blob is put again both run", chromiumOnly("a persistent profile whose IndexedDB Blob files the test can reach"), async () => {
  const profile = await mkdtemp(join(tmpdir(), "rewind-profile-"));
  let context;
  try {
    context = await persistentContext(profile);
    let page = await openPage(context);
    await page.evaluate(async (db) => F.seed(db, { n: 20, version: 1 }), DB);
    await putBlobs(page, Object.keys(BLOBS));
    // Behind the Blobs in key order, more than 16 MiB of text: the backup gathers its chunks
    // into a Blob once they add up to 16 MiB, which once took the records' Blobs before them
    // into that Blob — where a lost one can block Chromium's page thread for good.
    await page.evaluate(async ({ db, n }) => {
      const keys = Array.from({ length: n }, (_, i) => `text-${String(i).padStart(2, "0")}`);
      await F.put(db, "loose", keys.map((k, i) => ({ name: k, text: String.fromCharCode(97 + i).repeat(1 << 20) })), keys);
    }, { db: DB, n: TEXTS });
    // The browser is closed; its profile loses the file of one Blob.
    ({ context, page } = await reopenWithoutBlob(context, profile));
    const before = await summary(page);
    const r = await page.evaluate(async (db) => {
      const rw = await F.open(db);
      const out = {};
      out.backup = await F.failure(rw.backup("with a lost Blob"));
      out.migrate = await F.failure(rw.migrateTo(2));
      out.status = await rw.status();
      out.listed = (await rw.listBackups()).length;
      rw.close();
      return out;
    }, DB);
    const after = await summary(page);

    for (const op of ["backup", "migrate"]) {
      const f = r[op];
      assert.equal(f.code, "LostBlob", `${op}: ${JSON.stringify(f)}`);
      assert.match(f.message, /^the data of a Blob in store "loose" \(the record with key "blob-b"\) is gone from the browser's storage \(.+\)/, op);
      assert.match(f.message, /Nothing was changed and no backup was kept\. Put the Blob into that record again, or delete the record/, op);
      assert.match(f.message, /automaticBackup: false/, op);
    }
    assert.equal(r.status.schemaVersion, 1, "still at schema version 1");
    assert.equal(r.listed, 0, "no backup was kept");
    assert.deepEqual({ ...after, journal: null }, { ...before, journal: null }, "data, schema and metadata unchanged");
    // The migration that did not start is journaled, with the reason; the backup is not an
    // operation on the database and leaves no entry.
    const added = after.journal.slice(before.journal.length);
    assert.equal(added.length, 1, JSON.stringify(added));
    assert.deepEqual([added[0].operation, added[0].from, added[0].to, added[0].backupId], ["migrate", 1, 2, null]);
    assert.equal(added[0].error, `the automatic backup before it failed, so nothing was changed: ${r.migrate.message}`);

    // The app puts the Blob again: the backup runs, and so does the migration.
    await putBlobs(page, [LOST]);
    const again = await page.evaluate(async (db) => {
      const rw = await F.open(db);
      const backup = await F.failure(rw.backup("after the Blob was put again"));
      const migrate = await F.failure(rw.migrateTo(2));
      const status = await rw.status();
      rw.close();
      return { backup, migrate, status, catalog: await F.catalog(db) };
    }, DB);
    assert.deepEqual(again.backup, { resolved: true }, JSON.stringify(again.backup));
    assert.deepEqual(again.migrate, { resolved: true }, JSON.stringify(again.migrate));
    assert.equal(again.status.schemaVersion, 2);
    assert.deepEqual(again.catalog.problems, [], "every backup exports and inspects");
    // Listed newest first: the migration's automatic backup, then the manual one.
    assert.deepEqual(again.catalog.list.map((m) => [m.automatic, m.records]),
      [[true, [["items", 20], ["loose", 7 + TEXTS]]], [false, [["items", 20], ["loose", 7 + TEXTS]]]]);
    console.log(`lost Blob (chromium, persistent profile): the file of ${LOST}'s Blob deleted → backup ${r.backup.code}, migrateTo ${r.migrate.code}; ` +
      `nothing changed, no backup, the migration journaled as not started; after the Blob was put again both ran; message: "${r.migrate.message}"`);
  } finally {
    await context?.close();
    await rm(profile, { recursive: true, force: true });
  }
});

test("a backup held in place whose Blob file is gone: restoring it by id refuses with LostBlob naming store and key, nothing changed", chromiumOnly("a persistent profile whose IndexedDB Blob files the test can reach"), async () => {
  const profile = await mkdtemp(join(tmpdir(), "rewind-profile-"));
  let context;
  try {
    context = await persistentContext(profile);
    let page = await openPage(context);
    // A backup without the Blobs, then the Blobs put, then that backup restored: the records
    // with Blobs are held in place (their files the only ones of their sizes).
    const held = await page.evaluate(async (db) => {
      await F.seed(db, { n: 20, version: 1 });
      const rw = await F.open(db);
      const without = await rw.backup("without the Blobs");
      rw.close();
      return without.id;
    }, DB);
    await putBlobs(page, Object.keys(BLOBS));
    const heldId = await page.evaluate(async ({ db, id }) => {
      const rw = await F.open(db);
      const report = await rw.restore(id);
      rw.close();
      return report.backupId;
    }, { db: DB, id: held });
    ({ context, page } = await reopenWithoutBlob(context, profile));
    const before = await summary(page);
    const r = await page.evaluate(async ({ db, id }) => {
      const rw = await F.open(db);
      const restore = await F.failure(rw.restore(id));
      const listed = (await rw.listBackups()).map((m) => m.id);
      rw.close();
      return { restore, listed };
    }, { db: DB, id: heldId });
    const after = await summary(page);
    assert.equal(r.restore.code, "LostBlob", JSON.stringify(r.restore));
    assert.match(r.restore.message, /^backup \S+ holds a Blob whose data is gone from the browser's storage \(store "loose", the record with key "blob-b"; .+\)/);
    assert.match(r.restore.message, /Nothing was changed\. Restore another backup/);
    assert.ok(r.listed.includes(heldId), "the held backup is still listed");
    // A staged restore that stopped leaves the IndexedDB version higher, and nothing else.
    assert.deepEqual({ ...after, journal: null, version: null }, { ...before, journal: null, version: null },
      "data, schema, metadata and the held backup unchanged");
    console.log(`lost Blob in a held backup (chromium): restore by id → ${r.restore.code}: "${r.restore.message}"`);
  } finally {
    await context?.close();
    await rm(profile, { recursive: true, force: true });
  }
});
