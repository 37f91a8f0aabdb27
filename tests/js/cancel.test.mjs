// A restore cancelled through an AbortSignal: refused with `Cancelled`, the database as it was,
// no staging store left behind; a signal that is not one is refused before anything runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withPage } from "./setup.mjs";

const SETUP = `
  window.M = [
    { version: 1, name: "items", up: [{ op: "createStore", store: "items", keyPath: "id" }],
      down: [{ op: "deleteStore", store: "items" }] },
  ];
  window.everyStore = (name) => T.withDb(name, (db) => [...db.objectStoreNames]);
`;

test("a restore aborted through its signal changes nothing and leaves no staging store", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("cancelled", M);
      await rw.migrateTo();
      // 3,000 records of 5 KB: a file of several chunks (4 MiB each at most).
      const records = Array.from({ length: 3000 }, (_, i) => ({ id: i, text: `record ${i} `.padEnd(5000, "x") }));
      await T.put("cancelled", "items", records);
      const backup = await rw.backup("all of it");
      await T.put("cancelled", "items", [{ id: "changed since", text: "kept" }]);
      const storesBefore = await everyStore("cancelled");

      // Aborted once its first chunk is staged, with more to come.
      const controller = new AbortController();
      const seen = [];
      const midway = await T.failure(rw.restore(backup.id, {
        signal: controller.signal,
        onProgress: (done, total) => {
          seen.push([done, total]);
          if (total === 3000 && done > 0 && done < total) controller.abort();
        },
      }));
      const itemsAfter = (await T.getAll("cancelled", "items")).length;
      const storesAfter = await everyStore("cancelled");
      const journal = (await rw.status()).journal;

      // Aborted before it starts.
      const early = await T.failure(rw.restore(backup.id, { signal: AbortSignal.abort() }));
      // Not a signal.
      const wrong = await T.failure(rw.restore(backup.id, { signal: { aborted: true } }));
      // Left alone, the same restore runs.
      await rw.restore(backup.id, { signal: new AbortController().signal });
      const restored = (await T.getAll("cancelled", "items")).length;
      return { midway, seen, itemsAfter, storesBefore, storesAfter, journal, early, wrong, restored, backups: (await rw.listBackups()).length };
    });
    assert.equal(r.midway.code, "Cancelled", JSON.stringify(r.midway));
    const staged = r.seen.filter(([done, total]) => total === 3000 && done > 0);
    assert.ok(staged.length >= 1 && staged.at(-1)[0] < 3000, `cancelled between chunks: ${JSON.stringify(r.seen)}`);
    assert.match(r.midway.message, /cancelled before it changed anything/);
    assert.equal(r.itemsAfter, 3001, "the record written after the backup is still there");
    assert.deepEqual(r.storesAfter, r.storesBefore, "no staging store is left");
    assert.equal(r.journal[0].operation, "restore");
    assert.match(r.journal[0].error, /cancelled/);
    assert.equal(r.early.code, "Cancelled");
    assert.equal(r.wrong.code, "InvalidArgument");
    assert.match(r.wrong.message, /options\.signal must be an AbortSignal/);
    assert.equal(r.restored, 3000);
    // Staging comes before the automatic backup: a restore cancelled while staging took none.
    assert.equal(r.backups, 2, "the backup made here and the automatic backup of the restore that ran");
  });
});

test("undoing a restore from the backup it held in place can be aborted between its transactions", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("cancelled-held", M);
      await rw.migrateTo();
      // 25,000 small records: the held backup's copy takes several transactions (a chunk's
      // worth each: about 4,096 records).
      await T.put("cancelled-held", "items", Array.from({ length: 25000 }, (_, i) => ({ id: i })));
      const empty = await Rewind.open("cancelled-held-empty", M);
      await empty.migrateTo();
      const nothing = await empty.exportBackup((await empty.backup("none")).id);
      const held = (await rw.restore(nothing, { allowOtherDatabase: true })).backupId;
      const storesBefore = await everyStore("cancelled-held");
      const controller = new AbortController();
      const seen = [];
      const midway = await T.failure(rw.restore(held, {
        signal: controller.signal,
        onProgress: (done, total) => {
          seen.push([done, total]);
          if (done > 0 && done < total) controller.abort();
        },
      }));
      const itemsAfter = (await T.getAll("cancelled-held", "items")).length;
      const storesAfter = await everyStore("cancelled-held");
      await rw.restore(held);
      const restored = (await T.getAll("cancelled-held", "items")).length;
      return { midway, seen, itemsAfter, storesBefore, storesAfter, restored };
    });
    assert.equal(r.midway.code, "Cancelled", JSON.stringify(r.midway));
    assert.equal(r.seen.length, 1, `heard after the first transaction: ${JSON.stringify(r.seen)}`);
    assert.ok(r.seen[0][0] > 0 && r.seen[0][0] < 25000 && r.seen[0][1] === 25000, JSON.stringify(r.seen));
    assert.equal(r.itemsAfter, 0, "the database as it was: empty");
    assert.deepEqual(r.storesAfter, r.storesBefore, "no staging store is left; the held backup stays");
    assert.equal(r.restored, 25000, "left alone, the same restore runs");
  });
});
