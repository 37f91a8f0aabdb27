// A release of the app is withdrawn: the older release meets a database that the newer one
// migrated to a version it does not know, and rolls it back with the steps the database keeps
// (`rollbackTo(k, { fromStoredSteps: true })`). Refused, with nothing changed, when a stored
// step was changed (Drift) or runs a transform the older release does not register
// (IrreversibleMigration); definitions missing from older metadata are backfilled.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assertCode, withPage } from "./setup.mjs";

const SETUP = `
  const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
  window.S = {
    m1: { version: 1, name: "notes",
      up: [{ op: "createStore", store: "notes", keyPath: "id" },
           { op: "createIndex", store: "notes", index: "by_title", keyPath: "title" }],
      down: [{ op: "deleteStore", store: "notes" }] },
    m2: { version: 2, name: "tags",
      up: [{ op: "addField", store: "notes", field: "tags", value: ["new"] },
           { op: "createIndex", store: "notes", index: "by_tag", keyPath: "tags", multiEntry: true }],
      down: [{ op: "deleteIndex", store: "notes", index: "by_tag" },
             { op: "removeField", store: "notes", field: "tags" }] },
    m3: { version: 3, name: "labels",
      up: [{ op: "createStore", store: "labels", keyPath: "id" },
           { op: "renameField", store: "notes", from: "body", to: "text" },
           { op: "transform", store: "notes", name: "count" }],
      down: [{ op: "transform", store: "notes", name: "uncount" },
             { op: "renameField", store: "notes", from: "text", to: "body" },
             { op: "deleteStore", store: "labels" }] },
    transforms: {
      count: (r) => { r.words = r.text.split(" ").length; },
      uncount: (r) => { delete r.words; },
    },
    notes: () => Array.from({ length: 5 }, (_, i) => ({ id: i + 1, title: "note " + (i + 1), body: "a b " + i })),
    /** The newer release (versions 1 to 3) and the older one (version 1 only, the transforms
     * it registers as given). */
    newer: (name) => Rewind.open(name, [S.m1, S.m2, S.m3], { transforms: S.transforms }),
    older: (name, transforms = S.transforms) => Rewind.open(name, [S.m1], { transforms }),
    /** "name" at version 1 with the notes, by the older release; then at \`to\` by the newer. */
    async made(name, to) {
      await (await S.older(name)).migrateTo();
      await T.put(name, "notes", S.notes());
      if (to > 1) await (await S.newer(name)).migrateTo(to);
    },
    /** The app's stores of "name" (schema, keys, records), without Rewind's own. */
    async app(name) {
      const db = await req(indexedDB.open(name));
      try {
        const stores = {};
        for (const s of [...db.objectStoreNames].filter((s) => !s.startsWith("__rewind")).sort()) {
          const os = db.transaction(s).objectStore(s);
          const indexes = [...os.indexNames].sort().map((i) => {
            const ix = os.index(i);
            return [i, ix.keyPath, ix.unique, ix.multiEntry];
          });
          stores[s] = { keyPath: os.keyPath, autoIncrement: os.autoIncrement, indexes,
                        keys: await req(os.getAllKeys()), values: await req(os.getAll()) };
        }
        return stores;
      } finally { db.close(); }
    },
    /** Everything: the IndexedDB version, Rewind's metadata and journal, the app's stores. */
    async all(name) {
      const app = await S.app(name);
      const db = await req(indexedDB.open(name));
      try {
        const tx = db.transaction(["__rewind_meta", "__rewind_journal"]);
        return { version: db.version, app,
                 meta: await req(tx.objectStore("__rewind_meta").get("state")),
                 journal: await req(tx.objectStore("__rewind_journal").getAll()) };
      } finally { db.close(); }
    },
    /** Rewrites Rewind's metadata of "name" with \`edit\` (what a person or a bug might do). */
    async editMeta(name, edit) {
      const db = await req(indexedDB.open(name));
      try {
        await new Promise((ok, fail) => {
          const tx = db.transaction("__rewind_meta", "readwrite");
          const os = tx.objectStore("__rewind_meta");
          const get = os.get("state");
          get.onsuccess = () => { const meta = JSON.parse(get.result); edit(meta); os.put(JSON.stringify(meta), "state"); };
          tx.oncomplete = ok; tx.onabort = () => fail(tx.error);
        });
      } finally { db.close(); }
    },
  };
`;


test("a database at version 3 is rolled back to 1 by a release that knows only 1", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      await S.made("stored", 3);
      await S.made("reference", 1);
      const at3 = await S.app("stored");
      const older = await S.older("stored");
      const status = await older.status();
      const out = {
        at3,
        status: { unknown: status.unknown, version: status.schemaVersion, stored: status.storedVersions,
                  definitions: status.applied.map((a) => a.definition?.version ?? null) },
        ordinary: await T.failure(older.rollbackTo(1)),
        plan: await older.plan(1, { fromStoredSteps: true }),
        backupsBefore: (await older.listBackups()).length,
      };
      out.report = await older.rollbackTo(1, { fromStoredSteps: true });
      out.after = await S.app("stored");
      out.reference = await S.app("reference");
      const later = await older.status();
      out.later = { version: later.schemaVersion, unknown: later.unknown, stored: later.storedVersions,
                    journal: later.journal[0] };
      out.validation = await older.validate();
      const backups = await older.listBackups();
      out.backup = { count: backups.length, version: backups[0].schemaVersion, id: backups[0].id };
      return out;
    });
    assert.deepEqual(r.at3.notes.values[0], { id: 1, title: "note 1", text: "a b 0", tags: ["new"], words: 3 },
      "the newer release migrated the notes");
    assert.deepEqual(r.status, { unknown: true, version: 3, stored: [1, 2, 3], definitions: [1, 2, 3] });
    assert.equal(r.ordinary.code, "UnknownVersion", r.ordinary.message);
    assert.deepEqual([r.plan.from, r.plan.to, r.plan.direction], [3, 1, "down"]);
    assert.deepEqual(r.plan.fromDatabase, [3, 2]);
    assert.deepEqual(r.plan.steps.map((s) => s.version), [3, 3, 3, 2, 2]);
    assert.deepEqual(r.plan.effects.storesDeleted, ["labels"]);
    assert.deepEqual([r.report.from, r.report.to], [3, 1]);
    assert.deepEqual(r.after, r.reference, "schema and records as version 1 holds them");
    assert.deepEqual(r.after.notes.values[0], { id: 1, title: "note 1", body: "a b 0" });
    assert.deepEqual(r.later, { version: 1, unknown: false, stored: [1],
      journal: { ...r.later.journal, operation: "rollback", from: 3, to: 1, error: null, backupId: r.report.backupId } });
    assert.equal(r.validation.ok, true, JSON.stringify(r.validation));
    assert.deepEqual(r.backup, { count: r.backupsBefore + 1, version: 3, id: r.report.backupId },
      "the automatic backup, at version 3, came first");
  });
});

test("a changed stored step is Drift and an unregistered stored transform is IrreversibleMigration; nothing changes", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const out = {};
      // The transform that undoes version 3 is not registered by this older release.
      await S.made("unknown-transform", 3);
      let before = await S.all("unknown-transform");
      const older = await S.older("unknown-transform", {});
      const backups = (await older.listBackups()).length;
      out.transformPlan = await T.failure(older.plan(1, { fromStoredSteps: true }));
      out.transform = await T.failure(older.rollbackTo(1, { fromStoredSteps: true }));
      out.transformSame = JSON.stringify(await S.all("unknown-transform")) === JSON.stringify(before);
      out.transformBackups = (await older.listBackups()).length - backups;
      // A stored down step changed after it was recorded (version 2 now drops the titles).
      await S.made("changed", 3);
      await S.editMeta("changed", (meta) => {
        meta.applied[1].definition.down[1] = { op: "removeField", store: "notes", field: "title" };
      });
      before = await S.all("changed");
      const older2 = await S.older("changed");
      const backups2 = (await older2.listBackups()).length;
      out.changedPlan = await T.failure(older2.plan(1, { fromStoredSteps: true }));
      out.changed = await T.failure(older2.rollbackTo(1, { fromStoredSteps: true }));
      out.changedSame = JSON.stringify(await S.all("changed")) === JSON.stringify(before);
      out.changedBackups = (await older2.listBackups()).length - backups2;
      out.badOption = await T.failure(older2.rollbackTo(1, { fromStoredSteps: "yes" }));
      return out;
    });
    assertCode(r.transformPlan, "IrreversibleMigration", "the preview");
    assertCode(r.transform, "IrreversibleMigration", "an unregistered transform");
    assert.match(r.transform.message, /migration 3 \("labels"\).*"uncount"/);
    assert.ok(r.transformSame, "nothing changed");
    assert.equal(r.transformBackups, 0, "no backup taken");
    assertCode(r.changedPlan, "Drift", "the preview");
    assertCode(r.changed, "Drift", "a changed stored step");
    assert.match(r.changed.message, /migration 2 \("tags"\)/);
    assert.ok(r.changedSame, "nothing changed");
    assert.equal(r.changedBackups, 0, "no backup taken");
    assertCode(r.badOption, "InvalidArgument", "fromStoredSteps must be a boolean");
  });
});

test("metadata without definitions is backfilled by the next operation of a release that knows them", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      await S.made("backfill", 3);
      await S.editMeta("backfill", (meta) => { for (const a of meta.applied) delete a.definition; });
      const before = await S.all("backfill");
      const older = await S.older("backfill");
      const refused = await T.failure(older.rollbackTo(1, { fromStoredSteps: true }));
      const newer = await S.newer("backfill");
      const stripped = (await newer.status()).storedVersions;
      await newer.migrateTo();
      const after = await S.all("backfill");
      return { before, refused, stripped, after, stored: (await newer.status()).storedVersions,
               rolled: await older.rollbackTo(1, { fromStoredSteps: true }) };
    });
    assertCode(r.refused, "IrreversibleMigration", "nothing stored to undo 3 with");
    assert.match(r.refused.message, /does not keep its steps/);
    assert.deepEqual(r.stripped, []);
    assert.deepEqual(r.stored, [1, 2, 3]);
    assert.equal(r.after.version, r.before.version, "no upgrade");
    assert.deepEqual(r.after.journal, r.before.journal, "nothing journaled");
    assert.deepEqual(r.after.app, r.before.app, "no app store changed");
    assert.deepEqual([r.rolled.from, r.rolled.to], [3, 1]);
  });
});
