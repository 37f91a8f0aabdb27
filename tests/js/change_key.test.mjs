// The changeKey step from JavaScript: every record moves to a store keyed by the new key path
// (same indexes, same name) inside the migration's upgrade, and back by the inverse step; a
// record without a valid new key, or with an earlier one's, fails with MigrationFailed naming
// it, and nothing changes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withPage } from "./setup.mjs";

const SETUP = `
  window.ckHistory = [
    { version: 1, name: "notes",
      up: [{ op: "createStore", store: "notes", keyPath: "id", autoIncrement: true },
           { op: "createIndex", store: "notes", index: "by_title", keyPath: "title", unique: true }],
      down: [{ op: "deleteStore", store: "notes" }] },
    { version: 2, name: "key by uuid",
      up: [{ op: "changeKey", store: "notes", keyPath: "uuid" }],
      down: [{ op: "changeKey", store: "notes", keyPath: "id", autoIncrement: true }] },
  ];
  window.notes = (n) => Array.from({ length: n }, (_, i) => ({ id: i + 1, uuid: "u" + (n - i),
    title: "note " + (i + 1), when: new Date(Date.UTC(2026, 0, i + 1)), bytes: new Uint8Array([i]) }));
  /** The store's key path, auto-increment, indexes, keys and records (as plain data). */
  window.snapshot = (name) => T.withDb(name, (db) => new Promise((ok, fail) => {
    const s = db.transaction("notes").objectStore("notes");
    const keys = s.getAllKeys(), values = s.getAll();
    values.onsuccess = async () => ok({ keyPath: s.keyPath, autoIncrement: s.autoIncrement,
      indexes: [...s.indexNames], keys: keys.result, values: await T.shape(values.result) });
    values.onerror = () => fail(values.error);
  }));
`;

test("changeKey moves every record to the new key and its down moves them back", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("ck", ckHistory);
      await rw.migrateTo(1);
      await T.put("ck", "notes", notes(3));
      const before = await snapshot("ck");
      const plan = await rw.plan(2);
      await rw.migrateTo(2);
      const after = await snapshot("ck");
      const problems = (await rw.validate()).problems;
      await rw.rollbackTo(1);
      return { before, plan, after, problems, back: await snapshot("ck"), stores: await T.stores("ck") };
    });
    assert.deepEqual(r.plan.steps.map((s) => s.step), [{ op: "changeKey", store: "notes", keyPath: "uuid" }]);
    assert.equal(r.plan.effects.recordsTouched.notes, 3);
    assert.ok(r.plan.effects.fieldsChanged.includes(
      "the primary key of \"notes\" changes to key path \"uuid\": 3 records move to a store keyed by it"),
      JSON.stringify(r.plan.effects));
    assert.equal(r.after.keyPath, "uuid");
    assert.equal(r.after.autoIncrement, false);
    assert.deepEqual(r.after.indexes, ["by_title"]);
    assert.deepEqual(r.after.keys, ["u1", "u2", "u3"]);
    const records = (snapshot) => snapshot.values.v.map(([, record]) => record);
    assert.deepEqual(records(r.after), records(r.before).reverse(), "the same records, Dates and bytes included");
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.back, r.before, "down gives back every record under its old key");
    assert.deepEqual(r.stores, ["notes"], "no store is left behind");
  });
});

test("a record without a valid new key, or with an earlier one's, fails naming it; nothing changes", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const out = {};
      const cases = {
        missing: (n) => { delete n[1].uuid; },
        notAKey: (n) => { n[1].uuid = true; },
        duplicate: (n) => { n[2].uuid = n[0].uuid; },
      };
      for (const [name, spoil] of Object.entries(cases)) {
        const db = "ck-" + name;
        const rw = await Rewind.open(db, ckHistory);
        await rw.migrateTo(1);
        const records = notes(4);
        spoil(records);
        await T.put(db, "notes", records);
        const before = await snapshot(db);
        const error = await T.failure(rw.migrateTo(2));
        out[name] = { error, same: JSON.stringify(await snapshot(db)) === JSON.stringify(before),
          version: (await rw.status()).schemaVersion, stores: await T.stores(db) };
      }
      out.shape = await T.failure(Rewind.open("ck-shape", [ckHistory[0],
        { version: 2, name: "no key path", up: [{ op: "changeKey", store: "notes" }], down: [] }]));
      return out;
    });
    const expected = {
      missing: /record 2 \(key 2\) has no value at the new key path "uuid"/,
      notAKey: /record 2 \(key 2\) holds true at the new key path "uuid", which is not a valid IndexedDB key/,
      duplicate: /record 3 \(key 3\) has the new key "u4", as an earlier record has/,
    };
    for (const [name, pattern] of Object.entries(expected)) {
      const c = r[name];
      assert.equal(c.error.code, "MigrationFailed", `${name}: ${c.error.message}`);
      assert.match(c.error.message, pattern);
      assert.match(c.error.message, /schema and data are exactly as before/);
      assert.ok(c.same, `${name}: the records, keys and schema are as before`);
      assert.equal(c.version, 1);
      assert.deepEqual(c.stores, ["notes"]);
    }
    assert.equal(r.shape.code, "InvalidMigration");
    assert.match(r.shape.message, /keyPath/);
  });
});

test("a compound key path of a Date and a number: records move in the new keys' order and back", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const migrations = [
        { version: 1, name: "events", up: [{ op: "createStore", store: "events", keyPath: "id" }],
          down: [{ op: "deleteStore", store: "events" }] },
        { version: 2, name: "by time", up: [{ op: "changeKey", store: "events", keyPath: ["when", "id"] }],
          down: [{ op: "changeKey", store: "events", keyPath: "id" }] },
      ];
      const keys = (name) => T.withDb(name, (db) => new Promise((ok) => {
        const request = db.transaction("events").objectStore("events").getAllKeys();
        request.onsuccess = async () => ok(await T.shape(request.result));
      }));
      const rw = await Rewind.open("ck-dates", migrations);
      await rw.migrateTo(1);
      await T.put("ck-dates", "events", [1, 2, 3].map((id) => ({ id, when: new Date(Date.UTC(2026, 0, 10 - id)) })));
      const before = await keys("ck-dates");
      await rw.migrateTo(2);
      const after = await keys("ck-dates");
      await rw.rollbackTo(1);
      return { before, after, back: await keys("ck-dates") };
    });
    const day = (d) => ({ t: "Date", v: Date.UTC(2026, 0, d) });
    assert.deepEqual(r.after.v.map(([, key]) => key.v.map(([, part]) => part)),
      [[day(7), 3], [day(8), 2], [day(9), 1]], "keyed by [when, id], earliest first");
    assert.deepEqual(r.back, r.before);
  });
});
