// Adopting a database made before the app used Rewind (Flyway's baseline): a raw IndexedDB
// database and a Dexie 4 one, adopted at a version whose schema they have, then migrated;
// refused, with nothing changed, when unmanaged or when the schema is not the baseline's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assertCode, withPage } from "./setup.mjs";

const SETUP = `
  const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
  window.A = {
    m1: { version: 1, name: "notes",
      up: [{ op: "createStore", store: "notes", keyPath: "id" },
           { op: "createIndex", store: "notes", index: "by_title", keyPath: "title" }],
      down: [{ op: "deleteStore", store: "notes" }] },
    m2: { version: 2, name: "starred",
      up: [{ op: "addField", store: "notes", field: "starred", value: false },
           { op: "createIndex", store: "notes", index: "by_starred", keyPath: "starred" }],
      down: [{ op: "deleteIndex", store: "notes", index: "by_starred" },
             { op: "removeField", store: "notes", field: "starred" }] },
    notes: () => Array.from({ length: 10 }, (_, i) => ({ id: i + 1, title: "note " + (i + 1), body: "b" + i })),
    /** What earlier app code made: IndexedDB version 3, "notes" (key path id, index by_title),
     * ten records; "by_starred" too when asked. */
    async raw(name, { starred = false } = {}) {
      const open = indexedDB.open(name, 3);
      open.onupgradeneeded = () => {
        const s = open.result.createObjectStore("notes", { keyPath: "id" });
        s.createIndex("by_title", "title");
        if (starred) s.createIndex("by_starred", "starred");
      };
      const db = await req(open);
      await new Promise((ok, fail) => {
        const tx = db.transaction("notes", "readwrite");
        for (const n of A.notes()) tx.objectStore("notes").put(starred ? { ...n, starred: false } : n);
        tx.oncomplete = ok; tx.onabort = () => fail(tx.error);
      });
      db.close();
    },
    /** Everything in the database: version, every store (Rewind's too) with its schema, keys
     * and records; and the names of the origin's databases (the backup catalog among them). */
    async dump(name) {
      const db = await req(indexedDB.open(name));
      try {
        const stores = {};
        for (const s of [...db.objectStoreNames]) {
          const os = db.transaction(s).objectStore(s);
          const indexes = [...os.indexNames].map((i) => {
            const ix = os.index(i);
            return [i, ix.keyPath, ix.unique, ix.multiEntry];
          });
          stores[s] = { keyPath: os.keyPath, autoIncrement: os.autoIncrement, indexes,
                        keys: await req(os.getAllKeys()), values: await req(os.getAll()) };
        }
        const databases = (await indexedDB.databases()).map((d) => d.name + "@" + d.version).sort();
        return { version: db.version, stores, databases };
      } finally { db.close(); }
    },
  };
`;


test("an unmanaged database is refused with Unmanaged until adopted, and nothing changes", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      await A.raw("old");
      const before = await A.dump("old");
      const rw = await Rewind.open("old", [A.m1, A.m2]);
      const status = await rw.status();
      const out = {
        status: { managed: status.managed, matching: status.matchingVersions, version: status.schemaVersion },
        migrate: await T.failure(rw.migrateTo()),
        migrate1: await T.failure(rw.migrateTo(1)),
        rollback: await T.failure(rw.rollbackTo(0)),
        plan: await T.failure(rw.plan(2)),
        adoptWithout: await T.failure(rw.adopt()),
        badBaseline: await T.failure(Rewind.open("old", [A.m1, A.m2], { baseline: 3 })),
        zeroBaseline: await T.failure(Rewind.open("old", [A.m1, A.m2], { baseline: 0 })),
        backups: (await rw.listBackups()).length,
      };
      out.same = JSON.stringify(await A.dump("old")) === JSON.stringify(before);
      // A database without app stores is not unmanaged: it migrates from 0.
      const fresh = await Rewind.open("fresh", [A.m1, A.m2], { baseline: 1 });
      out.freshStatus = (await fresh.status()).managed;
      out.fresh = await fresh.migrateTo();
      return out;
    });
    assert.deepEqual(r.status, { managed: false, matching: [1], version: 0 });
    for (const k of ["migrate", "migrate1", "rollback", "plan"]) {
      assertCode(r[k], "Unmanaged", k);
      assert.match(r[k].message, /stores Rewind has no record of \("notes"\)/, k);
      assert.match(r[k].message, /pass `baseline`/, k);
      assert.match(r[k].message, /Nothing was changed/, k);
    }
    assertCode(r.adoptWithout, "InvalidArgument", "adopt without a baseline");
    assertCode(r.badBaseline, "InvalidArgument", "baseline past the latest");
    assert.match(r.badBaseline.message, /options\.baseline must be a schema version from 1 to 2 or "auto", not 3/);
    assertCode(r.zeroBaseline, "InvalidArgument", "baseline 0");
    assert.equal(r.backups, 0);
    assert.ok(r.same, "nothing changed: schema, records, version, databases");
    assert.equal(r.freshStatus, true);
    assert.deepEqual(r.fresh, { from: 0, to: 2, backupId: null });
  });
});

test("a raw database adopted at 1 then migrated to 2: records changed only by the migration", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      await A.raw("old");
      const rw = await Rewind.open("old", [A.m1, A.m2], { baseline: 1 });
      const plan = await rw.plan(2);
      const report = await rw.migrateTo(2);
      const after = await A.dump("old");
      const status = await rw.status();
      const backups = await rw.listBackups();
      // Once managed, the option is ignored: a rollback is a rollback.
      const back = await rw.rollbackTo(1);
      return {
        plan: [plan.from, plan.to], report, version: after.version,
        notes: after.stores.notes.values, indexes: after.stores.notes.indexes.map((i) => i[0]),
        status: { managed: status.managed, matching: status.matchingVersions, v: status.schemaVersion,
                  applied: status.applied.map((a) => a.version) },
        journal: status.journal.map((e) => [e.operation, e.from, e.to, e.error, e.backupId !== null]),
        backups: backups.map((b) => [b.label, b.schemaVersion, b.stores.map((s) => s.records)]),
        back, afterBack: (await T.getAll("old", "notes")),
      };
    });
    assert.deepEqual(r.plan, [1, 2], "the preview plans from the baseline");
    assert.equal(r.report.from, 1);
    assert.equal(r.report.to, 2);
    assert.equal(r.version, 5, "3, adopted at 4, migrated at 5");
    assert.deepEqual(r.notes, Array.from({ length: 10 }, (_, i) =>
      ({ id: i + 1, title: "note " + (i + 1), body: "b" + i, starred: false })));
    assert.deepEqual(r.indexes, ["by_starred", "by_title"]);
    assert.deepEqual(r.status, { managed: true, matching: [], v: 2, applied: [1, 2] });
    assert.deepEqual(r.journal, [["migrate", 1, 2, null, true], ["adopt", 0, 1, null, true]]);
    assert.deepEqual(r.backups.map((b) => b[0]).sort(),
      ["before adopting at version 1", "before migrating from version 1 to 2"]);
    const adopted = r.backups.find((b) => b[0].startsWith("before adopting"));
    assert.deepEqual(adopted.slice(1), [0, [10]], "the database as it was, unmanaged");
    assert.equal(r.back.to, 1);
    assert.deepEqual(r.afterBack, Array.from({ length: 10 }, (_, i) =>
      ({ id: i + 1, title: "note " + (i + 1), body: "b" + i })));
  });
});

test("auto adopts at the highest matching version; adopt on a managed database changes nothing", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      await A.raw("old", { starred: true });
      const rw = await Rewind.open("old", [A.m1, A.m2]);
      const matching = (await rw.status()).matchingVersions;
      const report = await rw.adopt("auto");
      const status = await rw.status();
      const dump = await A.dump("old");
      const again = await rw.adopt(1);
      const same = JSON.stringify(await A.dump("old")) === JSON.stringify(dump);
      return { matching, report: [report.from, report.to, report.backupId !== null],
               status: [status.managed, status.schemaVersion, status.journal[0].operation],
               again, same, meta: Object.keys(dump.stores).sort() };
    });
    assert.deepEqual(r.matching, [2]);
    assert.deepEqual(r.report, [0, 2, true]);
    assert.deepEqual(r.status, [true, 2, "adopt"]);
    assert.deepEqual(r.again, { from: 2, to: 2, backupId: null });
    assert.ok(r.same, "adopting again wrote nothing");
    assert.deepEqual(r.meta, ["__rewind_journal", "__rewind_meta", "notes"]);
  });
});

test("a schema that is not the baseline's is refused with BaselineMismatch, and nothing changes", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      await A.raw("old");
      const before = await A.dump("old");
      const at2 = await Rewind.open("old", [A.m1, A.m2], { baseline: 2 });
      const out = {
        migrate: await T.failure(at2.migrateTo()),
        adopt: await T.failure(at2.adopt()),
        plan: await T.failure(at2.plan(2)),
      };
      out.same = JSON.stringify(await A.dump("old")) === JSON.stringify(before);
      // No version matches: a by_title index that is unique.
      const other = await Rewind.open("other", [A.m1, A.m2]);
      const open = indexedDB.open("other", 7);
      open.onupgradeneeded = () => open.result.createObjectStore("notes", { keyPath: "id" }).createIndex("by_title", "title", { unique: true });
      (await new Promise((ok) => { open.onsuccess = () => ok(open.result); })).close();
      const otherBefore = await A.dump("other");
      out.auto = await T.failure(other.adopt("auto"));
      out.otherSame = JSON.stringify(await A.dump("other")) === JSON.stringify(otherBefore);
      out.backups = (await at2.listBackups()).length + (await other.listBackups()).length;
      return out;
    });
    for (const k of ["migrate", "adopt", "plan"]) {
      assertCode(r[k], "BaselineMismatch", k);
      assert.match(r[k].message, /cannot be adopted at 2: index "by_starred" of store "notes" is missing/, k);
      assert.match(r[k].message, /Nothing was changed/, k);
    }
    assertCode(r.auto, "BaselineMismatch", "auto");
    assert.match(r.auto.message, /no schema version of this app \(0 to 2\)/);
    assert.match(r.auto.message, /nearest is version 1: index "by_title" of store "notes" should not be unique/);
    assert.ok(r.same, "nothing changed: schema, records, version, databases");
    assert.ok(r.otherSame);
    assert.equal(r.backups, 0, "no backup taken");
  });
});

test("a Dexie 4 database (IndexedDB version = Dexie version × 10) is adopted the same way", async () => {
  await withPage(async (page) => {
    const r = await page.evaluate(async () => {
      const { default: Dexie } = await import("/node_modules/dexie/dist/dexie.mjs");
      const dx = new Dexie("dexie-notes");
      dx.version(2).stores({ notes: "id, title" });
      await dx.notes.bulkPut(Array.from({ length: 10 }, (_, i) => ({ id: i + 1, title: "t" + i })));
      dx.close();
      const versionBefore = (await indexedDB.databases()).find((d) => d.name === "dexie-notes").version;
      const migrations = [
        { version: 1, name: "as Dexie made it",
          up: [{ op: "createStore", store: "notes", keyPath: "id" },
               { op: "createIndex", store: "notes", index: "title", keyPath: "title" }],
          down: [{ op: "deleteStore", store: "notes" }] },
        { version: 2, name: "pinned",
          up: [{ op: "addField", store: "notes", field: "pinned", value: false }],
          down: [{ op: "removeField", store: "notes", field: "pinned" }] },
      ];
      const rw = await Rewind.open("dexie-notes", migrations, { baseline: 1 });
      const status = await rw.status();
      const report = await rw.migrateTo();
      const after = await rw.status();
      const notes = await T.getAll("dexie-notes", "notes");
      const versionAfter = (await indexedDB.databases()).find((d) => d.name === "dexie-notes").version;
      // The app's Dexie code still opens it (Dexie 4 accepts a higher IndexedDB version and
      // stores it does not declare).
      const again = new Dexie("dexie-notes");
      again.version(2).stores({ notes: "id, title" });
      const dexieReads = (await again.notes.where("title").equals("t3").toArray());
      again.close();
      return { versionBefore, versionAfter, dexieReads, managed: status.managed, matching: status.matchingVersions,
               report, journal: after.journal.map((e) => [e.operation, e.from, e.to]), notes };
    });
    assert.equal(r.versionBefore, 20);
    // Version 2 changes data only, so its schema is 1's too: hence a named baseline.
    assert.deepEqual([r.managed, r.matching], [false, [1, 2]]);
    assert.deepEqual([r.report.from, r.report.to], [1, 2]);
    assert.deepEqual(r.journal, [["migrate", 1, 2], ["adopt", 0, 1]]);
    assert.equal(r.versionAfter, 22);
    assert.deepEqual(r.dexieReads, [{ id: 4, title: "t3", pinned: false }]);
    assert.deepEqual(r.notes, Array.from({ length: 10 }, (_, i) => ({ id: i + 1, title: "t" + i, pinned: false })));
  });
});
