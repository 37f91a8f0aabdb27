// Key generators through a backup and its restore (issue 15): the next key an `add` gets after
// a restore is the one it would have got in the backed-up database, even when the last records
// had been deleted (the generator then stands above the highest key). Out-of-line keys, a
// nested in-line key path, and a store whose highest record holds the key just below the
// generator (the restore then has nothing to raise: that record's put did).
import { test } from "node:test";
import assert from "node:assert/strict";
import { withPage } from "./setup.mjs";

// Defined in the page (page.evaluate runs functions there, so they travel as source).
const SETUP = `
  window.M = [
    { version: 1, name: "stores",
      up: [{ op: "createStore", store: "seq", autoIncrement: true },
           { op: "createStore", store: "docs", keyPath: "meta.id", autoIncrement: true },
           { op: "createStore", store: "held", autoIncrement: true },
           { op: "createStore", store: "plain", keyPath: "id" }],
      down: [{ op: "deleteStore", store: "plain" }, { op: "deleteStore", store: "held" },
             { op: "deleteStore", store: "docs" }, { op: "deleteStore", store: "seq" }] },
  ];
  const inTx = (name, stores, f) => T.withDb(name, (db) => new Promise((ok, fail) => {
    const tx = db.transaction(stores, "readwrite");
    const out = f(tx);
    tx.oncomplete = () => ok(out);
    tx.onerror = tx.onabort = () => fail(tx.error);
  }));
  // The key each store's next add gets, committed: the live generators, used.
  window.nextKeys = async (name) => {
    const keys = {};
    await inTx(name, ["seq", "docs", "held"], (tx) => {
      const add = (store, value) => { const r = tx.objectStore(store).add(value); r.onsuccess = () => { keys[store] = r.result; }; };
      add("seq", "next");
      add("docs", { meta: {}, text: "next" });
      add("held", "next");
    });
    return keys;
  };
  window.allKeys = (name) => T.withDb(name, (db) => new Promise((ok, fail) => {
    const tx = db.transaction(["seq", "docs", "held", "plain"]);
    const keys = {};
    for (const s of tx.objectStoreNames) { const r = tx.objectStore(s).getAllKeys(); r.onsuccess = () => { keys[s] = r.result; }; }
    tx.oncomplete = () => ok(keys);
    tx.onerror = () => fail(tx.error);
  }));
  // seq: 100 records, the last 50 deleted (generator 101, highest key 50); docs: 5, the last 3
  // deleted (6, highest 2); held: 10, 3 … 9 deleted (11, and key 10 is a record's).
  window.seed = (name) => inTx(name, ["seq", "docs", "held", "plain"], (tx) => {
    for (let i = 1; i <= 100; i++) tx.objectStore("seq").add({ n: i });
    for (let i = 1; i <= 5; i++) tx.objectStore("docs").add({ meta: { by: "me" }, n: i });
    for (let i = 1; i <= 10; i++) tx.objectStore("held").add(i);
    tx.objectStore("plain").add({ id: "a" });
    tx.objectStore("seq").delete(IDBKeyRange.bound(51, 100));
    tx.objectStore("docs").delete(IDBKeyRange.bound(3, 5));
    tx.objectStore("held").delete(IDBKeyRange.bound(3, 9));
  });
`;

const KEPT = { seq: Array.from({ length: 50 }, (_, i) => i + 1), docs: [1, 2], held: [1, 2, 10], plain: ["a"] };
const NEXT = { seq: 101, docs: 6, held: 11 };

test("a restore leaves every key generator where the backup's stood, by id and from a file into another database", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("gen", M);
      await rw.migrateTo();
      await seed("gen");
      const manifest = await rw.backup("generators");
      const file = await rw.exportBackup(manifest.id);
      const keptAfterBackup = await allKeys("gen");
      // The backup's read changed nothing: the live generators give what they would have.
      const liveAfterBackup = await nextKeys("gen");
      await rw.restore(manifest.id);
      const keptById = await allKeys("gen");
      const nextById = await nextKeys("gen");
      const other = await Rewind.open("gen-copy", M);
      await other.restore(file, { allowOtherDatabase: true });
      const keptFromFile = await allKeys("gen-copy");
      const nextFromFile = await nextKeys("gen-copy");
      const docFromFile = await T.getAll("gen-copy", "docs");
      return {
        generators: Object.fromEntries(manifest.stores.map((s) => [s.schema.name, s.keyGenerator])),
        keptAfterBackup, liveAfterBackup, keptById, nextById, keptFromFile, nextFromFile, docFromFile,
      };
    });
    assert.deepEqual(r.generators, { seq: 101, docs: 6, held: 11, plain: undefined }, "the manifest's keyGenerator");
    assert.deepEqual(r.keptAfterBackup, KEPT, "the backup changed no record");
    assert.deepEqual(r.liveAfterBackup, NEXT, "the backup left the live generators as they were");
    assert.deepEqual(r.keptById, KEPT, "restored by id: the records, none added or removed");
    assert.deepEqual(r.nextById, NEXT, "restored by id: the next keys are the backup's");
    assert.deepEqual(r.keptFromFile, KEPT, "restored from the file: the records");
    assert.deepEqual(r.nextFromFile, NEXT, "restored from the file into another database: the next keys");
    assert.deepEqual(r.docFromFile.map((d) => d.meta.id), [1, 2, 6], "the in-line key is put at its nested path");
  });
});

test("a backup of a database whose generators were never used records 1, and a restore adds from 1", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("fresh", M);
      await rw.migrateTo();
      const manifest = await rw.backup();
      await rw.restore(manifest.id);
      return {
        generators: Object.fromEntries(manifest.stores.map((s) => [s.schema.name, s.keyGenerator])),
        next: await nextKeys("fresh"),
        kept: await allKeys("fresh"),
      };
    });
    assert.deepEqual(r.generators, { seq: 1, docs: 1, held: 1, plain: undefined });
    assert.deepEqual(r.next, { seq: 1, docs: 1, held: 1 });
    assert.deepEqual(r.kept, { seq: [1], docs: [1], held: [1], plain: [] });
  });
});

test("a backup held in place restores by id from its own stores: every record, every generator, progress", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("gen-held", M);
      await rw.migrateTo();
      const empty = await rw.backup("empty");
      await seed("gen-held");
      // The restore of the empty backup holds the seeded stores in place, generators and all.
      const emptied = await rw.restore(empty.id);
      const keptEmpty = await allKeys("gen-held");
      const held = (await rw.listBackups()).find((m) => m.id === emptied.backupId);
      const progress = [];
      const report = await rw.restore(held.id, { onProgress: (done, total) => progress.push([done, total]) });
      const kept = await allKeys("gen-held");
      const next = await nextKeys("gen-held");
      const stillListed = (await rw.listBackups()).some((m) => m.id === held.id);
      return { keptEmpty, inPlace: held.inPlace, records: held.stores.map((s) => s.records), kept, next, progress,
        newHeld: report.backupId !== null && report.backupId !== held.id, stillListed };
    });
    assert.deepEqual(r.keptEmpty, { seq: [], docs: [], held: [], plain: [] });
    assert.equal(r.inPlace, true);
    assert.deepEqual(r.records, [2, 3, 1, 50], "docs, held, plain, seq as the restore found them");
    assert.deepEqual(r.kept, KEPT, "restored by id from its stores: the records");
    assert.deepEqual(r.next, NEXT, "and the generators where they stood");
    assert.deepEqual(r.progress.at(-1), [56, 56], "progress counts every record copied");
    assert.ok(r.progress.length >= 1);
    assert.ok(r.newHeld, "what it replaced is held in turn");
    assert.ok(r.stillListed, "the backup restored from stays");
  });
});
