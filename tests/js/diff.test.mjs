// rw.diff(source): what a restore would change, per store and in the schema, from a catalog id
// and from a File; read only (no write, no backup, no database made); damaged files refused as
// restore refuses them; progress heard and a cancel between batches. Rewind.storage() and
// Rewind.persist().
import { test } from "node:test";
import assert from "node:assert/strict";
import { withPage, assertCode, ENGINE } from "./setup.mjs";

// Defined in the page (page.evaluate runs functions there, so they travel as source).
const SETUP = `
  window.M = [
    { version: 1, name: "items", up: [{ op: "createStore", store: "items", keyPath: "id" },
                                      { op: "createStore", store: "loose" }],
      down: [{ op: "deleteStore", store: "loose" }, { op: "deleteStore", store: "items" }] },
    { version: 2, name: "by label", up: [{ op: "createIndex", store: "items", index: "by_label", keyPath: "label" }],
      down: [{ op: "deleteIndex", store: "items", index: "by_label" }] },
  ];
  window.items = (from, to, label, pad = 0) => {
    const out = [];
    for (let id = from; id <= to; id++) out.push({ id, label, text: "x".repeat(pad) });
    return out;
  };
  window.snapshotOf = async (name) => ({
    items: await T.getAll(name, "items"), loose: await T.getAll(name, "loose"), stores: await T.stores(name),
  });
`;

test("diff from a catalog id and from a File counts adds, removes and changes; nothing changes", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("notes", M);
      await rw.migrateTo(1);
      await T.put("notes", "items", items(1, 50, "old"));
      // Out-of-line keys of every type, in IndexedDB's order: numbers, dates, strings, binary, arrays.
      const keys = [-1, 2.5, new Date(5), "10", "a", new Uint8Array([1, 2]).buffer, [1, "b"]];
      await T.put("notes", "loose", keys.map((_, i) => ({ n: i })), keys);
      const m = await rw.backup("before");
      const file = await rw.exportBackup(m.id);
      // Since the backup: 1..5 deleted, 6..8 edited, 51..87 made; in loose, "a" deleted,
      // the array key's value changed, a new key; then version 2's index.
      await T.withDb("notes", (db) => new Promise((ok) => {
        const tx = db.transaction(["items", "loose"], "readwrite");
        const s = tx.objectStore("items");
        for (let id = 1; id <= 5; id++) s.delete(id);
        for (const it of items(6, 8, "edited")) s.put(it);
        for (const it of items(51, 87, "new")) s.put(it);
        const l = tx.objectStore("loose");
        l.delete("a");
        l.put({ n: "changed" }, [1, "b"]);
        l.put({ n: 99 }, "zz");
        tx.oncomplete = ok;
      }));
      await rw.migrateTo(2);
      const before = await snapshotOf("notes");
      const backupsBefore = (await rw.listBackups()).length;
      const fromId = await rw.diff(m.id);
      const fromFile = await rw.diff(file);
      const after = await snapshotOf("notes");
      const backupsAfter = (await rw.listBackups()).length;
      // Restoring the backup holds what it replaces in place; the diff of that held backup,
      // read from its stores, is the diff of its exported file, and makes no file.
      const held = (await rw.restore(m.id)).backupId;
      const fromHeld = await rw.diff(held);
      const heldListed = (await rw.listBackups()).find((b) => b.id === held);
      const fromHeldFile = await rw.diff(await rw.exportBackup(held));
      return { fromId, fromFile, before, after, backupsBefore, backupsAfter, fromHeld, fromHeldFile,
               heldBytes: heldListed.bytes };
    });
    const byStore = Object.fromEntries(r.fromId.stores.map((s) => [s.store, s]));
    assert.deepEqual(byStore.items, { store: "items", added: 5, removed: 37, changed: 3, unchanged: 42, inBackup: true, inLive: true });
    assert.deepEqual(byStore.loose, { store: "loose", added: 1, removed: 1, changed: 1, unchanged: 5, inBackup: true, inLive: true });
    assert.deepEqual(r.fromId.schema.map((p) => [p.kind, p.store, p.index]), [["extraIndex", "items", "by_label"]]);
    assert.ok(r.fromId.sentences.includes("37 items created since this backup will be removed"), r.fromId.sentences.join("; "));
    assert.ok(r.fromId.sentences.includes("5 items deleted since this backup will come back"));
    assert.ok(r.fromId.sentences.includes("1 record of loose changed since this backup will be put back as it was"));
    assert.deepEqual(r.fromFile, r.fromId, "the same from the exported file");
    assert.deepEqual(r.after, r.before, "a diff writes nothing");
    assert.equal(r.backupsAfter, r.backupsBefore, "and takes no backup");
    const heldItems = r.fromHeld.stores.find((s) => s.store === "items");
    assert.deepEqual([heldItems.added, heldItems.removed, heldItems.changed, heldItems.unchanged], [37, 5, 3, 42],
      "undoing the restore: back come the records it removed, away go those it brought back");
    assert.deepEqual(r.fromHeld, r.fromHeldFile, "the same from the held backup's stores as from its file");
    assert.equal(r.heldBytes, 0, "the diff leaves it held in place");
  });
});

test("diff walks many records across several chunks, and a database that does not exist yet", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("big", M.slice(0, 1));
      await rw.migrateTo();
      // About 9 MB: three chunks of the file, many live batches.
      await T.put("big", "items", items(1, 6000, "old", 1500));
      const m = await rw.backup("big");
      await T.withDb("big", (db) => new Promise((ok) => {
        const tx = db.transaction("items", "readwrite");
        const s = tx.objectStore("items");
        s.delete(IDBKeyRange.bound(1, 1000));
        for (const it of items(3000, 3099, "edited", 1500)) s.put(it);
        for (const it of items(6001, 6200, "new", 10)) s.put(it);
        tx.oncomplete = ok;
      }));
      const reports = [];
      const diff = await rw.diff(m.id, { onProgress: (done, total) => reports.push([done, total]) });
      // Cancelled once the first batch of the backup is read: between batches, never after.
      const stop = new AbortController();
      const cancelled = await T.failure(rw.diff(m.id, { signal: stop.signal, onProgress: () => stop.abort() }));
      const file = await rw.exportBackup(m.id);
      const fresh = await Rewind.open("fresh", M.slice(0, 1));
      const intoNothing = await fresh.diff(file);
      // WebKit lists a database whose creation was aborted at version 0 (docs/engines.md).
      const names = indexedDB.databases
        ? (await indexedDB.databases()).filter((d) => d.version > 0).map((d) => d.name) : null;
      // Chunks are counted before compression: the trailer's frame count says how many.
      const trailer = new DataView(await file.slice(file.size - 64).arrayBuffer());
      return { diff, intoNothing, names, frames: Number(trailer.getBigUint64(8, true)), reports, cancelled };
    });
    assert.ok(r.reports.length > 2, `progress heard ${r.reports.length} times`);
    assert.ok(r.reports.every(([d, t], i) => t === 6000 && d > (i ? r.reports[i - 1][0] : 0)), JSON.stringify(r.reports.slice(0, 5)));
    assert.deepEqual(r.reports.at(-1), [6000, 6000]);
    assertCode(r.cancelled, "Cancelled");
    assert.ok(r.frames > 2, `${r.frames} chunks: more than two`);
    const items = r.diff.stores.find((s) => s.store === "items");
    assert.deepEqual([items.added, items.removed, items.changed, items.unchanged], [1000, 200, 100, 4900]);
    assert.deepEqual(r.intoNothing.stores.map((s) => [s.store, s.added, s.inLive]), [["items", 6000, false], ["loose", 0, false]]);
    assert.deepEqual(r.intoNothing.schema.map((p) => p.kind), ["missingStore", "missingStore"]);
    if (r.names) assert.ok(!r.names.includes("fresh"), "diffing into a database that does not exist does not make it");
  });
});

test("diff refuses damaged files, unknown ids and wrong arguments; nothing changes", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("notes", M);
      await rw.migrateTo(1);
      await T.put("notes", "items", items(1, 3, "kept"));
      const file = await rw.exportBackup((await rw.backup("b")).id);
      await T.put("notes", "items", items(4, 4, "since"));
      const before = await snapshotOf("notes");
      const size = file.size;
      const cases = {
        garbage: new Blob(["this is not a backup"]),
        truncated: file.slice(0, size - 40),
        flipped: await T.edited(file, (b) => { b[20] ^= 0xff; }),
        newerFormat: await T.edited(file, (b) => { b[8] = 99; }),
        noSuchId: "no-such-id",
        notASource: 42,
      };
      const out = {};
      for (const [k, source] of Object.entries(cases)) out[k] = await T.failure(rw.diff(source));
      out.notASignal = await T.failure(rw.diff(file, { signal: "stop" }));
      out.unknownOption = await T.failure(rw.diff(file, { onProgres: () => {} }));
      const aborted = new AbortController();
      aborted.abort();
      out.abortedBefore = await T.failure(rw.diff(file, { signal: aborted.signal }));
      return { out, before, after: await snapshotOf("notes"), backups: (await rw.listBackups()).length };
    });
    const expect = { garbage: "CorruptBackup", truncated: "CorruptBackup", flipped: "ChecksumMismatch",
      newerFormat: "UnsupportedFormat", noSuchId: "NoSuchBackup", notASource: "InvalidArgument",
      notASignal: "InvalidArgument", unknownOption: "InvalidArgument", abortedBefore: "Cancelled" };
    for (const [k, code] of Object.entries(expect)) {
      assertCode(r.out[k], code, k);
      if (!["notASource", "notASignal", "unknownOption", "abortedBefore"].includes(k)) assert.match(r.out[k].message, /Nothing was changed/, k);
    }
    assert.deepEqual(r.after, r.before, "nothing changed");
    assert.equal(r.backups, 1, "no backup taken");
  });
});

test("a record the backup left out is kept by the restore: the diff counts it unchanged", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("vault", M.slice(0, 1));
      await rw.migrateTo();
      const secret = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt"]);
      await T.put("vault", "items", [{ id: "a", text: "plain" }, { id: "k", secret }]);
      const m = await rw.backup("without the key", { skipUnsupported: true });
      await T.put("vault", "items", [{ id: "z", text: "since" }]);
      return { skipped: m.skipped.map((s) => s.key), diff: await rw.diff(m.id) };
    });
    assert.deepEqual(r.skipped, ['"k"']);
    const items = r.diff.stores.find((s) => s.store === "items");
    assert.deepEqual([items.added, items.removed, items.changed, items.unchanged], [0, 1, 0, 2], "only z is removed");
  });
});

test("a held backup's CryptoKey cannot be compared: the diff calls it changed, and its restore brings it back working", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("vault2", M.slice(0, 1));
      await rw.migrateTo();
      const secret = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt"]);
      await T.put("vault2", "items", [{ id: "a", text: "plain" }, { id: "k", secret }]);
      const m = await rw.backup("without the key", { skipUnsupported: true });
      await T.put("vault2", "items", [{ id: "z", text: "since" }]);
      // The restore holds a, k (the CryptoKey itself) and z in place, and keeps k live.
      const held = (await rw.restore(m.id)).backupId;
      const diff = await rw.diff(held);
      await rw.restore(held);
      const rows = await T.getAll("vault2", "items");
      const key = rows.find((x) => x.id === "k")?.secret;
      const works = key instanceof CryptoKey &&
        (await crypto.subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, key, new Uint8Array(4))).byteLength > 0;
      return { diff, ids: rows.map((x) => x.id), works };
    });
    const items = r.diff.stores.find((s) => s.store === "items");
    assert.deepEqual([items.added, items.removed, items.changed, items.unchanged], [1, 0, 1, 1],
      "z comes back, k cannot be compared (changed), a is the same");
    assert.deepEqual(r.ids, ["a", "k", "z"]);
    assert.equal(r.works, true, "the held CryptoKey came back and encrypts");
  });
});

// Firefox asks the person; its testing preferences answer for them.
const PERSIST_PREFS = (allow) => ENGINE === "firefox"
  ? { "dom.storageManager.prompt.testing": true, "dom.storageManager.prompt.testing.allow": allow }
  : undefined;

for (const allow of [true, false]) {
  test(`Rewind.persist() says what the browser answered (${allow ? "granting" : "refusing"} where a test can choose)`, async () => {
    await withPage(async (page) => {
      const r = await page.evaluate(async () => {
        const before = await Rewind.storage();
        const answer = await Rewind.persist();
        return { before, answer, after: await Rewind.storage() };
      });
      if (ENGINE === "webkit") {
        // WebKitGTK has no navigator.storage (docs/engines.md).
        assert.equal(r.answer, "unsupported");
        assert.equal(r.after, null);
        return;
      }
      if (ENGINE === "firefox") assert.equal(r.answer, allow ? "granted" : "refused");
      else assert.ok(["granted", "refused"].includes(r.answer), r.answer);
      assert.equal(r.after.persisted, r.answer === "granted", "storage() agrees with the answer");
      assert.equal(typeof r.before.usage, "number");
      assert.ok(r.after.quota > 0);
    }, { prefs: PERSIST_PREFS(allow) });
  });
}
